//! The SQL of [`Tx`]: each primitive core drives, as statements on the transaction's
//! connection (sqlx prepares each once per connection and caches it). Accounts are in
//! `accounts.rs`, task details and the activity feed's reads in `details.rs`.

use async_trait::async_trait;
use prost::Message;

use super::details::decode_all;
use super::rows::{board, first, i64_of, list, member, millis, role_of, role_text, task, task_select, u64_of, user};
use super::tx::PgTx;
use crate::proto::v1::{
    ApiToken, Board, BoardEvent, BoardList, Label, ListPosition, Member, Role, Task, TaskPosition, User,
};
use crate::store::{CredentialKind, IdempotentRecord, LogBounds, NewCredential, OnBoard, Result, TaskCursor, Tx};

fn count(n: i64) -> usize {
    usize::try_from(n).unwrap_or_default()
}

#[async_trait]
impl Tx for PgTx {
    async fn user(&mut self, id: &str) -> Result<Option<User>> {
        let q = sqlx::query("SELECT id, name, COALESCE(username, '') FROM users WHERE id = $1").bind(id);
        self.first(q, user).await
    }

    async fn user_by_username(&mut self, username: &str) -> Result<Option<(User, Option<String>)>> {
        self.account_by_username(username).await
    }

    async fn user_by_secret(&mut self, secret_hash: &[u8]) -> Result<Option<(User, String)>> {
        self.account_by_secret(secret_hash).await
    }

    async fn account_count(&mut self) -> Result<u64> {
        self.account_total().await
    }

    async fn credentials(&mut self, user_id: &str, kind: CredentialKind) -> Result<Vec<ApiToken>> {
        self.credentials_of(user_id, kind).await
    }

    async fn boards_of(&mut self, user_id: &str) -> Result<Vec<Board>> {
        let q = sqlx::query(
            "SELECT b.id, b.name, b.created_at, b.archived FROM boards b
             JOIN board_members m ON m.board_id = b.id
             WHERE m.user_id = $1 AND b.deleted_at IS NULL ORDER BY b.id",
        )
        .bind(user_id);
        self.all(q, board).await
    }

    async fn board(&mut self, id: &str) -> Result<Option<Board>> {
        if let Some(locked) = self.locked_board(id) {
            return Ok(locked.board.clone());
        }
        let q = sqlx::query("SELECT id, name, created_at, archived FROM boards WHERE id = $1 AND deleted_at IS NULL")
            .bind(id);
        self.first(q, board).await
    }

    async fn is_member(&mut self, board_id: &str, user_id: &str) -> Result<bool> {
        Ok(self.member_role(board_id, user_id).await?.is_some())
    }

    async fn member_role(&mut self, board_id: &str, user_id: &str) -> Result<Option<Role>> {
        let q = sqlx::query("SELECT role FROM board_members WHERE board_id = $1 AND user_id = $2")
            .bind(board_id)
            .bind(user_id);
        Ok(self.first(q, first::<String>).await?.map(|r| role_of(&r)))
    }

    async fn members(&mut self, board_id: &str) -> Result<Vec<Member>> {
        let q = sqlx::query(
            "SELECT u.id, COALESCE(u.username, u.id), u.name, m.role FROM board_members m JOIN users u ON u.id = m.user_id
             WHERE m.board_id = $1 ORDER BY COALESCE(u.username, u.id)",
        )
        .bind(board_id);
        self.all(q, member).await
    }

    async fn member(&mut self, board_id: &str, user_id: &str) -> Result<Option<Member>> {
        let q = sqlx::query(
            "SELECT u.id, COALESCE(u.username, u.id), u.name, m.role FROM board_members m JOIN users u ON u.id = m.user_id
             WHERE m.board_id = $1 AND m.user_id = $2",
        )
        .bind(board_id)
        .bind(user_id);
        self.first(q, member).await
    }

