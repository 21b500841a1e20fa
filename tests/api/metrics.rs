//! `GET /metrics` scraped before and after a scripted workload over real sockets
//! (REST creates, an SSE and a WebSocket subscriber, a gRPC call, 404s): every counter
//! moved by exactly what the workload did, and the gauges came back once it ended.
//! And the request id: taken from the client or made, echoed on REST, on an SSE
//! stream's answer and in gRPC metadata.

use std::collections::HashMap;
use std::time::Duration;

use boardcast::proto::v1::GetBoardRequest;
use boardcast::proto::v1::board_service_client::BoardServiceClient;
use futures_util::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{SseClient, TestApp, big_task, spawn_app, spawn_with};

/// One scrape: each sample's value by its name with labels, as written.
struct Scrape(HashMap<String, f64>);

impl Scrape {
    fn get(&self, sample: &str) -> f64 {
        self.0.get(sample).copied().unwrap_or(0.0)
    }
}

async fn scrape(app: &TestApp) -> Scrape {
    let resp = app.get("/metrics").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = resp.text().await.unwrap();
    let samples = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (name, value) = l.rsplit_once(' ').unwrap();
            (name.to_owned(), value.parse().unwrap())
        })
        .collect();
    Scrape(samples)
}

/// Scrapes until `sample` is `want` (counted after the write that carried an event, so
/// a moment after the client read it), then says it is exactly that.
async fn settled(app: &TestApp, sample: &str, want: f64) -> Scrape {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let now = scrape(app).await;
        if now.get(sample) == want || tokio::time::Instant::now() > deadline {
            assert_eq!(now.get(sample), want, "{sample}");
            return now;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn ws_next(ws: &mut Ws, kind: &str) -> Value {
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Message::Text(t) = ws.next().await.unwrap().unwrap() {
                let v: Value = serde_json::from_str(t.as_str()).unwrap();
                if v["type"] == kind {
                    return v;
                }
            }
        }
    })
    .await
    .expect("a WebSocket frame within 5 s")
}

const PUBLISHED: &str = "boardcast_events_published_total";
const SSE_DELIVERED: &str = "boardcast_events_delivered_total{transport=\"sse\"}";
const WS_DELIVERED: &str = "boardcast_events_delivered_total{transport=\"ws\"}";
const CREATES: &str = "boardcast_http_request_duration_seconds_count{route=\"/tasks\",method=\"POST\",status=\"201\"}";
const TASK_404: &str =
    "boardcast_http_request_duration_seconds_count{route=\"/tasks/{task_id}\",method=\"GET\",status=\"404\"}";
const UNMATCHED_404: &str =
    "boardcast_http_request_duration_seconds_count{route=\"unmatched\",method=\"GET\",status=\"404\"}";
const SSE_REQUEST: &str =
    "boardcast_http_request_duration_seconds_count{route=\"/boards/{board_id}/events\",method=\"GET\",status=\"200\"}";
const GRPC_GET_BOARD: &str =
    "boardcast_grpc_request_duration_seconds_count{method=\"boardcast.v1.BoardService/GetBoard\",code=\"OK\"}";
const GRPC_NOT_FOUND: &str =
    "boardcast_grpc_request_duration_seconds_count{method=\"boardcast.v1.BoardService/GetBoard\",code=\"NOT_FOUND\"}";
const COMMITS: &str = "boardcast_store_commit_seconds_count";
const LATENCY: &str = "boardcast_delivery_latency_seconds_count";
const ROOMS: &str = "boardcast_presence_rooms";

fn open(kind: &str, transport: &str) -> String {
    format!("boardcast_{kind}_open{{transport=\"{transport}\"}}")
}

