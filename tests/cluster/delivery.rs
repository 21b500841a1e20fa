//! Events written on any instance reach every subscriber on every instance, over every
//! transport, exactly once and in order; and a client of an instance killed with
//! `kill -9` resumes on another without losing or repeating one.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::sync::watch;

use crate::clients::{self, Follower, follow};
use crate::harness::{instances, shared_database};

/// One follower per transport on `addrs` (gRPC on the same addresses: one port).
fn followers(addrs: &[SocketAddr], until: &watch::Receiver<u64>) -> Vec<Follower> {
    clients::ALL
        .into_iter()
        .map(|t| follow(t, addrs.to_vec(), "board-1", until.clone(), Duration::from_secs(60)))
        .collect()
}

/// How a gRPC call ends when its instance dies under it (tonic reports a reset
/// connection as one of these, depending on when it happens).
const CUT_OFF: [tonic::Code; 4] = [
    tonic::Code::Unavailable,
    tonic::Code::Unknown,
    tonic::Code::Internal,
    tonic::Code::Cancelled,
];

/// Creates `n` tasks on `addrs` (the first first), alternating REST and gRPC; REST
/// moves on to the next address when one is down, under the same idempotency key.
async fn write(addrs: Vec<SocketAddr>, label: &'static str, n: usize, pause: Duration) {
    for i in 0..n {
        let title = format!("{label} {i}");
        if i % 2 == 0 {
            let (status, _) = clients::create_rest(&addrs, "list-todo", &title, 20).await;
            assert_eq!(status, 201, "REST create {title}");
        } else {
            // gRPC to the first address that takes it, under one request id: a call
            // cut off by the kill may have been applied.
            let request_id = uuid::Uuid::new_v4().to_string();
            let mut done = false;
            for addr in addrs.iter().cycle().take(20) {
                match clients::create_grpc(*addr, "list-todo", &title, &request_id).await {
                    Ok(_) => {
                        done = true;
                        break;
                    }
                    Err(status) if CUT_OFF.contains(&status.code()) => {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    Err(status) => panic!("gRPC create {title}: {status}"),
                }
            }
            assert!(done, "gRPC create {title} reached a live instance");
        }
        tokio::time::sleep(pause).await;
    }
}

#[tokio::test]
async fn writers_on_both_instances_reach_every_subscriber_on_both_exactly_once_in_order() {
    let Some(db) = shared_database().await else { return };
    let cluster = instances(2, &db).await;
    let (a, b) = (cluster[0].addr, cluster[1].addr);
    let (until_tx, until) = watch::channel(u64::MAX);
    let mut on_a = followers(&[a], &until);
    let mut on_b = followers(&[b], &until);
    // The first event once everyone is open, so the rest are live for all.
    assert_eq!(clients::create_rest(&[a], "list-todo", "first", 1).await.0, 201);
    for f in on_a.iter_mut().chain(on_b.iter_mut()) {
        f.reached(1).await;
    }

    let per_writer = 30;
    tokio::join!(
        write(vec![a], "from a", per_writer, Duration::ZERO),
        write(vec![b], "from b", per_writer, Duration::ZERO),
    );
    let n = 1 + 2 * per_writer as u64;
    until_tx.send_replace(n);
    for (instance, list) in [("a", on_a), ("b", on_b)] {
        for f in list {
            f.finish()
                .await
                .assert_exactly(n, &format!("a subscriber on {instance}"));
        }
    }
    for addr in [a, b] {
        assert_eq!(
            clients::board(addr, "board-1").await["seq"],
            n,
            "the board's seq on {addr}"
        );
    }
}

#[tokio::test]
async fn clients_of_a_killed_instance_resume_on_the_other_and_lose_nothing() {
    let Some(db) = shared_database().await else { return };
    let mut cluster = instances(2, &db).await;
    let (a, b) = (cluster[0].addr, cluster[1].addr);
    let (until_tx, until) = watch::channel(u64::MAX);
    // Clients of a that know b (as a client of a balancer does, through it), and
    // clients of b that only know b.
    let mut of_a = followers(&[a, b], &until);
    let mut of_b = followers(&[b], &until);
    assert_eq!(clients::create_rest(&[a], "list-todo", "first", 1).await.0, 201);
    for f in of_a.iter_mut().chain(of_b.iter_mut()) {
        f.reached(1).await;
    }

    // Writers on both while a dies mid-stream; a's writer goes on with b.
    let per_writer = 40;
    let writers = tokio::spawn(async move {
        tokio::join!(
            write(vec![a, b], "via a", per_writer, Duration::from_millis(20)),
            write(vec![b], "via b", per_writer, Duration::from_millis(20)),
        );
    });
    for f in &mut of_a {
        f.reached(20).await;
    }
    cluster[0].kill9().await;
    writers.await.unwrap();

    let n = 1 + 2 * per_writer as u64;
    until_tx.send_replace(n);
    for f in of_a {
        let seen = f.finish().await;
        seen.assert_exactly(n, "a client of the killed instance");
        assert!(
            seen.connections >= 2,
            "{:?} reconnected after the kill: {:?}",
            seen.transport,
            seen.notes
        );
    }
    for f in of_b {
        let seen = f.finish().await;
        seen.assert_exactly(n, "a client of the surviving instance");
        assert_eq!(
            seen.connections, 1,
            "{:?} on b was not disturbed: {:?}",
            seen.transport, seen.notes
        );
    }
    // Every acknowledged write is there once: retries under the same key added nothing.
    assert_eq!(clients::board(b, "board-1").await["seq"], n);
    assert_eq!(clients::log(b, "board-1").await.len() as u64, n);
}
