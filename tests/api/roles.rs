//! The role matrix: {owner, editor, viewer, non-member, signed-out} × {every mutation
//! of tasks, lists, the board and its members, and every stream}, over REST, gRPC and
//! the WebSocket, each allowed exactly where the table says. (`hidden.rs`: a
//! non-member's 404 is byte-identical to a missing board's.)

use boardcast::Config;
use boardcast::proto::v1::board_service_client::BoardServiceClient;
use boardcast::proto::v1::*;
use futures_util::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tonic::Code;
use tonic::transport::Channel;

use crate::helpers::{SseClient, TestApp, spawn_with};

/// The actors, by what they are on board-1. `None`: signed out (guests are off).
const ACTORS: [(&str, Option<&str>); 5] = [
    ("owner", Some("alice")),
    ("editor", Some("bob")),
    ("viewer", Some("vic")),
    ("non-member", Some("nina")),
    ("signed-out", None),
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Need {
    Read,
    Edit,
    Own,
}

/// What the table says `actor` gets for an operation needing `need`: the HTTP status.
fn expected(actor: &str, need: Need) -> StatusCode {
    match (actor, need) {
        ("signed-out", _) => StatusCode::UNAUTHORIZED,
        ("non-member", _) => StatusCode::NOT_FOUND,
        ("viewer", Need::Edit | Need::Own) | ("editor", Need::Own) => StatusCode::FORBIDDEN,
        _ => StatusCode::OK,
    }
}

fn grpc_expected(status: StatusCode) -> Option<Code> {
    match status {
        StatusCode::UNAUTHORIZED => Some(Code::Unauthenticated),
        StatusCode::NOT_FOUND => Some(Code::NotFound),
        StatusCode::FORBIDDEN => Some(Code::PermissionDenied),
        _ => None,
    }
}

/// Things for one actor's attempts, made fresh by the owner: a task, an empty list, a
/// member to change and remove, and a user to add.
struct Fixture {
    task: String,
    list: String,
    member: String,
    newcomer: String,
    label: String,
}

pub(crate) async fn setup() -> TestApp {
    let mut app = spawn_with(Config {
        guests: Some(false),
        ..Config::ephemeral()
    })
    .await;
    for user in ["vic", "nina"] {
        app.add_user(user).await;
    }
    add(&app, "vic", "viewer").await;
    app
}

async fn add(app: &TestApp, username: &str, role: &str) {
    let body = json!({"username": username, "role": role});
    let resp = app
        .send_as(Some("alice"), Method::POST, "/boards/board-1/members", Some(body))
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
}

async fn fixture(app: &mut TestApp, n: &str) -> Fixture {
    let body = json!({"title": "fixture", "listId": "list-todo"});
    let task: Value = app
        .send_as(Some("alice"), Method::POST, "/tasks", Some(body))
        .await
        .json()
        .await
        .unwrap();
    let body = json!({"name": "fixture"});
    let list: Value = (app
        .send_as(Some("alice"), Method::POST, "/boards/board-1/lists", Some(body))
        .await)
        .json()
        .await
        .unwrap();
    let body = json!({"name": "fixture", "color": "#000000"});
    let label: Value = (app
        .send_as(Some("alice"), Method::POST, "/boards/board-1/labels", Some(body))
        .await)
        .json()
        .await
        .unwrap();
    let (member, newcomer) = (format!("m{n}"), format!("n{n}"));
    app.add_user(&member).await;
    app.add_user(&newcomer).await;
    add(app, &member, "viewer").await;
    Fixture {
        task: task["id"].as_str().unwrap().to_owned(),
        list: list["id"].as_str().unwrap().to_owned(),
        member,
        newcomer,
        label: label["id"].as_str().unwrap().to_owned(),
    }
}

/// Every mutation but deleting the board, as REST requests.
fn rest_mutations(f: &Fixture) -> Vec<(Need, Method, String, Option<Value>)> {
    let (t, l, m) = (&f.task, &f.list, &f.member);
    vec![
        (
            Need::Edit,
            Method::POST,
            "/tasks".into(),
            Some(json!({"title": "r", "listId": "list-todo"})),
        ),
        (
            Need::Edit,
            Method::PATCH,
            format!("/tasks/{t}"),
            Some(json!({"title": "r"})),
        ),
        (
            Need::Edit,
            Method::PATCH,
            format!("/tasks/{t}"),
            Some(json!({"assigneeIds": ["alice"], "labelIds": [f.label], "dueAt": "2026-12-24T17:00:00Z"})),
        ),
        (
            Need::Edit,
            Method::PATCH,
            format!("/tasks/{t}/move"),
            Some(json!({"listId": "list-done"})),
        ),
        (Need::Edit, Method::DELETE, format!("/tasks/{t}"), None),
        (
            Need::Edit,
            Method::POST,
            "/boards/board-1/lists".into(),
            Some(json!({"name": "r"})),
        ),
        (
            Need::Edit,
            Method::PATCH,
            format!("/lists/{l}"),
            Some(json!({"name": "r"})),
        ),
        (
            Need::Edit,
            Method::PATCH,
            format!("/lists/{l}/move"),
            Some(json!({"position": 0})),
        ),
        (Need::Edit, Method::DELETE, format!("/lists/{l}"), None),
        (
            Need::Edit,
            Method::POST,
            "/boards/board-1/labels".into(),
            Some(json!({"name": "r", "color": "#ffffff"})),
        ),
        (
            Need::Edit,
            Method::PATCH,
            format!("/labels/{}", f.label),
            Some(json!({"color": "#ffffff"})),
        ),
        (Need::Edit, Method::DELETE, format!("/labels/{}", f.label), None),
        (
            Need::Own,
            Method::PATCH,
            "/boards/board-1".into(),
            Some(json!({"name": "Launch"})),
        ),
        (
            Need::Own,
            Method::POST,
            "/boards/board-1/members".into(),
            Some(json!({"username": f.newcomer, "role": "viewer"})),
        ),
        (
            Need::Own,
            Method::PATCH,
            format!("/boards/board-1/members/{m}"),
            Some(json!({"role": "editor"})),
        ),
        (Need::Own, Method::DELETE, format!("/boards/board-1/members/{m}"), None),
    ]
}

pub(crate) async fn grpc_client(app: &TestApp) -> BoardServiceClient<Channel> {
    BoardServiceClient::connect(format!("http://{}", app.addr))
        .await
        .unwrap()
}

pub(crate) fn req<T>(app: &TestApp, user: Option<&str>, msg: T) -> tonic::Request<T> {
    let mut req = tonic::Request::new(msg);
    if let Some(user) = user {
        let value = format!("Bearer {}", app.token(user)).parse().unwrap();
        req.metadata_mut().insert("authorization", value);
    }
    req
}

/// Every mutation but deleting the board, over gRPC: each call's result code.
async fn grpc_mutations(app: &TestApp, user: Option<&str>, f: &Fixture) -> Vec<(Need, Result<(), Code>)> {
    let mut c = grpc_client(app).await;
    let code = |r: Result<(), tonic::Status>| r.map_err(|s| s.code());
    let (t, l, b) = (f.task.clone(), f.list.clone(), || "board-1".to_owned());
    let mut out = Vec::new();
    macro_rules! call {
        ($need:expr, $method:ident, $msg:expr) => {
            out.push(($need, code(c.$method(req(app, user, $msg)).await.map(|_| ()))))
        };
    }
    let create = CreateTaskRequest {
        list_id: "list-todo".into(),
        title: "g".into(),
        ..Default::default()
    };
    call!(Need::Edit, create_task, create);
    call!(
        Need::Edit,
        update_task,
        UpdateTaskRequest {
            task_id: t.clone(),
            title: Some("g".into()),
            ..Default::default()
        }
    );
    call!(
        Need::Edit,
        update_task,
        UpdateTaskRequest {
            task_id: t.clone(),
            assignee_ids: Some(IdSet {
                ids: vec!["alice".into()],
            }),
            label_ids: Some(IdSet {
                ids: vec![f.label.clone()],
            }),
            due_at: Some(DueDate { at: None }),
            ..Default::default()
        }
    );
    call!(
        Need::Edit,
        move_task,
        MoveTaskRequest {
            task_id: t.clone(),
            list_id: "list-done".into(),
            ..Default::default()
        }
    );
    call!(
        Need::Edit,
        delete_task,
        DeleteTaskRequest {
            task_id: t,
            ..Default::default()
        }
    );
    call!(
        Need::Edit,
        create_list,
        CreateListRequest {
            board_id: b(),
            name: "g".into(),
            ..Default::default()
        }
    );
    call!(
        Need::Edit,
        update_list,
        UpdateListRequest {
            list_id: l.clone(),
            name: "g".into(),
            ..Default::default()
        }
    );
    call!(
        Need::Edit,
        move_list,
        MoveListRequest {
            list_id: l.clone(),
            position: Some(0),
            ..Default::default()
        }
    );
    call!(
        Need::Edit,
        delete_list,
        DeleteListRequest {
            list_id: l,
            ..Default::default()
        }
    );
    let label = CreateLabelRequest {
        board_id: b(),
        name: "g".into(),
        color: "#ffffff".into(),
        ..Default::default()
    };
    call!(Need::Edit, create_label, label);
    let recolor = UpdateLabelRequest {
        label_id: f.label.clone(),
        color: Some("#ffffff".into()),
        ..Default::default()
    };
    call!(Need::Edit, update_label, recolor);
    let delete = DeleteLabelRequest {
        label_id: f.label.clone(),
        ..Default::default()
    };
    call!(Need::Edit, delete_label, delete);
    call!(
        Need::Own,
        update_board,
        UpdateBoardRequest {
            board_id: b(),
            name: Some("Launch".into()),
            ..Default::default()
        }
    );
    let add = AddMemberRequest {
        board_id: b(),
        username: f.newcomer.clone(),
        role: Role::Viewer as i32,
        ..Default::default()
    };
    call!(Need::Own, add_member, add);
    let update = UpdateMemberRequest {
        board_id: b(),
        user_id: f.member.clone(),
        role: Role::Editor as i32,
        ..Default::default()
    };
    call!(Need::Own, update_member, update);
    call!(
        Need::Own,
        remove_member,
        RemoveMemberRequest {
            board_id: b(),
            user_id: f.member.clone(),
            ..Default::default()
        }
    );
    out
}

pub(crate) struct Ws(
    pub(crate) tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
);

impl Ws {
    pub(crate) async fn open(app: &TestApp, user: Option<&str>) -> Ws {
        let query = user.map(|u| format!("?token={}", app.token(u))).unwrap_or_default();
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws{query}", app.addr))
            .await
            .unwrap();
        Ws(ws)
    }

    /// Sends `v` and returns the answer of type `ack`, `presence` or `error`.
    pub(crate) async fn ask(&mut self, v: Value) -> Value {
        self.0.send(Message::text(v.to_string())).await.unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(5), async {
            loop {
                if let Message::Text(t) = self.0.next().await.unwrap().unwrap() {
                    let v: Value = serde_json::from_str(t.as_str()).unwrap();
                    if ["ack", "presence", "error"].contains(&v["type"].as_str().unwrap()) {
                        return v;
                    }
                }
            }
        })
        .await
        .expect("an answer within 5 s")
    }
}

