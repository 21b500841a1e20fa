//! The schema: the files of `migrations/sqlite/`, embedded, applied in order and
//! tracked in `PRAGMA user_version`. A database created by the earlier sqlx-based
//! store (which tracked them in `_sqlx_migrations`) is recognised and picked up where
//! it was.

use rusqlite::Connection;

use crate::store::{Error, Result};

/// The schema, one file per step; `user_version` counts how many are applied.
pub(super) const MIGRATIONS: &[&str] = &[
    include_str!("../../../migrations/sqlite/0001_init.sql"),
    include_str!("../../../migrations/sqlite/0002_accounts.sql"),
    include_str!("../../../migrations/sqlite/0003_boards_roles.sql"),
    include_str!("../../../migrations/sqlite/0004_task_details.sql"),
    include_str!("../../../migrations/sqlite/0005_retention.sql"),
];

/// Applies the migrations the database has not seen, each in its own transaction.
pub(super) fn migrate(conn: &Connection) -> Result<()> {
    let mut version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version == 0 {
        version = sqlx_migrations(conn)?;
    }
    let applied = usize::try_from(version).unwrap_or(usize::MAX);
    if applied > MIGRATIONS.len() {
        return Err(Error::SchemaTooNew {
            found: version,
            known: MIGRATIONS.len(),
        });
    }
    for (step, sql) in (1i64..).zip(MIGRATIONS).skip(applied) {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let done = conn
            .execute_batch(sql)
            .and_then(|()| conn.pragma_update(None, "user_version", step))
            .and_then(|()| conn.execute_batch("COMMIT"));
        if let Err(e) = done {
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            return Err(e.into());
        }
        tracing::debug!(version = step, "applied SQLite migration");
    }
    Ok(())
}

/// The migrations the sqlx-based store recorded as applied, 0 if it never ran here.
fn sqlx_migrations(conn: &Connection) -> Result<i64> {
    let tracked: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')",
        [],
        |r| r.get(0),
    )?;
    if !tracked {
        return Ok(0);
    }
    let last: Option<i64> = conn.query_row("SELECT MAX(version) FROM _sqlx_migrations WHERE success", [], |r| {
        r.get(0)
    })?;
    let last = last.unwrap_or_default();
    conn.pragma_update(None, "user_version", last)?;
    Ok(last)
}