    async fn owner_count(&mut self, board_id: &str) -> Result<usize> {
        let q = sqlx::query("SELECT COUNT(*) FROM board_members WHERE board_id = $1 AND role = 'owner'").bind(board_id);
        self.one(q, first::<i64>).await.map(count)
    }

    async fn list_order(&mut self, board_id: &str) -> Result<Vec<String>> {
        let q = sqlx::query("SELECT id FROM lists WHERE board_id = $1 ORDER BY position, id").bind(board_id);
        self.all(q, first::<String>).await
    }

    async fn lists(&mut self, board_id: &str) -> Result<Vec<BoardList>> {
        // Ties (core never leaves any) broken by id, so the order is stable.
        let q = sqlx::query("SELECT id, board_id, name, position FROM lists WHERE board_id = $1 ORDER BY position, id")
            .bind(board_id);
        self.all(q, list).await
    }

    async fn list(&mut self, id: &str) -> Result<Option<BoardList>> {
        let q = sqlx::query("SELECT id, board_id, name, position FROM lists WHERE id = $1").bind(id);
        self.first(q, list).await
    }

    async fn tasks(&mut self, board_id: &str, list_id: Option<&str>) -> Result<Vec<Task>> {
        let q = sqlx::query(concat!(
            "SELECT ",
            task_select!(),
            " FROM tasks t JOIN lists l ON l.id = t.list_id
             WHERE t.board_id = $1 AND ($2::text IS NULL OR t.list_id = $2)
             ORDER BY l.position, t.position, t.id"
        ))
        .bind(board_id)
        .bind(list_id);
        self.all(q, task).await
    }

    async fn tasks_page(&mut self, board_id: &str, after: Option<&TaskCursor>, limit: u32) -> Result<Vec<Task>> {
        self.task_page_rows(board_id, after, limit).await
    }

    async fn task(&mut self, id: &str) -> Result<Option<Task>> {
        let q = sqlx::query(concat!("SELECT ", task_select!(), " FROM tasks t WHERE t.id = $1")).bind(id);
        self.first(q, task).await
    }

    async fn tasks_updated_since(&mut self, board_id: &str, since_ms: i64) -> Result<Vec<Task>> {
        let q = sqlx::query(concat!(
            "SELECT ",
            task_select!(),
            " FROM tasks t WHERE t.board_id = $1 AND t.updated_at > $2 ORDER BY t.updated_at, t.id"
        ))
        .bind(board_id)
        .bind(since_ms);
        self.all(q, task).await
    }

    async fn task_count(&mut self, list_id: &str) -> Result<usize> {
        // Positions are dense, so the length is the last position + 1, from the index.
        let q =
            sqlx::query("SELECT COALESCE(MAX(position) + 1, 0)::bigint FROM tasks WHERE list_id = $1").bind(list_id);
        self.one(q, first::<i64>).await.map(count)
    }

    async fn task_order(&mut self, list_id: &str) -> Result<Vec<String>> {
        let q = sqlx::query("SELECT id FROM tasks WHERE list_id = $1 ORDER BY position, id").bind(list_id);
        self.all(q, first::<String>).await
    }

    async fn last_seq(&mut self, board_id: &str) -> Result<u64> {
        let q = sqlx::query("SELECT last_seq FROM boards WHERE id = $1").bind(board_id);
        Ok(u64_of(self.first(q, first::<i64>).await?.unwrap_or_default()))
    }

    async fn last_seqs(&mut self, board_ids: &[String]) -> Result<Vec<(String, u64)>> {
        let q = sqlx::query("SELECT id, last_seq FROM boards WHERE id = ANY($1)").bind(board_ids);
        let rows = self
            .all(q, |r| Ok((first::<String>(r)?, sqlx::Row::try_get::<i64, _>(r, 1)?)))
            .await?;
        Ok(rows.into_iter().map(|(id, seq)| (id, u64_of(seq))).collect())
    }

