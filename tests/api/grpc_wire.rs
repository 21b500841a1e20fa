//! gRPC as the wire has it (issue 14): a body that is not protobuf, and the deadline a
//! client sets with `grpc-timeout`. Raw HTTP/2 where the tonic client would hide what
//! the server answered (it decodes for us, and enforces a deadline itself).

use std::time::{Duration, Instant};

use boardcast::proto::v1::board_service_client::BoardServiceClient;
use boardcast::proto::v1::{GetBoardRequest, SubscribeRequest};
use tonic::Code;

use crate::helpers::{TestApp, as_user, spawn_app};

fn h2() -> reqwest::Client {
    reqwest::Client::builder().http2_prior_knowledge().build().unwrap()
}

/// One gRPC frame: uncompressed, length-prefixed.
fn frame(message: &[u8]) -> Vec<u8> {
    let mut body = vec![0];
    body.extend_from_slice(&(message.len() as u32).to_be_bytes());
    body.extend_from_slice(message);
    body
}

/// A raw unary-framed call; answers the grpc-status and grpc-message of a
/// trailers-only answer (what an error before any message is).
async fn call(app: &TestApp, method: &str, body: Vec<u8>, timeout: Option<&str>) -> (String, String) {
    let mut req = h2()
        .post(app.url(&format!("/boardcast.v1.BoardService/{method}")))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("authorization", format!("Bearer {}", app.token("alice")))
        .body(body);
    if let Some(t) = timeout {
        req = req.header("grpc-timeout", t);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("a trailers-only answer has {name}: {:?}", resp.headers()))
    };
    (header("grpc-status"), percent_decoded(&header("grpc-message")))
}

/// grpc-message is percent-encoded (its ASCII, in practice, here).
fn percent_decoded(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn malformed_protobuf_is_invalid_argument_not_internal() {
    let app = spawn_app().await;
    // Field 1 as a length-delimited string claiming 100 bytes, with 3 there; then a
    // wire type (7) that does not exist.
    for garbage in [&[0x0a, 100, b'a', b'b', b'c'][..], &[0x0f, 0xff, 0xff]] {
        for method in ["GetBoard", "Subscribe", "CreateTask"] {
            let (status, message) = call(&app, method, frame(garbage), None).await;
            assert_eq!(
                status, "3",
                "{method} {garbage:?}: INVALID_ARGUMENT, got {status} {message}"
            );
            assert!(message.contains("is not a valid"), "{method}: {message}");
        }
    }
    // The well-formed message still works on the same path.
    let ok = GetBoardRequest {
        board_id: "board-1".into(),
        ..Default::default()
    };
    let resp = h2()
        .post(app.url("/boardcast.v1.BoardService/GetBoard"))
        .header("content-type", "application/grpc")
        .header("authorization", format!("Bearer {}", app.token("alice")))
        .body(frame(&prost::Message::encode_to_vec(&ok)))
        .send()
        .await
        .unwrap();
    assert!(
        resp.headers().get("grpc-status").is_none(),
        "a normal answer: {:?}",
        resp.headers()
    );
    assert!(resp.bytes().await.unwrap().len() > 5, "a message came back");
}

#[tokio::test]
async fn grpc_timeout_is_honoured_on_unary_and_streaming_calls() {
    let app = spawn_app().await;
    let get_board = frame(&prost::Message::encode_to_vec(&GetBoardRequest {
        board_id: "board-1".into(),
        ..Default::default()
    }));

    // Unary: hold the store's one connection (an in-memory database has one), so the
    // call waits for it, deterministically, past its deadline.
    let held = app.state.core.store().write().await.unwrap();
    let started = Instant::now();
    let (status, message) = tokio::time::timeout(
        Duration::from_secs(5),
        call(&app, "GetBoard", get_board.clone(), Some("300m")),
    )
    .await
    .expect("the server answers at the deadline, not when the store is free");
    let waited = started.elapsed();
    assert_eq!(status, "4", "DEADLINE_EXCEEDED, got {status} {message}");
    assert!(message.contains("deadline"), "{message}");
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(3),
        "answered at the deadline, after {waited:?}"
    );
    drop(held);
    // Free again, the same call within a deadline is answered.
    let resp = h2()
        .post(app.url("/boardcast.v1.BoardService/GetBoard"))
        .header("content-type", "application/grpc")
        .header("grpc-timeout", "5S")
        .header("authorization", format!("Bearer {}", app.token("alice")))
        .body(get_board)
        .send()
        .await
        .unwrap();
    assert!(resp.headers().get("grpc-status").is_none(), "{:?}", resp.headers());

    // Streaming, with a real tonic client: an idle Subscribe ends at the deadline.
    let mut client = BoardServiceClient::connect(format!("http://{}", app.addr))
        .await
        .unwrap();
    let mut req = as_user(
        &app,
        "alice",
        SubscribeRequest {
            board_id: "board-1".into(),
            ..Default::default()
        },
    );
    req.set_timeout(Duration::from_millis(400));
    let started = Instant::now();
    let mut stream = client.subscribe(req).await.unwrap().into_inner();
    let ended = tokio::time::timeout(Duration::from_secs(5), stream.message())
        .await
        .expect("the stream ends by itself at its deadline");
    let waited = started.elapsed();
    let status = ended.expect_err("the stream ends with a status");
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert!(
        waited >= Duration::from_millis(400),
        "not before the deadline: {waited:?}"
    );

    // Without a deadline the same stream stays open.
    let mut stream = client
        .subscribe(as_user(
            &app,
            "alice",
            SubscribeRequest {
                board_id: "board-1".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(
        tokio::time::timeout(Duration::from_millis(700), stream.message())
            .await
            .is_err(),
        "no deadline, no end"
    );
}
