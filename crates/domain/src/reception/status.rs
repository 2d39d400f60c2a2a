//! A visit's life: `waiting → called → in_consultation → completed`, with `cancelled` (by the
//! patient or staff, before the consultation), `no_show` (called too often without coming)
//! and re-queueing back to `waiting` (a skipped or late patient, or one sent for tests).

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VisitStatus {
    Waiting,
    Called,
    InConsultation,
    Completed,
    Cancelled,
    NoShow,
}

/// Every legal `(from, to)`; the migrations' triggers list the same pairs.
pub const ALL_VISIT_TRANSITIONS: &[(VisitStatus, VisitStatus)] = {
    use VisitStatus::*;
    &[
        (Waiting, Called),
        (Waiting, Cancelled),
        (Called, InConsultation),
        (Called, Waiting),
        (Called, NoShow),
        (Called, Cancelled),
        (InConsultation, Completed),
        (InConsultation, Waiting),
        (NoShow, Waiting),
    ]
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a visit cannot move from {from} to {to}")]
pub struct IllegalVisitTransition {
    pub from: VisitStatus,
    pub to: VisitStatus,
}

impl VisitStatus {
    pub const ALL: [VisitStatus; 6] = [
        VisitStatus::Waiting,
        VisitStatus::Called,
        VisitStatus::InConsultation,
        VisitStatus::Completed,
        VisitStatus::Cancelled,
        VisitStatus::NoShow,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VisitStatus::Waiting => "waiting",
            VisitStatus::Called => "called",
            VisitStatus::InConsultation => "in_consultation",
            VisitStatus::Completed => "completed",
            VisitStatus::Cancelled => "cancelled",
            VisitStatus::NoShow => "no_show",
        }
    }

    /// Still in the building's line (blocks a second check-in that day).
    pub fn is_active(self) -> bool {
        matches!(
            self,
            VisitStatus::Waiting | VisitStatus::Called | VisitStatus::InConsultation
        )
    }

    pub fn can_move_to(self, to: VisitStatus) -> bool {
        ALL_VISIT_TRANSITIONS.contains(&(self, to))
    }

    pub fn transition(self, to: VisitStatus) -> Result<VisitStatus, IllegalVisitTransition> {
        if self.can_move_to(to) {
            Ok(to)
        } else {
            Err(IllegalVisitTransition { from: self, to })
        }
    }

    /// What a call that found nobody does after `calls` calls (this one included) with at most
    /// `max_calls` allowed: the visit stays called, or becomes a no-show.
    pub fn after_unanswered_call(calls: u32, max_calls: u32) -> VisitStatus {
        if calls >= max_calls.max(1) {
            VisitStatus::NoShow
        } else {
            VisitStatus::Called
        }
    }
}

impl fmt::Display for VisitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for VisitStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        VisitStatus::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown visit status {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use VisitStatus::*;

    #[test]
    fn the_happy_path_and_the_ways_off_it() {
        assert!(Waiting.can_move_to(Called));
        assert!(Called.can_move_to(InConsultation));
        assert!(InConsultation.can_move_to(Completed));
        assert!(Called.can_move_to(Waiting), "skip re-queues");
        assert!(NoShow.can_move_to(Waiting), "a latecomer re-queues");
        for terminal in [Completed, Cancelled] {
            for to in VisitStatus::ALL {
                assert!(!terminal.can_move_to(to), "{terminal} > {to}");
            }
        }
        assert!(!Waiting.can_move_to(Completed), "no consultation skipped");
        assert!(!InConsultation.can_move_to(Cancelled));
        assert_eq!(
            Waiting.transition(Completed),
            Err(IllegalVisitTransition {
                from: Waiting,
                to: Completed
            })
        );
    }

    #[test]
    fn statuses_round_trip_and_only_the_line_is_active() {
        for s in VisitStatus::ALL {
            assert_eq!(s.as_str().parse::<VisitStatus>(), Ok(s));
        }
        let active: Vec<_> = VisitStatus::ALL
            .into_iter()
            .filter(|s| s.is_active())
            .collect();
        assert_eq!(active, vec![Waiting, Called, InConsultation]);
    }

    #[test]
    fn the_nth_unanswered_call_makes_a_no_show() {
        assert_eq!(VisitStatus::after_unanswered_call(1, 3), Called);
        assert_eq!(VisitStatus::after_unanswered_call(2, 3), Called);
        assert_eq!(VisitStatus::after_unanswered_call(3, 3), NoShow);
        assert_eq!(
            VisitStatus::after_unanswered_call(1, 0),
            NoShow,
            "at least one call"
        );
    }
}
