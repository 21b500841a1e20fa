//! Persistence behind one narrow interface. Core drives every rule through [`Tx`]
//! (read a list's order, write positions, take the board's next seq, append the event)
//! inside one transaction; a backend only knows its SQL. SQLite is the embedded
//! default, for one process; PostgreSQL ([`postgres`]) lets several instances share
//! one database. Failures are [`Error`]s of the store's own; core decides what each
//! means to a client.

pub mod cluster;
mod error;
pub mod postgres;
mod sqlite;
mod values;

#[cfg(test)]
mod tests;

use async_trait::async_trait;
use std::sync::Arc;

use crate::metrics::Metrics;

use crate::proto::v1::{
    ApiToken, Board, BoardEvent, BoardList, Label, ListPosition, Member, Role, Task, TaskPosition, User,
};

pub use error::{Error, Result};
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// Opens the store a database URL names: `postgres://…` or `postgresql://…` (see
/// [`postgres::url`] for the pool's parameters), `sqlite:PATH`, `sqlite::memory:`,
/// `sqlite://PATH?mode=rwc` (or `rw`, `memory`), or a bare file path (taken as SQLite).
/// Runs migrations.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>> {
    // For what exposes no metrics (`boardcast user add`, tests): they count unseen.
    connect_with(url, Arc::new(Metrics::new())).await
}

/// Like [`connect`], counting commits (and, on PostgreSQL, LISTEN reconnects) in
/// `metrics`: the server's.
pub async fn connect_with(url: &str, metrics: Arc<Metrics>) -> Result<Arc<dyn Store>> {
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        return Ok(Arc::new(PgStore::open(url, metrics).await?));
    }
    if let Some((scheme, _)) = url.split_once("://")
        && scheme != "sqlite"
    {
        return Err(Error::Unsupported {
            scheme: scheme.to_owned(),
        });
    }
    Ok(Arc::new(SqliteStore::open(url, metrics).await?))
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// A transaction that reads one consistent snapshot.
    async fn read(&self) -> Result<Box<dyn Tx>>;
    /// A read-write transaction. Write transactions touching the same board never
    /// interleave (once they hold its lock: [`Tx::lock_board`]), so a board's seq and
    /// its list orders stay consistent.
    async fn write(&self) -> Result<Box<dyn Tx>>;
    /// Whether the store can serve: the database answers, and (SQLite) its file is
    /// still the one opened. What a readiness probe asks; cheap enough to ask often.
    async fn ping(&self) -> Result<()>;
    /// The other instances sharing this database; `None` when there can be none (the
    /// embedded SQLite store belongs to one process).
    fn cluster(&self) -> Option<std::sync::Arc<dyn cluster::Cluster>> {
        None
    }
}

/// A place in a board's task order (list position, task position, id): where a page
/// of tasks starts after.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskCursor {
    pub list_position: i32,
    pub position: i32,
    pub id: String,
}

/// A mutation's first outcome, kept under its (actor, request id).
pub struct IdempotentRecord {
    /// What was asked: a retry must ask the same.
    pub fingerprint: Vec<u8>,
    /// The encoded response message.
    pub response: Vec<u8>,
    /// When it was first answered (Unix ms): a record older than the idempotency
    /// window is forgotten.
    pub created_ms: i64,
}

/// Where a board's log starts and ends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogBounds {
    /// Every event with a seq up to this one was compacted away (0: none was).
    pub compacted_through: u64,
    /// The board's latest seq.
    pub last_seq: u64,
}

/// What a credential is for: a sign-in (browser or `Login`) or a named personal token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialKind {
    Session,
    Token,
}

impl CredentialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Session => "session",
            CredentialKind::Token => "token",
        }
    }
}

/// A credential to store: only the hash of its secret.
pub struct NewCredential<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub kind: CredentialKind,
    pub name: &'a str,
    pub secret_hash: &'a [u8],
    pub created_ms: i64,
}

