//! Shared application state handed to every handler.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use docde_bus::Bus;
use docde_store::Store;
use tokio_util::sync::CancellationToken;

use crate::auth::Auth;
use crate::booking::Booking;
use crate::config::Config;
use crate::directory_index::DirectoryIndex;

/// Cheap to clone: one reference count. Every request clones it a few times (extractors,
/// middleware), and cloning each part's own count instead was ~2 % of a refused booking.
#[derive(Clone)]
pub struct AppState(Arc<Parts>);

/// What the state holds; reached through [`AppState`]'s `Deref`.
pub struct Parts {
    pub config: Arc<Config>,
    pub store: Store,
    pub bus: Bus,
    pub auth: Auth,
    /// This instance's directory search index.
    pub directory: Arc<DirectoryIndex>,
    /// Rating summaries for search pages, read many at once and kept briefly.
    pub ratings: Arc<crate::ratings::Ratings>,
    /// Group-commit booking writer, availability view and rush policy.
    pub booking: Arc<Booking>,
    /// Ward monitoring: the sample writer and the alarm evaluator.
    pub ward: Arc<crate::ward::Ward>,
    /// Record encryption: the checked data keys.
    pub records: Arc<crate::records::Vault>,
    /// Walk-in reception: its clock, line snapshots and waiting room.
    pub reception: Arc<crate::reception::Reception>,
    /// Error reports to the webhook: the queue the request path files into.
    pub reports: Arc<crate::reports::Reporter>,
    /// The client webhooks post with (`crate::outbound`).
    pub outbound: reqwest::Client,
    /// Cancelled when the process begins to stop. Long-lived streams end when it fires.
    pub shutdown: CancellationToken,
    draining: AtomicBool,
}

impl std::ops::Deref for AppState {
    type Target = Parts;

    fn deref(&self) -> &Parts {
        &self.0
    }
}

impl AppState {
    pub fn new(
        config: Arc<Config>,
        store: Store,
        bus: Bus,
        auth: Auth,
        records: Arc<crate::records::Vault>,
        outbound: reqwest::Client,
        shutdown: CancellationToken,
    ) -> Self {
        let booking = Booking::start(&store, &config.booking);
        let ward = crate::ward::Ward::start(&store);
        let reception = crate::reception::Reception::new(&store, &config.reception);
        Self(Arc::new(Parts {
            reports: crate::reports::Reporter::new(&config),
            reception,
            booking,
            ward,
            config,
            store,
            bus,
            auth,
            records,
            directory: DirectoryIndex::new(),
            ratings: Arc::default(),
            outbound,
            shutdown,
            draining: AtomicBool::new(false),
        }))
    }

    /// Whether the instance is stopping (and so must report not-ready).
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire) || self.shutdown.is_cancelled()
    }

    pub fn set_draining(&self) {
        self.draining.store(true, Ordering::Release);
    }
}
