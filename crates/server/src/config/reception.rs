//! `reception.*`: walk-in reception and its waiting room.

use serde::{Deserialize, Serialize};

/// Walk-in reception and its waiting room.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReceptionSettings {
    /// Calls without the patient coming after which a called visit becomes a no-show.
    pub max_calls: u32,
    /// Check-ins of one hospital in progress on this instance above which new ones go to the
    /// waiting room (`202` with a ticket). 0 sends every check-in through the waiting room.
    pub capacity: usize,
    /// Run a worker serving the waiting room on this instance (any number of instances may).
    pub serve_waiting_room: bool,
    /// Tickets done per transaction by the waiting-room worker.
    pub batch: u32,
    /// Waiting numbers the lobby board shows after the ones being served.
    pub board_next: usize,
}

impl Default for ReceptionSettings {
    fn default() -> Self {
        Self {
            max_calls: 3,
            capacity: 64,
            serve_waiting_room: true,
            batch: 256,
            board_next: 5,
        }
    }
}
