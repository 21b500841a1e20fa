//! PostgreSQL through sqlx, for several instances on one database: the store, and the
//! [`crate::store::cluster::Cluster`] its instances share.
//!
//! [`cluster`]: `PgCluster`, this instance's part in the cluster; [`notify`]: hints
//! and room signals over LISTEN/NOTIFY; [`lease`]: instance leases and viewers;
//! [`scratch`]: fresh databases for tests and benchmarks.

pub mod cluster;
pub mod lease;
pub mod notify;
pub mod scratch;

pub use cluster::PgCluster;
