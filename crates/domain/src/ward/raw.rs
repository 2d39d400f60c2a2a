//! What arrives from a device, before it is trusted: [`RawSample`] deserializes from any
//! JSON shape of value, so one bad item in a batch is answered with its own error instead of
//! failing the whole request; [`Sample::parse`] turns it into a checked [`Sample`] or names
//! the problem.

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde::{Deserialize, Serialize, de::IgnoredAny};

use super::{Acvpu, IvLevel, Sample, SampleProblem, SampleValue, Unit, VitalKind};

impl Sample {
    /// Checks a device report: known kind, a unit the kind accepts (assumed when the kind has
    /// only one), a value of the right shape and range, and an RFC 3339 `measured_at` no more
    /// than `future_tolerance` ahead of `now` (device clocks drift a little; a reading from
    /// tomorrow would sit on top of every chart).
    pub fn parse(
        raw: &RawSample,
        now: DateTime<Utc>,
        future_tolerance: TimeDelta,
    ) -> Result<Self, SampleProblem> {
        let kind: VitalKind = raw
            .kind
            .parse()
            .map_err(|_| SampleProblem::UnknownKind(raw.kind.trim().to_owned()))?;
        let measured_at = DateTime::parse_from_rfc3339(raw.measured_at.trim())
            .map_err(|_| SampleProblem::BadTimestamp)?
            .with_timezone(&Utc);
        let ahead = measured_at - now;
        if ahead > future_tolerance {
            return Err(SampleProblem::MeasuredInFuture {
                ahead,
                tolerance: future_tolerance,
            });
        }
        let unit = match raw.unit.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            None if kind == VitalKind::IvBag => return Err(SampleProblem::UnitRequired { kind }),
            None => kind.default_unit(),
            Some(text) => match Unit::parse(text).filter(|u| kind.units().contains(u)) {
                Some(unit) => Some(unit),
                None => {
                    return Err(SampleProblem::UnitMismatch {
                        kind,
                        unit: text.to_owned(),
                    });
                }
            },
        };
        let value = match kind {
            VitalKind::Consciousness => match &raw.value {
                RawValue::Text(t) => Acvpu::parse(t).map(SampleValue::Consciousness),
                _ => None,
            }
            .ok_or_else(|| invalid(kind, &raw.value))?,
            VitalKind::SupplementalOxygen => raw_switch(&raw.value, &["oxygen", "o2"], &["air"])
                .map(SampleValue::SupplementalOxygen)
                .ok_or_else(|| invalid(kind, &raw.value))?,
            VitalKind::NurseCall => raw_switch(&raw.value, &["pressed"], &["released"])
                .map(SampleValue::NurseCall)
                .ok_or_else(|| invalid(kind, &raw.value))?,
            _ => {
                let number = raw_number(&raw.value).ok_or_else(|| invalid(kind, &raw.value))?;
                match unit {
                    Some(Unit::Millilitre) => SampleValue::IvBag(IvLevel::Millilitres(number)),
                    _ if kind == VitalKind::IvBag => SampleValue::IvBag(IvLevel::Percent(number)),
                    _ => SampleValue::Number(number),
                }
            }
        };
        Sample::new(kind, value, measured_at)
    }

    /// The canonical device form: UCUM unit, codes for categories, UTC timestamp.
    pub fn to_raw(&self) -> RawSample {
        let value = match self.value() {
            SampleValue::Consciousness(level) => RawValue::Text(level.code().to_owned()),
            SampleValue::SupplementalOxygen(on) | SampleValue::NurseCall(on) => RawValue::Bool(on),
            other => RawValue::Number(other.as_f64()),
        };
        RawSample {
            kind: self.kind().code().to_owned(),
            value,
            unit: self.unit().map(|u| u.code().to_owned()),
            measured_at: self
                .measured_at()
                .to_rfc3339_opts(SecondsFormat::AutoSi, true),
        }
    }
}

impl From<Sample> for RawSample {
    fn from(sample: Sample) -> Self {
        sample.to_raw()
    }
}

