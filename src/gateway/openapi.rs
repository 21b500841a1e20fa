//! The OpenAPI 3.1 document served at `GET /openapi.json`: the base (info, security
//! schemes, the error body) and the error answers routes list in their
//! `#[utoipa::path]`. Paths are not listed here: each route is registered through its
//! own annotation (`utoipa_axum::routes!`), so the router and the document are built
//! from one list and cannot drift apart.

use std::sync::Arc;

use axum::Extension;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, RefOr};
use utoipa::{IntoParams, IntoResponses, Modify, OpenApi, PartialSchema, ToSchema};

use crate::auth::TOKEN_COOKIE;
use crate::proto::v1::{ChangesResponse, ErrorResponse, PollResponse};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "boardcast",
        description = "A live, collaborative task board: REST, SSE and long polling. \
            Bodies are the protobuf types of `proto/boardcast/v1` as JSON (lowerCamelCase, \
            RFC 3339 timestamps, 64-bit integers as numbers, defaults written out). Every \
            error is an `ErrorResponse` naming the field. On a loopback listen address a \
            request without a token acts as the demo guest."
    ),
    components(schemas(ErrorResponse)),
    modifiers(&Security),
    security((), ("bearer" = []), ("cookie" = []), ("query" = [])),
)]
pub struct ApiDoc;

/// The three ways a request carries a token, in the order `extract::token` reads them.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(
                "A session (from /auth/login or /auth/signup) or a personal token: `bc_` + 64 hex digits.",
            ))
            .build();
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                TOKEN_COOKIE,
                "The session cookie the web board uses, set by sign-in and sign-up.",
            ))),
        );
        components.add_security_scheme(
            "query",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "token",
                "For clients that cannot set headers (EventSource).",
            ))),
        );
    }
}

/// The document as JSON, rendered once when the router is built.
#[derive(Clone)]
pub struct Document(pub Arc<[u8]>);

impl Document {
    pub fn new(openapi: &utoipa::openapi::OpenApi) -> Self {
        // Serializing a document of plain maps and strings cannot fail.
        Self(serde_json::to_vec(openapi).unwrap_or_default().into())
    }
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "meta", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object)))]
pub async fn openapi_json(Extension(doc): Extension<Document>) -> Response {
    let mut response = doc.0.to_vec().into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// An error answer: the `ErrorResponse` body, and the headers that come with it.
fn error(description: &str, headers: &[(&str, &str)]) -> RefOr<utoipa::openapi::Response> {
    let mut response = ResponseBuilder::new().description(description).content(
        "application/json",
        Content::new(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
            ErrorResponse::name(),
        )))),
    );
    for (name, about) in headers {
        let schema = utoipa::openapi::ObjectBuilder::new().schema_type(utoipa::openapi::Type::String);
        response = response.header(
            *name,
            HeaderBuilder::new().schema(schema).description(Some(*about)).build(),
        );
    }
    RefOr::T(response.build())
}

/// One error status a route can answer, as a type `#[utoipa::path(responses(...))]`
/// can list beside its success answers.
macro_rules! error_response {
    ($(#[$doc:meta])* $name:ident, $status:literal, $description:literal $(, $header:literal = $about:literal)*) => {
        $(#[$doc])*
        pub struct $name;

        impl IntoResponses for $name {
            fn responses() -> std::collections::BTreeMap<String, RefOr<utoipa::openapi::Response>> {
                [($status.to_owned(), error($description, &[$(($header, $about)),*]))].into()
            }
        }
    };
}

error_response!(
    BadRequest,
    "400",
    "Malformed JSON, an unknown field, or an invalid value, path segment, query parameter or header: the field is named"
);
error_response!(
    Unauthorized,
    "401",
    "No token where one is needed, or a token that is not valid (or was revoked)",
    "WWW-Authenticate" = "`Bearer`"
);
error_response!(
    Forbidden,
    "403",
    "The caller's role on the board does not allow this change"
);
error_response!(
    NotFound,
    "404",
    "No such resource, or a board the caller is not a member of (answered alike)"
);
error_response!(
    Conflict,
    "409",
    "A stale `expectedVersion`, an archived board, the last owner leaving, a non-empty list deleted without `moveTasksTo`, or a taken name"
);
error_response!(
    PreconditionFailed,
    "412",
    "`If-Match` names a version the task is no longer at"
);
error_response!(PayloadTooLarge, "413", "The body is over 64 KiB");
error_response!(UnsupportedMediaType, "415", "The body is not `application/json`");
error_response!(
    Unprocessable,
    "422",
    "An `Idempotency-Key` reused for a different request"
);
error_response!(
    TooManyRequests,
    "429",
    "Too many open streams for this user, or too many sign-in attempts",
    "Retry-After" = "Seconds to wait (sign-in attempts)"
);
error_response!(
    Unavailable,
    "503",
    "The database is out of reach; nothing was changed",
    "Retry-After" = "`1`"
);

// The header sets below are read only by their derive, for the document; the
// handlers take the same headers with the extractors of `extract.rs`. Each is a
// `String`, not required: an `Option` would be a nullable schema, and a header is
// never null.

/// The header of a change that is not to a task's content.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct Change {
    /// A retry with the same key returns the first result and changes nothing; the same
    /// key on a different request is a 422.
    #[param(rename = "Idempotency-Key", required = false)]
    idempotency_key: String,
}

/// The headers of a change to a task: `Idempotency-Key` and the version it expects.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct TaskChange {
    /// A retry with the same key returns the first result and changes nothing; the same
    /// key on a different request is a 422.
    #[param(rename = "Idempotency-Key", required = false)]
    idempotency_key: String,
    /// `"<version>"` (the task's ETag): refuse the change with 412 if the task is at
    /// another version; `*` for any.
    #[param(rename = "If-Match", required = false, pattern = r#"^("[0-9]+"|\*)$"#)]
    if_match: String,
}

/// Where an event stream resumes from.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct Resume {
    /// The last `id:` received: events after it are replayed from the log first.
    #[param(rename = "Last-Event-ID", required = false)]
    last_event_id: String,
}

/// What `/poll` answers: a `ChangesResponse` with `after`, the seed course's
/// `PollResponse` without. Written by hand because the shape depends on a query
/// parameter, which no derive can say. `anyOf`, not `oneOf`: every field of both is
/// optional to serde, so an answer of one also reads as the other.
pub struct PollAnswer;

impl utoipa::PartialSchema for PollAnswer {
    fn schema() -> RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::AnyOfBuilder::new()
            .item(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                ChangesResponse::name(),
            )))
            .item(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(PollResponse::name())))
            .into()
    }
}

impl ToSchema for PollAnswer {
    fn schemas(schemas: &mut Vec<(String, RefOr<utoipa::openapi::schema::Schema>)>) {
        schemas.push((ChangesResponse::name().into(), ChangesResponse::schema()));
        ChangesResponse::schemas(schemas);
        schemas.push((PollResponse::name().into(), PollResponse::schema()));
        PollResponse::schemas(schemas);
    }
}
