//! The database goes away under running instances and comes back: writes meanwhile
//! fail whole (503, `UNAVAILABLE`) and leave nothing behind; afterwards the instances
//! carry on and every stream continues without a gap.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use boardcast::store::postgres::scratch::scratch_database;
use tokio::sync::watch;

use crate::clients::{self, follow};
use crate::harness::{PrivatePostgres, instances};

/// Task ids of a board as one instance reads it.
async fn task_ids(addr: SocketAddr) -> BTreeSet<String> {
    clients::board(addr, "board-1").await["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_database_restart_fails_writes_whole_and_streams_continue_without_a_gap() {
    let Some(pg) = PrivatePostgres::start().await else {
        return;
    };
    let db = scratch_database(&pg.server_url()).await.unwrap();
    let cluster = instances(2, &db).await;
    let (a, b) = (cluster[0].addr, cluster[1].addr);
    let seeded = task_ids(a).await;

    let (until_tx, until) = watch::channel(u64::MAX);
    let mut followers = Vec::new();
    for addr in [a, b] {
        for transport in clients::ALL {
            followers.push(follow(
                transport,
                vec![addr],
                "board-1",
                until.clone(),
                Duration::from_secs(120),
            ));
        }
    }
    let mut created = 0;
    for (i, addr) in [a, b].into_iter().cycle().take(6).enumerate() {
        assert_eq!(
            clients::create_rest(&[addr], "list-todo", &format!("before {i}"), 1)
                .await
                .0,
            201
        );
        created += 1;
    }
    for f in &mut followers {
        f.reached(created).await;
    }

    pg.stop().await;
    for addr in [a, b] {
        let (status, _) = clients::create_rest(&[addr], "list-todo", "outage rest", 1).await;
        assert_eq!(status, 503, "a REST write on {addr} while the database is down");
        let err = clients::create_grpc(addr, "list-todo", "outage grpc", &uuid::Uuid::new_v4().to_string())
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::Unavailable, "a gRPC write on {addr}: {err}");
    }
    pg.start_again().await;

    // The instances reconnect by themselves: a write succeeds again within 30 s.
    let back = tokio::time::Instant::now() + Duration::from_secs(30);
    for addr in [a, b] {
        loop {
            let (status, _) = clients::create_rest(&[addr], "list-todo", "after the restart", 1).await;
            if status == 201 {
                created += 1;
                break;
            }
            assert!(
                tokio::time::Instant::now() < back,
                "writes on {addr} work again within 30 s of the restart (last: {status})"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    for (i, addr) in [a, b].into_iter().cycle().take(6).enumerate() {
        assert_eq!(
            clients::create_rest(&[addr], "list-todo", &format!("after {i}"), 1)
                .await
                .0,
            201
        );
        created += 1;
    }

    until_tx.send_replace(created);
    for f in followers {
        f.finish()
            .await
            .assert_exactly(created, "a subscriber through the restart");
    }
    // Nothing of the failed writes: the log has only the acknowledged ones, and the
    // board holds exactly the tasks its log created.
    let log = clients::log(a, "board-1").await;
    assert_eq!(log.len() as u64, created, "{log:?}");
    let logged: BTreeSet<String> = log
        .iter()
        .map(|e| {
            assert_eq!(e["type"], "task_created", "{e}");
            assert!(!e["task"]["title"].as_str().unwrap().starts_with("outage"), "{e}");
            e["task"]["id"].as_str().unwrap().to_owned()
        })
        .collect();
    for addr in [a, b] {
        let now = task_ids(addr).await;
        let added: BTreeSet<String> = now.difference(&seeded).cloned().collect();
        assert_eq!(
            added, logged,
            "the tasks on {addr} beyond the seeded ones are those of the log"
        );
        assert_eq!(clients::board(addr, "board-1").await["seq"], created);
    }
}
