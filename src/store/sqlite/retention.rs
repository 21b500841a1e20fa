//! The SQL of retention: expired request ids and the compaction of a board's log
//! below its horizon (`log_horizons`), called from the `Tx` impl in `queries.rs`.

use rusqlite::params;

use super::rows::{i64_of, u64_of};
use super::tx::SqliteTx;
use crate::store::{LogBounds, Result};

/// The board's bounds from one row: `last_seq`, then the horizon.
fn bounds(r: &rusqlite::Row, from: usize) -> rusqlite::Result<LogBounds> {
    Ok(LogBounds {
        last_seq: u64_of(r.get(from)?),
        compacted_through: u64_of(r.get(from + 1)?),
    })
}

impl SqliteTx {
    /// Rows changed by `sql`.
    fn changed(&self, sql: &str, params: impl rusqlite::Params) -> Result<u64> {
        let n = self.db()?.prepare_cached(sql)?.execute(params)?;
        Ok(u64::try_from(n).unwrap_or_default())
    }

    pub(super) fn forget_request_row(&self, actor: &str, key: &str) -> Result<()> {
        self.execute("DELETE FROM idempotency_keys WHERE actor = ? AND key = ?", [actor, key])
    }

    pub(super) fn expire_request_rows(&self, before_ms: i64, limit: u32) -> Result<u64> {
        self.changed(
            "DELETE FROM idempotency_keys WHERE (actor, key) IN
               (SELECT actor, key FROM idempotency_keys WHERE created_at < ? ORDER BY created_at LIMIT ?)",
            params![before_ms, limit],
        )
    }

    pub(super) fn log_bounds_of(&self, board_id: &str) -> Result<LogBounds> {
        let found = self.first(
            "SELECT b.last_seq, COALESCE(h.compacted_through, 0)
             FROM boards b LEFT JOIN log_horizons h ON h.board_id = b.id WHERE b.id = ?",
            [board_id],
            |r| bounds(r, 0),
        )?;
        Ok(found.unwrap_or_default())
    }

    pub(super) fn compactable_board_rows(&self, keep: u64) -> Result<Vec<(String, LogBounds)>> {
        self.all(
            "SELECT b.id, b.last_seq, COALESCE(h.compacted_through, 0)
             FROM boards b LEFT JOIN log_horizons h ON h.board_id = b.id
             WHERE b.last_seq - COALESCE(h.compacted_through, 0) > ? ORDER BY b.id",
            [i64_of(keep)],
            |r| Ok((r.get(0)?, bounds(r, 1)?)),
        )
    }

    pub(super) fn first_event_since_row(&self, board_id: &str, after: u64, since_ms: i64) -> Result<Option<u64>> {
        // Forward from the horizon: the scan passes only events old enough to go.
        let seq: Option<i64> = self.first(
            "SELECT seq FROM events WHERE board_id = ? AND seq > ? AND occurred_at >= ? ORDER BY seq LIMIT 1",
            params![board_id, i64_of(after), since_ms],
            |r| r.get(0),
        )?;
        Ok(seq.map(u64_of))
    }

    pub(super) fn compact_log_rows(&self, board_id: &str, through: u64) -> Result<u64> {
        let gone = self.changed(
            "DELETE FROM events WHERE board_id = ? AND seq <= ?",
            params![board_id, i64_of(through)],
        )?;
        self.execute(
            "INSERT INTO log_horizons (board_id, compacted_through) VALUES (?, ?)
             ON CONFLICT (board_id) DO UPDATE
             SET compacted_through = MAX(compacted_through, excluded.compacted_through)",
            params![board_id, i64_of(through)],
        )?;
        Ok(gone)
    }
}
