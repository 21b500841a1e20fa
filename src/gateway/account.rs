//! Account routes: sign-up, sign-in and sign-out (with the session cookie), the
//! caller, and their personal API tokens. Bodies are the proto messages of
//! `account.proto`; the rules are in `core::accounts`, the limits in `auth`.

use std::net::{IpAddr, Ipv4Addr};

use axum::extract::{FromRequestParts, Path, State};
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};

use super::extract::JsonBody;
use crate::app::AppState;
use crate::auth::TOKEN_COOKIE;
use crate::core::{Actor, Core, Error};
use crate::proto::v1::{
    CreateTokenRequest, LoginRequest, LoginResponse, LogoutResponse, RevokeTokenResponse, SignupRequest,
    SignupResponse, User,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/signup", post(signup))
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/me", get(me))
        .route("/me/tokens", get(list_tokens).post(create_token))
        .route("/me/tokens/{token_id}", delete(revoke_token))
}

/// The client's address, as the accept loop recorded it (unspecified if it did not).
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        Ok(ClientIp(
            super::extract::client_ip(state, parts).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        ))
    }
}

/// The session cookie carrying `secret` (empty and expired: the cookie cleared).
fn session_cookie(s: &AppState, secret: &str) -> HeaderValue {
    let mut cookie = format!("{TOKEN_COOKIE}={secret}; HttpOnly; SameSite=Lax; Path=/");
    if secret.is_empty() {
        cookie.push_str("; Max-Age=0");
    }
    if s.config.cookie_secure {
        cookie.push_str("; Secure");
    }
    // The secret is hex and the attributes fixed: always a valid header value.
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static("boardcast_token=; Max-Age=0"))
}

fn signed_in(s: &AppState, status: StatusCode, body: impl IntoResponse, secret: &str) -> Response {
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie(s, secret));
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn signup(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    JsonBody(req): JsonBody<SignupRequest>,
) -> Result<Response, Error> {
    let (user, token) = s.auth.signup(ip, &req).await?;
    let body = Json(SignupResponse {
        user: Some(user),
        token: token.clone(),
    });
    Ok(signed_in(&s, StatusCode::CREATED, body, &token))
}

async fn login(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    JsonBody(req): JsonBody<LoginRequest>,
) -> Result<Response, Error> {
    let (user, token): (User, String) = s.auth.login(ip, &req).await?;
    let body = Json(LoginResponse {
        user: Some(user),
        token: token.clone(),
    });
    Ok(signed_in(&s, StatusCode::OK, body, &token))
}

async fn logout(State(s): State<AppState>, actor: Actor) -> Result<Response, Error> {
    s.auth.logout(&actor).await?;
    Ok(signed_in(&s, StatusCode::OK, Json(LogoutResponse {}), ""))
}

async fn me(actor: Actor) -> Result<Response, Error> {
    Ok(Json(Core::me(&actor)?).into_response())
}

async fn create_token(
    State(s): State<AppState>,
    actor: Actor,
    JsonBody(req): JsonBody<CreateTokenRequest>,
) -> Result<Response, Error> {
    let created = s.core.create_token(&actor, &req).await?;
    let mut response = (StatusCode::CREATED, Json(created)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn list_tokens(State(s): State<AppState>, actor: Actor) -> Result<Response, Error> {
    Ok(Json(s.core.list_tokens(&actor).await?).into_response())
}

async fn revoke_token(
    State(s): State<AppState>,
    actor: Actor,
    Path(token_id): Path<String>,
) -> Result<Response, Error> {
    s.auth.revoke(&actor, &token_id).await?;
    Ok(Json(RevokeTokenResponse {}).into_response())
}