/// A row that belongs to one board for its whole life (a list, a task or a label
/// never moves to another board): [`Tx::lock_board_of`] locks that board.
#[derive(Clone, Copy, Debug)]
pub enum OnBoard<'a> {
    List(&'a str),
    Task(&'a str),
    Label(&'a str),
}

/// One transaction. Dropped without [`Tx::commit`], it rolls back.
#[async_trait]
pub trait Tx: Send {
    async fn user(&mut self, id: &str) -> Result<Option<User>>;
    /// The user signing in as `username` (lowercase), with their password hash.
    async fn user_by_username(&mut self, username: &str) -> Result<Option<(User, Option<String>)>>;
    /// The user a credential secret (its SHA-256) stands for, and the credential's id.
    async fn user_by_secret(&mut self, secret_hash: &[u8]) -> Result<Option<(User, String)>>;
    /// How many users can sign in (have a username).
    async fn account_count(&mut self) -> Result<u64>;
    /// A user's credentials of one kind, oldest first.
    async fn credentials(&mut self, user_id: &str, kind: CredentialKind) -> Result<Vec<ApiToken>>;
    async fn boards_of(&mut self, user_id: &str) -> Result<Vec<Board>>;
    async fn board(&mut self, id: &str) -> Result<Option<Board>>;
    async fn is_member(&mut self, board_id: &str, user_id: &str) -> Result<bool>;
    /// The user's role on the board; `None` when not a member.
    async fn member_role(&mut self, board_id: &str, user_id: &str) -> Result<Option<Role>>;
    /// A board's members, ordered by username.
    async fn members(&mut self, board_id: &str) -> Result<Vec<Member>>;
    async fn member(&mut self, board_id: &str, user_id: &str) -> Result<Option<Member>>;
    async fn owner_count(&mut self, board_id: &str) -> Result<usize>;
    /// The ids of a board's lists in order.
    async fn list_order(&mut self, board_id: &str) -> Result<Vec<String>>;
    async fn lists(&mut self, board_id: &str) -> Result<Vec<BoardList>>;
    async fn list(&mut self, id: &str) -> Result<Option<BoardList>>;
    /// A board's tasks (or one list's), ordered by list position, then task position.
    async fn tasks(&mut self, board_id: &str, list_id: Option<&str>) -> Result<Vec<Task>>;
    /// Up to `limit` of a board's tasks in the order of [`Tx::tasks`], after `after`.
    async fn tasks_page(&mut self, board_id: &str, after: Option<&TaskCursor>, limit: u32) -> Result<Vec<Task>>;
    async fn task(&mut self, id: &str) -> Result<Option<Task>>;
    /// A board's tasks created or changed after `since_ms` (Unix ms), oldest change first.
    async fn tasks_updated_since(&mut self, board_id: &str, since_ms: i64) -> Result<Vec<Task>>;
    /// How many tasks a list holds (positions are dense: 0..count).
    async fn task_count(&mut self, list_id: &str) -> Result<usize>;
    /// The ids of a list's tasks in order.
    async fn task_order(&mut self, list_id: &str) -> Result<Vec<String>>;
    async fn last_seq(&mut self, board_id: &str) -> Result<u64>;
    /// The last seq of each of these boards that exists, in no particular order (the
    /// cross-instance sweep compares them with what it has delivered).
    async fn last_seqs(&mut self, board_ids: &[String]) -> Result<Vec<(String, u64)>>;
    /// Up to `limit` events of a board's log with seq > `after`, in seq order.
    async fn events_after(&mut self, board_id: &str, after: u64, limit: u32) -> Result<Vec<BoardEvent>>;

    /// In a write transaction: waits for and holds the board's lock until commit or
    /// rollback, so write transactions on one board run one at a time (on every
    /// instance sharing the database); everything read after it is current. Core
    /// takes it before reading anything its rule depends on. (SQLite: nothing to do,
    /// its one writer runs every write transaction alone.)
    async fn lock_board(&mut self, board_id: &str) -> Result<()>;
    /// [`Tx::lock_board`] on the board `row` belongs to, found from the row; returns
    /// that board's id, or `None` (nothing locked) when the row does not exist. The
    /// row itself may change or go while the lock is awaited: read it again after.
    async fn lock_board_of(&mut self, row: OnBoard<'_>) -> Result<Option<String>> {
        let board_id = match row {
            OnBoard::List(id) => self.list(id).await?.map(|list| list.board_id),
            OnBoard::Task(id) => self.task(id).await?.map(|task| task.board_id),
            OnBoard::Label(id) => self.label(id).await?.map(|label| label.board_id),
        };
        if let Some(id) = &board_id {
            self.lock_board(id).await?;
        }
        Ok(board_id)
    }
    /// In a write transaction: waits for and holds the lock of the request id `key` of
    /// `actor` until commit or rollback, so a retry sent while the first attempt is
    /// still running waits for it and then finds its answer ([`Tx::idempotent`])
    /// instead of applying the change again. (SQLite: nothing to do.)
    async fn lock_request(&mut self, actor: &str, key: &str) -> Result<()>;

    /// A user (`username` empty: none, as for the guest) and their argon2id PHC string.
    async fn insert_user(&mut self, user: &User, password_hash: Option<&str>) -> Result<()>;
    /// Sets a user's argon2id PHC string.
    async fn set_password_hash(&mut self, user_id: &str, password_hash: &str) -> Result<()>;
    async fn insert_credential(&mut self, credential: &NewCredential<'_>) -> Result<()>;
    /// Deletes the user's credential `id`; false when the user has none by that id.
    async fn delete_credential(&mut self, user_id: &str, id: &str) -> Result<bool>;
    async fn touch_credential(&mut self, id: &str, now_ms: i64) -> Result<()>;
    async fn insert_board(&mut self, board: &Board, members: &[(&str, Role)]) -> Result<()>;
    /// Writes the board's name and archived flag.
    async fn update_board(&mut self, board: &Board) -> Result<()>;
    /// Marks the board deleted and drops its memberships: no read finds it, its lists
    /// or its tasks any more; their rows and the log stay.
    async fn delete_board(&mut self, id: &str, now_ms: i64) -> Result<()>;
    async fn insert_member(&mut self, board_id: &str, user_id: &str, role: Role) -> Result<()>;
    async fn set_member_role(&mut self, board_id: &str, user_id: &str, role: Role) -> Result<()>;
    async fn delete_member(&mut self, board_id: &str, user_id: &str) -> Result<()>;
    async fn insert_list(&mut self, list: &BoardList) -> Result<()>;
    /// Writes the list's name and position.
    async fn update_list(&mut self, list: &BoardList) -> Result<()>;
    async fn set_list_positions(&mut self, positions: &[ListPosition]) -> Result<()>;
    async fn delete_list(&mut self, id: &str) -> Result<()>;
    async fn insert_task(&mut self, task: &Task) -> Result<()>;
    /// Writes every field of the task but its id.
    async fn update_task(&mut self, task: &Task) -> Result<()>;
    async fn delete_task(&mut self, id: &str) -> Result<()>;
    async fn set_positions(&mut self, positions: &[TaskPosition]) -> Result<()>;
    /// Takes the board's next seq (last + 1) and records it as the latest, at the latest
    /// by the time [`Tx::append_event`] has appended it.
    async fn next_seq(&mut self, board_id: &str) -> Result<u64>;
    async fn append_event(&mut self, event: &BoardEvent) -> Result<()>;
    /// A board's labels, ordered by name ignoring case (then id).
    async fn labels(&mut self, board_id: &str) -> Result<Vec<Label>>;
    async fn label(&mut self, id: &str) -> Result<Option<Label>>;
    async fn insert_label(&mut self, label: &Label) -> Result<()>;
    /// Writes the label's name and color.
    async fn update_label(&mut self, label: &Label) -> Result<()>;
    /// Deletes the label and takes it off its tasks; returns those tasks' ids, sorted.
    async fn delete_label(&mut self, id: &str) -> Result<Vec<String>>;
    /// Replaces the task's assignees.
    async fn set_task_assignees(&mut self, task_id: &str, user_ids: &[String]) -> Result<()>;
    /// Replaces the task's labels.
    async fn set_task_labels(&mut self, task_id: &str, label_ids: &[String]) -> Result<()>;
    /// Takes the user off every task of the board; returns those tasks' ids, sorted.
    async fn unassign_member(&mut self, board_id: &str, user_id: &str) -> Result<Vec<String>>;
    /// Up to `limit` events of a board's log with seq < `before` (all when `None`),
    /// newest first.
    async fn events_before(&mut self, board_id: &str, before: Option<u64>, limit: u32) -> Result<Vec<BoardEvent>>;
    async fn idempotent(&mut self, actor: &str, key: &str) -> Result<Option<IdempotentRecord>>;
    async fn remember(&mut self, actor: &str, key: &str, record: &IdempotentRecord) -> Result<()>;
    /// Deletes one request id of `actor` (an expired one, before it is used afresh).
    async fn forget_request(&mut self, actor: &str, key: &str) -> Result<()>;
    /// Deletes up to `limit` request ids remembered before `before_ms`, oldest first;
    /// returns how many went.
    async fn expire_requests(&mut self, before_ms: i64, limit: u32) -> Result<u64>;

    /// Where the board's log starts (what compaction left) and ends; zeros for a
    /// board that does not exist.
    async fn log_bounds(&mut self, board_id: &str) -> Result<LogBounds>;
    /// Every board (deleted ones too) whose log holds more than `keep` events above
    /// its horizon, with its bounds.
    async fn compactable_boards(&mut self, keep: u64) -> Result<Vec<(String, LogBounds)>>;
    /// The lowest seq above `after` of an event of the board that occurred at or
    /// after `since_ms`; `None` when every later event is older.
    async fn first_event_since(&mut self, board_id: &str, after: u64, since_ms: i64) -> Result<Option<u64>>;
    /// In a write transaction: deletes the board's events with a seq up to `through`
    /// and records `through` as its horizon (never lowering it), in one transaction,
    /// so a reader sees both or neither. Returns how many events went.
    async fn compact_log(&mut self, board_id: &str, through: u64) -> Result<u64>;

    async fn commit(self: Box<Self>) -> Result<()>;
}
