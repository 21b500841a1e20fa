//! Server-Sent Events: `GET /boards/:boardId/events` and `GET /events?boards=a,b`.
//!
//! First frame `retry:` + `data: {"type":"connected",…}`; then each event as
//! `id:`/`event:`/`data:`; `: heartbeat` comments while idle. `Last-Event-ID` (or
//! `?lastEventId=`) resumes from the log. An id that is not a seq is answered with a
//! `reset` event rather than an error status, because an `EventSource` given an
//! error status stops reconnecting for good.

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use bytes::Bytes;
use futures_util::stream;
use tokio::time::{Instant, MissedTickBehavior, interval_at};

use crate::app::AppState;
use crate::bus::sse_frame;
use crate::core::{Actor, BATCH, Error, Resume, StreamItem, Subscription};
use crate::proto::v1::{Connected, Reset, StreamNotice, stream_notice::Notice};

/// Reconnect delay suggested to `EventSource`, in ms.
const RETRY_MS: u32 = 2000;

pub async fn board_events(
    State(s): State<AppState>,
    actor: Actor,
    Path(board_id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let resume = match last_event_id(&headers, &q) {
        None => Resume::Live,
        Some(raw) => raw.parse().map(Resume::After).unwrap_or(Resume::Unreadable(raw)),
    };
    let sub = s
        .core
        .subscribe(&actor, vec![(board_id.clone(), resume)], false)
        .await?;
    let current = sub.heads()[0].seq;
    let connected = Connected {
        board_id,
        seq: current,
        boards: vec![],
    };
    Ok(respond(sub, connected, false, s.config.sse_heartbeat_ms))
}

/// Several boards on one connection. The resume id is every board's seq:
/// `board-1:5,board-2:3`.
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
    let resume_at = parse_multi_id(last_event_id(&headers, &q).as_deref());
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
    let sub = s.core.subscribe(&actor, follows, false).await?;
    let connected = Connected {
        boards: sub.heads(),
        ..Default::default()
    };
    Ok(respond(sub, connected, true, s.config.sse_heartbeat_ms))
}

fn last_event_id(headers: &HeaderMap, q: &HashMap<String, String>) -> Option<String> {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
        .or_else(|| q.get("lastEventId").cloned())
        .filter(|v| !v.is_empty())
}

/// `board-1:5,board-2:3` → {board-1: 5, board-2: 3}; the raw text when unreadable.
fn parse_multi_id(raw: Option<&str>) -> Result<HashMap<String, u64>, String> {
    let Some(raw) = raw else { return Ok(HashMap::new()) };
    raw.split(',')
        .map(|part| {
            let (board, seq) = part.rsplit_once(':').ok_or_else(|| raw.to_owned())?;
            Ok((board.to_owned(), seq.parse().map_err(|_| raw.to_owned())?))
        })
        .collect()
}

fn multi_id(sub: &Subscription) -> String {
    sub.positions()
        .iter()
        .map(|p| format!("{}:{}", p.board_id, p.seq))
        .collect::<Vec<_>>()
        .join(",")
}

fn notice_frame(id: &str, notice: Notice) -> Bytes {
    let type_name = match notice {
        Notice::Connected(_) => None,
        Notice::Reset(_) => Some("reset"),
    };
    let json = serde_json::to_vec(&StreamNotice { notice: Some(notice) }).expect("proto types serialize");
    sse_frame(id, type_name, &json)
}

struct Stream {
    sub: Subscription,
    multi: bool,
    heartbeat: tokio::time::Interval,
    first: Option<Bytes>,
    done: bool,
}

fn respond(sub: Subscription, connected: Connected, multi: bool, heartbeat_ms: u64) -> Response {
    let id = if multi { multi_id(&sub) } else { String::new() };
    let mut first = format!("retry: {RETRY_MS}\n").into_bytes();
    first.extend_from_slice(&notice_frame(&id, Notice::Connected(connected)));
    let period = Duration::from_millis(heartbeat_ms.max(1));
    let mut heartbeat = interval_at(Instant::now() + period, period);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let state = Stream {
        sub,
        multi,
        heartbeat,
        first: Some(first.into()),
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

async fn next_frame(st: &mut Stream) -> Option<Bytes> {
    if let Some(first) = st.first.take() {
        return Some(first);
    }
    if st.done {
        return None;
    }
    let item = tokio::select! {
        item = st.sub.next() => item,
        _ = st.heartbeat.tick() => return Some(Bytes::from_static(b": heartbeat\n\n")),
    };
    let first = item_frame(st, item)?;
    // Whatever else is already waiting goes out in the same chunk (and write).
    let mut batch: Option<Vec<u8>> = None;
    for _ in 1..BATCH {
        if st.done {
            break;
        }
        let Some(item) = st.sub.ready() else { break };
        let Some(frame) = item_frame(st, item) else { break };
        batch.get_or_insert_with(|| first.to_vec()).extend_from_slice(&frame);
    }
    Some(batch.map_or(first, Bytes::from))
}

fn item_frame(st: &mut Stream, item: crate::core::Result<Option<StreamItem>>) -> Option<Bytes> {
    match item {
        Ok(Some(StreamItem::Event(event))) => Some(if st.multi {
            sse_frame(&multi_id(&st.sub), Some(event.type_name()), &event.json)
        } else {
            event.sse_frame()
        }),
        Ok(Some(StreamItem::Reset(reset))) => Some(reset_frame(st, reset)),
        // A lagged stream ends after telling the client where to resume.
        Ok(Some(StreamItem::Lagged(reset))) => {
            st.done = true;
            Some(reset_frame(st, reset))
        }
        Ok(Some(StreamItem::Snapshot(_))) => None,
        // The end, even when met while draining: what was gathered goes out first.
        Ok(None) => {
            st.done = true;
            None
        }
        Err(e) => {
            tracing::error!(error = %e, "SSE stream failed");
            st.done = true;
            None
        }
    }
}

fn reset_frame(st: &Stream, reset: Reset) -> Bytes {
    let id = if st.multi {
        multi_id(&st.sub)
    } else {
        reset.seq.to_string()
    };
    notice_frame(&id, Notice::Reset(reset))
}

#[cfg(test)]
mod tests {
    use super::parse_multi_id;

    #[test]
    fn multi_board_ids_parse_and_reject_garbage() {
        let map = parse_multi_id(Some("board-1:5,b:oard:3")).unwrap();
        assert_eq!(map["board-1"], 5);
        assert_eq!(map["b:oard"], 3);
        assert!(parse_multi_id(Some("board-1")).is_err());
        assert!(parse_multi_id(Some("board-1:x")).is_err());
        assert!(parse_multi_id(None).unwrap().is_empty());
    }
}
