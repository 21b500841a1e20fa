//! The entry points of the `cargo fuzz` targets in `fuzz/`, compiled only under
//! `cfg(fuzzing)` (which cargo-fuzz sets), so the product's public API does not grow
//! by them. It owns nothing but the calls: each function is one parser a client's
//! bytes reach, called exactly as the server calls it, with its answer in a form a
//! target can check.
//!
//! The top layer, above `server`: it names the modules whose parsers it drives
//! (`gateway`, `server`, `wire`, and `core` for their answers; `tests/layering.rs`),
//! and nothing names it.

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Request};
use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::core::{Error, Resume};
pub use crate::wire::resume::{format as format_positions, parse as parse_positions};
pub use crate::wire::ws::Incoming;

/// A WebSocket text frame as the connection decodes it: the typed message, or the
/// `error` frame that answers it.
pub fn ws_message(text: &str) -> Result<Incoming, Bytes> {
    crate::wire::ws::decode(text)
}

/// A REST request body as `JsonBody<T>` reads it (once the content type and the size
/// limit have let it through).
pub fn rest_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    crate::gateway::parse_json(body)
}

/// What the protocol detector makes of a connection's bytes so far.
#[derive(Debug)]
pub enum Head {
    /// Not a whole head yet: the detector reads on.
    Partial,
    /// Hyper's (any other request, h2, not HTTP).
    Other,
    /// An event-stream request, served on the socket (boxed as the detector has it).
    Stream {
        request: Box<Request<Body>>,
        keep_alive: bool,
    },
}

/// The detector's verdict on `buf`, which it gives after each read of a connection's
/// first bytes.
pub fn sse_head(buf: &[u8]) -> Head {
    match crate::server::classify(buf) {
        crate::server::Class::Partial => Head::Partial,
        crate::server::Class::Other => Head::Other,
        crate::server::Class::Stream(crate::server::StreamRequest { request, keep_alive }) => {
            Head::Stream { request, keep_alive }
        }
    }
}

/// Where the two SSE handlers start from a resume id.
#[derive(Debug)]
pub struct ResumeAt {
    /// `GET /boards/{id}/events`.
    pub one_board: Resume,
    /// `GET /events?boards=…`: board → seq, or the unreadable text.
    pub several: Result<HashMap<String, u64>, String>,
}

/// A `Last-Event-ID` header as the SSE handlers read it.
pub fn last_event_id(value: HeaderValue) -> ResumeAt {
    let mut headers = HeaderMap::new();
    headers.insert("last-event-id", value);
    resume_at(&headers, &HashMap::new())
}

/// A `?lastEventId=` value (already percent-decoded, as the query extractor gives it)
/// as the SSE handlers read it.
pub fn last_event_id_query(value: String) -> ResumeAt {
    let query = HashMap::from([("lastEventId".to_owned(), value)]);
    resume_at(&HeaderMap::new(), &query)
}

fn resume_at(headers: &HeaderMap, query: &HashMap<String, String>) -> ResumeAt {
    ResumeAt {
        one_board: crate::gateway::board_resume(headers, query),
        several: crate::gateway::positions(headers, query),
    }
}
