//! The one error type of the service. It is rendered for the wire in one place,
//! `crate::wire::error`: HTTP status + JSON body, gRPC status, WebSocket error frame.

/// What went wrong, in terms a client can act on. Messages name the field and the
/// problem; internals never leak (an `Internal` error says only "internal error").
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{message}")]
    InvalidArgument {
        /// lowerCamelCase field (or header) at fault, when there is one.
        field: Option<String>,
        message: String,
    },
    #[error("{kind} `{id}` not found")]
    NotFound { kind: &'static str, id: String },
    #[error("no {method} on `{path}`")]
    MethodNotAllowed { method: String, path: String },
    #[error("{0}")]
    Unauthenticated(String),
    /// A member whose role does not allow the change. (A non-member gets `NotFound`,
    /// exactly as for a board that does not exist.)
    #[error("you are {role} of board `{board_id}`; this needs {needed}")]
    PermissionDenied {
        board_id: String,
        /// "a viewer", "an editor"…
        role: &'static str,
        /// "an editor or owner", "an owner".
        needed: &'static str,
    },
    /// The change cannot be made in the current state (a non-empty list, the last
    /// owner, an archived board); the message says what to do instead.
    #[error("{0}")]
    Conflict(String),
    /// What the request would create is already there (a member added twice).
    #[error("{0}")]
    AlreadyExists(String),
    /// An `expectedVersion` in the request did not match.
    #[error("task `{id}` is at version {current}, not the expected {expected}")]
    VersionConflict { id: String, expected: u64, current: u64 },
    /// The same mismatch, when the expectation came as an HTTP precondition (`If-Match`).
    #[error("If-Match failed: task `{id}` is at version {current}, not {expected}")]
    PreconditionFailed { id: String, expected: u64, current: u64 },
    #[error("request id `{key}` was already used for a different request")]
    IdempotencyKeyReused { key: String },
    /// A browser page from another site tried to open a WebSocket.
    #[error("origin `{origin}` is not allowed")]
    OriginNotAllowed { origin: String },
    /// A change signed in by the session cookie, sent by a page of another site
    /// (cross-site request forgery). Bearer tokens are not affected.
    #[error(
        "{method} signed in by the session cookie is refused from {from}, another site: send `Authorization: Bearer <token>` for cross-site calls"
    )]
    CrossSiteRequest { method: String, from: String },
    #[error("too many open streams: at most {limit} per user")]
    TooManyStreams { limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// Over a rate limit (sign-in attempts, changes, stream opens); `what` says which
    /// and whose. The client may try again after `retry_after`.
    #[error("too many {what}: try again in {} s", retry_secs(*retry_after))]
    RateLimited {
        what: String,
        retry_after: std::time::Duration,
    },
    /// The database could not be reached (or is restarting): the same request may
    /// succeed a moment later. The message says so, never why.
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A wait in whole seconds, rounded up (at least 1): a client that waits that long
/// is let in. What `Retry-After` and the messages say.
pub fn retry_secs(wait: std::time::Duration) -> u64 {
    u64::try_from(wait.as_millis().div_ceil(1000).max(1)).unwrap_or(u64::MAX)
}

impl Error {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Error::InvalidArgument {
            field: Some(field.to_owned()),
            message: message.into(),
        }
    }

    pub fn not_found(kind: &'static str, id: impl Into<String>) -> Self {
        Error::NotFound { kind, id: id.into() }
    }

    /// Stable snake_case code, the `error.code` of JSON error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidArgument { .. } => "invalid_argument",
            Error::NotFound { .. } => "not_found",
            Error::MethodNotAllowed { .. } => "method_not_allowed",
            Error::Unauthenticated(_) => "unauthenticated",
            Error::PermissionDenied { .. } => "permission_denied",
            Error::Conflict(_) => "conflict",
            Error::AlreadyExists(_) => "already_exists",
            Error::VersionConflict { .. } => "version_conflict",
            Error::PreconditionFailed { .. } => "precondition_failed",
            Error::IdempotencyKeyReused { .. } => "idempotency_key_reused",
            Error::OriginNotAllowed { .. } => "origin_not_allowed",
            Error::CrossSiteRequest { .. } => "cross_site_request",
            Error::TooManyStreams { .. } => "too_many_streams",
            Error::UnsupportedMediaType(_) => "unsupported_media_type",
            Error::PayloadTooLarge { .. } => "payload_too_large",
            Error::RateLimited { .. } => "rate_limited",
            Error::Unavailable(_) => "unavailable",
            Error::Internal(_) => "internal",
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            Error::InvalidArgument { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    /// Turns a version conflict into the precondition failure HTTP reports when the
    /// expected version came from `If-Match` rather than the body.
    #[must_use]
    pub fn into_precondition(self) -> Self {
        match self {
            Error::VersionConflict { id, expected, current } => Error::PreconditionFailed { id, expected, current },
            other => other,
        }
    }
}

/// The store's failures, as clients see them: a database URL the store cannot use is
/// the operator's to fix and says so; a database that cannot be reached is worth a
/// retry and says so (logged here, since the client hears nothing of the cause), as
/// is one that cannot be written (disk full, read-only: it says which) or whose file
/// was deleted (which says to restart);
/// anything else is internal (and logged, with the store's message, where the error
/// is rendered).
impl From<crate::store::Error> for Error {
    fn from(e: crate::store::Error) -> Self {
        use crate::store::Error as Store;
        if let Store::FileGone { .. } = e {
            // The store logged it, once; every request hears it until a restart.
            return Error::Unavailable(e.to_string());
        }
        if let Some(why) = e.unwritable() {
            tracing::warn!(error = %e, "a write was refused: the database cannot be written");
            return Error::Unavailable(format!(
                "the database cannot be written ({why}); nothing was changed, try again later"
            ));
        }
        if e.is_unavailable() {
            tracing::warn!(error = %e, "the database is unavailable");
            return Error::Unavailable("the database is unavailable; try again".into());
        }
        match e {
            Store::InvalidUrl { .. } | Store::Unsupported { .. } => Error::invalid("databaseUrl", e.to_string()),
            Store::Sqlite(_)
            | Store::Postgres(_)
            | Store::PostgresMigrate(_)
            | Store::Decode(_)
            | Store::SchemaTooNew { .. }
            | Store::NoWal { .. }
            | Store::RolledBack
            | Store::GroupEnded { .. }
            | Store::GroupFailed(_)
            | Store::FileGone { .. }
            | Store::Unwritable { .. }
            | Store::Readers(_)
            | Store::Thread(_) => Error::Internal(Box::new(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Error;

    #[test]
    fn a_database_out_of_reach_is_unavailable_and_any_other_failure_internal() {
        use crate::store::Error as Store;
        for lost in [
            Store::Postgres(sqlx::Error::PoolTimedOut),
            Store::Postgres(sqlx::Error::Io(std::io::ErrorKind::ConnectionReset.into())),
        ] {
            let e = Error::from(lost);
            assert_eq!(e.code(), "unavailable");
            assert_eq!(e.to_string(), "the database is unavailable; try again");
        }
        let e = Error::from(Store::Postgres(sqlx::Error::RowNotFound));
        assert_eq!((e.code(), e.to_string().as_str()), ("internal", "internal error"));
    }

    #[tokio::test]
    async fn a_database_url_the_store_cannot_use_is_a_database_url_error() {
        for (bad, message) in [
            (
                "sqlite:a.db?mode=ro",
                "bad SQLite URL `sqlite:a.db?mode=ro`: unsupported mode `ro` (rwc, rw or memory)",
            ),
            (
                "sqlite:a.db?cache=shared",
                "bad SQLite URL `sqlite:a.db?cache=shared`: unknown parameter `cache`",
            ),
            ("sqlite:", "bad SQLite URL `sqlite:`: no file path"),
            (
                "sqlite://?mode=rwc",
                "bad SQLite URL `sqlite://?mode=rwc`: no file path",
            ),
            (
                "mysql://localhost/boardcast",
                "`mysql:` URLs are not supported: use postgres:, sqlite: or a file path",
            ),
            (
                "postgres://localhost/boardcast?max_connections=none",
                "bad PostgreSQL URL `postgres://localhost/boardcast?max_connections=none`: \
                 max_connections must be a whole number above 0, not `none`",
            ),
        ] {
            let Err(e) = crate::store::connect(bad).await else {
                panic!("{bad} was accepted")
            };
            let e = Error::from(e);
            assert_eq!(e.field(), Some("databaseUrl"), "{bad}");
            assert_eq!(e.code(), "invalid_argument", "{bad}");
            assert_eq!(e.to_string(), message, "{bad}");
        }
    }
}
