//! Boards, lists and members over gRPC and the streams: errors map to their status
//! codes and change nothing, request ids replay, and a deleted board's gRPC and
//! WebSocket streams get `board_deleted` and stop.

use boardcast::proto::SubscribeMessage;
use boardcast::proto::v1::board_event::Payload;
use boardcast::proto::v1::board_service_client::BoardServiceClient;
use boardcast::proto::v1::*;
use futures_util::{SinkExt, StreamExt};
use prost::Message as _;
use reqwest::Method;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tonic::Code;

use crate::helpers::{as_user, spawn_app};

#[tokio::test]
async fn grpc_board_list_and_member_errors_map_to_status_codes_and_change_nothing() {
    let app = spawn_app().await;
    let mut c = BoardServiceClient::connect(format!("http://{}", app.addr))
        .await
        .unwrap();
    let b = || "board-1".to_owned();
    let before = app.board("board-1").await;
    let mut codes = Vec::new();
    let mut push = |r: Result<(), tonic::Status>| codes.push(r.map_err(|s| (s.code(), s.message().to_owned())).err());
    push(c.create_board(CreateBoardRequest::default()).await.map(|_| ()));
    push(
        c.delete_list(DeleteListRequest {
            list_id: "list-todo".into(),
            ..Default::default()
        })
        .await
        .map(|_| ()),
    );
    let demote = UpdateMemberRequest {
        board_id: b(),
        user_id: "alice".into(),
        role: Role::Viewer as i32,
        ..Default::default()
    };
    push(c.update_member(as_user(&app, "alice", demote)).await.map(|_| ()));
    let twice = AddMemberRequest {
        board_id: b(),
        username: "bob".into(),
        role: Role::Viewer as i32,
        ..Default::default()
    };
    push(c.add_member(as_user(&app, "alice", twice)).await.map(|_| ()));
    let nobody = AddMemberRequest {
        board_id: b(),
        username: "nobody".into(),
        role: Role::Viewer as i32,
        ..Default::default()
    };
    push(c.add_member(as_user(&app, "alice", nobody)).await.map(|_| ()));
    let rename = UpdateBoardRequest {
        board_id: b(),
        name: Some("x".into()),
        ..Default::default()
    };
    push(c.update_board(as_user(&app, "bob", rename)).await.map(|_| ()));
    push(
        c.move_list(MoveListRequest {
            list_id: "list-todo".into(),
            ..Default::default()
        })
        .await
        .map(|_| ()),
    );
    let codes: Vec<Option<Code>> = codes.into_iter().map(|e| e.map(|(code, _)| code)).collect();
    assert_eq!(
        codes,
        [
            Some(Code::InvalidArgument),
            Some(Code::FailedPrecondition),
            Some(Code::FailedPrecondition),
            Some(Code::AlreadyExists),
            Some(Code::NotFound),
            Some(Code::PermissionDenied),
            Some(Code::InvalidArgument),
        ]
    );
    assert_eq!(app.board("board-1").await, before);
    assert!(app.log("board-1").await.is_empty());
}

#[tokio::test]
async fn grpc_mutations_replay_by_request_id() {
    let app = spawn_app().await;
    let mut c = BoardServiceClient::connect(format!("http://{}", app.addr))
        .await
        .unwrap();
    let add = AddMemberRequest {
        board_id: "board-1".into(),
        username: "carol".into(),
        role: Role::Viewer as i32,
        request_id: "add-carol".into(),
    };
    let first = c
        .add_member(as_user(&app, "alice", add.clone()))
        .await
        .unwrap()
        .into_inner();
    let again = c
        .add_member(as_user(&app, "alice", add.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first, again);
    let other = AddMemberRequest {
        role: Role::Editor as i32,
        ..add
    };
    let err = c.add_member(as_user(&app, "alice", other)).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    let list = CreateListRequest {
        board_id: "board-1".into(),
        name: "Ideas".into(),
        request_id: "ideas".into(),
        ..Default::default()
    };
    let one = c.create_list(list.clone()).await.unwrap().into_inner();
    assert_eq!(c.create_list(list).await.unwrap().into_inner(), one);
    assert_eq!(app.log("board-1").await.len(), 2, "one event each");
    assert_eq!(app.board("board-1").await.lists.len(), 4);
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next JSON text frame, within 5 s.
async fn next(ws: &mut Ws) -> Result<Value, tokio::time::error::Elapsed> {
    tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            if let Some(Ok(Message::Text(t))) = ws.next().await {
                return serde_json::from_str::<Value>(t.as_str()).unwrap();
            }
        }
    })
    .await
}

#[tokio::test]
async fn a_deleted_boards_grpc_and_websocket_streams_get_board_deleted_and_stop() {
    let app = spawn_app().await;
    let mut c = BoardServiceClient::connect(format!("http://{}", app.addr))
        .await
        .unwrap();
    let sub = SubscribeRequest {
        board_id: "board-1".into(),
        ..Default::default()
    };
    let mut stream = c.subscribe(as_user(&app, "bob", sub)).await.unwrap().into_inner();
    let url = format!("ws://{}/ws?token={}", app.addr, app.token("bob"));
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    ws.send(Message::text(json!({"type": "join", "boardId": "board-1"}).to_string()))
        .await
        .unwrap();
    while next(&mut ws).await.unwrap()["type"] != "presence" {}

    let resp = app
        .send_as(Some("alice"), Method::DELETE, "/boards/board-1", None)
        .await;
    assert!(resp.status().is_success());
    let SubscribeMessage::Event(bytes) = stream.message().await.unwrap().unwrap().message.unwrap() else {
        panic!("an event first")
    };
    let event = BoardEvent::decode(bytes).unwrap();
    assert!(
        matches!(event.payload, Some(Payload::BoardDeleted(ref d)) if d.name == "Launch"),
        "{event:?}"
    );
    assert!(
        stream.message().await.unwrap().is_none(),
        "the gRPC stream ends after board_deleted"
    );
    loop {
        let frame = next(&mut ws).await.unwrap();
        if frame["type"] == "board_deleted" {
            assert_eq!(frame["seq"], 1);
            break;
        }
    }
}
