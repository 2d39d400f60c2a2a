//! `booking.*`: appointment booking, the rush admission queue and its peak windows.

use serde::{Deserialize, Serialize};

/// Appointment booking: group commit and the rush admission queue.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BookingSettings {
    /// When bookings go through the durable admission queue (answered `202` with a ticket):
    /// `auto` during `peak_windows` or above `rush_in_flight`, `always`, or `never`.
    pub rush: RushMode,
    /// Local (hospital time) windows `HH:MM-HH:MM` in which the queue is on in `auto` mode,
    /// judged by the time the request arrives.
    pub peak_windows: Vec<String>,
    /// In `auto` mode, bookings in progress on this instance above which new ones queue.
    pub rush_in_flight: usize,
    /// Group-commit writers; 0 (the default) means 1 on SQLite, which has a single writer
    /// connection, and 2 on PostgreSQL. Each serves the doctors of its own lane, so their
    /// batches never hold the same slot.
    pub writers: usize,
    /// E-mail the patient on every change of their appointment.
    pub notify_email: bool,
    /// Run a worker serving the rush queue on this instance (any number of instances may).
    pub serve_queue: bool,
}

impl Default for BookingSettings {
    fn default() -> Self {
        Self {
            rush: RushMode::Auto,
            peak_windows: vec!["08:00-10:00".into()],
            rush_in_flight: 2_000,
            writers: 0,
            notify_email: true,
            serve_queue: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RushMode {
    Auto,
    Always,
    Never,
}

/// A local time window `HH:MM-HH:MM` (end after start).
pub fn parse_window(text: &str) -> Result<(chrono::NaiveTime, chrono::NaiveTime), String> {
    let parse = |t: &str| {
        chrono::NaiveTime::parse_from_str(t.trim(), "%H:%M")
            .map_err(|_| format!("{t:?} is not a time like 08:00"))
    };
    let (start, end) = text
        .split_once('-')
        .ok_or_else(|| format!("{text:?} is not a window like 08:00-10:00"))?;
    let (start, end) = (parse(start)?, parse(end)?);
    if end <= start {
        return Err(format!("{text:?} ends before it starts"));
    }
    Ok((start, end))
}
