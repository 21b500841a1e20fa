//! The polling fallback, for clients that can hold neither SSE nor a WebSocket:
//! `/changes?after=N` (at once), `/poll?after=N&timeout=S` (held until an event or the
//! timeout), and the seed course's `/updates?since=` and `/poll` shapes.

use std::collections::HashMap;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};

use super::extract::query_number;
use super::openapi::{BadRequest, NotFound, PollAnswer, TooManyRequests, Unauthorized, Unavailable};
use crate::app::AppState;
use crate::core::{Actor, Error, MAX_POLL_WAIT, time};
use crate::proto::v1::{ChangesResponse, PollResponse, UpdatesResponse};

type Params = Query<HashMap<String, String>>;

/// The events after `after`, at once, and the board's seq.
#[utoipa::path(get, path = "/boards/{board_id}/changes", tag = "streams",
    params(("board_id" = String, Path, description = "The board"), ("after" = Option<u64>, Query, description = "The last seq the client has (default 0)")),
    responses((status = 200, body = ChangesResponse), BadRequest, Unauthorized, NotFound, Unavailable))]
pub async fn changes(
    State(s): State<AppState>,
    actor: Actor,
    Path(board_id): Path<String>,
    Query(q): Params,
) -> Result<Response, Error> {
    let after = query_number(&q, "after")?.unwrap_or(0);
    Ok(Json(s.core.changes(&actor, &board_id, after).await?).into_response())
}

/// Long polling: held until an event after `after` exists or `timeout` seconds pass
/// (then `"timeout": true`). Without `after`, the seed course's `{"data","timestamp","timeout"}`.
#[utoipa::path(get, path = "/boards/{board_id}/poll", tag = "streams",
    params(("board_id" = String, Path, description = "The board"), ("after" = Option<u64>, Query, description = "The last seq the client has; absent: wait for the next event"),
        ("timeout" = Option<u64>, Query, maximum = 30, description = "Seconds to hold the request (default and at most 30)")),
    responses((status = 200, description = "Events, or a timeout", body = PollAnswer),
        BadRequest, Unauthorized, NotFound, TooManyRequests, Unavailable))]
pub async fn poll(
    State(s): State<AppState>,
    actor: Actor,
    Path(board_id): Path<String>,
    Query(q): Params,
) -> Result<Response, Error> {
    let wait = query_number(&q, "timeout")?.map_or(MAX_POLL_WAIT, Duration::from_secs);
    let after = query_number(&q, "after")?;
    let answer = s.core.wait_changes(&actor, &board_id, after, wait).await?;
    if after.is_some() {
        return Ok(Json(answer).into_response());
    }
    // The seed course's shape for a poll without `after`.
    Ok(Json(PollResponse {
        data: answer.events,
        timestamp: time::now_millis(),
        timeout: answer.timeout,
    })
    .into_response())
}

/// The seed course's shape: the tasks changed since `since` (Unix ms).
#[utoipa::path(get, path = "/boards/{board_id}/updates", tag = "streams",
    params(("board_id" = String, Path, description = "The board"), ("since" = Option<u64>, Query, description = "Unix milliseconds (default 0)")),
    responses((status = 200, body = UpdatesResponse), BadRequest, Unauthorized, NotFound, Unavailable))]
pub async fn updates(
    State(s): State<AppState>,
    actor: Actor,
    Path(board_id): Path<String>,
    Query(q): Params,
) -> Result<Response, Error> {
    let since = query_number(&q, "since")?.unwrap_or(0);
    let since = i64::try_from(since).map_err(|_| Error::invalid("since", "since is too large"))?;
    Ok(Json(s.core.updates_since(&actor, &board_id, since).await?).into_response())
}
