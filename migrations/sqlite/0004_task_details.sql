-- Richer tasks: per-board labels, assignees (members of the board) and a due date.

CREATE TABLE labels (
    id       TEXT PRIMARY KEY,
    board_id TEXT NOT NULL REFERENCES boards(id),
    name     TEXT NOT NULL,
    -- '#rrggbb', lowercase hex.
    color    TEXT NOT NULL
);
CREATE INDEX labels_by_board ON labels (board_id, name);

-- Deleting a task or a label takes its rows here with it.
CREATE TABLE task_labels (
    task_id  TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    label_id TEXT NOT NULL REFERENCES labels(id) ON DELETE CASCADE,
    PRIMARY KEY (task_id, label_id)
) WITHOUT ROWID;
CREATE INDEX task_labels_by_label ON task_labels (label_id);

CREATE TABLE task_assignees (
    task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id),
    PRIMARY KEY (task_id, user_id)
) WITHOUT ROWID;
CREATE INDEX task_assignees_by_user ON task_assignees (user_id);

-- Unix ms; NULL when the task has no due date.
ALTER TABLE tasks ADD COLUMN due_at INTEGER;
