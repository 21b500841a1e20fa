//! SSE board streams served straight on the socket, without hyper.
//!
//! An idle subscriber is the common case at scale, and hyper keeps two 8 KiB buffers
//! per HTTP/1 connection for its whole life (the read buffer and the head buffer),
//! more than everything else an idle stream holds. So when a connection's first
//! request is a plain `GET` for an event stream, its head is parsed here, the request
//! goes through the same router as any other (identity, access, resume: all the
//! usual code), and the response is written here: the head, then the body's frames
//! as HTTP/1.1 chunks, while a small read watches for the peer closing. An answer
//! that is not a stream (401, 404, …) is written whole and the connection, if it is
//! kept alive, goes on with hyper.

use std::io;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, Response, Version, header};
use bytes::{Buf, Bytes, BytesMut};
use http_body_util::BodyExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use tower::ServiceExt;

use super::listener::StallGuard;

/// A request head longer than this is left to hyper (which answers 431).
const MAX_HEAD: usize = 8 * 1024;
/// Most headers a streamed request may carry; more go to hyper.
const MAX_HEADERS: usize = 48;
/// Largest non-stream answer collected here (errors are small JSON).
const MAX_ANSWER: usize = 64 * 1024;

/// Serves the connection's first request if it is an event stream. Otherwise (or
/// after a non-stream answer on a kept-alive connection) gives the connection back
/// with whatever was read from it; `None` when the connection is over.
pub(super) async fn serve_first(
    mut io: StallGuard,
    app: &Router,
    stop: &mut watch::Receiver<bool>,
) -> Option<(StallGuard, Bytes)> {
    let mut buf = BytesMut::with_capacity(1024);
    let (request, keep_alive) = loop {
        let read = tokio::select! {
            read = io.read_buf(&mut buf) => read,
            _ = stop.changed() => return None,
        };
        match read {
            Ok(0) | Err(_) if buf.is_empty() => return None,
            Ok(0) | Err(_) => return Some((io, buf.freeze())),
            Ok(_) => {}
        }
        let start = &buf[..buf.len().min(4)];
        if !b"GET ".starts_with(start) {
            return Some((io, buf.freeze()));
        }
        match parse_head(&buf) {
            Head::Partial if buf.len() < MAX_HEAD => continue,
            Head::Stream(request, keep_alive) => break (request, keep_alive),
            Head::Partial | Head::Other => return Some((io, buf.freeze())),
        }
    };
    drop(buf);
    let version = request.version();
    // Boxed: the handler's future is only alive until the answer starts, and the
    // stream that follows should not carry room for it.
    let response = Box::pin(app.clone().oneshot(*request))
        .await
        .unwrap_or_else(|e| match e {});
    let is_stream = response.status().is_success()
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    if is_stream {
        let _ = stream(&mut io, response, version).await;
        let _ = io.shutdown().await;
        return None;
    }
    if Box::pin(answer(&mut io, response, keep_alive)).await.is_err() || !keep_alive {
        let _ = io.shutdown().await;
        return None;
    }
    Some((io, Bytes::new()))
}

enum Head {
    Partial,
    /// A stream request, and whether the client keeps the connection alive.
    Stream(Box<Request<Body>>, bool),
    /// Anything else: hyper's.
    Other,
}

/// Parses a request head; only a body-less HTTP/1.x `GET` of an event-stream path
/// with nothing after its head is a `Stream`.
fn parse_head(buf: &[u8]) -> Head {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let len = match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Head::Partial,
        Err(_) => return Head::Other,
    };
    let (Some(path), Some(minor)) = (req.path, req.version) else {
        return Head::Other;
    };
    if len != buf.len() || !is_stream_path(path) {
        return Head::Other;
    }
    // Only HTTP/1.1 is kept alive here (an HTTP/1.0 stream runs until close anyway).
    let mut keep_alive = minor == 1;
    let mut builder = Request::builder().method(Method::GET).uri(path).version(if minor == 1 {
        Version::HTTP_11
    } else {
        Version::HTTP_10
    });
    for h in req.headers.iter() {
        let name = h.name;
        if name.eq_ignore_ascii_case("upgrade")
            || name.eq_ignore_ascii_case("content-length")
            || name.eq_ignore_ascii_case("transfer-encoding")
        {
            return Head::Other;
        }
        if name.eq_ignore_ascii_case("connection")
            && String::from_utf8_lossy(h.value).to_ascii_lowercase().contains("close")
        {
            keep_alive = false;
        }
        builder = builder.header(name, h.value);
    }
    match builder.body(Body::empty()) {
        Ok(request) => Head::Stream(Box::new(request), keep_alive),
        Err(_) => Head::Other,
    }
}

