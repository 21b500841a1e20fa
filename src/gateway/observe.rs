//! What the gateway measures of every request: its duration by matched route
//! template (never the raw path, so the label stays bounded), method and status, until
//! the response body ended; and the request as an open connection of its transport
//! while it lasts (an SSE stream, a long poll, any other HTTP request). WebSockets are
//! counted by their connection task, which outlives the upgrade's answer. Also
//! `GET /metrics`, the text the scrape reads.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use super::{POLL, STREAM_ROUTES};
use crate::app::AppState;
use crate::metrics::{Ending, Metrics, Transport};

/// The route label of a request that matched no route (the 404 fallback).
const UNMATCHED: &str = "unmatched";

pub async fn observe(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str)
        .to_owned();
    let transport = match route.as_str() {
        r if STREAM_ROUTES.contains(&r) => Transport::Sse,
        POLL => Transport::Poll,
        _ => Transport::Http,
    };
    let open = metrics.connection(transport);
    let method = req.method().clone();
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16();
    response.map(|body| {
        Body::new(Ending::new(
            body,
            Box::new(move |_| {
                metrics.http_request(&route, method.as_str(), status, started.elapsed());
                drop(open);
            }),
        ))
    })
}

/// `GET /metrics`: every metric of this server, in the Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "operations", security(()),
    responses((status = 200, description = "Prometheus text exposition format",
        content_type = "text/plain; version=0.0.4", body = String)))]
pub async fn metrics(State(s): State<AppState>) -> Response {
    let mut response = Response::new(Body::from(s.metrics.encode()));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(crate::metrics::CONTENT_TYPE),
    );
    response
}
