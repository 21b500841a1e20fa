//! The SQL of [`Tx`]: each primitive core drives, as statements on the transaction's
//! connection, each prepared once per connection and cached.

use async_trait::async_trait;
use prost::Message;
use rusqlite::{OptionalExtension, Row, params};

use super::rows::{
    board, i64_of, list, member, millis, role_of, role_text, task, task_columns, task_select, u64_of, user,
};
use super::tx::SqliteTx;
use crate::proto::v1::{
    ApiToken, Board, BoardEvent, BoardList, Label, ListPosition, Member, Role, Task, TaskPosition, User,
};
use crate::store::{CredentialKind, IdempotentRecord, LogBounds, NewCredential, Result, TaskCursor, Tx};

impl SqliteTx {
    /// Every row `sql` yields, each through `map`.
    pub(super) fn all<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        map: impl FnMut(&Row) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>> {
        let mut stmt = self.db()?.prepare_cached(sql)?;
        let rows = stmt.query_map(params, map)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The first row `sql` yields, if any, through `map`.
    pub(super) fn first<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        map: impl FnOnce(&Row) -> rusqlite::Result<T>,
    ) -> Result<Option<T>> {
        Ok(self.db()?.prepare_cached(sql)?.query_row(params, map).optional()?)
    }

    /// The one row `sql` yields (none is an error), through `map`.
    fn one<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        map: impl FnOnce(&Row) -> rusqlite::Result<T>,
    ) -> Result<T> {
        Ok(self.db()?.prepare_cached(sql)?.query_row(params, map)?)
    }

    pub(super) fn execute(&self, sql: &str, params: impl rusqlite::Params) -> Result<()> {
        self.db()?.prepare_cached(sql)?.execute(params)?;
        Ok(())
    }
}

#[async_trait]
impl Tx for SqliteTx {
    async fn user(&mut self, id: &str) -> Result<Option<User>> {
        self.first(
            "SELECT id, name, COALESCE(username, '') FROM users WHERE id = ?",
            [id],
            user,
        )
    }

    async fn user_by_username(&mut self, username: &str) -> Result<Option<(User, Option<String>)>> {
        self.account_by_username(username)
    }

    async fn user_by_secret(&mut self, secret_hash: &[u8]) -> Result<Option<(User, String)>> {
        self.account_by_secret(secret_hash)
    }

    async fn account_count(&mut self) -> Result<u64> {
        self.one("SELECT COUNT(*) FROM users WHERE username IS NOT NULL", [], |r| {
            r.get::<_, i64>(0).map(u64_of)
        })
    }

    async fn credentials(&mut self, user_id: &str, kind: CredentialKind) -> Result<Vec<ApiToken>> {
        self.credentials_of(user_id, kind)
    }

    async fn boards_of(&mut self, user_id: &str) -> Result<Vec<Board>> {
        self.all(
            "SELECT b.id, b.name, b.created_at, b.archived FROM boards b
             JOIN board_members m ON m.board_id = b.id
             WHERE m.user_id = ? AND b.deleted_at IS NULL ORDER BY b.id",
            [user_id],
            board,
        )
    }

    async fn board(&mut self, id: &str) -> Result<Option<Board>> {
        self.first(
            "SELECT id, name, created_at, archived FROM boards WHERE id = ? AND deleted_at IS NULL",
            [id],
            board,
        )
    }

    async fn is_member(&mut self, board_id: &str, user_id: &str) -> Result<bool> {
        Ok(self
            .first(
                "SELECT 1 FROM board_members WHERE board_id = ? AND user_id = ?",
                [board_id, user_id],
                |_| Ok(()),
            )?
            .is_some())
    }

    async fn member_role(&mut self, board_id: &str, user_id: &str) -> Result<Option<Role>> {
        self.first(
            "SELECT role FROM board_members WHERE board_id = ? AND user_id = ?",
            [board_id, user_id],
            |r| Ok(role_of(&r.get::<_, String>(0)?)),
        )
    }

    async fn members(&mut self, board_id: &str) -> Result<Vec<Member>> {
        self.all(
            "SELECT u.id, COALESCE(u.username, u.id), u.name, m.role FROM board_members m JOIN users u ON u.id = m.user_id
             WHERE m.board_id = ? ORDER BY COALESCE(u.username, u.id)",
            [board_id],
            member,
        )
    }

