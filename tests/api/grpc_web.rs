//! gRPC-Web on the shared port over plain HTTP/1.1 (what a browser without h2 speaks),
//! framed by hand: each message is a flag byte, a 4-byte big-endian length and the
//! message; the status comes in a last frame flagged 0x80 (or, for a trailers-only
//! answer, in the headers). Unary calls, Subscribe, errors and the CORS preflight of a
//! gRPC path.

use std::collections::HashMap;

use boardcast::Config;
use boardcast::proto::SubscribeResponse;
use boardcast::proto::v1::{GetBoardRequest, GetBoardResponse, SubscribeRequest};
use bytes::{Buf, BytesMut};
use futures_util::StreamExt;
use prost::Message as _;
use reqwest::{Method, StatusCode, Version};

use crate::helpers::{TestApp, spawn_app, spawn_with};

const GET_BOARD: &str = "/boardcast.v1.BoardService/GetBoard";
const SUBSCRIBE: &str = "/boardcast.v1.BoardService/Subscribe";

fn frame(message: &impl prost::Message) -> Vec<u8> {
    let body = message.encode_to_vec();
    let mut framed = vec![0u8];
    framed.extend_from_slice(&u32::try_from(body.len()).unwrap().to_be_bytes());
    framed.extend_from_slice(&body);
    framed
}

/// What a gRPC-Web answer's frames held: the messages, then the trailers.
#[derive(Debug, Default)]
struct Frames {
    messages: Vec<Vec<u8>>,
    trailers: Option<HashMap<String, String>>,
}

impl Frames {
    /// Takes every whole frame off the front of `buf`.
    fn take(&mut self, buf: &mut BytesMut) {
        while buf.len() >= 5 {
            let len = u32::from_be_bytes(buf[1..5].try_into().unwrap()) as usize;
            if buf.len() < 5 + len {
                return;
            }
            let flag = buf[0];
            buf.advance(5);
            let payload = buf.split_to(len).to_vec();
            if flag & 0x80 == 0 {
                assert!(self.trailers.is_none(), "a message after the trailers");
                self.messages.push(payload);
            } else {
                let text = String::from_utf8(payload).unwrap();
                let trailers = text
                    .split("\r\n")
                    .filter(|l| !l.is_empty())
                    .map(|l| {
                        let (k, v) = l.split_once(':').unwrap();
                        (k.trim().to_ascii_lowercase(), v.trim().to_owned())
                    })
                    .collect();
                self.trailers = Some(trailers);
            }
        }
    }
}

fn call(app: &TestApp, path: &str, user: Option<&str>, body: Vec<u8>) -> reqwest::RequestBuilder {
    call_as(app, "application/grpc-web+proto", path, user, body)
}

fn call_as(
    app: &TestApp,
    content_type: &str,
    path: &str,
    user: Option<&str>,
    body: Vec<u8>,
) -> reqwest::RequestBuilder {
    let req = app
        .http
        .post(app.url(path))
        .version(Version::HTTP_11)
        .header("content-type", content_type)
        .header("x-grpc-web", "1")
        .body(body);
    match user {
        Some(u) => req.header("authorization", format!("Bearer {}", app.token(u))),
        None => req,
    }
}

/// A unary call's answer: its HTTP head, its frames and its grpc-status (from the
/// trailer frame, or the headers of a trailers-only answer).
async fn unary(resp: reqwest::Response) -> (Frames, String, Option<String>) {
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.version(), Version::HTTP_11);
    assert_eq!(resp.headers()["content-type"], "application/grpc-web+proto");
    let head = |name: &str| resp.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
    let (status, message) = (head("grpc-status"), head("grpc-message"));
    let mut buf = BytesMut::from(&resp.bytes().await.unwrap()[..]);
    let mut frames = Frames::default();
    frames.take(&mut buf);
    assert!(buf.is_empty(), "no bytes after the last frame");
    let trailers = frames.trailers.clone().unwrap_or_default();
    let status = status
        .or_else(|| trailers.get("grpc-status").cloned())
        .expect("a grpc-status");
    let message = message.or_else(|| trailers.get("grpc-message").cloned());
    (frames, status, message)
}

#[tokio::test]
async fn a_unary_call_over_http1_returns_the_seeded_board() {
    let app = spawn_app().await;
    let request = GetBoardRequest {
        board_id: "board-1".into(),
        ..Default::default()
    };
    let resp = call(&app, GET_BOARD, Some("alice"), frame(&request))
        .send()
        .await
        .unwrap();
    let (frames, status, _) = unary(resp).await;
    assert_eq!(status, "0");
    assert_eq!(frames.messages.len(), 1);
    assert!(frames.trailers.is_some(), "the status in a trailer frame");
    let board = GetBoardResponse::decode(&frames.messages[0][..]).unwrap();
    assert_eq!(board.board.unwrap().name, "Launch");
    assert_eq!((board.lists.len(), board.tasks.len(), board.seq), (3, 5, 0));
}

