//! The availability view: per doctor, the checked schedule and the seats taken per slot, kept
//! in memory so "which slots are free" costs no query and a booking for a slot known to be full
//! is refused without touching the database.
//!
//! The view follows the database, never leads it: local bookings and cancellations update it
//! after their commit, other instances' changes arrive as notices on the bus, and each doctor's
//! entry is reloaded from the database after [`FRESH_FOR`] anyway (on SQLite, where no notice
//! can be lost, after [`FRESH_FOR_SOLE_WRITER`]), so a lost notice costs at most that long of
//! a stale "full". A change that overtakes a load (its notice arrives while the database read
//! is out, finding no entry to update) is replayed onto the load before it is kept: seat
//! counts only grow between loads, so noting one twice is harmless. A freed seat or a schedule
//! change during a load voids it instead, so the next request reads again.
//! A stale view can only refuse early (the database still decides every booking it lets
//! through), so it can never cause an overbooking.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use docde_domain::directory::HolidayCalendar;
use docde_domain::schedule::{Schedule, Slot};
use docde_store::Store;
use docde_store::booking::{schedules, seats};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::document::{ScheduleDoc, zone};

/// How long a loaded entry is trusted without reloading where other processes change seats
/// too (PostgreSQL): their notices come over the bus, which may lose some (Redis drops what
/// is published while a subscriber reconnects).
pub const FRESH_FOR: Duration = Duration::from_secs(5);

/// The same on SQLite, whose one process makes every change and notes it (a lagging
/// subscriber forgets every entry): the reload is only a backstop there. Each reload reads
/// all the doctor's seats and holders, hundreds of rows a doctor once a rush has filled the
/// book, and at every 5 s those reloads took up to half a core away from the bookings
/// (BENCHMARKS.md, session 22).
pub const FRESH_FOR_SOLE_WRITER: Duration = Duration::from_secs(30);

/// The bus topic carrying seat changes between instances.
pub const TOPIC: &str = "booking:seats";

/// A seat change, as published on [`TOPIC`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeatNotice {
    pub origin: Uuid,
    pub doctor_id: Uuid,
    /// `Some`: the slot starting then now has this many seats taken. `None`: reload the doctor.
    pub slot: Option<(i64, u16)>,
    /// The patient whose booking took that seat (absent from older instances' notices).
    #[serde(default)]
    pub patient: Option<Uuid>,
}

/// What the view knows of one slot.
#[derive(Debug, Clone, Default)]
struct SlotSeats {
    taken: u16,
    /// Patients holding a seat, as far as this view has heard. When there are as many as
    /// `taken`, the view has heard of every seat's holder.
    holders: Vec<Uuid>,
    /// Patients whose appointment here no longer holds a seat (cancelled, moved, …), as of
    /// the last load: a retry of their first request must still reach its first answer.
    former: Vec<Uuid>,
}

/// One doctor as the view knows them.
pub struct DoctorView {
    pub doctor: schedules::BookableDoctor,
    /// `None` if the doctor has no schedule yet (nothing bookable).
    pub schedule: Option<Arc<Schedule>>,
    pub schedule_version: i64,
    slots: Mutex<HashMap<i64, SlotSeats>>,
    loaded_at: Instant,
}

impl DoctorView {
    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<i64, SlotSeats>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Seats taken in the slot starting at `start` (Unix seconds).
    pub fn taken(&self, start: i64) -> u16 {
        self.slots().get(&start).map_or(0, |s| s.taken)
    }

    /// Whether `patient` has, or had, an appointment in the slot starting at `start`:
    /// `Some(false)` only when the view has heard who holds every taken seat, so the answer
    /// is as good as the database's. `None`: the view cannot tell; ask the database.
    ///
    /// A request for a full slot from a patient who never had an appointment there cannot be
    /// a retry of a booking that succeeded, so it can be refused without reading its
    /// idempotency key.
    pub fn ever_held_by(&self, start: i64, patient: Uuid) -> Option<bool> {
        let slots = self.slots();
        let Some(slot) = slots.get(&start) else {
            return Some(false);
        };
        if slot.holders.contains(&patient) || slot.former.contains(&patient) {
            Some(true)
        } else if slot.holders.len() == usize::from(slot.taken) {
            Some(false)
        } else {
            None
        }
    }

