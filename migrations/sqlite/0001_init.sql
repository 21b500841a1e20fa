-- Boards, their lists and tasks, members, the per-board event log and idempotency keys.
-- Timestamps are Unix milliseconds.

CREATE TABLE users (
    id    TEXT PRIMARY KEY,
    name  TEXT NOT NULL,
    -- Bearer token; NULL for the loopback guest, who has none.
    token TEXT UNIQUE
);

CREATE TABLE boards (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    -- seq of the board's latest event; the next event gets last_seq + 1.
    last_seq   INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE board_members (
    board_id TEXT NOT NULL REFERENCES boards(id),
    user_id  TEXT NOT NULL REFERENCES users(id),
    PRIMARY KEY (board_id, user_id)
) WITHOUT ROWID;

CREATE TABLE lists (
    id       TEXT PRIMARY KEY,
    board_id TEXT NOT NULL REFERENCES boards(id),
    name     TEXT NOT NULL,
    position INTEGER NOT NULL
);
CREATE INDEX lists_by_board ON lists (board_id, position);

CREATE TABLE tasks (
    id          TEXT PRIMARY KEY,
    board_id    TEXT NOT NULL REFERENCES boards(id),
    list_id     TEXT NOT NULL REFERENCES lists(id),
    title       TEXT NOT NULL,
    description TEXT NOT NULL,
    position    INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    created_by  TEXT NOT NULL
);
CREATE INDEX tasks_by_list ON tasks (list_id, position);
CREATE INDEX tasks_by_board ON tasks (board_id);

-- The durable, gap-free log every stream replays from. body is an encoded BoardEvent.
CREATE TABLE events (
    board_id    TEXT NOT NULL REFERENCES boards(id),
    seq         INTEGER NOT NULL,
    occurred_at INTEGER NOT NULL,
    body        BLOB NOT NULL,
    PRIMARY KEY (board_id, seq)
) WITHOUT ROWID;

-- First result of each (actor, request id), so a retried mutation is answered, not re-applied.
CREATE TABLE idempotency_keys (
    actor       TEXT NOT NULL,
    key         TEXT NOT NULL,
    fingerprint BLOB NOT NULL,
    response    BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (actor, key)
) WITHOUT ROWID;