    async fn member(&mut self, board_id: &str, user_id: &str) -> Result<Option<Member>> {
        self.first(
            "SELECT u.id, COALESCE(u.username, u.id), u.name, m.role FROM board_members m JOIN users u ON u.id = m.user_id
             WHERE m.board_id = ? AND m.user_id = ?",
            [board_id, user_id],
            member,
        )
    }

    async fn owner_count(&mut self, board_id: &str) -> Result<usize> {
        let n: i64 = self.one(
            "SELECT COUNT(*) FROM board_members WHERE board_id = ? AND role = 'owner'",
            [board_id],
            |r| r.get(0),
        )?;
        Ok(usize::try_from(n).unwrap_or_default())
    }

    async fn list_order(&mut self, board_id: &str) -> Result<Vec<String>> {
        self.all(
            "SELECT id FROM lists WHERE board_id = ? ORDER BY position, id",
            [board_id],
            |r| r.get(0),
        )
    }

    async fn lists(&mut self, board_id: &str) -> Result<Vec<BoardList>> {
        self.all(
            "SELECT id, board_id, name, position FROM lists WHERE board_id = ? ORDER BY position",
            [board_id],
            list,
        )
    }

    async fn list(&mut self, id: &str) -> Result<Option<BoardList>> {
        self.first(
            "SELECT id, board_id, name, position FROM lists WHERE id = ?",
            [id],
            list,
        )
    }

    async fn tasks(&mut self, board_id: &str, list_id: Option<&str>) -> Result<Vec<Task>> {
        self.all(
            concat!(
                "SELECT ",
                task_select!(),
                " FROM tasks t JOIN lists l ON l.id = t.list_id
                 WHERE t.board_id = ?1 AND (?2 IS NULL OR t.list_id = ?2)
                 ORDER BY l.position, t.position, t.id"
            ),
            params![board_id, list_id],
            task,
        )
    }

    async fn tasks_page(&mut self, board_id: &str, after: Option<&TaskCursor>, limit: u32) -> Result<Vec<Task>> {
        self.task_page_rows(board_id, after, limit)
    }

    async fn task(&mut self, id: &str) -> Result<Option<Task>> {
        self.first(
            concat!("SELECT ", task_select!(), " FROM tasks t WHERE t.id = ?"),
            [id],
            task,
        )
    }

    async fn tasks_updated_since(&mut self, board_id: &str, since_ms: i64) -> Result<Vec<Task>> {
        self.all(
            concat!(
                "SELECT ",
                task_select!(),
                " FROM tasks t WHERE t.board_id = ? AND t.updated_at > ? ORDER BY t.updated_at, t.id"
            ),
            params![board_id, since_ms],
            task,
        )
    }

    async fn task_count(&mut self, list_id: &str) -> Result<usize> {
        // Positions are dense, so the length is the last position + 1: answered from the
        // (list_id, position) index without scanning the list.
        let n: i64 = self.one(
            "SELECT COALESCE(MAX(position) + 1, 0) FROM tasks WHERE list_id = ?",
            [list_id],
            |r| r.get(0),
        )?;
        Ok(usize::try_from(n).unwrap_or_default())
    }

    async fn task_order(&mut self, list_id: &str) -> Result<Vec<String>> {
        self.all(
            "SELECT id FROM tasks WHERE list_id = ? ORDER BY position, id",
            [list_id],
            |r| r.get(0),
        )
    }

    async fn last_seq(&mut self, board_id: &str) -> Result<u64> {
        let seq: Option<i64> = self.first("SELECT last_seq FROM boards WHERE id = ?", [board_id], |r| r.get(0))?;
        Ok(u64_of(seq.unwrap_or_default()))
    }

    async fn last_seqs(&mut self, board_ids: &[String]) -> Result<Vec<(String, u64)>> {
        let mut out = Vec::with_capacity(board_ids.len());
        for id in board_ids {
            let seq: Option<i64> = self.first("SELECT last_seq FROM boards WHERE id = ?", [id], |r| r.get(0))?;
            if let Some(seq) = seq {
                out.push((id.clone(), u64_of(seq)));
            }
        }
        Ok(out)
    }

    async fn events_after(&mut self, board_id: &str, after: u64, limit: u32) -> Result<Vec<BoardEvent>> {
        let bodies: Vec<Vec<u8>> = self.all(
            "SELECT body FROM events WHERE board_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            params![board_id, i64_of(after), limit],
            |r| r.get(0),
        )?;
        bodies.iter().map(|b| Ok(BoardEvent::decode(b.as_slice())?)).collect()
    }

    async fn lock_board(&mut self, _board_id: &str) -> Result<()> {
        // This transaction holds the one writer: no other write runs until it ends.
        Ok(())
    }

