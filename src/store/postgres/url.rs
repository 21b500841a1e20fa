//! What a `postgres:` URL asks of the pool. Two query parameters are the pool's, not
//! the server's, and are taken out before sqlx parses the rest:
//! `max_connections` (default [`MAX_CONNECTIONS`]) and `acquire_timeout_ms` (default
//! [`ACQUIRE_TIMEOUT`]).

use std::time::Duration;

use crate::store::{Error, Result};

/// Connections per instance unless the URL says otherwise: a write transaction holds
/// one from `BEGIN` to `COMMIT`, so this bounds the writes in flight, and several
/// instances' pools together must stay under the server's `max_connections` (100).
pub const MAX_CONNECTIONS: u32 = 16;
/// How long a transaction waits for a connection (a free one, or a new one while the
/// server is unreachable) before the request is answered "unavailable".
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, PartialEq)]
pub(super) struct PoolUrl {
    /// The URL without the pool's parameters, for sqlx.
    pub server: String,
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

pub(super) fn pool_url(url: &str) -> Result<PoolUrl> {
    let bad = |why: String| Error::InvalidUrl {
        backend: "PostgreSQL",
        url: url.to_owned(),
        why,
    };
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut parsed = PoolUrl {
        server: base.to_owned(),
        max_connections: MAX_CONNECTIONS,
        acquire_timeout: ACQUIRE_TIMEOUT,
    };
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "max_connections" => {
                parsed.max_connections = value
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| bad(format!("max_connections must be a whole number above 0, not `{value}`")))?;
            }
            "acquire_timeout_ms" => {
                let ms: u64 = value.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    bad(format!(
                        "acquire_timeout_ms must be a whole number above 0, not `{value}`"
                    ))
                })?;
                parsed.acquire_timeout = Duration::from_millis(ms);
            }
            _ => kept.push(pair),
        }
    }
    if !kept.is_empty() {
        parsed.server = format!("{base}?{}", kept.join("&"));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_takes_its_parameters_and_leaves_the_servers() {
        assert_eq!(
            pool_url("postgres://h/db").unwrap(),
            PoolUrl {
                server: "postgres://h/db".into(),
                max_connections: MAX_CONNECTIONS,
                acquire_timeout: ACQUIRE_TIMEOUT,
            }
        );
        assert_eq!(
            pool_url("postgresql://h/db?sslmode=disable&max_connections=4&acquire_timeout_ms=250&application_name=x")
                .unwrap(),
            PoolUrl {
                server: "postgresql://h/db?sslmode=disable&application_name=x".into(),
                max_connections: 4,
                acquire_timeout: Duration::from_millis(250),
            }
        );
        for (bad, why) in [
            (
                "postgres://h/db?max_connections=0",
                "max_connections must be a whole number above 0, not `0`",
            ),
            (
                "postgres://h/db?acquire_timeout_ms=soon",
                "acquire_timeout_ms must be a whole number above 0, not `soon`",
            ),
        ] {
            match pool_url(bad) {
                Err(Error::InvalidUrl { url, why: got, .. }) => assert_eq!((url.as_str(), got.as_str()), (bad, why)),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}