    async fn events_after(&mut self, board_id: &str, after: u64, limit: u32) -> Result<Vec<BoardEvent>> {
        let q = sqlx::query("SELECT body FROM events WHERE board_id = $1 AND seq > $2 ORDER BY seq LIMIT $3")
            .bind(board_id)
            .bind(i64_of(after))
            .bind(i64::from(limit));
        decode_all(&self.all(q, first::<Vec<u8>>).await?)
    }

    async fn lock_board(&mut self, board_id: &str) -> Result<()> {
        self.lock_board_row(board_id).await
    }

    async fn lock_board_of(&mut self, row: OnBoard<'_>) -> Result<Option<String>> {
        self.lock_board_of_row(row).await
    }

    async fn lock_request(&mut self, actor: &str, key: &str) -> Result<()> {
        self.lock_request_key(actor, key).await
    }

    async fn insert_user(&mut self, user: &User, password_hash: Option<&str>) -> Result<()> {
        self.insert_account(user, password_hash).await
    }

    async fn set_password_hash(&mut self, user_id: &str, password_hash: &str) -> Result<()> {
        self.set_password(user_id, password_hash).await
    }

    async fn insert_credential(&mut self, credential: &NewCredential<'_>) -> Result<()> {
        self.insert_credential_row(credential).await
    }

    async fn delete_credential(&mut self, user_id: &str, id: &str) -> Result<bool> {
        self.delete_credential_row(user_id, id).await
    }

    async fn touch_credential(&mut self, id: &str, now_ms: i64) -> Result<()> {
        self.touch_credential_row(id, now_ms).await
    }

    async fn insert_board(&mut self, board: &Board, members: &[(&str, Role)]) -> Result<()> {
        let q = sqlx::query("INSERT INTO boards (id, name, created_at, archived) VALUES ($1, $2, $3, $4)")
            .bind(&board.id)
            .bind(&board.name)
            .bind(millis(board.created_at.as_ref()))
            .bind(board.archived);
        self.execute(q).await?;
        for (user_id, role) in members {
            self.insert_member(&board.id, user_id, *role).await?;
        }
        Ok(())
    }

    async fn update_board(&mut self, board: &Board) -> Result<()> {
        self.locked = None;
        let q = sqlx::query("UPDATE boards SET name = $1, archived = $2 WHERE id = $3")
            .bind(&board.name)
            .bind(board.archived)
            .bind(&board.id);
        self.execute(q).await.map(drop)
    }

    async fn delete_board(&mut self, id: &str, now_ms: i64) -> Result<()> {
        self.locked = None;
        // Without members, its lists and tasks answer as not found to everyone too.
        self.execute(sqlx::query("DELETE FROM board_members WHERE board_id = $1").bind(id))
            .await?;
        let q = sqlx::query("UPDATE boards SET deleted_at = $1 WHERE id = $2")
            .bind(now_ms)
            .bind(id);
        self.execute(q).await.map(drop)
    }

    async fn insert_member(&mut self, board_id: &str, user_id: &str, role: Role) -> Result<()> {
        let q = sqlx::query("INSERT INTO board_members (board_id, user_id, role) VALUES ($1, $2, $3)")
            .bind(board_id)
            .bind(user_id)
            .bind(role_text(role));
        self.execute(q).await.map(drop)
    }

    async fn set_member_role(&mut self, board_id: &str, user_id: &str, role: Role) -> Result<()> {
        let q = sqlx::query("UPDATE board_members SET role = $1 WHERE board_id = $2 AND user_id = $3")
            .bind(role_text(role))
            .bind(board_id)
            .bind(user_id);
        self.execute(q).await.map(drop)
    }

    async fn delete_member(&mut self, board_id: &str, user_id: &str) -> Result<()> {
        let q = sqlx::query("DELETE FROM board_members WHERE board_id = $1 AND user_id = $2")
            .bind(board_id)
            .bind(user_id);
        self.execute(q).await.map(drop)
    }

    async fn insert_list(&mut self, list: &BoardList) -> Result<()> {
        let q = sqlx::query("INSERT INTO lists (id, board_id, name, position) VALUES ($1, $2, $3, $4)")
            .bind(&list.id)
            .bind(&list.board_id)
            .bind(&list.name)
            .bind(list.position);
        self.execute(q).await.map(drop)
    }

