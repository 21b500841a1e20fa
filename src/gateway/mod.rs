//! The HTTP side of the one listener: REST, SSE, polling, the WebSocket, the web
//! board and the health probes. Handlers only translate: extract, call core, frame the answer (with
//! `crate::wire`).

mod account;
mod boards;
mod extract;
mod health;
mod labels;
mod live;
mod observe;
mod poll;
mod rest;
mod sse;
mod web;
mod ws;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{Method, Uri};
use axum::response::Response;
use axum::routing::get;

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
    let mut router = rest::routes();
    if state.config.metrics {
        router = router.route("/metrics", get(observe::metrics));
    }
    router
        .merge(account::routes())
        .route("/", get(root))
        .route("/app.js", get(web::app_js))
        .route("/js/{file}", get(web::module))
        .route("/style.css", get(web::style_css))
        .route("/dev/users", get(web::dev_users))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/ws", get(ws::websocket))
        .route(BOARD_EVENTS, get(sse::board_events))
        .route(MANY_BOARD_EVENTS, get(sse::many_board_events))
        .route("/boards/{board_id}/changes", get(poll::changes))
        .route(POLL, get(poll::poll))
        .route("/boards/{board_id}/updates", get(poll::updates))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            observe::observe,
        ))
        .with_state(state)
}

/// `/` is the seed's WebSocket endpoint and the web board: an upgrade gets the
/// socket, a plain GET the page.
async fn root(state: State<AppState>, req: Request) -> Result<Response, Error> {
    if ws::is_upgrade(req.headers()) {
        ws::websocket(state, req).await
    } else {
        Ok(web::index())
    }
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
