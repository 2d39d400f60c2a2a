//! Telling a patient about their appointment: the e-mail written in the same transaction as
//! the change, and, after the commit, the live event on the patient's channel and the seat
//! notice for other instances' availability views.

use chrono::{DateTime, Utc};
use docde_store::booking::Appointment;
use docde_store::outbox::Letter;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::availability::{SeatNotice, TOPIC};
use super::document::zone;
use crate::state::AppState;

/// The bus topic of one patient's appointment events.
pub fn patient_topic(patient_id: Uuid) -> String {
    format!("patient:{patient_id}:appointments")
}

/// One event on a patient's channel (SSE `appointment` event; `id` is the SSE event id).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AppointmentEventView {
    pub id: i64,
    pub appointment_id: Uuid,
    /// The appointment's status after the change.
    pub status: String,
    pub at: DateTime<Utc>,
}

/// Publishes what a committed change means: the patient's event and the seat count. The
/// view on this instance is updated at once; the bus messages go out in the background, so a
/// slow or unreachable Redis never delays (or times out) an answer whose change is committed.
pub async fn after_commit(
    state: &AppState,
    appointment: &Appointment,
    event_id: i64,
    seat: SeatChange,
) {
    let event = AppointmentEventView {
        id: event_id,
        appointment_id: appointment.id,
        status: appointment.status.clone(),
        at: appointment.updated_at,
    };
    let views = &state.booking.views;
    let slot = match seat {
        SeatChange::Taken(taken) => {
            views.note(
                appointment.doctor_id,
                appointment.starts_at,
                taken,
                Some(appointment.patient_id),
            );
            Some(Some((appointment.starts_at, taken)))
        }
        SeatChange::Freed => {
            views.forget(appointment.doctor_id);
            Some(None)
        }
        SeatChange::Unchanged => None,
    };
    let notice = slot.map(|slot| SeatNotice {
        origin: views.instance,
        doctor_id: appointment.doctor_id,
        patient: slot.map(|_| appointment.patient_id),
        slot,
    });
    let bus = state.bus.clone();
    let topic = patient_topic(appointment.patient_id);
    tokio::spawn(async move {
        // A lost publish is recovered by replay: clients resume from the event table, and
        // other instances' views reload within their freshness window.
        if let Ok(payload) = serde_json::to_vec(&event) {
            let _ = bus.publish(&topic, payload).await;
        }
        if let Some(notice) = notice
            && let Ok(payload) = serde_json::to_vec(&notice)
        {
            let _ = bus.publish(TOPIC, payload).await;
        }
    });
}

/// Wakes the e-mail dispatchers in the background, at most one wake-up in flight at a time:
/// a burst of bookings costs one bus message, not one each.
pub fn wake_mail(state: &AppState) {
    wake_once(
        state,
        |b| &b.mail_wake_pending,
        |state| async move {
            crate::mail::dispatcher::wake(&state).await;
        },
    );
}

/// Wakes the rush queue's workers, on every instance, likewise: at 20,000 tickets a second
/// one bus message (a Redis publish, with several instances) each was as many tasks and
/// round trips on the request path's cores.
pub fn wake_queue(state: &AppState) {
    wake_once(
        state,
        |b| &b.queue_wake_pending,
        |state| async move {
            let _ = state.bus.wake(super::rush::WAKE).await;
        },
    );
}

/// Runs `wake` in the background unless a wake-up through the same flag is already waiting
/// to run. The flag is cleared before the wake-up is sent, so work committed after that
/// point sends another: none is left unannounced.
fn wake_once<W, F>(
    state: &AppState,
    pending: fn(&super::Booking) -> &std::sync::atomic::AtomicBool,
    wake: W,
) where
    W: FnOnce(AppState) -> F + Send + 'static,
    F: std::future::Future<Output = ()> + Send + 'static,
{
    use std::sync::atomic::Ordering;
    if pending(&state.booking).swap(true, Ordering::AcqRel) {
        return;
    }
    let state = state.clone();
    tokio::spawn(async move {
        pending(&state.booking).store(false, Ordering::Release);
        wake(state).await;
    });
}

/// What a change did to the slot's seats.
#[derive(Debug, Clone, Copy)]
pub enum SeatChange {
    /// Now this many seats are taken.
    Taken(u16),
    /// One was given back.
    Freed,
    Unchanged,
}

/// The e-mail telling the patient that their appointment is now `status` (addressed when
/// queued). Names no reason or diagnosis: only the time, the status and where to look.
pub fn letter(appointment_id: Uuid, starts_at: i64, time_zone: &str, status: &str) -> Letter {
    let when = DateTime::from_timestamp(starts_at, 0)
        .map(|t| {
            t.with_timezone(&zone(time_zone))
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default();
    let (ko, en) = match status {
        "booked" => ("예약이 확정되었습니다", "Your appointment is confirmed"),
        "requested" => (
            "예약 신청이 접수되었습니다 (의사 승인 대기)",
            "Your appointment request was received (awaiting the doctor's approval)",
        ),
        "denied" => (
            "예약 신청이 거절되었습니다",
            "Your appointment request was declined",
        ),
        "cancelled" => ("예약이 취소되었습니다", "Your appointment was cancelled"),
        "checked_in" => ("접수되었습니다", "You are checked in"),
        "completed" => ("진료가 완료되었습니다", "Your visit is complete"),
        "no_show" => ("미방문 처리되었습니다", "You were marked as not attending"),
        _ => ("예약이 변경되었습니다", "Your appointment changed"),
    };
    Letter {
        subject: format!("[DocDe] {ko} / {en}"),
        body: format!(
            "{ko}.\n{en}.\n\n일시 / Time: {when} ({time_zone})\n예약 번호 / Appointment: {appointment_id}\n"
        ),
    }
}
