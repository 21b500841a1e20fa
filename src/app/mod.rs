//! What every transport shares, below all of them: the [`AppState`] built once at
//! start-up. Transports (`gateway`, `grpc`) import this module, never `server` or each
//! other; the limits they share are in `crate::limits`.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use crate::auth::Auth;
use crate::config::Config;
use crate::core::Core;
use crate::core::origins::Origins;
use crate::delivery::Delivery;
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
    /// `--allowed-origins`, read once: CORS, and which other sites' pages may make
    /// cookie-signed changes.
    pub origins: Origins,
    /// The runtime open streams write on (`crate::delivery` says why).
    pub delivery: Arc<Delivery>,
}

impl AppState {
    /// The client's address: the TCP peer the accept loop recorded, or, with
    /// `--trust-proxy`, the last address of `X-Forwarded-For` (the one the proxy in
    /// front appended; earlier entries are the client's own word). Every limit that
    /// counts per address (sign-in attempts, changes, stream opens) uses this.
    pub fn client_ip(&self, peer: Option<SocketAddr>, forwarded_for: Option<&str>) -> Option<IpAddr> {
        if self.config.trust_proxy
            && let Some(ip) = forwarded_for
                .and_then(|v| v.rsplit(',').next())
                .and_then(|last| last.trim().parse().ok())
        {
            return Some(ip);
        }
        peer.map(|p| p.ip())
    }
}
