//! Presence across instances, end to end: each `Presence` has its own `PgCluster` on
//! one scratch PostgreSQL database, as two processes would.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use sqlx::PgPool;

use super::tests::viewer;
use super::{ConnId, Inbox, Mailbox, Presence};
use crate::store::cluster::Cluster;
use crate::store::postgres::cluster::PgCluster;
use crate::store::postgres::lease::{LEASE, RENEW_EVERY};
use crate::store::postgres::scratch::test_database;

/// Long enough for any signal or renewal here.
const WITHIN: Duration = Duration::from_secs(8);

async fn database() -> Option<(String, PgPool)> {
    let url = test_database().await?;
    let pool = PgPool::connect(&url).await.unwrap();
    sqlx::migrate!("./migrations/postgres").run(&pool).await.unwrap();
    Some((url, pool))
}

/// An instance: its presence and its cluster's id.
async fn instance(url: &str, pool: &PgPool) -> (Arc<Presence>, String) {
    let cluster = PgCluster::start(url, pool.clone(), std::sync::Arc::default())
        .await
        .unwrap();
    let id = cluster.instance_id().to_owned();
    (Presence::new(Some(cluster), Arc::default()), id)
}

/// A connection's ear: what its room sent it, as "type userId".
struct Ear {
    inbox: Inbox,
    heard: VecDeque<String>,
}

impl Ear {
    async fn next(&mut self) -> String {
        if self.heard.is_empty() {
            let mut out = Vec::new();
            tokio::time::timeout(WITHIN, self.inbox.recv_all(&mut out))
                .await
                .expect("a room message in time");
            self.heard.extend(out.iter().map(kind_of));
        }
        self.heard.pop_front().unwrap()
    }

    /// Everything heard within `quiet` from now.
    async fn rest(&mut self, quiet: Duration) -> Vec<String> {
        tokio::time::sleep(quiet).await;
        let mut out = Vec::new();
        self.inbox.try_recv_all(&mut out);
        self.heard.extend(out.iter().map(kind_of));
        self.heard.drain(..).collect()
    }
}

fn kind_of(frame: &Bytes) -> String {
    let json: serde_json::Value = serde_json::from_slice(frame).unwrap();
    format!(
        "{} {}",
        json["type"].as_str().unwrap(),
        json["userId"].as_str().unwrap()
    )
}

fn join(p: &Presence, conn: ConnId, user: &str) -> (Vec<String>, Ear) {
    let (mailbox, inbox) = Mailbox::new(64);
    let seen = p.join("board", conn, &viewer(user), mailbox);
    let ids = seen.viewers.into_iter().map(|v| v.user_id).collect();
    (
        ids,
        Ear {
            inbox,
            heard: VecDeque::new(),
        },
    )
}

/// How many other instances `p` believes have `user` on the board.
fn instances_with(p: &Presence, user: &str) -> usize {
    let state = p.lock();
    state
        .rooms
        .get("board")
        .and_then(|r| r.remote.get(user))
        .map_or(0, |r| r.instances.len())
}

