//! Account routes: sign-up, sign-in and sign-out (with the session cookie), the
//! caller, and their personal API tokens. Bodies are the proto messages of
//! `account.proto`; the rules are in `core::accounts`, the limits in `auth`.

use std::net::{IpAddr, Ipv4Addr};

use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::JsonBody;
use super::openapi::{
    BadRequest, Conflict, NotFound, PayloadTooLarge, TooManyRequests, Unauthorized, Unavailable, UnsupportedMediaType,
};
use crate::app::AppState;
use crate::auth::TOKEN_COOKIE;
use crate::core::{Actor, Core, Error};
use crate::proto::v1::{
    CreateTokenRequest, CreateTokenResponse, GetMeResponse, ListTokensResponse, LoginRequest, LoginResponse,
    LogoutResponse, RevokeTokenResponse, SignupRequest, SignupResponse, User,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(signup))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
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

/// Creates an account and signs in: the session's token, and the session cookie.
#[utoipa::path(post, path = "/auth/signup", tag = "accounts", request_body = SignupRequest, security(()),
    responses((status = 201, body = SignupResponse, headers(("Set-Cookie" = String, description = "The session cookie `boardcast_token`, `HttpOnly; SameSite=Lax; Path=/`"))), BadRequest, Conflict, PayloadTooLarge,
        UnsupportedMediaType, TooManyRequests, Unavailable))]
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

/// Signs in: the session's token, and the session cookie. A wrong password and an
/// unknown username get the same 401.
#[utoipa::path(post, path = "/auth/login", tag = "accounts", request_body = LoginRequest, security(()),
    responses((status = 200, body = LoginResponse, headers(("Set-Cookie" = String, description = "The session cookie `boardcast_token`, `HttpOnly; SameSite=Lax; Path=/`"))), BadRequest, Unauthorized, PayloadTooLarge,
        UnsupportedMediaType, TooManyRequests, Unavailable))]
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

/// Ends the session (or token) the request was made with, and clears the cookie.
#[utoipa::path(post, path = "/auth/logout", tag = "accounts",
    responses((status = 200, body = LogoutResponse), Unauthorized, Unavailable))]
async fn logout(State(s): State<AppState>, actor: Actor) -> Result<Response, Error> {
    s.auth.logout(&actor).await?;
    Ok(signed_in(&s, StatusCode::OK, Json(LogoutResponse {}), ""))
}

/// The caller.
#[utoipa::path(get, path = "/me", tag = "accounts", responses((status = 200, body = GetMeResponse), Unauthorized, Unavailable))]
async fn me(actor: Actor) -> Result<Response, Error> {
    Ok(Json(Core::me(&actor)?).into_response())
}

/// Creates a personal API token: the secret is in this answer only.
#[utoipa::path(post, path = "/me/tokens", tag = "accounts", request_body = CreateTokenRequest,
    responses((status = 201, body = CreateTokenResponse), BadRequest, Unauthorized, PayloadTooLarge,
        UnsupportedMediaType, Unavailable))]
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

/// The caller's personal tokens, never their secrets.
#[utoipa::path(get, path = "/me/tokens", tag = "accounts",
    responses((status = 200, body = ListTokensResponse), Unauthorized, Unavailable))]
async fn list_tokens(State(s): State<AppState>, actor: Actor) -> Result<Response, Error> {
    Ok(Json(s.core.list_tokens(&actor).await?).into_response())
}

/// Revokes a personal token: the next request with it gets 401.
#[utoipa::path(delete, path = "/me/tokens/{token_id}", tag = "accounts",
    params(("token_id" = String, Path, description = "The token's id")),
    responses((status = 200, body = RevokeTokenResponse), Unauthorized, NotFound, Unavailable))]
async fn revoke_token(
    State(s): State<AppState>,
    actor: Actor,
    Path(token_id): Path<String>,
) -> Result<Response, Error> {
    s.auth.revoke(&actor, &token_id).await?;
    Ok(Json(RevokeTokenResponse {}).into_response())
}
