//! What every transport shares, below all of them: the [`AppState`] built once at
//! start-up. Transports (`gateway`, `grpc`) import this module, never `server` or each
//! other; the limits they share are in `crate::limits`.

use std::sync::Arc;

use crate::auth::Auth;
use crate::config::Config;
use crate::core::Core;
use crate::metrics::Metrics;
use crate::presence::Presence;

/// Everything a request handler may need, built once at start-up and passed in.
#[derive(Clone)]
pub struct AppState {
    pub core: Arc<Core>,
    pub auth: Auth,
    /// WebSocket rooms and who is in them.
    pub presence: Arc<Presence>,
    pub config: Arc<Config>,
    /// This server's metrics (`GET /metrics`); core, the store and presence hold it too.
    pub metrics: Arc<Metrics>,
}
