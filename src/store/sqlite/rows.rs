//! Rows to protobuf messages and back: the row mappers and the task column list they
//! share with the queries (the value conversions are both backends': `store::values`).

use rusqlite::Row;

use crate::proto::v1::{Board, BoardList, Label, Member, Task, User};
use crate::time;

pub(super) use crate::store::values::{i64_of, millis, role_of, role_text, u64_of};

pub(super) fn user(row: &Row) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        name: row.get(1)?,
        username: row.get(2)?,
    })
}

pub(super) fn board(row: &Row) -> rusqlite::Result<Board> {
    Ok(Board {
        id: row.get(0)?,
        name: row.get(1)?,
        created_at: Some(time::from_millis(row.get(2)?)),
        archived: row.get(3)?,
    })
}

/// A member row: user id, username, name, role.
pub(super) fn member(row: &Row) -> rusqlite::Result<Member> {
    Ok(Member {
        user_id: row.get(0)?,
        username: row.get(1)?,
        name: row.get(2)?,
        role: role_of(&row.get::<_, String>(3)?) as i32,
    })
}

pub(super) fn list(row: &Row) -> rusqlite::Result<BoardList> {
    Ok(BoardList {
        id: row.get(0)?,
        board_id: row.get(1)?,
        name: row.get(2)?,
        position: row.get(3)?,
    })
}

pub(super) fn label(row: &Row) -> rusqlite::Result<Label> {
    Ok(Label {
        id: row.get(0)?,
        board_id: row.get(1)?,
        name: row.get(2)?,
        color: row.get(3)?,
    })
}

/// Ids joined by `group_concat` (ids hold no commas), sorted; none when NULL.
fn id_list(joined: Option<&str>) -> Vec<String> {
    let mut ids: Vec<String> = joined
        .unwrap_or_default()
        .split(',')
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect();
    ids.sort();
    ids
}

/// Reads the columns [`task_select`] names, in that order.
pub(super) fn task(row: &Row) -> rusqlite::Result<Task> {
    Ok(Task {
        id: row.get(0)?,
        board_id: row.get(1)?,
        list_id: row.get(2)?,
        title: row.get(3)?,
        description: row.get(4)?,
        position: row.get(5)?,
        version: u64_of(row.get(6)?),
        created_at: Some(time::from_millis(row.get(7)?)),
        updated_at: Some(time::from_millis(row.get(8)?)),
        created_by: row.get(9)?,
        due_at: row.get::<_, Option<i64>>(10)?.map(time::from_millis),
        assignee_ids: id_list(row.get::<_, Option<String>>(11)?.as_deref()),
        label_ids: id_list(row.get::<_, Option<String>>(12)?.as_deref()),
    })
}

/// The task columns, in the order [`task`] reads them (before assignees and labels); a macro so queries stay `&'static str`.
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
            "created_by, ",
            $p,
            "due_at"
        )
    };
}

/// What a task read selects from `tasks t`: its columns, then its assignees and labels.
macro_rules! task_select {
    () => {
        concat!(
            task_columns!("t."),
            ", (SELECT group_concat(user_id, ',') FROM task_assignees WHERE task_id = t.id)",
            ", (SELECT group_concat(label_id, ',') FROM task_labels WHERE task_id = t.id)"
        )
    };
}

pub(super) use {task_columns, task_select};