    async fn lock_request(&mut self, _actor: &str, _key: &str) -> Result<()> {
        Ok(())
    }

    async fn insert_user(&mut self, user: &User, password_hash: Option<&str>) -> Result<()> {
        self.insert_account(user, password_hash)
    }

    async fn set_password_hash(&mut self, user_id: &str, password_hash: &str) -> Result<()> {
        self.execute(
            "UPDATE users SET password_hash = ? WHERE id = ?",
            [password_hash, user_id],
        )
    }

    async fn insert_credential(&mut self, credential: &NewCredential<'_>) -> Result<()> {
        self.insert_credential_row(credential)
    }

    async fn delete_credential(&mut self, user_id: &str, id: &str) -> Result<bool> {
        self.delete_credential_row(user_id, id)
    }

    async fn touch_credential(&mut self, id: &str, now_ms: i64) -> Result<()> {
        self.touch_credential_row(id, now_ms)
    }

    async fn insert_board(&mut self, board: &Board, members: &[(&str, Role)]) -> Result<()> {
        self.execute(
            "INSERT INTO boards (id, name, created_at, archived) VALUES (?, ?, ?, ?)",
            params![board.id, board.name, millis(board.created_at.as_ref()), board.archived],
        )?;
        for (user_id, role) in members {
            self.insert_member(&board.id, user_id, *role).await?;
        }
        Ok(())
    }

    async fn update_board(&mut self, board: &Board) -> Result<()> {
        self.execute(
            "UPDATE boards SET name = ?, archived = ? WHERE id = ?",
            params![board.name, board.archived, board.id],
        )
    }

    async fn delete_board(&mut self, id: &str, now_ms: i64) -> Result<()> {
        // Without members, its lists and tasks answer as not found to everyone too.
        self.execute("DELETE FROM board_members WHERE board_id = ?", [id])?;
        self.execute("UPDATE boards SET deleted_at = ? WHERE id = ?", params![now_ms, id])
    }

    async fn insert_member(&mut self, board_id: &str, user_id: &str, role: Role) -> Result<()> {
        self.execute(
            "INSERT INTO board_members (board_id, user_id, role) VALUES (?, ?, ?)",
            params![board_id, user_id, role_text(role)],
        )
    }

    async fn set_member_role(&mut self, board_id: &str, user_id: &str, role: Role) -> Result<()> {
        self.execute(
            "UPDATE board_members SET role = ? WHERE board_id = ? AND user_id = ?",
            params![role_text(role), board_id, user_id],
        )
    }

    async fn delete_member(&mut self, board_id: &str, user_id: &str) -> Result<()> {
        self.execute(
            "DELETE FROM board_members WHERE board_id = ? AND user_id = ?",
            params![board_id, user_id],
        )
    }

    async fn insert_list(&mut self, list: &BoardList) -> Result<()> {
        self.execute(
            "INSERT INTO lists (id, board_id, name, position) VALUES (?, ?, ?, ?)",
            params![list.id, list.board_id, list.name, list.position],
        )
    }

    async fn update_list(&mut self, list: &BoardList) -> Result<()> {
        self.execute(
            "UPDATE lists SET name = ?, position = ? WHERE id = ?",
            params![list.name, list.position, list.id],
        )
    }

    async fn set_list_positions(&mut self, positions: &[ListPosition]) -> Result<()> {
        for p in positions {
            self.execute(
                "UPDATE lists SET position = ? WHERE id = ?",
                params![p.position, p.list_id],
            )?;
        }
        Ok(())
    }

    async fn delete_list(&mut self, id: &str) -> Result<()> {
        self.execute("DELETE FROM lists WHERE id = ?", [id])
    }

    async fn insert_task(&mut self, t: &Task) -> Result<()> {
        self.execute(
            concat!(
                "INSERT INTO tasks (",
                task_columns!(""),
                ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ),
            params![
                t.id,
                t.board_id,
                t.list_id,
                t.title,
                t.description,
                t.position,
                i64_of(t.version),
                millis(t.created_at.as_ref()),
                millis(t.updated_at.as_ref()),
                t.created_by,
                t.due_at.as_ref().map(crate::time::to_millis),
            ],
        )
    }

