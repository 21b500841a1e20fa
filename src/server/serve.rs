//! The accept loop and each connection's life until graceful shutdown.
//!
//! Each connection starts with [`detect`]: its first request head, read under the
//! header deadline. A plain HTTP/1 request for an event stream is answered by
//! [`h1_stream`] straight on the socket (and a kept-alive connection comes back here
//! for its next head); everything else (REST, WebSocket upgrades, gRPC and any
//! HTTP/2) goes to hyper with the bytes already read put back in front
//! ([`Prefixed`]). A connection over a cap ([`Caps`]) is refused before any of that.
//! On shutdown the loop stops accepting (after the grace), hyper connections finish
//! their in-flight requests (a body still arriving is [`Cut`]), streams end when the
//! bus closes, and `run` returns once every connection and held session has ended,
//! or at the drain timeout, dropping what is left.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until};
use tower::ServiceExt;

use super::caps::Caps;
use super::cut::Cut;
use super::detect::{self, Detected};
use super::h1_stream;
use super::listener::{GuardedListener, StallGuard};
use super::prefixed::Prefixed;
use crate::core::Core;
use crate::core::lifecycle::Phase;
use crate::delivery::Delivery;

/// HTTP/2 keep-alive: a ping after this long without a frame from the peer, and the
/// connection closed if the ping is not answered within as long again. Finds a peer
/// that vanished without a FIN (an idle h2 connection otherwise waits on it for ever);
/// every live h2 client answers pings by itself.
const H2_KEEP_ALIVE: Duration = Duration::from_secs(20);

/// How connections are served.
#[derive(Clone, Copy, Debug)]
pub(super) struct Settings {
    /// Longest wait for a complete request head, from the connection's start or from
    /// the previous answer on a kept-alive connection.
    pub header_timeout: Duration,
    /// After the shutdown signal: how long to go on accepting while not ready.
    pub drain_grace: Duration,
    /// After the shutdown signal: the longest the whole drain may take.
    pub drain_timeout: Duration,
    /// Open connections at once, in total and per client address (0: no cap).
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
}

/// Serves until `shutdown` completes, then drains in phases (see
/// [`crate::core::lifecycle`]): not ready (still accepting for the grace), stop
/// accepting and end every stream, wait for in-flight requests and held work, and at
/// the drain timeout drop what is left. Returns how closing the bus went.
pub(super) async fn run(
    mut listener: GuardedListener,
    app: Router,
    settings: Settings,
    core: Arc<Core>,
    delivery: Arc<Delivery>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    use axum::serve::Listener;
    let (stop_tx, stop) = watch::channel(false);
    let mut connections = JoinSet::new();
    let caps = Caps::new(settings.max_connections, settings.max_connections_per_ip);
    let spawn = |connections: &mut JoinSet<()>, (io, addr): (StallGuard, SocketAddr)| {
        let slot = match caps.admit(addr.ip()) {
            Ok(slot) => slot,
            Err(why) => return caps.refuse(io, addr.ip(), &why),
        };
        let served = connection(io, addr, app.clone(), stop.clone(), settings, delivery.clone());
        connections.spawn(async move {
            served.await;
            drop(slot);
        });
    };
    let mut shutdown = pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => spawn(&mut connections, accepted),
            // Reaped as they end, so the set holds only open connections.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            () = &mut shutdown => break,
        }
    }
    let deadline = Instant::now() + settings.drain_timeout;
    let life = core.lifecycle();
    life.advance(Phase::Draining);
    let grace = sleep_until(Instant::now() + settings.drain_grace.min(settings.drain_timeout));
    let mut grace = pin!(grace);
    loop {
        tokio::select! {
            accepted = listener.accept() => spawn(&mut connections, accepted),
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            () = &mut grace => break,
        }
    }
    drop(listener);
    tracing::info!(
        connections = connections.len(),
        "stopped accepting; ending every stream"
    );
    life.advance(Phase::Ending);
    stop_tx.send_replace(true);
    // Closing the bus ends every subscription and long poll; joining the fan-out
    // thread blocks (briefly), so not on a runtime worker.
    let bus = core.clone();
    let closed = tokio::task::spawn_blocking(move || bus.bus().close());
    let drained = tokio::time::timeout_at(deadline, async {
        while connections.join_next().await.is_some() {}
        life.released().await;
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            connections = connections.len(),
            "drain timeout: dropping the connections still open"
        );
        life.advance(Phase::Over);
        connections.shutdown().await;
        life.released().await;
    }
    match closed.await {
        Ok(closed) => closed.map_err(io::Error::other),
        Err(e) => Err(io::Error::other(e)),
    }
}

/// Each request of a connection carries the peer's address as `ConnectInfo` (what the
/// attempt limits count by).
async fn connection(
    mut io: StallGuard,
    peer: SocketAddr,
    app: Router,
    mut stop: watch::Receiver<bool>,
    settings: Settings,
    delivery: Arc<Delivery>,
) {
    let read = loop {
        match detect::detect(&mut io, &mut stop, settings.header_timeout).await {
            Ok(Detected::Stream(mut request)) => {
                request.request.extensions_mut().insert(ConnectInfo(peer));
                match h1_stream::serve(io, &app, request, &stop, &delivery).await {
                    Some(kept_alive) => io = kept_alive,
                    None => return,
                }
            }
            Ok(Detected::Other { read, why }) => {
                tracing::trace!(?why, "connection handed to hyper");
                break read;
            }
            Err(e) => {
                tracing::debug!(reason = %e, "connection closed without a request");
                return;
            }
        }
    };
    // Boxed: a hyper connection's state is large, and the SSE connections that never
    // get here should not carry room for it.
    Box::pin(hyper_connection(Prefixed::new(read, io), peer, app, stop, settings)).await;
}

async fn hyper_connection(
    io: Prefixed,
    peer: SocketAddr,
    app: Router,
    mut stop: watch::Receiver<bool>,
    settings: Settings,
) {
    let body_stop = stop.clone();
    let app = app.map_request(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        req.map(|body| axum::body::Body::new(Cut::new(body, body_stop.clone())))
    });
    let service = TowerToHyperService::new(app);
    let mut builder = Builder::new(TokioExecutor::new());
    // Without a timer hyper drops its timeouts (its 30 s header default with only a
    // log line). The header deadline also bounds a kept-alive connection idle or
    // trickling between requests.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(H2_KEEP_ALIVE)
        .keep_alive_timeout(H2_KEEP_ALIVE)
        // The CONNECT protocol carries WebSockets over HTTP/2.
        .enable_connect_protocol();
    let mut conn = pin!(builder.serve_connection_with_upgrades(TokioIo::new(io), service));
    let mut stopping = *stop.borrow();
    if stopping {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::trace!(error = %e, "connection ended with an error");
                }
                return;
            }
            _ = stop.changed(), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}
