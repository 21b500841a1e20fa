//! The binary as an operator runs it: flags and environment, start-up lines (never a
//! credential), `--demo`, `user add`, data and sessions that survive a restart, and a
//! clean exit on SIGTERM.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};
use tokio::time::timeout;

pub(crate) struct Running {
    pub(crate) child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    pub(crate) addr: String,
    log: Vec<String>,
}

pub(crate) async fn start(cmd: &mut Command) -> Running {
    let mut child = cmd
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut log = Vec::new();
    // Start-up ends with the accounts line.
    while !log.iter().any(|l: &String| l.contains("accounts: ")) {
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
    /// The process and its address, its log read on in the background so a full pipe
    /// never blocks the server's logging: for tests that need nothing else of it.
    pub(crate) fn drain_log(self) -> (Child, String) {
        let Running {
            child, mut lines, addr, ..
        } = self;
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        (child, addr)
    }

    /// Signs in over REST.
    async fn login(&self, user: &str, password: &str) -> reqwest::Response {
        reqwest::Client::new()
            .post(format!("http://{}/auth/login", self.addr))
            .json(&serde_json::json!({"username": user, "password": password}))
            .send()
            .await
            .unwrap()
    }

    /// A demo user's session token, signed in with the demo password.
    pub(crate) async fn token(&self, user: &str) -> String {
        let resp = self.login(user, &format!("{user}-demo-pw")).await;
        assert_eq!(resp.status(), 200);
        let body: serde_json::Value = resp.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
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
                .env("BOARDCAST_DEMO", "true")
                .env("DATABASE_URL", format!("sqlite:{}", db.display()));
        } else {
            cmd.args(["--demo", "--listen", "127.0.0.1:0", "--database-url"])
                .arg(&db);
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
    assert!(
        first.log.iter().any(|l| l.contains("seeded the demo data")),
        "{:?}",
        first.log
    );
    assert!(
        !first.log.iter().any(|l| l.contains("bc_") || l.contains("dev token")),
        "no credential in the log: {:?}",
        first.log
    );
    let alice = first.token("alice").await;
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

    // Same database through the environment variables: the session still valid, same
    // data, no re-seed.
    let second = start(&mut serve(true)).await;
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

#[tokio::test]
async fn serve_without_demo_seeds_nothing_and_says_how_to_make_the_first_account() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("empty.db");
    let server = start(
        Command::new(env!("CARGO_BIN_EXE_boardcast"))
            .args(["serve", "--listen", "127.0.0.1:0", "--database-url"])
            .arg(&db),
    )
    .await;
    assert!(
        server.log.iter().any(|l| l.contains("no accounts yet")
            && l.contains("boardcast user add NAME")
            && l.contains("/auth/signup")),
        "{:?}",
        server.log
    );
    assert!(!server.log.iter().any(|l| l.contains("seeded")), "{:?}", server.log);
    let boards: serde_json::Value = reqwest::get(format!("http://{}/boards", server.addr))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(boards["boards"], serde_json::json!([]), "the guest sees no board");
    assert_eq!(
        server.login("alice", "alice-demo-pw").await.status(),
        401,
        "no demo user"
    );
    let dev = reqwest::get(format!("http://{}/dev/users", server.addr)).await.unwrap();
    assert_eq!(dev.status(), 404, "no dev sign-in without --demo");
    server.terminate().await;
}

async fn user_add(db: &std::path::Path, args: &[&str], stdin: &str) -> std::process::Output {
    use tokio::io::AsyncWriteExt;
    let mut child = Command::new(env!("CARGO_BIN_EXE_boardcast"))
        .args(["user", "add"])
        .args(args)
        .arg("--database-url")
        .arg(db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).await.unwrap();
    child.wait_with_output().await.unwrap()
}

#[tokio::test]
async fn user_add_creates_an_account_from_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("users.db");
    let out = user_add(&db, &["Dana", "--name", "Dana D"], "dana-secret-pw\n").await;
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("created user dana (Dana D"), "{stdout}");
    assert!(!stdout.contains("dana-secret-pw"));

    let taken = user_add(&db, &["dana"], "another-pw-1\n").await;
    assert!(!taken.status.success());
    assert!(
        String::from_utf8_lossy(&taken.stderr).contains("username `dana` is taken"),
        "{taken:?}"
    );
    let short = user_add(&db, &["erin"], "short\n").await;
    assert!(!short.status.success());
    assert!(
        String::from_utf8_lossy(&short.stderr).contains("password must be 8 to 200"),
        "{short:?}"
    );
    let bad = user_add(&db, &["no spaces"], "long-enough-pw\n").await;
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("username must be"),
        "{bad:?}"
    );

    let server = start(
        Command::new(env!("CARGO_BIN_EXE_boardcast"))
            .args(["serve", "--listen", "127.0.0.1:0", "--database-url"])
            .arg(&db),
    )
    .await;
    assert!(
        !server.log.iter().any(|l| l.contains("no accounts yet")),
        "{:?}",
        server.log
    );
    let resp = server.login("dana", "dana-secret-pw").await;
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["user"]["username"], "dana");
    assert_eq!(body["user"]["name"], "Dana D");
    assert_eq!(server.login("erin", "short-but-no").await.status(), 401);
    server.terminate().await;
}