#[tokio::test]
async fn a_scripted_workload_moves_every_counter_by_exactly_what_it_did() {
    let app = spawn_app().await;
    let before = scrape(&app).await;

    let mut sse = SseClient::connect(app.request(Method::GET, "/boards/board-1/events", None)).await;
    assert_eq!(sse.next_data().await.unwrap().json()["type"], "connected");
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", app.addr))
        .await
        .unwrap();
    ws_next(&mut ws, "welcome").await;
    let join = json!({"type": "join", "boardId": "board-1"}).to_string();
    ws.send(Message::text(join)).await.unwrap();
    ws_next(&mut ws, "presence").await;

    let during = scrape(&app).await;
    for (kind, transport) in [
        ("streams", "sse"),
        ("streams", "ws"),
        ("connections", "sse"),
        ("connections", "ws"),
    ] {
        let sample = open(kind, transport);
        assert_eq!(during.get(&sample), before.get(&sample) + 1.0, "{sample}");
    }
    assert_eq!(during.get(ROOMS), 1.0);

    for i in 0..3 {
        app.create_task("list-todo", &format!("metered {i}")).await;
    }
    for _ in 0..3 {
        assert_eq!(sse.next_data().await.unwrap().event.as_deref(), Some("task_created"));
        ws_next(&mut ws, "task_created").await;
    }
    let mut grpc = BoardServiceClient::connect(format!("http://{}", app.addr))
        .await
        .unwrap();
    let board = GetBoardRequest {
        board_id: "board-1".into(),
        ..Default::default()
    };
    grpc.get_board(board).await.unwrap();
    let missing = GetBoardRequest {
        board_id: "no-such-board".into(),
        ..Default::default()
    };
    assert_eq!(grpc.get_board(missing).await.unwrap_err().code(), tonic::Code::NotFound);
    assert_eq!(app.get("/tasks/no-such-task").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get("/no/such/route").await.status(), StatusCode::NOT_FOUND);

    settled(&app, SSE_DELIVERED, before.get(SSE_DELIVERED) + 3.0).await;
    settled(&app, WS_DELIVERED, before.get(WS_DELIVERED) + 3.0).await;
    drop(sse);
    ws.close(None).await.unwrap();
    drop(ws);
    drop(grpc);
    settled(&app, &open("streams", "ws"), before.get(&open("streams", "ws"))).await;
    let after = settled(
        &app,
        &open("connections", "sse"),
        before.get(&open("connections", "sse")),
    )
    .await;

    let moved = |sample: &str| after.get(sample) - before.get(sample);
    assert_eq!(moved(PUBLISHED), 3.0);
    assert_eq!(moved(SSE_DELIVERED), 3.0);
    assert_eq!(moved(WS_DELIVERED), 3.0);
    assert_eq!(moved(CREATES), 3.0);
    assert_eq!(moved(TASK_404), 1.0);
    assert_eq!(moved(UNMATCHED_404), 1.0);
    assert_eq!(moved(SSE_REQUEST), 1.0);
    assert_eq!(moved(GRPC_GET_BOARD), 1.0);
    assert_eq!(moved(GRPC_NOT_FOUND), 1.0);
    // An in-memory database commits each write alone: the three creates.
    assert_eq!(moved(COMMITS), 3.0);
    assert_eq!(moved("boardcast_store_commit_group_size_sum"), 3.0);
    // One observation per write carrying live events: at least one per subscriber,
    // at most one per event.
    assert!((2.0..=6.0).contains(&moved(LATENCY)), "{}", moved(LATENCY));
    for transport in ["sse", "ws", "grpc", "poll"] {
        let sample = open("streams", transport);
        assert_eq!(after.get(&sample), 0.0, "{sample}");
        let sample = open("connections", transport);
        assert_eq!(after.get(&sample), 0.0, "{sample}");
    }
    assert_eq!(after.get("boardcast_subscribers_lagged_total{transport=\"sse\"}"), 0.0);
    assert_eq!(after.get(ROOMS), 0.0);
}

