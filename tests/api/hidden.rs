//! A non-member learns nothing: its 404 on an existing board is byte-identical
//! (status, headers, body; WebSocket error frame; gRPC status) to the 404 on a board
//! that does not exist, on REST, SSE, long and short polling, WebSocket and gRPC.

use boardcast::proto::v1::{GetBoardRequest, SubscribeRequest};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::TestApp;
use crate::roles::{Ws, grpc_client, req, setup};

/// The answers a user gets about `board_id` on every transport, as bytes that must
/// not tell a hidden board from a missing one.
async fn answers(app: &TestApp, user: &str, board_id: &str) -> Vec<String> {
    let mut out = Vec::new();
    for path in [
        format!("/boards/{board_id}"),
        format!("/boards/{board_id}/events"),
        format!("/boards/{board_id}/poll?after=0&timeout=1"),
        format!("/boards/{board_id}/changes?after=0"),
        format!("/boards/{board_id}/members"),
        format!("/boards/{board_id}/labels"),
        format!("/boards/{board_id}/activity"),
    ] {
        let resp = app.send_as(Some(user), Method::GET, &path, None).await;
        let mut headers: Vec<String> = (resp.headers().iter())
            // Both differ on every answer (the request id is made fresh for each).
            .filter(|(k, _)| *k != "date" && *k != "x-request-id")
            .map(|(k, v)| format!("{k}: {}", v.to_str().unwrap()))
            .collect();
        headers.sort();
        out.push(format!("{} {headers:?} {}", resp.status(), resp.text().await.unwrap()));
    }
    let mut ws = Ws::open(app, Some(user)).await;
    out.push(ws.ask(json!({"type": "join", "boardId": board_id})).await.to_string());
    let mut c = grpc_client(app).await;
    let sub = SubscribeRequest {
        board_id: board_id.into(),
        ..Default::default()
    };
    let status = c.subscribe(req(app, Some(user), sub)).await.err().unwrap();
    out.push(format!("{:?} {}", status.code(), status.message()));
    let status = c
        .get_board(req(
            app,
            Some(user),
            GetBoardRequest {
                board_id: board_id.into(),
                ..Default::default()
            },
        ))
        .await
        .err()
        .unwrap();
    out.push(format!("{:?} {}", status.code(), status.message()));
    out
}

#[tokio::test]
async fn a_hidden_board_answers_byte_for_byte_like_a_missing_one() {
    let app = setup().await;
    let hidden = answers(&app, "nina", "board-1").await;
    assert!(hidden[0].starts_with("404 Not Found"), "{}", hidden[0]);
    assert!(
        hidden.iter().all(|a| a.contains("board `board-1` not found")),
        "{hidden:#?}"
    );
    // The same id once it no longer exists: deleted by its owner.
    let resp = app
        .send_as(Some("alice"), Method::DELETE, "/boards/board-1", None)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(answers(&app, "nina", "board-1").await, hidden, "nina cannot tell");
    assert_eq!(answers(&app, "alice", "board-1").await, hidden, "nor its former owner");
    // And any id that never existed answers the same but for the id it names.
    let never = answers(&app, "nina", "board-x").await;
    let never: Vec<String> = never.iter().map(|a| a.replace("board-x", "board-1")).collect();
    assert_eq!(never, hidden);
}
