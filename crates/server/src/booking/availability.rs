//! The availability view: per doctor, the checked schedule and the seats taken per slot, kept
//! in memory so "which slots are free" costs no query and a booking for a slot known to be full
//! is refused without touching the database.
//!
//! The view follows the database, never leads it: local bookings and cancellations update it
//! after their commit, other instances' changes arrive as notices on the bus, and each doctor's
//! entry is reloaded from the database after [`FRESH_FOR`] anyway, so a lost notice costs at
//! most that long of a stale "full". A stale view can only refuse early (the database still
//! decides every booking it lets through), so it can never cause an overbooking.

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

/// How long a loaded entry is trusted without reloading.
pub const FRESH_FOR: Duration = Duration::from_secs(5);

/// The bus topic carrying seat changes between instances.
pub const TOPIC: &str = "booking:seats";

/// A seat change, as published on [`TOPIC`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeatNotice {
    pub origin: Uuid,
    pub doctor_id: Uuid,
    /// `Some`: the slot starting then now has this many seats taken. `None`: reload the doctor.
    pub slot: Option<(i64, u16)>,
}

/// One doctor as the view knows them.
pub struct DoctorView {
    pub doctor: schedules::BookableDoctor,
    /// `None` if the doctor has no schedule yet (nothing bookable).
    pub schedule: Option<Arc<Schedule>>,
    pub schedule_version: i64,
    taken: Mutex<HashMap<i64, u16>>,
    loaded_at: Instant,
}

impl DoctorView {
    /// Seats taken in the slot starting at `start` (Unix seconds).
    pub fn taken(&self, start: i64) -> u16 {
        let taken = self.taken.lock().unwrap_or_else(|e| e.into_inner());
        taken.get(&start).copied().unwrap_or(0)
    }

    fn set_taken(&self, start: i64, value: u16) {
        let mut taken = self.taken.lock().unwrap_or_else(|e| e.into_inner());
        taken.insert(start, value);
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
    doctors: Mutex<HashMap<Uuid, Arc<DoctorView>>>,
}

impl Default for Availability {
    fn default() -> Self {
        Self::new()
    }
}

impl Availability {
    pub fn new() -> Self {
        Self {
            instance: Uuid::now_v7(),
            doctors: Mutex::new(HashMap::new()),
        }
    }

    /// The doctor's view, loading it if absent or stale; `None` if there is no such doctor.
    pub async fn doctor(
        &self,
        store: &Store,
        doctor_id: Uuid,
    ) -> anyhow::Result<Option<Arc<DoctorView>>> {
        if let Some(view) = self.cached(doctor_id) {
            return Ok(Some(view));
        }
        let Some(view) = load(store, doctor_id).await? else {
            self.forget(doctor_id);
            return Ok(None);
        };
        let view = Arc::new(view);
        let mut doctors = self.doctors.lock().unwrap_or_else(|e| e.into_inner());
        doctors.insert(doctor_id, view.clone());
        Ok(Some(view))
    }

    fn cached(&self, doctor_id: Uuid) -> Option<Arc<DoctorView>> {
        let doctors = self.doctors.lock().unwrap_or_else(|e| e.into_inner());
        doctors
            .get(&doctor_id)
            .filter(|v| v.loaded_at.elapsed() < FRESH_FOR)
            .cloned()
    }

    /// Records a slot's seat count after a commit.
    pub fn note(&self, doctor_id: Uuid, start: i64, taken: u16) {
        if let Some(view) = self
            .doctors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&doctor_id)
        {
            view.set_taken(start, taken);
        }
    }

    /// Drops what the view knows of a doctor; the next read reloads it.
    pub fn forget(&self, doctor_id: Uuid) {
        self.doctors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&doctor_id);
    }

    /// Drops everything (after missed notices).
    pub fn forget_all(&self) {
        self.doctors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Applies another instance's notice.
    pub fn apply(&self, notice: &SeatNotice) {
        if notice.origin == self.instance {
            return;
        }
        match notice.slot {
            Some((start, taken)) => self.note(notice.doctor_id, start, taken),
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
    let taken = seats::taken(
        store,
        doctor_id,
        now - 86_400,
        now + (horizon_days + 2) * 86_400,
    )
    .await?
    .into_iter()
    .map(|s| (s.starts_at, s.taken))
    .collect();
    Ok(Some(DoctorView {
        doctor,
        schedule,
        schedule_version: version,
        taken: Mutex::new(taken),
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
