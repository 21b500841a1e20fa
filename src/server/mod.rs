//! The one listener: HTTP/1.1 and HTTP/2 cleartext on a single port, gRPC (native and
//! gRPC-Web) dispatched by content type, everything else to the HTTP gateway, CORS
//! around both (`dispatch`). Owns start-up and graceful shutdown.
//!
//! Connection level: `caps` (open connections in total and per address),
//! `listener` (socket policy: `TCP_NODELAY`, send-stall timeout),
//! `serve` (accept loop, hyper), `detect` (each connection's first head, under the
//! header deadline), `h1_stream` (event streams written on the socket), `prefixed`
//! (bytes the detector read, put back in front for hyper), `cut` (request bodies the
//! drain does not wait for), `request_id` (every request's id, echoed and logged).

mod caps;
mod cut;
mod detect;
mod dispatch;
mod h1_stream;
mod listener;
mod prefixed;
mod request_id;
mod serve;

// What `crate::fuzzing` drives: the detector's verdict on one buffer, the same call
// `detect` makes after each read.
#[cfg(fuzzing)]
pub(crate) use detect::{Class, StreamRequest, classify};

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::app::AppState;
use crate::auth::Auth;
use crate::bus::Bus;
use crate::config::Config;
use crate::core::origins::Origins;
use crate::core::{self, Core};
use crate::delivery::Delivery;
use crate::metrics::Metrics;
use crate::presence::Presence;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A bound, ready server. `build` binds (so port 0 resolves before `run`), opens and
/// seeds the database; `run` serves until the shutdown future completes.
pub struct Application {
    listener: listener::GuardedListener,
    settings: serve::Settings,
    state: AppState,
    app: axum::Router,
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, BoxError> {
        let listener = TcpListener::bind(&config.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
        let addr = listener.local_addr()?;
        // Before the database: a typo in the list fails start-up at once.
        let origins = Origins::parse(&config.allowed_origins)?;
        // Through core's error, so a bad `databaseUrl` reads as it always has.
        let metrics = Arc::new(Metrics::new());
        let store = crate::store::connect_with(&config.database_url, metrics.clone())
            .await
            .map_err(core::Error::from)?;
        let seeded = core::seed::seed(store.as_ref(), config.demo).await?;
        if seeded.demo {
            tracing::info!("seeded the demo data: board-1, board-2, users alice, bob, carol (passwords in the README)");
        }
        let guests = config.guests.unwrap_or(addr.ip().is_loopback());
        let bus = Arc::new(Bus::new(config.stream_buffer));
        let rates = core::RateLimits {
            mutations_per_user: config.rate_mutations_per_user,
            mutations_per_ip: config.rate_mutations_per_ip,
            streams_per_user: config.rate_streams_per_user,
            streams_per_ip: config.rate_streams_per_ip,
        };
        let core = Arc::new(
            Core::new(store, bus, config.max_streams_per_user, metrics.clone())
                .with_rates(rates)
                .with_retention(retention(&config)),
        );
        let auth = Auth::new(core.clone(), guests);
        if config.demo && guests {
            auth.mint_dev_sessions().await?;
        }
        // Without a cluster (SQLite) the rooms are this process's alone.
        let presence = Presence::new(core.store().cluster(), metrics.clone());
        let threads = match config.delivery_threads {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        };
        let delivery =
            Arc::new(Delivery::start(threads).map_err(|e| format!("cannot start the delivery threads: {e}"))?);
        let state = AppState {
            core,
            auth,
            presence,
            config: Arc::new(config),
            metrics,
            origins: origins.clone(),
            delivery,
        };
        let rest = crate::gateway::router(state.clone());
        let grpc = crate::grpc::router(state.clone()).await?;
        let app = dispatch::app(rest, grpc, origins)
            // Outermost, so the id and its span cover both sides and the SSE fast path.
            .layer(axum::middleware::from_fn(request_id::request_id));
        let listener = listener::GuardedListener {
            inner: listener,
            send_timeout: Duration::from_millis(state.config.send_timeout_ms.max(1)),
        };
        let settings = serve::Settings {
            header_timeout: Duration::from_millis(state.config.header_timeout_ms.max(1)),
            drain_grace: Duration::from_millis(state.config.drain_grace_ms),
            drain_timeout: Duration::from_millis(state.config.drain_timeout_ms),
            max_connections: state.config.max_connections,
            max_connections_per_ip: state.config.max_connections_per_ip,
        };
        Ok(Application {
            listener,
            settings,
            state,
            app,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.inner.local_addr().expect("bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Logs one line per endpoint, and how to make the first account on a server
    /// without accounts. Never a credential.
    pub async fn log_endpoints(&self) -> Result<(), BoxError> {
        let addr = self.local_addr();
        tracing::info!("boardcast listening on {addr} (HTTP/1.1 and h2c)");
        tracing::info!("web    http://{addr}/  (the live board)");
        tracing::info!("REST   http://{addr}/boards  ·  /boards/:boardId  ·  /boards/:boardId/tasks  ·  /tasks");
        tracing::info!(
            "gRPC   {addr}  boardcast.v1.BoardService, reflection, grpc.health.v1  (grpcurl -plaintext {addr} list)"
        );
        if self.state.auth.guests_allowed() {
            tracing::info!("guests: requests without a token act as `guest` (loopback listener)");
        } else {
            tracing::info!("guests: off; every request needs `Authorization: Bearer <token>`");
        }
        if self.state.config.demo {
            tracing::info!("demo: sign in as alice, bob or carol with the password `<name>-demo-pw`");
        } else if !self.state.core.has_accounts().await? {
            tracing::info!(
                "no accounts yet: create the first with `boardcast user add NAME` or `curl -X POST http://{addr}/auth/signup -H 'Content-Type: application/json' -d '{{\"username\":\"NAME\",\"password\":\"...\"}}'` (or start with --demo for the demo boards and users)"
            );
        }
        // Last: `tests/api/cli.rs` reads start-up up to this line.
        tracing::info!(
            "accounts: POST http://{addr}/auth/signup · /auth/login · /auth/logout · GET /me · /me/tokens; gRPC boardcast.v1.AccountService"
        );
        Ok(())
    }

    /// Serves until `shutdown` completes, then drains (`serve::run`: not ready,
    /// stop accepting, end every stream, let in-flight requests finish, drop what is
    /// left at `--drain-timeout-ms`) and leaves the cluster if there is one. Also
    /// stops, with an error, if the bus's fan-out thread dies: every stream would
    /// stay open and never get another event, so the process exits non-zero for its
    /// supervisor to restart it.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let core = self.state.core.clone();
        let mut failed = core.bus().failed();
        let signal = async move {
            let fanout_died = async move {
                // An error means the bus is gone, and with it anything that could fail.
                if failed.wait_for(|dead| *dead).await.is_err() {
                    std::future::pending::<()>().await;
                }
            };
            tokio::select! {
                () = shutdown => tracing::info!("draining: /readyz and gRPC health say not ready"),
                () = fanout_died => tracing::error!("the fan-out thread died: shutting down"),
            }
        };
        let presence = self.state.presence.clone();
        let delivery = self.state.delivery.clone();
        let served = serve::run(self.listener, self.app, self.settings, core, delivery, signal).await;
        presence.leave_cluster().await;
        served
    }
}

/// What the retention flags keep.
fn retention(config: &Config) -> core::Retention {
    core::Retention {
        idempotency_ttl: Duration::from_secs(config.idempotency_ttl_secs),
        log_max_age: (config.log_retention_secs > 0).then(|| Duration::from_secs(config.log_retention_secs)),
        log_keep: config.log_keep_events,
        sweep: Duration::from_millis(config.retention_interval_ms.max(1)),
    }
}
