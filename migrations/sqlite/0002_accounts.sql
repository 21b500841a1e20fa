-- Accounts: a unique sign-in name and an argon2id password hash per user, and the
-- credentials (browser sessions and personal API tokens) that stand for a user.
-- Secrets are stored only as SHA-256 hashes: the database holds nothing usable.

-- Lowercase sign-in name; NULL for the loopback guest. The seeded users keep their ids.
ALTER TABLE users ADD COLUMN username TEXT;
-- argon2id PHC string; NULL for an account that cannot sign in with a password.
ALTER TABLE users ADD COLUMN password_hash TEXT;
UPDATE users SET username = id WHERE id != 'guest';
-- The plaintext dev tokens of 0001 are gone: `users.token` is no longer read or written
-- (SQLite cannot drop a UNIQUE column without rebuilding the table).
UPDATE users SET token = NULL;
CREATE UNIQUE INDEX users_by_username ON users (username);

CREATE TABLE credentials (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id),
    -- 'session' (signup, login) or 'token' (a named personal API token).
    kind         TEXT NOT NULL CHECK (kind IN ('session', 'token')),
    name         TEXT NOT NULL,
    -- SHA-256 of the bearer secret.
    secret_hash  BLOB NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
);
CREATE INDEX credentials_by_user ON credentials (user_id, kind, created_at);
