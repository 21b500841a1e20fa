//! The one rendering of a core [`Error`] per wire format: HTTP (status, JSON body
//! `{"error":{"code","message","field"}}` — the proto `ErrorResponse` — and
//! `WWW-Authenticate` on a 401), gRPC `Status`, and the WebSocket `error` frame.
//!
//! An `Internal` error says only "internal error" to the client; its cause is logged
//! by [`log_internal`], which every rendering calls, so it is logged exactly once
//! whichever transport reports it.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use tonic::metadata::MetadataValue;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::core::Error;
use crate::core::error::retry_secs;
use crate::proto::v1::{ErrorDetail, ErrorFrame, ErrorResponse, server_message::Message as Out};

/// The HTTP status of an error.
pub fn http_status(err: &Error) -> StatusCode {
    match err {
        Error::InvalidArgument { .. } => StatusCode::BAD_REQUEST,
        Error::NotFound { .. } => StatusCode::NOT_FOUND,
        Error::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
        Error::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        Error::PermissionDenied { .. } | Error::OriginNotAllowed { .. } | Error::CrossSiteRequest { .. } => {
            StatusCode::FORBIDDEN
        }
        Error::VersionConflict { .. } | Error::Conflict(_) | Error::AlreadyExists(_) => StatusCode::CONFLICT,
        Error::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
        Error::IdempotencyKeyReused { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        Error::TooManyStreams { .. } | Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Error::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The JSON (and protobuf) error body of an HTTP answer.
pub fn body(err: &Error) -> ErrorResponse {
    ErrorResponse {
        error: Some(ErrorDetail {
            code: err.code().to_owned(),
            message: err.to_string(),
            field: err.field().map(str::to_owned),
        }),
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        log_internal(&self);
        let mut response = (http_status(&self), Json(body(&self))).into_response();
        if matches!(self, Error::Unauthenticated(_)) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        if let Error::RateLimited { retry_after, .. } = &self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(retry_secs(*retry_after)));
        }
        if matches!(self, Error::Unavailable(_)) {
            // A pool reconnects within its acquire timeout: soon is worth a try.
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        response
    }
}

/// The gRPC code of an error.
pub fn grpc_code(err: &Error) -> Code {
    match err {
        Error::InvalidArgument { .. } | Error::UnsupportedMediaType(_) | Error::IdempotencyKeyReused { .. } => {
            Code::InvalidArgument
        }
        Error::NotFound { .. } => Code::NotFound,
        Error::MethodNotAllowed { .. } => Code::Unimplemented,
        Error::Unauthenticated(_) => Code::Unauthenticated,
        Error::PermissionDenied { .. } | Error::OriginNotAllowed { .. } | Error::CrossSiteRequest { .. } => {
            Code::PermissionDenied
        }
        Error::VersionConflict { .. } => Code::Aborted,
        Error::AlreadyExists(_) => Code::AlreadyExists,
        Error::Conflict(_) | Error::PreconditionFailed { .. } => Code::FailedPrecondition,
        Error::PayloadTooLarge { .. } | Error::TooManyStreams { .. } | Error::RateLimited { .. } => {
            Code::ResourceExhausted
        }
        Error::Unavailable(_) => Code::Unavailable,
        Error::Internal(_) => Code::Internal,
    }
}

/// The gRPC status of an error. Takes the error whole so it reads as `map_err(grpc_status)`.
#[allow(clippy::needless_pass_by_value)]
pub fn grpc_status(err: Error) -> Status {
    log_internal(&err);
    if let Error::RateLimited { retry_after, .. } = &err {
        // `google.rpc.RetryInfo` for clients that read rich details, and the same wait
        // as `retry-after` (whole seconds, as HTTP says it) for those that do not.
        let mut status = Status::with_error_details(
            grpc_code(&err),
            err.to_string(),
            ErrorDetails::with_retry_info(Some(*retry_after)),
        );
        status
            .metadata_mut()
            .insert("retry-after", MetadataValue::from(retry_secs(*retry_after)));
        return status;
    }
    Status::new(grpc_code(&err), err.to_string())
}

/// The WebSocket `error` frame answering the client message `request_id`.
pub fn ws_frame(request_id: &str, err: &Error) -> Bytes {
    log_internal(err);
    super::ws::frame(Out::Error(ErrorFrame {
        request_id: request_id.to_owned(),
        code: err.code().to_owned(),
        message: err.to_string(),
        field: err.field().unwrap_or_default().to_owned(),
        // The seed's clients read `error`; newer ones `message`.
        error: err.to_string(),
    }))
}

/// A stream that ends on an error rather than a client's request. The client hears
/// only that the stream ended, so the cause, internal or not, is logged.
pub fn log_stream_failure(transport: &'static str, err: &Error) {
    match err {
        Error::Internal(source) => tracing::error!(transport, error = %source, "stream failed"),
        other => tracing::error!(transport, error = %other, "stream failed"),
    }
}

fn log_internal(err: &Error) {
    if let Error::Internal(source) = err {
        tracing::error!(error = %source, "internal error");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_kind() -> Vec<Error> {
        vec![
            Error::invalid("title", "title must not be empty"),
            Error::not_found("board", "b"),
            Error::MethodNotAllowed {
                method: "PUT".into(),
                path: "/".into(),
            },
            Error::Unauthenticated("invalid token".into()),
            Error::PermissionDenied {
                board_id: "b".into(),
                role: "a viewer",
                needed: "an editor or owner",
            },
            Error::Conflict("list `l` holds 2 tasks".into()),
            Error::AlreadyExists("already a member".into()),
            Error::VersionConflict {
                id: "t".into(),
                expected: 1,
                current: 2,
            },
            Error::PreconditionFailed {
                id: "t".into(),
                expected: 1,
                current: 2,
            },
            Error::IdempotencyKeyReused { key: "k".into() },
            Error::OriginNotAllowed { origin: "o".into() },
            Error::CrossSiteRequest {
                method: "POST".into(),
                from: "origin `o`".into(),
            },
            Error::TooManyStreams { limit: 8 },
            Error::UnsupportedMediaType("json only".into()),
            Error::PayloadTooLarge { limit: 1 },
            Error::RateLimited {
                what: "attempts".into(),
                retry_after: std::time::Duration::from_millis(1500),
            },
            Error::Unavailable("the database is unavailable; try again".into()),
            Error::Internal("disk on fire".into()),
        ]
    }

    #[test]
    fn each_error_has_its_http_status_and_grpc_code() {
        let got: Vec<(u16, Code)> = every_kind()
            .iter()
            .map(|e| (http_status(e).as_u16(), grpc_code(e)))
            .collect();
        assert_eq!(
            got,
            [
                (400, Code::InvalidArgument),
                (404, Code::NotFound),
                (405, Code::Unimplemented),
                (401, Code::Unauthenticated),
                (403, Code::PermissionDenied),
                (409, Code::FailedPrecondition),
                (409, Code::AlreadyExists),
                (409, Code::Aborted),
                (412, Code::FailedPrecondition),
                (422, Code::InvalidArgument),
                (403, Code::PermissionDenied),
                (403, Code::PermissionDenied),
                (429, Code::ResourceExhausted),
                (415, Code::InvalidArgument),
                (413, Code::ResourceExhausted),
                (429, Code::ResourceExhausted),
                (503, Code::Unavailable),
                (500, Code::Internal),
            ]
        );
    }

    #[test]
    fn a_rate_limit_says_when_to_retry_in_whole_seconds() {
        let response = Error::RateLimited {
            what: "attempts".into(),
            retry_after: std::time::Duration::from_millis(1500),
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
    }

    #[test]
    fn an_unavailable_database_says_retry_in_a_second() {
        let response = Error::Unavailable("the database is unavailable; try again".into()).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        assert_eq!(
            &ws_frame("r", &Error::Unavailable("the database is unavailable; try again".into()))[..],
            br#"{"type":"error","requestId":"r","code":"unavailable","message":"the database is unavailable; try again","field":"","error":"the database is unavailable; try again"}"#
        );
    }

    #[test]
    fn internals_never_leak() {
        let status = grpc_status(Error::Internal("disk on fire".into()));
        assert_eq!(status.message(), "internal error");
        let frame = ws_frame("r", &Error::Internal("disk on fire".into()));
        assert!(!String::from_utf8_lossy(&frame).contains("fire"));
    }

    #[test]
    fn ws_error_frames_carry_code_field_and_both_messages() {
        assert_eq!(
            &ws_frame("r-5", &Error::invalid("title", "title must not be empty"))[..],
            br#"{"type":"error","requestId":"r-5","code":"invalid_argument","message":"title must not be empty","field":"title","error":"title must not be empty"}"#
        );
        assert_eq!(
            &ws_frame("", &Error::not_found("board", "nope"))[..],
            br#"{"type":"error","requestId":"","code":"not_found","message":"board `nope` not found","field":"","error":"board `nope` not found"}"#
        );
    }
}
