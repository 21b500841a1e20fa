//! A response body that says when it ended, for what is measured until the last byte
//! of an answer (a request's duration, an open connection) rather than its head.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

/// What runs once the body is over: given its trailers, if it had any (gRPC puts its
/// status there). Also run, without trailers, when the body is dropped unfinished.
pub type OnEnd = Box<dyn FnOnce(Option<&http::HeaderMap>) + Send>;

/// `inner`, calling `on_end` once when it ends or is dropped.
pub struct Ending<B> {
    inner: B,
    on_end: Option<OnEnd>,
}

impl<B> Ending<B> {
    pub fn new(inner: B, on_end: OnEnd) -> Self {
        Ending {
            inner,
            on_end: Some(on_end),
        }
    }

    fn end(&mut self, trailers: Option<&http::HeaderMap>) {
        if let Some(on_end) = self.on_end.take() {
            on_end(trailers);
        }
    }
}

impl<B: Body<Data = Bytes> + Unpin> Body for Ending<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) if frame.is_trailers() => {
                let trailers = frame.trailers_ref().cloned();
                self.end(trailers.as_ref());
            }
            Poll::Ready(None | Some(Err(_))) => self.end(None),
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<B> Drop for Ending<B> {
    fn drop(&mut self) {
        self.end(None);
    }
}
