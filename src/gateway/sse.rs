//! Server-Sent Events: `GET /boards/:boardId/events` and `GET /events?boards=a,b`.
//!
//! First frame `retry:` + `data: {"type":"connected",…}`; then each event as
//! `id:`/`event:`/`data:`; `: heartbeat` comments while idle (the bytes are
//! `crate::wire::sse`'s). `Last-Event-ID` (or `?lastEventId=`) resumes from the log.
//! An id that is not a seq is answered with a `reset` event rather than an error
//! status, because an `EventSource` given an error status stops reconnecting for good.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use bytes::Bytes;
use futures_util::stream;

use super::live;
use super::openapi::{BadRequest, NotFound, Resume as ResumeHeader, TooManyRequests, Unauthorized, Unavailable};
use crate::app::AppState;
use crate::core::{Actor, Error, Resume, Subscription};
use crate::metrics::Transport;
use crate::proto::v1::Connected;
use crate::wire::sse::{self, Ids};
use crate::wire::{Step, resume};

/// Follows one board. A resume point that is not a seq, or one ahead of the board,
/// opens with an `event: reset` rather than an error status, because an `EventSource`
/// given an error status stops reconnecting for good.
#[utoipa::path(get, path = "/boards/{board_id}/events", tag = "streams",
    params(("board_id" = String, Path, description = "The board"), ResumeHeader,
        ("lastEventId" = Option<String>, Query, description = "`Last-Event-ID` for clients that cannot set it")),
    responses((status = 200, description = "An endless event stream: `retry:` and a `connected` frame, then each event as `id:` / `event:` / `data:` (a `BoardEvent`), `reset` / `revoked` / `board_deleted` notices, and `: heartbeat` comments while idle", content_type = "text/event-stream", body = String), Unauthorized, NotFound, TooManyRequests, Unavailable))]
pub async fn board_events(
    State(s): State<AppState>,
    actor: Actor,
    Path(board_id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let resume = board_resume(&headers, &q);
    let sub = s
        .core
        .subscribe(&actor, Transport::Sse, vec![(board_id.clone(), resume)], false)
        .await?;
    let current = sub.heads()[0].seq;
    let connected = Connected {
        board_id,
        seq: current,
        boards: vec![],
    };
    Ok(respond(sub, connected, Ids::Seq, s.config.sse_heartbeat_ms))
}

/// Several boards on one connection. The resume id is every board's seq:
/// `board-1:5,board-2:3`.
/// Follows several boards on one connection; frames carry `id: board-1:4,board-2:1`,
/// which resumes every board exactly.
#[utoipa::path(get, path = "/events", tag = "streams",
    params(("boards" = String, Query, description = "Comma-separated board ids"), ResumeHeader,
        ("lastEventId" = Option<String>, Query, description = "`Last-Event-ID` for clients that cannot set it")),
    responses((status = 200, description = "An endless event stream: `retry:` and a `connected` frame, then each event as `id:` / `event:` / `data:` (a `BoardEvent`), `reset` / `revoked` / `board_deleted` notices, and `: heartbeat` comments while idle", content_type = "text/event-stream", body = String), BadRequest, Unauthorized, NotFound, TooManyRequests, Unavailable))]
