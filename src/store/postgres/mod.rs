//! PostgreSQL through sqlx, for several instances on one database: the store, and the
//! [`crate::store::cluster::Cluster`] its instances share.
//!
//! **Transactions** each hold one pooled connection from `BEGIN` to `COMMIT` (or the
//! rollback a drop queues). A read is `REPEATABLE READ, READ ONLY`: one snapshot for
//! all its statements, as a SQLite read has. A write is `READ COMMITTED`, and core
//! locks the board it changes ([`Tx::lock_board`]) before it reads what its rule
//! depends on: the board's writes run one at a time, on whichever instance, and each
//! statement after the lock sees every earlier write of the board. That is what one
//! SQLite writer gives for free; positions stay dense and seqs gap-free only with it.
//!
//! **Failures** of the connection (the server is unreachable, restarting, or ended the
//! session) are [`crate::store::Error::is_unavailable`]: core answers them "try
//! again", not "internal error".
//!
//! The rest, one concern a file: [`url`] (the pool's URL parameters), `tx` (a
//! transaction's life, the statement helpers and the locks), `queries` (the SQL of
//! [`Tx`]), `accounts`, `details` and `retention` (expiry, compaction: more of it), `rows` (rows to messages),
//! [`cluster`] (`PgCluster`: this instance's part in the cluster), [`notify`] (hints
//! and room signals over LISTEN/NOTIFY), [`lease`] (instance leases and viewers),
//! [`scratch`] (fresh databases for tests and benchmarks). The schema is
//! `migrations/postgres/`, applied at connect.

mod accounts;
pub mod cluster;
mod details;
pub mod lease;
pub mod notify;
mod queries;
mod retention;
mod rows;
pub mod scratch;
mod tx;
pub mod url;

use async_trait::async_trait;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::str::FromStr;
use std::sync::Arc;

use super::cluster::Cluster;
use super::{Result, Store, Tx};
use crate::metrics::Metrics;
use tx::PgTx;

pub use cluster::PgCluster;

/// A pooled connection idle this long is pinged before it is lent.
const PING_IF_IDLE_FOR: std::time::Duration = std::time::Duration::from_secs(1);

pub struct PgStore {
    pool: PgPool,
    /// This instance's part in the cluster of instances on this database.
    cluster: Option<Arc<dyn Cluster>>,
    metrics: Arc<Metrics>,
}

impl PgStore {
    /// Connects to the database a `postgres:` (or `postgresql:`) URL names and brings
    /// its schema up to date. Fails when the server does not answer.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::open(url, Arc::new(Metrics::new())).await
    }

    /// Like [`PgStore::connect`], counting commits and LISTEN reconnects in `metrics`.
    pub async fn open(url: &str, metrics: Arc<Metrics>) -> Result<Self> {
        let parsed = url::pool_url(url)?;
        let options = PgConnectOptions::from_str(&parsed.server)?;
        // No ping before each lend (sqlx's default): it is a round trip per
        // transaction, and under load a connection comes back from its previous
        // transaction (whose end sqlx's release ping already flushed) microseconds
        // before. One idle for a while is pinged (a restart of the server most likely
        // closed it); one that died sooner fails its `BEGIN`, and `tx::begin` retries.
        let pool = PgPoolOptions::new()
            .max_connections(parsed.max_connections)
            .acquire_timeout(parsed.acquire_timeout)
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= PING_IF_IDLE_FOR {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        // Every store on a shared database is an instance of the cluster: it announces
        // its commits and hears the others' (on connections of its own).
        let cluster: Arc<dyn Cluster> = PgCluster::start(&parsed.server, pool.clone(), metrics.clone()).await?;
        Ok(PgStore {
            pool,
            cluster: Some(cluster),
            metrics,
        })
    }

    /// The pool, for what shares this database beside the store (leases, listeners).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[async_trait]
impl Store for PgStore {
    async fn read(&self) -> Result<Box<dyn Tx>> {
        PgTx::read(&self.pool).await
    }

    async fn write(&self) -> Result<Box<dyn Tx>> {
        PgTx::write(&self.pool, &self.metrics).await
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn cluster(&self) -> Option<Arc<dyn Cluster>> {
        self.cluster.clone()
    }
}
