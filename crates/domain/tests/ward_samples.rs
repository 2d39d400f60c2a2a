//! Device reports: from raw input (as serde hands it over) to checked samples, with a precise
//! error for every way a report can be wrong.

use chrono::{DateTime, TimeDelta, Utc};
use docde_domain::ward::alarm::{ThresholdOverrides, Thresholds};
use docde_domain::ward::legacy::LegacyPayload;
use docde_domain::ward::{
    Acvpu, IvLevel, RawSample, RawValue, Sample, SampleValue, Unit, VitalKind,
    check_blood_pressure, plausible_range,
};
use proptest::prelude::*;
use serde::Deserialize;
use serde::de::value::{Error, MapDeserializer, SeqDeserializer};
use serde::de::{Deserializer, IntoDeserializer, Visitor};

/// A JSON-shaped value, so serde mappings can be tested without a JSON crate in this one.
#[derive(Clone)]
enum J {
    Null,
    Bool(bool),
    Num(f64),
    Int(i64),
    Str(&'static str),
    Arr(Vec<J>),
    Obj(Vec<(&'static str, J)>),
}

impl<'de> Deserializer<'de> for J {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match self {
            J::Null => v.visit_unit(),
            J::Bool(b) => v.visit_bool(b),
            J::Num(n) => v.visit_f64(n),
            J::Int(i) => v.visit_i64(i),
            J::Str(s) => v.visit_str(s),
            J::Arr(items) => v.visit_seq(SeqDeserializer::new(items.into_iter())),
            J::Obj(fields) => v.visit_map(MapDeserializer::new(fields.into_iter())),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match self {
            J::Null => v.visit_none(),
            other => v.visit_some(other),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier
        ignored_any
    }
}

impl IntoDeserializer<'_, Error> for J {
    type Deserializer = J;

    fn into_deserializer(self) -> J {
        self
    }
}

fn from<T: for<'de> Deserialize<'de>>(value: J) -> Result<T, Error> {
    T::deserialize(value)
}

fn now() -> DateTime<Utc> {
    "2026-03-01T09:00:00+09:00".parse().unwrap()
}

fn raw(kind: &str, value: RawValue, unit: Option<&str>) -> RawSample {
    RawSample {
        kind: kind.into(),
        value,
        unit: unit.map(Into::into),
        measured_at: "2026-03-01T08:59:30+09:00".into(),
    }
}

fn parse(raw: &RawSample) -> Result<Sample, &'static str> {
    Sample::parse(raw, now(), TimeDelta::seconds(5)).map_err(|p| p.code())
}

fn num(v: f64) -> RawValue {
    RawValue::Number(v)
}

#[test]
fn a_well_formed_report_becomes_a_sample_in_utc() {
    let sample = parse(&raw("body_temperature", num(37.8), Some("°C"))).unwrap();
    assert_eq!(sample.kind(), VitalKind::BodyTemperature);
    assert_eq!(sample.value(), SampleValue::Number(37.8));
    assert_eq!(sample.unit(), Some(Unit::Celsius));
    assert_eq!(
        sample.measured_at().to_rfc3339(),
        "2026-02-28T23:59:30+00:00"
    );
}

#[test]
fn each_kind_of_mistake_has_its_own_code() {
    let cases = [
        (raw("blood_sugar", num(5.0), None), "unknown_kind"),
        (raw("heart_rate", num(72.0), Some("Cel")), "unit_mismatch"),
        (
            raw("body_temperature", num(99.0), Some("°F")),
            "unit_mismatch",
        ),
        (
            raw("nurse_call", RawValue::Bool(true), Some("%")),
            "unit_mismatch",
        ),
        (raw("iv_bag", num(50.0), None), "unit_required"),
        (
            raw("heart_rate", RawValue::Text("fast".into()), None),
            "not_a_number",
        ),
        (
            raw("heart_rate", RawValue::Bool(true), None),
            "not_a_number",
        ),
        (raw("heart_rate", RawValue::Missing, None), "missing_value"),
        (
            raw("consciousness", RawValue::Text("drowsy".into()), None),
            "invalid_value",
        ),
        (raw("nurse_call", num(3.0), None), "invalid_value"),
        (raw("heart_rate", num(301.0), Some("/min")), "out_of_range"),
        (raw("spo2", num(100.5), None), "out_of_range"),
        (raw("body_temperature", num(24.9), None), "out_of_range"),
        (raw("systolic_bp", num(19.0), Some("mmHg")), "out_of_range"),
        (
            raw("diastolic_bp", num(201.0), Some("mm[Hg]")),
            "out_of_range",
        ),
        (raw("iv_bag", num(5001.0), Some("ml")), "out_of_range"),
        (raw("battery", num(-1.0), Some("%")), "out_of_range"),
    ];
    for (report, code) in cases {
        assert_eq!(parse(&report).map(|_| ()), Err(code), "{report:?}");
    }
}

#[test]
fn a_timestamp_must_be_rfc_3339_and_not_beyond_the_tolerance_into_the_future() {
    let mut report = raw("heart_rate", num(72.0), None);
    report.measured_at = "2026-03-01 09:00".into();
    assert_eq!(parse(&report).map(|_| ()), Err("bad_timestamp"));
    report.measured_at = "2026-03-01T09:00:05+09:00".into();
    assert!(parse(&report).is_ok(), "exactly at the tolerance");
    report.measured_at = "2026-03-01T09:00:06+09:00".into();
    let problem = Sample::parse(&report, now(), TimeDelta::seconds(5)).unwrap_err();
    assert_eq!(problem.code(), "measured_in_future");
    assert!(problem.to_string().contains("6000 ms ahead"), "{problem}");
}

#[test]
fn devices_may_send_numbers_as_text_and_switches_as_words_or_digits() {
    let hr = parse(&raw(
        "heart_rate",
        RawValue::Text(" 72 ".into()),
        Some("bpm"),
    ))
    .unwrap();
    assert_eq!(hr.value(), SampleValue::Number(72.0));
    let call = parse(&raw("nurse_call", RawValue::Text("PRESSED".into()), None)).unwrap();
    assert_eq!(call.value(), SampleValue::NurseCall(true));
    let o2 = parse(&raw("supplemental_oxygen", num(0.0), None)).unwrap();
    assert_eq!(o2.value(), SampleValue::SupplementalOxygen(false));
    let acvpu = parse(&raw("consciousness", RawValue::Text("V".into()), None)).unwrap();
    assert_eq!(acvpu.value(), SampleValue::Consciousness(Acvpu::Voice));
    let nan = parse(&raw("heart_rate", RawValue::Text("NaN".into()), None));
    assert_eq!(nan.map(|_| ()), Err("not_a_number"));
}

#[test]
fn the_iv_bag_keeps_the_unit_it_was_measured_in() {
    let ml = parse(&raw("iv_bag", num(250.0), Some("mL"))).unwrap();
    assert_eq!(ml.value(), SampleValue::IvBag(IvLevel::Millilitres(250.0)));
    let pct = parse(&raw("iv_bag", num(20.0), Some("%"))).unwrap();
    assert_eq!(pct.value(), SampleValue::IvBag(IvLevel::Percent(20.0)));
    assert_eq!(pct.to_raw().unit.as_deref(), Some("%"));
}

#[test]
fn categories_and_switches_survive_a_round_trip_through_the_canonical_form() {
    let at = now() - TimeDelta::seconds(10);
    let mut samples = vec![
        Sample::new(VitalKind::NurseCall, SampleValue::NurseCall(true), at).unwrap(),
        Sample::new(
            VitalKind::SupplementalOxygen,
            SampleValue::SupplementalOxygen(true),
            at,
        )
        .unwrap(),
    ];
    for &level in Acvpu::ALL {
        samples.push(
            Sample::new(
                VitalKind::Consciousness,
                SampleValue::Consciousness(level),
                at,
            )
            .unwrap(),
        );
    }
    for sample in samples {
        let raw = sample.to_raw();
        assert_eq!(raw.unit, None);
        assert_eq!(parse(&raw), Ok(sample));
    }
}

#[test]
fn a_typed_value_of_the_wrong_shape_is_refused() {
    let at = now();
    let wrong = Sample::new(VitalKind::HeartRate, SampleValue::NurseCall(true), at);
    assert_eq!(wrong.unwrap_err().code(), "not_a_number");
    let wrong = Sample::new(VitalKind::Consciousness, SampleValue::Number(1.0), at);
    assert_eq!(wrong.unwrap_err().code(), "invalid_value");
    let wrong = Sample::new(VitalKind::IvBag, SampleValue::Number(50.0), at);
    assert_eq!(wrong.unwrap_err().code(), "unit_required");
    let wrong = Sample::new(VitalKind::Spo2, SampleValue::Number(f64::INFINITY), at);
    assert_eq!(wrong.unwrap_err().code(), "not_a_number");
}

#[test]
fn diastolic_pressure_must_be_below_systolic() {
    assert!(check_blood_pressure(120.0, 80.0).is_ok());
    let problem = check_blood_pressure(80.0, 80.0).unwrap_err();
    assert_eq!(problem.code(), "diastolic_not_below_systolic");
}

#[test]
fn raw_reports_deserialize_whatever_the_value_so_errors_stay_per_item() {
    let report: RawSample = from(J::Obj(vec![
        ("kind", J::Str("spo2")),
        ("value", J::Int(97)),
        ("unit", J::Str("%")),
        ("measured_at", J::Str("2026-03-01T08:59:00+09:00")),
        ("device_seq", J::Int(17)),
    ]))
    .unwrap();
    assert_eq!(report.value, RawValue::Number(97.0));
    assert!(parse(&report).is_ok());
    let odd: RawSample = from(J::Obj(vec![("value", J::Arr(vec![J::Int(1)]))])).unwrap();
    assert!(matches!(odd.value, RawValue::Unsupported(_)));
    assert_eq!(parse(&odd).map(|_| ()), Err("unknown_kind"));
    let null: RawSample = from(J::Obj(vec![
        ("kind", J::Str("heart_rate")),
        ("value", J::Null),
    ]))
    .unwrap();
    assert_eq!(null.value, RawValue::Missing);
    let pressed: RawSample = from(J::Obj(vec![("value", J::Bool(true))])).unwrap();
    assert_eq!(pressed.value, RawValue::Bool(true));
    let text: RawSample = from(J::Obj(vec![("value", J::Str("37.5"))])).unwrap();
    assert_eq!(text.value, RawValue::Text("37.5".into()));
    let negative: RawSample = from(J::Obj(vec![("value", J::Int(-3))])).unwrap();
    assert_eq!(negative.value, RawValue::Number(-3.0));
    let float: RawSample = from(J::Obj(vec![("value", J::Num(36.6))])).unwrap();
    assert_eq!(float.value, RawValue::Number(36.6));
    // A nested value is read to its end: the fields after it still arrive.
    let nested: RawSample = from(J::Obj(vec![
        (
            "value",
            J::Obj(vec![("reading", J::Arr(vec![J::Num(1.5), J::Null]))]),
        ),
        ("kind", J::Str("heart_rate")),
        ("measured_at", J::Str("2026-03-01T08:59:00+09:00")),
    ]))
    .unwrap();
    assert!(matches!(nested.value, RawValue::Unsupported(_)));
    assert_eq!(nested.kind, "heart_rate");
    assert_eq!(parse(&nested).map(|_| ()), Err("not_a_number"));
}

#[test]
fn the_predecessor_payload_deserializes_from_its_camel_case_names() {
    let payload: LegacyPayload = from(J::Obj(vec![
        ("bedNumber", J::Str("101-1")),
        ("temperature", J::Num(37.8)),
        ("weight", J::Int(2)),
    ]))
    .unwrap();
    assert_eq!(payload.bed_number, "101-1");
    assert_eq!((payload.temperature, payload.weight), (Some(37.8), Some(2)));
    let reading = payload.to_samples(now()).unwrap();
    assert_eq!(reading.samples.len(), 2);
}

#[test]
fn a_misspelt_threshold_override_is_an_error_not_a_silent_default() {
    let good: ThresholdOverrides = from(J::Obj(vec![("fever_c", J::Num(37.5))])).unwrap();
    assert_eq!(Thresholds::default().with(&good).fever_c, 37.5);
    assert!(from::<ThresholdOverrides>(J::Obj(vec![("fevr_c", J::Num(37.5))])).is_err());
}

fn numeric_kind() -> impl Strategy<Value = (VitalKind, Unit)> {
    prop::sample::select(
        VitalKind::ALL
            .iter()
            .flat_map(|&k| k.units().iter().map(move |&u| (k, u)))
            .collect::<Vec<_>>(),
    )
}

proptest! {
    #[test]
    fn a_value_is_accepted_exactly_when_it_is_inside_the_plausible_range(
        (kind, unit) in numeric_kind(),
        value in -100.0f64..6000.0,
    ) {
        let (min, max) = plausible_range(kind, unit).unwrap();
        let result = parse(&raw(kind.code(), num(value), Some(unit.code())));
        prop_assert_eq!(result.is_ok(), (min..=max).contains(&value));
        if result.is_err() {
            prop_assert_eq!(result.unwrap_err(), "out_of_range");
        }
    }

    #[test]
    fn every_sample_survives_a_round_trip_through_its_canonical_form(
        (kind, unit) in numeric_kind(),
        fraction in 0.0f64..=1.0,
        seconds_ago in 0i64..86_400,
    ) {
        let (min, max) = plausible_range(kind, unit).unwrap();
        let mut report = raw(kind.code(), num(min + (max - min) * fraction), Some(unit.code()));
        report.measured_at = (now() - TimeDelta::seconds(seconds_ago)).to_rfc3339();
        let sample = parse(&report).unwrap();
        prop_assert_eq!(parse(&sample.to_raw()), Ok(sample));
    }

    #[test]
    fn arbitrary_text_never_panics_and_always_gets_a_code(kind in ".{0,20}", value in ".{0,20}", unit in ".{0,8}") {
        let report = raw(&kind, RawValue::Text(value), Some(&unit));
        if let Err(code) = parse(&report) {
            prop_assert!(!code.is_empty());
        }
    }
}
