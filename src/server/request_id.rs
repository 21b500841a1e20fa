//! A request id for every request, on every path (REST, gRPC, the SSE fast path): the
//! client's `x-request-id` when it is sane (printable ASCII, at most 64 characters),
//! else a fresh UUID v7. It is echoed in the answer's `x-request-id` (gRPC: response
//! metadata) and is a field of a span around the request, its handler and its body,
//! so every log line the request causes carries it (`--log-format json` writes the
//! span's fields into each line).

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Frame, SizeHint};
use tracing::Instrument;

pub(super) const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest request id taken from a client.
const MAX_LEN: usize = 64;

/// The client's id if it is one worth keeping: it goes into logs and back into a
/// header, so nothing a log line or a header could be confused by.
fn sane(value: &HeaderValue) -> Option<&str> {
    let text = value.to_str().ok()?;
    let printable = text.bytes().all(|b| b.is_ascii_graphic());
    (!text.is_empty() && text.len() <= MAX_LEN && printable).then_some(text)
}

pub(super) async fn request_id(req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(X_REQUEST_ID)
        .and_then(sane)
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned);
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path());
    let started = Instant::now();
    let mut response = next.run(req).instrument(span.clone()).await;
    span.in_scope(|| {
        tracing::debug!(
            status = response.status().as_u16(),
            ms = started.elapsed().as_millis(),
            "answered"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(X_REQUEST_ID, value);
    }
    response.map(|body| Body::new(InSpan { inner: body, span }))
}

/// A body polled inside the request's span: what a stream logs carries the id too.
struct InSpan {
    inner: Body,
    span: tracing::Span,
}

impl HttpBody for InSpan {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        let _entered = this.span.enter();
        Pin::new(&mut this.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_printable_ids_are_kept() {
        let keep = |s: &str| sane(&HeaderValue::from_str(s).unwrap()).is_some();
        assert!(keep("abc-123_X.y:z"));
        assert!(keep(&"a".repeat(64)));
        assert!(!keep(&"a".repeat(65)));
        assert!(!keep("has space"));
        assert!(!keep(""));
        assert!(sane(&HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap()).is_none());
    }
}
