//! The accept loop and each connection's life until graceful shutdown.
//!
//! A new connection's first request head is read here: a plain HTTP/1.1 request for
//! an SSE board stream is answered by [`super::sse_conn`] straight on the socket;
//! everything else (REST, WebSocket upgrades, gRPC and any HTTP/2, later requests on
//! a kept-alive connection) goes to hyper with the bytes already read put back in
//! front. On shutdown the loop stops accepting, hyper connections finish their
//! in-flight requests, and `run` returns once every connection has ended (streams end
//! when the bus closes).

use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::task::{Context, Poll};

use axum::Router;
use bytes::{Buf, Bytes};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{mpsc, watch};

use super::listener::{GuardedListener, StallGuard};
use super::sse_conn;

pub async fn run(mut listener: GuardedListener, app: Router, shutdown: impl Future<Output = ()>) -> io::Result<()> {
    use axum::serve::Listener;
    let (stop_tx, stop_rx) = watch::channel(false);
    // Every connection task holds a sender; `recv` returns `None` once all are gone.
    let (alive_tx, mut alive_rx) = mpsc::channel::<()>(1);
    let mut shutdown = pin!(shutdown);
    loop {
        let (io, _addr) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (app, stop, alive) = (app.clone(), stop_rx.clone(), alive_tx.clone());
        tokio::spawn(async move {
            connection(io, app, stop).await;
            drop(alive);
        });
    }
    drop(listener);
    stop_tx.send_replace(true);
    drop(alive_tx);
    let _ = alive_rx.recv().await;
    Ok(())
}

async fn connection(io: StallGuard, app: Router, mut stop: watch::Receiver<bool>) {
    let Some((io, read)) = sse_conn::serve_first(io, &app, &mut stop).await else {
        return;
    };
    // Boxed: a hyper connection's state is large, and the SSE connections that never
    // get here should not carry room for it.
    Box::pin(hyper_connection(Prefixed { read, io }, app, stop)).await;
}

async fn hyper_connection(io: Prefixed, app: Router, mut stop: watch::Receiver<bool>) {
    let service = TowerToHyperService::new(app);
    let mut builder = Builder::new(TokioExecutor::new());
    // The CONNECT protocol carries WebSockets over HTTP/2.
    builder.http2().enable_connect_protocol();
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

/// A connection with bytes already read from it put back in front.
pub(super) struct Prefixed {
    read: Bytes,
    io: StallGuard,
}

impl AsyncRead for Prefixed {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if self.read.has_remaining() {
            let n = self.read.len().min(buf.remaining());
            buf.put_slice(&self.read[..n]);
            self.read.advance(n);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Prefixed {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