pub async fn many_board_events(
    State(s): State<AppState>,
    actor: Actor,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let boards: Vec<String> = q
        .get("boards")
        .map(|b| {
            b.split(',')
                .map(str::trim)
                .filter(|b| !b.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let resume_at = positions(&headers, &q);
    let follows = boards
        .into_iter()
        .map(|b| {
            let resume = match &resume_at {
                Ok(map) => map.get(&b).map_or(Resume::Live, |seq| Resume::After(*seq)),
                Err(raw) => Resume::Unreadable(raw.clone()),
            };
            (b, resume)
        })
        .collect();
    let sub = s.core.subscribe(&actor, Transport::Sse, follows, false).await?;
    let connected = Connected {
        boards: sub.heads(),
        ..Default::default()
    };
    Ok(respond(sub, connected, Ids::Positions, s.config.sse_heartbeat_ms))
}

/// Where a one-board stream starts: live without an id, after a seq, or (an id that
/// is not a seq) with a `reset`.
pub(crate) fn board_resume(headers: &HeaderMap, q: &HashMap<String, String>) -> Resume {
    match last_event_id(headers, q) {
        Ok(None) => Resume::Live,
        Ok(Some(raw)) => raw.parse().map(Resume::After).unwrap_or(Resume::Unreadable(raw)),
        Err(raw) => Resume::Unreadable(raw),
    }
}

/// Where each board of a several-board stream starts (`board-1:5,board-2:3`; a board
/// the id does not name goes live); the text, when it cannot be read.
pub(crate) fn positions(headers: &HeaderMap, q: &HashMap<String, String>) -> Result<HashMap<String, u64>, String> {
    last_event_id(headers, q).and_then(|raw| resume::parse(raw.as_deref()))
}

/// The resume point a client sent: `Ok(None)` for none, `Err` with the text as far as
/// it reads for one that cannot be read, so the stream opens with `reset` instead of
/// silently going live. A header of bytes that are not visible ASCII is unreadable (it
/// is no id this server wrote); so is a query value the decoder had to patch with
/// U+FFFD, which stands for bytes that were not UTF-8.
fn last_event_id(headers: &HeaderMap, q: &HashMap<String, String>) -> Result<Option<String>, String> {
    let raw = match headers.get("last-event-id") {
        Some(value) => match value.to_str() {
            Ok(text) => text.trim().to_owned(),
            Err(_) => return Err(String::from_utf8_lossy(value.as_bytes()).into_owned()),
        },
        None => match q.get("lastEventId") {
            Some(text) if text.contains(char::REPLACEMENT_CHARACTER) => return Err(text.clone()),
            Some(text) => text.trim().to_owned(),
            None => String::new(),
        },
    };
    Ok(Some(raw).filter(|v| !v.is_empty()))
}

struct Stream {
    sub: Subscription,
    ids: Ids,
    heartbeat: tokio::time::Interval,
    first: Option<Bytes>,
    done: bool,
}

impl Drop for Stream {
    fn drop(&mut self) {
        if !self.done {
            // The body was dropped before the stream said it was over: the connection
            // went (client left, send stall, or the server closed it).
            tracing::debug!(reason = "connection closed", "SSE stream ended");
        }
    }
}

fn respond(sub: Subscription, connected: Connected, ids: Ids, heartbeat_ms: u64) -> Response {
    let id = match ids {
        Ids::Positions => resume::format(&sub.positions()),
        Ids::Seq => String::new(),
    };
    let state = Stream {
        first: Some(sse::opening(&id, connected)),
        sub,
        ids,
        heartbeat: live::heartbeat(heartbeat_ms),
        done: false,
    };
    let body = stream::unfold(state, |mut st| async move {
        let frame = next_frame(&mut st).await?;
        Some((Ok::<_, std::convert::Infallible>(frame), st))
    });
    let mut response = Response::new(Body::from_stream(body));
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // Tell buffering proxies (nginx) to pass frames through as they come.
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// The next chunk: a heartbeat, or the next item's frame with whatever else is
/// already waiting; `None` once the stream is over.
async fn next_frame(st: &mut Stream) -> Option<Bytes> {
    if let Some(first) = st.first.take() {
        return Some(first);
    }
    if st.done {
        return None;
    }
    let first = loop {
        let item = tokio::select! {
            item = st.sub.next() => item,
            _ = st.heartbeat.tick() => return Some(sse::heartbeat()),
        };
        match sse::item(item, st.ids, || st.sub.positions()) {
            Step::Send(frame) => break frame,
            Step::Skip => {}
            Step::End { last, why } => {
                st.done = true;
                tracing::debug!(reason = why, "SSE stream ended");
                return last;
            }
        }
    };
    // Whatever else is already waiting goes out in the same chunk (and write). The
    // end, even when met while draining, comes after what was gathered.
    let mut batch: Option<Vec<u8>> = None;
    let ids = st.ids;
    live::drain(&mut st.sub, 1, |item, sub| {
        let (frame, more) = match sse::item(item, ids, || sub.positions()) {
            Step::Send(frame) => (Some(frame), true),
            Step::Skip => (None, true),
            Step::End { last, why } => {
                st.done = true;
                tracing::debug!(reason = why, "SSE stream ended");
                (last, false)
            }
        };
        if let Some(frame) = frame {
            batch.get_or_insert_with(|| first.to_vec()).extend_from_slice(&frame);
        }
        more
    });
    Some(batch.map_or(first, Bytes::from))
}
