//! The README's grpcurl commands, run with the real grpcurl against a live server:
//! reflection lists and describes the contract, and every RPC can be called.

use serde_json::Value;
use tokio::process::Command;

use crate::helpers::{skip_or_fail, spawn_app};

async fn grpcurl(args: &[&str]) -> (bool, String) {
    let out = Command::new("grpcurl").args(args).output().await.expect("grpcurl runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

async fn call(addr: &str, method: &str, body: &str) -> Value {
    let (ok, out) = grpcurl(&[
        "-plaintext",
        "-d",
        body,
        addr,
        &format!("boardcast.v1.BoardService/{method}"),
    ])
    .await;
    assert!(ok, "{method}: {out}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{method} printed JSON ({e}): {out}"))
}

#[tokio::test]
async fn grpcurl_lists_describes_and_calls_every_rpc() {
    if Command::new("grpcurl").arg("-version").output().await.is_err() {
        return skip_or_fail("grpcurl");
    }
    let app = spawn_app().await;
    let addr = app.addr.to_string();

    let (ok, out) = grpcurl(&["-plaintext", &addr, "list"]).await;
    assert!(ok, "{out}");
    for service in [
        "boardcast.v1.BoardService",
        "boardcast.v1.AccountService",
        "grpc.health.v1.Health",
    ] {
        assert!(out.contains(service), "list shows {service}: {out}");
    }
    let (ok, out) = grpcurl(&["-plaintext", &addr, "describe", "boardcast.v1.BoardService"]).await;
    assert!(ok, "{out}");
    for rpc in [
        "ListBoards",
        "GetBoard",
        "ListTasks",
        "GetTask",
        "CreateTask",
        "UpdateTask",
        "MoveTask",
        "DeleteTask",
        "CreateBoard",
        "UpdateBoard",
        "DeleteBoard",
        "CreateList",
        "UpdateList",
        "MoveList",
        "DeleteList",
        "ListMembers",
        "AddMember",
        "UpdateMember",
        "RemoveMember",
        "ListLabels",
        "CreateLabel",
        "UpdateLabel",
        "DeleteLabel",
        "ListActivity",
    ] {
        assert!(out.contains(&format!("rpc {rpc} ")), "describe shows {rpc}: {out}");
    }
    let (ok, out) = grpcurl(&["-plaintext", &addr, "describe", "boardcast.v1.BoardEvent"]).await;
    assert!(ok && out.contains("oneof payload"), "{out}");

    let boards = call(&addr, "ListBoards", "{}").await;
    assert_eq!(boards["boards"][0]["id"], "board-1");
    let board = call(&addr, "GetBoard", r#"{"board_id":"board-1"}"#).await;
    assert_eq!(board["lists"].as_array().unwrap().len(), 3);
    let tasks = call(&addr, "ListTasks", r#"{"board_id":"board-1","list_id":"list-done"}"#).await;
    assert_eq!(tasks["tasks"][0]["id"], "task-5");
    let task = call(&addr, "GetTask", r#"{"task_id":"task-1"}"#).await;
    assert_eq!(task["task"]["title"], "Write the launch announcement");
    let created = call(&addr, "CreateTask", r#"{"list_id":"list-todo","title":"From grpcurl"}"#).await;
    let id = created["task"]["id"].as_str().unwrap().to_owned();
    let updated = call(
        &addr,
        "UpdateTask",
        &format!(r#"{{"task_id":"{id}","title":"Renamed"}}"#),
    )
    .await;
    assert_eq!(updated["task"]["title"], "Renamed");
    let moved = call(
        &addr,
        "MoveTask",
        &format!(r#"{{"task_id":"{id}","list_id":"list-done","position":0}}"#),
    )
    .await;
    assert_eq!(moved["task"]["listId"], "list-done");
    let deleted = call(&addr, "DeleteTask", &format!(r#"{{"task_id":"{id}"}}"#)).await;
    assert_eq!(deleted["taskId"], id.as_str());
    assert_eq!(app.log("board-1").await.len(), 4);
    let label = call(
        &addr,
        "CreateLabel",
        r##"{"board_id":"board-1","name":"Bug","color":"#d73a4a"}"##,
    )
    .await;
    assert_eq!(label["label"]["color"], "#d73a4a");
    let activity = call(&addr, "ListActivity", r#"{"board_id":"board-1","limit":2}"#).await;
    assert_eq!(activity["entries"][0]["summary"], "Guest created label “Bug”");
    assert_eq!(activity["entries"][1]["type"], "task_deleted");

    // Boards, lists and members, on a board of the guest's own.
    let made = call(&addr, "CreateBoard", r#"{"name":"From grpcurl"}"#).await;
    let board_id = made["board"]["id"].as_str().unwrap().to_owned();
    // grpcurl prints 64-bit integers as strings, as canonical proto3 JSON has them.
    assert_eq!(
        (made["lists"].as_array().unwrap().len(), made["seq"].as_str()),
        (3, Some("1"))
    );
    let list = call(
        &addr,
        "CreateList",
        &format!(r#"{{"board_id":"{board_id}","name":"Ideas","position":0}}"#),
    )
    .await;
    let list_id = list["list"]["id"].as_str().unwrap().to_owned();
    call(
        &addr,
        "UpdateList",
        &format!(r#"{{"list_id":"{list_id}","name":"Later"}}"#),
    )
    .await;
    let moved = call(&addr, "MoveList", &format!(r#"{{"list_id":"{list_id}","position":3}}"#)).await;
    assert_eq!(moved["list"]["position"], 3);
    call(&addr, "DeleteList", &format!(r#"{{"list_id":"{list_id}"}}"#)).await;
    let added = call(
        &addr,
        "AddMember",
        &format!(r#"{{"board_id":"{board_id}","username":"bob","role":"ROLE_VIEWER"}}"#),
    )
    .await;
    assert_eq!(added["member"]["role"], "ROLE_VIEWER");
    call(
        &addr,
        "UpdateMember",
        &format!(r#"{{"board_id":"{board_id}","user_id":"bob","role":"ROLE_EDITOR"}}"#),
    )
    .await;
    let members = call(&addr, "ListMembers", &format!(r#"{{"board_id":"{board_id}"}}"#)).await;
    assert_eq!(members["members"].as_array().unwrap().len(), 2);
    call(
        &addr,
        "RemoveMember",
        &format!(r#"{{"board_id":"{board_id}","user_id":"bob"}}"#),
    )
    .await;
    call(
        &addr,
        "UpdateBoard",
        &format!(r#"{{"board_id":"{board_id}","archived":true}}"#),
    )
    .await;
    let gone = call(&addr, "DeleteBoard", &format!(r#"{{"board_id":"{board_id}"}}"#)).await;
    assert_eq!(gone["seq"], "10", "ten events, board_created to board_deleted");

    let (ok, out) = grpcurl(&[
        "-plaintext",
        "-d",
        r#"{"list_id":"list-todo","title":""}"#,
        &addr,
        "boardcast.v1.BoardService/CreateTask",
    ])
    .await;
    assert!(
        !ok && out.contains("InvalidArgument") && out.contains("title must not be empty"),
        "{out}"
    );
}

#[tokio::test]
async fn grpcurl_signs_in_and_uses_the_token() {
    if Command::new("grpcurl").arg("-version").output().await.is_err() {
        return skip_or_fail("grpcurl");
    }
    let app = spawn_app().await;
    let addr = app.addr.to_string();
    let (ok, out) = grpcurl(&["-plaintext", &addr, "describe", "boardcast.v1.AccountService"]).await;
    assert!(ok, "{out}");
    for rpc in [
        "Signup",
        "Login",
        "Logout",
        "GetMe",
        "CreateToken",
        "ListTokens",
        "RevokeToken",
    ] {
        assert!(out.contains(&format!("rpc {rpc} ")), "describe shows {rpc}: {out}");
    }
    let (ok, out) = grpcurl(&[
        "-plaintext",
        "-d",
        r#"{"username":"carol","password":"carol-demo-pw"}"#,
        &addr,
        "boardcast.v1.AccountService/Login",
    ])
    .await;
    assert!(ok, "{out}");
    let login: Value = serde_json::from_str(&out).unwrap();
    let token = login["token"].as_str().unwrap();
    let header = format!("authorization: Bearer {token}");
    let (ok, out) = grpcurl(&[
        "-plaintext",
        "-H",
        &header,
        &addr,
        "boardcast.v1.BoardService/ListBoards",
    ])
    .await;
    assert!(ok, "{out}");
    let boards: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(boards["boards"][0]["id"], "board-2", "carol's boards: {out}");
    assert_eq!(boards["boards"].as_array().unwrap().len(), 1, "{out}");
}
