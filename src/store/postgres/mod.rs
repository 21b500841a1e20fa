//! PostgreSQL through sqlx, for several instances on one database: the store, and the
//! [`crate::store::cluster::Cluster`] its instances share.
//!
//! [`lease`]: instance leases and viewers; [`scratch`]: fresh databases for tests and
//! benchmarks.

pub mod lease;
pub mod scratch;
