//! The alarm evaluator with explicit ("paused") time: onset delay, hysteresis, one open alarm
//! per condition, latching nurse calls, per-patient limits and silent devices.

use chrono::{DateTime, TimeDelta, Utc};
use docde_domain::ward::alarm::{AlarmEvaluator, AlarmKind, Decision, Priority, Thresholds};
use docde_domain::ward::{IvLevel, Sample, SampleValue, VitalKind};

fn t(secs: i64) -> DateTime<Utc> {
    "2026-03-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap() + TimeDelta::seconds(secs)
}

fn number(kind: VitalKind, value: f64, secs: i64) -> Sample {
    Sample::new(kind, SampleValue::Number(value), t(secs)).unwrap()
}

fn temp(value: f64, secs: i64) -> Sample {
    number(VitalKind::BodyTemperature, value, secs)
}

fn iv(percent: f64, secs: i64) -> Sample {
    Sample::new(
        VitalKind::IvBag,
        SampleValue::IvBag(IvLevel::Percent(percent)),
        t(secs),
    )
    .unwrap()
}

fn call(pressed: bool, secs: i64) -> Sample {
    Sample::new(
        VitalKind::NurseCall,
        SampleValue::NurseCall(pressed),
        t(secs),
    )
    .unwrap()
}

fn raise(kind: AlarmKind, value: f64, secs: i64) -> Decision {
    Decision::Raise {
        kind,
        priority: kind.priority(),
        value,
        at: t(secs),
        replaces: None,
    }
}

fn clear(kind: AlarmKind, secs: i64) -> Decision {
    Decision::Clear { kind, at: t(secs) }
}

/// Feeds samples for patient 1 with default limits; returns every decision.
fn run(samples: &[Sample]) -> Vec<Decision> {
    let mut ev = AlarmEvaluator::new();
    samples
        .iter()
        .flat_map(|s| ev.observe(&1, s, &Thresholds::default()))
        .collect()
}

#[test]
fn a_fever_must_persist_for_the_onset_delay_before_it_is_raised() {
    let decisions = run(&[temp(38.2, 0), temp(38.3, 5), temp(38.4, 10), temp(38.6, 15)]);
    assert_eq!(decisions, [raise(AlarmKind::Fever, 38.4, 10)]);
}

#[test]
fn a_brief_spike_restarts_the_onset_delay() {
    let decisions = run(&[
        temp(38.5, 0),
        temp(37.0, 5),
        temp(38.5, 10),
        temp(38.5, 19),
        temp(38.5, 20),
    ]);
    assert_eq!(decisions, [raise(AlarmKind::Fever, 38.5, 20)]);
}

#[test]
fn an_alarm_clears_only_once_the_value_is_back_inside_by_the_margin() {
    let decisions = run(&[
        temp(38.5, 0),
        temp(38.5, 10),
        temp(37.95, 20),
        temp(37.85, 30),
        temp(37.75, 40),
    ]);
    assert_eq!(
        decisions,
        [
            raise(AlarmKind::Fever, 38.5, 10),
            clear(AlarmKind::Fever, 40)
        ]
    );
}

#[test]
fn readings_hovering_at_the_limit_raise_once_and_never_storm() {
    let flicker =
        |from: i64| (0..50).map(move |i| temp(if i % 2 == 0 { 38.1 } else { 37.9 }, from + i * 10));
    let never_persists: Vec<_> = flicker(0).collect();
    assert!(
        run(&never_persists).is_empty(),
        "a flicker across the limit never persists"
    );
    let mut samples = vec![temp(38.5, 0), temp(38.5, 10)];
    samples.extend(flicker(20));
    assert_eq!(
        run(&samples),
        [raise(AlarmKind::Fever, 38.5, 10)],
        "inside the margin"
    );
}

#[test]
fn a_jump_from_fever_to_hypothermia_clears_one_and_raises_the_other_after_its_delay() {
    let decisions = run(&[
        temp(39.0, 0),
        temp(39.0, 10),
        temp(34.5, 20),
        temp(34.5, 30),
    ]);
    assert_eq!(
        decisions,
        [
            raise(AlarmKind::Fever, 39.0, 10),
            clear(AlarmKind::Fever, 20),
            raise(AlarmKind::Hypothermia, 34.5, 30)
        ]
    );
}

#[test]
fn heart_rate_limits_are_strict_as_in_the_design() {
    let hr = |v, s| number(VitalKind::HeartRate, v, s);
    assert!(run(&[hr(40.0, 0), hr(40.0, 10), hr(130.0, 20), hr(130.0, 30)]).is_empty());
    let decisions = run(&[hr(131.0, 0), hr(131.0, 10)]);
    assert_eq!(decisions, [raise(AlarmKind::Tachycardia, 131.0, 10)]);
    let decisions = run(&[hr(39.0, 0), hr(39.0, 10)]);
    assert_eq!(
        decisions,
        [Decision::Raise {
            kind: AlarmKind::Bradycardia,
            priority: Priority::High,
            value: 39.0,
            at: t(10),
            replaces: None
        }]
    );
}