    /// A seat count heard after a commit, with the patient who took the seat if known.
    /// Between loads a slot only fills (a freed seat makes the doctor reload), so a count
    /// lower than the one known is an older notice arriving late and does not lower it.
    fn note_taken(&self, start: i64, taken: u16, patient: Option<Uuid>) {
        let mut slots = self.slots();
        let slot = slots.entry(start).or_default();
        slot.taken = slot.taken.max(taken);
        if let Some(patient) = patient
            && !slot.holders.contains(&patient)
        {
            slot.holders.push(patient);
        }
    }

    /// The schedule's slot at `start`, if there is one.
    pub fn slot_at(&self, start: DateTime<Utc>, holidays: &HolidayCalendar) -> Option<Slot> {
        self.schedule.as_ref()?.slot_at(start, holidays)
    }
}

/// Every doctor's view on this instance.
pub struct Availability {
    /// Identifies this instance's notices, so it does not apply its own twice.
    pub instance: Uuid,
    known: Mutex<Known>,
    /// How long an entry is trusted without reloading.
    fresh_for: Duration,
}

#[derive(Default)]
struct Known {
    doctors: HashMap<Uuid, Arc<DoctorView>>,
    /// Counts every change noted, applied or forgotten on this instance.
    changes: u64,
    /// Doctors with a load out, and what changed of them meanwhile. A load may have read the
    /// database before such a change, whose notice found no entry to update; kept as read, it
    /// would hide the change until [`FRESH_FOR`] ran out.
    loading: HashMap<Uuid, Loading>,
    /// The count when everything was last forgotten.
    all_changed_at: u64,
}

/// One doctor's loads in flight and the changes noted while they were out.
#[derive(Default)]
struct Loading {
    /// Requests loading the doctor or waiting to.
    loads: usize,
    /// One load at a time per doctor: the requests that arrive meanwhile wait for it and use
    /// what it kept, instead of each reading the same rows (under a stream of bookings, a
    /// doctor whose entry expired drew hundreds of identical loads at once).
    gate: Arc<tokio::sync::Mutex<()>>,
    /// The count at the doctor's last forget (a freed seat, a schedule change): a load that
    /// began before it is not kept.
    forgotten_at: u64,
    /// Seat counts noted, each with the count it was noted at. They only ever fill a slot
    /// (see [`DoctorView::note_taken`]), so a load that began before some of them is brought
    /// up to date by noting them again, whether or not it read them: under a steady stream of
    /// bookings a load is overtaken almost always, and throwing it away made every request
    /// load again.
    notes: Vec<(u64, Note)>,
    /// Notes past [`MAX_NOTES`] are dropped; a load that began before the last dropped one
    /// is not kept.
    dropped_through: u64,
}

/// A seat count noted after a commit (see [`Availability::note`]).
#[derive(Debug, Clone, Copy)]
struct Note {
    start: i64,
    taken: u16,
    patient: Option<Uuid>,
}

/// Notes kept per doctor while a load is out.
const MAX_NOTES: usize = 4096;

/// Ends a load's bookkeeping when the load ends, even if its request was dropped midway.
struct LoadGuard<'a> {
    views: &'a Availability,
    doctor_id: Uuid,
}

impl Drop for LoadGuard<'_> {
    fn drop(&mut self) {
        let mut known = self.views.known();
        if let Some(loading) = known.loading.get_mut(&self.doctor_id) {
            loading.loads -= 1;
            if loading.loads == 0 {
                known.loading.remove(&self.doctor_id);
            }
        }
    }
}

impl Default for Availability {
    fn default() -> Self {
        Self::new()
    }
}

impl Availability {
    /// Entries trusted for [`FRESH_FOR`].
    pub fn new() -> Self {
        Self::fresh_for(FRESH_FOR)
    }

    /// Entries trusted for `fresh_for`: from 70 to 95 % of it on (fixed per doctor, see
    /// [`Self::refresh_after`]), the first request to read an entry reloads it while every
    /// other request keeps using it until the reload is kept.
    pub fn fresh_for(fresh_for: Duration) -> Self {
        Self {
            instance: Uuid::now_v7(),
            known: Mutex::new(Known::default()),
            fresh_for,
        }
    }

