//! Two instances over one database, as two processes would be: each its own SQLite
//! store opened on one file (WAL), its own bus and core, and its own `PgCluster` on a
//! scratch PostgreSQL database for the hints.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::PgPool;

use super::super::{Actor, Core, Resume, StreamItem, Subscription, seed};
use super::{SWEEP, spawn};
use crate::bus::Bus;
use crate::proto::v1::CreateTaskRequest;
use crate::store::cluster::Cluster;
use crate::store::postgres::PgCluster;
use crate::store::postgres::cluster::application_name;
use crate::store::postgres::scratch::test_database;
use crate::store::{SqliteStore, Store};

const BOARD: &str = "board-1";
/// A sweep that never comes within a test: what arrives came by hint.
const NO_SWEEP: Duration = Duration::from_hours(1);

struct Shared {
    _dir: tempfile::TempDir,
    path: String,
    pg_url: String,
    pool: PgPool,
}

/// One SQLite file (seeded with the demo boards) and one scratch PostgreSQL database.
async fn shared() -> Option<Shared> {
    let pg_url = test_database().await?;
    let pool = PgPool::connect(&pg_url).await.unwrap();
    sqlx::migrate!("./migrations/postgres").run(&pool).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("board.db").display().to_string();
    seed::seed(store(&path).await.as_ref(), true).await.unwrap();
    Some(Shared {
        _dir: dir,
        path,
        pg_url,
        pool,
    })
}

async fn store(path: &str) -> Arc<dyn Store> {
    Arc::new(SqliteStore::connect(path).await.unwrap())
}

async fn cluster(shared: &Shared) -> Arc<PgCluster> {
    PgCluster::start(&shared.pg_url, shared.pool.clone(), Arc::default())
        .await
        .unwrap()
}

/// An instance: its core announces through `announce` (none: commits are not
/// announced), and its feed listens to `listen`'s hints and sweeps every `sweep`.
struct Instance {
    core: Core,
    _feed: Option<super::FeedTask>,
}

async fn instance(
    shared: &Shared,
    announce: Option<Arc<PgCluster>>,
    listen: Option<&PgCluster>,
    sweep: Duration,
) -> Instance {
    instance_with_ring(shared, announce, listen, sweep, 1024).await
}

async fn instance_with_ring(
    shared: &Shared,
    announce: Option<Arc<PgCluster>>,
    listen: Option<&PgCluster>,
    sweep: Duration,
    ring: usize,
) -> Instance {
    let store = store(&shared.path).await;
    let bus = Arc::new(Bus::new(ring));
    let feed = listen.map(|c| spawn(store.clone(), bus.clone(), c.hints().unwrap(), sweep, Arc::default()));
    let announce = announce.map(|c| c as Arc<dyn Cluster>);
    Instance {
        core: Core::with_cluster(store, bus, 8, announce, Arc::default()),
        _feed: feed,
    }
}

fn alice() -> Actor {
    Actor::for_tests("alice", "Alice")
}

/// Creates a task; its event's seq.
async fn create(core: &Core, title: &str) -> u64 {
    let req = CreateTaskRequest {
        list_id: "list-todo".into(),
        title: title.into(),
        ..Default::default()
    };
    core.create_task(&alice(), req).await.unwrap().seq
}

async fn follow(core: &Core) -> Subscription {
    core.subscribe(
        &alice(),
        crate::metrics::Transport::Sse,
        vec![(BOARD.into(), Resume::Live)],
        false,
    )
    .await
    .unwrap()
}

async fn next_seq(sub: &mut Subscription, within: Duration) -> u64 {
    let item = tokio::time::timeout(within, sub.next())
        .await
        .unwrap_or_else(|_| panic!("no event within {within:?}"));
    match item {
        Ok(Some(StreamItem::Event(e))) => e.seq(),
        _ => panic!("expected an event"),
    }
}

/// Nothing more is delivered for a while: no duplicate, nothing out of thin air.
async fn quiet(sub: &mut Subscription) {
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(sub.ready().is_none(), "nothing more to deliver");
}

