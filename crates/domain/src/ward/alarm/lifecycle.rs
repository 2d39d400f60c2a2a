//! The life of one alarm: `active → acknowledged → resolved`, or straight `active → resolved`.
//! A person resolving an alarm writes what they did (the predecessor's "urgent care" record);
//! the evaluator resolves it when the condition ends. Who and when are the caller's to store:
//! this is only which step may follow which.

labelled_enum! {
    AlarmStatus {
        Active => "active", "발생", "Active";
        Acknowledged => "acknowledged", "확인", "Acknowledged";
        Resolved => "resolved", "해결", "Resolved";
    }
}

impl AlarmStatus {
    /// Open alarms count against "one open alarm per (patient, kind)".
    pub fn is_open(self) -> bool {
        self != AlarmStatus::Resolved
    }
}

/// The longest action note accepted, in characters.
pub const MAX_NOTE_CHARS: usize = 2000;

/// A step in an alarm's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmAction<'a> {
    /// A nurse has seen it and is on the way; escalation stops.
    Acknowledge,
    /// A nurse closes it, saying what was done.
    Resolve { note: &'a str },
    /// The evaluator saw the condition end.
    ConditionCleared,
}

/// Why a step was refused. [`LifecycleProblem::code`] is stable for the API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleProblem {
    #[error("the alarm is already acknowledged")]
    AlreadyAcknowledged,
    #[error("the alarm is already resolved")]
    AlreadyResolved,
    #[error("resolving an alarm needs a note of the action taken")]
    NoteRequired,
    #[error("the action note may be at most {MAX_NOTE_CHARS} characters")]
    NoteTooLong,
}

impl LifecycleProblem {
    pub fn code(&self) -> &'static str {
        match self {
            LifecycleProblem::AlreadyAcknowledged => "already_acknowledged",
            LifecycleProblem::AlreadyResolved => "already_resolved",
            LifecycleProblem::NoteRequired => "note_required",
            LifecycleProblem::NoteTooLong => "note_too_long",
        }
    }
}

/// The status after `action`, or why it may not happen. Resolved is final: a condition that
/// comes back opens a new alarm, so each alarm's history stays one straight line.
pub fn transition(
    from: AlarmStatus,
    action: AlarmAction<'_>,
) -> Result<AlarmStatus, LifecycleProblem> {
    use AlarmStatus as S;
    match (from, action) {
        (S::Resolved, _) => Err(LifecycleProblem::AlreadyResolved),
        (S::Acknowledged, AlarmAction::Acknowledge) => Err(LifecycleProblem::AlreadyAcknowledged),
        (S::Active, AlarmAction::Acknowledge) => Ok(S::Acknowledged),
        (_, AlarmAction::Resolve { note }) => {
            let note = note.trim();
            if note.is_empty() {
                Err(LifecycleProblem::NoteRequired)
            } else if note.chars().count() > MAX_NOTE_CHARS {
                Err(LifecycleProblem::NoteTooLong)
            } else {
                Ok(S::Resolved)
            }
        }
        (_, AlarmAction::ConditionCleared) => Ok(S::Resolved),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AlarmStatus as S;

    #[test]
    fn an_alarm_is_acknowledged_then_resolved_with_a_note() {
        let acked = transition(S::Active, AlarmAction::Acknowledge).unwrap();
        assert_eq!(acked, S::Acknowledged);
        let note = "해열제 투여, 30분 후 재측정";
        assert_eq!(
            transition(acked, AlarmAction::Resolve { note }),
            Ok(S::Resolved)
        );
    }

    #[test]
    fn an_active_alarm_can_be_resolved_directly_by_a_person_or_by_the_condition_ending() {
        let note = "IV bag replaced";
        assert_eq!(
            transition(S::Active, AlarmAction::Resolve { note }),
            Ok(S::Resolved)
        );
        assert_eq!(
            transition(S::Active, AlarmAction::ConditionCleared),
            Ok(S::Resolved)
        );
        assert_eq!(
            transition(S::Acknowledged, AlarmAction::ConditionCleared),
            Ok(S::Resolved)
        );
    }

    #[test]
    fn resolving_without_a_real_note_is_refused() {
        for note in ["", "   \n"] {
            let err = transition(S::Active, AlarmAction::Resolve { note }).unwrap_err();
            assert_eq!(err.code(), "note_required");
        }
        let essay = "가".repeat(MAX_NOTE_CHARS + 1);
        let err = transition(S::Acknowledged, AlarmAction::Resolve { note: &essay }).unwrap_err();
        assert_eq!(err.code(), "note_too_long");
        let just_fits = "가".repeat(MAX_NOTE_CHARS);
        assert!(transition(S::Active, AlarmAction::Resolve { note: &just_fits }).is_ok());
    }

    #[test]
    fn resolved_is_final_and_acknowledging_twice_is_refused() {
        for action in [
            AlarmAction::Acknowledge,
            AlarmAction::Resolve { note: "done" },
            AlarmAction::ConditionCleared,
        ] {
            assert_eq!(
                transition(S::Resolved, action),
                Err(LifecycleProblem::AlreadyResolved)
            );
        }
        let err = transition(S::Acknowledged, AlarmAction::Acknowledge).unwrap_err();
        assert_eq!(err.code(), "already_acknowledged");
        assert!(S::Acknowledged.is_open() && !S::Resolved.is_open());
    }
}