async fn until(what: &str, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + WITHIN;
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "not in time: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Long enough for a signal that should not come to have come.
const QUIET: Duration = Duration::from_millis(400);

#[tokio::test]
async fn users_on_two_instances_see_each_other_once_and_typing_crosses() {
    let Some((url, pool)) = database().await else { return };
    let (a, _) = instance(&url, &pool).await;
    let (b, _) = instance(&url, &pool).await;
    let (_, mut carol) = join(&a, 1, "carol");
    until("b sees carol", || instances_with(&b, "carol") == 1).await;
    let (seen, mut bob) = join(&b, 1, "bob");
    assert_eq!(seen, ["bob", "carol"], "the join reply lists carol, on a");
    assert_eq!(carol.next().await, "user_joined bob");

    // alice in a tab on a, then one on b: one join on each side.
    let (_, _alice_a) = join(&a, 2, "alice");
    assert_eq!(carol.next().await, "user_joined alice");
    assert_eq!(bob.next().await, "user_joined alice");
    let (seen, mut alice_b) = join(&b, 2, "alice");
    assert_eq!(seen, ["alice", "bob", "carol"]);
    until("a knows alice is on b", || instances_with(&a, "alice") == 1).await;
    assert_eq!(carol.rest(QUIET).await, Vec::<String>::new());
    assert_eq!(bob.rest(Duration::ZERO).await, Vec::<String>::new());

    // Typing on a reaches bob on b, never alice's own tab there.
    let typing = Bytes::from_static(b"{\"type\":\"user_typing\",\"userId\":\"alice\"}");
    a.broadcast("board", Some("alice"), &typing);
    assert_eq!(bob.next().await, "user_typing alice");
    assert_eq!(carol.next().await, "user_typing alice");
    assert_eq!(alice_b.rest(QUIET).await, Vec::<String>::new(), "her own typing");

    // The tab on a closes: alice is still on b. Then b's: she leaves, once, everywhere.
    a.leave("board", 2);
    until("b knows alice left a", || instances_with(&b, "alice") == 0).await;
    assert_eq!(carol.rest(QUIET).await, Vec::<String>::new());
    assert_eq!(bob.rest(Duration::ZERO).await, Vec::<String>::new());
    b.leave("board", 2);
    assert_eq!(bob.next().await, "user_left alice");
    assert_eq!(carol.next().await, "user_left alice");
    assert_eq!(carol.rest(QUIET).await, Vec::<String>::new());
    assert_eq!(bob.rest(Duration::ZERO).await, Vec::<String>::new());

    // A clean shutdown of b: its users leave a at once, and its lease is gone.
    b.leave_cluster().await;
    assert_eq!(carol.next().await, "user_left bob");
    let leases: i64 = sqlx::query_scalar("SELECT count(*) FROM instances")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(leases, 1, "only a's lease is left");
}

#[tokio::test]
async fn a_dead_instance_leaves_by_its_lease_and_a_lost_lease_is_written_again() {
    assert!(
        LEASE + RENEW_EVERY <= Duration::from_secs(30),
        "the dead leave within 30 s"
    );
    let Some((url, pool)) = database().await else { return };
    let (a, _) = instance(&url, &pool).await;
    let (b, b_id) = instance(&url, &pool).await;
    let (c, c_id) = instance(&url, &pool).await;
    let (_, mut bob) = join(&b, 1, "bob");
    let (_, _dave) = join(&c, 1, "dave");
    assert_eq!(bob.next().await, "user_joined dave");

    // c dies without a goodbye (its task ends with its rooms), and its lease runs out.
    drop(c);
    sqlx::query("UPDATE instances SET expires_at = now() - interval '1 second' WHERE id = $1")
        .bind(&c_id)
        .execute(&pool)
        .await
        .unwrap();
    // b's next renewal ends c's lease and its snapshot no longer has dave.
    assert_eq!(bob.next().await, "user_left dave");

    // b's lease is lost (as if the database had dropped it): its next renewal writes
    // bob again, and a, which saw him go with the lease, sees him back.
    let (_, mut erin) = join(&a, 1, "erin");
    assert_eq!(bob.next().await, "user_joined erin");
    until("a sees bob", || instances_with(&a, "bob") == 1).await;
    sqlx::query("DELETE FROM instances WHERE id = $1")
        .bind(&b_id)
        .execute(&pool)
        .await
        .unwrap();
    let rows = || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM viewers WHERE instance_id = $1 AND user_id = 'bob'")
            .bind(&b_id)
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    assert_eq!(rows().await, 0);
    let deadline = tokio::time::Instant::now() + WITHIN;
    while rows().await == 0 {
        assert!(tokio::time::Instant::now() < deadline, "bob written again in time");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    until("a sees bob again", || instances_with(&a, "bob") == 1).await;
    // Whether a's reconciliation ran in the gap decides if erin saw bob go and come
    // back (within one presence interval the two coalesce into the latest, a join);
    // either way she ends up seeing him, and hears nothing else.
    let heard = erin.rest(QUIET).await;
    assert!(
        heard.is_empty() || heard == ["user_joined bob"] || heard == ["user_left bob", "user_joined bob"],
        "{heard:?}"
    );
}

#[tokio::test]
async fn a_viewer_that_could_not_be_written_is_written_at_a_later_period() {
    let Some((url, pool)) = database().await else { return };
    let (a, _) = instance(&url, &pool).await;
    let (b, _) = instance(&url, &pool).await;
    let (_, mut bob) = join(&b, 1, "bob");
    until("a sees bob", || instances_with(&a, "bob") == 1).await;
    // The viewers table is out of reach: alice's row cannot be written.
    sqlx::query("ALTER TABLE viewers RENAME TO viewers_away")
        .execute(&pool)
        .await
        .unwrap();
    let (_, _alice) = join(&a, 1, "alice");
    assert_eq!(
        bob.rest(QUIET).await,
        Vec::<String>::new(),
        "not written, not announced"
    );
    sqlx::query("ALTER TABLE viewers_away RENAME TO viewers")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(bob.next().await, "user_joined alice");
}
