//! The SQL of task details (labels, assignees), of a page of a board's tasks and of
//! the activity feed's log reads, called from the `Tx` impl in `queries.rs`. Sets of rows go in one statement each
//! (arrays bound as parameters): a round trip to the server costs more than the rows.

use prost::Message;

use super::rows::{first, i64_of, label, task, task_select};
use super::tx::PgTx;
use crate::proto::v1::{BoardEvent, Label, Task};
use crate::store::{Result, TaskCursor};

impl PgTx {
    /// A page of [`Tx::tasks`](crate::store::Tx::tasks), by a row comparison on the
    /// order's own key.
    pub(super) async fn task_page_rows(
        &mut self,
        board_id: &str,
        after: Option<&TaskCursor>,
        limit: u32,
    ) -> Result<Vec<Task>> {
        let (list_position, position, id) = after.map_or((i32::MIN, i32::MIN, ""), |c| {
            (c.list_position, c.position, c.id.as_str())
        });
        let q = sqlx::query(concat!(
            "SELECT ",
            task_select!(),
            " FROM tasks t JOIN lists l ON l.id = t.list_id
             WHERE t.board_id = $1 AND (l.position, t.position, t.id) > ($2, $3, $4)
             ORDER BY l.position, t.position, t.id LIMIT $5"
        ))
        .bind(board_id)
        .bind(list_position)
        .bind(position)
        .bind(id)
        .bind(i64::from(limit));
        self.all(q, task).await
    }

    pub(super) async fn labels_of(&mut self, board_id: &str) -> Result<Vec<Label>> {
        // lower() of a "C" column folds ASCII only, as SQLite's NOCASE does.
        let q =
            sqlx::query("SELECT id, board_id, name, color FROM labels WHERE board_id = $1 ORDER BY lower(name), id")
                .bind(board_id);
        self.all(q, label).await
    }

    pub(super) async fn label_row(&mut self, id: &str) -> Result<Option<Label>> {
        let q = sqlx::query("SELECT id, board_id, name, color FROM labels WHERE id = $1").bind(id);
        self.first(q, label).await
    }

    pub(super) async fn insert_label_row(&mut self, l: &Label) -> Result<()> {
        let q = sqlx::query("INSERT INTO labels (id, board_id, name, color) VALUES ($1, $2, $3, $4)")
            .bind(&l.id)
            .bind(&l.board_id)
            .bind(&l.name)
            .bind(&l.color);
        self.execute(q).await.map(drop)
    }

    pub(super) async fn update_label_row(&mut self, l: &Label) -> Result<()> {
        let q = sqlx::query("UPDATE labels SET name = $1, color = $2 WHERE id = $3")
            .bind(&l.name)
            .bind(&l.color)
            .bind(&l.id);
        self.execute(q).await.map(drop)
    }

    pub(super) async fn delete_label_row(&mut self, id: &str) -> Result<Vec<String>> {
        // The cascade takes the label off its tasks; RETURNING names them first.
        let q = sqlx::query(
            "WITH gone AS (DELETE FROM task_labels WHERE label_id = $1 RETURNING task_id),
                  label AS (DELETE FROM labels WHERE id = $1)
             SELECT task_id FROM gone ORDER BY task_id",
        )
        .bind(id);
        self.all(q, first::<String>).await
    }

    pub(super) async fn set_task_assignee_rows(&mut self, task_id: &str, user_ids: &[String]) -> Result<()> {
        let q = sqlx::query("DELETE FROM task_assignees WHERE task_id = $1").bind(task_id);
        self.execute(q).await?;
        if user_ids.is_empty() {
            return Ok(());
        }
        let q = sqlx::query("INSERT INTO task_assignees (task_id, user_id) SELECT $1, unnest($2::text[])")
            .bind(task_id)
            .bind(user_ids);
        self.execute(q).await.map(drop)
    }

    pub(super) async fn set_task_label_rows(&mut self, task_id: &str, label_ids: &[String]) -> Result<()> {
        let q = sqlx::query("DELETE FROM task_labels WHERE task_id = $1").bind(task_id);
        self.execute(q).await?;
        if label_ids.is_empty() {
            return Ok(());
        }
        let q = sqlx::query("INSERT INTO task_labels (task_id, label_id) SELECT $1, unnest($2::text[])")
            .bind(task_id)
            .bind(label_ids);
        self.execute(q).await.map(drop)
    }

    pub(super) async fn unassign_member_rows(&mut self, board_id: &str, user_id: &str) -> Result<Vec<String>> {
        let q = sqlx::query(
            "WITH gone AS (
                 DELETE FROM task_assignees a USING tasks t
                 WHERE t.id = a.task_id AND t.board_id = $1 AND a.user_id = $2
                 RETURNING a.task_id
             )
             SELECT task_id FROM gone ORDER BY task_id",
        )
        .bind(board_id)
        .bind(user_id);
        self.all(q, first::<String>).await
    }

    pub(super) async fn events_before_rows(
        &mut self,
        board_id: &str,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<BoardEvent>> {
        let q = sqlx::query("SELECT body FROM events WHERE board_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3")
            .bind(board_id)
            .bind(before.map_or(i64::MAX, i64_of))
            .bind(i64::from(limit));
        decode_all(&self.all(q, first::<Vec<u8>>).await?)
    }
}

/// Encoded events, decoded.
pub(super) fn decode_all(bodies: &[Vec<u8>]) -> Result<Vec<BoardEvent>> {
    bodies.iter().map(|b| Ok(BoardEvent::decode(b.as_slice())?)).collect()
}
