//! A checked device report: [`Sample`] is what the rest of the system may trust (its kind,
//! unit and value agree and the value is physically possible), and [`SampleProblem`] says
//! precisely why a report was not one. Reading raw device input is `raw`'s job.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use super::raw::{accepted_units, expected};
use super::{Acvpu, RawSample, Unit, VitalKind};

/// What is left in an IV bag.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum IvLevel {
    Percent(f64),
    Millilitres(f64),
}

impl IvLevel {
    pub fn amount(self) -> f64 {
        match self {
            IvLevel::Percent(v) | IvLevel::Millilitres(v) => v,
        }
    }

    pub fn unit(self) -> Unit {
        match self {
            IvLevel::Percent(_) => Unit::Percent,
            IvLevel::Millilitres(_) => Unit::Millilitre,
        }
    }
}

/// A checked value; which variant fits which kind is fixed by [`Sample::new`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SampleValue {
    /// Heart rate, respiratory rate, SpO2, temperature, blood pressure or battery, in the
    /// kind's only unit.
    Number(f64),
    IvBag(IvLevel),
    Consciousness(Acvpu),
    /// `true` on supplemental oxygen, `false` on room air.
    SupplementalOxygen(bool),
    /// `true` pressed, `false` released.
    NurseCall(bool),
}

impl SampleValue {
    /// One number per sample, for storage and 1-minute rollups: quantities as they are, ACVPU
    /// as its rank (0 alert … 4 unresponsive), on/off as 1/0.
    pub fn as_f64(self) -> f64 {
        match self {
            SampleValue::Number(v) => v,
            SampleValue::IvBag(level) => level.amount(),
            SampleValue::Consciousness(level) => f64::from(level.rank()),
            SampleValue::SupplementalOxygen(on) | SampleValue::NurseCall(on) => {
                f64::from(u8::from(on))
            }
        }
    }
}

/// The physically possible range (inclusive) of a numeric kind in one of its units. Values
/// outside are sensor faults or typos, never patients, so they are rejected, not alarmed on.
pub fn plausible_range(kind: VitalKind, unit: Unit) -> Option<(f64, f64)> {
    use Unit as U;
    use VitalKind as K;
    match (kind, unit) {
        (K::HeartRate, U::PerMinute) => Some((0.0, 300.0)),
        (K::RespiratoryRate, U::PerMinute) => Some((0.0, 120.0)),
        (K::Spo2 | K::Battery | K::IvBag, U::Percent) => Some((0.0, 100.0)),
        (K::BodyTemperature, U::Celsius) => Some((25.0, 45.0)),
        (K::SystolicBp, U::MillimetreOfMercury) => Some((20.0, 300.0)),
        (K::DiastolicBp, U::MillimetreOfMercury) => Some((10.0, 200.0)),
        (K::IvBag, U::Millilitre) => Some((0.0, 5000.0)),
        _ => None,
    }
}

/// Systolic and diastolic pressure measured together must be ordered. Each value alone is
/// checked by [`Sample::new`]; the pair is checked here by whoever pairs them (same device,
/// same `measured_at`).
pub fn check_blood_pressure(systolic: f64, diastolic: f64) -> Result<(), SampleProblem> {
    if diastolic < systolic {
        Ok(())
    } else {
        Err(SampleProblem::DiastolicNotBelowSystolic {
            systolic,
            diastolic,
        })
    }
}

/// A checked report: only [`Sample::new`] and [`Sample::parse`] make one.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(into = "RawSample")]
pub struct Sample {
    kind: VitalKind,
    value: SampleValue,
    measured_at: DateTime<Utc>,
}

