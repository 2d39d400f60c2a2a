//! Checking bearer tokens' sessions with one database read for many requests.
//!
//! A token is only as good as its session: logout, a password change, a re-used refresh token
//! or a deleted account stop it at once, not when it expires — so every request must read its
//! session *after it arrived*. One read per request was the largest cost on the booking hot
//! path, so the reads are shared ([`crate::batched_reads`]): one `IN (…)` query answers every
//! request waiting at that moment, and a revocation that committed before a request arrived is
//! always seen.

use docde_store::{Store, StoreError, accounts::sessions};
use futures::FutureExt;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::batched_reads::BatchedReads;

/// The shared session-liveness reads.
#[derive(Clone)]
pub struct SessionChecks(BatchedReads<Uuid>);

impl Default for SessionChecks {
    fn default() -> Self {
        Self(BatchedReads::new(|store, ids| {
            async move {
                let live = sessions::live_among(&store, &ids).await?;
                Ok(live.into_iter().map(|id| (id, ())).collect())
            }
            .boxed()
        }))
    }
}

impl SessionChecks {
    /// Whether the session still counts (not revoked, its user active).
    pub async fn is_live(&self, store: &Store, session_id: Uuid) -> Result<bool, StoreError> {
        self.0.contains(store, session_id).await
    }

    /// Starts the checkers; they stop at shutdown (requests still waiting then read alone).
    pub fn spawn(&self, store: Store, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
        self.0.spawn(store, shutdown)
    }
}
