//! The seed's WebSocket walkthrough, typed into the real `wscat` (from
//! `npm install --prefix tools`): join → presence; typing → user_typing at the other
//! terminal; a REST POST → task_created on the socket.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::helpers::{skip_or_fail, spawn_app};

fn wscat_path() -> Option<PathBuf> {
    let local = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tools/node_modules/.bin/wscat");
    if local.exists() {
        return Some(local);
    }
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| PathBuf::from(dir).join("wscat"))
        .find(|p| p.exists())
}

struct Terminal {
    _child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Terminal {
    async fn open(wscat: &PathBuf, url: &str) -> Terminal {
        let mut child = Command::new(wscat)
            .args(["-c", url])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("wscat starts");
        let stdin = child.stdin.take().unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Terminal {
            _child: child,
            stdin,
            lines,
        }
    }

    async fn type_line(&mut self, line: &str) {
        self.stdin.write_all(format!("{line}\n").as_bytes()).await.unwrap();
        self.stdin.flush().await.unwrap();
    }

    /// The next message of this type wscat prints (it prefixes some with `> `).
    async fn shows(&mut self, kind: &str) -> Value {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let line = self.lines.next_line().await.unwrap().expect("wscat still running");
                let json = line.trim_start_matches("> ").trim();
                if let Ok(v) = serde_json::from_str::<Value>(json)
                    && v["type"] == kind
                {
                    return v;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("wscat shows {kind} within 10 s"))
    }
}

#[tokio::test]
async fn the_seed_wscat_session_works_verbatim() {
    let Some(wscat) = wscat_path() else {
        return skip_or_fail("wscat");
    };
    let app = spawn_app().await;
    let url = format!("ws://{}", app.addr);

    let mut one = Terminal::open(&wscat, &url).await;
    one.shows("welcome").await;
    one.type_line(r#"{"type":"join","boardId":"board-1"}"#).await;
    let presence = one.shows("presence").await;
    assert_eq!(presence["viewers"].as_array().unwrap().len(), 1);

    let mut two = Terminal::open(&wscat, &url).await;
    two.shows("welcome").await;
    two.type_line(r#"{"type":"join","boardId":"board-1"}"#).await;
    assert_eq!(two.shows("presence").await["viewers"].as_array().unwrap().len(), 2);
    one.shows("user_joined").await;

    one.type_line(r#"{"type":"typing","boardId":"board-1"}"#).await;
    two.shows("user_typing").await;

    let task = app.create_task("list-todo", "Live from the capstone!").await;
    for terminal in [&mut one, &mut two] {
        assert_eq!(terminal.shows("task_created").await["task"]["id"], task.id.as_str());
    }
}
