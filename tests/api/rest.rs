//! REST CRUD as the seed's walkthrough uses it, and the ordering and version rules.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{dense_order, spawn_app};
use boardcast::proto::v1::{ListBoardsResponse, ListTasksResponse, Task};

#[tokio::test]
async fn seed_walkthrough_works_verbatim() {
    let app = spawn_app().await;

    // curl http://localhost:3000/boards/board-1/tasks
    let resp = app.get("/boards/board-1/tasks").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let tasks: ListTasksResponse = resp.json().await.unwrap();
    let ids: Vec<&str> = tasks.tasks.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["task-1", "task-2", "task-3", "task-4", "task-5"]);

    // curl -X POST /tasks -d '{"title":"Live from the capstone!","listId":"list-todo"}'
    let resp = app
        .http
        .post(app.url("/tasks"))
        .header("Content-Type", "application/json")
        .body(r#"{"title":"Live from the capstone!","listId":"list-todo"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(resp.headers()["etag"], "\"1\"");
    let created: Value = resp.json().await.unwrap();
    assert_eq!(created["title"], "Live from the capstone!");
    assert_eq!(created["listId"], "list-todo");
    assert_eq!(created["boardId"], "board-1");
    assert_eq!(created["position"], 2, "appended after task-1 and task-2");
    assert_eq!(created["version"], 1);
    assert_eq!(created["createdBy"], "guest");
    assert_eq!(location, format!("/tasks/{}", created["id"].as_str().unwrap()));
    let fetched: Value = app.get(&location).await.json().await.unwrap();
    assert_eq!(fetched, created);

    // curl -X PATCH /tasks/task-1/move -d '{"listId":"list-done","position":0}'
    let resp = app
        .http
        .patch(app.url("/tasks/task-1/move"))
        .header("Content-Type", "application/json")
        .body(r#"{"listId":"list-done","position":0}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["etag"], "\"2\"");
    let moved: Task = resp.json().await.unwrap();
    assert_eq!(
        (moved.list_id.as_str(), moved.position, moved.version),
        ("list-done", 0, 2)
    );

    let board = app.board("board-1").await;
    assert_eq!(dense_order(&board, "list-done"), ["task-1", "task-5"]);
    assert_eq!(
        dense_order(&board, "list-todo")[0],
        "task-2",
        "the gap task-1 left is closed"
    );

    // DELETE /tasks/:id
    let resp = app.request(Method::DELETE, "/tasks/task-2", None).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get("/tasks/task-2").await.status(), StatusCode::NOT_FOUND);
    let board = app.board("board-1").await;
    assert_eq!(dense_order(&board, "list-todo"), [created["id"].as_str().unwrap()]);
    assert_eq!(board.seq, 3, "create, move, delete: three events");
}

#[tokio::test]
async fn boards_list_only_what_the_caller_is_a_member_of() {
    let app = spawn_app().await;
    let ids = |r: ListBoardsResponse| r.boards.into_iter().map(|b| b.id).collect::<Vec<_>>();
    for (user, expected) in [
        (None, vec!["board-1", "board-2"]),
        (Some("alice"), vec!["board-1", "board-2"]),
        (Some("bob"), vec!["board-1"]),
        (Some("carol"), vec!["board-2"]),
    ] {
        let resp = app.request(Method::GET, "/boards", user).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(ids(resp.json().await.unwrap()), expected, "{user:?}");
    }
}

#[tokio::test]
async fn get_board_returns_lists_tasks_and_current_seq() {
    let app = spawn_app().await;
    let board = app.board("board-1").await;
    assert_eq!(board.board.as_ref().unwrap().name, "Launch");
    let lists: Vec<&str> = board.lists.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(lists, ["list-todo", "list-doing", "list-done"]);
    assert_eq!(board.tasks.len(), 5);
    assert_eq!(board.seq, 0, "seed data is not an event");
    app.create_task("list-doing", "one more").await;
    assert_eq!(app.board("board-1").await.seq, 1);
    assert_eq!(app.board("board-2").await.seq, 0, "seq is per board");

    let resp = app.get("/boards/board-1/tasks?listId=list-doing").await;
    let tasks: ListTasksResponse = resp.json().await.unwrap();
    let ids: Vec<&str> = tasks.tasks.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(
        ids,
        ["Design the landing page", "Fix the sign-up email bug", "one more"]
    );
}

#[tokio::test]
async fn create_at_a_position_shifts_siblings_and_clamps_past_the_end() {
    let app = spawn_app().await;
    let front = app
        .send_json(
            Method::POST,
            "/tasks",
            json!({"title": "first", "listId": "list-todo", "position": 0}),
        )
        .await;
    let front: Task = front.json().await.unwrap();
    assert_eq!(front.position, 0);
    let far = app
        .send_json(
            Method::POST,
            "/tasks",
            json!({"title": "far", "listId": "list-todo", "position": 999}),
        )
        .await;
    let far: Task = far.json().await.unwrap();
    assert_eq!(far.position, 3, "clamped to the end");
    let board = app.board("board-1").await;
    assert_eq!(
        dense_order(&board, "list-todo"),
        [front.id.as_str(), "task-1", "task-2", far.id.as_str()]
    );
}

