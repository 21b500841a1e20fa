//! Protocol detection: what a new connection's first request is, read under a
//! deadline. Detection never serves (that is [`super::h1_stream`]'s or hyper's).
//!
//! An idle subscriber is the common case at scale, and hyper keeps two 8 KiB buffers
//! per HTTP/1 connection for its whole life, more than everything else an idle stream
//! holds (docs/BENCHMARKS.md). So a connection that opens with a plain request for an
//! event stream is taken out of hyper's hands. "Plain" is narrow on purpose, so that
//! nothing a second parser could disagree about (smuggling) takes the fast path: a
//! complete HTTP/1.x `GET` head of a [`STREAM_ROUTES`] path, within [`MAX_HEAD`] and
//! [`MAX_HEADERS`], without `Upgrade`, `Content-Length` or `Transfer-Encoding`, and
//! with no byte after it. Everything else (h2 included) goes to hyper with the bytes
//! read so far.
//!
//! The whole first head must arrive within the deadline, whatever it turns out to
//! be: hyper's own header timeout starts only when hyper first reads, and its h1/h2
//! version sniffing has none, so a client trickling the h2 preface would otherwise
//! hold its socket for ever.

use std::io;
use std::time::Duration;

use axum::body::Body;
use axum::http::uri::PathAndQuery;
use axum::http::{Method, Request, Uri, Version};
use bytes::{Bytes, BytesMut};
use tokio::io::AsyncReadExt;
use tokio::sync::watch;

use super::listener::StallGuard;
use crate::gateway::STREAM_ROUTES;

/// A first head longer than this is left to hyper (which has its own, larger limit).
pub(super) const MAX_HEAD: usize = 8 * 1024;
/// Most headers a streamed request may carry; more go to hyper.
const MAX_HEADERS: usize = 48;
/// What an HTTP/2 prior-knowledge client sends first.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// What the connection's first bytes are.
#[derive(Debug)]
pub(super) enum Detected {
    /// An event-stream request, to be answered on the socket.
    Stream(StreamRequest),
    /// Anything else, with every byte read so far: hyper's.
    Other { read: Bytes, why: Handoff },
}

#[derive(Debug)]
pub(crate) struct StreamRequest {
    /// Boxed: a connection's state should not carry room for it once it is served.
    pub request: Box<Request<Body>>,
    /// Whether the client keeps the connection alive after a non-stream answer.
    pub keep_alive: bool,
}

/// Why a connection went to hyper (for traces).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Handoff {
    /// Not a fast-path stream request (any other request, h2, not HTTP).
    NotAStream,
    /// A head still incomplete after [`MAX_HEAD`] bytes.
    TooLarge,
    /// The peer stopped sending mid-head; hyper answers or notices as it always has.
    Truncated,
}

/// A connection closed before it sent a first request.
#[derive(Debug, thiserror::Error)]
pub(super) enum DetectError {
    #[error("no complete request head within {0:?}")]
    Timeout(Duration),
    #[error("closed before sending a request")]
    Closed,
    #[error("read failed before a request: {0}")]
    Read(#[source] io::Error),
    #[error("the server is shutting down")]
    Shutdown,
}

/// Reads the first request head (at most [`MAX_HEAD`] bytes, within `deadline` of
/// the call) and says what it is.
pub(super) async fn detect(
    io: &mut StallGuard,
    stop: &mut watch::Receiver<bool>,
    deadline: Duration,
) -> Result<Detected, DetectError> {
    tokio::select! {
        detected = tokio::time::timeout(deadline, read_head(io)) => {
            detected.map_err(|_| DetectError::Timeout(deadline))?
        }
        _ = stop.changed() => Err(DetectError::Shutdown),
    }
}

async fn read_head(io: &mut StallGuard) -> Result<Detected, DetectError> {
    let mut buf = BytesMut::with_capacity(1024);
    loop {
        match io.read_buf(&mut buf).await {
            Ok(0) if buf.is_empty() => return Err(DetectError::Closed),
            Err(e) if buf.is_empty() => return Err(DetectError::Read(e)),
            Ok(0) | Err(_) => return Ok(other(buf, Handoff::Truncated)),
            Ok(_) => {}
        }
        match classify(&buf) {
            Class::Partial if buf.len() < MAX_HEAD => {}
            Class::Partial => return Ok(other(buf, Handoff::TooLarge)),
            Class::Other => return Ok(other(buf, Handoff::NotAStream)),
            Class::Stream(request) => return Ok(Detected::Stream(request)),
        }
    }
}

fn other(buf: BytesMut, why: Handoff) -> Detected {
    Detected::Other {
        read: buf.freeze(),
        why,
    }
}

#[derive(Debug)]
pub(crate) enum Class {
    /// Not a whole head yet.
    Partial,
    Stream(StreamRequest),
    Other,
}

pub(crate) fn classify(buf: &[u8]) -> Class {
    if buf.len() < H2_PREFACE.len() && H2_PREFACE.starts_with(buf) {
        return Class::Partial;
    }
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) if len == buf.len() => {
            stream_request(&req).map_or(Class::Other, Class::Stream)
        }
        Ok(httparse::Status::Partial) => Class::Partial,
        // Bytes after the head (a body, pipelining, a smuggling attempt), or too many
        // headers, not HTTP/1, malformed: hyper answers (or closes).
        Ok(httparse::Status::Complete(_)) | Err(_) => Class::Other,
    }
}

