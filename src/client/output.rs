//! What the client prints: an event as `seq  time  actor  what`, tasks as a table, and
//! any proto message as one line of its JSON mapping (the generated serde glue).

use std::io::Write;

use prost_types::Timestamp;

use super::Failure;
use crate::narrate::{Names, what};
use crate::proto::v1::{BoardEvent, Task};

/// Writes one line to standard output. stdout is line-buffered, so each line reaches
/// a pipe as it is written.
pub fn line(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    out.flush()?;
    Ok(())
}

/// A message as one line of JSON, as every JSON transport of the server writes it.
pub fn json<T: serde::Serialize>(message: &T) -> Result<(), Failure> {
    let text = serde_json::to_string(message).map_err(|e| Failure::Output(e.into()))?;
    line(&text)
}

/// `seq  time  actor  what`: the time in UTC (RFC 3339, milliseconds), the actor by
/// display name when the board's members name them, else by id.
pub fn event_line(event: &BoardEvent, names: &Names) -> String {
    let time = event.occurred_at.as_ref().map_or_else(|| "-".to_owned(), utc);
    format!(
        "{}  {}  {}  {}",
        event.seq,
        time,
        names.user(&event.actor),
        what(event, names)
    )
}

/// Tasks as aligned columns under a header: id, list, position, title.
pub fn task_table(tasks: &[Task]) -> Vec<String> {
    let width = |header: &str, cell: fn(&Task) -> usize| tasks.iter().map(cell).chain([header.len()]).max();
    let id_w = width("ID", |t| t.id.chars().count()).unwrap_or_default();
    let list_w = width("LIST", |t| t.list_id.chars().count()).unwrap_or_default();
    let row = |id: &str, list: &str, pos: &str, title: &str| {
        format!("{id:<id_w$}  {list:<list_w$}  {pos:>3}  {title}")
            .trim_end()
            .to_owned()
    };
    let mut lines = vec![row("ID", "LIST", "POS", "TITLE")];
    lines.extend(
        tasks
            .iter()
            .map(|t| row(&t.id, &t.list_id, &t.position.to_string(), &t.title)),
    );
    lines
}

/// `2026-11-23T10:00:00.123Z`: always milliseconds, so the column keeps its width.
pub fn utc(ts: &Timestamp) -> String {
    let days = ts.seconds.div_euclid(86_400);
    let secs = ts.seconds.rem_euclid(86_400);
    let (year, month, day) = civil(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        ts.nanos.clamp(0, 999_999_999) / 1_000_000
    )
}

/// The proleptic Gregorian date of a count of days since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times_keep_their_width() {
        let at = |seconds, nanos| utc(&Timestamp { seconds, nanos });
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(at(1_763_892_000, 123_000_000), "2025-11-23T10:00:00.123Z");
        assert_eq!(at(951_782_400, 0), "2000-02-29T00:00:00.000Z");
        assert_eq!(at(-1, 999_000_000), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn the_task_table_aligns_its_columns() {
        let task = |id: &str, list: &str, position, title: &str| Task {
            id: id.into(),
            list_id: list.into(),
            position,
            title: title.into(),
            ..Default::default()
        };
        let lines = task_table(&[
            task("task-1", "list-todo", 0, "Write"),
            task("t-22", "l", 12, "Ship it"),
        ]);
        assert_eq!(
            lines,
            [
                "ID      LIST       POS  TITLE",
                "task-1  list-todo    0  Write",
                "t-22    l           12  Ship it",
            ]
        );
    }
}
