//! Checking bearer tokens' sessions with one database read for many requests.
//!
//! A token is only as good as its session: logout, a password change, a re-used refresh token
//! or a deleted account stop it at once, not when it expires — so every request must read its
//! session *after it arrived*. One read per request was the largest cost on the booking hot
//! path, so the reads are shared ([`crate::batched_reads`]): one `IN (…)` query answers every
//! request waiting at that moment, and a revocation that committed before a request arrived is
//! always seen. A booking for a free seat has its session confirmed by the booking writer
//! instead, in the transaction that would write it (`NewAppointment::session_id`).

use docde_store::accounts::sessions;
use futures::FutureExt;
use uuid::Uuid;

use crate::batched_reads::BatchedReads;

/// The shared session-liveness reads: a session id is *contained* while it still counts (not
/// revoked, its user active).
pub type SessionChecks = BatchedReads<Uuid>;

pub fn reads() -> SessionChecks {
    BatchedReads::new(|store, ids| {
        async move {
            let live = sessions::live_among(&store, &ids).await?;
            Ok(live.into_iter().map(|id| (id, ())).collect())
        }
        .boxed()
    })
}
