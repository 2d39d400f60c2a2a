//! Alarms: what can alarm and how loudly ([`AlarmKind`], [`Priority`]), the limits that make
//! it alarm ([`Thresholds`], overridable per ward and patient), the evaluator that turns a
//! stream of samples into raise/clear decisions without crying wolf ([`AlarmEvaluator`]), the
//! life of one alarm ([`transition`]) and when an ignored alarm goes up the chain
//! ([`escalation_due`]); the periodic technical checks (silent device, sensor off) are
//! [`technical`].

mod escalation;
mod evaluator;
mod kind;
mod lifecycle;
mod rules;
pub mod technical;
mod thresholds;

pub use escalation::{
    EscalationLevel, EscalationPolicy, EscalationProblem, escalation_due, next_escalation_at,
};
pub use evaluator::{AlarmEvaluator, Decision};
pub use kind::{AlarmKind, Category, Priority};
pub use lifecycle::{AlarmAction, AlarmStatus, LifecycleProblem, MAX_NOTE_CHARS, transition};
pub use thresholds::{ThresholdOverrides, ThresholdProblem, Thresholds};
