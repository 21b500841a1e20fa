//! The web board: the files under `web/`, embedded in the binary at build time (no
//! JS build step, no CDN), and the dev sign-in list the page offers.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::openapi::NotFound;
use crate::app::AppState;
use crate::core::Error;
use crate::proto::v1::{DevUser, DevUsersResponse};

const INDEX_HTML: &str = include_str!("../../web/index.html");
const APP_JS: &str = include_str!("../../web/app.js");
const STYLE_CSS: &str = include_str!("../../web/style.css");

/// The page's ES modules, served at `/js/<name>` (what `app.js` imports).
const MODULES: [(&str, &str); 11] = [
    ("activity.js", include_str!("../../web/js/activity.js")),
    ("api.js", include_str!("../../web/js/api.js")),
    ("auth.js", include_str!("../../web/js/auth.js")),
    ("board.js", include_str!("../../web/js/board.js")),
    ("detail.js", include_str!("../../web/js/detail.js")),
    ("dialogs.js", include_str!("../../web/js/dialogs.js")),
    ("live.js", include_str!("../../web/js/live.js")),
    ("members.js", include_str!("../../web/js/members.js")),
    ("model.js", include_str!("../../web/js/model.js")),
    ("mutations.js", include_str!("../../web/js/mutations.js")),
    ("state.js", include_str!("../../web/js/state.js")),
];

fn file(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // The files change with the binary; make browsers revalidate after an upgrade.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

pub fn index() -> Response {
    file("text/html; charset=utf-8", INDEX_HTML)
}

/// The web board's script.
#[utoipa::path(get, path = "/app.js", tag = "web", security(()),
    responses((status = 200, description = "JavaScript", content_type = "text/javascript", body = String)))]
pub async fn app_js() -> Response {
    file("text/javascript; charset=utf-8", APP_JS)
}

/// One of the web board's ES modules (what `app.js` imports).
#[utoipa::path(get, path = "/js/{file}", tag = "web", security(()),
    params(("file" = String, Path, description = "A module's file name, such as `api.js`")),
    responses((status = 200, description = "JavaScript", content_type = "text/javascript", body = String), NotFound))]
pub async fn module(Path(name): Path<String>) -> Result<Response, Error> {
    MODULES
        .iter()
        .find(|(file, _)| *file == name)
        .map(|(_, body)| file("text/javascript; charset=utf-8", body))
        .ok_or_else(|| Error::not_found("route", format!("/js/{name}")))
}

/// The web board's style sheet.
#[utoipa::path(get, path = "/style.css", tag = "web", security(()),
    responses((status = 200, description = "CSS", content_type = "text/css", body = String)))]
pub async fn style_css() -> Response {
    file("text/css; charset=utf-8", STYLE_CSS)
}

/// The demo users' sessions, for the page's one-click sign-in: only with `--demo` on a
/// loopback listen address, and only to a request addressed to a loopback name.
#[utoipa::path(get, path = "/dev/users", tag = "web", security(()),
    responses((status = 200, body = DevUsersResponse), NotFound))]
pub async fn dev_users(
    State(s): State<AppState>,
    headers: axum::http::HeaderMap,
    uri: axum::http::Uri,
) -> Result<Json<DevUsersResponse>, Error> {
    // HTTP/1.1 names the host in `Host`, HTTP/2 in `:authority` (the URI's).
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| uri.authority().map(axum::http::uri::Authority::as_str));
    let users = s
        .auth
        .published_dev_credentials(host)?
        .into_iter()
        .map(|(user, token)| DevUser {
            user_id: user.id,
            name: user.name,
            token,
        })
        .collect();
    Ok(Json(DevUsersResponse { users }))
}
