//! Removing a member reaches that member's open streams on the board: each gets the
//! `member_removed` event about them, then its transport's last word (SSE `revoked`,
//! WebSocket close 4403, gRPC PERMISSION_DENIED), within 2 s; a waiting long poll is
//! answered with the removal and the next one is a 404. Everyone else's streams go on.

use std::time::Duration;

use boardcast::proto::SubscribeMessage;
use boardcast::proto::v1::board_event::Payload;
use boardcast::proto::v1::board_service_client::BoardServiceClient;
use boardcast::proto::v1::{BoardEvent, SubscribeRequest};
use futures_util::{SinkExt, StreamExt};
use prost::Message as _;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{SseClient, TestApp, spawn_app};

const WITHIN: Duration = Duration::from_secs(2);

async fn remove_bob(app: &TestApp) {
    let resp = app
        .send_as(Some("alice"), Method::DELETE, "/boards/board-1/members/bob", None)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_removed_members_sse_stream_gets_the_removal_then_revoked_and_ends() {
    let app = spawn_app().await;
    let mut bob = SseClient::connect(app.request(Method::GET, "/boards/board-1/events", Some("bob"))).await;
    let mut alice = SseClient::connect(app.request(Method::GET, "/boards/board-1/events", Some("alice"))).await;
    assert_eq!(bob.next_data().await.unwrap().json()["type"], "connected");
    assert_eq!(alice.next_data().await.unwrap().json()["type"], "connected");

    remove_bob(&app).await;
    let removal = tokio::time::timeout(WITHIN, bob.next_data()).await.unwrap().unwrap();
    assert_eq!(removal.event.as_deref(), Some("member_removed"));
    assert_eq!(removal.json()["userId"], "bob");
    let last = tokio::time::timeout(WITHIN, bob.next_data()).await.unwrap().unwrap();
    assert_eq!(last.event.as_deref(), Some("revoked"));
    assert_eq!(last.id, None, "the resume point stays the last event");
    let reason = last.json()["reason"].as_str().unwrap().to_owned();
    assert!(reason.contains("removed from board `board-1`"), "{reason}");
    assert!(
        tokio::time::timeout(WITHIN, bob.next()).await.unwrap().is_none(),
        "the stream ended"
    );

    // Alice saw the removal and still follows the board.
    assert_eq!(
        alice.next_data().await.unwrap().event.as_deref(),
        Some("member_removed")
    );
    app.send_as(
        Some("alice"),
        Method::POST,
        "/tasks",
        Some(json!({"title": "after", "listId": "list-todo"})),
    )
    .await;
    assert_eq!(alice.next_data().await.unwrap().event.as_deref(), Some("task_created"));
    // Bob cannot come back: the board is hidden from him now.
    let again = app
        .request(Method::GET, "/boards/board-1/events", Some("bob"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_removed_members_websocket_closes_with_4403() {
    let app = spawn_app().await;
    let url = format!("ws://{}/ws?token={}", app.addr, app.token("bob"));
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    ws.send(Message::text(json!({"type":"join","boardId":"board-1"}).to_string()))
        .await
        .unwrap();
    while !matches!(ws.next().await, Some(Ok(Message::Text(t))) if t.contains("\"presence\"")) {}

    remove_bob(&app).await;
    let (mut removal_seen, mut close) = (false, None);
    tokio::time::timeout(WITHIN, async {
        while let Some(Ok(message)) = ws.next().await {
            match message {
                Message::Text(t) if t.contains("\"member_removed\"") => removal_seen = true,
                Message::Close(frame) => {
                    close = frame.map(|f| (u16::from(f.code), f.reason.to_string()));
                    break;
                }
                _ => {}
            }
        }
    })
    .await
    .expect("closed within 2 s");
    assert!(removal_seen, "the removal event came first");
    let (code, reason) = close.expect("a close frame");
    assert_eq!(code, 4403);
    assert!(reason.contains("removed from board `board-1`"), "{reason}");
}

#[tokio::test]
async fn a_removed_members_grpc_subscribe_ends_with_permission_denied() {
    let app = spawn_app().await;
    let mut client = BoardServiceClient::connect(format!("http://{}", app.addr))
        .await
        .unwrap();
    let mut req = tonic::Request::new(SubscribeRequest {
        board_id: "board-1".into(),
        ..Default::default()
    });
    req.metadata_mut()
        .insert("authorization", format!("Bearer {}", app.token("bob")).parse().unwrap());
    let mut stream = client.subscribe(req).await.unwrap().into_inner();
    app.streams_open("bob", 1).await;

    remove_bob(&app).await;
    let removal = tokio::time::timeout(WITHIN, stream.message())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let Some(SubscribeMessage::Event(bytes)) = removal.message else {
        panic!("expected an event, got {removal:?}");
    };
    let event = BoardEvent::decode(bytes).unwrap();
    assert!(
        matches!(&event.payload, Some(Payload::MemberRemoved(r)) if r.user_id == "bob"),
        "{event:?}"
    );
    let status = tokio::time::timeout(WITHIN, stream.message())
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::PermissionDenied);
    assert!(
        status.message().contains("removed from board `board-1`"),
        "{}",
        status.message()
    );
}

#[tokio::test]
async fn a_removed_members_long_poll_is_answered_with_the_removal_then_404() {
    let app = spawn_app().await;
    let seq = app.board("board-1").await.seq;
    let poll = app
        .request(
            Method::GET,
            &format!("/boards/board-1/poll?after={seq}&timeout=25"),
            Some("bob"),
        )
        .send();
    let poll = tokio::spawn(poll);
    app.streams_open("bob", 1).await;

    remove_bob(&app).await;
    // Whatever happens on the board next is not bob's to see.
    app.create_task("list-todo", "after bob left").await;
    let resp = tokio::time::timeout(WITHIN, poll)
        .await
        .expect("within 2 s")
        .unwrap()
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    let types: Vec<&str> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types.last(), Some(&"member_removed"), "{body}");
    assert!(!types.contains(&"task_created"), "{body}");
    let next = app
        .request(
            Method::GET,
            &format!("/boards/board-1/poll?after={seq}&timeout=1"),
            Some("bob"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(next.status(), StatusCode::NOT_FOUND);
}