    /// When `doctor_id`'s entry is reloaded: between 70 and 95 % of its freshness, fixed per
    /// doctor (from the id's random bits). The doctors loaded at the start of a rush reloaded
    /// in the same instant every few seconds, and bookings fell by a third in that second:
    /// each load reads all the doctor's seats and holders, by then hundreds of rows. Waiting
    /// until the entry went stale made every request for the doctor wait for the load.
    fn refresh_after(&self, doctor_id: Uuid) -> Duration {
        let latest = self.fresh_for * 19 / 20;
        let spread_ms = (self.fresh_for.as_millis() / 4).max(1);
        let offset = u64::try_from(doctor_id.as_u128() % spread_ms).unwrap_or(0);
        latest.saturating_sub(Duration::from_millis(offset))
    }

    fn known(&self) -> std::sync::MutexGuard<'_, Known> {
        self.known.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The doctor's view, loading it if absent or stale; `None` if there is no such doctor.
    pub async fn doctor(
        &self,
        store: &Store,
        doctor_id: Uuid,
    ) -> anyhow::Result<Option<Arc<DoctorView>>> {
        self.doctor_loaded_by(doctor_id, load(store, doctor_id))
            .await
    }

    /// [`Self::doctor`] with the database read given as `load`, which runs only if needed.
    async fn doctor_loaded_by(
        &self,
        doctor_id: Uuid,
        load: impl Future<Output = anyhow::Result<Option<DoctorView>>>,
    ) -> anyhow::Result<Option<Arc<DoctorView>>> {
        let fresh = |known: &Known| {
            known
                .doctors
                .get(&doctor_id)
                .filter(|v| v.loaded_at.elapsed() < self.fresh_for)
                .cloned()
        };
        let (gate, _guard) = {
            let mut known = self.known();
            if let Some(view) = fresh(&known) {
                // Past its refresh age this request reloads it, unless a load is out already.
                if view.loaded_at.elapsed() < self.refresh_after(doctor_id)
                    || known.loading.contains_key(&doctor_id)
                {
                    return Ok(Some(view));
                }
            }
            let loading = known.loading.entry(doctor_id).or_default();
            loading.loads += 1;
            let guard = LoadGuard {
                views: self,
                doctor_id,
            };
            (loading.gate.clone(), guard)
        };
        let _turn = gate.lock().await;
        let began = {
            let known = self.known();
            // The load this request waited for was kept: use it.
            let loaded = known.doctors.get(&doctor_id);
            let recent =
                |v: &&Arc<DoctorView>| v.loaded_at.elapsed() < self.refresh_after(doctor_id);
            if let Some(view) = loaded.filter(recent) {
                return Ok(Some(view.clone()));
            }
            known.changes
        };
        let Some(view) = load.await? else {
            self.forget(doctor_id);
            return Ok(None);
        };
        let view = Arc::new(view);
        self.keep(doctor_id, &view, began);
        Ok(Some(view))
    }

    /// Brings a view whose load began when the change count was `began` up to date with the
    /// seats noted since, and keeps it — unless the doctor was forgotten since, or too much
    /// changed to replay: then this request uses it, and the next one loads again.
    fn keep(&self, doctor_id: Uuid, view: &Arc<DoctorView>, began: u64) {
        let mut known = self.known();
        let mut keep = known.all_changed_at <= began;
        if let Some(loading) = known.loading.get(&doctor_id) {
            keep &= loading.forgotten_at <= began && loading.dropped_through <= began;
            for (_, note) in loading.notes.iter().filter(|(at, _)| *at > began) {
                view.note_taken(note.start, note.taken, note.patient);
            }
        }
        if keep {
            known.doctors.insert(doctor_id, view.clone());
        }
    }

    /// Records a slot's seat count after a commit: `patient` took a seat, or (`None`) the
    /// database refused a booking because the slot was full.
    pub fn note(&self, doctor_id: Uuid, start: i64, taken: u16, patient: Option<Uuid>) {
        let mut known = self.known();
        known.changes += 1;
        let at = known.changes;
        if let Some(loading) = known.loading.get_mut(&doctor_id) {
            if loading.notes.len() == MAX_NOTES {
                loading.dropped_through = loading.notes.remove(0).0;
            }
            let note = Note {
                start,
                taken,
                patient,
            };
            loading.notes.push((at, note));
        }
        if let Some(view) = known.doctors.get(&doctor_id) {
            view.note_taken(start, taken, patient);
        }
    }

