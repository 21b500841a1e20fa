//! The embedded default: SQLite in WAL mode through sqlx.
//!
//! Writes go through a pool of exactly one connection, so write transactions queue in
//! the pool instead of racing for SQLite's lock (a deferred transaction that read
//! first would fail with SQLITE_BUSY when it tries to write). Reads use their own pool
//! and, in WAL mode, never wait for the writer. `synchronous=NORMAL` in WAL keeps every
//! committed transaction across a crash of the process; only an OS crash or power loss
//! can lose the last few.

use async_trait::async_trait;
use prost::Message;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{Row, Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;

use super::{IdempotentRecord, Store, Tx};
use crate::core::{Error, Result, time};
use crate::proto::v1::{Board, BoardEvent, BoardList, Task, TaskPosition, User};

pub struct SqliteStore {
    reader: SqlitePool,
    /// One connection: the queue every write transaction waits in.
    writer: SqlitePool,
}

impl SqliteStore {
    pub async fn connect(url: &str) -> Result<Self> {
        let url = if url.starts_with("sqlite:") {
            url.to_owned()
        } else {
            format!("sqlite:{url}")
        };
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let options = SqliteConnectOptions::from_str(&url)
            .map_err(|e| Error::invalid("databaseUrl", format!("bad SQLite URL `{url}`: {e}")))?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let store = if in_memory {
            // Each connection to `:memory:` is its own database: share one connection,
            // and never let it idle out, or the database goes with it.
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await?;
            SqliteStore {
                reader: pool.clone(),
                writer: pool,
            }
        } else {
            let options = options
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal);
            let writer = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options.clone())
                .await?;
            let reader = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options.read_only(true))
                .await?;
            SqliteStore { reader, writer }
        };
        sqlx::migrate!("./migrations/sqlite")
            .run(&store.writer)
            .await
            .map_err(|e| Error::Internal(Box::new(e)))?;
        Ok(store)
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn read(&self) -> Result<Box<dyn Tx>> {
        Ok(Box::new(SqliteTx(self.reader.begin().await?)))
    }

    async fn write(&self) -> Result<Box<dyn Tx>> {
        Ok(Box::new(SqliteTx(self.writer.begin().await?)))
    }
}