/// The request, if a parsed head is a fast-path stream request.
fn stream_request(req: &httparse::Request<'_, '_>) -> Option<StreamRequest> {
    let (Some("GET"), Some(path), Some(minor)) = (req.method, req.path, req.version) else {
        return None;
    };
    // The router routes by the parsed URI, which ends the path at a `#` where the raw
    // target goes on (`/boards/b#/events` is `/boards/b` to it): a target the URI does
    // not keep whole is hyper's, so the route matched here is the one served.
    let uri: Uri = path.parse().ok()?;
    if uri.path_and_query().map(PathAndQuery::as_str) != Some(path) || !is_stream_route(path) {
        return None;
    }
    let version = if minor == 1 { Version::HTTP_11 } else { Version::HTTP_10 };
    // Only HTTP/1.1 is kept alive here (an HTTP/1.0 stream runs until close anyway).
    let mut keep_alive = minor == 1;
    let mut builder = Request::builder().method(Method::GET).uri(uri).version(version);
    for h in req.headers.iter() {
        let name = h.name;
        if name.eq_ignore_ascii_case("upgrade")
            || name.eq_ignore_ascii_case("content-length")
            || name.eq_ignore_ascii_case("transfer-encoding")
        {
            return None;
        }
        if name.eq_ignore_ascii_case("connection")
            && String::from_utf8_lossy(h.value).to_ascii_lowercase().contains("close")
        {
            keep_alive = false;
        }
        builder = builder.header(name, h.value);
    }
    let request = Box::new(builder.body(Body::empty()).ok()?);
    Some(StreamRequest { request, keep_alive })
}

/// Whether a request target (with or without a query) is one of [`STREAM_ROUTES`].
fn is_stream_route(target: &str) -> bool {
    let path = target.split_once('?').map_or(target, |(p, _)| p);
    STREAM_ROUTES.iter().any(|route| route_matches(route, path))
}

/// Matches a path against a route in the router's syntax, where `{name}` is one
/// non-empty segment.
fn route_matches(route: &str, path: &str) -> bool {
    let (mut route, mut path) = (route.split('/'), path.split('/'));
    loop {
        match (route.next(), path.next()) {
            (None, None) => return true,
            (Some(r), Some(p)) if r.starts_with('{') && r.ends_with('}') => {
                if p.is_empty() {
                    return false;
                }
            }
            (Some(r), Some(p)) if r == p => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(buf: &[u8]) -> Option<bool> {
        match classify(buf) {
            Class::Stream(s) => Some(s.keep_alive),
            _ => None,
        }
    }

    #[test]
    fn only_event_stream_paths_are_served_here() {
        assert!(is_stream_route("/events?boards=a,b"));
        assert!(is_stream_route("/events"));
        assert!(is_stream_route("/boards/board-1/events"));
        assert!(is_stream_route("/boards/board-1/events?lastEventId=3"));
        assert!(!is_stream_route("/boards/board-1"));
        assert!(!is_stream_route("/boards//events"));
        assert!(!is_stream_route("/boards/a/b/events"));
        assert!(!is_stream_route("/boards/a/events/"));
        assert!(!is_stream_route("/eventsx"));
        assert!(!is_stream_route("/"));
    }

    #[test]
    fn every_stream_route_is_matched_with_its_parameters_filled_in() {
        for route in STREAM_ROUTES {
            // Only `{name}` parameters: a wildcard would need a matcher of its own.
            assert!(!route.contains('*'), "{route}");
            let path = route
                .split('/')
                .map(|s| if s.starts_with('{') { "x" } else { s })
                .collect::<Vec<_>>()
                .join("/");
            assert!(is_stream_route(&path), "{route} as {path}");
        }
    }

    #[test]
    fn heads_with_a_body_an_upgrade_or_pipelined_bytes_go_to_hyper() {
        assert_eq!(stream(b"GET /boards/b/events HTTP/1.1\r\nHost: x\r\n\r\n"), Some(true));
        assert_eq!(
            stream(b"GET /events HTTP/1.1\r\nConnection: close\r\n\r\n"),
            Some(false)
        );
        assert_eq!(stream(b"GET /events HTTP/1.0\r\n\r\n"), Some(false));
        assert!(matches!(
            classify(b"GET /boards/b/events HTTP/1.1\r\nHo"),
            Class::Partial
        ));
        let upgrade = b"GET /boards/b/events HTTP/1.1\r\nUpgrade: websocket\r\n\r\n";
        assert!(matches!(classify(upgrade), Class::Other));
        let body = b"GET /events HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}";
        assert!(matches!(classify(body), Class::Other));
        let chunked = b"GET /events HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert!(matches!(classify(chunked), Class::Other));
        let pipelined = b"GET /events HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n";
        assert!(matches!(classify(pipelined), Class::Other));
        assert!(matches!(classify(b"GET /boards HTTP/1.1\r\n\r\n"), Class::Other));
        // `/boards/b` to the router, whatever the raw target says after the `#`.
        let fragment = b"GET /boards/b#/events HTTP/1.1\r\n\r\n";
        assert!(matches!(classify(fragment), Class::Other));
        assert!(matches!(classify(b"POST /events HTTP/1.1\r\n\r\n"), Class::Other));
        let many = (0..=MAX_HEADERS)
            .map(|i| format!("X-{i}: y\r\n"))
            .collect::<Vec<_>>()
            .concat();
        let many = format!("GET /events HTTP/1.1\r\n{many}\r\n");
        assert!(matches!(classify(many.as_bytes()), Class::Other));
    }

    #[test]
    fn other_heads_are_read_whole_before_hyper_gets_them() {
        // So the deadline covers every first head, not only the streams'.
        assert!(matches!(classify(b"POST /tasks HTTP/1.1\r\nHost"), Class::Partial));
        assert!(matches!(classify(b"G"), Class::Partial));
        assert!(matches!(classify(b"PRI * HTTP/2.0\r\n"), Class::Partial));
        assert!(matches!(classify(H2_PREFACE), Class::Other));
        assert!(matches!(classify(b"\x16\x03\x01"), Class::Other));
    }
}
