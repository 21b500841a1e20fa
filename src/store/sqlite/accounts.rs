//! The SQL of accounts and credentials, called from the `Tx` impl in `queries.rs`.
//! Secrets arrive hashed; nothing here ever sees a password or a token.

use rusqlite::params;

use super::rows::user;
use super::tx::SqliteTx;
use crate::proto::v1::{ApiToken, User};
use crate::store::{CredentialKind, NewCredential, Result};
use crate::time;

impl SqliteTx {
    pub(super) fn account_by_username(&self, username: &str) -> Result<Option<(User, Option<String>)>> {
        self.first(
            "SELECT id, name, username, password_hash FROM users WHERE username = ?",
            [username],
            |r| Ok((user(r)?, r.get(3)?)),
        )
    }

    pub(super) fn account_by_secret(&self, secret_hash: &[u8]) -> Result<Option<(User, String)>> {
        self.first(
            "SELECT u.id, u.name, COALESCE(u.username, ''), c.id FROM credentials c
             JOIN users u ON u.id = c.user_id WHERE c.secret_hash = ?",
            [secret_hash],
            |r| Ok((user(r)?, r.get(3)?)),
        )
    }

    pub(super) fn credentials_of(&self, user_id: &str, kind: CredentialKind) -> Result<Vec<ApiToken>> {
        self.all(
            "SELECT id, name, created_at, last_used_at FROM credentials
             WHERE user_id = ? AND kind = ? ORDER BY created_at, id",
            [user_id, kind.as_str()],
            |r| {
                Ok(ApiToken {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    created_at: Some(time::from_millis(r.get(2)?)),
                    last_used_at: r.get::<_, Option<i64>>(3)?.map(time::from_millis),
                })
            },
        )
    }

    pub(super) fn insert_account(&self, user: &User, password_hash: Option<&str>) -> Result<()> {
        let username = (!user.username.is_empty()).then_some(user.username.as_str());
        self.execute(
            "INSERT INTO users (id, name, username, password_hash) VALUES (?, ?, ?, ?)",
            params![user.id, user.name, username, password_hash],
        )
    }

    pub(super) fn insert_credential_row(&self, c: &NewCredential<'_>) -> Result<()> {
        self.execute(
            "INSERT INTO credentials (id, user_id, kind, name, secret_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            params![c.id, c.user_id, c.kind.as_str(), c.name, c.secret_hash, c.created_ms],
        )
    }

    pub(super) fn delete_credential_row(&self, user_id: &str, id: &str) -> Result<bool> {
        let n = self
            .db()?
            .prepare_cached("DELETE FROM credentials WHERE user_id = ? AND id = ?")?
            .execute([user_id, id])?;
        Ok(n > 0)
    }

    pub(super) fn touch_credential_row(&self, id: &str, now_ms: i64) -> Result<()> {
        self.execute(
            "UPDATE credentials SET last_used_at = ? WHERE id = ?",
            params![now_ms, id],
        )
    }
}
