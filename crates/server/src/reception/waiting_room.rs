//! The waiting room: admission control for check-in spikes.
//!
//! Each instance admits at most `reception.capacity` check-ins of one hospital at a time.
//! Above that — or while anyone of that hospital is already in the waiting room, so nobody
//! jumps the line — the check-in is stored durably as a ticket and answered `202` with the
//! ticket and its `Location` (the work *is* accepted; 429 would tell the client to retry and
//! lose its place, see docs/API.md). Workers on any instance do tickets strictly in arrival
//! order, exactly once (docde-store's `reception::admission`), and keep the outcome for the
//! ticket's owner to read or watch; the work finishes whether or not anyone still watches.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use docde_store::reception::admission::{self, QueuedCheckIn};
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::lines::ticket_line_topic;
use super::views::TicketView;
use crate::problem::ApiError;
use crate::state::AppState;

/// The wake-up channel telling waiting-room workers there is work.
pub const WAKE: &str = "reception-waiting-room";

/// Check-ins of each hospital in progress on this instance, the ticket writer, and the
/// waiting-room lines this instance keeps an eye on while they are busy.
pub struct Admission {
    capacity: usize,
    in_flight: Mutex<HashMap<Uuid, usize>>,
    writer: admission::TicketWriter,
    /// Receivers that keep busy lines' shared snapshots fresh (for positions in `202`s and
    /// for "is anyone waiting?" without a query); dropped when the line empties.
    busy: Mutex<
        HashMap<Uuid, tokio::sync::watch::Receiver<std::sync::Arc<super::lines::TicketLine>>>,
    >,
}

/// A check-in admitted straight away; gives its place back when dropped.
pub struct Slot<'a> {
    admission: &'a Admission,
    hospital_id: Uuid,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut map = self
            .admission
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.hospital_id) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.hospital_id);
            }
        }
    }
}

impl Admission {
    pub fn new(store: &docde_store::Store, capacity: usize) -> Self {
        Self {
            capacity,
            in_flight: Mutex::new(HashMap::new()),
            writer: admission::TicketWriter::spawn(store.clone()),
            busy: Mutex::new(HashMap::new()),
        }
    }

    /// This instance's view of a hospital's waiting-room line (started on first use).
    pub fn line(
        &self,
        state: &AppState,
        hospital_id: Uuid,
    ) -> std::sync::Arc<super::lines::TicketLine> {
        let mut busy = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        busy.entry(hospital_id)
            .or_insert_with(|| state.reception.lines.tickets(state, hospital_id))
            .borrow()
            .clone()
    }

    /// Whether anyone waits in the hospital's line: the shared snapshot says yes at once; a
    /// "no" is confirmed in the database (the snapshot may be up to a refresh behind).
    pub async fn anyone_waiting(
        &self,
        state: &AppState,
        hospital_id: Uuid,
    ) -> Result<bool, ApiError> {
        let line = self.line(state, hospital_id);
        if line.loaded && !line.seqs.is_empty() {
            return Ok(true);
        }
        Ok(admission::anyone_waiting(&state.store, admission::CHECK_IN, hospital_id).await?)
    }

    /// Stops watching lines that are empty now.
    fn forget_idle(&self, busy_lines: &[Uuid]) {
        let mut busy = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        busy.retain(|h, _| busy_lines.contains(h));
    }

    /// A slot if this instance has capacity for one more check-in of the hospital.
    pub fn try_enter(&self, hospital_id: Uuid) -> Option<Slot<'_>> {
        let mut map = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(hospital_id).or_insert(0);
        if *n >= self.capacity {
            if *n == 0 {
                map.remove(&hospital_id);
            }
            return None;
        }
        *n += 1;
        Some(Slot {
            admission: self,
            hospital_id,
        })
    }
}

/// The answer to a retry whose key already has a ticket: that ticket, if the retry asks for
/// the same check-in (patient, department, appointment); otherwise the key was reused.
async fn replay(
    state: &AppState,
    (ticket, stored): &(admission::Ticket, String),
    request: &QueuedCheckIn,
) -> Result<TicketView, ApiError> {
    let first: Option<QueuedCheckIn> = serde_json::from_str(stored).ok();
    if !first.is_some_and(|f| {
        f.patient_id == request.patient_id
            && f.department == request.department
            && f.appointment_id == request.appointment_id
    }) {
        return Err(crate::api::reception::key_reused());
    }
    ticket_view(state, ticket).await
}