    async fn update_list(&mut self, list: &BoardList) -> Result<()> {
        let q = sqlx::query("UPDATE lists SET name = $1, position = $2 WHERE id = $3")
            .bind(&list.name)
            .bind(list.position)
            .bind(&list.id);
        self.execute(q).await.map(drop)
    }

    async fn set_list_positions(&mut self, positions: &[ListPosition]) -> Result<()> {
        if positions.is_empty() {
            return Ok(());
        }
        let (ids, at): (Vec<&str>, Vec<i32>) = positions.iter().map(|p| (p.list_id.as_str(), p.position)).unzip();
        let q = sqlx::query(
            "UPDATE lists l SET position = u.position
             FROM unnest($1::text[], $2::int4[]) AS u(id, position) WHERE l.id = u.id",
        )
        .bind(ids)
        .bind(at);
        self.execute(q).await.map(drop)
    }

    async fn delete_list(&mut self, id: &str) -> Result<()> {
        self.execute(sqlx::query("DELETE FROM lists WHERE id = $1").bind(id))
            .await
            .map(drop)
    }

    async fn insert_task(&mut self, t: &Task) -> Result<()> {
        let q = sqlx::query(
            "INSERT INTO tasks (id, board_id, list_id, title, description, position, version,
                                created_at, updated_at, created_by, due_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&t.id)
        .bind(&t.board_id)
        .bind(&t.list_id)
        .bind(&t.title)
        .bind(&t.description)
        .bind(t.position)
        .bind(i64_of(t.version))
        .bind(millis(t.created_at.as_ref()))
        .bind(millis(t.updated_at.as_ref()))
        .bind(&t.created_by)
        .bind(t.due_at.as_ref().map(crate::time::to_millis));
        self.execute(q).await.map(drop)
    }

    async fn update_task(&mut self, t: &Task) -> Result<()> {
        let q = sqlx::query(
            "UPDATE tasks SET board_id = $1, list_id = $2, title = $3, description = $4, position = $5,
             version = $6, updated_at = $7, due_at = $8 WHERE id = $9",
        )
        .bind(&t.board_id)
        .bind(&t.list_id)
        .bind(&t.title)
        .bind(&t.description)
        .bind(t.position)
        .bind(i64_of(t.version))
        .bind(millis(t.updated_at.as_ref()))
        .bind(t.due_at.as_ref().map(crate::time::to_millis))
        .bind(&t.id);
        self.execute(q).await.map(drop)
    }

    async fn delete_task(&mut self, id: &str) -> Result<()> {
        self.execute(sqlx::query("DELETE FROM tasks WHERE id = $1").bind(id))
            .await
            .map(drop)
    }

    async fn set_positions(&mut self, positions: &[TaskPosition]) -> Result<()> {
        if positions.is_empty() {
            return Ok(());
        }
        let ids: Vec<&str> = positions.iter().map(|p| p.task_id.as_str()).collect();
        let lists: Vec<&str> = positions.iter().map(|p| p.list_id.as_str()).collect();
        let at: Vec<i32> = positions.iter().map(|p| p.position).collect();
        let q = sqlx::query(
            "UPDATE tasks t SET list_id = u.list_id, position = u.position
             FROM unnest($1::text[], $2::text[], $3::int4[]) AS u(id, list_id, position) WHERE t.id = u.id",
        )
        .bind(ids)
        .bind(lists)
        .bind(at);
        self.execute(q).await.map(drop)
    }

    async fn next_seq(&mut self, board_id: &str) -> Result<u64> {
        if let Some(seq) = self.next_seq_of_locked(board_id) {
            return Ok(seq);
        }
        let q =
            sqlx::query("UPDATE boards SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq").bind(board_id);
        self.one(q, first::<i64>).await.map(u64_of)
    }

