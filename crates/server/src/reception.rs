//! Walk-in reception as the server runs it: the clock its days are judged by, the hospital
//! facts a check-in needs (cached briefly), the shared per-department line snapshots every
//! live view derives its position from, and the waiting room that absorbs check-in spikes.
//!
//! The database decides numbers, order and who is called (docde-store's reception module).
//! Everything here only sheds load or tells people.

pub mod clock;
pub mod hospital;
pub mod lines;
pub mod views;
pub mod waiting_room;

use std::sync::Arc;

use crate::config::ReceptionSettings;

/// This instance's reception machinery; one per process, shared through `AppState`.
pub struct Reception {
    pub clock: clock::Clock,
    pub hospitals: hospital::HospitalCache,
    pub lines: lines::Lines,
    pub admission: waiting_room::Admission,
    pub settings: ReceptionSettings,
}

impl Reception {
    /// Starts the waiting room's ticket writer. Must run inside the Tokio runtime.
    pub fn new(store: &docde_store::Store, settings: &ReceptionSettings) -> Arc<Self> {
        Arc::new(Self {
            clock: clock::Clock::default(),
            hospitals: hospital::HospitalCache::default(),
            lines: lines::Lines::default(),
            admission: waiting_room::Admission::new(store, settings.capacity),
            settings: settings.clone(),
        })
    }
}

/// The bus topic a department's line changes are announced on (a wake-up: the event log in
/// the database says what changed).
pub fn line_topic(hospital_id: uuid::Uuid, department: &str) -> String {
    format!("reception:{hospital_id}:{department}")
}
