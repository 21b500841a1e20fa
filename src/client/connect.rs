//! The connection to the server: the endpoint from `--server`, the bearer token put on
//! every call, and what a failure means (retry or give up) and says.

use std::time::Duration;

use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};

use super::Remote;
use crate::proto::v1::board_service_client::BoardServiceClient;

pub type Client = BoardServiceClient<InterceptedService<Channel, Bearer>>;

/// Why a command could not do its work; each says what went wrong and where.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("--server `{server}`: {problem}")]
    Server { server: String, problem: String },
    #[error("--token: not usable as an authorization header (visible ASCII only)")]
    Token,
    #[error("cannot reach the server at {server}: {problem}")]
    Unreachable { server: String, problem: String },
    #[error("the server refused: {} ({})", .0.message(), code_name(.0.code()))]
    Refused(Status),
    #[error("writing the output: {0}")]
    Output(std::io::Error),
    /// Standard output was closed (`boardcast tail | head`): nothing more to do.
    #[error("standard output closed")]
    Closed,
}

impl Failure {
    /// Whether trying again later may succeed: the server or the network was away, or
    /// the stream was cut (lagging, shutdown). Never a refusal of who or what we asked.
    pub fn is_transient(&self) -> bool {
        match self {
            Failure::Unreachable { .. } => true,
            Failure::Refused(status) => matches!(
                status.code(),
                Code::Unavailable
                    | Code::Unknown
                    | Code::Internal
                    | Code::Cancelled
                    | Code::DeadlineExceeded
                    | Code::ResourceExhausted
                    | Code::Aborted
            ),
            _ => false,
        }
    }
}

impl From<Status> for Failure {
    fn from(status: Status) -> Self {
        Failure::Refused(status)
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Failure::Closed
        } else {
            Failure::Output(e)
        }
    }
}

/// gRPC's canonical name of a code (`UNAUTHENTICATED`), as grpcurl and the docs say it.
fn code_name(code: Code) -> String {
    let mut name = String::new();
    for (i, c) in format!("{code:?}").chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            name.push('_');
        }
        name.push(c.to_ascii_uppercase());
    }
    name
}

/// Puts `authorization: Bearer <token>` on every request, when there is a token.
#[derive(Clone)]
pub struct Bearer(Option<MetadataValue<Ascii>>);

impl Interceptor for Bearer {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        if let Some(value) = &self.0 {
            req.metadata_mut().insert("authorization", value.clone());
        }
        Ok(req)
    }
}

/// A checked `--server` and `--token`, ready to connect as often as needed.
pub struct Connector {
    endpoint: Endpoint,
    bearer: Bearer,
    server: String,
}

impl Connector {
    pub fn new(remote: &Remote) -> Result<Self, Failure> {
        let bad = |problem: String| Failure::Server {
            server: remote.server.clone(),
            problem,
        };
        let endpoint = Endpoint::from_shared(remote.server.clone())
            .map_err(|e| bad(format!("not a URL ({e})")))?
            .connect_timeout(Duration::from_secs(5));
        match endpoint.uri().scheme_str() {
            Some("http") => {}
            _ => return Err(bad("needs an http:// URL (gRPC over h2c)".to_owned())),
        }
        let bearer = match remote.token.as_deref() {
            None | Some("") => Bearer(None),
            Some(token) => Bearer(Some(format!("Bearer {token}").parse().map_err(|_| Failure::Token)?)),
        };
        Ok(Connector {
            endpoint,
            bearer,
            server: remote.server.clone(),
        })
    }

    /// A fresh connection to the server.
    pub async fn connect(&self) -> Result<Client, Failure> {
        let channel = self.endpoint.connect().await.map_err(|e| Failure::Unreachable {
            server: self.server.clone(),
            problem: error_chain(&e),
        })?;
        Ok(BoardServiceClient::with_interceptor(channel, self.bearer.clone()))
    }
}

/// An error and its causes, `: `-separated (tonic's transport error alone says only
/// "transport error").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_named_as_grpc_names_them() {
        assert_eq!(code_name(Code::Unauthenticated), "UNAUTHENTICATED");
        assert_eq!(code_name(Code::PermissionDenied), "PERMISSION_DENIED");
        assert_eq!(code_name(Code::NotFound), "NOT_FOUND");
    }

    #[test]
    fn refusals_of_identity_or_target_are_not_retried() {
        for code in [
            Code::Unauthenticated,
            Code::PermissionDenied,
            Code::NotFound,
            Code::InvalidArgument,
        ] {
            assert!(!Failure::Refused(Status::new(code, "no")).is_transient(), "{code:?}");
        }
        for code in [Code::Unavailable, Code::ResourceExhausted, Code::Unknown] {
            assert!(Failure::Refused(Status::new(code, "later")).is_transient(), "{code:?}");
        }
    }
}