    async fn update_task(&mut self, t: &Task) -> Result<()> {
        self.execute(
            "UPDATE tasks SET board_id = ?, list_id = ?, title = ?, description = ?, position = ?,
             version = ?, updated_at = ?, due_at = ? WHERE id = ?",
            params![
                t.board_id,
                t.list_id,
                t.title,
                t.description,
                t.position,
                i64_of(t.version),
                millis(t.updated_at.as_ref()),
                t.due_at.as_ref().map(crate::time::to_millis),
                t.id,
            ],
        )
    }

    async fn delete_task(&mut self, id: &str) -> Result<()> {
        self.execute("DELETE FROM tasks WHERE id = ?", [id])
    }

    async fn set_positions(&mut self, positions: &[TaskPosition]) -> Result<()> {
        for p in positions {
            self.execute(
                "UPDATE tasks SET list_id = ?, position = ? WHERE id = ?",
                params![p.list_id, p.position, p.task_id],
            )?;
        }
        Ok(())
    }

    async fn next_seq(&mut self, board_id: &str) -> Result<u64> {
        let seq: i64 = self.one(
            "UPDATE boards SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq",
            [board_id],
            |r| r.get(0),
        )?;
        Ok(u64_of(seq))
    }

    async fn append_event(&mut self, event: &BoardEvent) -> Result<()> {
        self.execute(
            "INSERT INTO events (board_id, seq, occurred_at, body) VALUES (?, ?, ?, ?)",
            params![
                event.board_id,
                i64_of(event.seq),
                millis(event.occurred_at.as_ref()),
                event.encode_to_vec(),
            ],
        )
    }

    async fn idempotent(&mut self, actor: &str, key: &str) -> Result<Option<IdempotentRecord>> {
        self.first(
            "SELECT fingerprint, response, created_at FROM idempotency_keys WHERE actor = ? AND key = ?",
            [actor, key],
            |r| {
                Ok(IdempotentRecord {
                    fingerprint: r.get(0)?,
                    response: r.get(1)?,
                    created_ms: r.get(2)?,
                })
            },
        )
    }

    async fn remember(&mut self, actor: &str, key: &str, record: &IdempotentRecord) -> Result<()> {
        self.execute(
            "INSERT INTO idempotency_keys (actor, key, fingerprint, response, created_at) VALUES (?, ?, ?, ?, ?)",
            params![actor, key, record.fingerprint, record.response, record.created_ms],
        )
    }

    async fn forget_request(&mut self, actor: &str, key: &str) -> Result<()> {
        self.forget_request_row(actor, key)
    }

    async fn expire_requests(&mut self, before_ms: i64, limit: u32) -> Result<u64> {
        self.expire_request_rows(before_ms, limit)
    }

    async fn log_bounds(&mut self, board_id: &str) -> Result<LogBounds> {
        self.log_bounds_of(board_id)
    }

    async fn compactable_boards(&mut self, keep: u64) -> Result<Vec<(String, LogBounds)>> {
        self.compactable_board_rows(keep)
    }

    async fn first_event_since(&mut self, board_id: &str, after: u64, since_ms: i64) -> Result<Option<u64>> {
        self.first_event_since_row(board_id, after, since_ms)
    }

    async fn compact_log(&mut self, board_id: &str, through: u64) -> Result<u64> {
        self.compact_log_rows(board_id, through)
    }

    async fn labels(&mut self, board_id: &str) -> Result<Vec<Label>> {
        self.labels_of(board_id)
    }

    async fn label(&mut self, id: &str) -> Result<Option<Label>> {
        self.label_row(id)
    }

    async fn insert_label(&mut self, label: &Label) -> Result<()> {
        self.insert_label_row(label)
    }

    async fn update_label(&mut self, label: &Label) -> Result<()> {
        self.update_label_row(label)
    }

    async fn delete_label(&mut self, id: &str) -> Result<Vec<String>> {
        self.delete_label_row(id)
    }

    async fn set_task_assignees(&mut self, task_id: &str, user_ids: &[String]) -> Result<()> {
        self.set_task_assignee_rows(task_id, user_ids)
    }

    async fn set_task_labels(&mut self, task_id: &str, label_ids: &[String]) -> Result<()> {
        self.set_task_label_rows(task_id, label_ids)
    }

    async fn unassign_member(&mut self, board_id: &str, user_id: &str) -> Result<Vec<String>> {
        self.unassign_member_rows(board_id, user_id)
    }

    async fn events_before(&mut self, board_id: &str, before: Option<u64>, limit: u32) -> Result<Vec<BoardEvent>> {
        self.events_before_rows(board_id, before, limit)
    }

    async fn commit(self: Box<Self>) -> Result<()> {
        self.commit_tx().await
    }
}
