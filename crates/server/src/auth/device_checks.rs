//! Device credentials (HTTP Basic) read many to one query. Each request's read still starts
//! after it arrived, so a revoked device is refused at once, but under load one read serves
//! every device request waiting at that moment ([`crate::batched_reads`]).

use docde_store::accounts::devices::{self, DeviceCredential};
use futures::FutureExt;
use uuid::Uuid;

use crate::batched_reads::BatchedReads;

/// The shared device-credential reads: a device id gets its stored credential, if it exists.
pub type DeviceChecks = BatchedReads<Uuid, DeviceCredential>;

pub fn reads() -> DeviceChecks {
    BatchedReads::new(|store, ids| {
        async move { devices::credentials_among(&store, &ids).await }.boxed()
    })
}
