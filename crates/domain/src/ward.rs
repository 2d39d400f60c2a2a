//! Isolation-ward monitoring: what bedside devices report, how a report becomes a checked
//! sample, the NEWS2 early-warning score, alarm rules and the alarm state machine, the
//! predecessor's Raspberry Pi payload, and the medicine-delivery reset schedule.
//!
//! Everything here is a pure function of its arguments: the current time is always passed in,
//! and the alarm evaluator's memory is an ordinary value the caller owns (and can rebuild from
//! the open alarms in the database after a restart).

/// An enum with a stable code (API, database, serde) and Korean and English labels, plus
/// `ALL`, `Display` (the code) and `FromStr` (the code). Variants are declared in ascending
/// order where the order means something (priorities, risk bands).
macro_rules! labelled_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $($(#[$vmeta:meta])* $variant:ident => $code:literal, $ko:literal, $en:literal;)*
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
        )]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $code)] $variant,)*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// Stable code used in the API and the database.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code,)* }
            }

            /// Korean label for people.
            pub fn ko(self) -> &'static str {
                match self { $($name::$variant => $ko,)* }
            }

            /// English label for people.
            pub fn en(self) -> &'static str {
                match self { $($name::$variant => $en,)* }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::ward::UnknownCode;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let s = s.trim();
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.code() == s)
                    .ok_or_else(|| $crate::ward::UnknownCode {
                        of: stringify!($name),
                        given: s.to_owned(),
                    })
            }
        }
    };
}

pub mod alarm;
mod bed;
pub mod legacy;
pub mod medication;
pub mod news2;
mod raw;
mod sample;
mod vitals;

pub use bed::{BedLabel, BedLabelProblem};
pub use raw::{RawSample, RawValue};
pub use sample::{
    IvLevel, Sample, SampleProblem, SampleValue, check_blood_pressure, plausible_range,
};
pub use vitals::{Acvpu, Unit, VitalKind};

/// A code that names none of the values of a fixed list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {of} {given:?}")]
pub struct UnknownCode {
    /// Which list, e.g. `VitalKind`.
    pub of: &'static str,
    pub given: String,
}
