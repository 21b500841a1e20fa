//! Instance leases and the viewers each instance has (tables of
//! `migrations/postgres/0002_cluster.sql`). Times are the database's clock, so
//! instances whose clocks disagree still agree on who is alive.

use sqlx::PgPool;
use std::time::Duration;

use crate::proto::v1::Viewer;
use crate::store::Result;
use crate::store::cluster::RemoteViewer;

/// How long a lease lasts without renewal: an instance killed without a goodbye has
/// its viewers leave everywhere within this plus one renewal period.
pub const LEASE: Duration = Duration::from_secs(15);
/// How often a live instance renews its lease (and looks for expired ones).
pub const RENEW_EVERY: Duration = Duration::from_secs(5);

pub struct Leases {
    pool: PgPool,
    instance_id: String,
}

fn lease_ms() -> i64 {
    i64::try_from(LEASE.as_millis()).unwrap_or(i64::MAX)
}

impl Leases {
    pub fn new(pool: PgPool, instance_id: String) -> Self {
        Leases { pool, instance_id }
    }

    pub fn instance_id(&self) -> &str {
        &self.instance_id
    }

    /// See [`crate::store::cluster::Cluster::renew`].
    pub async fn renew(&self) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        // Expired leases first, so an instance that missed its renewals ends its own
        // lease (and viewers) too and is told so.
        sqlx::query("DELETE FROM instances WHERE expires_at < now()")
            .execute(&mut *tx)
            .await?;
        let renewed = sqlx::query(
            "UPDATE instances SET expires_at = now() + make_interval(secs => $2::float8 / 1000) WHERE id = $1",
        )
        .bind(&self.instance_id)
        .bind(lease_ms())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if renewed == 0 {
            sqlx::query(
                "INSERT INTO instances (id, expires_at) VALUES ($1, now() + make_interval(secs => $2::float8 / 1000))",
            )
            .bind(&self.instance_id)
            .bind(lease_ms())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(renewed == 0)
    }

    pub async fn add_viewer(&self, board_id: &str, viewer: &Viewer) -> Result<()> {
        sqlx::query(
            "INSERT INTO viewers (instance_id, board_id, user_id, name, color) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (board_id, user_id, instance_id) DO UPDATE SET name = excluded.name, color = excluded.color",
        )
        .bind(&self.instance_id)
        .bind(board_id)
        .bind(&viewer.user_id)
        .bind(&viewer.name)
        .bind(&viewer.color)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn remove_viewer(&self, board_id: &str, user_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM viewers WHERE instance_id = $1 AND board_id = $2 AND user_id = $3")
            .bind(&self.instance_id)
            .bind(board_id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Viewers of live instances other than this one, by board, user and instance.
    pub async fn remote_viewers(&self, board_ids: &[String]) -> Result<Vec<RemoteViewer>> {
        let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
            "SELECT v.instance_id, v.board_id, v.user_id, v.name, v.color FROM viewers v \
             JOIN instances i ON i.id = v.instance_id \
             WHERE v.board_id = ANY($1) AND v.instance_id <> $2 AND i.expires_at >= now() \
             ORDER BY v.board_id, v.user_id, v.instance_id",
        )
        .bind(board_ids)
        .bind(&self.instance_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(instance_id, board_id, user_id, name, color)| RemoteViewer {
                instance_id,
                board_id,
                viewer: Viewer { user_id, name, color },
            })
            .collect())
    }

    /// Ends this instance's lease; its viewers go with it.
    pub async fn leave(&self) -> Result<()> {
        sqlx::query("DELETE FROM instances WHERE id = $1")
            .bind(&self.instance_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::postgres::scratch::test_database;

    async fn pool() -> Option<PgPool> {
        let url = test_database().await?;
        let pool = PgPool::connect(&url).await.unwrap();
        sqlx::migrate!("./migrations/postgres").run(&pool).await.unwrap();
        Some(pool)
    }

    fn viewer(id: &str) -> Viewer {
        Viewer {
            user_id: id.into(),
            name: id.to_uppercase(),
            color: "#000".into(),
        }
    }

    #[tokio::test]
    async fn viewers_of_other_live_instances_are_seen_and_end_with_their_lease() {
        let Some(pool) = pool().await else { return };
        let a = Leases::new(pool.clone(), "a".into());
        let b = Leases::new(pool.clone(), "b".into());
        assert!(a.renew().await.unwrap(), "a new lease");
        assert!(b.renew().await.unwrap());
        assert!(!a.renew().await.unwrap(), "renewed, not new");
        a.add_viewer("board", &viewer("alice")).await.unwrap();
        a.add_viewer("other", &viewer("alice")).await.unwrap();
        b.add_viewer("board", &viewer("bob")).await.unwrap();
        let seen = b.remote_viewers(&["board".into()]).await.unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(
            (seen[0].instance_id.as_str(), seen[0].viewer.user_id.as_str()),
            ("a", "alice")
        );
        a.remove_viewer("board", "alice").await.unwrap();
        assert!(b.remote_viewers(&["board".into()]).await.unwrap().is_empty());
        // a stops renewing: once its lease is past, b's renewal ends it and its viewers.
        sqlx::query("UPDATE instances SET expires_at = now() - interval '1 second' WHERE id = 'a'")
            .execute(&pool)
            .await
            .unwrap();
        assert!(
            b.remote_viewers(&["other".into()]).await.unwrap().is_empty(),
            "expired: not live"
        );
        assert!(!b.renew().await.unwrap());
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM viewers WHERE instance_id = 'a'")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(left, 0);
        assert!(a.renew().await.unwrap(), "a learns its lease had ended");
        b.leave().await.unwrap();
        assert!(a.remote_viewers(&["board".into()]).await.unwrap().is_empty());
    }
}
