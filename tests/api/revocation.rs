//! Revocation reaches open streams: signing out or revoking a token ends that
//! credential's open SSE stream (`event: revoked`), WebSocket (close 4401), long poll
//! (401) and gRPC Subscribe (UNAUTHENTICATED) within 2 s, and nobody else's.

use std::time::Duration;

use boardcast::proto::v1::SubscribeRequest;
use boardcast::proto::v1::board_service_client::BoardServiceClient;
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{SseClient, TestApp, spawn_app};

const WITHIN: Duration = Duration::from_secs(2);

/// A new session for `user`, signed in over REST, and its credential id.
async fn session(app: &TestApp, user: &str) -> (String, String) {
    let body: Value = app
        .http
        .post(app.url("/auth/login"))
        .json(&json!({"username": user, "password": format!("{user}-demo-pw")}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = body["token"].as_str().unwrap().to_owned();
    let actor = app.state.auth.actor(Some(&token), None).await.unwrap();
    (token, actor.credential_id.unwrap())
}

async fn logout(app: &TestApp, token: &str) {
    let resp = app
        .http
        .post(app.url("/auth/logout"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

/// Waits until `n` open streams watch the credential (they are registered, so a
/// revocation cannot slip in before them).
async fn watched_by(app: &TestApp, credential: &str, n: usize) {
    tokio::time::timeout(Duration::from_secs(5), async {
        while app.state.core.streams_of_credential(credential) < n {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the streams are open");
}

#[tokio::test]
async fn signing_out_ends_the_sessions_sse_stream_with_revoked() {
    let app = spawn_app().await;
    let (token, credential) = session(&app, "alice").await;
    let mut sse = SseClient::connect(app.http.get(app.url("/boards/board-1/events")).bearer_auth(&token)).await;
    let mut other =
        SseClient::connect(app.request(reqwest::Method::GET, "/boards/board-1/events", Some("alice"))).await;
    assert_eq!(sse.next_data().await.unwrap().json()["type"], "connected");
    assert_eq!(other.next_data().await.unwrap().json()["type"], "connected");
    watched_by(&app, &credential, 1).await;

    logout(&app, &token).await;
    let frame = tokio::time::timeout(WITHIN, sse.next_data())
        .await
        .expect("within 2 s")
        .unwrap();
    assert_eq!(frame.event.as_deref(), Some("revoked"));
    assert_eq!(frame.id, None, "the resume point stays the last event");
    assert_eq!(frame.json()["type"], "revoked");
    assert!(
        frame.json()["reason"]
            .as_str()
            .unwrap()
            .contains("signed out or revoked")
    );
    assert!(
        tokio::time::timeout(WITHIN, sse.next()).await.unwrap().is_none(),
        "the stream ended"
    );

    // The same user's other session is still followed.
    app.create_task("list-todo", "still live").await;
    assert_eq!(other.next_data().await.unwrap().json()["type"], "task_created");
}

#[tokio::test]
async fn revoking_a_token_closes_its_websocket_with_4401() {
    let app = spawn_app().await;
    let (session, _) = session(&app, "bob").await;
    let created = app.create_token(&session, "script").await;
    let (token, id) = (
        created["token"].as_str().unwrap(),
        created["apiToken"]["id"].as_str().unwrap(),
    );
    let url = |t: &str| format!("ws://{}/ws?token={t}", app.addr);
    let (mut joined, _) = tokio_tungstenite::connect_async(url(token)).await.unwrap();
    let (mut idle, _) = tokio_tungstenite::connect_async(url(token)).await.unwrap();
    joined
        .send(Message::text(json!({"type":"join","boardId":"board-1"}).to_string()))
        .await
        .unwrap();
    // Welcome, then the room's presence once joined.
    let mut seen = Vec::new();
    while !seen.iter().any(|t: &String| t.contains("\"presence\"")) {
        if let Message::Text(t) = joined.next().await.unwrap().unwrap() {
            seen.push(t.to_string());
        }
    }
    // Two connections and the joined one's subscription.
    watched_by(&app, id, 3).await;

    let resp = app
        .http
        .delete(app.url(&format!("/me/tokens/{id}")))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    for ws in [&mut joined, &mut idle] {
        let close = tokio::time::timeout(WITHIN, async {
            loop {
                match ws.next().await {
                    Some(Ok(Message::Close(Some(frame)))) => return (u16::from(frame.code), frame.reason.to_string()),
                    Some(Ok(_)) => {}
                    other => panic!("no close frame: {other:?}"),
                }
            }
        })
        .await
        .expect("closed within 2 s");
        assert_eq!(close.0, 4401);
        assert!(close.1.contains("revoked"), "{}", close.1);
    }
}

#[tokio::test]
async fn signing_out_ends_a_waiting_long_poll_with_401() {
    let app = spawn_app().await;
    let (token, credential) = session(&app, "carol").await;
    let poll = app
        .http
        .get(app.url("/boards/board-2/poll?after=0&timeout=25"))
        .bearer_auth(&token)
        .send();
    let poll = tokio::spawn(poll);
    watched_by(&app, &credential, 1).await;
    logout(&app, &token).await;
    let resp = tokio::time::timeout(WITHIN, poll)
        .await
        .expect("answered within 2 s")
        .unwrap()
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["error"]["message"].as_str().unwrap().contains("has ended"),
        "{body}"
    );
}

#[tokio::test]
async fn signing_out_ends_grpc_subscribe_with_unauthenticated() {
    let app = spawn_app().await;
    let (token, credential) = session(&app, "alice").await;
    let mut client = BoardServiceClient::connect(format!("http://{}", app.addr))
        .await
        .unwrap();
    let mut req = tonic::Request::new(SubscribeRequest {
        board_id: "board-1".into(),
        ..Default::default()
    });
    req.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let mut stream = client.subscribe(req).await.unwrap().into_inner();
    watched_by(&app, &credential, 1).await;
    logout(&app, &token).await;
    let end = tokio::time::timeout(WITHIN, stream.message())
        .await
        .expect("within 2 s");
    let status = end.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
    assert!(
        status.message().contains("signed out or revoked"),
        "{}",
        status.message()
    );
}
