//! The SQLite store's own tests: URL parsing, migrations, WAL restarts and group
//! commit, against real databases. What every backend must do alike is tested in
//! `store/tests.rs`.

use rusqlite::Connection;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::SqliteStore;
use super::checkpoint::CHECKPOINT_EVERY;
use super::migrate::MIGRATIONS;
use super::url::{Location, location};
use crate::proto::v1::User;
use crate::store::{Error, Store};

fn user(id: &str) -> User {
    User {
        id: id.into(),
        name: id.into(),
        username: id.into(),
    }
}

fn path_of(url: &str) -> Option<(String, bool)> {
    match location(url).unwrap() {
        Location::Memory => None,
        Location::File { path, create } => Some((path.display().to_string(), create)),
    }
}

#[test]
fn urls_name_memory_or_a_file() {
    assert_eq!(path_of("sqlite::memory:"), None);
    assert_eq!(path_of("sqlite://x.db?mode=memory"), None);
    assert_eq!(path_of("sqlite:boardcast.db"), Some(("boardcast.db".into(), true)));
    assert_eq!(path_of("sqlite:/tmp/a.db"), Some(("/tmp/a.db".into(), true)));
    assert_eq!(path_of("sqlite://data/a.db?mode=rwc"), Some(("data/a.db".into(), true)));
    assert_eq!(path_of("sqlite:///tmp/a.db?mode=rw"), Some(("/tmp/a.db".into(), false)));
    assert_eq!(path_of("/tmp/a.db"), Some(("/tmp/a.db".into(), true)));
    for bad in [
        "sqlite:a.db?mode=ro",
        "sqlite:a.db?cache=shared",
        "sqlite:",
        "sqlite://?mode=rwc",
    ] {
        let Err(e) = location(bad) else {
            panic!("{bad} was accepted")
        };
        // Core answers these as `databaseUrl` errors (core::error's tests).
        assert!(matches!(e, Error::InvalidUrl { .. }), "{bad}: {e}");
    }
}

async fn user_exists(store: &SqliteStore, id: &str) -> bool {
    store.read().await.unwrap().user(id).await.unwrap().is_some()
}

#[tokio::test]
async fn reopening_keeps_data_and_migrates_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let url = format!("sqlite://{}?mode=rwc", db.display());
    {
        let store = SqliteStore::connect(&url).await.unwrap();
        let mut tx = store.write().await.unwrap();
        tx.insert_user(&user("a"), Some("tok")).await.unwrap();
        tx.commit().await.unwrap();
    }
    // Every connection closed (the checkpoint thread's too): SQLite folded the WAL
    // into the database and removed it.
    assert!(!dir.path().join("t.db-wal").exists());
    let store = SqliteStore::connect(&url).await.unwrap();
    assert!(user_exists(&store, "a").await);
    let version: i64 = store
        .writer
        .lock()
        .await
        .conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, i64::try_from(MIGRATIONS.len()).unwrap());
}

#[tokio::test]
async fn a_database_the_sqlx_store_made_is_picked_up() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("old.db");
    {
        let conn = Connection::open(&db).unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.execute_batch(
            "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, success BOOLEAN NOT NULL);
             INSERT INTO _sqlx_migrations VALUES (1, TRUE);
             INSERT INTO users (id, name, token) VALUES ('old', 'old', NULL);",
        )
        .unwrap();
    }
    let store = SqliteStore::connect(db.to_str().unwrap()).await.unwrap();
    assert!(user_exists(&store, "old").await);
}

#[tokio::test]
async fn the_wal_starts_over_under_steady_writes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let store = SqliteStore::connect(db.to_str().unwrap()).await.unwrap();
    // Commit back to back for a while: PASSIVE checkpoints alone would never catch
    // up with the writer, and without restarts the WAL would hold every frame.
    let start = std::time::Instant::now();
    let mut commits = 0;
    while start.elapsed() < CHECKPOINT_EVERY * 8 {
        let mut tx = store.write().await.unwrap();
        tx.insert_user(&user(&format!("u{commits}")), None).await.unwrap();
        tx.commit().await.unwrap();
        commits += 1;
    }
    let (frames, total): (i64, i64) = {
        let writer = store.writer.lock().await;
        let frames = writer
            .conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))
            .unwrap();
        let total = writer
            .conn
            .query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))
            .unwrap();
        (frames, total)
    };
    assert_eq!(total, commits);
    assert!(
        frames < commits,
        "{frames} frames in the WAL after {commits} commits of at least one frame each"
    );
}

#[tokio::test]
async fn concurrent_writes_commit_as_one_group_and_each_rolls_back_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SqliteStore::connect(dir.path().join("t.db").to_str().unwrap())
            .await
            .unwrap(),
    );
    let before = store.wal.as_ref().unwrap().shared.commits.load(Ordering::Relaxed);
    let mut tasks = Vec::new();
    for i in 0..30 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut tx = store.write().await.unwrap();
            tx.insert_user(&user(&format!("u{i}")), None).await.unwrap();
            match i % 3 {
                0 => tx.commit().await.unwrap(),
                // A failed statement, then the drop: only this one's work goes.
                1 => assert!(tx.insert_user(&user(&format!("u{i}")), None).await.is_err()),
                _ => drop(tx),
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    for i in 0..30 {
        assert_eq!(user_exists(&store, &format!("u{i}")).await, i % 3 == 0, "u{i}");
    }
    let groups = store.wal.as_ref().unwrap().shared.commits.load(Ordering::Relaxed) - before;
    assert!((1..10).contains(&groups), "10 commits took {groups} groups");
}

#[tokio::test]
async fn a_group_commits_even_if_the_member_that_started_it_is_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::connect(dir.path().join("t.db").to_str().unwrap())
        .await
        .unwrap();
    let mut tx = store.write().await.unwrap();
    tx.insert_user(&user("cancelled"), None).await.unwrap();
    {
        let commit = tx.commit();
        tokio::pin!(commit);
        assert!(futures_util::poll!(&mut commit).is_pending(), "waits for the group");
    }
    // Not committed yet, so readers do not see it...
    assert!(!user_exists(&store, "cancelled").await);
    // ...until the group's committer has run.
    let mut tries = 0;
    while !user_exists(&store, "cancelled").await {
        tries += 1;
        assert!(tries < 100, "the group never committed");
        tokio::task::yield_now().await;
    }
}
