//! Rate limits over real sockets: changes per user and per address (one bucket across
//! REST, gRPC and the WebSocket), stream opens, each refused with the wait to retry
//! after (`Retry-After`, `google.rpc.RetryInfo`, the WebSocket `error` frame and then
//! 1008), and each while a well-behaved client is served.

use std::time::Duration;

use boardcast::Config;
use boardcast::proto::v1::{CreateTaskRequest, SubscribeRequest};
use futures_util::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tonic::Code;
use tonic_types::StatusExt;

use crate::helpers::{SseClient, TestApp, spawn_with};
use crate::roles::{Ws, grpc_client, req};

/// A server without guests whose limits are `limits` over the test defaults.
async fn limited(limits: Config) -> TestApp {
    spawn_with(Config {
        guests: Some(false),
        ..limits
    })
    .await
}

fn task(title: &str) -> Value {
    json!({"title": title, "listId": "list-todo"})
}

async fn create(app: &TestApp, user: &str, title: &str) -> reqwest::Response {
    app.send_as(Some(user), Method::POST, "/tasks", Some(task(title))).await
}

/// A refused change: 429, `Retry-After` in whole seconds, the JSON error naming
/// `whose` limit. Returns the wait.
async fn assert_refused(resp: reqwest::Response, whose: &str) -> Duration {
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "Retry-After: {retry}");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(whose), "{message}");
    assert!(message.contains("try again in 1 s"), "{message}");
    Duration::from_secs(retry)
}

