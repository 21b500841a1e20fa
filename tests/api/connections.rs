//! Connection-level limits over raw TCP: the header deadline (silent, trickling and
//! idle kept-alive connections are closed while everyone else is served), heads
//! longer than the detector reads, and the shared stream-route list.

use std::time::Duration;

use boardcast::Config;
use boardcast::gateway::STREAM_ROUTES;
use reqwest::{Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::helpers::{SseClient, TestApp, spawn_with};

const DEADLINE: Duration = Duration::from_secs(3);
/// Scheduling slack on a busy two-core machine.
const MARGIN: Duration = Duration::from_secs(2);

async fn spawn_with_deadline() -> TestApp {
    spawn_with(Config {
        header_timeout_ms: DEADLINE.as_millis() as u64,
        ..Config::ephemeral()
    })
    .await
}

/// Waits until the server closes `socket`, writing the next byte of `trickle` every
/// 2 s meanwhile; returns how long that took from `since`. Panics if the server
/// sends anything, or keeps the socket past the deadline and margin.
async fn closed_after(mut socket: TcpStream, trickle: &[u8], since: Instant) -> Duration {
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    let mut next = trickle.iter();
    let mut buf = [0u8; 256];
    let wait = async {
        loop {
            tokio::select! {
                read = socket.read(&mut buf) => match read {
                    Ok(0) | Err(_) => return since.elapsed(),
                    Ok(n) => panic!("unexpected answer {:?}", String::from_utf8_lossy(&buf[..n])),
                },
                _ = tick.tick(), if next.len() > 0 => {
                    let byte = *next.next().unwrap();
                    // The server may have closed already: the read says so.
                    let _ = socket.write_all(&[byte]).await;
                }
            }
        }
    };
    tokio::time::timeout(DEADLINE + MARGIN, wait)
        .await
        .expect("the server closes the connection after the deadline")
}

fn assert_closed_at_deadline(elapsed: &[Duration], what: &str) {
    let (min, max) = (elapsed.iter().min().unwrap(), elapsed.iter().max().unwrap());
    // Not before: the deadline starts once the server accepted, after our connect.
    assert!(
        *min >= DEADLINE.checked_sub(Duration::from_millis(50)).unwrap(),
        "{what}: closed early ({min:?})"
    );
    assert!(*max <= DEADLINE + MARGIN, "{what}: closed late ({max:?})");
}

#[tokio::test]
async fn silent_and_trickling_connections_are_closed_at_the_deadline_while_others_are_served() {
    let app = spawn_with_deadline().await;
    let mut stream = SseClient::connect(app.request(Method::GET, "/boards/board-1/events", None)).await;
    assert_eq!(stream.response_status, StatusCode::OK);
    stream.next().await.unwrap();

    let start = Instant::now();
    let mut silent = Vec::new();
    let mut trickling = Vec::new();
    for i in 0..200 {
        silent.push(tokio::spawn(closed_after(
            TcpStream::connect(app.addr).await.unwrap(),
            b"",
            start,
        )));
        // An HTTP/1 head, and the h2 preface (whose sniffing in hyper has no timeout).
        let head: &'static [u8] = if i % 2 == 0 {
            b"GET /boards HTTP/1.1\r\nHost: x\r\n\r\n"
        } else {
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
        };
        trickling.push(tokio::spawn(closed_after(
            TcpStream::connect(app.addr).await.unwrap(),
            head,
            start,
        )));
    }

    // Everyone else is served meanwhile, over new connections and the open stream.
    let mut served = 0;
    let mut created = false;
    while start.elapsed() < DEADLINE + Duration::from_millis(500) {
        let resp = tokio::time::timeout(Duration::from_secs(2), app.get("/boards")).await;
        assert_eq!(resp.expect("GET /boards answered in time").status(), StatusCode::OK);
        served += 1;
        if !created && start.elapsed() > Duration::from_secs(1) {
            app.create_task("list-todo", "during the wait").await;
            assert_eq!(stream.next_data().await.unwrap().event.as_deref(), Some("task_created"));
            created = true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(created && served >= 10, "served {served} requests during the wait");

    let mut closed = Vec::new();
    for task in silent {
        closed.push(task.await.unwrap());
    }
    assert_closed_at_deadline(&closed, "silent");
    let mut closed = Vec::new();
    for task in trickling {
        closed.push(task.await.unwrap());
    }
    assert_closed_at_deadline(&closed, "trickling");

    // The deadline is for heads only: the stream opened before it lives on.
    app.create_task("list-todo", "after the wait").await;
    let frame = stream.next_data().await.unwrap();
    assert_eq!(frame.json()["task"]["title"], "after the wait");
}

/// Reads one whole `Content-Length` answer from the socket.
async fn read_answer(socket: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let read = async {
        loop {
            let text = String::from_utf8_lossy(&seen).into_owned();
            if let Some(end) = text.find("\r\n\r\n") {
                let lower = text[..end].to_ascii_lowercase();
                let length = lower
                    .split("content-length: ")
                    .nth(1)
                    .and_then(|rest| rest.split("\r\n").next())
                    .map(|n| n.parse::<usize>().unwrap())
                    .expect("a Content-Length answer");
                if text.len() >= end + 4 + length {
                    return text;
                }
            }
            let n = socket.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed before a whole answer: {text:?}");
            seen.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .expect("an answer")
}

#[tokio::test]
async fn a_kept_alive_connection_trickling_its_next_head_is_closed() {
    let app = spawn_with_deadline().await;
    let next = b"GET /boards HTTP/1.1\r\nHost: x\r\n\r\n";

    // After an answer from hyper…
    let mut by_hyper = TcpStream::connect(app.addr).await.unwrap();
    by_hyper
        .write_all(b"GET /boards HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert!(read_answer(&mut by_hyper).await.starts_with("HTTP/1.1 200 OK\r\n"));
    let hyper_done = Instant::now();

    // …and after a refused stream answered on the fast path.
    let mut by_fast_path = TcpStream::connect(app.addr).await.unwrap();
    by_fast_path
        .write_all(b"GET /boards/nope/events HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = read_answer(&mut by_fast_path).await;
    assert!(answer.starts_with("HTTP/1.1 404 Not Found\r\n"), "{answer}");
    let fast_done = Instant::now();

    let by_hyper = tokio::spawn(closed_after(by_hyper, next, hyper_done));
    let by_fast_path = tokio::spawn(closed_after(by_fast_path, next, fast_done));
    // Here the server's clock starts as it finishes writing, a moment before ours.
    for (closed, what) in [(by_hyper, "by hyper"), (by_fast_path, "after the fast path")] {
        let closed = closed.await.unwrap();
        assert!(
            closed >= DEADLINE.checked_sub(Duration::from_millis(500)).unwrap(),
            "{what}: closed early ({closed:?})"
        );
        assert!(closed <= DEADLINE + MARGIN, "{what}: closed late ({closed:?})");
    }
}

#[tokio::test]
async fn a_head_over_8_kib_goes_to_hyper_and_is_answered() {
    let app = spawn_with_deadline().await;
    let pad = "a".repeat(9 * 1024);
    let token = app.token("alice").to_owned();
    for (path, expect) in [
        ("/boards".to_owned(), "\"board-1\""),
        (
            format!("/boards/board-1/events?token={token}"),
            "\"type\":\"connected\"",
        ),
    ] {
        let mut socket = TcpStream::connect(app.addr).await.unwrap();
        let head = format!("GET {path} HTTP/1.1\r\nHost: x\r\nX-Pad: {pad}\r\n\r\n");
        socket.write_all(head.as_bytes()).await.unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        let found = tokio::time::timeout(Duration::from_secs(5), async {
            while !String::from_utf8_lossy(&seen).contains(expect) {
                let n = socket.read(&mut buf).await.unwrap();
                assert!(n > 0, "closed: {:?}", String::from_utf8_lossy(&seen));
                seen.extend_from_slice(&buf[..n]);
            }
        })
        .await;
        let text = String::from_utf8_lossy(&seen);
        assert!(found.is_ok(), "{path}: {text}");
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{path}: {text}");
    }
}

/// Found by fuzzing (`fuzz/run sse_head`): `/boards/board-1#/events` is a stream route
/// to the raw target, but `/boards/board-1` to the router (a `#` ends the path), and the
/// detector took it off hyper for a stream. It is hyper's: answered byte for byte as
/// the same request is when its `Content-Length` sends it to hyper anyway.
#[tokio::test]
async fn a_fragment_that_hides_a_board_path_is_not_taken_for_a_stream() {
    let app = spawn_with_deadline().await;
    let mut answers = Vec::new();
    for head in [
        "GET /boards/board-1#/events HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        "GET /boards/board-1#/events HTTP/1.1\r\nHost: x\r\n\r\n",
    ] {
        let mut socket = TcpStream::connect(app.addr).await.unwrap();
        socket.write_all(head.as_bytes()).await.unwrap();
        let answer = read_answer(&mut socket).await;
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        let mut lines = head.lines();
        let status = lines.next().unwrap().to_owned();
        // Names only: the date and the request id differ from one answer to the next.
        let mut names: Vec<String> = lines
            .map(|line| line.split(':').next().unwrap().to_ascii_lowercase())
            .collect();
        names.sort();
        answers.push((status, names, body.to_owned()));
    }
    assert_eq!(answers[0], answers[1]);
    let (status, _, body) = &answers[1];
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(body.contains("\"board-1\""), "{body}");
}

#[tokio::test]
async fn every_listed_stream_route_answers_an_event_stream() {
    let app = spawn_with_deadline().await;
    for route in STREAM_ROUTES {
        let path: Vec<&str> = route
            .split('/')
            .map(|s| if s.starts_with('{') { "board-1" } else { s })
            .collect();
        let target = format!("{}?boards=board-1&token={}", path.join("/"), app.token("alice"));
        let mut socket = TcpStream::connect(app.addr).await.unwrap();
        let head = format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n");
        socket.write_all(head.as_bytes()).await.unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        let read = tokio::time::timeout(Duration::from_secs(5), async {
            while !String::from_utf8_lossy(&seen).contains("\"type\":\"connected\"") {
                let n = socket.read(&mut buf).await.unwrap();
                assert!(n > 0, "{route}: closed");
                seen.extend_from_slice(&buf[..n]);
            }
        })
        .await;
        let text = String::from_utf8_lossy(&seen).to_ascii_lowercase();
        assert!(read.is_ok(), "{route}: {text}");
        assert!(text.starts_with("http/1.1 200 ok\r\n"), "{route}: {text}");
        assert!(text.contains("content-type: text/event-stream\r\n"), "{route}: {text}");
        assert!(text.contains("transfer-encoding: chunked\r\n"), "{route}: {text}");
    }
}
