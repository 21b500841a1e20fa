//! The board rules, and the only place they live. Every transport turns its input into
//! one of these calls and frames the result; nothing here knows about HTTP or gRPC.
//!
//! Layout, by subject:
//! - [`access`]: who may see and change a board, a list or a task (roles; a
//!   non-member gets the 404 of a missing board);
//! - `mutation`: the one pipeline every change goes through (request key,
//!   transaction, replay, event, commit, publish);
//! - `tasks`: the task mutations, each its rule alone; `lists`, `board_admin`
//!   (create, rename, archive, delete a board) and `members`: the same for those;
//! - `boards`: reads; `live`: streams and polls; [`stream`]: the subscription cursor;
//!   `feed`: other instances' events, from the log into the bus;
//! - `labels`: a board's labels (editors and owners); `activity`: the log told as
//!   sentences, for any member;
//! - `validate` (checked input types), `ordering` (dense positions), `idempotency`
//!   (request ids), `limiter` (open streams per user), `rates` (how fast a user or
//!   an address may change boards and open streams), [`retention`] (what is kept,
//!   and the sweeper that removes the rest), [`origins`] (the cross-origin allow-list), [`seed`],
//!   [`error`];
//! - [`lifecycle`]: the server's phases (serving, draining, ending) and readiness.

pub mod access;
pub mod accounts;
mod activity;
mod board_admin;
mod boards;
pub mod csrf;
pub mod error;
mod feed;
mod idempotency;
mod labels;
pub mod lifecycle;
mod limiter;
mod lists;
mod live;
mod members;
pub mod mutation;
mod ordering;
pub mod origins;
mod rates;
pub mod retention;
pub mod revocation;
pub mod secrets;
pub mod seed;
mod sequencer;
pub mod stream;
mod tasks;
mod validate;

use std::sync::Arc;

pub use access::{Actor, GUEST_ID};
pub use error::{Error, Result};
pub use live::{MAX_BOARDS_PER_STREAM, MAX_EVENTS_PER_ANSWER, MAX_POLL_WAIT};
pub use rates::RateLimits;
pub use retention::Retention;
pub use stream::{BATCH, Resume, StreamItem, Subscription};
// The clock and timestamp conversions are a leaf (the store uses them too); core's
// callers keep reaching them as `core::time`.
pub use crate::time;

use crate::bus::Bus;
use crate::metrics::Metrics;
use crate::store::Store;
use crate::store::cluster::Cluster;

pub struct Core {
    store: Arc<dyn Store>,
    bus: Arc<Bus>,
    /// Publishes each board's local commits in seq order.
    sequencer: Arc<sequencer::Sequencer>,
    /// The other instances on this database (told of each commit); `None` alone.
    cluster: Option<Arc<dyn Cluster>>,
    /// Brings the other instances' events into the bus; ends with the core.
    _feed: Option<feed::FeedTask>,
    streams: limiter::StreamLimiter,
    /// How fast each user and address may change boards and open streams.
    rates: rates::Rates,
    /// The password hash an unknown username is checked against (`accounts`).
    dummy_hash: tokio::sync::OnceCell<String>,
    /// The open streams of each credential, ended when it is revoked.
    revocations: revocation::Revocations,
    /// Serving or shutting down, and the work a drain waits for.
    lifecycle: lifecycle::Lifecycle,
    /// How long request ids and the log are kept.
    retention: Retention,
    /// Expires request ids and compacts logs; `None` until [`Core::with_retention`].
    _sweeper: Option<retention::SweeperTask>,
    /// The server's metrics: what core, its streams and its feed count.
    metrics: Arc<Metrics>,
}

impl Core {
    /// `max_streams_per_user` caps the streams (SSE, gRPC Subscribe, WebSocket) one user
    /// holds open at once.
    /// With a cluster (the store's), it starts the feed on the current runtime.
    pub fn new(store: Arc<dyn Store>, bus: Arc<Bus>, max_streams_per_user: usize, metrics: Arc<Metrics>) -> Self {
        let cluster = store.cluster();
        Self::with_cluster(store, bus, max_streams_per_user, cluster, metrics)
    }

    /// Like [`Core::new`] with `cluster` rather than the store's: for tests of several
    /// instances over a store that has none of its own.
    pub fn with_cluster(
        store: Arc<dyn Store>,
        bus: Arc<Bus>,
        max_streams_per_user: usize,
        cluster: Option<Arc<dyn Cluster>>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let feed = cluster
            .as_ref()
            .and_then(|c| c.hints())
            .map(|hints| feed::spawn(store.clone(), bus.clone(), hints, feed::SWEEP, metrics.clone()));
        Core {
            store,
            sequencer: Arc::new(sequencer::Sequencer::new(bus.clone())),
            bus,
            cluster,
            _feed: feed,
            streams: limiter::StreamLimiter::new(max_streams_per_user),
            rates: rates::Rates::new(RateLimits::default()),
            dummy_hash: tokio::sync::OnceCell::new(),
            revocations: revocation::Revocations::default(),
            lifecycle: lifecycle::Lifecycle::default(),
            retention: Retention::default(),
            _sweeper: None,
            metrics,
        }
    }

    /// Applies `policy` (the idempotency window at once) and starts its sweeper on
    /// the current runtime; it ends with the core.
    #[must_use]
    pub fn with_retention(self, policy: Retention) -> Self {
        Core {
            _sweeper: Some(retention::spawn(self.store.clone(), policy.clone())),
            retention: policy,
            ..self
        }
    }

    /// The same core with these rate limits (none by default).
    #[must_use]
    pub fn with_rates(mut self, limits: RateLimits) -> Self {
        self.rates = rates::Rates::new(limits);
        self
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// A watch that turns true when the credential the actor authenticated with is
    /// revoked; `None` for the guest. Streams select on it (`revocation::revoked`).
    pub fn revocation(&self, actor: &Actor) -> Option<tokio::sync::watch::Receiver<bool>> {
        actor.credential_id.as_deref().map(|id| self.revocations.watch(id))
    }

    /// How many open streams (SSE, WebSocket, gRPC, long polls) were opened with a
    /// credential.
    pub fn streams_of_credential(&self, credential_id: &str) -> usize {
        self.revocations.watching(credential_id)
    }
}
