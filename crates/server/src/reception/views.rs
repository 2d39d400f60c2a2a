//! What reception endpoints and streams answer with.

use chrono::{DateTime, Utc};
use docde_store::reception::Visit;
use docde_store::reception::admission::Ticket;
use docde_store::reception::events::LineEvent;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A visit (check-in) with its place in line while waiting.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VisitView {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub department: String,
    /// The hospital's local date of the check-in.
    pub day: String,
    /// The waiting number: 1, 2, 3 … per department and day.
    pub number: i64,
    /// The number as shown (`IM-007` with a department prefix, else `7`).
    pub label: String,
    /// `waiting`, `called`, `in_consultation`, `completed`, `cancelled` or `no_show`.
    pub status: String,
    /// How often the visit was called.
    pub calls: i32,
    pub patient_id: Uuid,
    pub doctor_id: Option<Uuid>,
    pub appointment_id: Option<Uuid>,
    /// 1 for the next to be called; only while waiting.
    pub position: Option<u64>,
    /// People waiting before this visit; only while waiting.
    pub ahead: Option<u64>,
    /// Estimated seconds until called, from the department's recent consultations.
    pub estimated_wait_seconds: Option<u64>,
    pub created_at: DateTime<Utc>,
    pub called_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl VisitView {
    pub fn of(v: &Visit) -> Self {
        Self {
            id: v.id,
            hospital_id: v.hospital_id,
            department: v.department.clone(),
            day: v.day.clone(),
            number: v.number,
            label: v.label.clone(),
            status: v.status.clone(),
            calls: v.calls,
            patient_id: v.patient_id,
            doctor_id: v.doctor_id,
            appointment_id: v.appointment_id,
            position: None,
            ahead: None,
            estimated_wait_seconds: None,
            created_at: v.created_at,
            called_at: v.called_at,
            started_at: v.started_at,
            finished_at: v.finished_at,
        }
    }
}

/// One number being served on the board.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ServingView {
    pub label: String,
    /// `called` or `in_consultation`.
    pub status: String,
    pub doctor_id: Option<Uuid>,
}

/// A department's lobby board: numbers only, never names.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BoardView {
    pub hospital_id: Uuid,
    pub department: String,
    pub day: String,
    /// The latest event included (resume the board stream after it).
    pub last_event_id: i64,
    pub serving: Vec<ServingView>,
    /// The next few waiting numbers, in order.
    pub next: Vec<String>,
    /// How many are waiting in all.
    pub waiting: usize,
    /// Estimated seconds for someone joining the line now.
    pub estimated_wait_seconds: u64,
}

/// One change on the board stream (SSE `line` event; `id` is the SSE event id).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LineEventView {
    pub id: i64,
    pub day: String,
    pub label: String,
    pub status: String,
    pub doctor_id: Option<Uuid>,
    pub calls: i32,
    pub at: DateTime<Utc>,
}

impl LineEventView {
    pub fn of(e: &LineEvent) -> Self {
        Self {
            id: e.id,
            day: e.day.clone(),
            label: e.label.clone(),
            status: e.status.clone(),
            doctor_id: e.doctor_id,
            calls: e.calls,
            at: e.created_at,
        }
    }
}

/// "Call next" found someone, or nobody was waiting.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CallNextView {
    pub visit: Option<VisitView>,
}

/// A waiting-room ticket.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TicketView {
    pub id: Uuid,
    /// `queued` or `done`.
    pub status: String,
    /// 1 for the next to be admitted; only while queued.
    pub position: Option<u64>,
    /// Tickets before this one; only while queued.
    pub ahead: Option<u64>,
    pub outcome: Option<TicketOutcome>,
    /// When the server wrote this message (to measure delivery lag).
    pub sent_at: DateTime<Utc>,
}

/// What the queued work came to.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TicketOutcome {
    /// The status the request would have had: 201 checked in, 409 refused.
    pub status: u16,
    /// The problem code when refused (`already_checked_in`, …).
    pub code: Option<String>,
    /// The visit, when checked in.
    pub visit_id: Option<Uuid>,
}

impl TicketView {
    pub fn of(t: &Ticket, position: Option<(u64, u64)>) -> Self {
        Self {
            id: t.id,
            status: if t.done { "done" } else { "queued" }.into(),
            position: (!t.done).then(|| position.map(|p| p.0)).flatten(),
            ahead: (!t.done).then(|| position.map(|p| p.1)).flatten(),
            outcome: t.done.then(|| TicketOutcome {
                status: t
                    .outcome_status
                    .and_then(|s| u16::try_from(s).ok())
                    .unwrap_or(500),
                code: t.outcome_code.clone(),
                visit_id: t.outcome_ref.as_deref().and_then(|r| r.parse().ok()),
            }),
            sent_at: Utc::now(),
        }
    }
}