#[tokio::test]
async fn a_user_over_the_change_rate_gets_429_with_retry_after_while_others_are_served() {
    let app = limited(Config {
        rate_mutations_per_user: 5,
        ..Config::ephemeral()
    })
    .await;
    // The burst: twice the rate.
    for i in 0..10 {
        assert_eq!(
            create(&app, "alice", &format!("a{i}")).await.status(),
            StatusCode::CREATED
        );
    }
    let wait = assert_refused(create(&app, "alice", "one too many").await, "changes by user `alice`").await;
    // Reads are not changes; another user has a bucket of its own.
    let read = app.send_as(Some("alice"), Method::GET, "/boards/board-1", None).await;
    assert_eq!(read.status(), StatusCode::OK);
    assert_eq!(create(&app, "bob", "bob's").await.status(), StatusCode::CREATED);
    // A refused change wrote nothing: 10 of alice's, 1 of bob's.
    assert_eq!(app.log("board-1").await.len(), 11);
    tokio::time::sleep(wait).await;
    assert_eq!(
        create(&app, "alice", "after the wait").await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn one_change_bucket_spans_rest_grpc_and_the_websocket() {
    let app = limited(Config {
        rate_mutations_per_user: 3,
        ..Config::ephemeral()
    })
    .await;
    let mut grpc = grpc_client(&app).await;
    let grpc_create = |title: &str| CreateTaskRequest {
        list_id: "list-todo".into(),
        title: title.into(),
        ..Default::default()
    };
    let mut ws = Ws::open(&app, Some("alice")).await;
    // 6 (the burst) spread over the three transports.
    for i in 0..2 {
        assert_eq!(
            create(&app, "alice", &format!("r{i}")).await.status(),
            StatusCode::CREATED
        );
        grpc.create_task(req(&app, Some("alice"), grpc_create("g")))
            .await
            .unwrap();
        let ack = ws
            .ask(json!({"type": "create_task", "requestId": format!("w{i}"), "listId": "list-todo", "title": "w"}))
            .await;
        assert_eq!(ack["type"], "ack", "{ack}");
    }
    // Now each transport refuses alice, in its own way.
    assert_refused(create(&app, "alice", "r").await, "changes by user `alice`").await;
    let status = grpc
        .create_task(req(&app, Some("alice"), grpc_create("g")))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(
        status.message().starts_with("too many changes by user `alice`"),
        "{}",
        status.message()
    );
    let retry = status.get_details_retry_info().expect("RetryInfo in the details");
    let delay = retry.retry_delay.unwrap();
    assert!(
        delay > Duration::ZERO && delay <= Duration::from_millis(400),
        "{delay:?}"
    );
    assert_eq!(status.metadata().get("retry-after").unwrap(), "1");
    let refused = ws
        .ask(json!({"type": "create_task", "requestId": "w-x", "listId": "list-todo", "title": "w"}))
        .await;
    assert_eq!(
        (
            refused["type"].as_str(),
            refused["code"].as_str(),
            refused["requestId"].as_str()
        ),
        (Some("error"), Some("rate_limited"), Some("w-x")),
        "{refused}"
    );
    // bob, on every transport, is served meanwhile.
    assert_eq!(create(&app, "bob", "b").await.status(), StatusCode::CREATED);
    grpc.create_task(req(&app, Some("bob"), grpc_create("b")))
        .await
        .unwrap();
    let mut bob = Ws::open(&app, Some("bob")).await;
    let ack = bob
        .ask(json!({"type": "create_task", "requestId": "b", "listId": "list-todo", "title": "b"}))
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
}

#[tokio::test]
async fn a_websocket_that_keeps_going_past_its_refusals_is_closed_with_1008() {
    let app = limited(Config {
        rate_mutations_per_user: 1,
        ..Config::ephemeral()
    })
    .await;
    let mut ws = Ws::open(&app, Some("alice")).await;
    let mut bob = Ws::open(&app, Some("bob")).await;
    let (mut refused, mut close) = (0, None);
    for i in 0..40 {
        let msg = json!({"type": "create_task", "requestId": format!("f{i}"), "listId": "list-todo", "title": "f"});
        if ws.0.send(Message::text(msg.to_string())).await.is_err() {
            break;
        }
    }
    while let Some(Ok(message)) = tokio::time::timeout(Duration::from_secs(5), ws.0.next()).await.unwrap() {
        match message {
            Message::Text(t) if t.as_str().contains("\"rate_limited\"") => refused += 1,
            Message::Close(frame) => {
                close = frame;
                break;
            }
            _ => {}
        }
    }
    let close = close.expect("a close frame");
    assert_eq!(u16::from(close.code), 1008, "{close:?}");
    assert!(close.reason.as_str().starts_with("rate limited"), "{close:?}");
    // Told each time first: the refusals of the window, then the one that closed it.
    assert_eq!(refused, 11, "refusals before the close");
    // bob is still served on his socket.
    let pong = bob
        .ask(json!({"type": "create_task", "requestId": "b", "listId": "list-todo", "title": "b"}))
        .await;
    assert_eq!(pong["type"], "ack", "{pong}");
}

#[tokio::test]
async fn an_address_over_the_change_rate_is_refused_whoever_uses_it() {
    let app = limited(Config {
        rate_mutations_per_ip: 3,
        ..Config::ephemeral()
    })
    .await;
    for user in ["alice", "bob", "alice", "bob", "alice", "bob"] {
        assert_eq!(create(&app, user, "x").await.status(), StatusCode::CREATED);
    }
    assert_refused(create(&app, "bob", "x").await, "changes by address 127.0.0.1").await;
    // Another address (the loopback range is all this machine's) is served.
    let other = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    let resp = other
        .post(app.url("/tasks"))
        .bearer_auth(app.token("bob"))
        .json(&task("from elsewhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn stream_opens_over_the_rate_are_refused_on_sse_grpc_and_long_polls() {
    let app = limited(Config {
        rate_streams_per_user: 2,
        ..Config::ephemeral()
    })
    .await;
    let mut open = Vec::new();
    for _ in 0..4 {
        let sse = SseClient::connect(app.request(Method::GET, "/boards/board-1/events", Some("alice"))).await;
        assert_eq!(sse.response_status, StatusCode::OK);
        open.push(sse);
    }
    let resp = app
        .send_as(Some("alice"), Method::GET, "/boards/board-1/events", None)
        .await;
    assert_refused(resp, "stream opens by user `alice`").await;
    let resp = app
        .send_as(Some("alice"), Method::GET, "/boards/board-1/poll?timeout=1", None)
        .await;
    assert_refused(resp, "stream opens by user `alice`").await;
    let mut grpc = grpc_client(&app).await;
    let sub = SubscribeRequest {
        board_id: "board-1".into(),
        ..Default::default()
    };
    let status = grpc
        .subscribe(req(&app, Some("alice"), sub.clone()))
        .await
        .err()
        .unwrap();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.get_details_retry_info().is_some());
    // bob opens his; alice's open streams still deliver.
    let bob = SseClient::connect(app.request(Method::GET, "/boards/board-1/events", Some("bob"))).await;
    assert_eq!(bob.response_status, StatusCode::OK);
    assert_eq!(create(&app, "bob", "seen").await.status(), StatusCode::CREATED);
    for sse in &mut open {
        // After the `connected` frame, the change.
        while let Some(frame) = sse.next_data().await {
            if frame.json()["type"] == "task_created" {
                assert_eq!(frame.json()["task"]["title"], "seen");
                break;
            }
        }
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_is_the_one_counted() {
    let forwarded = |app: &TestApp, chain: &str| {
        app.request(Method::POST, "/tasks", Some("alice"))
            .header("x-forwarded-for", chain)
            .json(&task("via the proxy"))
    };
    let app = limited(Config {
        rate_mutations_per_ip: 1,
        trust_proxy: true,
        ..Config::ephemeral()
    })
    .await;
    // The last entry is the one the proxy appended; earlier ones are the client's word.
    for _ in 0..2 {
        let resp = forwarded(&app, "1.1.1.1, 203.0.113.7").send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
    }
    let resp = forwarded(&app, "9.9.9.9, 203.0.113.7").send().await.unwrap();
    assert_refused(resp, "changes by address 203.0.113.7").await;
    let resp = forwarded(&app, "203.0.113.8").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED, "another client behind the proxy");
    // Without --trust-proxy the header is ignored: every request is 127.0.0.1's.
    let app = limited(Config {
        rate_mutations_per_ip: 1,
        ..Config::ephemeral()
    })
    .await;
    for chain in ["203.0.113.1", "203.0.113.2"] {
        let resp = forwarded(&app, chain).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
    }
    assert_refused(
        forwarded(&app, "203.0.113.3").send().await.unwrap(),
        "address 127.0.0.1",
    )
    .await;
}