#[tokio::test]
async fn moves_renumber_both_lists_and_clamp() {
    let app = spawn_app().await;
    // Within a list: task-4 to the front of list-doing.
    let resp = app
        .send_json(
            Method::PATCH,
            "/tasks/task-4/move",
            json!({"listId": "list-doing", "position": 0}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let board = app.board("board-1").await;
    assert_eq!(dense_order(&board, "list-doing"), ["task-4", "task-3"]);

    // Across lists, past the end: clamps to the end of list-done.
    let resp = app
        .send_json(
            Method::PATCH,
            "/tasks/task-1/move",
            json!({"listId": "list-done", "position": 50}),
        )
        .await;
    let moved: Task = resp.json().await.unwrap();
    assert_eq!(moved.position, 1);
    // No position: to the end.
    app.send_json(Method::PATCH, "/tasks/task-2/move", json!({"listId": "list-done"}))
        .await;
    let board = app.board("board-1").await;
    assert_eq!(dense_order(&board, "list-done"), ["task-5", "task-1", "task-2"]);
    assert!(dense_order(&board, "list-todo").is_empty());

    // The event says where every shifted sibling went.
    let log = app.log("board-1").await;
    let Some(boardcast::proto::v1::board_event::Payload::TaskMoved(m)) = &log[0].payload else {
        panic!("first event is the move: {:?}", log[0]);
    };
    assert_eq!((m.from_list_id.as_str(), m.from_position), ("list-doing", 1));
    let shifted: Vec<(&str, i32)> = m.shifted.iter().map(|p| (p.task_id.as_str(), p.position)).collect();
    assert_eq!(shifted, [("task-3", 1)]);
}

#[tokio::test]
async fn update_bumps_version_and_etag_and_if_match_guards_it() {
    let app = spawn_app().await;
    let resp = app
        .request(Method::PATCH, "/tasks/task-3", None)
        .header("If-Match", "\"1\"")
        .json(&json!({"title": "  Landing page v2  ", "description": "now with video"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["etag"], "\"2\"");
    let task: Task = resp.json().await.unwrap();
    assert_eq!(
        (task.title.as_str(), task.description.as_str(), task.version),
        ("Landing page v2", "now with video", 2)
    );

    let resp = app.get("/tasks/task-3").await;
    assert_eq!(resp.headers()["etag"], "\"2\"");

    // Only description: title stays.
    let resp = app
        .send_json(
            Method::PATCH,
            "/tasks/task-3",
            json!({"description": "", "expectedVersion": 2}),
        )
        .await;
    let task: Task = resp.json().await.unwrap();
    assert_eq!(
        (task.title.as_str(), task.description.as_str(), task.version),
        ("Landing page v2", "", 3)
    );
}

#[tokio::test]
async fn idempotency_key_retry_returns_the_first_result_once() {
    let app = spawn_app().await;
    let post = |title: &'static str| {
        app.request(Method::POST, "/tasks", None)
            .header("Idempotency-Key", "create-42")
            .json(&json!({"title": title, "listId": "list-todo"}))
            .send()
    };
    let first = post("retry me").await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Task = first.json().await.unwrap();
    let again = post("retry me").await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    let again: Task = again.json().await.unwrap();
    assert_eq!(again, first, "the retry answers with the first result");

    let board = app.board("board-1").await;
    assert_eq!(board.tasks.iter().filter(|t| t.title == "retry me").count(), 1);
    assert_eq!(board.seq, 1, "one event for two deliveries");
    let log = app.log("board-1").await;
    assert_eq!(log[0].request_id, "create-42", "the event carries the request id");

    let different = post("something else").await.unwrap();
    assert_eq!(different.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = different.json().await.unwrap();
    assert_eq!(body["error"]["code"], "idempotency_key_reused");
    assert_eq!(app.board("board-1").await.seq, 1);

    // A delete retried answers 204 again rather than 404.
    for _ in 0..2 {
        let resp = app
            .request(Method::DELETE, "/tasks/task-1", None)
            .header("Idempotency-Key", "del-1")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    }
    assert_eq!(app.board("board-1").await.seq, 2);

    // Keys are per user: bob may use the same key for his own request.
    let resp = app
        .request(Method::POST, "/tasks", Some("bob"))
        .header("Idempotency-Key", "create-42")
        .json(&json!({"title": "bob's", "listId": "list-todo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
}
