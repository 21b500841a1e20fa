//! The database file going wrong under a running server (issue 14): deleted, or out
//! of room. The store must notice and refuse rather than answer for what it cannot
//! keep, and recover by itself from what clears by itself.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use boardcast::Config;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{SseClient, error_body, skip_or_fail, spawn_with};

fn file_config(path: &Path) -> Config {
    Config {
        database_url: format!("sqlite:{}", path.display()),
        ..Config::ephemeral()
    }
}

#[tokio::test]
async fn a_deleted_database_file_refuses_writes_instead_of_losing_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("gone.db");
    let app = spawn_with(file_config(&db)).await;
    app.create_task("list-todo", "before the deletion").await;
    app.state
        .core
        .store()
        .ping()
        .await
        .expect("a healthy store answers its probe");

    for suffix in ["", "-wal", "-shm"] {
        let mut file = db.as_os_str().to_owned();
        file.push(suffix);
        std::fs::remove_file(&file).unwrap();
    }

    let expected = format!(
        "the database file {} was deleted or replaced; restart the server",
        db.display()
    );
    let create = app
        .send_json(
            Method::POST,
            "/tasks",
            json!({"title": "into the void", "listId": "list-todo"}),
        )
        .await;
    assert_eq!(create.headers()["retry-after"], "1");
    let body = error_body(create, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(body["error"]["code"], "unavailable");
    assert_eq!(body["error"]["message"], expected.as_str());
    // Reads are refused alike (503, never a 500): the open file is no longer the one
    // on disk, and a new read connection could not open it.
    for path in ["/boards/board-1", "/boards/board-1/tasks", "/boards"] {
        let body = error_body(app.get(path).await, StatusCode::SERVICE_UNAVAILABLE).await;
        assert_eq!(body["error"]["message"], expected.as_str(), "{path}");
    }
    let probe = app.state.core.store().ping().await;
    assert!(probe.is_err(), "readiness sees it: {probe:?}");

    let mut grpc =
        boardcast::proto::v1::board_service_client::BoardServiceClient::connect(format!("http://{}", app.addr))
            .await
            .unwrap();
    let status = grpc
        .create_task(boardcast::proto::v1::CreateTaskRequest {
            list_id: "list-todo".into(),
            title: "over gRPC".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
    assert_eq!(status.message(), expected);
}

/// A tmpfs of its own, unmounted when dropped (also when the test fails).
struct SmallDisk {
    dir: PathBuf,
    _parent: tempfile::TempDir,
}

impl SmallDisk {
    /// `None` where this process may not mount (not root).
    fn mount(size: &str) -> Option<SmallDisk> {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("disk");
        std::fs::create_dir(&dir).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        mounted.then_some(SmallDisk { dir, _parent: parent })
    }

    /// Writes a file until the disk has no room left.
    fn fill(&self) -> PathBuf {
        let filler = self.dir.join("filler");
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 * 1024];
        loop {
            match f.write(&block) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(28) => break, // ENOSPC
                Err(e) => panic!("filling the disk: {e}"),
            }
        }
        // A last partial block is refused whole above: fill its remains byte-wise.
        while f.write(&[0]).is_ok_and(|n| n == 1) {}
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

/// A disk that fills up is the one way to make a file unwritable that also holds for
/// root (which CI runs as): permissions do not stop root, and a read-only remount is
/// refused while the server has the file open for writing. A tmpfs of its own, filled
/// with a file, gives SQLite a real ENOSPC, and removing the file clears it.
#[tokio::test]
async fn an_unwritable_database_answers_503_and_recovers_without_restart() {
    let Some(disk) = SmallDisk::mount("4m") else {
        skip_or_fail("mounting a tmpfs (needs root)");
        return;
    };
    let app = spawn_with(file_config(&disk.dir.join("full.db"))).await;
    app.create_task("list-todo", "while there is room").await;
    let mut events = SseClient::connect(app.request(Method::GET, "/boards/board-1/events", None)).await;
    assert_eq!(events.next().await.unwrap().json()["type"], "connected");
    let before = app.board("board-1").await.tasks.len();
    let filler = disk.fill();

    // The WAL may still have room in pages it already holds: a few writes can land.
    let mut landed = 0;
    let refused = loop {
        let resp = app
            .send_json(
                Method::POST,
                "/tasks",
                json!({"title": "no room", "listId": "list-todo"}),
            )
            .await;
        if resp.status() == StatusCode::CREATED {
            landed += 1;
            assert!(landed < 200, "the disk never filled up");
            continue;
        }
        break resp;
    };
    assert_eq!(refused.headers()["retry-after"], "1");
    let body = error_body(refused, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(body["error"]["code"], "unavailable");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("the database cannot be written (the disk is full)"),
        "{message}"
    );
    // Nothing of the refused write was applied, and reads go on.
    assert_eq!(app.board("board-1").await.tasks.len(), before + landed);
    assert_eq!(app.get("/boards/board-1/tasks").await.status(), StatusCode::OK);
    app.state
        .core
        .store()
        .ping()
        .await
        .expect("a full disk still serves reads");
    // Its events (for what did land) reached the stream, which is still open.
    for _ in 0..landed {
        let frame = tokio::time::timeout(Duration::from_secs(5), events.next())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(frame.event.as_deref(), Some("task_created"));
    }

    std::fs::remove_file(&filler).unwrap();
    let task = app.create_task("list-todo", "room again").await;
    let frame = tokio::time::timeout(Duration::from_secs(5), events.next())
        .await
        .expect("the open stream hears the first write after the disk has room")
        .unwrap();
    assert_eq!(frame.json()["task"]["id"], task.id.as_str());
    assert_eq!(app.board("board-1").await.tasks.len(), before + landed + 1);
}
