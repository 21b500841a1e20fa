//! The terminal client (`boardcast tail`, `tasks`, `add`, `move`) run as a subprocess
//! against a real server: what it prints, its `--json`, its exit codes, and `tail`
//! resuming across a server restart without a gap or a repeat.

use std::process::{Output, Stdio};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStderr, ChildStdout, Command};
use tokio::time::timeout;

use crate::cli::{Running, start};
use crate::helpers::{TestApp, spawn_app};

fn boardcast(server: &str, token: Option<&str>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_boardcast"));
    cmd.env("BOARDCAST_SERVER", server)
        .env_remove("BOARDCAST_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(token) = token {
        cmd.env("BOARDCAST_TOKEN", token);
    }
    cmd
}

/// A one-shot client command against `app` as `user`, within 20 s.
async fn run(app: &TestApp, user: Option<&str>, args: &[&str]) -> Output {
    let server = format!("http://{}", app.addr);
    let mut cmd = boardcast(&server, user.map(|u| app.token(u)));
    timeout(Duration::from_secs(20), cmd.args(args).output())
        .await
        .expect("the command finishes")
        .unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn failed_with(out: &Output, message: &str) {
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(message),
        "stderr names the problem ({message}): {stderr}"
    );
    assert!(out.stdout.is_empty(), "{out:?}");
}

/// A running `boardcast tail`, its output read line by line.
struct Tail {
    child: Child,
    out: Lines<BufReader<ChildStdout>>,
    err: Lines<BufReader<ChildStderr>>,
}

impl Tail {
    fn spawn(server: &str, token: Option<&str>, args: &[&str]) -> Tail {
        let mut child = boardcast(server, token).arg("tail").args(args).spawn().unwrap();
        Tail {
            out: BufReader::new(child.stdout.take().unwrap()).lines(),
            err: BufReader::new(child.stderr.take().unwrap()).lines(),
            child,
        }
    }

    async fn line(&mut self) -> String {
        match timeout(Duration::from_secs(20), self.out.next_line()).await {
            Ok(line) => line.unwrap().expect("tail still running"),
            Err(_) => panic!(
                "tail printed no line within 20 s; its stderr: {:?}",
                self.stderr().await
            ),
        }
    }

    /// What tail said on stderr, once it is stopped.
    async fn stderr(&mut self) -> Vec<String> {
        let _ = self.child.kill().await;
        let mut said = Vec::new();
        while let Ok(Ok(Some(line))) = timeout(Duration::from_secs(2), self.err.next_line()).await {
            said.push(line);
        }
        said
    }

    /// Reads stderr until a line containing `text`, within 20 s in all.
    async fn notice(&mut self, text: &str) -> String {
        let found = timeout(Duration::from_secs(20), async {
            while let Some(line) = self.err.next_line().await.unwrap() {
                if line.contains(text) {
                    return Some(line);
                }
            }
            None
        });
        match found.await {
            Ok(Some(line)) => line,
            Ok(None) => panic!("tail ended before a notice with `{text}`"),
            Err(_) => panic!("no notice with `{text}` within 20 s"),
        }
    }

    /// ^C: exits 0.
    async fn interrupt(mut self) {
        let pid = self.child.id().unwrap().to_string();
        assert!(
            Command::new("kill")
                .args(["-INT", &pid])
                .status()
                .await
                .unwrap()
                .success()
        );
        let status = timeout(Duration::from_secs(10), self.child.wait())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(status.code(), Some(0), "^C ends tail cleanly");
    }
}

/// `seq  time  actor  what`, split; the time is UTC RFC 3339 with milliseconds.
fn columns(line: &str) -> (u64, String, String) {
    let parts: Vec<&str> = line.splitn(4, "  ").collect();
    assert_eq!(parts.len(), 4, "four columns: {line:?}");
    let time = parts[1];
    assert!(
        time.len() == 24 && time.ends_with('Z') && &time[10..11] == "T" && time.starts_with("20"),
        "a UTC time: {line:?}"
    );
    (parts[0].parse().unwrap(), parts[2].to_owned(), parts[3].to_owned())
}

async fn post(http: &reqwest::Client, addr: &str, token: &str, method: Method, path: &str, body: Value) -> Value {
    let resp = http
        .request(method, format!("http://{addr}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{resp:?}");
    resp.json().await.unwrap_or(Value::Null)
}

/// A free port on loopback, so a server can be started on it twice.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn serve(dir: &std::path::Path, port: u16) -> Running {
    start(
        Command::new(env!("CARGO_BIN_EXE_boardcast"))
            .args([
                "serve",
                "--demo",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--database-url",
            ])
            .arg(dir.join("tail.db"))
            .current_dir(dir),
    )
    .await
}

