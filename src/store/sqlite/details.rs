//! The SQL of task details (labels, assignees), of a page of a board's tasks and of
//! the activity feed's log reads, called from the `Tx` impl in `queries.rs`.

use prost::Message;
use rusqlite::params;

use super::rows::{i64_of, label, task, task_columns, task_select};
use super::tx::SqliteTx;
use crate::proto::v1::{BoardEvent, Label, Task};
use crate::store::{Result, TaskCursor};

impl SqliteTx {
    /// A page of [`Tx::tasks`](crate::store::Tx::tasks): a row-value comparison on the
    /// order's own key, so a page costs its length, however deep.
    pub(super) fn task_page_rows(&self, board_id: &str, after: Option<&TaskCursor>, limit: u32) -> Result<Vec<Task>> {
        let (list_position, position, id) = after.map_or((i32::MIN, i32::MIN, ""), |c| {
            (c.list_position, c.position, c.id.as_str())
        });
        self.all(
            concat!(
                "SELECT ",
                task_select!(),
                " FROM tasks t JOIN lists l ON l.id = t.list_id
                 WHERE t.board_id = ?1 AND (l.position, t.position, t.id) > (?2, ?3, ?4)
                 ORDER BY l.position, t.position, t.id LIMIT ?5"
            ),
            params![board_id, list_position, position, id, limit],
            task,
        )
    }

    pub(super) fn labels_of(&self, board_id: &str) -> Result<Vec<Label>> {
        self.all(
            "SELECT id, board_id, name, color FROM labels WHERE board_id = ? ORDER BY name COLLATE NOCASE, id",
            [board_id],
            label,
        )
    }

    pub(super) fn label_row(&self, id: &str) -> Result<Option<Label>> {
        self.first("SELECT id, board_id, name, color FROM labels WHERE id = ?", [id], label)
    }

    pub(super) fn insert_label_row(&self, l: &Label) -> Result<()> {
        self.execute(
            "INSERT INTO labels (id, board_id, name, color) VALUES (?, ?, ?, ?)",
            params![l.id, l.board_id, l.name, l.color],
        )
    }

    pub(super) fn update_label_row(&self, l: &Label) -> Result<()> {
        self.execute(
            "UPDATE labels SET name = ?, color = ? WHERE id = ?",
            params![l.name, l.color, l.id],
        )
    }

    pub(super) fn delete_label_row(&self, id: &str) -> Result<Vec<String>> {
        let tasks = self.all(
            "SELECT task_id FROM task_labels WHERE label_id = ? ORDER BY task_id",
            [id],
            |r| r.get(0),
        )?;
        self.execute("DELETE FROM task_labels WHERE label_id = ?", [id])?;
        self.execute("DELETE FROM labels WHERE id = ?", [id])?;
        Ok(tasks)
    }

    pub(super) fn set_task_assignee_rows(&self, task_id: &str, user_ids: &[String]) -> Result<()> {
        self.execute("DELETE FROM task_assignees WHERE task_id = ?", [task_id])?;
        for user_id in user_ids {
            self.execute(
                "INSERT INTO task_assignees (task_id, user_id) VALUES (?, ?)",
                [task_id, user_id],
            )?;
        }
        Ok(())
    }

    pub(super) fn set_task_label_rows(&self, task_id: &str, label_ids: &[String]) -> Result<()> {
        self.execute("DELETE FROM task_labels WHERE task_id = ?", [task_id])?;
        for label_id in label_ids {
            self.execute(
                "INSERT INTO task_labels (task_id, label_id) VALUES (?, ?)",
                [task_id, label_id],
            )?;
        }
        Ok(())
    }

    pub(super) fn unassign_member_rows(&self, board_id: &str, user_id: &str) -> Result<Vec<String>> {
        let tasks = self.all(
            "SELECT a.task_id FROM task_assignees a JOIN tasks t ON t.id = a.task_id
             WHERE t.board_id = ? AND a.user_id = ? ORDER BY a.task_id",
            [board_id, user_id],
            |r| r.get::<_, String>(0),
        )?;
        for task_id in &tasks {
            self.execute(
                "DELETE FROM task_assignees WHERE task_id = ? AND user_id = ?",
                [task_id, user_id],
            )?;
        }
        Ok(tasks)
    }

    pub(super) fn events_before_rows(
        &self,
        board_id: &str,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<BoardEvent>> {
        let bodies: Vec<Vec<u8>> = self.all(
            "SELECT body FROM events WHERE board_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
            params![board_id, before.map_or(i64::MAX, i64_of), limit],
            |r| r.get(0),
        )?;
        bodies.iter().map(|b| Ok(BoardEvent::decode(b.as_slice())?)).collect()
    }
}
