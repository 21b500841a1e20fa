//! The HTTP side of the one listener: REST, SSE, polling, the WebSocket, the web
//! board, the health probes, `/metrics` and the OpenAPI document of all of it.
//! Handlers only translate: extract, call core, frame the answer (with `crate::wire`).
//! Every route is registered through its `#[utoipa::path]` (`routes!`), so each one
//! the router has is in the document.

mod account;
mod boards;
mod extract;
mod headers;
mod health;
mod labels;
mod live;
mod observe;
mod openapi;
mod poll;
mod rest;
mod sse;
mod web;
mod ws;

// What `crate::fuzzing` drives: the REST body parser every `JsonBody` uses, and the
// readings of `Last-Event-ID` the two SSE handlers start from.
#[cfg(fuzzing)]
pub(crate) use extract::parse_json;
#[cfg(fuzzing)]
pub(crate) use sse::{board_resume, positions};

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{Method, Uri};
use axum::response::Response;
use axum::{Extension, Router};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::core::Error;
use crate::limits::MAX_BODY_BYTES;

/// One board's event stream.
pub const BOARD_EVENTS: &str = "/boards/{board_id}/events";
/// Several boards' events on one stream.
pub const MANY_BOARD_EVENTS: &str = "/events";
/// Every route whose `GET` answers with an event stream, in the router's syntax.
/// `server::detect` serves a connection opening with one of them straight on the
/// socket, so a stream route missing here would silently cost hyper's buffers.
pub const STREAM_ROUTES: [&str; 2] = [BOARD_EVENTS, MANY_BOARD_EVENTS];
/// The long poll.
const POLL: &str = "/boards/{board_id}/poll";

pub fn router(state: AppState) -> Router {
    let mut api = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(rest::routes())
        .merge(account::routes())
        .routes(routes!(root))
        .routes(routes!(web::app_js))
        .routes(routes!(web::module))
        .routes(routes!(web::style_css))
        .routes(routes!(web::dev_users))
        .routes(routes!(websocket))
        .routes(routes!(sse::board_events))
        .routes(routes!(sse::many_board_events))
        .routes(routes!(poll::changes))
        .routes(routes!(poll::poll))
        .routes(routes!(poll::updates))
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(openapi::openapi_json));
    if state.config.metrics {
        api = api.routes(routes!(observe::metrics));
    }
    let (router, document) = api.split_for_parts();
    router
        .layer(Extension(openapi::Document::new(&document)))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(headers::secure))
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            observe::observe,
        ))
        .with_state(state)
}

/// `/` is the seed's WebSocket endpoint and the web board: an upgrade gets the
/// socket, a plain GET the page.
#[utoipa::path(get, path = "/", tag = "web",
    responses((status = 200, description = "The web board", content_type = "text/html", body = String),
        (status = 101, description = "With `Upgrade: websocket`: the seed's WebSocket, as on `/ws`"),
        openapi::Unauthorized, openapi::Forbidden, openapi::Unavailable))]
async fn root(state: State<AppState>, req: Request) -> Result<Response, Error> {
    if ws::is_upgrade(req.headers()) {
        ws::websocket(state, req).await
    } else {
        Ok(web::index())
    }
}

/// The collaboration WebSocket: a bad token is refused with 401 before the upgrade, a
/// page from another origin with 403; a request that is not an upgrade is a 404.
#[utoipa::path(get, path = "/ws", tag = "streams",
    responses((status = 101, description = "Switched to a WebSocket (with `Upgrade: websocket`): JSON text frames, \
        `ClientMessage` in and `ServerMessage` out"),
        openapi::BadRequest, openapi::Unauthorized, openapi::Forbidden, openapi::NotFound, openapi::Unavailable))]
async fn websocket(state: State<AppState>, req: Request) -> Result<Response, Error> {
    ws::websocket(state, req).await
}

async fn not_found(uri: Uri) -> Error {
    Error::not_found("route", uri.path())
}

async fn method_not_allowed(method: Method, uri: Uri) -> Error {
    Error::MethodNotAllowed {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
}