#[tokio::test]
async fn errors_keep_their_grpc_codes() {
    let app = spawn_app().await;
    let missing = GetBoardRequest {
        board_id: "no-such-board".into(),
        ..Default::default()
    };
    let resp = call(&app, GET_BOARD, Some("alice"), frame(&missing))
        .send()
        .await
        .unwrap();
    let (frames, status, message) = unary(resp).await;
    assert_eq!(status, "5", "NOT_FOUND");
    assert!(frames.messages.is_empty());
    assert!(message.unwrap().contains("no-such-board"));

    let resp = call(&app, GET_BOARD, None, frame(&missing))
        .header("authorization", "Bearer bc_not-a-token")
        .send()
        .await
        .unwrap();
    let (_, status, _) = unary(resp).await;
    assert_eq!(status, "16", "UNAUTHENTICATED");
}

#[tokio::test]
async fn grpc_web_text_is_base64_both_ways() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let app = spawn_app().await;
    let request = GetBoardRequest {
        board_id: "board-1".into(),
        ..Default::default()
    };
    let body = b64.encode(frame(&request)).into_bytes();
    // The answer's encoding follows Accept, as grpc-web's text mode sends it.
    let resp = call_as(&app, "application/grpc-web-text", GET_BOARD, Some("alice"), body)
        .header("accept", "application/grpc-web-text")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/grpc-web-text+proto");
    let text = resp.text().await.unwrap();
    // Each chunk is base64 of its own: a segment ends after its run of padding ("=" or
    // "=="); chunks without padding are whole quads and concatenate.
    let mut buf = BytesMut::new();
    let mut segment = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        segment.push(c);
        if c == '=' && chars.peek() != Some(&'=') {
            buf.extend_from_slice(&b64.decode(&segment).unwrap());
            segment.clear();
        }
    }
    buf.extend_from_slice(&b64.decode(&segment).unwrap());
    let mut frames = Frames::default();
    frames.take(&mut buf);
    assert!(buf.is_empty());
    assert_eq!(frames.trailers.unwrap()["grpc-status"], "0");
    let board = GetBoardResponse::decode(&frames.messages[0][..]).unwrap();
    assert_eq!(board.tasks.len(), 5);
}

#[tokio::test]
async fn subscribe_over_http1_streams_the_writes_in_order() {
    let app = spawn_app().await;
    let request = SubscribeRequest {
        board_id: "board-1".into(),
        ..Default::default()
    };
    let resp = call(&app, SUBSCRIBE, Some("bob"), frame(&request))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.version(), Version::HTTP_11);
    assert_eq!(resp.headers()["content-type"], "application/grpc-web+proto");
    app.streams_open("bob", 1).await;
    for title in ["one", "two", "three"] {
        app.create_task("list-todo", title).await;
    }
    let mut body = resp.bytes_stream();
    let (mut buf, mut frames) = (BytesMut::new(), Frames::default());
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while frames.messages.len() < 3 {
        let chunk = tokio::time::timeout_at(deadline, body.next())
            .await
            .expect("three events in time");
        buf.extend_from_slice(&chunk.expect("the stream stays open").unwrap());
        frames.take(&mut buf);
    }
    let events: Vec<(u64, String)> = frames
        .messages
        .iter()
        .map(|m| {
            let e = SubscribeResponse::decode(&m[..])
                .unwrap()
                .event()
                .expect("an event")
                .unwrap();
            let Some(boardcast::proto::v1::board_event::Payload::TaskCreated(c)) = e.payload else {
                panic!("a task_created event: {e:?}");
            };
            (e.seq, c.task.unwrap().title)
        })
        .collect();
    assert_eq!(
        events,
        [(1, "one".to_owned()), (2, "two".to_owned()), (3, "three".to_owned())]
    );
    assert!(frames.trailers.is_none(), "the stream is still live");
}

#[tokio::test]
async fn a_grpc_web_preflight_names_grpc_web_headers() {
    let app = spawn_with(Config {
        allowed_origins: vec!["https://app.example".into()],
        ..Config::ephemeral()
    })
    .await;
    let resp = app
        .http
        .request(Method::OPTIONS, app.url(GET_BOARD))
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,x-grpc-web,x-user-agent,grpc-timeout",
        )
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    let head = |name: &str| resp.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(
        head("access-control-allow-origin").as_deref(),
        Some("https://app.example")
    );
    assert_eq!(head("access-control-allow-methods").as_deref(), Some("POST"));
    let allowed = head("access-control-allow-headers").unwrap();
    for h in [
        "x-grpc-web",
        "x-user-agent",
        "grpc-timeout",
        "authorization",
        "connect-protocol-version",
    ] {
        assert!(allowed.contains(h), "{h} in {allowed}");
    }

    let request = GetBoardRequest {
        board_id: "board-1".into(),
        ..Default::default()
    };
    let resp = call(&app, GET_BOARD, Some("alice"), frame(&request))
        .header("origin", "https://app.example")
        .send()
        .await
        .unwrap();
    let exposed = resp.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_owned();
    for h in ["grpc-status", "grpc-message", "grpc-status-details-bin"] {
        assert!(exposed.contains(h), "{h} in {exposed}");
    }
    assert_eq!(resp.headers()["access-control-allow-origin"], "https://app.example");
    let (_, status, _) = unary(resp).await;
    assert_eq!(status, "0");
}
