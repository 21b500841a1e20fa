//! The binary as an operator runs it: flags and environment, start-up lines, dev
//! tokens, data that survives a restart, and a clean exit on SIGTERM.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};
use tokio::time::timeout;

struct Running {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    addr: String,
    log: Vec<String>,
}

async fn start(cmd: &mut Command) -> Running {
    let mut child = cmd
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut log = Vec::new();
    // Start-up ends with the last dev token line.
    while !log.iter().any(|l: &String| l.contains("dev token for carol")) {
        let line = timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("start-up within 20 s")
            .unwrap()
            .expect("server printed its start-up lines");
        log.push(line);
    }
    let addr = log
        .iter()
        .find_map(|l| l.split("listening on ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("a listening line")
        .to_owned();
    Running {
        child,
        lines,
        addr,
        log,
    }
}

impl Running {
    fn token(&self, user: &str) -> String {
        let needle = format!("dev token for {user}: ");
        self.log
            .iter()
            .find_map(|l| l.split(&needle).nth(1))
            .map(|t| t.trim().to_owned())
            .expect("token printed")
    }

    async fn terminate(mut self) -> Vec<String> {
        let pid = self.child.id().unwrap().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().await.unwrap();
        assert!(status.success());
        let exit = timeout(Duration::from_secs(10), self.child.wait())
            .await
            .expect("exits within 10 s of SIGTERM")
            .unwrap();
        assert!(exit.success(), "clean exit status, got {exit}");
        let mut rest = Vec::new();
        while let Ok(Some(line)) = self.lines.next_line().await {
            rest.push(line);
        }
        rest
    }
}

#[tokio::test]
async fn serve_logs_endpoints_survives_restart_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let serve = |listen_by_env: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_boardcast"));
        cmd.arg("serve").current_dir(dir.path());
        if listen_by_env {
            cmd.env("BOARDCAST_LISTEN", "127.0.0.1:0")
                .env("DATABASE_URL", format!("sqlite:{}", db.display()));
        } else {
            cmd.args(["--listen", "127.0.0.1:0", "--database-url"]).arg(&db);
        }
        cmd
    };

    let first = start(&mut serve(false)).await;
    for endpoint in ["REST", "gRPC", "guests"] {
        assert!(
            first.log.iter().any(|l| l.contains(endpoint)),
            "a start-up line for {endpoint}: {:?}",
            first.log
        );
    }
    let alice = first.token("alice");
    let http = reqwest::Client::new();
    let resp = http
        .post(format!("http://{}/tasks", first.addr))
        .bearer_auth(&alice)
        .json(&serde_json::json!({"title": "outlives a restart", "listId": "list-todo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let rest = first.terminate().await;
    assert!(rest.iter().any(|l| l.contains("shut down cleanly")), "{rest:?}");

    // Same database through the environment variables: same tokens, same data, no re-seed.
    let second = start(&mut serve(true)).await;
    assert_eq!(second.token("alice"), alice);
    assert!(!second.log.iter().any(|l| l.contains("seeded")), "{:?}", second.log);
    let board: serde_json::Value = http
        .get(format!("http://{}/boards/board-1", second.addr))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(board["seq"], 1);
    assert!(
        board["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["title"] == "outlives a restart")
    );
    second.terminate().await;
}

#[tokio::test]
async fn a_bad_listen_address_fails_with_a_message() {
    let out = Command::new(env!("CARGO_BIN_EXE_boardcast"))
        .args(["serve", "--listen", "256.0.0.1:1", "--database-url", "sqlite::memory:"])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot listen on 256.0.0.1:1"), "{stderr}");
}