/// `/events` and `/boards/{id}/events`, with or without a query.
fn is_stream_path(target: &str) -> bool {
    let path = target.split_once('?').map_or(target, |(p, _)| p);
    if path == "/events" {
        return true;
    }
    path.strip_prefix("/boards/")
        .and_then(|rest| rest.strip_suffix("/events"))
        .is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

fn head(response: &Response<Body>, extra: &[(&str, &str)]) -> Vec<u8> {
    let status = response.status();
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes());
    out.extend_from_slice(b"\r\n");
    let date = HeaderValue::from_str(&httpdate::fmt_http_date(std::time::SystemTime::now()));
    let date = date.iter().map(|d| (&header::DATE, d));
    // The framing headers are ours to write (`extra`), never the handler's too.
    let framing = [header::CONTENT_LENGTH, header::TRANSFER_ENCODING, header::CONNECTION];
    let headers = response.headers().iter().filter(|(name, _)| !framing.contains(name));
    for (name, value) in headers.chain(date) {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    for (name, value) in extra {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Writes the stream until it ends or the peer goes: chunked on HTTP/1.1, raw until
/// close on HTTP/1.0.
async fn stream(io: &mut StallGuard, response: Response<Body>, version: Version) -> io::Result<()> {
    let chunked = version == Version::HTTP_11;
    let extra: &[(&str, &str)] = if chunked {
        &[("transfer-encoding", "chunked")]
    } else {
        &[("connection", "close")]
    };
    io.write_all(&head(&response, extra)).await?;
    let mut body = response.into_body();
    let mut probe = [0u8; 32];
    loop {
        tokio::select! {
            frame = body.frame() => {
                let Some(Ok(frame)) = frame else { break };
                let Ok(data) = frame.into_data() else { continue };
                if data.is_empty() {
                    continue;
                }
                if chunked {
                    // Size line, data, CRLF: one vectored write, the event bytes not copied.
                    let size = ChunkSize::of(data.len());
                    let mut chunk = Buf::chain(Buf::chain(size.as_bytes(), data), &b"\r\n"[..]);
                    io.write_all_buf(&mut chunk).await?;
                } else {
                    io.write_all(&data).await?;
                }
            }
            // The peer closing (or sending what a stream has no use for).
            read = io.read(&mut probe) => {
                if matches!(read, Ok(0) | Err(_)) {
                    return Ok(());
                }
            }
        }
    }
    if chunked {
        io.write_all(b"0\r\n\r\n").await?;
    }
    Ok(())
}

/// A chunk's size line, `<hex>\r\n`, formatted without allocating.
struct ChunkSize {
    buf: [u8; 18],
    start: usize,
}

impl ChunkSize {
    fn of(mut n: usize) -> Self {
        let mut buf = [0u8; 18];
        buf[16] = b'\r';
        buf[17] = b'\n';
        let mut start = 16;
        loop {
            start -= 1;
            buf[start] = b"0123456789abcdef"[n % 16];
            n /= 16;
            if n == 0 {
                break;
            }
        }
        ChunkSize { buf, start }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.buf[self.start..]
    }
}

/// Writes a whole (small) answer with its length.
async fn answer(io: &mut StallGuard, response: Response<Body>, keep_alive: bool) -> io::Result<()> {
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_ANSWER).await.map_err(io::Error::other)?;
    let response = Response::from_parts(parts, Body::empty());
    let length = bytes.len().to_string();
    let connection = if keep_alive { "keep-alive" } else { "close" };
    let mut out = head(&response, &[("content-length", &length), ("connection", connection)]);
    out.extend_from_slice(&bytes);
    io.write_all(&out).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_sizes_are_hex_lines() {
        assert_eq!(ChunkSize::of(0).as_bytes(), b"0\r\n");
        assert_eq!(ChunkSize::of(255).as_bytes(), b"ff\r\n");
        assert_eq!(ChunkSize::of(0x1a2b3).as_bytes(), b"1a2b3\r\n");
        assert_eq!(ChunkSize::of(usize::MAX).as_bytes(), b"ffffffffffffffff\r\n");
    }

    #[test]
    fn only_event_stream_paths_are_served_here() {
        assert!(is_stream_path("/events?boards=a,b"));
        assert!(is_stream_path("/boards/board-1/events"));
        assert!(is_stream_path("/boards/board-1/events?lastEventId=3"));
        assert!(!is_stream_path("/boards/board-1"));
        assert!(!is_stream_path("/boards//events"));
        assert!(!is_stream_path("/boards/a/b/events"));
        assert!(!is_stream_path("/eventsx"));
    }

    #[test]
    fn heads_with_a_body_an_upgrade_or_pipelined_bytes_go_to_hyper() {
        let ok = b"GET /boards/b/events HTTP/1.1\r\nHost: x\r\n\r\n";
        assert!(matches!(parse_head(ok), Head::Stream(_, true)));
        let close = b"GET /events HTTP/1.1\r\nConnection: close\r\n\r\n";
        assert!(matches!(parse_head(close), Head::Stream(_, false)));
        assert!(matches!(
            parse_head(b"GET /boards/b/events HTTP/1.1\r\nHo"),
            Head::Partial
        ));
        let upgrade = b"GET /boards/b/events HTTP/1.1\r\nUpgrade: websocket\r\n\r\n";
        assert!(matches!(parse_head(upgrade), Head::Other));
        let body = b"GET /events HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}";
        assert!(matches!(parse_head(body), Head::Other));
        let pipelined = b"GET /events HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n";
        assert!(matches!(parse_head(pipelined), Head::Other));
        assert!(matches!(parse_head(b"GET /boards HTTP/1.1\r\n\r\n"), Head::Other));
    }
}
