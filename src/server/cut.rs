//! Request bodies the drain does not wait for. A request whose body is still arriving
//! when the server stops is not in core yet (nothing of it can have been applied), so
//! once the stop signal is up, a body read that would wait fails instead: the handler
//! answers at once (503) and the connection closes, rather than a client that sent
//! less than its `Content-Length` holding the process until it leaves.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::HttpBody;
use bytes::Bytes;
use hyper::body::{Frame, Incoming, SizeHint};
use tokio::sync::watch;

use crate::core::lifecycle::ShuttingDown;

type Stopped = Pin<Box<dyn Future<Output = ()> + Send + Sync>>;

/// A request body that ends with [`ShuttingDown`] when it would wait after the stop.
pub(super) struct Cut {
    inner: Incoming,
    stop: watch::Receiver<bool>,
    /// Made the first time the body waits: most bodies arrive with their head and
    /// never need one.
    stopped: Option<Stopped>,
}

impl Cut {
    pub(super) fn new(inner: Incoming, stop: watch::Receiver<bool>) -> Self {
        Cut {
            inner,
            stop,
            stopped: None,
        }
    }
}

impl HttpBody for Cut {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|f| f.map_err(Into::into))),
            Poll::Pending => {
                let stopped = this.stopped.get_or_insert_with(|| {
                    let mut stop = this.stop.clone();
                    Box::pin(async move {
                        if stop.wait_for(|stopped| *stopped).await.is_err() {
                            std::future::pending::<()>().await;
                        }
                    })
                });
                match stopped.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(ShuttingDown)))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
