//! REST routes for boards, lists and members. As in `rest.rs`, the bodies are the
//! proto requests; the path (and `Idempotency-Key`) fill in what the body may omit,
//! and a body that disagrees with them is a 400.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{patch, post};
use axum::{Json, Router};
use std::collections::HashMap;

use super::extract::{IdempotencyKey, JsonBody};
use super::rest::merge;
use crate::app::AppState;
use crate::core::{Actor, Error};
use crate::proto::v1::{
    AddMemberRequest, CreateBoardRequest, CreateListRequest, DeleteBoardRequest, DeleteListRequest, ListMembersRequest,
    MoveListRequest, RemoveMemberRequest, UpdateBoardRequest, UpdateListRequest, UpdateMemberRequest,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/boards", post(create_board))
        .route("/boards/{board_id}", patch(update_board).delete(delete_board))
        .route("/boards/{board_id}/lists", post(create_list))
        .route("/lists/{list_id}", patch(update_list).delete(delete_list))
        .route("/lists/{list_id}/move", patch(move_list))
        .route("/boards/{board_id}/members", post(add_member).get(list_members))
        .route(
            "/boards/{board_id}/members/{user_id}",
            patch(update_member).delete(remove_member),
        )
}

/// 201 with the created resource and its `Location`.
fn created<T: serde::Serialize>(location: &str, body: T) -> Response {
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(location) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

fn ok<T: serde::Serialize>(body: Option<T>) -> Response {
    Json(body).into_response()
}

async fn create_board(
    State(s): State<AppState>,
    actor: Actor,
    IdempotencyKey(key): IdempotencyKey,
    JsonBody(mut req): JsonBody<CreateBoardRequest>,
) -> Result<Response, Error> {
    merge("requestId", &mut req.request_id, key)?;
    let board = s.core.create_board(&actor, req).await?.board.unwrap_or_default();
    Ok(created(&format!("/boards/{}", board.id), board))
}

async fn update_board(
    State(s): State<AppState>,
    actor: Actor,
    Path(board_id): Path<String>,
    IdempotencyKey(key): IdempotencyKey,
    JsonBody(mut req): JsonBody<UpdateBoardRequest>,
) -> Result<Response, Error> {
    merge("boardId", &mut req.board_id, Some(board_id))?;
    merge("requestId", &mut req.request_id, key)?;
    Ok(ok(s.core.update_board(&actor, req).await?.board))
}

async fn delete_board(
    State(s): State<AppState>,
    actor: Actor,
    Path(board_id): Path<String>,
    IdempotencyKey(key): IdempotencyKey,
) -> Result<Response, Error> {
    let req = DeleteBoardRequest {
        board_id,
        request_id: key.unwrap_or_default(),
    };
    s.core.delete_board(&actor, req).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn create_list(
    State(s): State<AppState>,
    actor: Actor,
    Path(board_id): Path<String>,
    IdempotencyKey(key): IdempotencyKey,
    JsonBody(mut req): JsonBody<CreateListRequest>,
) -> Result<Response, Error> {
    merge("boardId", &mut req.board_id, Some(board_id))?;
    merge("requestId", &mut req.request_id, key)?;
    let list = s.core.create_list(&actor, req).await?.list.unwrap_or_default();
    Ok(created(&format!("/lists/{}", list.id), list))
}

async fn update_list(
    State(s): State<AppState>,
    actor: Actor,
    Path(list_id): Path<String>,
    IdempotencyKey(key): IdempotencyKey,
    JsonBody(mut req): JsonBody<UpdateListRequest>,
) -> Result<Response, Error> {
    merge("listId", &mut req.list_id, Some(list_id))?;
    merge("requestId", &mut req.request_id, key)?;
    Ok(ok(s.core.update_list(&actor, req).await?.list))
}

async fn move_list(
    State(s): State<AppState>,
    actor: Actor,
    Path(list_id): Path<String>,
    IdempotencyKey(key): IdempotencyKey,
    JsonBody(mut req): JsonBody<MoveListRequest>,
) -> Result<Response, Error> {
    merge("listId", &mut req.list_id, Some(list_id))?;
    merge("requestId", &mut req.request_id, key)?;
    Ok(ok(s.core.move_list(&actor, req).await?.list))
}

async fn delete_list(
    State(s): State<AppState>,
    actor: Actor,
    Path(list_id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    IdempotencyKey(key): IdempotencyKey,
) -> Result<Response, Error> {
    let req = DeleteListRequest {
        list_id,
        move_tasks_to: q.get("moveTasksTo").cloned().unwrap_or_default(),
        request_id: key.unwrap_or_default(),
    };
    s.core.delete_list(&actor, req).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_members(
    State(s): State<AppState>,
    actor: Actor,
    Path(board_id): Path<String>,
) -> Result<Response, Error> {
    Ok(Json(s.core.list_members(&actor, ListMembersRequest { board_id }).await?).into_response())
}

async fn add_member(
    State(s): State<AppState>,
    actor: Actor,
    Path(board_id): Path<String>,
    IdempotencyKey(key): IdempotencyKey,
    JsonBody(mut req): JsonBody<AddMemberRequest>,
) -> Result<Response, Error> {
    merge("boardId", &mut req.board_id, Some(board_id.clone()))?;
    merge("requestId", &mut req.request_id, key)?;
    let member = s.core.add_member(&actor, req).await?.member.unwrap_or_default();
    Ok(created(
        &format!("/boards/{board_id}/members/{}", member.user_id),
        member,
    ))
}

async fn update_member(
    State(s): State<AppState>,
    actor: Actor,
    Path((board_id, user_id)): Path<(String, String)>,
    IdempotencyKey(key): IdempotencyKey,
    JsonBody(mut req): JsonBody<UpdateMemberRequest>,
) -> Result<Response, Error> {
    merge("boardId", &mut req.board_id, Some(board_id))?;
    merge("userId", &mut req.user_id, Some(user_id))?;
    merge("requestId", &mut req.request_id, key)?;
    Ok(ok(s.core.update_member(&actor, req).await?.member))
}

async fn remove_member(
    State(s): State<AppState>,
    actor: Actor,
    Path((board_id, user_id)): Path<(String, String)>,
    IdempotencyKey(key): IdempotencyKey,
) -> Result<Response, Error> {
    let req = RemoveMemberRequest {
        board_id,
        user_id,
        request_id: key.unwrap_or_default(),
    };
    s.core.remove_member(&actor, req).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