/// Ends the instance's listening connection: its feed gets `Reconnected` and sweeps.
async fn kill_listener(shared: &Shared, cluster: &PgCluster) {
    let pid: i32 = sqlx::query_scalar("SELECT pid FROM pg_stat_activity WHERE application_name = $1")
        .bind(application_name("listen", cluster.instance_id()))
        .fetch_one(&shared.pool)
        .await
        .unwrap();
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .execute(&shared.pool)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_instances_commits_reach_subscribers_in_order_by_hint() {
    let Some(shared) = shared().await else { return };
    let (ca, cb) = (cluster(&shared).await, cluster(&shared).await);
    let a = instance(&shared, Some(ca.clone()), Some(&ca), NO_SWEEP).await;
    let b = instance(&shared, Some(cb.clone()), Some(&cb), NO_SWEEP).await;
    let mut sub = follow(&b.core).await;
    // Both instances write the board; B's subscriber sees every seq once, in order.
    let mut latencies = Vec::new();
    for i in 1..=40u64 {
        let writer = if i % 4 == 0 { &b.core } else { &a.core };
        let seq = create(writer, &format!("task {i}")).await;
        assert_eq!(seq, i);
        let committed = Instant::now();
        assert_eq!(next_seq(&mut sub, Duration::from_secs(5)).await, i);
        if i % 4 != 0 {
            latencies.push(committed.elapsed());
        }
    }
    latencies.sort();
    let p50 = latencies[latencies.len() / 2];
    let p90 = latencies[latencies.len() * 9 / 10];
    eprintln!(
        "cross-instance hint → delivery: p50 {p50:?}, p90 {p90:?} ({} samples)",
        latencies.len()
    );
    // A burst on A arrives whole and in order.
    for i in 41..=140u64 {
        assert_eq!(create(&a.core, &format!("burst {i}")).await, i);
    }
    for i in 41..=140u64 {
        assert_eq!(next_seq(&mut sub, Duration::from_secs(5)).await, i);
    }
    quiet(&mut sub).await;
    // A long poll on B is woken by a commit on A.
    let actor = alice();
    let poll = b.core.wait_changes(&actor, BOARD, Some(140), Duration::from_secs(5));
    let (changes, seq) = tokio::join!(poll, async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        create(&a.core, "polled").await
    });
    let changes = changes.unwrap();
    assert!(!changes.timeout, "woken by the other instance's commit");
    assert_eq!(changes.events.iter().map(|e| e.seq).collect::<Vec<_>>(), [seq]);
}

#[tokio::test]
async fn without_hints_the_sweep_alone_delivers() {
    let Some(shared) = shared().await else { return };
    let cb = cluster(&shared).await;
    // A announces nothing; B sweeps at the production interval.
    let a = instance(&shared, None, None, NO_SWEEP).await;
    let b = instance(&shared, Some(cb.clone()), Some(&cb), SWEEP).await;
    let mut sub = follow(&b.core).await;
    for i in 1..=5u64 {
        assert_eq!(create(&a.core, &format!("task {i}")).await, i);
    }
    let started = Instant::now();
    for i in 1..=5u64 {
        assert_eq!(next_seq(&mut sub, SWEEP * 4).await, i);
    }
    assert!(
        started.elapsed() < SWEEP * 4,
        "within a sweep or so: {:?}",
        started.elapsed()
    );
    quiet(&mut sub).await;
}

#[tokio::test]
async fn a_lost_hint_connection_makes_the_feed_compare_every_board() {
    let Some(shared) = shared().await else { return };
    let cb = cluster(&shared).await;
    // No announcements and no sweep: only B's `Reconnected` can bring the event.
    let a = instance(&shared, None, None, NO_SWEEP).await;
    let b = instance(&shared, Some(cb.clone()), Some(&cb), NO_SWEEP).await;
    let mut sub = follow(&b.core).await;
    assert_eq!(create(&a.core, "unannounced").await, 1);
    quiet(&mut sub).await;
    kill_listener(&shared, &cb).await;
    assert_eq!(next_seq(&mut sub, Duration::from_secs(5)).await, 1);
    quiet(&mut sub).await;
}

#[tokio::test]
async fn a_gap_wider_than_the_ring_is_read_by_each_subscriber_not_lagged_out() {
    let Some(shared) = shared().await else { return };
    let cb = cluster(&shared).await;
    let a = instance(&shared, None, None, NO_SWEEP).await;
    let b = instance_with_ring(&shared, None, Some(&cb), NO_SWEEP, 16).await;
    let mut sub = follow(&b.core).await;
    for i in 1..=100u64 {
        assert_eq!(create(&a.core, &format!("task {i}")).await, i);
    }
    // One catch-up, 100 events behind a ring of 16: published one by one, they
    // would lag the subscriber out.
    kill_listener(&shared, &cb).await;
    for i in 1..=100u64 {
        assert_eq!(next_seq(&mut sub, Duration::from_secs(5)).await, i);
    }
    quiet(&mut sub).await;
}
