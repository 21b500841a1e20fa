//! Connection and WebSocket limits over real sockets: the caps on open connections
//! (in total and per client address, refused with a 503 written before closing), the
//! WebSocket frame rate against typing, cursor and ping floods, the idle timeout and
//! the `auth` deadline, each while a well-behaved client is served.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use boardcast::Config;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{TestApp, spawn_with};
use crate::roles::Ws;

/// A connection from `source` (an address of the loopback range).
async fn connect_from(app: &TestApp, source: [u8; 4]) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(IpAddr::from(source), 0)).unwrap();
    socket.connect(app.addr).await.unwrap()
}

/// One kept-alive `GET /healthz`-like request on `socket`: the whole answer's head and
/// status line, read until its body ends.
async fn get(socket: &mut TcpStream, path: &str) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n");
    socket.write_all(request.as_bytes()).await.unwrap();
    read_answer(socket).await
}

/// Reads one HTTP/1.1 answer with a `content-length` (or up to the close).
async fn read_answer(socket: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let n = socket.read(&mut chunk).await.unwrap_or(0);
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf).to_string();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length: ")
                            .map(str::to_owned)
                    })
                    .and_then(|v| v.trim().parse::<usize>().ok());
                if length.is_some_and(|n| body.len() >= n) {
                    break;
                }
            }
        }
    })
    .await
    .expect("an answer within 5 s");
    String::from_utf8(buf).unwrap()
}

/// The refusal of a connection over a cap: a 503 with the JSON error, then the close.
async fn assert_refused(mut socket: TcpStream, message: &str) {
    let answer = read_answer(&mut socket).await;
    assert!(answer.starts_with("HTTP/1.1 503 Service Unavailable\r\n"), "{answer}");
    assert!(answer.contains("\r\nconnection: close\r\n"), "{answer}");
    let body: Value = serde_json::from_str(answer.split_once("\r\n\r\n").unwrap().1).unwrap();
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains(message), "{body}");
    let mut rest = [0u8; 16];
    let n = tokio::time::timeout(Duration::from_secs(3), socket.read(&mut rest))
        .await
        .unwrap();
    assert_eq!(n.unwrap_or(0), 0, "closed after the answer");
}

/// `get` on a new connection from `source` until it is served (a closed connection's
/// place is freed once the server has seen it end).
async fn served_soon(app: &TestApp, source: [u8; 4]) {
    for _ in 0..50 {
        let mut socket = connect_from(app, source).await;
        if get(&mut socket, "/boards").await.starts_with("HTTP/1.1 200") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("a freed place is not given to a new connection");
}

#[tokio::test]
async fn connections_over_the_per_address_cap_are_refused_while_other_addresses_are_served() {
    let app = spawn_with(Config {
        max_connections_per_ip: 3,
        ..Config::ephemeral()
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut socket = connect_from(&app, [127, 0, 0, 1]).await;
        assert!(get(&mut socket, "/boards").await.starts_with("HTTP/1.1 200"));
        held.push(socket);
    }
    assert_refused(
        connect_from(&app, [127, 0, 0, 1]).await,
        "too many open connections from your address: at most 3",
    )
    .await;
    // Another address is served, and so is every held connection's next request.
    let mut other = connect_from(&app, [127, 0, 0, 2]).await;
    assert!(get(&mut other, "/boards").await.starts_with("HTTP/1.1 200"));
    for socket in &mut held {
        assert!(get(socket, "/boards/board-1").await.starts_with("HTTP/1.1 200"));
    }
    drop(held.pop());
    served_soon(&app, [127, 0, 0, 1]).await;
}

#[tokio::test]
async fn connections_over_the_global_cap_are_refused_until_one_closes() {
    let app = spawn_with(Config {
        max_connections: 4,
        ..Config::ephemeral()
    })
    .await;
    let mut held = Vec::new();
    for i in 0..4u8 {
        let mut socket = connect_from(&app, [127, 0, 0, 1 + i]).await;
        assert!(get(&mut socket, "/boards").await.starts_with("HTTP/1.1 200"));
        held.push(socket);
    }
    assert_refused(
        connect_from(&app, [127, 0, 0, 9]).await,
        "too many open connections: the server holds at most 4",
    )
    .await;
    // An HTTP/2 or gRPC client is refused alike (it reads no valid preface back).
    let refused = tonic::transport::Endpoint::from_shared(format!("http://{}", app.addr))
        .unwrap()
        .connect()
        .await;
    if let Ok(channel) = refused {
        let mut c = boardcast::proto::v1::board_service_client::BoardServiceClient::new(channel);
        let r = c.list_boards(boardcast::proto::v1::ListBoardsRequest::default()).await;
        assert!(r.is_err(), "a gRPC call over the cap was served: {r:?}");
    }
    // The held connections are served throughout.
    for socket in &mut held {
        assert!(get(socket, "/boards").await.starts_with("HTTP/1.1 200"));
    }
    drop(held.remove(0));
    served_soon(&app, [127, 0, 0, 9]).await;
}

async fn close_of(ws: &mut Ws) -> (u16, String) {
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.0.next().await {
                Some(Ok(Message::Close(Some(frame)))) => return (u16::from(frame.code), frame.reason.to_string()),
                Some(Ok(_)) => {}
                other => panic!("no close frame: {other:?}"),
            }
        }
    })
    .await
    .expect("closed within 5 s")
}

