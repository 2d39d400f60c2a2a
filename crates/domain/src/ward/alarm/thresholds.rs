//! Alarm limits with the DESIGN.md defaults, hysteresis margins and onset delays. A ward and a
//! patient can each override any field; the patient's word wins, then the ward's, then the
//! default. The merged set is checked so that a typo cannot silence an alarm.

use serde::{Deserialize, Serialize};

/// A value that can be checked on its own: numbers must be finite and not negative.
trait Plausible {
    fn plausible(&self) -> bool;
}

impl Plausible for f64 {
    fn plausible(&self) -> bool {
        self.is_finite() && *self >= 0.0
    }
}

impl Plausible for u32 {
    fn plausible(&self) -> bool {
        true
    }
}

macro_rules! thresholds {
    ($($(#[doc = $doc:literal])* $field:ident: $ty:ty = $default:expr;)*) => {
        /// The limits in force for one patient.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct Thresholds {
            $($(#[doc = $doc])* pub $field: $ty,)*
        }

        impl Default for Thresholds {
            fn default() -> Self {
                Self { $($field: $default,)* }
            }
        }

        /// A ward's or a patient's changes to the limits; absent fields inherit. Unknown
        /// fields are refused so that a misspelt limit is an error, not a silent default.
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct ThresholdOverrides {
            $(#[serde(skip_serializing_if = "Option::is_none")] pub $field: Option<$ty>,)*
        }

        impl Thresholds {
            /// These limits with `overrides` applied on top.
            pub fn with(&self, overrides: &ThresholdOverrides) -> Thresholds {
                Thresholds { $($field: overrides.$field.unwrap_or(self.$field),)* }
            }

            fn first_implausible(&self) -> Option<&'static str> {
                $(if !self.$field.plausible() { return Some(stringify!($field)); })*
                None
            }
        }
    };
}

thresholds! {
    /// Fever at or above this temperature (°C).
    fever_c: f64 = 38.0;
    /// Hypothermia at or below this temperature (°C).
    hypothermia_c: f64 = 35.0;
    /// Low SpO2 below this saturation (%).
    low_spo2_pct: f64 = 90.0;
    /// Bradycardia below this heart rate (/min).
    bradycardia_per_min: f64 = 40.0;
    /// Tachycardia above this heart rate (/min).
    tachycardia_per_min: f64 = 130.0;
    /// Bradypnoea below this respiratory rate (/min).
    bradypnoea_per_min: f64 = 8.0;
    /// Tachypnoea above this respiratory rate (/min).
    tachypnoea_per_min: f64 = 25.0;
    /// Hypotension below this systolic pressure (mmHg).
    hypotension_mmhg: f64 = 90.0;
    /// IV bag low at or below this level (%).
    iv_bag_low_pct: f64 = 20.0;
    /// IV bag empty at or below this level (%).
    iv_bag_empty_pct: f64 = 0.0;
    /// IV bag low at or below this volume (mL), for devices that weigh the bag.
    iv_bag_low_ml: f64 = 100.0;
    /// IV bag empty at or below this volume (mL).
    iv_bag_empty_ml: f64 = 0.0;
    /// Battery low at or below this charge (%).
    battery_low_pct: f64 = 20.0;
    /// Hysteresis: a temperature alarm clears only this far (°C) back inside its limit.
    temperature_margin_c: f64 = 0.2;
    /// Hysteresis for low SpO2 (%).
    spo2_margin_pct: f64 = 2.0;
    /// Hysteresis for heart-rate alarms (/min).
    heart_rate_margin_per_min: f64 = 5.0;
    /// Hysteresis for respiratory-rate alarms (/min).
    respiratory_rate_margin_per_min: f64 = 2.0;
    /// Hysteresis for hypotension (mmHg).
    systolic_margin_mmhg: f64 = 5.0;
    /// Hysteresis for IV bag alarms (%); a fresh bag clears them at once.
    iv_bag_margin_pct: f64 = 5.0;
    /// Hysteresis for IV bag alarms (mL).
    iv_bag_margin_ml: f64 = 50.0;
    /// Hysteresis for battery low (%).
    battery_margin_pct: f64 = 5.0;
    /// Hysteresis for NEWS2 alarms (points): they clear when no parameter scores 3 and the
    /// total is below 5 minus this.
    news2_margin: f64 = 1.0;
    /// Onset delay (s) for physiological alarms: the condition must hold this long, so a
    /// patient scratching the SpO2 probe does not wake the ward.
    physiological_delay_secs: u32 = 10;
    /// Onset delay (s) for technical alarms (a load cell jolted by a moving patient).
    technical_delay_secs: u32 = 30;
    /// A device that has sent nothing for this long (s) raises `device_silent`.
    device_silent_secs: u32 = 60;
}

/// Why a set of limits was refused. [`ThresholdProblem::code`] is stable for the API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThresholdProblem {
    #[error("{field} must be a finite number, not negative")]
    Implausible { field: &'static str },
    #[error("{lower} must be below {upper}")]
    Overlap {
        lower: &'static str,
        upper: &'static str,
    },
}

impl ThresholdProblem {
    pub fn code(&self) -> &'static str {
        match self {
            ThresholdProblem::Implausible { .. } => "implausible_threshold",
            ThresholdProblem::Overlap { .. } => "thresholds_overlap",
        }
    }
}

impl Thresholds {
    /// Default, then the ward's overrides, then the patient's; the result is checked.
    pub fn merge(
        defaults: &Thresholds,
        ward: &ThresholdOverrides,
        patient: &ThresholdOverrides,
    ) -> Result<Thresholds, ThresholdProblem> {
        let merged = defaults.with(ward).with(patient);
        merged.check()?;
        Ok(merged)
    }

    /// Every number finite and not negative, and each low limit below its high partner (a
    /// hypothermia limit above the fever limit would alarm on every temperature).
    pub fn check(&self) -> Result<(), ThresholdProblem> {
        if let Some(field) = self.first_implausible() {
            return Err(ThresholdProblem::Implausible { field });
        }
        let pairs = [
            (self.hypothermia_c, self.fever_c, "hypothermia_c", "fever_c"),
            (
                self.bradycardia_per_min,
                self.tachycardia_per_min,
                "bradycardia_per_min",
                "tachycardia_per_min",
            ),
            (
                self.bradypnoea_per_min,
                self.tachypnoea_per_min,
                "bradypnoea_per_min",
                "tachypnoea_per_min",
            ),
            (
                self.iv_bag_empty_pct,
                self.iv_bag_low_pct,
                "iv_bag_empty_pct",
                "iv_bag_low_pct",
            ),
            (
                self.iv_bag_empty_ml,
                self.iv_bag_low_ml,
                "iv_bag_empty_ml",
                "iv_bag_low_ml",
            ),
        ];
        match pairs.into_iter().find(|(low, high, ..)| low >= high) {
            Some((_, _, lower, upper)) => Err(ThresholdProblem::Overlap { lower, upper }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_the_ones_in_the_design() {
        let t = Thresholds::default();
        assert_eq!(
            (t.fever_c, t.hypothermia_c, t.low_spo2_pct),
            (38.0, 35.0, 90.0)
        );
        assert_eq!(
            (t.bradycardia_per_min, t.tachycardia_per_min),
            (40.0, 130.0)
        );
        assert_eq!((t.bradypnoea_per_min, t.tachypnoea_per_min), (8.0, 25.0));
        assert_eq!((t.hypotension_mmhg, t.iv_bag_low_pct), (90.0, 20.0));
        assert_eq!(t.check(), Ok(()));
    }

    #[test]
    fn a_patient_override_beats_the_ward_which_beats_the_default() {
        let ward = ThresholdOverrides {
            fever_c: Some(37.8),
            tachycardia_per_min: Some(120.0),
            ..Default::default()
        };
        let patient = ThresholdOverrides {
            fever_c: Some(38.5),
            ..Default::default()
        };
        let t = Thresholds::merge(&Thresholds::default(), &ward, &patient).unwrap();
        assert_eq!(t.fever_c, 38.5, "patient");
        assert_eq!(t.tachycardia_per_min, 120.0, "ward");
        assert_eq!(t.bradycardia_per_min, 40.0, "default");
    }

    #[test]
    fn crossed_or_impossible_limits_are_refused_with_the_field_named() {
        let crossed = ThresholdOverrides {
            hypothermia_c: Some(38.5),
            ..Default::default()
        };
        let err = Thresholds::merge(&Thresholds::default(), &crossed, &Default::default());
        assert_eq!(
            err,
            Err(ThresholdProblem::Overlap {
                lower: "hypothermia_c",
                upper: "fever_c"
            })
        );
        let negative = ThresholdOverrides {
            spo2_margin_pct: Some(-1.0),
            ..Default::default()
        };
        let err =
            Thresholds::merge(&Thresholds::default(), &Default::default(), &negative).unwrap_err();
        assert_eq!(err.code(), "implausible_threshold");
        assert!(err.to_string().contains("spo2_margin_pct"));
    }
}
