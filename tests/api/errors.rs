//! Bad input gets a clear error that names the problem, and changes nothing: the board
//! and its event log are exactly as before.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, error_body, spawn_app};

/// Runs `bad` and checks board-1 (tasks, versions, seq) is untouched afterwards.
async fn unchanged<F, Fut>(app: &TestApp, bad: F)
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let before = app.board("board-1").await;
    bad().await;
    let after = app.board("board-1").await;
    assert_eq!(after, before, "a refused request changed the board");
    assert!(
        app.log("board-1").await.is_empty(),
        "a refused request appended an event"
    );
}

#[tokio::test]
async fn malformed_json_is_400_naming_the_problem() {
    let app = spawn_app().await;
    unchanged(&app, || async {
        let resp = app
            .http
            .post(app.url("/tasks"))
            .header("content-type", "application/json")
            .body(r#"{"title": "x", "listId": "list-todo""#)
            .send()
            .await
            .unwrap();
        let body = error_body(resp, StatusCode::BAD_REQUEST).await;
        assert_eq!(body["error"]["code"], "invalid_argument");
        assert!(
            body["error"]["message"].as_str().unwrap().contains("invalid JSON body"),
            "{body}"
        );
    })
    .await;
    unchanged(&app, || async {
        let resp = app
            .send_json(Method::POST, "/tasks", json!({"title": 7, "listId": "list-todo"}))
            .await;
        let body = error_body(resp, StatusCode::BAD_REQUEST).await;
        assert_eq!(body["error"]["field"], "title");
    })
    .await;
    unchanged(&app, || async {
        let resp = app
            .send_json(Method::POST, "/tasks", json!({"titel": "x", "listId": "list-todo"}))
            .await;
        let body = error_body(resp, StatusCode::BAD_REQUEST).await;
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("unknown field `titel`"),
            "{body}"
        );
    })
    .await;
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let app = spawn_app().await;
    unchanged(&app, || async {
        let resp = app
            .http
            .post(app.url("/tasks"))
            .header("content-type", "text/plain")
            .body(r#"{"title":"x","listId":"list-todo"}"#)
            .send()
            .await
            .unwrap();
        let body = error_body(resp, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
        assert_eq!(body["error"]["code"], "unsupported_media_type");
    })
    .await;
}

#[tokio::test]
async fn body_over_64_kib_is_413() {
    let app = spawn_app().await;
    unchanged(&app, || async {
        let big = "x".repeat(70 * 1024);
        let resp = app
            .send_json(
                Method::POST,
                "/tasks",
                json!({"title": "x", "listId": "list-todo", "description": big}),
            )
            .await;
        let body = error_body(resp, StatusCode::PAYLOAD_TOO_LARGE).await;
        assert_eq!(body["error"]["code"], "payload_too_large");
    })
    .await;
}

#[tokio::test]
async fn unknown_board_list_task_and_route_are_404() {
    let app = spawn_app().await;
    for path in [
        "/boards/nope",
        "/boards/nope/tasks",
        "/tasks/nope",
        "/boards/board-1/tasks?listId=list-backlog",
        "/nope",
    ] {
        let body = error_body(app.get(path).await, StatusCode::NOT_FOUND).await;
        assert_eq!(body["error"]["code"], "not_found", "{path}");
    }
    unchanged(&app, || async {
        let resp = app
            .send_json(Method::POST, "/tasks", json!({"title": "x", "listId": "list-nope"}))
            .await;
        let body = error_body(resp, StatusCode::NOT_FOUND).await;
        assert_eq!(body["error"]["message"], "list `list-nope` not found");
    })
    .await;
    unchanged(&app, || async {
        let resp = app
            .send_json(Method::PATCH, "/tasks/task-1/move", json!({"listId": "list-nope"}))
            .await;
        error_body(resp, StatusCode::NOT_FOUND).await;
        let resp = app.send_json(Method::PATCH, "/tasks/nope", json!({"title": "x"})).await;
        error_body(resp, StatusCode::NOT_FOUND).await;
        let resp = app.request(Method::DELETE, "/tasks/nope", None).send().await.unwrap();
        error_body(resp, StatusCode::NOT_FOUND).await;
    })
    .await;
    let resp = app.request(Method::PUT, "/boards", None).send().await.unwrap();
    error_body(resp, StatusCode::METHOD_NOT_ALLOWED).await;
}

#[tokio::test]
async fn invalid_fields_are_400_naming_the_field() {
    let app = spawn_app().await;
    let cases = [
        (
            Method::POST,
            "/tasks",
            json!({"title": "   ", "listId": "list-todo"}),
            "title",
        ),
        (
            Method::POST,
            "/tasks",
            json!({"title": "t".repeat(201), "listId": "list-todo"}),
            "title",
        ),
        (Method::POST, "/tasks", json!({"title": "x"}), "listId"),
        (
            Method::POST,
            "/tasks",
            json!({"title": "x", "listId": "list-todo", "description": "d".repeat(10_001)}),
            "description",
        ),
        (
            Method::POST,
            "/tasks",
            json!({"title": "x", "listId": "list-todo", "position": -1}),
            "position",
        ),
        (
            Method::POST,
            "/tasks",
            json!({"title": "x", "listId": "list-todo", "boardId": "board-2"}),
            "boardId",
        ),
        (Method::PATCH, "/tasks/task-1", json!({"title": ""}), "title"),
        (Method::PATCH, "/tasks/task-1/move", json!({"position": 0}), "listId"),
        (
            Method::PATCH,
            "/tasks/task-1/move",
            json!({"listId": "list-todo", "position": -3}),
            "position",
        ),
        // A list of another board.
        (
            Method::PATCH,
            "/tasks/task-1/move",
            json!({"listId": "list-backlog"}),
            "listId",
        ),
        (
            Method::PATCH,
            "/tasks/task-1",
            json!({"title": "x", "taskId": "task-2"}),
            "taskId",
        ),
    ];
    for (method, path, body, field) in cases {
        unchanged(&app, || async {
            let resp = app.send_json(method.clone(), path, body.clone()).await;
            let err = error_body(resp, StatusCode::BAD_REQUEST).await;
            assert_eq!(err["error"]["field"], field, "{method} {path} {body}: {err}");
            assert!(err["error"]["message"].as_str().unwrap().contains(field), "{err}");
        })
        .await;
    }
    unchanged(&app, || async {
        let resp = app.send_json(Method::PATCH, "/tasks/task-1", json!({})).await;
        let err = error_body(resp, StatusCode::BAD_REQUEST).await;
        assert!(err["error"]["message"].as_str().unwrap().contains("nothing to update"));
    })
    .await;
}

#[tokio::test]
async fn stale_version_is_409_in_the_body_and_412_with_if_match() {
    let app = spawn_app().await;
    unchanged(&app, || async {
        let resp = app
            .send_json(
                Method::PATCH,
                "/tasks/task-1",
                json!({"title": "x", "expectedVersion": 7}),
            )
            .await;
        let err = error_body(resp, StatusCode::CONFLICT).await;
        assert_eq!(err["error"]["code"], "version_conflict");
        assert!(err["error"]["message"].as_str().unwrap().contains("version 1"), "{err}");

        let resp = app
            .send_json(
                Method::PATCH,
                "/tasks/task-1/move",
                json!({"listId": "list-done", "expectedVersion": 0}),
            )
            .await;
        error_body(resp, StatusCode::CONFLICT).await;

        for (method, path, body) in [
            (Method::PATCH, "/tasks/task-1", Some(json!({"title": "x"}))),
            (
                Method::PATCH,
                "/tasks/task-1/move",
                Some(json!({"listId": "list-done"})),
            ),
            (Method::DELETE, "/tasks/task-1", None),
        ] {
            let mut req = app.request(method, path, None).header("If-Match", "\"5\"");
            if let Some(body) = body {
                req = req.json(&body);
            }
            let err = error_body(req.send().await.unwrap(), StatusCode::PRECONDITION_FAILED).await;
            assert_eq!(err["error"]["code"], "precondition_failed");
        }

        let resp = app
            .request(Method::DELETE, "/tasks/task-1", None)
            .header("If-Match", "W/\"1\"")
            .send()
            .await
            .unwrap();
        let err = error_body(resp, StatusCode::BAD_REQUEST).await;
        assert_eq!(err["error"]["field"], "If-Match");
    })
    .await;

    // The current version passes.
    let resp = app
        .request(Method::DELETE, "/tasks/task-1", None)
        .header("If-Match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
}

/// A JSON body sent as is, so the test controls every byte.
async fn send_raw(app: &TestApp, method: Method, path: &str, body: &str) -> reqwest::Response {
    app.http
        .request(method, app.url(path))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn rest_bodies_that_are_json_arrays_are_refused_not_taken_by_position() {
    let app = spawn_app().await;
    unchanged(&app, || async {
        let resp = send_raw(&app, Method::POST, "/tasks", r#"["list-todo","x"]"#).await;
        let body = error_body(resp, StatusCode::BAD_REQUEST).await;
        assert_eq!(body["error"]["field"], "body", "{body}");
        assert_eq!(
            body["error"]["message"], "the request body must be a JSON object",
            "{body}"
        );
    })
    .await;
    let task = app.create_task("list-todo", "keep").await;
    let before = app.board("board-1").await;
    let path = format!("/tasks/{}", task.id);
    let resp = send_raw(&app, Method::PATCH, &path, &format!(r#" ["{}","y"]"#, task.id)).await;
    let body = error_body(resp, StatusCode::BAD_REQUEST).await;
    assert_eq!(body["error"]["field"], "body", "{body}");
    assert_eq!(app.board("board-1").await, before, "a refused rename changed the board");
}

#[tokio::test]
async fn bytes_after_the_json_body_are_refused_not_ignored() {
    let app = spawn_app().await;
    for bad in [
        r#"{"title":"t","listId":"list-todo"} xyz"#,
        r#"{"title":"t","listId":"list-todo"}{"title":"u","listId":"list-todo"}"#,
    ] {
        unchanged(&app, || async {
            let resp = send_raw(&app, Method::POST, "/tasks", bad).await;
            let body = error_body(resp, StatusCode::BAD_REQUEST).await;
            assert_eq!(body["error"]["field"], "body", "{body}");
            assert!(
                body["error"]["message"].as_str().unwrap().contains("line 1 column"),
                "{body}"
            );
        })
        .await;
    }
    let resp = send_raw(
        &app,
        Method::POST,
        "/tasks",
        "{\"title\":\"t\",\"listId\":\"list-todo\"} \r\n\t",
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CREATED, "trailing whitespace is fine");
}

#[tokio::test]
async fn json_syntax_errors_never_name_the_field_question_mark() {
    let app = spawn_app().await;
    for (bad, field) in [
        // A broken key: serde cannot name the field, so no field is named.
        (r#"{"title" "x", "listId": "list-todo"}"#, None),
        (r#"{"title": "x", "listId": "list-todo""#, None),
        (r#"{"title": "x", lis"#, None),
        // A broken value: the field it belongs to is known.
        (r#"{"title": x, "listId": "list-todo"}"#, Some("title")),
    ] {
        unchanged(&app, || async {
            let resp = send_raw(&app, Method::POST, "/tasks", bad).await;
            let body = error_body(resp, StatusCode::BAD_REQUEST).await;
            let message = body["error"]["message"].as_str().unwrap();
            assert!(!message.contains('?'), "{bad}: {body}");
            assert!(message.contains("line 1 column"), "{bad}: {body}");
            match field {
                Some(f) => assert_eq!(body["error"]["field"], f, "{bad}: {body}"),
                None => assert!(
                    body["error"]["field"].is_null() || body["error"].get("field").is_none(),
                    "{bad}: {body}"
                ),
            }
        })
        .await;
    }
}

#[tokio::test]
async fn titles_and_names_refuse_control_bidi_and_zero_width_only_text() {
    let app = spawn_app().await;
    let bad = [
        ("a\u{0}b", Some("U+0000 (character 2")),
        ("line\nbreak", Some("U+000A (character 5")),
        ("tab\there", Some("U+0009 (character 4")),
        ("c1 \u{85}", Some("U+0085 (character 4")),
        ("safe\u{202E}txt.exe", Some("U+202E (character 5")),
        ("\u{2066}x", Some("U+2066 (character 1")),
        ("\u{200B}\u{FEFF} \u{2060}", None),
    ];
    for (text, says) in bad {
        let cases = [
            (
                Method::POST,
                "/tasks",
                json!({"title": text, "listId": "list-todo"}),
                "title",
            ),
            (Method::POST, "/boards/board-1/lists", json!({"name": text}), "name"),
            (Method::PATCH, "/boards/board-1", json!({"name": text}), "name"),
            (
                Method::POST,
                "/boards/board-1/labels",
                json!({"name": text, "color": "#1f883d"}),
                "name",
            ),
        ];
        for (method, path, body, field) in cases {
            unchanged(&app, || async {
                let resp = app.send_json(method, path, body).await;
                let body = error_body(resp, StatusCode::BAD_REQUEST).await;
                assert_eq!(body["error"]["field"], field, "{text:?} {path}: {body}");
                let message = body["error"]["message"].as_str().unwrap();
                match says {
                    Some(says) => assert!(message.contains(says), "{text:?} {path}: {body}"),
                    None => assert!(message.contains("visible text"), "{text:?} {path}: {body}"),
                }
            })
            .await;
        }
    }
}

#[tokio::test]
async fn descriptions_keep_newlines_and_tabs_but_refuse_nul_and_bidi_overrides() {
    let app = spawn_app().await;
    let task = app.create_task("list-todo", "t").await;
    let path = format!("/tasks/{}", task.id);
    let resp = app
        .send_json(Method::PATCH, &path, json!({"description": "one\n\ttwo\r\n"}))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    for (text, says) in [("a\u{0}", "U+0000 (character 2"), ("\u{202D}x", "U+202D (character 1")] {
        let before = app.board("board-1").await;
        let resp = app.send_json(Method::PATCH, &path, json!({"description": text})).await;
        let body = error_body(resp, StatusCode::BAD_REQUEST).await;
        assert_eq!(body["error"]["field"], "description", "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains(says), "{body}");
        assert_eq!(app.board("board-1").await, before);
    }
}