impl Sample {
    /// Checks that the value's shape fits the kind and that a quantity is finite and possible.
    pub fn new(
        kind: VitalKind,
        value: SampleValue,
        measured_at: DateTime<Utc>,
    ) -> Result<Self, SampleProblem> {
        use SampleValue as V;
        use VitalKind as K;
        let (number, unit) = match (kind, value) {
            (K::IvBag, V::IvBag(level)) => (level.amount(), level.unit()),
            (K::Consciousness, V::Consciousness(_))
            | (K::SupplementalOxygen, V::SupplementalOxygen(_))
            | (K::NurseCall, V::NurseCall(_)) => {
                return Ok(Self {
                    kind,
                    value,
                    measured_at,
                });
            }
            (K::Consciousness | K::SupplementalOxygen | K::NurseCall, _) => {
                return Err(SampleProblem::InvalidValue {
                    kind,
                    expected: expected(kind),
                });
            }
            (_, V::Number(v)) => match kind.default_unit() {
                Some(unit) => (v, unit),
                None => return Err(SampleProblem::UnitRequired { kind }),
            },
            _ => return Err(SampleProblem::NotANumber { kind }),
        };
        if !number.is_finite() {
            return Err(SampleProblem::NotANumber { kind });
        }
        let Some((min, max)) = plausible_range(kind, unit) else {
            return Err(SampleProblem::UnitMismatch {
                kind,
                unit: unit.code().to_owned(),
            });
        };
        if !(min..=max).contains(&number) {
            return Err(SampleProblem::OutOfRange {
                kind,
                value: number,
                min,
                max,
                unit,
            });
        }
        Ok(Self {
            kind,
            value,
            measured_at,
        })
    }

    pub fn kind(&self) -> VitalKind {
        self.kind
    }

    pub fn value(&self) -> SampleValue {
        self.value
    }

    pub fn measured_at(&self) -> DateTime<Utc> {
        self.measured_at
    }

    /// The unit of a quantity; `None` for ACVPU, air/oxygen and nurse call.
    pub fn unit(&self) -> Option<Unit> {
        match self.value {
            SampleValue::IvBag(level) => Some(level.unit()),
            _ => self.kind.default_unit(),
        }
    }
}

/// Why a report was rejected. [`SampleProblem::code`] is stable for the API.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SampleProblem {
    #[error("unknown kind {0:?}")]
    UnknownKind(String),
    #[error("{kind} cannot be given in {unit:?}; use {}", accepted_units(*kind))]
    UnitMismatch { kind: VitalKind, unit: String },
    #[error("{kind} needs a unit: {}", accepted_units(*kind))]
    UnitRequired { kind: VitalKind },
    #[error("{kind} must be a finite number")]
    NotANumber { kind: VitalKind },
    #[error("{kind} must be {expected}")]
    InvalidValue {
        kind: VitalKind,
        expected: &'static str,
    },
    #[error("{kind} has no value")]
    MissingValue { kind: VitalKind },
    #[error("{kind} {value} {unit} is impossible; the possible range is {min}–{max} {unit}")]
    OutOfRange {
        kind: VitalKind,
        value: f64,
        min: f64,
        max: f64,
        unit: Unit,
    },
    #[error(
        "measured_at must be an RFC 3339 timestamp with offset, e.g. 2026-03-01T09:00:00+09:00"
    )]
    BadTimestamp,
    #[error(
        "measured_at is {} ms ahead of the server clock (tolerance {} ms)",
        ahead.num_milliseconds(),
        tolerance.num_milliseconds()
    )]
    MeasuredInFuture {
        ahead: TimeDelta,
        tolerance: TimeDelta,
    },
    #[error("diastolic pressure {diastolic} must be below systolic pressure {systolic}")]
    DiastolicNotBelowSystolic { systolic: f64, diastolic: f64 },
}

impl SampleProblem {
    pub fn code(&self) -> &'static str {
        match self {
            SampleProblem::UnknownKind(_) => "unknown_kind",
            SampleProblem::UnitMismatch { .. } => "unit_mismatch",
            SampleProblem::UnitRequired { .. } => "unit_required",
            SampleProblem::NotANumber { .. } => "not_a_number",
            SampleProblem::InvalidValue { .. } => "invalid_value",
            SampleProblem::MissingValue { .. } => "missing_value",
            SampleProblem::OutOfRange { .. } => "out_of_range",
            SampleProblem::BadTimestamp => "bad_timestamp",
            SampleProblem::MeasuredInFuture { .. } => "measured_in_future",
            SampleProblem::DiastolicNotBelowSystolic { .. } => "diastolic_not_below_systolic",
        }
    }
}
