//! The appointment state machine. The database enforces the same transitions (a trigger
//! generated from `ALL_TRANSITIONS`), so this table is the single source of truth:
//!
//! ```text
//! requested ─┬─> booked ─┬─> checked_in ─┬─> completed
//!            ├─> denied  ├─> cancelled   └─> no_show
//!            └─> cancelled└─> no_show
//! ```
//!
//! `denied`, `cancelled`, `completed` and `no_show` are final. A reschedule is a cancel plus
//! a new booking in one transaction, not a transition.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppointmentStatus {
    /// Waiting for the doctor's approval (hospitals without auto-confirm).
    Requested,
    Booked,
    Denied,
    Cancelled,
    CheckedIn,
    Completed,
    NoShow,
}

use AppointmentStatus::*;

/// Every legal `(from, to)` step.
pub const ALL_TRANSITIONS: &[(AppointmentStatus, AppointmentStatus)] = &[
    (Requested, Booked),
    (Requested, Denied),
    (Requested, Cancelled),
    (Booked, CheckedIn),
    (Booked, Cancelled),
    (Booked, NoShow),
    (CheckedIn, Completed),
    (CheckedIn, NoShow),
];

impl AppointmentStatus {
    pub const ALL: [AppointmentStatus; 7] = [
        Requested, Booked, Denied, Cancelled, CheckedIn, Completed, NoShow,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Requested => "requested",
            Booked => "booked",
            Denied => "denied",
            Cancelled => "cancelled",
            CheckedIn => "checked_in",
            Completed => "completed",
            NoShow => "no_show",
        }
    }

    /// Holds a seat in its slot: counts against capacity and against the patient's
    /// no-overlap rule.
    pub fn is_active(self) -> bool {
        matches!(self, Requested | Booked | CheckedIn)
    }

    /// No way out.
    pub fn is_final(self) -> bool {
        !ALL_TRANSITIONS.iter().any(|&(from, _)| from == self)
    }

    pub fn can_become(self, next: AppointmentStatus) -> bool {
        ALL_TRANSITIONS.contains(&(self, next))
    }

    pub fn transition(self, next: AppointmentStatus) -> Result<Self, IllegalTransition> {
        if self.can_become(next) {
            Ok(next)
        } else {
            Err(IllegalTransition {
                from: self,
                to: next,
            })
        }
    }
}

impl fmt::Display for AppointmentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown appointment status {0:?}")]
pub struct UnknownStatus(pub String);

impl FromStr for AppointmentStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AppointmentStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an appointment cannot go from {from} to {to}")]
pub struct IllegalTransition {
    pub from: AppointmentStatus,
    pub to: AppointmentStatus,
}

impl IllegalTransition {
    pub fn code(&self) -> &'static str {
        "illegal_transition"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deserializes through serde's own value deserializer: the crate has no JSON dev-dep.
    fn from_serde(name: &str) -> Result<AppointmentStatus, serde::de::value::Error> {
        use serde::de::IntoDeserializer;
        AppointmentStatus::deserialize(name.into_deserializer())
    }

    #[test]
    fn every_status_round_trips_through_its_snake_case_name() {
        for status in AppointmentStatus::ALL {
            assert_eq!(status.as_str().parse::<AppointmentStatus>(), Ok(status));
            assert_eq!(from_serde(status.as_str()).unwrap(), status);
            assert_eq!(status.to_string(), status.as_str());
        }
        assert_eq!(from_serde("checked_in").unwrap(), CheckedIn);
        assert_eq!(from_serde("no_show").unwrap(), NoShow);
        assert!(from_serde("CheckedIn").is_err());
        assert!("Booked".parse::<AppointmentStatus>().is_err());
        assert!("".parse::<AppointmentStatus>().is_err());
    }

    #[test]
    fn exactly_the_listed_transitions_are_legal() {
        let mut legal = 0;
        for from in AppointmentStatus::ALL {
            for to in AppointmentStatus::ALL {
                let listed = ALL_TRANSITIONS.contains(&(from, to));
                assert_eq!(from.can_become(to), listed, "{from} -> {to}");
                assert_eq!(from.transition(to).is_ok(), listed, "{from} -> {to}");
                legal += usize::from(listed);
            }
        }
        assert_eq!(legal, 8);
        assert_eq!(ALL_TRANSITIONS.len(), 8, "no duplicates in the table");
    }

    #[test]
    fn the_transitions_are_the_ones_the_booking_flow_needs() {
        let expected = [
            ("requested", "booked"),
            ("requested", "denied"),
            ("requested", "cancelled"),
            ("booked", "checked_in"),
            ("booked", "cancelled"),
            ("booked", "no_show"),
            ("checked_in", "completed"),
            ("checked_in", "no_show"),
        ];
        let names: Vec<_> = ALL_TRANSITIONS
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        assert_eq!(names, expected);
    }

    #[test]
    fn nothing_returns_to_requested_and_nothing_leaves_a_final_state() {
        for from in AppointmentStatus::ALL {
            assert!(!from.can_become(Requested));
            assert!(!from.can_become(from), "{from} -> itself");
        }
        for status in [Denied, Cancelled, Completed, NoShow] {
            assert!(status.is_final());
            assert!(!status.is_active());
        }
        for status in [Requested, Booked, CheckedIn] {
            assert!(!status.is_final());
            assert!(status.is_active());
        }
    }

    #[test]
    fn an_illegal_transition_names_both_states_and_has_a_stable_code() {
        let err = Completed.transition(Booked).unwrap_err();
        assert_eq!(
            err,
            IllegalTransition {
                from: Completed,
                to: Booked
            }
        );
        assert_eq!(err.code(), "illegal_transition");
        assert_eq!(
            err.to_string(),
            "an appointment cannot go from completed to booked"
        );
        assert_eq!(Requested.transition(Booked), Ok(Booked));
    }
}
