//! The SQL of accounts and credentials, called from the `Tx` impl in `queries.rs`.
//! Secrets arrive hashed; nothing here ever sees a password or a token.

use sqlx::Row;

use super::rows::{credential, first, user};
use super::tx::PgTx;
use crate::proto::v1::{ApiToken, User};
use crate::store::{CredentialKind, NewCredential, Result};

impl PgTx {
    pub(super) async fn account_by_username(&mut self, username: &str) -> Result<Option<(User, Option<String>)>> {
        let q = sqlx::query("SELECT id, name, username, password_hash FROM users WHERE username = $1").bind(username);
        self.first(q, |r| Ok((user(r)?, r.try_get(3)?))).await
    }

    pub(super) async fn account_by_secret(&mut self, secret_hash: &[u8]) -> Result<Option<(User, String)>> {
        let q = sqlx::query(
            "SELECT u.id, u.name, COALESCE(u.username, ''), c.id FROM credentials c
             JOIN users u ON u.id = c.user_id WHERE c.secret_hash = $1",
        )
        .bind(secret_hash);
        self.first(q, |r| Ok((user(r)?, r.try_get(3)?))).await
    }

    pub(super) async fn account_total(&mut self) -> Result<u64> {
        let q = sqlx::query("SELECT COUNT(*) FROM users WHERE username IS NOT NULL");
        self.one(q, first::<i64>).await.map(super::rows::u64_of)
    }

    pub(super) async fn credentials_of(&mut self, user_id: &str, kind: CredentialKind) -> Result<Vec<ApiToken>> {
        let q = sqlx::query(
            "SELECT id, name, created_at, last_used_at FROM credentials
             WHERE user_id = $1 AND kind = $2 ORDER BY created_at, id",
        )
        .bind(user_id)
        .bind(kind.as_str());
        self.all(q, credential).await
    }

    pub(super) async fn insert_account(&mut self, user: &User, password_hash: Option<&str>) -> Result<()> {
        let username = (!user.username.is_empty()).then_some(user.username.as_str());
        let q = sqlx::query("INSERT INTO users (id, name, username, password_hash) VALUES ($1, $2, $3, $4)")
            .bind(&user.id)
            .bind(&user.name)
            .bind(username)
            .bind(password_hash);
        self.execute(q).await.map(drop)
    }

    pub(super) async fn set_password(&mut self, user_id: &str, password_hash: &str) -> Result<()> {
        let q = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(user_id);
        self.execute(q).await.map(drop)
    }

    pub(super) async fn insert_credential_row(&mut self, c: &NewCredential<'_>) -> Result<()> {
        let q = sqlx::query(
            "INSERT INTO credentials (id, user_id, kind, name, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(c.id)
        .bind(c.user_id)
        .bind(c.kind.as_str())
        .bind(c.name)
        .bind(c.secret_hash)
        .bind(c.created_ms);
        self.execute(q).await.map(drop)
    }

    pub(super) async fn delete_credential_row(&mut self, user_id: &str, id: &str) -> Result<bool> {
        let q = sqlx::query("DELETE FROM credentials WHERE user_id = $1 AND id = $2")
            .bind(user_id)
            .bind(id);
        Ok(self.execute(q).await? > 0)
    }

    pub(super) async fn touch_credential_row(&mut self, id: &str, now_ms: i64) -> Result<()> {
        let q = sqlx::query("UPDATE credentials SET last_used_at = $1 WHERE id = $2")
            .bind(now_ms)
            .bind(id);
        self.execute(q).await.map(drop)
    }
}
