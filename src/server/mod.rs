//! The one listener: HTTP/1.1 and HTTP/2 cleartext on a single port, gRPC (native and
//! gRPC-Web) dispatched by content type, everything else to the HTTP gateway, CORS
//! around both (`dispatch`). Owns start-up and graceful shutdown.
//!
//! Connection level: `listener` (socket policy: `TCP_NODELAY`, send-stall timeout),
//! `serve` (accept loop, hyper), `detect` (each connection's first head, under the
//! header deadline), `h1_stream` (event streams written on the socket), `prefixed`
//! (bytes the detector read, put back in front for hyper).

mod detect;
mod dispatch;
mod h1_stream;
mod listener;
mod prefixed;
mod serve;

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
        let store = crate::store::connect(&config.database_url)
            .await
            .map_err(core::Error::from)?;
        let seeded = core::seed::seed(store.as_ref(), config.demo).await?;
        if seeded.demo {
            tracing::info!("seeded the demo data: board-1, board-2, users alice, bob, carol (passwords in the README)");
        }
        let guests = config.guests.unwrap_or(addr.ip().is_loopback());
        let bus = Arc::new(Bus::new(config.stream_buffer));
        let core = Arc::new(Core::new(store, bus, config.max_streams_per_user));
        let auth = Auth::new(core.clone(), guests);
        if config.demo && guests {
            auth.mint_dev_sessions().await?;
        }
        // Without a cluster (SQLite) the rooms are this process's alone.
        let presence = Presence::new(core.store().cluster());
        let state = AppState {
            core,
            auth,
            presence,
            config: Arc::new(config),
        };
        let rest = crate::gateway::router(state.clone());
        let grpc = crate::grpc::router(state.clone()).await?;
        let app = dispatch::app(rest, grpc, origins);
        let listener = listener::GuardedListener {
            inner: listener,
            send_timeout: Duration::from_millis(state.config.send_timeout_ms.max(1)),
        };
        let settings = serve::Settings {
            header_timeout: Duration::from_millis(state.config.header_timeout_ms.max(1)),
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

    /// Serves until `shutdown` completes, then ends every stream (by closing the bus),
    /// waits for in-flight requests to finish, and leaves the cluster if there is one. Also stops, with an error, if the
    /// bus's fan-out thread dies: every stream would stay open and never get another
    /// event, so the process exits non-zero for its supervisor to restart it.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let core = self.state.core.clone();
        let mut failed = core.bus().failed();
        let shutdown = async move {
            let fanout_died = async move {
                // An error means the bus is gone, and with it anything that could fail.
                if failed.wait_for(|dead| *dead).await.is_err() {
                    std::future::pending::<()>().await;
                }
            };
            tokio::select! {
                () = shutdown => {}
                () = fanout_died => tracing::error!("the fan-out thread died: shutting down"),
            }
            // Joining the fan-out thread blocks (briefly): not on a runtime worker.
            match tokio::task::spawn_blocking(move || core.bus().close()).await {
                Ok(closed) => closed.map_err(std::io::Error::other),
                Err(e) => Err(std::io::Error::other(e)),
            }
        };
        let presence = self.state.presence.clone();
        let served = serve::run(self.listener, self.app, self.settings, shutdown).await;
        presence.leave_cluster().await;
        served
    }
}
