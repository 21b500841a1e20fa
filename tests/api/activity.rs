//! The activity feed: a board's history from its event log, newest first, paged with
//! `before` / `nextBefore`, each entry told with the actor's name; readable by every
//! member, viewers included, and the 404 of a missing board to anyone else. Labels
//! and activity over gRPC.

use boardcast::proto::v1::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tonic::Code;

use crate::helpers::{TestApp, error_body};
use crate::roles::{grpc_client, req, setup};

async fn activity(app: &TestApp, user: &str, query: &str) -> Value {
    let resp = app
        .send_as(
            Some(user),
            Method::GET,
            &format!("/boards/board-1/activity{query}"),
            None,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

async fn ok(app: &TestApp, user: &str, method: Method, path: &str, body: Option<Value>) -> Value {
    let resp = app.send_as(Some(user), method, path, body).await;
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp.json().await.unwrap_or(Value::Null)
}

#[tokio::test]
async fn activity_tells_the_history_newest_first_with_actor_names() {
    let app = setup().await;
    let task = ok(
        &app,
        "alice",
        Method::POST,
        "/tasks",
        Some(json!({"listId": "list-todo", "title": "Fix login"})),
    )
    .await;
    let id = task["id"].as_str().unwrap();
    ok(
        &app,
        "bob",
        Method::PATCH,
        &format!("/tasks/{id}/move"),
        Some(json!({"listId": "list-done"})),
    )
    .await;
    ok(
        &app,
        "bob",
        Method::PATCH,
        &format!("/tasks/{id}"),
        Some(json!({"assigneeIds": ["bob"]})),
    )
    .await;
    ok(
        &app,
        "alice",
        Method::PATCH,
        "/lists/list-doing",
        Some(json!({"name": "Review"})),
    )
    .await;
    let body = json!({"username": "nina", "role": "viewer"});
    ok(&app, "alice", Method::POST, "/boards/board-1/members", Some(body)).await;
    let label = ok(
        &app,
        "bob",
        Method::POST,
        "/boards/board-1/labels",
        Some(json!({"name": "Bug", "color": "#d73a4a"})),
    )
    .await;
    ok(
        &app,
        "alice",
        Method::DELETE,
        &format!("/labels/{}", label["id"].as_str().unwrap()),
        None,
    )
    .await;
    ok(&app, "alice", Method::DELETE, &format!("/tasks/{id}"), None).await;
    ok(&app, "alice", Method::DELETE, "/boards/board-1/members/nina", None).await;
    ok(&app, "vic", Method::DELETE, "/boards/board-1/members/vic", None).await;
    // Every member reads it, viewers included (bob is an editor; add a viewer back).
    ok(
        &app,
        "alice",
        Method::POST,
        "/boards/board-1/members",
        Some(json!({"username": "nina", "role": "viewer"})),
    )
    .await;
    let page = activity(&app, "nina", "").await;
    let entries = page["entries"].as_array().unwrap();
    let told: Vec<(u64, &str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e["seq"].as_u64().unwrap(),
                e["type"].as_str().unwrap(),
                e["summary"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        told,
        [
            (12, "member_added", "Alice added NINA as viewer"),
            (11, "member_removed", "VIC left the board"),
            (10, "member_removed", "Alice removed NINA"),
            (9, "task_deleted", "Alice deleted “Fix login”"),
            (8, "label_deleted", "Alice deleted label “Bug”"),
            (7, "label_created", "Bob created label “Bug”"),
            (6, "member_added", "Alice added NINA as viewer"),
            (5, "list_updated", "Alice renamed list “In Progress” to “Review”"),
            (4, "task_updated", "Bob edited “Fix login”"),
            (3, "task_moved", "Bob moved “Fix login” to Done"),
            (2, "task_created", "Alice added “Fix login” to To Do"),
            (1, "member_added", "Alice added VIC as viewer"),
        ]
    );
    assert_eq!(page["nextBefore"], 0, "nothing older");
    let first = &entries[11];
    assert_eq!(
        (first["actorId"].as_str(), first["actorName"].as_str()),
        (Some("alice"), Some("Alice"))
    );
    let log = app.log("board-1").await;
    assert_eq!(
        first["occurredAt"],
        serde_json::to_value(&log[0]).unwrap()["occurredAt"]
    );
    assert_eq!(entries[1]["actorName"], "VIC", "a former member is still named");
}

#[tokio::test]
async fn activity_pages_with_before_and_next_before() {
    let app = setup().await;
    for i in 0..5 {
        ok(
            &app,
            "bob",
            Method::POST,
            "/tasks",
            Some(json!({"listId": "list-todo", "title": format!("t{i}")})),
        )
        .await;
    }
    let seqs = |page: &Value| -> Vec<u64> {
        page["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["seq"].as_u64().unwrap())
            .collect()
    };
    let page = activity(&app, "vic", "?limit=2").await;
    assert_eq!((seqs(&page), page["nextBefore"].as_u64()), (vec![6, 5], Some(5)));
    let page = activity(&app, "vic", "?before=5&limit=2").await;
    assert_eq!((seqs(&page), page["nextBefore"].as_u64()), (vec![4, 3], Some(3)));
    let page = activity(&app, "vic", "?before=3&limit=2").await;
    assert_eq!(
        (seqs(&page), page["nextBefore"].as_u64()),
        (vec![2, 1], Some(0)),
        "the oldest page"
    );
    let page = activity(&app, "vic", "?before=1").await;
    assert_eq!((seqs(&page), page["nextBefore"].as_u64()), (vec![], Some(0)));
    let page = activity(&app, "vic", "").await;
    assert_eq!(seqs(&page), [6, 5, 4, 3, 2, 1], "the default limit (50) takes them all");
    assert_eq!(seqs(&activity(&app, "vic", "?limit=200").await).len(), 6);
    for (query, field) in [
        ("?limit=0", "limit"),
        ("?limit=201", "limit"),
        ("?limit=99999999999", "limit"),
        ("?limit=ten", "limit"),
        ("?before=-1", "before"),
    ] {
        let resp = app
            .send_as(
                Some("vic"),
                Method::GET,
                &format!("/boards/board-1/activity{query}"),
                None,
            )
            .await;
        let err = error_body(resp, StatusCode::BAD_REQUEST).await;
        assert_eq!(err["error"]["field"], field, "{query}");
    }
}

#[tokio::test]
async fn activity_is_the_404_of_a_missing_board_to_a_non_member() {
    let app = setup().await;
    let hidden = app
        .send_as(Some("nina"), Method::GET, "/boards/board-1/activity", None)
        .await;
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
    let missing = app
        .send_as(Some("alice"), Method::GET, "/boards/board-x/activity", None)
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        hidden.text().await.unwrap(),
        missing.text().await.unwrap().replace("board-x", "board-1")
    );
    let signed_out = app.send_as(None, Method::GET, "/boards/board-1/activity", None).await;
    assert_eq!(signed_out.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn labels_and_activity_over_grpc() {
    let app = setup().await;
    let mut c = grpc_client(&app).await;
    let create = CreateLabelRequest {
        board_id: "board-1".into(),
        name: "Bug".into(),
        color: "#D73A4A".into(),
        request_id: "g-1".into(),
    };
    let created = c
        .create_label(req(&app, Some("bob"), create.clone()))
        .await
        .unwrap()
        .into_inner();
    let label = created.label.unwrap();
    assert_eq!((label.name.as_str(), label.color.as_str()), ("Bug", "#d73a4a"));
    let replayed = c
        .create_label(req(&app, Some("bob"), create))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (replayed.label.unwrap().id, replayed.seq),
        (label.id.clone(), created.seq)
    );
    let listed = c
        .list_labels(req(
            &app,
            Some("vic"),
            ListLabelsRequest {
                board_id: "board-1".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.labels, std::slice::from_ref(&label));

    // Task details through UpdateTask: unset is unchanged, an empty IdSet clears.
    let update = |ids: Option<Vec<&str>>, due: Option<DueDate>| UpdateTaskRequest {
        task_id: "task-1".into(),
        label_ids: ids.map(|ids| IdSet {
            ids: ids.into_iter().map(str::to_owned).collect(),
        }),
        due_at: due,
        ..Default::default()
    };
    let due = prost_types::Timestamp {
        seconds: 1_798_131_600,
        nanos: 0,
    };
    let task = (c
        .update_task(req(
            &app,
            Some("bob"),
            update(Some(vec![&label.id]), Some(DueDate { at: Some(due) })),
        ))
        .await)
        .unwrap()
        .into_inner()
        .task
        .unwrap();
    assert_eq!(
        (task.label_ids.clone(), task.due_at),
        (vec![label.id.clone()], Some(due))
    );
    let task = (c
        .update_task(req(&app, Some("bob"), update(None, Some(DueDate { at: None }))))
        .await)
        .unwrap()
        .into_inner()
        .task
        .unwrap();
    assert_eq!(
        (task.label_ids.clone(), task.due_at, task.version),
        (vec![label.id.clone()], None, 3)
    );

    let renamed = UpdateLabelRequest {
        label_id: label.id.clone(),
        name: Some("Defect".into()),
        ..Default::default()
    };
    let renamed = c
        .update_label(req(&app, Some("alice"), renamed))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(renamed.label.unwrap().name, "Defect");

    // Errors: their codes, and nothing written.
    let before = app.log("board-1").await.len();
    let bad_color = CreateLabelRequest {
        board_id: "board-1".into(),
        name: "x".into(),
        color: "blue".into(),
        ..Default::default()
    };
    let err = c.create_label(req(&app, Some("alice"), bad_color)).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("color"), "{}", err.message());
    let delete = DeleteLabelRequest {
        label_id: label.id.clone(),
        ..Default::default()
    };
    let err = c
        .delete_label(req(&app, Some("vic"), delete.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = c
        .delete_label(req(&app, Some("nina"), delete.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = c
        .update_task(req(&app, Some("bob"), update(Some(vec!["label-nope"]), None)))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let too_many = ListActivityRequest {
        board_id: "board-1".into(),
        limit: Some(201),
        ..Default::default()
    };
    let err = c.list_activity(req(&app, Some("vic"), too_many)).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let hidden = ListActivityRequest {
        board_id: "board-1".into(),
        ..Default::default()
    };
    let err = c.list_activity(req(&app, Some("nina"), hidden)).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert_eq!(app.log("board-1").await.len(), before, "no event appended");

    let deleted = c
        .delete_label(req(&app, Some("alice"), delete))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(deleted.label_id, label.id);
    let page = ListActivityRequest {
        board_id: "board-1".into(),
        limit: Some(2),
        ..Default::default()
    };
    let page = c
        .list_activity(req(&app, Some("vic"), page))
        .await
        .unwrap()
        .into_inner();
    let told: Vec<(&str, &str)> = page
        .entries
        .iter()
        .map(|e| (e.r#type.as_str(), e.summary.as_str()))
        .collect();
    assert_eq!(
        told,
        [
            ("label_deleted", "Alice deleted label “Defect” (it was on 1 task)"),
            ("label_updated", "Alice updated label “Defect”"),
        ]
    );
    assert_eq!(page.next_before, page.entries[1].seq);
}