#[tokio::test]
async fn a_lagging_subscriber_is_counted_once_cut_off() {
    let app = spawn_with(boardcast::Config {
        stream_buffer: 2,
        ..boardcast::Config::ephemeral()
    })
    .await;
    // A small flow-control window: once it is full the server stops taking events
    // from the subscription, and its ring of two overflows.
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", app.addr))
        .unwrap()
        .initial_stream_window_size(65_535)
        .initial_connection_window_size(65_535)
        .connect()
        .await
        .unwrap();
    let mut grpc = BoardServiceClient::new(channel);
    let request = boardcast::proto::v1::SubscribeRequest {
        board_id: "board-1".into(),
        ..Default::default()
    };
    // Subscribed, then not read while more events than the ring holds are published.
    let mut stream = grpc.subscribe(request).await.unwrap().into_inner();
    // Large events, so the h2 flow-control window holds few of them.
    for i in 0..100 {
        let created = app.send_json(Method::POST, "/tasks", big_task(i)).await;
        assert_eq!(created.status(), StatusCode::CREATED);
    }
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match stream.message().await {
                Ok(Some(_)) => {}
                Ok(None) => return None,
                Err(status) => return Some(status.code()),
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(ended, Some(tonic::Code::ResourceExhausted));
    settled(&app, "boardcast_subscribers_lagged_total{transport=\"grpc\"}", 1.0).await;
    let after = scrape(&app).await;
    assert_eq!(after.get(PUBLISHED), 100.0);
}

#[tokio::test]
async fn metrics_false_takes_the_route_away() {
    let app = spawn_with(boardcast::Config {
        metrics: false,
        ..boardcast::Config::ephemeral()
    })
    .await;
    assert_eq!(app.get("/metrics").await.status(), StatusCode::NOT_FOUND);
}

const ID: &str = "x-request-id";

/// A request id the server made: a UUID v7.
fn generated(value: Option<&reqwest::header::HeaderValue>) -> bool {
    let text = value.expect("an x-request-id").to_str().unwrap();
    uuid::Uuid::parse_str(text).is_ok_and(|u| u.get_version_num() == 7)
}

#[tokio::test]
async fn the_request_id_is_echoed_or_made_on_rest_sse_and_grpc() {
    let app = spawn_app().await;
    let given = app.request(Method::GET, "/boards", None).header(ID, "trace-42.a_b:c");
    assert_eq!(given.send().await.unwrap().headers()[ID], "trace-42.a_b:c");
    let none = app.get("/boards").await;
    assert!(generated(none.headers().get(ID)));
    // Not sane (a space; too long): replaced, not echoed.
    for bad in ["two words", &"x".repeat(65)] {
        let resp = app
            .request(Method::GET, "/boards", None)
            .header(ID, bad)
            .send()
            .await
            .unwrap();
        assert!(generated(resp.headers().get(ID)), "{bad}");
    }
    // An error has one too.
    assert!(generated(app.get("/no/such/route").await.headers().get(ID)));

    // The SSE answer, written on the socket by the HTTP/1 fast path.
    let sse = app
        .request(Method::GET, "/boards/board-1/events", None)
        .header(ID, "sse-stream-1")
        .send()
        .await
        .unwrap();
    assert_eq!(sse.headers()["content-type"], "text/event-stream");
    assert_eq!(sse.headers()[ID], "sse-stream-1");
    let sse = app.get("/boards/board-1/events").await;
    assert!(generated(sse.headers().get(ID)));

    let mut grpc = BoardServiceClient::connect(format!("http://{}", app.addr))
        .await
        .unwrap();
    let mut request = tonic::Request::new(GetBoardRequest {
        board_id: "board-1".into(),
        ..Default::default()
    });
    request.metadata_mut().insert(ID, "grpc-call-7".parse().unwrap());
    let answer = grpc.get_board(request).await.unwrap();
    assert_eq!(answer.metadata().get(ID).unwrap(), "grpc-call-7");
    let answer = grpc
        .get_board(GetBoardRequest {
            board_id: "board-1".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let made = answer.metadata().get(ID).unwrap().to_str().unwrap();
    assert!(
        uuid::Uuid::parse_str(made).is_ok_and(|u| u.get_version_num() == 7),
        "{made}"
    );
    // A refused call echoes it too (its status travels in the head).
    let mut request = tonic::Request::new(GetBoardRequest {
        board_id: "no-such-board".into(),
        ..Default::default()
    });
    request.metadata_mut().insert(ID, "grpc-refused".parse().unwrap());
    let status = grpc.get_board(request).await.unwrap_err();
    assert_eq!(status.metadata().get(ID).unwrap(), "grpc-refused");
}
