//! Escalation instead of repetition: an alarm nobody acknowledges goes up the chain (level 1:
//! the charge nurse; each level is announced on the ward's stream and posted to the ward's
//! outgoing webhook, if it has one) after configurable delays per priority. Acknowledging
//! stops it. The functions only say which level is due; the worker stores the level it
//! reached so each level is delivered once.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::Priority;

/// How far up the chain an alarm has gone: 1 is the charge nurse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EscalationLevel(pub u8);

impl EscalationLevel {
    pub const CHARGE_NURSE: EscalationLevel = EscalationLevel(1);

    pub fn get(self) -> u8 {
        self.0
    }
}

/// Seconds after the alarm was raised at which each level is due, per priority, ascending.
/// An empty list never escalates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EscalationPolicy {
    pub high_secs: Vec<u32>,
    pub medium_secs: Vec<u32>,
    pub low_secs: Vec<u32>,
}

impl Default for EscalationPolicy {
    /// High: charge nurse after 1 min, webhook after 3; medium: 5 and 15 min; low: never.
    fn default() -> Self {
        Self {
            high_secs: vec![60, 180],
            medium_secs: vec![300, 900],
            low_secs: Vec::new(),
        }
    }
}

/// Why a policy was refused. [`EscalationProblem::code`] is stable for the API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EscalationProblem {
    #[error("escalation delays for {0} priority must be positive and strictly increasing")]
    NotIncreasing(Priority),
    #[error("at most 255 escalation levels")]
    TooManyLevels,
}

impl EscalationProblem {
    pub fn code(&self) -> &'static str {
        match self {
            EscalationProblem::NotIncreasing(_) => "escalation_not_increasing",
            EscalationProblem::TooManyLevels => "too_many_escalation_levels",
        }
    }
}

impl EscalationPolicy {
    pub fn steps(&self, priority: Priority) -> &[u32] {
        match priority {
            Priority::High => &self.high_secs,
            Priority::Medium => &self.medium_secs,
            Priority::Low => &self.low_secs,
        }
    }

    pub fn check(&self) -> Result<(), EscalationProblem> {
        for &priority in Priority::ALL {
            let steps = self.steps(priority);
            if steps.len() > usize::from(u8::MAX) {
                return Err(EscalationProblem::TooManyLevels);
            }
            let increasing =
                steps.first().is_none_or(|&s| s > 0) && steps.windows(2).all(|w| w[0] < w[1]);
            if !increasing {
                return Err(EscalationProblem::NotIncreasing(priority));
            }
        }
        Ok(())
    }
}

fn due_at(raised_at: DateTime<Utc>, secs: u32) -> DateTime<Utc> {
    raised_at + TimeDelta::seconds(i64::from(secs))
}

/// The highest level due at `now` for an alarm raised at `raised_at`, or `None` when none is
/// due yet or it was acknowledged by `now`.
pub fn escalation_due(
    priority: Priority,
    raised_at: DateTime<Utc>,
    acknowledged_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    policy: &EscalationPolicy,
) -> Option<EscalationLevel> {
    if acknowledged_at.is_some_and(|ack| ack <= now) {
        return None;
    }
    let reached = policy
        .steps(priority)
        .iter()
        .take_while(|&&secs| due_at(raised_at, secs) <= now)
        .count();
    u8::try_from(reached)
        .ok()
        .filter(|&n| n > 0)
        .map(EscalationLevel)
}

/// When the level after `reached` falls due (for scheduling the escalation worker), or `None`
/// when acknowledged or there is no further level.
pub fn next_escalation_at(
    priority: Priority,
    raised_at: DateTime<Utc>,
    acknowledged: bool,
    reached: Option<EscalationLevel>,
    policy: &EscalationPolicy,
) -> Option<DateTime<Utc>> {
    if acknowledged {
        return None;
    }
    let next = usize::from(reached.map_or(0, EscalationLevel::get));
    policy
        .steps(priority)
        .get(next)
        .map(|&secs| due_at(raised_at, secs))
}
