//! Device credentials (HTTP Basic) read many to one query. Each request's read still starts
//! after it arrived, so a revoked device is refused at once, but under load one read serves
//! every device request waiting at that moment ([`crate::batched_reads`]).

use docde_store::accounts::devices::{self, DeviceCredential};
use docde_store::{Store, StoreError};
use futures::FutureExt;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::batched_reads::BatchedReads;

/// The shared device-credential reads.
#[derive(Clone)]
pub struct DeviceChecks(BatchedReads<Uuid, DeviceCredential>);

impl Default for DeviceChecks {
    fn default() -> Self {
        Self(BatchedReads::new(|store, ids| {
            async move { devices::credentials_among(&store, &ids).await }.boxed()
        }))
    }
}

impl DeviceChecks {
    /// The device's stored credential, if it exists.
    pub async fn credential(
        &self,
        store: &Store,
        id: Uuid,
    ) -> Result<Option<DeviceCredential>, StoreError> {
        self.0.get(store, id).await
    }

    /// Starts the checkers; they stop at shutdown (requests still waiting then read alone).
    pub fn spawn(&self, store: Store, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
        self.0.spawn(store, shutdown)
    }
}
