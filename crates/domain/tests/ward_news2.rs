//! NEWS2 against the RCP chart: every boundary of every row (both SpO2 scales), the bands,
//! partial observations and picking the latest vitals.

use chrono::{DateTime, TimeDelta, Utc};
use docde_domain::ward::news2::{
    Band, News2, Observations, Parameter, Spo2Scale, band_for, consciousness_score, oxygen_score,
    pulse_score, respiration_score, spo2_scale1_score, spo2_scale2_score, systolic_score,
    temperature_score,
};
use docde_domain::ward::{Acvpu, Sample, SampleValue, VitalKind};

fn check(row: &str, score: impl Fn(f64) -> u8, table: &[(f64, u8)]) {
    for &(value, expected) in table {
        assert_eq!(score(value), expected, "{row} at {value}");
    }
}

#[test]
fn respiration_scores_at_every_boundary() {
    let table = [
        (0.0, 3),
        (8.0, 3),
        (9.0, 1),
        (11.0, 1),
        (12.0, 0),
        (20.0, 0),
        (21.0, 2),
    ];
    check("respiration", respiration_score, &table);
    check(
        "respiration",
        respiration_score,
        &[(24.0, 2), (25.0, 3), (60.0, 3)],
    );
}

#[test]
fn spo2_scale_1_scores_at_every_boundary() {
    let table = [
        (70.0, 3),
        (91.0, 3),
        (92.0, 2),
        (93.0, 2),
        (94.0, 1),
        (95.0, 1),
        (96.0, 0),
        (100.0, 0),
    ];
    check("spo2 scale 1", spo2_scale1_score, &table);
}

#[test]
fn spo2_scale_2_scores_at_every_boundary_on_air() {
    let table = [
        (80.0, 3),
        (83.0, 3),
        (84.0, 2),
        (85.0, 2),
        (86.0, 1),
        (87.0, 1),
        (88.0, 0),
    ];
    check(
        "spo2 scale 2 on air",
        |s| spo2_scale2_score(s, false),
        &table,
    );
    let high = [(92.0, 0), (93.0, 0), (97.0, 0), (100.0, 0)];
    check(
        "spo2 scale 2 on air",
        |s| spo2_scale2_score(s, false),
        &high,
    );
}

#[test]
fn spo2_scale_2_scores_at_every_boundary_on_oxygen() {
    let table = [
        (83.0, 3),
        (84.0, 2),
        (85.0, 2),
        (86.0, 1),
        (87.0, 1),
        (88.0, 0),
        (92.0, 0),
    ];
    check(
        "spo2 scale 2 on oxygen",
        |s| spo2_scale2_score(s, true),
        &table,
    );
    let high = [
        (93.0, 1),
        (94.0, 1),
        (95.0, 2),
        (96.0, 2),
        (97.0, 3),
        (100.0, 3),
    ];
    check(
        "spo2 scale 2 on oxygen",
        |s| spo2_scale2_score(s, true),
        &high,
    );
}

#[test]
fn air_scores_0_and_oxygen_scores_2() {
    assert_eq!((oxygen_score(false), oxygen_score(true)), (0, 2));
}

#[test]
fn systolic_pressure_scores_at_every_boundary() {
    let table = [
        (60.0, 3),
        (90.0, 3),
        (91.0, 2),
        (100.0, 2),
        (101.0, 1),
        (110.0, 1),
        (111.0, 0),
    ];
    check("systolic", systolic_score, &table);
    check(
        "systolic",
        systolic_score,
        &[(219.0, 0), (220.0, 3), (280.0, 3)],
    );
}

#[test]
fn pulse_scores_at_every_boundary() {
    let table = [
        (30.0, 3),
        (40.0, 3),
        (41.0, 1),
        (50.0, 1),
        (51.0, 0),
        (90.0, 0),
        (91.0, 1),
    ];
    check("pulse", pulse_score, &table);
    let high = [(110.0, 1), (111.0, 2), (130.0, 2), (131.0, 3), (200.0, 3)];
    check("pulse", pulse_score, &high);
}

#[test]
fn consciousness_scores_0_only_when_alert() {
    for &level in Acvpu::ALL {
        let expected = if level == Acvpu::Alert { 0 } else { 3 };
        assert_eq!(consciousness_score(level), expected, "{level}");
    }
}

#[test]
fn temperature_scores_at_every_boundary_in_tenths() {
    let table = [
        (34.0, 3),
        (35.0, 3),
        (35.1, 1),
        (36.0, 1),
        (36.1, 0),
        (38.0, 0),
        (38.1, 1),
    ];
    check("temperature", temperature_score, &table);
    check(
        "temperature",
        temperature_score,
        &[(39.0, 1), (39.1, 2), (41.0, 2)],
    );
}

