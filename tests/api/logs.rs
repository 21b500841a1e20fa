//! `serve --log-format json` as an operator runs it: the real binary, every line one
//! JSON object, and the lines a request causes carrying its request id.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio::time::timeout;

#[tokio::test]
async fn json_logs_are_one_object_per_line_and_carry_the_request_id() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_boardcast"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database-url", "sqlite::memory:"])
        .args(["--log-format", "json"])
        // The per-request line is at debug level.
        .env("RUST_LOG", "info,boardcast=debug")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = async || -> Value {
        let line = timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("a log line within 20 s")
            .unwrap()
            .expect("the server is still logging");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not one JSON object ({e}): {line}"))
    };
    let addr = loop {
        let line = next().await;
        let message = line["fields"]["message"].as_str().unwrap_or_default().to_owned();
        if let Some(rest) = message.strip_prefix("boardcast listening on ") {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    let resp = reqwest::Client::new()
        .get(format!("http://{addr}/no/such/route"))
        .header("x-request-id", "json-log-check-1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.headers()["x-request-id"], "json-log-check-1");
    let line = loop {
        let line = next().await;
        if line["fields"]["message"] == "answered" {
            break line;
        }
    };
    assert_eq!(line["span"]["request_id"], "json-log-check-1", "{line}");
    assert_eq!(line["span"]["path"], "/no/such/route", "{line}");
    assert_eq!(line["fields"]["status"], 404, "{line}");
    assert_eq!(line["level"], "DEBUG", "{line}");
}
