//! The `page_token` of a board's task pages: where the previous page ended, as the
//! key the tasks are ordered by (list position, task position, id). A key rather than
//! an offset, so a task deleted on an earlier page shifts nothing onto the next one.
//! Opaque to clients; a token that does not parse is the client's error.

use super::{Error, Result};
use crate::proto::v1::{BoardList, Task};
use crate::store::TaskCursor;

/// The token of the page after `last` (a task of one of `lists`).
pub(super) fn after(last: &Task, lists: &[BoardList]) -> String {
    let list_position = lists.iter().find(|l| l.id == last.list_id).map_or(0, |l| l.position);
    format!("{list_position}.{}.{}", last.position, last.id)
}

pub(super) fn parse(token: &str) -> Result<TaskCursor> {
    let bad = || Error::invalid("pageToken", format!("pageToken `{token}` is not one this server gave"));
    let mut parts = token.splitn(3, '.');
    let mut number = || parts.next().and_then(|p| p.parse::<i32>().ok()).ok_or_else(bad);
    let list_position = number()?;
    let position = number()?;
    let id = parts.next().filter(|id| !id.is_empty()).ok_or_else(bad)?;
    Ok(TaskCursor {
        list_position,
        position,
        id: id.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_reads_back_as_the_place_it_was_made_at() {
        let lists = [BoardList {
            id: "l".into(),
            position: 2,
            ..Default::default()
        }];
        let task = Task {
            id: "task.with.dots".into(),
            list_id: "l".into(),
            position: 7,
            ..Default::default()
        };
        let cursor = parse(&after(&task, &lists)).unwrap();
        assert_eq!(
            (cursor.list_position, cursor.position, cursor.id.as_str()),
            (2, 7, "task.with.dots")
        );
        for bad in ["", "1", "1.2", "1.2.", "x.2.t", "1.y.t"] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.field(), Some("pageToken"), "{bad:?}");
        }
    }
}
