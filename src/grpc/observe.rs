//! What is measured of every gRPC call: its duration by method and status code until
//! the response ended (a `Subscribe` lasts as long as its stream), and the call as an
//! open `grpc` connection meanwhile. The code is the `grpc-status` of the trailers, or
//! of the head for an answer that is only trailers (an error before any message).

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;

use crate::metrics::{Ending, Metrics, Transport};

/// The services served here: a call to any other path is labelled [`UNKNOWN`], so a
/// client cannot mint label values.
const SERVICES: [&str; 5] = [
    "boardcast.v1.BoardService",
    "boardcast.v1.AccountService",
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];
const UNKNOWN: &str = "unknown";

pub async fn observe(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().trim_start_matches('/');
    let known = path
        .split_once('/')
        .is_some_and(|(service, method)| SERVICES.contains(&service) && !method.is_empty() && !method.contains('/'));
    let mut method = if known { path.to_owned() } else { UNKNOWN.to_owned() };
    let open = metrics.connection(Transport::Grpc);
    let started = Instant::now();
    let response = next.run(req).await;
    let early = code(response.headers());
    if early.as_deref() == Some("UNIMPLEMENTED") {
        // A method no service has: its name is the client's to choose.
        UNKNOWN.clone_into(&mut method);
    }
    response.map(|body| {
        Body::new(Ending::new(
            body,
            Box::new(move |trailers| {
                // Ended without a status: the client went away (or the stream was cut).
                let code = early
                    .or_else(|| trailers.and_then(code))
                    .unwrap_or_else(|| "CANCELLED".to_owned());
                metrics.grpc_request(&method, &code, started.elapsed());
                drop(open);
            }),
        ))
    })
}

/// The status code named as in the gRPC spec (`OK`, `NOT_FOUND`…) from `grpc-status`.
fn code(headers: &HeaderMap) -> Option<String> {
    let number: i32 = headers.get("grpc-status")?.to_str().ok()?.parse().ok()?;
    let name = format!("{:?}", tonic::Code::from_i32(number));
    // `NotFound` → `NOT_FOUND`.
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_named_as_in_the_spec() {
        let mut headers = HeaderMap::new();
        for (number, name) in [
            ("0", "OK"),
            ("5", "NOT_FOUND"),
            ("8", "RESOURCE_EXHAUSTED"),
            ("12", "UNIMPLEMENTED"),
        ] {
            headers.insert("grpc-status", number.parse().unwrap());
            assert_eq!(code(&headers).as_deref(), Some(name));
        }
    }
}