/// The WebSocket code a status stands for (`None`: success).
fn ws_code(status: StatusCode) -> Option<&'static str> {
    match status {
        StatusCode::UNAUTHORIZED => Some("unauthenticated"),
        StatusCode::NOT_FOUND => Some("not_found"),
        StatusCode::FORBIDDEN => Some("permission_denied"),
        _ => None,
    }
}

async fn snapshot(app: &TestApp) -> (Value, usize) {
    let board: Value = app
        .send_as(Some("alice"), Method::GET, "/boards/board-1", None)
        .await
        .json()
        .await
        .unwrap();
    let members = app
        .send_as(Some("alice"), Method::GET, "/boards/board-1/members", None)
        .await;
    (
        json!([board, members.json::<Value>().await.unwrap()]),
        app.log("board-1").await.len(),
    )
}

#[tokio::test]
async fn every_mutation_is_allowed_exactly_where_the_role_table_says() {
    let mut app = setup().await;
    for (i, (actor, user)) in ACTORS.into_iter().enumerate() {
        for transport in ["REST", "gRPC", "WebSocket"] {
            let f = fixture(&mut app, &format!("{i}{transport}")).await;
            let results: Vec<(String, Need, Option<StatusCode>)> = match transport {
                "REST" => {
                    let mut out = Vec::new();
                    for (need, method, path, body) in rest_mutations(&f) {
                        let before = snapshot(&app).await;
                        let resp = app.send_as(user, method.clone(), &path, body).await;
                        let ok = resp.status().is_success();
                        let got = if ok { StatusCode::OK } else { resp.status() };
                        if !ok {
                            assert_eq!(snapshot(&app).await, before, "{actor} {method} {path} wrote nothing");
                        }
                        out.push((format!("{method} {path}"), need, Some(got)));
                    }
                    out
                }
                "gRPC" => {
                    let before = snapshot(&app).await.1;
                    let results = grpc_mutations(&app, user, &f).await;
                    let writes = results.iter().filter(|(_, r)| r.is_ok()).count();
                    assert_eq!(
                        snapshot(&app).await.1,
                        before + writes,
                        "{actor}: one event per allowed call only"
                    );
                    (results.into_iter().enumerate())
                        .map(|(n, (need, r))| {
                            let want = grpc_expected(expected(actor, need));
                            assert_eq!(r.err(), want, "{actor} gRPC call {n}");
                            (String::new(), need, None)
                        })
                        .collect()
                }
                _ => {
                    let mut ws = Ws::open(&app, user).await;
                    let t = &f.task;
                    let mut out = Vec::new();
                    for frame in [
                        json!({"type": "create_task", "requestId": "w1", "listId": "list-todo", "title": "w"}),
                        json!({"type": "update_task", "requestId": "w2", "taskId": t, "title": "w"}),
                        json!({"type": "update_task", "requestId": "w2d", "taskId": t, "assigneeIds": [], "dueAt": null}),
                        json!({"type": "move_task", "requestId": "w3", "taskId": t, "listId": "list-done"}),
                        json!({"type": "delete_task", "requestId": "w4", "taskId": t}),
                    ] {
                        let before = snapshot(&app).await;
                        let answer = ws.ask(frame.clone()).await;
                        let want = ws_code(expected(actor, Need::Edit));
                        assert_eq!(answer["code"].as_str(), want, "{actor} WS {frame}: {answer}");
                        if want.is_some() {
                            assert_eq!(snapshot(&app).await, before, "{actor} WS {frame} wrote nothing");
                        }
                    }
                    out.push((String::new(), Need::Edit, None));
                    out
                }
            };
            for (what, need, got) in results {
                if let Some(got) = got {
                    assert_eq!(got, expected(actor, need), "{actor} {transport} {what}");
                }
            }
        }
    }
    // Deleting the board: everyone else first (refused, nothing written), the owner last.
    for (actor, user) in ACTORS.into_iter().rev() {
        let before = snapshot(&app).await;
        let resp = app.send_as(user, Method::DELETE, "/boards/board-1", None).await;
        let got = if resp.status().is_success() {
            StatusCode::OK
        } else {
            resp.status()
        };
        assert_eq!(got, expected(actor, Need::Own), "{actor} DELETE /boards/board-1");
        if actor != "owner" {
            assert_eq!(snapshot(&app).await, before);
            let mut c = grpc_client(&app).await;
            let r = c
                .delete_board(req(
                    &app,
                    user,
                    DeleteBoardRequest {
                        board_id: "board-1".into(),
                        ..Default::default()
                    },
                ))
                .await;
            assert_eq!(
                r.err().map(|s| s.code()),
                grpc_expected(got),
                "{actor} gRPC DeleteBoard"
            );
        }
    }
}

