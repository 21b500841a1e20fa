-- Boards that users create, archive and delete; members with roles.

-- owner: everything; editor: lists and tasks; viewer: read and follow.
-- Existing members become editors, and each board's first member by user id (the
-- loopback guest aside) its owner, so every board keeps an owner.
ALTER TABLE board_members ADD COLUMN role TEXT NOT NULL DEFAULT 'editor'
    CHECK (role IN ('owner', 'editor', 'viewer'));
UPDATE board_members SET role = 'owner'
 WHERE (board_id, user_id) IN (
     SELECT board_id, MIN(user_id) FROM board_members WHERE user_id <> 'guest' GROUP BY board_id
 );
CREATE INDEX board_members_by_user ON board_members (user_id);

-- An archived board is read-only until unarchived.
ALTER TABLE boards ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;
-- A deleted board is gone for every reader; its rows (and its log, which ends with
-- board_deleted) stay behind, so ids are never reused and the log stays whole.
ALTER TABLE boards ADD COLUMN deleted_at INTEGER;