#[test]
fn readings_between_chart_rows_are_rounded_to_the_charts_precision() {
    assert_eq!(respiration_score(8.4), 3);
    assert_eq!(respiration_score(8.5), 1);
    assert_eq!(temperature_score(35.04), 3);
    assert_eq!(temperature_score(38.06), 1);
    assert_eq!(pulse_score(90.4), 0);
}

#[test]
fn the_bands_follow_the_total_and_the_single_three_rule() {
    assert_eq!(band_for(0, false), Band::Low);
    assert_eq!(band_for(4, false), Band::Low);
    assert_eq!(band_for(3, true), Band::LowMedium);
    assert_eq!(band_for(5, false), Band::Medium);
    assert_eq!(band_for(6, true), Band::Medium);
    assert_eq!(band_for(7, false), Band::High);
    assert_eq!(band_for(20, true), Band::High);
    assert_eq!(Band::LowMedium.code(), "low_medium");
    assert_eq!(Band::High.response_en(), "urgent or emergency response");
}

fn healthy() -> Observations {
    Observations {
        respiratory_rate: Some(16.0),
        spo2: Some(97.0),
        supplemental_oxygen: Some(false),
        systolic_bp: Some(120.0),
        pulse: Some(70.0),
        consciousness: Some(Acvpu::Alert),
        temperature: Some(36.8),
    }
}

#[test]
fn a_healthy_adult_scores_zero_and_a_septic_one_scores_high() {
    let score = News2::score(&healthy(), Spo2Scale::Scale1);
    assert_eq!(
        (score.total(), score.band(), score.is_complete()),
        (0, Band::Low, true)
    );
    let septic = Observations {
        respiratory_rate: Some(26.0),             // 3
        spo2: Some(93.0),                         // 2
        supplemental_oxygen: Some(true),          // 2
        systolic_bp: Some(98.0),                  // 2
        pulse: Some(118.0),                       // 2
        consciousness: Some(Acvpu::NewConfusion), // 3
        temperature: Some(39.2),                  // 2
    };
    let score = News2::score(&septic, Spo2Scale::Scale1);
    assert_eq!((score.total(), score.band()), (16, Band::High));
    assert_eq!(score.sub_score(Parameter::Consciousness), Some(3));
}

#[test]
fn a_partial_observation_is_scored_from_what_is_present_and_names_what_is_missing() {
    let obs = Observations {
        temperature: Some(38.5),
        pulse: Some(115.0),
        ..Observations::default()
    };
    let score = News2::score(&obs, Spo2Scale::Scale1);
    assert_eq!(score.total(), 3);
    assert!(!score.is_complete());
    let missing: Vec<_> = score.missing().collect();
    assert_eq!(
        missing,
        [
            Parameter::RespiratoryRate,
            Parameter::Spo2,
            Parameter::AirOrOxygen,
            Parameter::SystolicBp,
            Parameter::Consciousness
        ]
    );
}

#[test]
fn scale_2_with_unknown_oxygen_scores_a_high_saturation_as_on_air() {
    let obs = Observations {
        spo2: Some(98.0),
        ..Observations::default()
    };
    assert_eq!(
        News2::score(&obs, Spo2Scale::Scale2).sub_score(Parameter::Spo2),
        Some(0)
    );
    let on_o2 = Observations {
        supplemental_oxygen: Some(true),
        ..obs
    };
    assert_eq!(
        News2::score(&on_o2, Spo2Scale::Scale2).sub_score(Parameter::Spo2),
        Some(3)
    );
    assert_eq!(
        News2::score(&on_o2, Spo2Scale::Scale1).sub_score(Parameter::Spo2),
        Some(0)
    );
}

fn at(minutes_ago: i64) -> DateTime<Utc> {
    now() - TimeDelta::minutes(minutes_ago)
}

fn now() -> DateTime<Utc> {
    "2026-03-01T09:00:00Z".parse().unwrap()
}

#[test]
fn observations_take_the_newest_sample_of_each_kind_and_leave_stale_ones_out() {
    let n = |kind, v, ago| Sample::new(kind, SampleValue::Number(v), at(ago)).unwrap();
    let samples = [
        n(VitalKind::HeartRate, 80.0, 2),
        n(VitalKind::HeartRate, 120.0, 1),
        n(VitalKind::HeartRate, 60.0, 3),
        n(VitalKind::BodyTemperature, 39.0, 90),
        Sample::new(
            VitalKind::Consciousness,
            SampleValue::Consciousness(Acvpu::Pain),
            at(5),
        )
        .unwrap(),
    ];
    let obs = Observations::from_latest(&samples, now(), TimeDelta::minutes(60));
    assert_eq!(obs.pulse, Some(120.0));
    assert_eq!(obs.temperature, None, "90 minutes old");
    assert_eq!(obs.consciousness, Some(Acvpu::Pain));
}