    async fn append_event(&mut self, event: &BoardEvent) -> Result<()> {
        // Records the seq as the board's latest in the same statement: `next_seq` may
        // have taken it from the lock's read without writing it.
        let q = sqlx::query(
            "WITH latest AS (UPDATE boards SET last_seq = GREATEST(last_seq, $2) WHERE id = $1)
             INSERT INTO events (board_id, seq, occurred_at, body) VALUES ($1, $2, $3, $4)",
        )
        .bind(&event.board_id)
        .bind(i64_of(event.seq))
        .bind(millis(event.occurred_at.as_ref()))
        .bind(event.encode_to_vec());
        self.execute(q).await.map(drop)
    }

    async fn idempotent(&mut self, actor: &str, key: &str) -> Result<Option<IdempotentRecord>> {
        let q =
            sqlx::query("SELECT fingerprint, response, created_at FROM idempotency_keys WHERE actor = $1 AND key = $2")
                .bind(actor)
                .bind(key);
        self.first(q, |r| {
            Ok(IdempotentRecord {
                fingerprint: sqlx::Row::try_get(r, 0)?,
                response: sqlx::Row::try_get(r, 1)?,
                created_ms: sqlx::Row::try_get(r, 2)?,
            })
        })
        .await
    }

    async fn remember(&mut self, actor: &str, key: &str, record: &IdempotentRecord) -> Result<()> {
        let q = sqlx::query(
            "INSERT INTO idempotency_keys (actor, key, fingerprint, response, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(actor)
        .bind(key)
        .bind(&record.fingerprint)
        .bind(&record.response)
        .bind(record.created_ms);
        self.execute(q).await.map(drop)
    }

    async fn forget_request(&mut self, actor: &str, key: &str) -> Result<()> {
        self.forget_request_row(actor, key).await
    }

    async fn expire_requests(&mut self, before_ms: i64, limit: u32) -> Result<u64> {
        self.expire_request_rows(before_ms, limit).await
    }

    async fn log_bounds(&mut self, board_id: &str) -> Result<LogBounds> {
        self.log_bounds_of(board_id).await
    }

    async fn compactable_boards(&mut self, keep: u64) -> Result<Vec<(String, LogBounds)>> {
        self.compactable_board_rows(keep).await
    }

    async fn first_event_since(&mut self, board_id: &str, after: u64, since_ms: i64) -> Result<Option<u64>> {
        self.first_event_since_row(board_id, after, since_ms).await
    }

    async fn compact_log(&mut self, board_id: &str, through: u64) -> Result<u64> {
        self.compact_log_rows(board_id, through).await
    }

    async fn labels(&mut self, board_id: &str) -> Result<Vec<Label>> {
        self.labels_of(board_id).await
    }

    async fn label(&mut self, id: &str) -> Result<Option<Label>> {
        self.label_row(id).await
    }

    async fn insert_label(&mut self, label: &Label) -> Result<()> {
        self.insert_label_row(label).await
    }

    async fn update_label(&mut self, label: &Label) -> Result<()> {
        self.update_label_row(label).await
    }

    async fn delete_label(&mut self, id: &str) -> Result<Vec<String>> {
        self.delete_label_row(id).await
    }

    async fn set_task_assignees(&mut self, task_id: &str, user_ids: &[String]) -> Result<()> {
        self.set_task_assignee_rows(task_id, user_ids).await
    }

    async fn set_task_labels(&mut self, task_id: &str, label_ids: &[String]) -> Result<()> {
        self.set_task_label_rows(task_id, label_ids).await
    }

    async fn unassign_member(&mut self, board_id: &str, user_id: &str) -> Result<Vec<String>> {
        self.unassign_member_rows(board_id, user_id).await
    }

    async fn events_before(&mut self, board_id: &str, before: Option<u64>, limit: u32) -> Result<Vec<BoardEvent>> {
        self.events_before_rows(board_id, before, limit).await
    }

    async fn commit(self: Box<Self>) -> Result<()> {
        self.commit_tx().await
    }
}
