//! Task details over REST and the WebSocket: assignees (members of the board), labels
//! (of the same board) and a due date, with the version / If-Match / idempotency rules
//! of any task edit; "absent = unchanged" on PATCH; every error writes nothing and
//! appends no event; removing a member unassigns them.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_body};
use crate::labels::{board, create_label, event_json};
use crate::roles::{Ws, setup};

async fn patch(app: &TestApp, user: &str, task: &str, body: Value) -> reqwest::Response {
    app.send_as(Some(user), Method::PATCH, &format!("/tasks/{task}"), Some(body))
        .await
}

async fn task(app: &TestApp, id: &str) -> Value {
    let resp = app
        .send_as(Some("alice"), Method::GET, &format!("/tasks/{id}"), None)
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

/// user, method, path, body, status, the field the error names.
type Case<'a> = (&'a str, Method, &'a str, Value, StatusCode, Option<&'a str>);

#[tokio::test]
async fn tasks_carry_assignees_labels_and_a_due_date_from_creation() {
    let app = setup().await;
    let seeded = task(&app, "task-1").await;
    assert_eq!(
        (&seeded["assigneeIds"], &seeded["labelIds"], &seeded["dueAt"]),
        (&json!([]), &json!([]), &Value::Null),
        "a task without details still has the keys"
    );
    let bug = create_label(&app, "alice", "Bug", "#d73a4a").await;
    let bug_id = bug["id"].as_str().unwrap();
    let body = json!({
        "listId": "list-todo", "title": "Fix login",
        "assigneeIds": ["vic", "bob", "vic"], "labelIds": [bug_id], "dueAt": "2026-12-24T17:00:00Z"
    });
    let resp = app.send_as(Some("bob"), Method::POST, "/tasks", Some(body)).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let created: Value = resp.json().await.unwrap();
    assert_eq!(created["assigneeIds"], json!(["bob", "vic"]), "sorted, each once");
    assert_eq!(created["labelIds"], json!([bug_id]));
    assert_eq!(created["dueAt"], "2026-12-24T17:00:00Z");
    assert_eq!(created["version"], 1);
    let id = created["id"].as_str().unwrap();
    assert_eq!(task(&app, id).await, created, "as stored");
    let log = app.log("board-1").await;
    let event = event_json(&log, log.len() - 1);
    assert_eq!(event["type"], "task_created");
    assert_eq!(event["task"], created);
}

