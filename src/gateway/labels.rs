//! REST routes for labels and the activity feed. As elsewhere, the bodies are the
//! proto requests; the path (and `Idempotency-Key`) fill in what the body may omit.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{IdempotencyKey, JsonBody, query_number};
use super::openapi::{
    BadRequest, Change, Conflict, Forbidden, NotFound, PayloadTooLarge, Unauthorized, Unavailable, Unprocessable,
    UnsupportedMediaType,
};
use super::rest::merge;
use crate::app::AppState;
use crate::core::{Actor, Error};
use crate::proto::v1::{
    CreateLabelRequest, DeleteLabelRequest, Label, ListActivityRequest, ListActivityResponse, ListLabelsRequest,
    ListLabelsResponse, UpdateLabelRequest,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_labels, create_label))
        .routes(routes!(update_label, delete_label))
        .routes(routes!(list_activity))
}

/// A board's labels, by name.
#[utoipa::path(get, path = "/boards/{board_id}/labels", tag = "labels", params(("board_id" = String, Path, description = "The board")),
    responses((status = 200, body = ListLabelsResponse), Unauthorized, NotFound, Unavailable))]
async fn list_labels(State(s): State<AppState>, actor: Actor, Path(board_id): Path<String>) -> Result<Response, Error> {
    Ok(Json(s.core.list_labels(&actor, ListLabelsRequest { board_id }).await?).into_response())
}

/// Creates a label on a board (editors, owners).
#[utoipa::path(post, path = "/boards/{board_id}/labels", tag = "labels", request_body = CreateLabelRequest,
    params(("board_id" = String, Path, description = "The board"), Change), responses((status = 201, body = Label,
        headers(("Location" = String, description = "`/labels/<id>`"))), BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType,
        Unprocessable, Unavailable))]
async fn create_label(
    State(s): State<AppState>,
    actor: Actor,
    Path(board_id): Path<String>,
    IdempotencyKey(key): IdempotencyKey,
    JsonBody(mut req): JsonBody<CreateLabelRequest>,
) -> Result<Response, Error> {
    merge("boardId", &mut req.board_id, Some(board_id))?;
    merge("requestId", &mut req.request_id, key)?;
    let label = s.core.create_label(&actor, req).await?.label.unwrap_or_default();
    let mut response = (StatusCode::CREATED, Json(&label)).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/labels/{}", label.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// Renames or recolours a label.
#[utoipa::path(patch, path = "/labels/{label_id}", tag = "labels", request_body = UpdateLabelRequest,
    params(("label_id" = String, Path, description = "The label"), Change), responses((status = 200, body = Label), BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType,
        Unprocessable, Unavailable))]
async fn update_label(
    State(s): State<AppState>,
    actor: Actor,
    Path(label_id): Path<String>,
    IdempotencyKey(key): IdempotencyKey,
    JsonBody(mut req): JsonBody<UpdateLabelRequest>,
) -> Result<Response, Error> {
    merge("labelId", &mut req.label_id, Some(label_id))?;
    merge("requestId", &mut req.request_id, key)?;
    Ok(Json(s.core.update_label(&actor, req).await?.label).into_response())
}

/// Deletes a label; it comes off every task that had it.
#[utoipa::path(delete, path = "/labels/{label_id}", tag = "labels", params(("label_id" = String, Path, description = "The label"), Change),
    responses((status = 204, description = "Deleted"), BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Unprocessable, Unavailable))]
async fn delete_label(
    State(s): State<AppState>,
    actor: Actor,
    Path(label_id): Path<String>,
    IdempotencyKey(key): IdempotencyKey,
) -> Result<Response, Error> {
    let req = DeleteLabelRequest {
        label_id,
        request_id: key.unwrap_or_default(),
    };
    s.core.delete_label(&actor, req).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `?before=SEQ&limit=N`: both whole numbers; core bounds `limit`.
/// The board's log as sentences, newest first; pass `nextBefore` as `before` for the next page.
#[utoipa::path(get, path = "/boards/{board_id}/activity", tag = "activity",
    params(("board_id" = String, Path, description = "The board"), ("before" = Option<u64>, Query, description = "Entries before this seq (0 or absent: from the newest)"),
        ("limit" = Option<u64>, Query, description = "At most this many (default 50, at most 200)")),
    responses((status = 200, body = ListActivityResponse), BadRequest, Unauthorized, NotFound, Unavailable))]
async fn list_activity(
    State(s): State<AppState>,
    actor: Actor,
    Path(board_id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Error> {
    let limit = query_number(&q, "limit")?.map(|n| u32::try_from(n).unwrap_or(u32::MAX));
    let req = ListActivityRequest {
        board_id,
        before: query_number(&q, "before")?,
        limit,
    };
    Ok(Json(s.core.list_activity(&actor, req).await?).into_response())
}
