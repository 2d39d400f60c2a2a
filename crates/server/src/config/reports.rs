//! `reports.*` and `outbound.*`: error reports to a webhook, and outgoing HTTP.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Error reports to an incoming webhook (`crate::reports`, docs/OPERATIONS.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportSettings {
    /// Mattermost/Slack-compatible incoming webhook, `https://` (certificate checked, see
    /// `outbound.ca_file`) or `http://`. Unset: no reports.
    pub webhook_url: Option<String>,
    /// How this instance names itself in reports. Unset: `<host name>:<HTTP port>`.
    pub instance: Option<String>,
    /// The same error within this window is counted, not re-sent; a summary follows.
    pub dedup_window_ms: u64,
    /// Most posts per minute (token bucket, bursts of as many).
    pub per_minute: u32,
    /// Reports waiting to be posted; when full, the oldest is dropped.
    pub queue: usize,
    /// Attempts per report, with doubling backoff from `retry_base_ms`.
    pub attempts: u32,
    pub retry_base_ms: u64,
    /// Timeout of one post.
    pub timeout_ms: u64,
}

impl Default for ReportSettings {
    fn default() -> Self {
        Self {
            webhook_url: None,
            instance: None,
            dedup_window_ms: 600_000,
            per_minute: 20,
            queue: 64,
            attempts: 5,
            retry_base_ms: 1_000,
            timeout_ms: 5_000,
        }
    }
}

/// Outgoing HTTP (the error-report and ward-escalation webhooks).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboundSettings {
    /// A PEM file of certificate authorities to trust for outgoing `https://` besides the
    /// system's (a hospital's internal CA that signed its Mattermost server, say).
    pub ca_file: Option<PathBuf>,
}