#[tokio::test]
async fn typing_cursor_and_ping_floods_close_with_1008_while_the_room_is_served() {
    let app = spawn_with(Config {
        ws_frames_per_sec: 10,
        ..Config::ephemeral()
    })
    .await;
    let mut bob = Ws::open(&app, Some("bob")).await;
    bob.ask(json!({"type": "join", "boardId": "board-1"})).await;
    for flood in [
        json!({"type": "typing", "boardId": "board-1", "taskId": "t"}),
        json!({"type": "cursor", "boardId": "board-1", "x": 1.0, "y": 2.0}),
        json!({"type": "ping"}),
    ] {
        let mut alice = Ws::open(&app, Some("alice")).await;
        alice.ask(json!({"type": "join", "boardId": "board-1"})).await;
        // The join was one frame of the burst of 20.
        for _ in 0..40 {
            if alice.0.send(Message::text(flood.to_string())).await.is_err() {
                break;
            }
        }
        let (code, reason) = close_of(&mut alice).await;
        assert_eq!(code, 1008, "{flood}: {reason}");
        assert_eq!(reason, "too many messages: at most 10 per second", "{flood}");
        // bob, in the same room, is answered.
        bob.0.send(Message::text(r#"{"type":"ping"}"#)).await.unwrap();
        loop {
            let Some(Ok(Message::Text(t))) = bob.0.next().await else {
                panic!("bob lost")
            };
            if t.as_str().contains("\"pong\"") {
                break;
            }
        }
    }
}

#[tokio::test]
async fn a_websocket_that_sends_nothing_is_closed_as_idle_while_a_chatty_one_stays() {
    let app = spawn_with(Config {
        ws_idle_timeout_ms: 400,
        // No pings in the test's time: only the client's own frames count.
        ws_ping_ms: 60_000,
        ..Config::ephemeral()
    })
    .await;
    let mut silent = Ws::open(&app, Some("alice")).await;
    let mut chatty = Ws::open(&app, Some("bob")).await;
    let started = tokio::time::Instant::now();
    let chat = async {
        for _ in 0..12 {
            chatty.0.send(Message::text(r#"{"type":"ping"}"#)).await.unwrap();
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let (_, (code, reason)) = tokio::join!(chat, close_of(&mut silent));
    assert_eq!((code, reason.as_str()), (1008, "idle: nothing received for 400 ms"));
    assert!(
        started.elapsed() >= Duration::from_millis(350),
        "{:?}",
        started.elapsed()
    );
    // 1.2 s in, past three idle timeouts: the chatty one is still answered.
    let answer = chatty.ask(json!({"type": "join", "boardId": "board-1"})).await;
    assert_eq!(answer["type"], "presence", "{answer}");
}

#[tokio::test]
async fn a_websocket_without_identity_must_send_auth_in_time() {
    let app = spawn_with(Config {
        guests: Some(false),
        ws_handshake_timeout_ms: 400,
        ..Config::ephemeral()
    })
    .await;
    let mut late = Ws::open(&app, None).await;
    let mut prompt = Ws::open(&app, None).await;
    let token = app.token("bob").to_owned();
    prompt
        .0
        .send(Message::text(json!({"type": "auth", "token": token}).to_string()))
        .await
        .unwrap();
    let (code, reason) = close_of(&mut late).await;
    assert_eq!(
        (code, reason.as_str()),
        (1008, "no `auth` message within 400 ms of connecting")
    );
    // The one that signed in is served past the deadline.
    let answer = prompt.ask(json!({"type": "join", "boardId": "board-1"})).await;
    assert_eq!(answer["type"], "presence", "{answer}");
}