    /// Drops what the view knows of a doctor; the next read reloads it.
    pub fn forget(&self, doctor_id: Uuid) {
        let mut known = self.known();
        known.changes += 1;
        let at = known.changes;
        if let Some(loading) = known.loading.get_mut(&doctor_id) {
            loading.forgotten_at = at;
            loading.notes.clear();
        }
        known.doctors.remove(&doctor_id);
    }

    /// Drops everything (after missed notices).
    pub fn forget_all(&self) {
        let mut known = self.known();
        known.changes += 1;
        known.all_changed_at = known.changes;
        // Every load out began before this, so none is kept: their notes say nothing more.
        for loading in known.loading.values_mut() {
            loading.notes.clear();
        }
        known.doctors.clear();
    }

    /// Applies another instance's notice.
    pub fn apply(&self, notice: &SeatNotice) {
        if notice.origin == self.instance {
            return;
        }
        match notice.slot {
            Some((start, taken)) => self.note(notice.doctor_id, start, taken, notice.patient),
            None => self.forget(notice.doctor_id),
        }
    }
}

async fn load(store: &Store, doctor_id: Uuid) -> anyhow::Result<Option<DoctorView>> {
    let Some(doctor) = schedules::bookable_doctor(store, doctor_id).await? else {
        return Ok(None);
    };
    let stored = schedules::get(store, doctor_id).await?;
    let tz = zone(&doctor.time_zone);
    let (schedule, version) = match stored {
        Some(s) => {
            let doc: ScheduleDoc = serde_json::from_str(&s.definition)?;
            let schedule = doc.to_schedule(tz).map_err(|p| {
                anyhow::anyhow!("stored schedule invalid at {}: {}", p.field, p.code)
            })?;
            (Some(Arc::new(schedule)), s.version)
        }
        None => (None, 0),
    };
    // Seats from yesterday to the end of the horizon: all a booking or a listing can ask for.
    let now = Utc::now().timestamp();
    let horizon_days = schedule
        .as_ref()
        .map(|s| i64::from(s.policy().horizon_days))
        .unwrap_or(1);
    let (from, to) = (now - 86_400, now + (horizon_days + 2) * 86_400);
    let mut slots: HashMap<i64, SlotSeats> = HashMap::new();
    for seats in seats::taken(store, doctor_id, from, to).await? {
        slots.entry(seats.starts_at).or_default().taken = seats.taken;
    }
    // Read after the counts: a booking committed in between shows as one holder more than
    // the count, which leaves that slot's holders unvouched (see `ever_held_by`) until the
    // next load, never wrongly vouched.
    for holder in seats::holders(store, doctor_id, from, to).await? {
        let slot = slots.entry(holder.starts_at).or_default();
        if holder.active {
            slot.holders.push(holder.patient_id);
        } else {
            slot.former.push(holder.patient_id);
        }
    }
    Ok(Some(DoctorView {
        doctor,
        schedule,
        schedule_version: version,
        slots: Mutex::new(slots),
        loaded_at: Instant::now(),
    }))
}

/// Applies other instances' seat notices to this instance's view until shutdown.
pub fn spawn(state: crate::state::AppState) -> tokio::task::JoinHandle<()> {
    let mut notices = state.bus.subscribe(TOPIC);
    tokio::spawn(async move {
        loop {
            let message = tokio::select! {
                _ = state.shutdown.cancelled() => return,
                m = notices.recv() => m,
            };
            match message {
                Some(docde_bus::Message::Data(bytes)) => {
                    if let Ok(notice) = serde_json::from_slice::<SeatNotice>(&bytes) {
                        state.booking.views.apply(&notice);
                    }
                }
                // Missed notices: forget everything; each doctor reloads on next use.
                Some(docde_bus::Message::Lagged(_)) => state.booking.views.forget_all(),
                None => return,
            }
        }
    })
}

#[cfg(test)]
mod tests;
