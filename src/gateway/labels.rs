//! REST routes for labels and the activity feed. As elsewhere, the bodies are the
//! proto requests; the path (and `Idempotency-Key`) fill in what the body may omit.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch};
use axum::{Json, Router};
use std::collections::HashMap;

use super::extract::{IdempotencyKey, JsonBody, query_number};
use super::rest::merge;
use crate::app::AppState;
use crate::core::{Actor, Error};
use crate::proto::v1::{
    CreateLabelRequest, DeleteLabelRequest, ListActivityRequest, ListLabelsRequest, UpdateLabelRequest,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/boards/{board_id}/labels", get(list_labels).post(create_label))
        .route("/labels/{label_id}", patch(update_label).delete(delete_label))
        .route("/boards/{board_id}/activity", get(list_activity))
}

async fn list_labels(State(s): State<AppState>, actor: Actor, Path(board_id): Path<String>) -> Result<Response, Error> {
    Ok(Json(s.core.list_labels(&actor, ListLabelsRequest { board_id }).await?).into_response())
}

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
