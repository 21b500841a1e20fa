//! REST routes for boards, lists and members. As in `rest.rs`, the bodies are the
//! proto requests; the path (and `Idempotency-Key`) fill in what the body may omit,
//! and a body that disagrees with them is a 400.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{IdempotencyKey, JsonBody};
use super::openapi::{
    BadRequest, Change, Conflict, Forbidden, NotFound, PayloadTooLarge, Unauthorized, Unavailable, Unprocessable,
    UnsupportedMediaType,
};
use super::rest::merge;
use crate::app::AppState;
use crate::core::{Actor, Error};
use crate::proto::v1::{
    AddMemberRequest, Board, BoardList, CreateBoardRequest, CreateListRequest, DeleteBoardRequest, DeleteListRequest,
    ListMembersRequest, ListMembersResponse, Member, MoveListRequest, RemoveMemberRequest, UpdateBoardRequest,
    UpdateListRequest, UpdateMemberRequest,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_board))
        .routes(routes!(update_board, delete_board))
        .routes(routes!(create_list))
        .routes(routes!(update_list, delete_list))
        .routes(routes!(move_list))
        .routes(routes!(add_member, list_members))
        .routes(routes!(update_member, remove_member))
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

/// Creates a board the caller owns, with the lists To Do, Doing and Done.
#[utoipa::path(post, path = "/boards", tag = "boards", request_body = CreateBoardRequest, params(Change),
    responses((status = 201, body = Board, headers(("Location" = String, description = "`/boards/<id>`"))), BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType,
        Unprocessable, Unavailable))]
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

/// Renames or (un)archives a board (owners); an archived board is read-only.
#[utoipa::path(patch, path = "/boards/{board_id}", tag = "boards", request_body = UpdateBoardRequest,
    params(("board_id" = String, Path, description = "The board"), Change), responses((status = 200, body = Board), BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType,
        Unprocessable, Unavailable))]
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

/// Deletes a board (owners); its open streams get `board_deleted` and end.
#[utoipa::path(delete, path = "/boards/{board_id}", tag = "boards", params(("board_id" = String, Path, description = "The board"), Change),
    responses((status = 204, description = "Deleted"), BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Unprocessable, Unavailable))]
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

/// Adds a list to a board (at the end unless `position` says where).
#[utoipa::path(post, path = "/boards/{board_id}/lists", tag = "lists", request_body = CreateListRequest,
    params(("board_id" = String, Path, description = "The board"), Change), responses((status = 201, body = BoardList, headers(("Location" = String, description = "`/lists/<id>`"))), BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType,
        Unprocessable, Unavailable))]
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

/// Renames a list.
#[utoipa::path(patch, path = "/lists/{list_id}", tag = "lists", request_body = UpdateListRequest,
    params(("list_id" = String, Path, description = "The list"), Change), responses((status = 200, body = BoardList), BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType,
        Unprocessable, Unavailable))]
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

/// Moves a list to a position; the other lists renumber.
#[utoipa::path(patch, path = "/lists/{list_id}/move", tag = "lists", request_body = MoveListRequest,
    params(("list_id" = String, Path, description = "The list"), Change), responses((status = 200, body = BoardList), BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType,
        Unprocessable, Unavailable))]
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

/// Deletes a list; one with tasks needs `moveTasksTo` (else 409 naming the count).
#[utoipa::path(delete, path = "/lists/{list_id}", tag = "lists",
    params(("list_id" = String, Path, description = "The list"), ("moveTasksTo" = Option<String>, Query, description = "The list of the same board its tasks move to"), Change),
    responses((status = 204, description = "Deleted"), BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Unprocessable, Unavailable))]
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

/// A board's members and their roles.
#[utoipa::path(get, path = "/boards/{board_id}/members", tag = "members", params(("board_id" = String, Path, description = "The board")),
    responses((status = 200, body = ListMembersResponse), Unauthorized, NotFound, Unavailable))]
async fn list_members(
    State(s): State<AppState>,
    actor: Actor,
    Path(board_id): Path<String>,
) -> Result<Response, Error> {
    Ok(Json(s.core.list_members(&actor, ListMembersRequest { board_id }).await?).into_response())
}

/// Invites a user by username with a role (owners).
#[utoipa::path(post, path = "/boards/{board_id}/members", tag = "members", request_body = AddMemberRequest,
    params(("board_id" = String, Path, description = "The board"), Change), responses((status = 201, body = Member, headers(("Location" = String, description = "`/boards/<boardId>/members/<userId>`"))), BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType,
        Unprocessable, Unavailable))]
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

/// Changes a member's role (owners); a board always keeps an owner (409).
#[utoipa::path(patch, path = "/boards/{board_id}/members/{user_id}", tag = "members",
    request_body = UpdateMemberRequest, params(("board_id" = String, Path, description = "The board"), ("user_id" = String, Path, description = "The member's user id"), Change), responses((status = 200, body = Member), BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType,
        Unprocessable, Unavailable))]
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

/// Removes a member (owners, or the member leaving); they come off the board's tasks.
#[utoipa::path(delete, path = "/boards/{board_id}/members/{user_id}", tag = "members",
    params(("board_id" = String, Path, description = "The board"), ("user_id" = String, Path, description = "The member's user id"), Change), responses((status = 204, description = "Removed"), BadRequest, Unauthorized, Forbidden, NotFound, Conflict, Unprocessable, Unavailable))]
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