/// Stores the check-in as a ticket (answered after its commit) and wakes the workers.
pub async fn enqueue(
    state: &AppState,
    hospital_id: Uuid,
    owner_id: Uuid,
    request: &QueuedCheckIn,
    idempotency_key: Option<&str>,
) -> Result<TicketView, ApiError> {
    if let Some(key) = idempotency_key
        && let Some(existing) = admission::by_key(&state.store, owner_id, key).await?
    {
        return replay(state, &existing, request).await;
    }
    let ticket_id = Uuid::now_v7();
    let body = serde_json::to_string(request).map_err(anyhow::Error::from)?;
    let now = state.reception.clock.now();
    let new = admission::NewTicket {
        id: ticket_id,
        operation: admission::CHECK_IN,
        hospital_id,
        owner_id,
        request: body,
        idempotency_key: idempotency_key.map(str::to_owned),
        now,
    };
    let seq = match state.reception.admission.writer.enqueue(new).await {
        Ok(seq) => seq,
        // The same key raced in on another instance: answer with that ticket.
        Err(e) if e.is_constraint("admission_tickets_idempotency") => {
            let existing = admission::by_key(&state.store, owner_id, idempotency_key.unwrap_or(""))
                .await?
                .ok_or(ApiError::NotFound)?;
            return replay(state, &existing, request).await;
        }
        Err(e) => return Err(e.into()),
    };
    metrics::counter!("reception_waiting_room_enqueued_total").increment(1);
    // In the background: a slow Redis must not delay the 202 (workers also poll).
    let bus = state.bus.clone();
    tokio::spawn(async move {
        let _ = bus.wake(WAKE).await;
    });
    // The position from this instance's shared view of the line (no query per 202); exact
    // positions come with GET and the live streams.
    let line = state.reception.admission.line(state, hospital_id);
    let ticket = admission::Ticket {
        id: ticket_id,
        seq,
        operation: admission::CHECK_IN.into(),
        hospital_id,
        owner_id,
        done: false,
        outcome_status: None,
        outcome_code: None,
        outcome_ref: None,
        created_at: now,
        done_at: None,
    };
    Ok(TicketView::of(
        &ticket,
        line.loaded.then(|| line.place(seq)),
    ))
}

/// A ticket with its exact position, counted in the database.
pub async fn ticket_view(
    state: &AppState,
    ticket: &admission::Ticket,
) -> Result<TicketView, ApiError> {
    let position = if ticket.done {
        None
    } else {
        Some(admission::position(&state.store, ticket).await?)
    };
    Ok(TicketView::of(ticket, position))
}

/// Serves the waiting room until shutdown: every line with queued tickets, batch by batch,
/// in order. Any number of instances may run one; a line is served by one at a time.
pub fn spawn_worker(state: AppState) -> JoinHandle<()> {
    let mut wakeups = state.bus.wakeups(WAKE);
    tokio::spawn(async move {
        loop {
            let busy = match serve_once(&state).await {
                Ok(busy) => busy,
                Err(e) => {
                    tracing::warn!(error = %e, "serving the waiting room failed; retrying");
                    false
                }
            };
            if busy {
                continue;
            }
            // Idle: wait for a wake-up, or poll now and then in case one was missed.
            tokio::select! {
                _ = state.shutdown.cancelled() => return,
                _ = wakeups.recv() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    })
}

/// One round over the busy lines; whether anything was done.
async fn serve_once(state: &AppState) -> Result<bool, ApiError> {
    let lines = admission::busy_lines(&state.store).await?;
    let hospitals: Vec<Uuid> = lines.iter().map(|(_, h)| *h).collect();
    state.reception.admission.forget_idle(&hospitals);
    let mut any = false;
    for (operation, hospital_id) in lines {
        if operation != admission::CHECK_IN {
            continue;
        }
        let now = state.reception.clock.now();
        let served = admission::serve_check_ins(
            &state.store,
            hospital_id,
            state.reception.settings.batch.max(1),
            now,
        )
        .await
        .map_err(crate::api::reception::reception_error)?;
        if served.is_empty() {
            continue;
        }
        any = true;
        metrics::counter!("reception_waiting_room_admitted_total").increment(served.len() as u64);
        let mut departments = std::collections::BTreeSet::new();
        for s in &served {
            let waited = (now - s.created_at).num_milliseconds().max(0) as f64 / 1000.0;
            metrics::histogram!("reception_waiting_room_wait_seconds").record(waited);
            if let Ok(done) = &s.outcome {
                departments.insert(done.visit.department.clone());
            }
        }
        if let Ok(queued) = admission::queued_count(&state.store).await {
            metrics::gauge!("reception_waiting_room_queued").set(queued as f64);
        }
        // One message per line and batch, not one per ticket: watchers re-read the shared
        // line snapshot and find their own result there.
        let bus = state.bus.clone();
        tokio::spawn(async move {
            let _ = bus.publish(&ticket_line_topic(hospital_id), "served").await;
            for department in departments {
                let _ = bus
                    .publish(&super::line_topic(hospital_id, &department), "changed")
                    .await;
            }
        });
    }
    Ok(any)
}
