//! The SQL of retention: expired request ids and the compaction of a board's log
//! below its horizon (`log_horizons`), called from the `Tx` impl in `queries.rs`.
//! Nothing here locks a `boards` row, so a compaction never queues a board's writers.

use sqlx::Row;
use sqlx::postgres::PgRow;

use super::rows::{first, i64_of, u64_of};
use super::tx::PgTx;
use crate::store::{LogBounds, Result};

/// The board's bounds from one row: `last_seq`, then the horizon.
fn bounds(r: &PgRow, from: usize) -> sqlx::Result<LogBounds> {
    Ok(LogBounds {
        last_seq: u64_of(r.try_get(from)?),
        compacted_through: u64_of(r.try_get(from + 1)?),
    })
}

impl PgTx {
    pub(super) async fn forget_request_row(&mut self, actor: &str, key: &str) -> Result<()> {
        let q = sqlx::query("DELETE FROM idempotency_keys WHERE actor = $1 AND key = $2")
            .bind(actor.to_owned())
            .bind(key.to_owned());
        self.execute(q).await.map(drop)
    }

    pub(super) async fn expire_request_rows(&mut self, before_ms: i64, limit: u32) -> Result<u64> {
        let q = sqlx::query(
            "DELETE FROM idempotency_keys WHERE (actor, key) IN
               (SELECT actor, key FROM idempotency_keys WHERE created_at < $1 ORDER BY created_at LIMIT $2)",
        )
        .bind(before_ms)
        .bind(i64::from(limit));
        self.execute(q).await
    }

    pub(super) async fn log_bounds_of(&mut self, board_id: &str) -> Result<LogBounds> {
        let q = sqlx::query(
            "SELECT b.last_seq, COALESCE(h.compacted_through, 0)
             FROM boards b LEFT JOIN log_horizons h ON h.board_id = b.id WHERE b.id = $1",
        )
        .bind(board_id.to_owned());
        Ok(self.first(q, |r| bounds(r, 0)).await?.unwrap_or_default())
    }

    pub(super) async fn compactable_board_rows(&mut self, keep: u64) -> Result<Vec<(String, LogBounds)>> {
        let q = sqlx::query(
            "SELECT b.id, b.last_seq, COALESCE(h.compacted_through, 0)
             FROM boards b LEFT JOIN log_horizons h ON h.board_id = b.id
             WHERE b.last_seq - COALESCE(h.compacted_through, 0) > $1 ORDER BY b.id",
        )
        .bind(i64_of(keep));
        self.all(q, |r| Ok((first::<String>(r)?, bounds(r, 1)?))).await
    }

    pub(super) async fn first_event_since_row(
        &mut self,
        board_id: &str,
        after: u64,
        since_ms: i64,
    ) -> Result<Option<u64>> {
        // Forward from the horizon: the scan passes only events old enough to go.
        let q = sqlx::query(
            "SELECT seq FROM events WHERE board_id = $1 AND seq > $2 AND occurred_at >= $3 ORDER BY seq LIMIT 1",
        )
        .bind(board_id.to_owned())
        .bind(i64_of(after))
        .bind(since_ms);
        Ok(self.first(q, first::<i64>).await?.map(u64_of))
    }

    pub(super) async fn compact_log_rows(&mut self, board_id: &str, through: u64) -> Result<u64> {
        let q = sqlx::query("DELETE FROM events WHERE board_id = $1 AND seq <= $2")
            .bind(board_id.to_owned())
            .bind(i64_of(through));
        let gone = self.execute(q).await?;
        let q = sqlx::query(
            "INSERT INTO log_horizons (board_id, compacted_through) VALUES ($1, $2)
             ON CONFLICT (board_id) DO UPDATE
             SET compacted_through = GREATEST(log_horizons.compacted_through, excluded.compacted_through)",
        )
        .bind(board_id.to_owned())
        .bind(i64_of(through));
        self.execute(q).await?;
        Ok(gone)
    }
}