#[tokio::test]
async fn tail_prints_a_workload_in_order_and_resumes_across_a_restart_without_gap_or_repeat() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = serve(dir.path(), port).await;
    let alice = server.token("alice").await;
    let (http, addr) = (reqwest::Client::new(), server.addr.clone());
    let url = format!("http://{addr}");
    // From the start of the log: without `--after` it follows from whenever it has
    // read the board, which may be after these writes.
    let mut tail = Tail::spawn(&url, Some(&alice), &["board-1", "--after", "0"]);

    let create = |title: &str| json!({"title": title, "listId": "list-todo"});
    let one = post(&http, &addr, &alice, Method::POST, "/tasks", create("One")).await;
    post(&http, &addr, &alice, Method::POST, "/tasks", create("Two")).await;
    let move_one = json!({"listId": "list-done", "position": 0});
    let path = format!("/tasks/{}/move", one["id"].as_str().unwrap());
    post(&http, &addr, &alice, Method::PATCH, &path, move_one).await;
    post(&http, &addr, &alice, Method::DELETE, "/tasks/task-2", Value::Null).await;
    let expected = [
        "added “One” to To Do",
        "added “Two” to To Do",
        "moved “One” to Done",
        "deleted “Set up the staging server”",
    ];
    for (seq, what) in (1..).zip(expected) {
        assert_eq!(columns(&tail.line().await), (seq, "Alice".into(), what.into()));
    }

    // The server dies; tail says so and keeps trying from seq 4.
    server.child.kill().await.unwrap();
    let notice = tail.notice("resubscribing after seq 4").await;
    assert!(notice.starts_with("tail: "), "{notice}");
    server = serve(dir.path(), port).await;
    // Written at once, most likely before tail is back: it must replay them.
    for title in ["Three", "Four"] {
        post(&http, &addr, &alice, Method::POST, "/tasks", create(title)).await;
    }
    assert_eq!(
        columns(&tail.line().await),
        (5, "Alice".into(), "added “Three” to To Do".into())
    );
    assert_eq!(
        columns(&tail.line().await),
        (6, "Alice".into(), "added “Four” to To Do".into())
    );
    // Live again: the next event is the next line, nothing repeated in between.
    post(
        &http,
        &addr,
        &alice,
        Method::PATCH,
        "/lists/list-doing",
        json!({"name": "Underway"}),
    )
    .await;
    assert_eq!(
        columns(&tail.line().await),
        (7, "Alice".into(), "renamed list “In Progress” to “Underway”".into())
    );
    tail.interrupt().await;
    server.child.kill().await.unwrap();
}

#[tokio::test]
async fn tail_json_is_the_events_json_from_the_log_then_live() {
    let app = spawn_app().await;
    for title in ["a", "b", "c"] {
        app.create_task("list-todo", title).await;
    }
    let mut tail = Tail::spawn(
        &format!("http://{}", app.addr),
        Some(app.token("alice")),
        &["board-1", "--after", "1", "--json"],
    );
    let first: Value = serde_json::from_str(&tail.line().await).unwrap();
    let second: Value = serde_json::from_str(&tail.line().await).unwrap();
    app.create_task("list-doing", "live").await;
    let live: Value = serde_json::from_str(&tail.line().await).unwrap();
    let changes: Value = app.get("/boards/board-1/changes?after=1").await.json().await.unwrap();
    assert_eq!(changes["events"], json!([first, second, live]), "the same JSON as REST");
    assert_eq!(live["type"], "task_created");
    assert_eq!(live["seq"], 4);
    tail.interrupt().await;
}

#[tokio::test]
async fn tail_after_a_seq_ahead_of_the_board_is_reset_and_follows_from_the_board() {
    let app = spawn_app().await;
    let url = format!("http://{}", app.addr);
    let mut tail = Tail::spawn(&url, None, &["board-1", "--after", "99"]);
    let notice = tail.notice("reset").await;
    assert!(notice.contains("following after seq 0"), "{notice}");
    app.create_task("list-todo", "after the reset").await;
    let (seq, actor, what) = columns(&tail.line().await);
    assert_eq!((seq, what.as_str()), (1, "added “after the reset” to To Do"));
    assert!(actor.starts_with("Guest"), "the guest by name: {actor}");
    tail.interrupt().await;
}