/// A report as a device sends it: `{"kind", "value", "unit", "measured_at"}`. Every field
/// has a default and `value` accepts any JSON, so deserializing one never fails; the problems
/// are found by [`Sample::parse`], which names them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RawSample {
    pub kind: String,
    pub value: RawValue,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// RFC 3339 with an offset, e.g. `2026-03-01T09:00:00+09:00`.
    pub measured_at: String,
}

/// A JSON value as a device may send it. Numbers may also arrive as strings (`"37.5"`).
///
/// Deserialized by a visitor of its own, not `#[serde(untagged)]`: untagged buffers each value
/// and tries the variants in turn, building an error for every miss, and a batch of 100
/// numbers paid that 100 times.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(untagged)]
pub enum RawValue {
    Bool(bool),
    Number(f64),
    Text(String),
    /// `null` or absent.
    #[default]
    Missing,
    /// An object or an array: never valid, kept so the error is per item.
    #[serde(skip_serializing)]
    Unsupported(IgnoredAny),
}

impl<'de> Deserialize<'de> for RawValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawValueVisitor)
    }
}

struct RawValueVisitor;

impl<'de> serde::de::Visitor<'de> for RawValueVisitor {
    type Value = RawValue;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<RawValue, E> {
        Ok(RawValue::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<RawValue, E> {
        Ok(RawValue::Number(v as f64))
    }

    fn visit_u64<E>(self, v: u64) -> Result<RawValue, E> {
        Ok(RawValue::Number(v as f64))
    }

    fn visit_f64<E>(self, v: f64) -> Result<RawValue, E> {
        Ok(RawValue::Number(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<RawValue, E> {
        Ok(RawValue::Text(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<RawValue, E> {
        Ok(RawValue::Text(v))
    }

    fn visit_unit<E>(self) -> Result<RawValue, E> {
        Ok(RawValue::Missing)
    }

    fn visit_none<E>(self) -> Result<RawValue, E> {
        Ok(RawValue::Missing)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<RawValue, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<RawValue, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(RawValue::Unsupported(IgnoredAny))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<RawValue, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(RawValue::Unsupported(IgnoredAny))
    }
}

fn raw_number(value: &RawValue) -> Option<f64> {
    let number = match value {
        RawValue::Number(n) => *n,
        RawValue::Text(t) => t.trim().parse().ok()?,
        _ => return None,
    };
    number.is_finite().then_some(number)
}

/// A boolean sent as `true`/`false`, `1`/`0` or one of the words given.
fn raw_switch(value: &RawValue, on: &[&str], off: &[&str]) -> Option<bool> {
    match value {
        RawValue::Bool(b) => Some(*b),
        RawValue::Number(n) if *n == 1.0 => Some(true),
        RawValue::Number(n) if *n == 0.0 => Some(false),
        RawValue::Text(t) => {
            let t = t.trim().to_ascii_lowercase();
            if on.contains(&t.as_str()) {
                Some(true)
            } else if off.contains(&t.as_str()) {
                Some(false)
            } else {
                None
            }
        }
        _ => None,
    }
}

fn invalid(kind: VitalKind, value: &RawValue) -> SampleProblem {
    if *value == RawValue::Missing {
        SampleProblem::MissingValue { kind }
    } else if kind.is_numeric() {
        SampleProblem::NotANumber { kind }
    } else {
        SampleProblem::InvalidValue {
            kind,
            expected: expected(kind),
        }
    }
}

pub(super) fn expected(kind: VitalKind) -> &'static str {
    match kind {
        VitalKind::Consciousness => {
            "alert, new_confusion, voice, pain or unresponsive (A, C, V, P, U)"
        }
        VitalKind::SupplementalOxygen => "true (oxygen) or false (air)",
        VitalKind::NurseCall => "true (pressed) or false (released)",
        _ => "a number",
    }
}

pub(super) fn accepted_units(kind: VitalKind) -> String {
    match kind.units() {
        [] => "no unit".to_owned(),
        units => units
            .iter()
            .map(|u| u.code())
            .collect::<Vec<_>>()
            .join(" or "),
    }
}
