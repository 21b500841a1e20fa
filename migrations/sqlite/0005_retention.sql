-- Retention (issue 14): idempotency keys expire, and a board's log can be compacted
-- below a horizon.

-- The sweeper deletes the oldest keys first, a batch at a time.
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);

-- How far each board's log has been compacted: every event with seq <= compacted_through
-- is gone. Apart from `boards` so that compacting never writes the row a board's
-- writers update for each seq. A board without a row was never compacted.
CREATE TABLE log_horizons (
    board_id          TEXT PRIMARY KEY REFERENCES boards(id),
    compacted_through INTEGER NOT NULL
) WITHOUT ROWID;
