//! deploy/nginx/boardcast.conf in front of two instances: every transport works
//! through it, and a stream opened through it gets the events written on either
//! instance.

use std::time::Duration;

use tokio::sync::watch;

use crate::clients::{self, Transport, follow};
use crate::harness::{Nginx, installed, instances, shared_database, skip_or_fail};

#[tokio::test]
async fn nginx_balances_rest_sse_websocket_grpc_and_long_polls_over_two_instances() {
    let Some(db) = shared_database().await else { return };
    if !installed("nginx") {
        skip_or_fail("nginx");
        return;
    }
    let cluster = instances(2, &db).await;
    let (a, b) = (cluster[0].addr, cluster[1].addr);
    let nginx = Nginx::start([a, b]).await;

    // REST through nginx.
    let (status, created) = clients::create_rest(&[nginx.http], "list-todo", "through nginx", 1).await;
    assert_eq!(status, 201);
    let board = clients::board(nginx.http, "board-1").await;
    assert_eq!(board["seq"], 1);
    assert!(
        board["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == created.clone().unwrap()),
        "{board}"
    );

    // Streams through nginx, each open (it has replayed seq 1) before the next writes:
    // those reach them live, the long poll's included (its poll after 1 is waiting).
    let (until_tx, until) = watch::channel(u64::MAX);
    let mut followers = Vec::new();
    for transport in clients::ALL {
        let addr = if transport == Transport::Grpc {
            nginx.grpc
        } else {
            nginx.http
        };
        followers.push(follow(
            transport,
            vec![addr],
            "board-1",
            until.clone(),
            Duration::from_secs(30),
        ));
    }
    for f in &mut followers {
        f.reached(1).await;
    }
    // One write on each instance, straight to it, and one with gRPC through nginx.
    assert_eq!(clients::create_rest(&[a], "list-todo", "on a", 1).await.0, 201);
    assert_eq!(clients::create_rest(&[b], "list-todo", "on b", 1).await.0, 201);
    let seq = clients::create_grpc(nginx.grpc, "list-todo", "gRPC through nginx", "nginx-1")
        .await
        .unwrap();
    assert_eq!(seq, 4);
    until_tx.send_replace(4);
    for f in followers {
        let seen = f.finish().await;
        seen.assert_exactly(4, "a client of nginx");
        assert_eq!(
            seen.connections, 1,
            "{:?} never had to reconnect: {:?}",
            seen.transport, seen.notes
        );
    }
}