struct SqliteTx(Transaction<'static, Sqlite>);

fn user(row: &SqliteRow) -> Result<User> {
    Ok(User {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
    })
}

fn board(row: &SqliteRow) -> Result<Board> {
    Ok(Board {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        created_at: Some(time::from_millis(row.try_get("created_at")?)),
    })
}

fn list(row: &SqliteRow) -> Result<BoardList> {
    Ok(BoardList {
        id: row.try_get("id")?,
        board_id: row.try_get("board_id")?,
        name: row.try_get("name")?,
        position: row.try_get("position")?,
    })
}

fn task(row: &SqliteRow) -> Result<Task> {
    Ok(Task {
        id: row.try_get("id")?,
        board_id: row.try_get("board_id")?,
        list_id: row.try_get("list_id")?,
        title: row.try_get("title")?,
        description: row.try_get("description")?,
        position: row.try_get("position")?,
        version: u64_of(row.try_get("version")?),
        created_at: Some(time::from_millis(row.try_get("created_at")?)),
        updated_at: Some(time::from_millis(row.try_get("updated_at")?)),
        created_by: row.try_get("created_by")?,
    })
}

/// SQLite integers are i64; versions and seqs are never negative.
fn u64_of(v: i64) -> u64 {
    u64::try_from(v).unwrap_or_default()
}

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The task columns, in the order [`task`] reads them; a macro so queries stay `&'static str`.
macro_rules! task_columns {
    ($p:literal) => {
        concat!(
            $p,
            "id, ",
            $p,
            "board_id, ",
            $p,
            "list_id, ",
            $p,
            "title, ",
            $p,
            "description, ",
            $p,
            "position, ",
            $p,
            "version, ",
            $p,
            "created_at, ",
            $p,
            "updated_at, ",
            $p,
            "created_by"
        )
    };
}

#[async_trait]
impl Tx for SqliteTx {
    async fn user_by_token(&mut self, token: &str) -> Result<Option<User>> {
        sqlx::query("SELECT id, name FROM users WHERE token = ?")
            .bind(token)
            .fetch_optional(&mut *self.0)
            .await?
            .map(|r| user(&r))
            .transpose()
    }

    async fn user(&mut self, id: &str) -> Result<Option<User>> {
        sqlx::query("SELECT id, name FROM users WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *self.0)
            .await?
            .map(|r| user(&r))
            .transpose()
    }

    async fn users_with_tokens(&mut self) -> Result<Vec<(User, String)>> {
        sqlx::query("SELECT id, name, token FROM users WHERE token IS NOT NULL ORDER BY id")
            .fetch_all(&mut *self.0)
            .await?
            .iter()
            .map(|r| Ok((user(r)?, r.try_get("token")?)))
            .collect()
    }

    async fn boards_of(&mut self, user_id: &str) -> Result<Vec<Board>> {
        sqlx::query(
            "SELECT b.id, b.name, b.created_at FROM boards b
             JOIN board_members m ON m.board_id = b.id
             WHERE m.user_id = ? ORDER BY b.id",
        )
        .bind(user_id)
        .fetch_all(&mut *self.0)
        .await?
        .iter()
        .map(board)
        .collect()
    }

    async fn board(&mut self, id: &str) -> Result<Option<Board>> {
        sqlx::query("SELECT id, name, created_at FROM boards WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *self.0)
            .await?
            .map(|r| board(&r))
            .transpose()
    }

    async fn is_member(&mut self, board_id: &str, user_id: &str) -> Result<bool> {
        Ok(
            sqlx::query("SELECT 1 FROM board_members WHERE board_id = ? AND user_id = ?")
                .bind(board_id)
                .bind(user_id)
                .fetch_optional(&mut *self.0)
                .await?
                .is_some(),
        )
    }

    async fn lists(&mut self, board_id: &str) -> Result<Vec<BoardList>> {
        sqlx::query("SELECT id, board_id, name, position FROM lists WHERE board_id = ? ORDER BY position")
            .bind(board_id)
            .fetch_all(&mut *self.0)
            .await?
            .iter()
            .map(list)
            .collect()
    }

    async fn list(&mut self, id: &str) -> Result<Option<BoardList>> {
        sqlx::query("SELECT id, board_id, name, position FROM lists WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *self.0)
            .await?
            .map(|r| list(&r))
            .transpose()
    }

    async fn tasks(&mut self, board_id: &str, list_id: Option<&str>) -> Result<Vec<Task>> {
        sqlx::query(concat!(
            "SELECT ",
            task_columns!("t."),
            " FROM tasks t JOIN lists l ON l.id = t.list_id
             WHERE t.board_id = ?1 AND (?2 IS NULL OR t.list_id = ?2)
             ORDER BY l.position, t.position, t.id"
        ))
        .bind(board_id)
        .bind(list_id)
        .fetch_all(&mut *self.0)
        .await?
        .iter()
        .map(task)
        .collect()
    }

    async fn task(&mut self, id: &str) -> Result<Option<Task>> {
        sqlx::query(concat!("SELECT ", task_columns!(""), " FROM tasks WHERE id = ?"))
            .bind(id)
            .fetch_optional(&mut *self.0)
            .await?
            .map(|r| task(&r))
            .transpose()
    }

    async fn tasks_updated_since(&mut self, board_id: &str, since_ms: i64) -> Result<Vec<Task>> {
        sqlx::query(concat!(
            "SELECT ",
            task_columns!(""),
            " FROM tasks WHERE board_id = ? AND updated_at > ? ORDER BY updated_at, id"
        ))
        .bind(board_id)
        .bind(since_ms)
        .fetch_all(&mut *self.0)
        .await?
        .iter()
        .map(task)
        .collect()
    }

    async fn task_count(&mut self, list_id: &str) -> Result<usize> {
        // Positions are dense, so the length is the last position + 1: answered from the
        // (list_id, position) index without scanning the list.
        let n: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(position) + 1, 0) FROM tasks WHERE list_id = ?")
            .bind(list_id)
            .fetch_one(&mut *self.0)
            .await?;
        Ok(usize::try_from(n).unwrap_or_default())
    }

    async fn task_order(&mut self, list_id: &str) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM tasks WHERE list_id = ? ORDER BY position, id")
                .bind(list_id)
                .fetch_all(&mut *self.0)
                .await?,
        )
    }

    async fn last_seq(&mut self, board_id: &str) -> Result<u64> {
        let seq: Option<i64> = sqlx::query_scalar("SELECT last_seq FROM boards WHERE id = ?")
            .bind(board_id)
            .fetch_optional(&mut *self.0)
            .await?;
        Ok(u64_of(seq.unwrap_or_default()))
    }

    async fn events_after(&mut self, board_id: &str, after: u64, limit: u32) -> Result<Vec<BoardEvent>> {
        let bodies: Vec<Vec<u8>> =
            sqlx::query_scalar("SELECT body FROM events WHERE board_id = ? AND seq > ? ORDER BY seq LIMIT ?")
                .bind(board_id)
                .bind(i64_of(after))
                .bind(limit)
                .fetch_all(&mut *self.0)
                .await?;
        bodies.iter().map(|b| Ok(BoardEvent::decode(b.as_slice())?)).collect()
    }

    async fn insert_user(&mut self, user: &User, token: Option<&str>) -> Result<()> {
        sqlx::query("INSERT INTO users (id, name, token) VALUES (?, ?, ?)")
            .bind(&user.id)
            .bind(&user.name)
            .bind(token)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn insert_board(&mut self, board: &Board, members: &[&str]) -> Result<()> {
        sqlx::query("INSERT INTO boards (id, name, created_at) VALUES (?, ?, ?)")
            .bind(&board.id)
            .bind(&board.name)
            .bind(board.created_at.as_ref().map(time::to_millis).unwrap_or_default())
            .execute(&mut *self.0)
            .await?;
        for member in members {
            sqlx::query("INSERT INTO board_members (board_id, user_id) VALUES (?, ?)")
                .bind(&board.id)
                .bind(member)
                .execute(&mut *self.0)
                .await?;
        }
        Ok(())
    }

    async fn insert_list(&mut self, list: &BoardList) -> Result<()> {
        sqlx::query("INSERT INTO lists (id, board_id, name, position) VALUES (?, ?, ?, ?)")
            .bind(&list.id)
            .bind(&list.board_id)
            .bind(&list.name)
            .bind(list.position)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn insert_task(&mut self, t: &Task) -> Result<()> {
        sqlx::query(concat!(
            "INSERT INTO tasks (",
            task_columns!(""),
            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(&t.id)
        .bind(&t.board_id)
        .bind(&t.list_id)
        .bind(&t.title)
        .bind(&t.description)
        .bind(t.position)
        .bind(i64_of(t.version))
        .bind(t.created_at.as_ref().map(time::to_millis).unwrap_or_default())
        .bind(t.updated_at.as_ref().map(time::to_millis).unwrap_or_default())
        .bind(&t.created_by)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn update_task(&mut self, t: &Task) -> Result<()> {
        sqlx::query(
            "UPDATE tasks SET board_id = ?, list_id = ?, title = ?, description = ?, position = ?,
             version = ?, updated_at = ? WHERE id = ?",
        )
        .bind(&t.board_id)
        .bind(&t.list_id)
        .bind(&t.title)
        .bind(&t.description)
        .bind(t.position)
        .bind(i64_of(t.version))
        .bind(t.updated_at.as_ref().map(time::to_millis).unwrap_or_default())
        .bind(&t.id)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn delete_task(&mut self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM tasks WHERE id = ?")
            .bind(id)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn set_positions(&mut self, positions: &[TaskPosition]) -> Result<()> {
        for p in positions {
            sqlx::query("UPDATE tasks SET list_id = ?, position = ? WHERE id = ?")
                .bind(&p.list_id)
                .bind(p.position)
                .bind(&p.task_id)
                .execute(&mut *self.0)
                .await?;
        }
        Ok(())
    }

    async fn next_seq(&mut self, board_id: &str) -> Result<u64> {
        let seq: i64 = sqlx::query_scalar("UPDATE boards SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq")
            .bind(board_id)
            .fetch_one(&mut *self.0)
            .await?;
        Ok(u64_of(seq))
    }

    async fn append_event(&mut self, event: &BoardEvent) -> Result<()> {
        sqlx::query("INSERT INTO events (board_id, seq, occurred_at, body) VALUES (?, ?, ?, ?)")
            .bind(&event.board_id)
            .bind(i64_of(event.seq))
            .bind(event.occurred_at.as_ref().map(time::to_millis).unwrap_or_default())
            .bind(event.encode_to_vec())
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn idempotent(&mut self, actor: &str, key: &str) -> Result<Option<IdempotentRecord>> {
        sqlx::query("SELECT fingerprint, response FROM idempotency_keys WHERE actor = ? AND key = ?")
            .bind(actor)
            .bind(key)
            .fetch_optional(&mut *self.0)
            .await?
            .map(|r| {
                Ok(IdempotentRecord {
                    fingerprint: r.try_get("fingerprint")?,
                    response: r.try_get("response")?,
                })
            })
            .transpose()
    }

    async fn remember(&mut self, actor: &str, key: &str, record: &IdempotentRecord, now_ms: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO idempotency_keys (actor, key, fingerprint, response, created_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(actor)
        .bind(key)
        .bind(&record.fingerprint)
        .bind(&record.response)
        .bind(now_ms)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn commit(self: Box<Self>) -> Result<()> {
        Ok(self.0.commit().await?)
    }
}
