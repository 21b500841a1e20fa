//! Rows to protobuf messages: the row mappers, the task column list they share with
//! the queries, and the conversions between PostgreSQL's integers and the messages'
//! versions, seqs and timestamps (the same as SQLite's: both store Unix ms and i64).

use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::proto::v1::{ApiToken, Board, BoardList, Label, Member, Task, User};
use crate::time;

pub(super) use crate::store::values::{i64_of, millis, role_of, role_text, u64_of};

/// id, name, username (`''` for none).
pub(super) fn user(row: &PgRow) -> sqlx::Result<User> {
    Ok(User {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        username: row.try_get(2)?,
    })
}

pub(super) fn board(row: &PgRow) -> sqlx::Result<Board> {
    Ok(Board {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        created_at: Some(time::from_millis(row.try_get(2)?)),
        archived: row.try_get(3)?,
    })
}

/// A member row: user id, username, name, role.
pub(super) fn member(row: &PgRow) -> sqlx::Result<Member> {
    Ok(Member {
        user_id: row.try_get(0)?,
        username: row.try_get(1)?,
        name: row.try_get(2)?,
        role: role_of(row.try_get(3)?) as i32,
    })
}

pub(super) fn list(row: &PgRow) -> sqlx::Result<BoardList> {
    Ok(BoardList {
        id: row.try_get(0)?,
        board_id: row.try_get(1)?,
        name: row.try_get(2)?,
        position: row.try_get(3)?,
    })
}

pub(super) fn label(row: &PgRow) -> sqlx::Result<Label> {
    Ok(Label {
        id: row.try_get(0)?,
        board_id: row.try_get(1)?,
        name: row.try_get(2)?,
        color: row.try_get(3)?,
    })
}

/// id, name, created_at, last_used_at.
pub(super) fn credential(row: &PgRow) -> sqlx::Result<ApiToken> {
    Ok(ApiToken {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        created_at: Some(time::from_millis(row.try_get(2)?)),
        last_used_at: row.try_get::<Option<i64>, _>(3)?.map(time::from_millis),
    })
}

/// The first column, of any type a row decodes.
pub(super) fn first<T>(row: &PgRow) -> sqlx::Result<T>
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    row.try_get(0)
}

/// Reads the columns [`task_select`] names, in that order.
pub(super) fn task(row: &PgRow) -> sqlx::Result<Task> {
    Ok(Task {
        id: row.try_get(0)?,
        board_id: row.try_get(1)?,
        list_id: row.try_get(2)?,
        title: row.try_get(3)?,
        description: row.try_get(4)?,
        position: row.try_get(5)?,
        version: u64_of(row.try_get(6)?),
        created_at: Some(time::from_millis(row.try_get(7)?)),
        updated_at: Some(time::from_millis(row.try_get(8)?)),
        created_by: row.try_get(9)?,
        due_at: row.try_get::<Option<i64>, _>(10)?.map(time::from_millis),
        assignee_ids: row.try_get(11)?,
        label_ids: row.try_get(12)?,
    })
}

/// What a task read selects from `tasks t`: its columns, then its assignees and labels
/// as sorted arrays (ids are `COLLATE "C"`: byte order, as SQLite sorts them); a macro
/// so queries stay `&'static str`.
macro_rules! task_select {
    () => {
        "t.id, t.board_id, t.list_id, t.title, t.description, t.position, t.version, \
         t.created_at, t.updated_at, t.created_by, t.due_at, \
         ARRAY(SELECT user_id FROM task_assignees WHERE task_id = t.id ORDER BY user_id), \
         ARRAY(SELECT label_id FROM task_labels WHERE task_id = t.id ORDER BY label_id)"
    };
}

pub(super) use task_select;
