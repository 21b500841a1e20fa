//! Answers a detected stream request (see [`super::detect`]) on the socket, without
//! hyper: the request goes through the same router as any other (identity, access,
//! resume: all the usual code), and the answer is written here. A stream is its head,
//! then the body's frames as HTTP/1.1 chunks (raw until close on HTTP/1.0), while a
//! small read watches for the peer closing. A small answer that is not a stream
//! (401, 404, 429, …) is written whole with its length, and a kept-alive connection
//! goes on with hyper; anything else is written like a stream and the connection
//! closed, so every request gets an answer.

use std::io;

use axum::Router;
use axum::body::Body;
use axum::body::HttpBody as _;
use axum::http::{HeaderValue, Response, Version, header};
use bytes::{Buf, Bytes};
use http_body_util::BodyExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use tower::ServiceExt;

use super::detect::StreamRequest;
use super::listener::StallGuard;
use crate::delivery::Delivery;

/// Largest non-stream answer written with a `Content-Length` (errors are small JSON).
const MAX_ANSWER: usize = 64 * 1024;

/// Why a stream written here ended (logged at debug level).
#[derive(Debug, thiserror::Error)]
enum End {
    #[error("the stream was over")]
    Done,
    #[error("the server is shutting down")]
    Shutdown,
    #[error("the client left")]
    ClientLeft,
    #[error("the client's connection failed: {0}")]
    ReadFailed(#[source] io::Error),
    #[error("the client stopped reading (send stall)")]
    SendStall,
    #[error("a write failed: {0}")]
    WriteFailed(#[source] io::Error),
    #[error("the response body failed: {0}")]
    BodyFailed(#[source] axum::Error),
}

impl End {
    fn write(e: io::Error) -> Self {
        // `StallGuard`'s way of saying the peer stopped reading.
        if e.kind() == io::ErrorKind::TimedOut {
            End::SendStall
        } else {
            End::WriteFailed(e)
        }
    }
}

/// Runs the request and writes its answer. Gives the connection back when it is
/// kept alive for more requests (hyper's), `None` when it is over.
pub(super) async fn serve(
    mut io: StallGuard,
    app: &Router,
    detected: StreamRequest,
    stop: &watch::Receiver<bool>,
    delivery: &Delivery,
) -> Option<StallGuard> {
    let StreamRequest { request, keep_alive } = detected;
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
    let fits = response
        .body()
        .size_hint()
        .exact()
        .is_some_and(|n| n <= MAX_ANSWER as u64);
    if is_stream || !fits {
        // The request's span is over once the answer is written: name it here.
        let request_id = response.headers().get(super::request_id::X_REQUEST_ID).cloned();
        let stop = stop.clone();
        // The head here, with the request; the body on the delivery threads, so its
        // writes never queue in front of another connection's request. Awaited, so the
        // connection (its slot, the drain's count) lasts as long as the stream.
        let (head, chunked) = stream_head(&response, version, !is_stream);
        let head = io.write_all(&head).await;
        let streamed = delivery.spawn(async move {
            let end = match head {
                Ok(()) => stream(&mut io, response, chunked).await,
                Err(e) => End::write(e),
            };
            let end = match end {
                End::Done if *stop.borrow() => End::Shutdown,
                end => end,
            };
            let request_id = request_id.as_ref().and_then(|v| v.to_str().ok()).unwrap_or_default();
            tracing::debug!(reason = %end, stream = is_stream, request_id, "HTTP/1 stream ended");
            close(io).await;
        });
        streamed.await;
        return None;
    }
    match Box::pin(answer(&mut io, response, keep_alive)).await {
        Ok(()) if keep_alive => return Some(io),
        Ok(()) => {}
        Err(e) => tracing::debug!(error = %e, "answer not written"),
    }
    close(io).await;
    None
}

async fn close(mut io: StallGuard) {
    if let Err(e) = io.shutdown().await {
        tracing::trace!(error = %e, "shutdown of a finished connection failed");
    }
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

/// A stream's head: chunked on HTTP/1.1, raw until close on HTTP/1.0. `closing`
/// says so in the head (an answer too big to be whole). With whether the body is
/// chunked.
fn stream_head(response: &Response<Body>, version: Version, closing: bool) -> (Vec<u8>, bool) {
    let chunked = version == Version::HTTP_11;
    let extra: &[(&str, &str)] = match (chunked, closing) {
        (true, false) => &[("transfer-encoding", "chunked")],
        (true, true) => &[("transfer-encoding", "chunked"), ("connection", "close")],
        (false, _) => &[("connection", "close")],
    };
    (head(response, extra), chunked)
}

/// Writes the body until it ends or the peer goes.
async fn stream(io: &mut StallGuard, response: Response<Body>, chunked: bool) -> End {
    let mut body = response.into_body();
    let mut probe = [0u8; 32];
    let end = loop {
        tokio::select! {
            frame = body.frame() => {
                let data = match frame {
                    None => break End::Done,
                    // Ended like any other stream: the client sees a clean end.
                    Some(Err(e)) => break End::BodyFailed(e),
                    Some(Ok(frame)) => match frame.into_data() {
                        Ok(data) if !data.is_empty() => data,
                        _ => continue,
                    },
                };
                if let Err(e) = write_data(io, data, chunked).await {
                    return End::write(e);
                }
            }
            // The peer closing (or sending what a stream has no use for).
            read = io.read(&mut probe) => match read {
                Ok(0) => return End::ClientLeft,
                Err(e) => return End::ReadFailed(e),
                Ok(_) => {}
            }
        }
    };
    if chunked && let Err(e) = io.write_all(b"0\r\n\r\n").await {
        return End::write(e);
    }
    end
}

async fn write_data(io: &mut StallGuard, data: Bytes, chunked: bool) -> io::Result<()> {
    if chunked {
        // Size line, data, CRLF: one vectored write, the event bytes not copied.
        let size = ChunkSize::of(data.len());
        let mut chunk = Buf::chain(Buf::chain(size.as_bytes(), data), &b"\r\n"[..]);
        io.write_all_buf(&mut chunk).await
    } else {
        io.write_all(&data).await
    }
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

/// Writes a whole (small, exactly sized) answer with its length.
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

    /// Serves one request through `serve` on a loopback socket; returns what the
    /// client read until the server closed, and whether the server kept it alive.
    async fn served(app: Router, head: &str) -> (String, bool) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = tokio::net::TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let mut io = StallGuard::new(server, std::time::Duration::from_secs(5));
        client.write_all(head.as_bytes()).await.unwrap();
        let (_stop_tx, mut stop) = watch::channel(false);
        let detected = super::super::detect::detect(&mut io, &mut stop, std::time::Duration::from_secs(5)).await;
        let super::super::detect::Detected::Stream(request) = detected.unwrap() else {
            panic!("a stream request")
        };
        let delivery = crate::delivery::Delivery::start(1).unwrap();
        let kept = serve(io, &app, request, &stop, &delivery).await;
        let alive = kept.is_some();
        drop(kept);
        let mut all = Vec::new();
        client.read_to_end(&mut all).await.unwrap();
        (String::from_utf8(all).unwrap(), alive)
    }

    #[tokio::test]
    async fn an_answer_too_big_to_be_whole_is_still_written_then_the_connection_closes() {
        let big = "x".repeat(MAX_ANSWER + 1);
        let body = big.clone();
        let app = Router::new().route("/events", axum::routing::get(move || async move { body }));
        let (text, alive) = served(app, "GET /events HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(!alive);
        let lower = text.to_ascii_lowercase();
        assert!(lower.starts_with("http/1.1 200 ok\r\n"), "{text:.200}");
        assert!(lower.contains("transfer-encoding: chunked\r\n"), "{text:.200}");
        assert!(lower.contains("connection: close\r\n"), "{text:.200}");
        let body = &text[text.find("\r\n\r\n").unwrap() + 4..];
        let mut rest = body;
        let mut got = String::new();
        loop {
            let (size, after) = rest.split_once("\r\n").unwrap();
            let size = usize::from_str_radix(size, 16).unwrap();
            if size == 0 {
                break;
            }
            got.push_str(&after[..size]);
            rest = &after[size + 2..];
        }
        assert_eq!(got, big);
    }

    #[tokio::test]
    async fn a_small_answer_is_whole_and_keeps_the_connection() {
        let app = Router::new().route("/events", axum::routing::get(|| async { "no" }));
        let (text, alive) = served(app, "GET /events HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(alive);
        assert!(
            text.contains("content-length: 2\r\nconnection: keep-alive\r\n\r\nno"),
            "{text}"
        );
    }

    #[test]
    fn the_head_keeps_the_framing_headers_to_itself() {
        let response = Response::builder()
            .status(404)
            .header("content-type", "application/json")
            .header("content-length", "999")
            .header("connection", "upgrade")
            .body(Body::empty())
            .unwrap();
        let head = String::from_utf8(head(&response, &[("content-length", "2")])).unwrap();
        assert!(head.starts_with("HTTP/1.1 404 Not Found\r\n"), "{head}");
        assert!(head.contains("content-type: application/json\r\n"), "{head}");
        assert!(head.contains("\r\ndate: "), "{head}");
        assert_eq!(head.matches("content-length").count(), 1, "{head}");
        assert!(!head.contains("connection"), "{head}");
        assert!(head.ends_with("content-length: 2\r\n\r\n"), "{head}");
    }
}
