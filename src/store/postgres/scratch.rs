//! Fresh, empty databases on a PostgreSQL server, for tests and benchmarks: each gets
//! one of its own, so runs never see each other's rows. Databases left by processes
//! that have ended are dropped the next time one is made.

use sqlx::{Connection, PgConnection};

use crate::store::Result;

/// Where tests and benchmarks find a PostgreSQL server unless told otherwise
/// (`BOARDCAST_TEST_DATABASE_URL`): the one this machine kind runs.
pub const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Every scratch database's name starts with this, then the creating process's id.
const PREFIX: &str = "boardcast_scratch_";

/// The server tests use: `BOARDCAST_TEST_DATABASE_URL`, or [`DEFAULT_SERVER`].
pub fn test_server() -> String {
    std::env::var("BOARDCAST_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_SERVER.to_owned())
}

/// Creates an empty database on the server `server_url` names and returns its URL.
/// An error when the server does not answer (the caller decides whether to skip).
pub async fn scratch_database(server_url: &str) -> Result<String> {
    let mut admin = PgConnection::connect(server_url).await?;
    drop_abandoned(&mut admin).await?;
    let name = format!("{PREFIX}{}_{}", std::process::id(), uuid::Uuid::new_v4().simple());
    // The name is ours: the prefix, a pid and a uuid.
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    Ok(with_database(server_url, &name))
}

/// Drops the scratch databases of processes that are no longer running.
async fn drop_abandoned(admin: &mut PgConnection) -> Result<()> {
    let names: Vec<(String,)> = sqlx::query_as("SELECT datname FROM pg_database WHERE datname LIKE $1")
        .bind(format!("{PREFIX}%"))
        .fetch_all(&mut *admin)
        .await?;
    for (name,) in names {
        let pid = name[PREFIX.len()..].split('_').next().unwrap_or_default();
        if std::path::Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        // Another process may be dropping it at the same moment: that is fine.
        if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut *admin)
        .await
        {
            tracing::debug!(error = %e, database = name, "scratch database not dropped");
        }
    }
    Ok(())
}

/// `server_url` with its database replaced by `name` (query parameters kept).
fn with_database(server_url: &str, name: &str) -> String {
    let (base, query) = server_url
        .split_once('?')
        .map_or((server_url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// For the crate's own tests: a scratch database's URL on [`test_server`], or `None`
/// (with a printed notice) when no server answers. With `BOARDCAST_REQUIRE_EXTERNAL`
/// set (CI sets it), an unreachable server fails the test instead.
#[cfg(test)]
pub(crate) async fn test_database() -> Option<String> {
    match scratch_database(&test_server()).await {
        Ok(url) => Some(url),
        Err(e) => {
            assert!(
                std::env::var_os("BOARDCAST_REQUIRE_EXTERNAL").is_none(),
                "PostgreSQL at {} is required (BOARDCAST_REQUIRE_EXTERNAL is set): {e}",
                test_server()
            );
            eprintln!("SKIPPED: PostgreSQL at {} is unavailable ({e})", test_server());
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_is_replaced_and_the_query_kept() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://h:1/db?sslmode=disable", "x"),
            "postgres://h:1/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    }
}
