//! Viewers across instances: a user on one instance sees who is on the board on the
//! others, and the viewers of an instance killed with `kill -9` leave within 30 s.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::harness::{instances, shared_database};

struct Ws(WebSocketStream<MaybeTlsStream<TcpStream>>);

impl Ws {
    /// Signs `user` in on `addr` with the demo password and opens a WebSocket with the
    /// session, joined to board-1; returns it with the `presence` it was given.
    async fn join_as(addr: SocketAddr, user: &str) -> (Ws, Value) {
        let resp = reqwest::Client::new()
            .post(format!("http://{addr}/auth/login"))
            .json(&json!({"username": user, "password": format!("{user}-demo-pw")}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{user} signs in");
        let token = resp.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws?token={token}"))
            .await
            .unwrap();
        let mut ws = Ws(ws);
        let join = json!({"type": "join", "boardId": "board-1"});
        ws.0.send(Message::text(join.to_string())).await.unwrap();
        let presence = ws.recv_type("presence", Duration::from_secs(10)).await;
        (ws, presence)
    }

    /// The next frame of type `kind`, skipping others; panics after `limit`.
    async fn recv_type(&mut self, kind: &str, limit: Duration) -> Value {
        tokio::time::timeout(limit, async {
            loop {
                match self.0.next().await.expect("socket open").expect("frame") {
                    Message::Text(t) => {
                        let v: Value = serde_json::from_str(t.as_str()).unwrap();
                        if v["type"] == kind {
                            return v;
                        }
                    }
                    Message::Close(c) => panic!("closed: {c:?}"),
                    _ => {}
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("a {kind} frame within {limit:?}"))
    }
}

fn viewer_ids(presence: &Value) -> Vec<&str> {
    let mut ids: Vec<&str> = presence["viewers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["userId"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

#[tokio::test]
async fn viewers_are_seen_across_instances_and_those_of_a_killed_one_leave_within_30_s() {
    let Some(db) = shared_database().await else { return };
    let mut cluster = instances(2, &db).await;
    let (a, b) = (cluster[0].addr, cluster[1].addr);

    let (mut bob, presence) = Ws::join_as(b, "bob").await;
    assert_eq!(viewer_ids(&presence), ["bob"]);
    let (_alice, presence) = Ws::join_as(a, "alice").await;
    assert_eq!(viewer_ids(&presence), ["alice", "bob"], "alice on a sees bob on b");
    let joined = bob.recv_type("user_joined", Duration::from_secs(10)).await;
    assert_eq!(joined["userId"], "alice", "bob on b hears alice join on a: {joined}");

    cluster[0].kill9().await;
    let left = bob.recv_type("user_left", Duration::from_secs(30)).await;
    assert_eq!(left["userId"], "alice", "{left}");
    let (_another_tab, presence) = Ws::join_as(b, "bob").await;
    assert_eq!(viewer_ids(&presence), ["bob"], "alice is gone from the board's viewers");
}