#[tokio::test]
async fn tail_gives_up_at_once_on_a_bad_token_or_an_unknown_board() {
    let app = spawn_app().await;
    let url = format!("http://{}", app.addr);
    for (token, board, message) in [
        (Some("bc_not-a-token"), "board-1", "UNAUTHENTICATED"),
        (Some(app.token("carol")), "board-1", "NOT_FOUND"),
        (None, "board-nope", "NOT_FOUND"),
    ] {
        let mut cmd = boardcast(&url, token);
        let out = timeout(Duration::from_secs(20), cmd.args(["tail", board]).output())
            .await
            .expect("tail exits instead of retrying")
            .unwrap();
        failed_with(&out, message);
    }
}

#[tokio::test]
async fn add_tasks_and_move_print_for_scripts() {
    let app = spawn_app().await;
    let out = run(&app, Some("alice"), &["add", "board-1", "list-todo", "From the CLI"]).await;
    let id = stdout(&out).trim_end().to_owned();
    let task: Value = app.get(&format!("/tasks/{id}")).await.json().await.unwrap();
    assert_eq!(
        (task["title"].as_str(), task["listId"].as_str()),
        (Some("From the CLI"), Some("list-todo"))
    );

    let out = run(
        &app,
        Some("alice"),
        &["add", "board-1", "list-doing", "As JSON", "--json"],
    )
    .await;
    let added: Value = serde_json::from_str(stdout(&out).trim_end()).unwrap();
    let fetched: Value = app
        .get(&format!("/tasks/{}", added["id"].as_str().unwrap()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(added, fetched, "the task's JSON, as REST has it");

    let out = run(&app, Some("alice"), &["move", &id, "list-done", "0"]).await;
    let seq = app.board("board-1").await.seq;
    assert_eq!(
        stdout(&out),
        format!("moved {id} to list-done at position 0 (version 2, seq {seq})\n")
    );

    let rest: Value = app.get("/boards/board-1/tasks").await.json().await.unwrap();
    let rest = rest["tasks"].as_array().unwrap();
    let table = stdout(&run(&app, None, &["tasks", "board-1"]).await);
    let mut rows = table.lines();
    let header = rows.next().unwrap();
    assert!(header.starts_with("ID") && header.ends_with("TITLE"), "{header}");
    let rows: Vec<Vec<&str>> = rows.map(|r| r.split_whitespace().collect()).collect();
    assert_eq!(rows.len(), rest.len());
    for (row, task) in rows.iter().zip(rest) {
        let title: Vec<&str> = task["title"].as_str().unwrap().split_whitespace().collect();
        let position = task["position"].to_string();
        let cells = [
            task["id"].as_str().unwrap(),
            task["listId"].as_str().unwrap(),
            position.as_str(),
        ];
        assert_eq!(row[..3], cells, "{table}");
        assert_eq!(row[3..], title[..], "{table}");
    }
    let lines = stdout(&run(&app, None, &["tasks", "board-1", "--json"]).await);
    let parsed: Vec<Value> = lines.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(&parsed, rest, "one task per line, as REST has them");
}

#[tokio::test]
async fn client_errors_name_the_problem_and_exit_1() {
    let app = spawn_app().await;
    let bad = boardcast(&format!("http://{}", app.addr), Some("bc_nope"))
        .args(["tasks", "board-1"])
        .output()
        .await
        .unwrap();
    failed_with(&bad, "UNAUTHENTICATED");
    let out = run(&app, Some("alice"), &["move", "task-1", "list-done", "-1"]).await;
    failed_with(&out, "position");
    let out = run(&app, Some("alice"), &["add", "board-2", "list-todo", "wrong board"]).await;
    failed_with(&out, "INVALID_ARGUMENT");
    let out = run(&app, Some("carol"), &["add", "board-1", "list-todo", "not hers"]).await;
    failed_with(&out, "NOT_FOUND");
    let port = free_port();
    let away = boardcast(&format!("http://127.0.0.1:{port}"), None)
        .args(["tasks", "board-1"])
        .output()
        .await
        .unwrap();
    failed_with(&away, "cannot reach the server");
    let url = boardcast("localhost:3000", None)
        .args(["tasks", "board-1"])
        .output()
        .await
        .unwrap();
    failed_with(&url, "--server");
}
