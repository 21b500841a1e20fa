//! REST routes, seed-compatible: the JSON bodies are the proto messages themselves.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{IdempotencyKey, IfMatch, JsonBody, etag, query_number};
use super::openapi::{
    BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, PreconditionFailed, TaskChange, Unauthorized,
    Unavailable, Unprocessable, UnsupportedMediaType,
};
use crate::app::AppState;
use crate::core::{Actor, Error};
use crate::proto::v1::{
    CreateTaskRequest, DeleteTaskRequest, GetBoardRequest, GetBoardResponse, GetTaskRequest, ListBoardsResponse,
    ListTasksRequest, ListTasksResponse, MoveTaskRequest, Task, UpdateTaskRequest,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_boards))
        .routes(routes!(get_board))
        .routes(routes!(list_tasks))
        .routes(routes!(create_task))
        .routes(routes!(get_task, update_task, delete_task))
        .routes(routes!(move_task))
        .merge(super::boards::routes())
        .merge(super::labels::routes())
}

/// The boards the caller is a member of.
#[utoipa::path(get, path = "/boards", tag = "boards",
    responses((status = 200, body = ListBoardsResponse), Unauthorized, Unavailable))]
async fn list_boards(State(s): State<AppState>, actor: Actor) -> Result<Response, Error> {
    Ok(Json(s.core.list_boards(&actor).await?).into_response())
}

/// A board with its lists, a page of its tasks (`?limit=N&pageToken=T`; the answer's
/// `nextPageToken` asks for the next) and its seq, from one consistent read.
#[utoipa::path(get, path = "/boards/{board_id}", tag = "boards",
    params(("board_id" = String, Path, description = "The board"),
        ("limit" = Option<u32>, Query, description = "Tasks per page: default 500, at most 1000"),
        ("pageToken" = Option<String>, Query, description = "The `nextPageToken` of the previous page")),
    responses((status = 200, body = GetBoardResponse), BadRequest, Unauthorized, NotFound, Unavailable))]
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

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
struct ListTasksQuery {
    /// Only this list's tasks.
    #[serde(default)]
    #[param(required = false)]
    list_id: String,
}

/// A board's tasks, ordered by list, then position.
#[utoipa::path(get, path = "/boards/{board_id}/tasks", tag = "tasks",
    params(("board_id" = String, Path, description = "The board"), ListTasksQuery),
    responses((status = 200, body = ListTasksResponse), BadRequest, Unauthorized, NotFound, Unavailable))]
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

/// A task; its version is the ETag.
#[utoipa::path(get, path = "/tasks/{task_id}", tag = "tasks",
    params(("task_id" = String, Path, description = "The task")),
    responses((status = 200, body = Task, headers(("ETag" = String, description = "`\"<version>\"`"))), Unauthorized, NotFound, Unavailable))]
async fn get_task(State(s): State<AppState>, actor: Actor, Path(task_id): Path<String>) -> Result<Response, Error> {
    let task = s.core.get_task(&actor, GetTaskRequest { task_id }).await?.task;
    Ok(task_response(StatusCode::OK, task))
}

/// Creates a task in a list (at the end unless `position` says where).
#[utoipa::path(post, path = "/tasks", tag = "tasks", request_body = CreateTaskRequest, params(super::openapi::Change),
    responses((status = 201, body = Task, headers(("ETag" = String, description = "`\"<version>\"`"),
        ("Location" = String, description = "`/tasks/<id>`"))),
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable,
        Unavailable))]
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

/// Changes a task's fields; a field left out is unchanged, `[]` clears a set and
/// `"dueAt": null` the date.
#[utoipa::path(patch, path = "/tasks/{task_id}", tag = "tasks", request_body = UpdateTaskRequest,
    params(("task_id" = String, Path, description = "The task"), TaskChange),
    responses((status = 200, body = Task, headers(("ETag" = String, description = "`\"<version>\"`"))), BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PreconditionFailed, PayloadTooLarge,
        UnsupportedMediaType, Unprocessable, Unavailable))]
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

/// Moves a task to a list and position; siblings renumber, past the end clamps.
#[utoipa::path(patch, path = "/tasks/{task_id}/move", tag = "tasks", request_body = MoveTaskRequest,
    params(("task_id" = String, Path, description = "The task"), TaskChange),
    responses((status = 200, body = Task, headers(("ETag" = String, description = "`\"<version>\"`"))), BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PreconditionFailed, PayloadTooLarge,
        UnsupportedMediaType, Unprocessable, Unavailable))]
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

/// Deletes a task.
#[utoipa::path(delete, path = "/tasks/{task_id}", tag = "tasks",
    params(("task_id" = String, Path, description = "The task"), TaskChange),
    responses((status = 204, description = "Deleted"), BadRequest, Unauthorized, Forbidden, NotFound, Conflict,
        PreconditionFailed, Unprocessable, Unavailable))]
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
