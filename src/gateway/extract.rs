//! Request parts the REST handlers need, each failing with the core error that names
//! what was wrong: the caller's identity (and, signed in by the cookie, that a change
//! comes from this site), a JSON body, `If-Match`, `Idempotency-Key`.

use axum::body::Bytes;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, Request};
use axum::http::uri::Authority;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header, request::Parts};
use serde::de::DeserializeOwned;

use crate::app::AppState;
use crate::auth::{self, TOKEN_COOKIE};
use crate::core::lifecycle::ShuttingDown;
use crate::core::{Actor, Error, csrf};
use crate::limits::MAX_BODY_BYTES;

/// The caller, from `Authorization: Bearer`, else `?token=`, else the token cookie,
/// else the guest when guests are allowed. A change signed in by the cookie must come
/// from this server's own pages (or an allowed origin): `core::csrf` decides.
impl<S> FromRequestParts<S> for Actor
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        let state = AppState::from_ref(state);
        let carried = carried(parts)?;
        if let Some((_, Carrier::Cookie)) = carried {
            csrf::check(parts.method.as_str(), provenance(parts), &state.origins)?;
        }
        let token = carried.map(|(token, _)| token);
        state.auth.actor(token.as_deref(), client_ip(&state, parts)).await
    }
}

/// Where the request says it comes from, for `core::csrf`.
fn provenance(parts: &Parts) -> csrf::Provenance<'_> {
    let text = |name| parts.headers.get(name).and_then(|v: &HeaderValue| v.to_str().ok());
    csrf::Provenance {
        origin: text(header::ORIGIN),
        fetch_site: text(HeaderName::from_static("sec-fetch-site")),
        referer: text(header::REFERER),
        // HTTP/1.1 names the host in `Host`, HTTP/2 in `:authority` (the URI's).
        host: text(header::HOST).or_else(|| parts.uri.authority().map(Authority::as_str)),
    }
}

/// The client's address (`AppState::client_ip`) from the accept loop's `ConnectInfo`
/// and `X-Forwarded-For`.
pub fn client_ip(state: &AppState, parts: &Parts) -> Option<IpAddr> {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    let forwarded = parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    state.client_ip(peer, forwarded)
}

/// How a request carried its token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Carrier {
    Bearer,
    Query,
    /// Sent by the browser on its own, whichever page made the request.
    Cookie,
}

/// The token a request carries, from the first of: `Authorization: Bearer`, `?token=`,
/// the token cookie.
pub fn token(parts: &Parts) -> Result<Option<String>, Error> {
    Ok(carried(parts)?.map(|(token, _)| token))
}

fn carried(parts: &Parts) -> Result<Option<(String, Carrier)>, Error> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let value = value
            .to_str()
            .map_err(|_| Error::Unauthenticated("Authorization header is not valid text".into()))?;
        return Ok(Some((auth::bearer(value)?.to_owned(), Carrier::Bearer)));
    }
    if let Some(query) = parts.uri.query()
        && let Some(token) = form_urlencoded_value(query, "token")
    {
        return Ok(Some((token, Carrier::Query)));
    }
    Ok(cookie(&parts.headers, TOKEN_COOKIE).map(|token| (token, Carrier::Cookie)))
}

fn form_urlencoded_value(query: &str, name: &str) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A JSON request body deserialized into a proto type. Errors: 415 without a JSON
/// content type, 413 past the body limit, 400 naming the field for anything else.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
            });
        if !is_json {
            return Err(Error::UnsupportedMediaType(
                "Content-Type must be application/json".into(),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                Error::PayloadTooLarge { limit: MAX_BODY_BYTES }
            } else if let Some(stop) = cause::<ShuttingDown>(&e as &(dyn std::error::Error + 'static)) {
                Error::Unavailable(stop.to_string())
            } else {
                Error::invalid("body", format!("could not read the request body: {e}"))
            }
        })?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// The first error of type `E` in `e`'s chain of sources.
fn cause<'a, E: std::error::Error + 'static>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a E> {
    let mut next = Some(e);
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<E>() {
            return Some(found);
        }
        next = e.source();
    }
    None
}

/// Deserializes one JSON object, naming the path of the offending field in the error.
///
/// Only an object is a request: serde's derived structs would otherwise also take an
/// array and fill the fields by position. Anything but whitespace after the object is
/// refused rather than ignored, so two bodies sent back to back are not half-applied.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let first = bytes.iter().find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
    if first.is_some_and(|b| *b != b'{') {
        return Err(Error::invalid("body", "the request body must be a JSON object"));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(json_error)?;
    de.end().map_err(|e| {
        Error::invalid(
            "body",
            format!("the request body must be one JSON object with nothing after it: {e}"),
        )
    })?;
    Ok(value)
}

/// The error of a body serde refused. The path stops at the first segment serde could
/// not name (a syntax error inside a key, say) so the field is never `?`; serde_json's
/// message carries the line and column.
fn json_error(e: serde_path_to_error::Error<serde_json::Error>) -> Error {
    let mut path = String::new();
    for segment in e.path() {
        match segment {
            serde_path_to_error::Segment::Unknown => break,
            serde_path_to_error::Segment::Seq { .. } => {}
            _ if !path.is_empty() => path.push('.'),
            _ => {}
        }
        path.push_str(&segment.to_string());
    }
    let inner = e.into_inner();
    if path.is_empty() {
        Error::InvalidArgument {
            field: None,
            message: format!("invalid JSON body: {inner}"),
        }
    } else {
        Error::invalid(&path, format!("invalid JSON body at `{path}`: {inner}"))
    }
}

/// `If-Match: "<version>"`: the version a change expects the task to be at.
pub struct IfMatch(pub Option<u64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Error> {
        let Some(value) = parts.headers.get(header::IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        let value = value.to_str().unwrap_or_default().trim();
        if value == "*" {
            return Ok(IfMatch(None));
        }
        value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .and_then(|v| v.parse().ok())
            .map(|v| IfMatch(Some(v)))
            .ok_or_else(|| {
                Error::invalid(
                    "If-Match",
                    format!("If-Match must be one quoted version such as \"3\" (got {value})"),
                )
            })
    }
}

/// The strong ETag of a task version.
pub fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

/// `Idempotency-Key`: the request id of a mutation.
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Error> {
        parts
            .headers
            .get("idempotency-key")
            .map(|v| {
                v.to_str()
                    .map(str::to_owned)
                    .map_err(|_| Error::invalid("Idempotency-Key", "Idempotency-Key must be printable text"))
            })
            .transpose()
            .map(IdempotencyKey)
    }
}

/// A non-negative whole number from the query string; absent is `None`, anything
/// else is a 400 naming the parameter.
pub fn query_number(q: &std::collections::HashMap<String, String>, name: &str) -> Result<Option<u64>, Error> {
    q.get(name)
        .map(|v| {
            v.trim()
                .parse()
                .map_err(|_| Error::invalid(name, format!("{name} must be a whole number of 0 or more (got `{v}`)")))
        })
        .transpose()
}