#[test]
fn a_nurse_call_rings_at_once_and_stays_until_a_person_closes_it() {
    let mut ev = AlarmEvaluator::new();
    let limits = Thresholds::default();
    assert_eq!(
        ev.observe(&1, &call(true, 0), &limits),
        [raise(AlarmKind::NurseCall, 1.0, 0)]
    );
    assert!(
        ev.observe(&1, &call(false, 1), &limits).is_empty(),
        "released is not answered"
    );
    assert!(
        ev.observe(&1, &call(true, 2), &limits).is_empty(),
        "pressing again adds nothing"
    );
    assert_eq!(ev.open_alarms(&1), [AlarmKind::NurseCall]);
    ev.forget(&1, AlarmKind::NurseCall);
    assert!(ev.observe(&1, &call(false, 3), &limits).is_empty());
    assert_eq!(
        ev.observe(&1, &call(true, 4), &limits),
        [raise(AlarmKind::NurseCall, 1.0, 4)]
    );
}

#[test]
fn an_iv_bag_goes_from_low_to_empty_in_one_alarm_and_clears_when_replaced() {
    let decisions = run(&[
        iv(20.0, 0),
        iv(18.0, 30),
        iv(0.0, 40),
        iv(0.0, 70),
        iv(10.0, 80),
        iv(100.0, 90),
    ]);
    assert_eq!(
        decisions,
        [
            raise(AlarmKind::IvBagLow, 18.0, 30),
            Decision::Raise {
                kind: AlarmKind::IvBagEmpty,
                priority: Priority::High,
                value: 0.0,
                at: t(70),
                replaces: Some(AlarmKind::IvBagLow)
            },
            clear(AlarmKind::IvBagEmpty, 90),
        ]
    );
}

#[test]
fn an_iv_bag_weighed_in_millilitres_uses_the_millilitre_limits() {
    let ml = |v, s| {
        Sample::new(
            VitalKind::IvBag,
            SampleValue::IvBag(IvLevel::Millilitres(v)),
            t(s),
        )
        .unwrap()
    };
    assert!(run(&[ml(101.0, 0), ml(101.0, 60)]).is_empty());
    assert_eq!(
        run(&[ml(100.0, 0), ml(90.0, 30)]),
        [raise(AlarmKind::IvBagLow, 90.0, 30)]
    );
}

#[test]
fn a_low_battery_is_a_low_priority_technical_alarm_with_its_own_delay() {
    let battery = |v, s| number(VitalKind::Battery, v, s);
    let decisions = run(&[
        battery(20.0, 0),
        battery(19.0, 29),
        battery(19.0, 30),
        battery(25.0, 40),
        battery(25.1, 50),
    ]);
    assert_eq!(
        decisions,
        [
            raise(AlarmKind::BatteryLow, 19.0, 30),
            clear(AlarmKind::BatteryLow, 50)
        ]
    );
    assert_eq!(AlarmKind::BatteryLow.priority(), Priority::Low);
}

#[test]
fn per_patient_limits_and_patients_are_kept_apart() {
    let mut ev = AlarmEvaluator::new();
    let relaxed = Thresholds {
        fever_c: 38.5,
        ..Thresholds::default()
    };
    let default = Thresholds::default();
    for secs in [0, 10] {
        assert!(ev.observe(&"kim", &temp(38.2, secs), &relaxed).is_empty());
        let _ = ev.observe(&"lee", &temp(38.2, secs), &default);
    }
    assert!(ev.open_alarms(&"kim").is_empty());
    assert_eq!(ev.open_alarms(&"lee"), [AlarmKind::Fever]);
    ev.remove_patient(&"lee");
    assert!(ev.open_alarms(&"lee").is_empty());
}

#[test]
fn a_late_sample_older_than_one_already_seen_is_ignored() {
    let decisions = run(&[temp(38.5, 0), temp(38.5, 10), temp(36.0, 5)]);
    assert_eq!(decisions, [raise(AlarmKind::Fever, 38.5, 10)]);
}

#[test]
fn a_silent_device_raises_once_and_clears_when_it_speaks_again() {
    let mut ev = AlarmEvaluator::new();
    let limits = Thresholds::default();
    assert_eq!(
        ev.check_silence(&1, t(0), &limits),
        None,
        "never heard from"
    );
    let _ = ev.observe(&1, &temp(36.5, 0), &limits);
    assert_eq!(ev.check_silence(&1, t(59), &limits), None);
    assert_eq!(
        ev.check_silence(&1, t(60), &limits),
        Some(raise(AlarmKind::DeviceSilent, 60.0, 60))
    );
    assert_eq!(ev.check_silence(&1, t(90), &limits), None, "already open");
    assert!(
        ev.observe(&1, &temp(36.5, -30), &limits).is_empty(),
        "old buffered data"
    );
    assert_eq!(
        ev.observe(&1, &temp(36.6, 95), &limits),
        [clear(AlarmKind::DeviceSilent, 95)]
    );
}
