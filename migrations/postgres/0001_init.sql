-- The schema migrations/sqlite/0001..0004 end at, written once for PostgreSQL: users and
-- their credentials, boards with members and roles, lists, tasks with labels,
-- assignees and due dates, the per-board event log and idempotency keys.
-- Timestamps are Unix milliseconds (BIGINT), as on SQLite, so rows convert alike.
--
-- Ids, usernames and label names are COLLATE "C": the store orders by them, and SQLite
-- compares text byte by byte (BINARY), whatever locale this database was made with.
-- (SQLite's `users.token`, unused since its 0002, is not carried over.)

CREATE TABLE users (
    id            TEXT COLLATE "C" PRIMARY KEY,
    name          TEXT NOT NULL,
    -- Lowercase sign-in name; NULL for the loopback guest.
    username      TEXT COLLATE "C" UNIQUE,
    -- argon2id PHC string; NULL for an account that cannot sign in with a password.
    password_hash TEXT
);

CREATE TABLE credentials (
    id           TEXT COLLATE "C" PRIMARY KEY,
    user_id      TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    -- 'session' (signup, login) or 'token' (a named personal API token).
    kind         TEXT NOT NULL CHECK (kind IN ('session', 'token')),
    name         TEXT NOT NULL,
    -- SHA-256 of the bearer secret.
    secret_hash  BYTEA NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX credentials_by_user ON credentials (user_id, kind, created_at);

CREATE TABLE boards (
    id         TEXT COLLATE "C" PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    -- seq of the board's latest event; the next event gets last_seq + 1. A write
    -- transaction locks this row first (Tx::lock_board), so one board's writes run
    -- one at a time across instances.
    last_seq   BIGINT NOT NULL DEFAULT 0,
    -- An archived board is read-only until unarchived.
    archived   BOOLEAN NOT NULL DEFAULT false,
    -- A deleted board is gone for every reader; its rows and its log stay behind.
    deleted_at BIGINT
);

CREATE TABLE board_members (
    board_id TEXT COLLATE "C" NOT NULL REFERENCES boards(id),
    user_id  TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    -- owner: everything; editor: lists and tasks; viewer: read and follow.
    role     TEXT NOT NULL DEFAULT 'editor' CHECK (role IN ('owner', 'editor', 'viewer')),
    PRIMARY KEY (board_id, user_id)
);
CREATE INDEX board_members_by_user ON board_members (user_id);

CREATE TABLE lists (
    id       TEXT COLLATE "C" PRIMARY KEY,
    board_id TEXT COLLATE "C" NOT NULL REFERENCES boards(id),
    name     TEXT NOT NULL,
    position INTEGER NOT NULL
);
CREATE INDEX lists_by_board ON lists (board_id, position);

CREATE TABLE tasks (
    id          TEXT COLLATE "C" PRIMARY KEY,
    board_id    TEXT COLLATE "C" NOT NULL REFERENCES boards(id),
    list_id     TEXT COLLATE "C" NOT NULL REFERENCES lists(id),
    title       TEXT NOT NULL,
    description TEXT NOT NULL,
    position    INTEGER NOT NULL,
    version     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    created_by  TEXT COLLATE "C" NOT NULL,
    -- Unix ms; NULL when the task has no due date.
    due_at      BIGINT
);
CREATE INDEX tasks_by_list ON tasks (list_id, position);
CREATE INDEX tasks_by_board ON tasks (board_id, updated_at);

CREATE TABLE labels (
    id       TEXT COLLATE "C" PRIMARY KEY,
    board_id TEXT COLLATE "C" NOT NULL REFERENCES boards(id),
    name     TEXT COLLATE "C" NOT NULL,
    -- '#rrggbb', lowercase hex.
    color    TEXT NOT NULL
);
-- lower() under "C" folds ASCII only, as SQLite's NOCASE does.
CREATE INDEX labels_by_board ON labels (board_id, lower(name), id);

-- Deleting a task or a label takes its rows here with it.
CREATE TABLE task_labels (
    task_id  TEXT COLLATE "C" NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    label_id TEXT COLLATE "C" NOT NULL REFERENCES labels(id) ON DELETE CASCADE,
    PRIMARY KEY (task_id, label_id)
);
CREATE INDEX task_labels_by_label ON task_labels (label_id);

CREATE TABLE task_assignees (
    task_id TEXT COLLATE "C" NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    PRIMARY KEY (task_id, user_id)
);
CREATE INDEX task_assignees_by_user ON task_assignees (user_id);

-- The durable, gap-free log every stream replays from. body is an encoded BoardEvent.
CREATE TABLE events (
    board_id    TEXT COLLATE "C" NOT NULL REFERENCES boards(id),
    seq         BIGINT NOT NULL,
    occurred_at BIGINT NOT NULL,
    body        BYTEA NOT NULL,
    PRIMARY KEY (board_id, seq)
);

-- First result of each (actor, request id), so a retried mutation is answered, not re-applied.
CREATE TABLE idempotency_keys (
    actor       TEXT COLLATE "C" NOT NULL,
    key         TEXT COLLATE "C" NOT NULL,
    fingerprint BYTEA NOT NULL,
    response    BYTEA NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (actor, key)
);
