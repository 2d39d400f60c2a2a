//! `ward.*` and `medication.*`: ward monitoring's background work and the medicine round.

use serde::{Deserialize, Serialize};

/// Ward monitoring's background work (branch `ward`). Alarm limits themselves are per ward
/// and patient in the database (`PUT /api/v1/wards/{id}/thresholds`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WardSettings {
    /// Run the technical-alarm check (silent device, sensor off) on this instance; any
    /// number of instances may.
    pub technical_worker: bool,
    /// How often it runs (ms).
    pub technical_every_ms: u64,
    /// Run the retention sweep (`crate::ward::retention`) on this instance; any number may.
    pub retention_worker: bool,
    /// How often it runs (s).
    pub retention_every_secs: u64,
    /// Raw vital samples older than this many days are deleted.
    pub raw_retention_days: u32,
    /// Ward stream events older than this many days are deleted (at least 1: a reconnecting
    /// nurse station must be able to replay the last 24 h).
    pub event_retention_days: u32,
    /// Escalation webhook (Mattermost/Slack-compatible incoming webhook, `http://` or
    /// `https://`) for wards that set none of their own. Unset: only wards with their own URL
    /// post escalations. A secret: shown redacted, never logged.
    pub escalation_webhook_url: Option<String>,
    /// Run the escalation webhook delivery worker on this instance; any number may.
    pub webhook_worker: bool,
    /// Timeout of one post (ms).
    pub webhook_timeout_ms: u64,
    /// Wait after the first failed post (ms), doubled after each further one …
    pub webhook_retry_base_ms: u64,
    /// … up to this (ms).
    pub webhook_retry_cap_ms: u64,
    /// Posts of one escalation before it is given up (`failed`).
    pub webhook_max_attempts: u32,
    /// An escalation not delivered within this many seconds is given up (`failed`): a page
    /// about a bed that arrives an hour late helps nobody.
    pub webhook_give_up_secs: u64,
    /// Run the rollup worker (`crate::ward::rollup`) on this instance; any number may. Raw
    /// samples are only swept once their minute is rolled up, so at least one should.
    pub rollup_worker: bool,
    /// How often it runs (s).
    pub rollup_every_secs: u64,
    /// 1-minute rollups older than this many days are deleted (at least the raw retention:
    /// the rollups are what the history reads once the raw samples are gone).
    pub rollup_retention_days: u32,
}

impl Default for WardSettings {
    fn default() -> Self {
        Self {
            technical_worker: true,
            technical_every_ms: 5_000,
            retention_worker: true,
            retention_every_secs: 3_600,
            raw_retention_days: 7,
            event_retention_days: 30,
            escalation_webhook_url: None,
            webhook_worker: true,
            webhook_timeout_ms: 5_000,
            webhook_retry_base_ms: 2_000,
            webhook_retry_cap_ms: 120_000,
            webhook_max_attempts: 20,
            webhook_give_up_secs: 3_600,
            rollup_worker: true,
            rollup_every_secs: 30,
            rollup_retention_days: 365,
        }
    }
}

/// The medicine round: delivered medicines go back to `to_do` at these local times of day
/// (each hospital's time zone).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MedicationSettings {
    /// `HH:MM` local times, e.g. `["06:00", "12:00", "18:00"]`.
    pub reset_times: Vec<String>,
    /// Run the reset worker on this instance (any number of instances may).
    pub reset_worker: bool,
}

impl Default for MedicationSettings {
    fn default() -> Self {
        Self {
            reset_times: vec!["06:00".into(), "12:00".into(), "18:00".into()],
            reset_worker: true,
        }
    }
}

impl MedicationSettings {
    /// The reset times, parsed (validated at load).
    pub fn times(&self) -> Vec<chrono::NaiveTime> {
        self.reset_times
            .iter()
            .filter_map(|t| chrono::NaiveTime::parse_from_str(t.trim(), "%H:%M").ok())
            .collect()
    }
}
