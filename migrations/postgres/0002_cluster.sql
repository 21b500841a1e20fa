-- What instances sharing this database know of each other. Nothing here survives a
-- database crash (UNLOGGED): after one, every instance's lease and viewers are written
-- again within a renewal.

-- One row per running instance; an instance whose lease expired is dead.
CREATE UNLOGGED TABLE instances (
    id         TEXT PRIMARY KEY,
    expires_at TIMESTAMPTZ NOT NULL
);

-- Who views which board on which instance: one row per (instance, board, user), however
-- many connections the user has there.
CREATE UNLOGGED TABLE viewers (
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    board_id    TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    name        TEXT NOT NULL,
    color       TEXT NOT NULL,
    PRIMARY KEY (board_id, user_id, instance_id)
);
CREATE INDEX viewers_by_instance ON viewers (instance_id);