#[tokio::test]
async fn every_stream_is_open_to_members_only() {
    let app = setup().await;
    for (actor, user) in ACTORS {
        let want = expected(actor, Need::Read);
        let sse = SseClient::connect(app.request(Method::GET, "/boards/board-1/events", user)).await;
        assert_eq!(sse.response_status, want, "{actor} SSE");
        let poll = app
            .send_as(user, Method::GET, "/boards/board-1/poll?after=0&timeout=0", None)
            .await;
        assert_eq!(poll.status(), want, "{actor} long poll");
        for read in ["/boards/board-1/labels", "/boards/board-1/activity"] {
            let resp = app.send_as(user, Method::GET, read, None).await;
            assert_eq!(resp.status(), want, "{actor} GET {read}");
        }
        let mut ws = Ws::open(&app, user).await;
        let joined = ws.ask(json!({"type": "join", "boardId": "board-1"})).await;
        assert_eq!(joined["code"].as_str(), ws_code(want), "{actor} WS join: {joined}");
        let mut c = grpc_client(&app).await;
        let sub = SubscribeRequest {
            board_id: "board-1".into(),
            ..Default::default()
        };
        let r = c.subscribe(req(&app, user, sub)).await;
        assert_eq!(r.err().map(|s| s.code()), grpc_expected(want), "{actor} gRPC Subscribe");
    }
}
