//! `grpc-timeout`: the deadline a client sets on a call, kept for every gRPC service.
//!
//! tonic honours the header only inside its own `Server`, and there only until the
//! response head (a server stream's head goes out at once, so a stream would run on
//! past its deadline), answering CANCELLED. The services here are tonic `Routes` in
//! hyper, so this layer does it instead, over the whole call: a call still unanswered
//! at its deadline gets a trailers-only DEADLINE_EXCEEDED (the handler is dropped: a
//! change not yet committed rolls back, one already committing still lands, as gRPC
//! allows of a deadline), and a stream still open at its deadline
//! ends after its last whole message with DEADLINE_EXCEEDED trailers. A header that
//! does not parse is ignored, as tonic does.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;
use hyper::body::{Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// The gRPC spec's bound on the header's digits (and what keeps the arithmetic small).
const MAX_DIGITS: usize = 8;

/// The middleware: the call under its deadline, when it has one.
pub async fn enforce(req: Request, next: Next) -> Response {
    let Some(timeout) = timeout(req.headers()) else {
        return next.run(req).await;
    };
    let deadline = Instant::now() + timeout;
    match tokio::time::timeout_at(deadline, next.run(req)).await {
        Ok(response) => response.map(|inner| {
            Body::new(Bounded {
                inner,
                deadline: Box::pin(tokio::time::sleep_until(deadline)),
                timeout,
                ended: false,
            })
        }),
        Err(_) => crate::wire::grpc::deadline_exceeded(timeout).into_http(),
    }
}

/// The `grpc-timeout` header's duration: 1 to 8 digits and a unit (H, M, S, m, u, n).
fn timeout(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get("grpc-timeout")?.to_str().ok()?;
    let digits = value.get(..value.len().checked_sub(1)?)?;
    if digits.is_empty() || digits.len() > MAX_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(match value.as_bytes().last()? {
        b'H' => Duration::from_secs(n * 3600),
        b'M' => Duration::from_secs(n * 60),
        b'S' => Duration::from_secs(n),
        b'm' => Duration::from_millis(n),
        b'u' => Duration::from_micros(n),
        b'n' => Duration::from_nanos(n),
        _ => return None,
    })
}

/// A response body that ends with DEADLINE_EXCEEDED trailers at the deadline, unless
/// it ended (or sent its own trailers) first.
struct Bounded {
    inner: Body,
    deadline: Pin<Box<Sleep>>,
    timeout: Duration,
    /// Trailers went out (the inner body's or ours): nothing more is sent.
    ended: bool,
}

impl hyper::body::Body for Bounded {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.ended {
            return Poll::Ready(None);
        }
        // The body first: a message ready at the deadline still goes out whole.
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            if frame.as_ref().is_none_or(|f| f.as_ref().is_ok_and(Frame::is_trailers)) {
                self.ended = true;
            }
            return Poll::Ready(frame);
        }
        if self.deadline.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        self.ended = true;
        let mut trailers = HeaderMap::new();
        if let Err(e) = crate::wire::grpc::deadline_exceeded(self.timeout).add_header(&mut trailers) {
            tracing::warn!(error = %e, "deadline trailers did not render");
        }
        tracing::debug!(timeout_ms = self.timeout.as_millis(), "gRPC call ended at its deadline");
        Poll::Ready(Some(Ok(Frame::trailers(trailers))))
    }

    fn is_end_stream(&self) -> bool {
        self.ended || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        // The body may be cut short: only the upper bound still holds.
        let mut hint = SizeHint::new();
        if let Some(upper) = self.inner.size_hint().upper() {
            hint.set_upper(upper);
        }
        hint
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_parses_as_the_grpc_spec_writes_it() {
        let parse = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert("grpc-timeout", v.parse().unwrap());
            timeout(&h)
        };
        assert_eq!(parse("2S"), Some(Duration::from_secs(2)));
        assert_eq!(parse("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse("1H"), Some(Duration::from_hours(1)));
        assert_eq!(parse("99999999n"), Some(Duration::from_nanos(99_999_999)));
        for bad in ["", "S", "123456789S", "10x", "-1S", "1.5S"] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
