//! Which side answers a request (gRPC, native or gRPC-Web, or the REST gateway), and
//! the CORS policy around both, from `--allowed-origins`.
//!
//! gRPC is told apart by its content type (`application/grpc*`, which covers every
//! gRPC-Web one). A CORS preflight has no body and so no gRPC content type: it goes by
//! its path instead (`/package.Service/Method` of a served service), so a browser
//! calling gRPC-Web is told gRPC-Web's headers and REST's preflights REST's.
//!
//! CORS headers go only to an allowed `Origin` (never a reflected arbitrary one); a
//! preflight from any other origin is refused (403 `origin_not_allowed`), and an
//! ordinary request from one is served as before, without CORS headers, so the
//! browser keeps its answer from the page. Cross-origin calls carry bearer tokens:
//! `Access-Control-Allow-Credentials` is never sent, so a browser neither sends the
//! session cookie on a preflighted cross-origin request nor lets a page read an answer
//! made with it.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::core::Error;
use crate::core::origins::Origins;

/// How long a browser may reuse a preflight's answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_mins(10);

/// Request headers a REST call may carry cross-origin.
const REST_REQUEST_HEADERS: &[&str] = &[
    "authorization",
    "content-type",
    "if-match",
    "idempotency-key",
    "last-event-id",
    "x-request-id",
];
/// Response headers a page may read from a REST answer.
const REST_EXPOSED: &[&str] = &["etag", "location", "retry-after", "www-authenticate", "x-request-id"];
/// Request headers gRPC-Web clients send (grpc-web's and Connect's).
const GRPC_WEB_REQUEST_HEADERS: &[&str] = &[
    "authorization",
    "content-type",
    "x-grpc-web",
    "x-user-agent",
    "grpc-timeout",
    "grpc-accept-encoding",
    "connect-protocol-version",
    "connect-timeout-ms",
    "x-request-id",
];
/// What a gRPC-Web client reads from the headers (a trailers-only answer puts the
/// status there).
const GRPC_WEB_EXPOSED: &[&str] = &[
    "grpc-status",
    "grpc-message",
    "grpc-status-details-bin",
    "grpc-encoding",
    "x-request-id",
];

/// One request router per side.
#[derive(Clone)]
struct Sides {
    rest: Router,
    grpc: Router,
}

struct Dispatch {
    plain: Sides,
    /// The same behind CORS layers, when any other origin is allowed.
    cors: Option<Sides>,
    origins: Origins,
}

/// The one service in front of both sides.
pub(super) fn app(rest: Router, grpc: Router, origins: Origins) -> Router {
    let plain = Sides { rest, grpc };
    let cors = (!origins.is_empty()).then(|| Sides {
        rest: plain
            .rest
            .clone()
            .layer(layer(&origins, REST_METHODS, REST_REQUEST_HEADERS, REST_EXPOSED)),
        grpc: plain.grpc.clone().layer(layer(
            &origins,
            &[Method::POST],
            GRPC_WEB_REQUEST_HEADERS,
            GRPC_WEB_EXPOSED,
        )),
    });
    let dispatch = Arc::new(Dispatch { plain, cors, origins });
    Router::new().fallback_service(tower::service_fn(move |req: Request| {
        let dispatch = dispatch.clone();
        async move { Ok::<_, Infallible>(dispatch.answer(req).await) }
    }))
}

const REST_METHODS: &[Method] = &[Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE];

impl Dispatch {
    async fn answer(&self, req: Request) -> Response {
        let preflight = is_preflight(req.headers(), req.method());
        let origin = req
            .headers()
            .get(header::ORIGIN)
            .map(|v| v.to_str().unwrap_or("?").to_owned());
        let allowed = origin.as_deref().is_some_and(|o| self.origins.allows(o));
        if preflight && !allowed {
            let origin = origin.unwrap_or_default();
            return Error::OriginNotAllowed { origin }.into_response();
        }
        let grpc = is_grpc(req.headers()) || (preflight && crate::grpc::is_service_path(req.uri().path()));
        // An OPTIONS that is not a preflight is the route's to answer, not the CORS
        // layer's (which answers every OPTIONS as one).
        let sides = match &self.cors {
            Some(cors) if allowed && (preflight || req.method() != Method::OPTIONS) => cors,
            _ => &self.plain,
        };
        let target = if grpc { &sides.grpc } else { &sides.rest };
        let Ok(mut response) = target.clone().oneshot(req).await;
        if self.cors.is_some() && !allowed {
            // The answer differs by `Origin` (the CORS layer adds this to its own).
            response
                .headers_mut()
                .append(header::VARY, HeaderValue::from_static("origin"));
        }
        response
    }
}

fn layer(origins: &Origins, methods: &[Method], request: &[&'static str], exposed: &[&'static str]) -> CorsLayer {
    let names = |list: &[&'static str]| list.iter().map(|h| HeaderName::from_static(h)).collect::<Vec<_>>();
    let allow_origin = if origins.any() {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.listed().iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods(methods.to_vec())
        .allow_headers(names(request))
        .expose_headers(names(exposed))
        .max_age(PREFLIGHT_MAX_AGE)
}

/// A CORS preflight: an `OPTIONS` naming the method the page means to send.
fn is_preflight(headers: &HeaderMap, method: &Method) -> bool {
    method == Method::OPTIONS
        && headers.contains_key(header::ORIGIN)
        && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

fn is_grpc(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"))
}
