//! `http.*`: request limits and timeouts of the HTTP server, and how it shuts down.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    /// Largest request body accepted; larger ones get 413.
    pub body_limit_bytes: usize,
    /// A request whose response has not started within this gets 503 `timeout`.
    pub request_timeout_ms: u64,
    /// On SIGTERM/SIGINT: how long in-flight requests may take to finish before the process
    /// closes what is left and exits.
    pub shutdown_grace_ms: u64,
    /// On SIGTERM: how long the instance keeps serving while `/readyz` answers 503, so a
    /// balancer's health check takes it out of rotation before it stops accepting. Set it to
    /// at least the balancer's check interval × its failure threshold. SIGINT (Ctrl+C) and a
    /// second signal skip it.
    pub drain_delay_ms: u64,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            body_limit_bytes: 1024 * 1024,
            request_timeout_ms: 15_000,
            shutdown_grace_ms: 10_000,
            drain_delay_ms: 5_000,
        }
    }
}