#[tokio::test]
async fn patch_replaces_clears_and_leaves_absent_fields_unchanged() {
    let app = setup().await;
    let bug = create_label(&app, "alice", "Bug", "#d73a4a").await;
    let bug_id = bug["id"].as_str().unwrap();
    let resp = patch(
        &app,
        "bob",
        "task-1",
        json!({"assigneeIds": ["vic"], "labelIds": [bug_id]}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["etag"], "\"2\"");
    let v2: Value = resp.json().await.unwrap();
    assert_eq!(
        (&v2["assigneeIds"], &v2["labelIds"]),
        (&json!(["vic"]), &json!([bug_id]))
    );

    // Absent: unchanged.
    let v3: Value = patch(&app, "bob", "task-1", json!({"title": "Renamed"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (v3["version"].as_u64(), v3["title"].as_str()),
        (Some(3), Some("Renamed"))
    );
    assert_eq!(
        (&v3["assigneeIds"], &v3["labelIds"], &v3["dueAt"]),
        (&v2["assigneeIds"], &v2["labelIds"], &Value::Null)
    );

    // A due date is set, then cleared with null; sub-millisecond digits are dropped.
    let v4: Value = patch(&app, "alice", "task-1", json!({"dueAt": "2026-12-24T17:00:00.123456Z"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v4["dueAt"], "2026-12-24T17:00:00.123Z");
    assert_eq!(v4["assigneeIds"], json!(["vic"]));
    let v5: Value = patch(&app, "alice", "task-1", json!({"dueAt": null}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((v5["dueAt"].clone(), v5["version"].as_u64()), (Value::Null, Some(5)));

    // [] clears a set.
    let v6: Value = patch(&app, "alice", "task-1", json!({"assigneeIds": [], "labelIds": []}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((&v6["assigneeIds"], &v6["labelIds"]), (&json!([]), &json!([])));
    assert_eq!(task(&app, "task-1").await, v6);

    let log = app.log("board-1").await;
    let updates: Vec<Value> = (0..log.len())
        .map(|i| event_json(&log, i))
        .filter(|e| e["type"] == "task_updated")
        .map(|e| e["task"].clone())
        .collect();
    assert_eq!(
        updates,
        [v2, v3, v4, v5, v6],
        "each edit is one task_updated carrying the fields"
    );
}

#[tokio::test]
async fn task_detail_errors_name_their_field_and_write_nothing() {
    let app = setup().await;
    let other: Value = app
        .send_as(
            Some("alice"),
            Method::POST,
            "/boards/board-2/labels",
            Some(json!({"name": "Elsewhere", "color": "#000000"})),
        )
        .await
        .json()
        .await
        .unwrap();
    let other_label = other["id"].as_str().unwrap();
    let before = board(&app).await;
    let before_log = app.log("board-1").await.len();
    let create = |extra: Value| {
        let mut body = json!({"listId": "list-todo", "title": "t"});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        body
    };
    let cases: Vec<Case> = vec![
        (
            "alice",
            Method::PATCH,
            "/tasks/task-1",
            json!({"assigneeIds": ["nina"]}),
            StatusCode::BAD_REQUEST,
            Some("assigneeIds"),
        ),
        (
            "alice",
            Method::PATCH,
            "/tasks/task-1",
            json!({"assigneeIds": ["nobody"]}),
            StatusCode::BAD_REQUEST,
            Some("assigneeIds"),
        ),
        (
            "alice",
            Method::PATCH,
            "/tasks/task-1",
            json!({"assigneeIds": [""]}),
            StatusCode::BAD_REQUEST,
            Some("assigneeIds"),
        ),
        (
            "alice",
            Method::PATCH,
            "/tasks/task-1",
            json!({"assigneeIds": null}),
            StatusCode::BAD_REQUEST,
            Some("assigneeIds"),
        ),
        (
            "alice",
            Method::PATCH,
            "/tasks/task-1",
            json!({"labelIds": [other_label]}),
            StatusCode::BAD_REQUEST,
            Some("labelIds"),
        ),
        (
            "alice",
            Method::PATCH,
            "/tasks/task-1",
            json!({"labelIds": ["label-nope"]}),
            StatusCode::BAD_REQUEST,
            Some("labelIds"),
        ),
        (
            "alice",
            Method::PATCH,
            "/tasks/task-1",
            json!({"labelIds": "label-1"}),
            StatusCode::BAD_REQUEST,
            Some("labelIds"),
        ),
        (
            "alice",
            Method::PATCH,
            "/tasks/task-1",
            json!({"dueAt": "tomorrow"}),
            StatusCode::BAD_REQUEST,
            Some("dueAt"),
        ),
        (
            "alice",
            Method::PATCH,
            "/tasks/task-1",
            json!({"dueAt": 1700000000}),
            StatusCode::BAD_REQUEST,
            Some("dueAt"),
        ),
        (
            "alice",
            Method::PATCH,
            "/tasks/task-1",
            json!({"title": "ok", "assigneeIds": ["nina"]}),
            StatusCode::BAD_REQUEST,
            Some("assigneeIds"),
        ),
        (
            "alice",
            Method::PATCH,
            "/tasks/task-1",
            json!({"assigneeIds": ["bob"], "expectedVersion": 7}),
            StatusCode::CONFLICT,
            None,
        ),
        (
            "vic",
            Method::PATCH,
            "/tasks/task-1",
            json!({"assigneeIds": ["vic"]}),
            StatusCode::FORBIDDEN,
            None,
        ),
        (
            "nina",
            Method::PATCH,
            "/tasks/task-1",
            json!({"dueAt": null}),
            StatusCode::NOT_FOUND,
            None,
        ),
        (
            "alice",
            Method::POST,
            "/tasks",
            create(json!({"assigneeIds": ["nina"]})),
            StatusCode::BAD_REQUEST,
            Some("assigneeIds"),
        ),
        (
            "alice",
            Method::POST,
            "/tasks",
            create(json!({"labelIds": [other_label]})),
            StatusCode::BAD_REQUEST,
            Some("labelIds"),
        ),
        (
            "alice",
            Method::POST,
            "/tasks",
            create(json!({"dueAt": "2026-13-01T00:00:00Z"})),
            StatusCode::BAD_REQUEST,
            Some("dueAt"),
        ),
        (
            "alice",
            Method::POST,
            "/tasks",
            create(json!({"assigneeIds": "bob"})),
            StatusCode::BAD_REQUEST,
            Some("assigneeIds"),
        ),
    ];
    for (user, method, path, body, status, field) in cases {
        let resp = app.send_as(Some(user), method.clone(), path, Some(body.clone())).await;
        let err = error_body(resp, status).await;
        assert_eq!(
            err["error"]["field"].as_str(),
            field,
            "{user} {method} {path} {body}: {err}"
        );
        if field == Some("assigneeIds") && body.to_string().contains("nina") {
            assert_eq!(
                err["error"]["message"],
                "assigneeIds: `nina` is not a member of board `board-1`"
            );
        }
    }
    // A stale If-Match on a detail edit is a failed precondition.
    let resp = app
        .request(Method::PATCH, "/tasks/task-1", Some("alice"))
        .header("if-match", "\"9\"")
        .json(&json!({"labelIds": []}))
        .send()
        .await
        .unwrap();
    error_body(resp, StatusCode::PRECONDITION_FAILED).await;
    assert_eq!(board(&app).await, before, "nothing written");
    assert_eq!(app.log("board-1").await.len(), before_log, "no event appended");
}

#[tokio::test]
async fn detail_edits_honour_if_match_and_replay_by_idempotency_key() {
    let app = setup().await;
    let send = |key: &'static str, version: &'static str, body: Value| {
        app.request(Method::PATCH, "/tasks/task-2", Some("bob"))
            .header("idempotency-key", key)
            .header("if-match", version)
            .json(&body)
            .send()
    };
    let body = json!({"assigneeIds": ["alice"], "dueAt": "2027-01-01T00:00:00Z"});
    let first = send("d-1", "\"1\"", body.clone()).await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["version"], 2);
    let log = app.log("board-1").await.len();
    // The retry gets the first answer (its If-Match, now stale, is not re-checked).
    let again = send("d-1", "\"1\"", body).await.unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(app.log("board-1").await.len(), log, "no second event");
    // Another change under the same key is refused; a new key with the stale version too.
    error_body(
        send("d-1", "\"1\"", json!({"assigneeIds": []})).await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    error_body(
        send("d-2", "\"1\"", json!({"assigneeIds": []})).await.unwrap(),
        StatusCode::PRECONDITION_FAILED,
    )
    .await;
    assert_eq!(task(&app, "task-2").await, first);
    assert_eq!(app.log("board-1").await.len(), log);
}

#[tokio::test]
async fn removing_a_member_unassigns_them_without_bumping_versions() {
    let app = setup().await;
    for t in ["task-1", "task-3"] {
        let resp = patch(&app, "alice", t, json!({"assigneeIds": ["bob", "vic"]})).await;
        assert_eq!(resp.status(), StatusCode::OK);
    }
    let before = board(&app).await;
    let resp = app
        .send_as(Some("alice"), Method::DELETE, "/boards/board-1/members/bob", None)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let log = app.log("board-1").await;
    let removed = event_json(&log, log.len() - 1);
    assert_eq!(removed["type"], "member_removed");
    assert_eq!(removed["unassignedTaskIds"], json!(["task-1", "task-3"]));
    // vic leaves of their own accord: the same.
    let resp = app
        .send_as(Some("vic"), Method::DELETE, "/boards/board-1/members/vic", None)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let log = app.log("board-1").await;
    assert_eq!(
        event_json(&log, log.len() - 1)["unassignedTaskIds"],
        json!(["task-1", "task-3"])
    );
    let after = board(&app).await;
    for (old, new) in before.tasks.iter().zip(&after.tasks) {
        assert_eq!(new.version, old.version, "{}", new.id);
        assert!(new.assignee_ids.is_empty(), "{}: {:?}", new.id, new.assignee_ids);
    }
    // A member with no assignments: an empty list.
    let resp = app
        .send_as(
            Some("alice"),
            Method::POST,
            "/boards/board-1/members",
            Some(json!({"username": "nina", "role": "editor"})),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let resp = app
        .send_as(Some("alice"), Method::DELETE, "/boards/board-1/members/nina", None)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let log = app.log("board-1").await;
    assert_eq!(event_json(&log, log.len() - 1)["unassignedTaskIds"], json!([]));
}

#[tokio::test]
async fn websocket_task_crud_carries_the_new_fields() {
    let app = setup().await;
    let bug = create_label(&app, "alice", "Bug", "#d73a4a").await;
    let mut ws = Ws::open(&app, Some("bob")).await;
    let create = json!({"type": "create_task", "requestId": "w-1", "listId": "list-todo", "title": "socket",
        "assigneeIds": ["alice"], "labelIds": [bug["id"]], "dueAt": "2026-12-24T17:00:00Z"});
    let ack = ws.ask(create).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(
        (
            &ack["task"]["assigneeIds"],
            &ack["task"]["labelIds"],
            &ack["task"]["dueAt"]
        ),
        (&json!(["alice"]), &json!([bug["id"]]), &json!("2026-12-24T17:00:00Z"))
    );
    let id = ack["task"]["id"].clone();
    let ack = ws
        .ask(json!({"type": "update_task", "requestId": "w-2", "taskId": id, "assigneeIds": [], "dueAt": null, "expectedVersion": 1}))
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(
        (
            &ack["task"]["assigneeIds"],
            &ack["task"]["labelIds"],
            &ack["task"]["dueAt"],
            &ack["task"]["version"]
        ),
        (&json!([]), &json!([bug["id"]]), &Value::Null, &json!(2))
    );
    let before = app.log("board-1").await.len();
    let err = ws
        .ask(json!({"type": "update_task", "requestId": "w-3", "taskId": id, "assigneeIds": ["nina"]}))
        .await;
    assert_eq!(
        (err["type"].as_str(), err["field"].as_str()),
        (Some("error"), Some("assigneeIds")),
        "{err}"
    );
    let mut viewer = Ws::open(&app, Some("vic")).await;
    let err = viewer
        .ask(json!({"type": "update_task", "requestId": "w-4", "taskId": id, "labelIds": []}))
        .await;
    assert_eq!(err["code"], "permission_denied", "{err}");
    assert_eq!(app.log("board-1").await.len(), before);
}
