//! REST routes, seed-compatible: the JSON bodies are the proto messages themselves.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch};
use axum::{Json, Router};
use serde::Deserialize;

use super::extract::{IdempotencyKey, IfMatch, JsonBody, etag, query_number};
use crate::app::AppState;
use crate::core::{Actor, Error};
use crate::proto::v1::{
    CreateTaskRequest, DeleteTaskRequest, GetBoardRequest, GetTaskRequest, ListTasksRequest, MoveTaskRequest, Task,
    UpdateTaskRequest,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/boards", get(list_boards))
        .route("/boards/{board_id}", get(get_board))
        .route("/boards/{board_id}/tasks", get(list_tasks))
        .route("/tasks", axum::routing::post(create_task))
        .route("/tasks/{task_id}", get(get_task).patch(update_task).delete(delete_task))
        .route("/tasks/{task_id}/move", patch(move_task))
        .merge(super::boards::routes())
        .merge(super::labels::routes())
}

async fn list_boards(State(s): State<AppState>, actor: Actor) -> Result<Response, Error> {
    Ok(Json(s.core.list_boards(&actor).await?).into_response())
}

/// `?limit=N&pageToken=T`: a page of the board's tasks (`nextPageToken` in the answer).
async fn get_board(
    State(s): State<AppState>,
    actor: Actor,
    Path(board_id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Error> {
    let req = GetBoardRequest {
        board_id,
        limit: query_number(&q, "limit")?.map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
        page_token: q.get("pageToken").cloned().unwrap_or_default(),
    };
    Ok(Json(s.core.get_board(&actor, req).await?).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListTasksQuery {
    #[serde(default)]
    list_id: String,
}

async fn list_tasks(
    State(s): State<AppState>,
    actor: Actor,
    Path(board_id): Path<String>,
    Query(q): Query<ListTasksQuery>,
) -> Result<Response, Error> {
    let req = ListTasksRequest {
        board_id,
        list_id: q.list_id,
    };
    Ok(Json(s.core.list_tasks(&actor, req).await?).into_response())
}

async fn get_task(State(s): State<AppState>, actor: Actor, Path(task_id): Path<String>) -> Result<Response, Error> {
    let task = s.core.get_task(&actor, GetTaskRequest { task_id }).await?.task;
    Ok(task_response(StatusCode::OK, task))
}

async fn create_task(
    State(s): State<AppState>,
    actor: Actor,
    IdempotencyKey(key): IdempotencyKey,
    JsonBody(mut req): JsonBody<CreateTaskRequest>,
) -> Result<Response, Error> {
    merge("requestId", &mut req.request_id, key)?;
    let task = s.core.create_task(&actor, req).await?.task;
    let location = task
        .as_ref()
        .and_then(|t| HeaderValue::from_str(&format!("/tasks/{}", t.id)).ok());
    let mut response = task_response(StatusCode::CREATED, task);
    if let Some(location) = location {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

async fn update_task(
    State(s): State<AppState>,
    actor: Actor,
    Path(task_id): Path<String>,
    IfMatch(if_match): IfMatch,
    IdempotencyKey(key): IdempotencyKey,
    JsonBody(mut req): JsonBody<UpdateTaskRequest>,
) -> Result<Response, Error> {
    merge("taskId", &mut req.task_id, Some(task_id))?;
    merge("requestId", &mut req.request_id, key)?;
    merge_version(&mut req.expected_version, if_match)?;
    let result = s.core.update_task(&actor, req).await;
    let task = precondition(result, if_match)?.task;
    Ok(task_response(StatusCode::OK, task))
}

async fn move_task(
    State(s): State<AppState>,
    actor: Actor,
    Path(task_id): Path<String>,
    IfMatch(if_match): IfMatch,
    IdempotencyKey(key): IdempotencyKey,
    JsonBody(mut req): JsonBody<MoveTaskRequest>,
) -> Result<Response, Error> {
    merge("taskId", &mut req.task_id, Some(task_id))?;
    merge("requestId", &mut req.request_id, key)?;
    merge_version(&mut req.expected_version, if_match)?;
    let result = s.core.move_task(&actor, req).await;
    let task = precondition(result, if_match)?.task;
    Ok(task_response(StatusCode::OK, task))
}

async fn delete_task(
    State(s): State<AppState>,
    actor: Actor,
    Path(task_id): Path<String>,
    IfMatch(if_match): IfMatch,
    IdempotencyKey(key): IdempotencyKey,
) -> Result<Response, Error> {
    let req = DeleteTaskRequest {
        task_id,
        expected_version: if_match,
        request_id: key.unwrap_or_default(),
    };
    precondition(s.core.delete_task(&actor, req).await, if_match)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A task as the body, its version as the ETag.
fn task_response(status: StatusCode, task: Option<Task>) -> Response {
    let Some(task) = task else {
        return status.into_response();
    };
    let tag = HeaderValue::from_str(&etag(task.version)).ok();
    let mut response = (status, Json(task)).into_response();
    if let Some(tag) = tag {
        response.headers_mut().insert(header::ETAG, tag);
    }
    response
}

/// Fills a request field from the path or a header; a body that says otherwise is refused.
pub(super) fn merge(field: &str, body: &mut String, outside: Option<String>) -> Result<(), Error> {
    match outside {
        Some(v) if !body.is_empty() && *body != v => Err(Error::invalid(
            field,
            format!("{field} in the body (`{body}`) disagrees with the request's (`{v}`)"),
        )),
        Some(v) => {
            *body = v;
            Ok(())
        }
        None => Ok(()),
    }
}

fn merge_version(body: &mut Option<u64>, if_match: Option<u64>) -> Result<(), Error> {
    match (*body, if_match) {
        (Some(b), Some(h)) if b != h => Err(Error::invalid(
            "expectedVersion",
            format!("expectedVersion {b} disagrees with If-Match \"{h}\""),
        )),
        (_, Some(h)) => {
            *body = Some(h);
            Ok(())
        }
        _ => Ok(()),
    }
}

/// A version conflict is a failed precondition when the expectation came from `If-Match`.
fn precondition<T>(result: Result<T, Error>, if_match: Option<u64>) -> Result<T, Error> {
    match if_match {
        Some(_) => result.map_err(Error::into_precondition),
        None => result,
    }
}
