//! `GET /boards/:id` (and gRPC `GetBoard`) a page of tasks at a time (issue 14): the
//! answer is bounded however many tasks the board holds, and following
//! `nextPageToken` yields every task once, in the board's order.

use boardcast::proto::v1::GetBoardRequest;
use boardcast::proto::v1::board_service_client::BoardServiceClient;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{as_user, error_body, spawn_app};

#[tokio::test]
async fn get_board_is_paginated() {
    let app = spawn_app().await;
    // 5 seeded tasks and 600 more, across two lists: more than a default page.
    for batch in 0..12 {
        let creates = (0..50).map(|i| {
            let list = if i % 2 == 0 { "list-todo" } else { "list-done" };
            app.send_json(
                reqwest::Method::POST,
                "/tasks",
                json!({"title": format!("task {batch}-{i}"), "listId": list}),
            )
        });
        for resp in futures_util::future::join_all(creates).await {
            assert_eq!(resp.status(), StatusCode::CREATED);
        }
    }
    let all: Value = app.get("/boards/board-1/tasks").await.json().await.unwrap();
    let order: Vec<&str> = all["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(order.len(), 605);

    // The default page is bounded, and says where the rest is.
    let first: Value = app.get("/boards/board-1").await.json().await.unwrap();
    assert_eq!(first["tasks"].as_array().unwrap().len(), 500);
    assert_eq!(first["lists"].as_array().unwrap().len(), 3, "lists come whole");
    assert_eq!(first["board"]["id"], "board-1");
    let token = first["nextPageToken"].as_str().unwrap();
    assert!(!token.is_empty());

    // Following the tokens, small pages, gives each task once, in order.
    let mut seen: Vec<String> = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let page: Value = app
            .get(&format!("/boards/board-1?limit=64&pageToken={token}"))
            .await
            .json()
            .await
            .unwrap();
        let tasks = page["tasks"].as_array().unwrap();
        assert!(tasks.len() <= 64);
        seen.extend(tasks.iter().map(|t| t["id"].as_str().unwrap().to_owned()));
        assert_eq!(page["seq"], first["seq"]);
        pages += 1;
        token = page["nextPageToken"].as_str().unwrap().to_owned();
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(pages, 10, "605 tasks in pages of 64");
    assert_eq!(seen, order);

    // A small board still comes whole, with no next page (the seed walkthrough's).
    let fresh = spawn_app().await;
    let board: Value = fresh.get("/boards/board-1").await.json().await.unwrap();
    assert_eq!(board["tasks"].as_array().unwrap().len(), 5);
    assert_eq!(board["nextPageToken"], "");

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("pageToken=nonsense", "pageToken"),
    ] {
        let body = error_body(
            app.get(&format!("/boards/board-1?{query}")).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(body["error"]["field"], field, "{query}");
    }

    // The same over gRPC.
    let mut grpc = BoardServiceClient::connect(format!("http://{}", app.addr))
        .await
        .unwrap();
    let page = grpc
        .get_board(as_user(
            &app,
            "alice",
            GetBoardRequest {
                board_id: "board-1".into(),
                limit: Some(600),
                page_token: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.tasks.len(), 600);
    let rest = grpc
        .get_board(as_user(
            &app,
            "alice",
            GetBoardRequest {
                board_id: "board-1".into(),
                limit: Some(600),
                page_token: page.next_page_token,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rest.tasks.len(), 5);
    assert!(rest.next_page_token.is_empty());
}
