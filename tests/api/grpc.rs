//! The same core through a tonic client over h2c on the shared port.

use boardcast::proto::v1::board_event::Payload;
use boardcast::proto::v1::board_service_client::BoardServiceClient;
use boardcast::proto::v1::*;
use tonic::transport::Channel;
use tonic::{Code, Request};

use crate::helpers::{TestApp, as_user, spawn_app};

async fn client(app: &TestApp) -> BoardServiceClient<Channel> {
    BoardServiceClient::connect(format!("http://{}", app.addr))
        .await
        .unwrap()
}

#[tokio::test]
async fn crud_over_grpc() {
    let app = spawn_app().await;
    let mut c = client(&app).await;

    let boards = c
        .list_boards(as_user(&app, "bob", ListBoardsRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        boards.boards.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(),
        ["board-1"]
    );

    let board = c
        .get_board(GetBoardRequest {
            board_id: "board-1".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((board.lists.len(), board.tasks.len(), board.seq), (3, 5, 0));

    let created = c
        .create_task(as_user(
            &app,
            "alice",
            CreateTaskRequest {
                list_id: "list-doing".into(),
                title: " via gRPC ".into(),
                position: Some(0),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let task = created.task.unwrap();
    assert_eq!(
        (
            task.title.as_str(),
            task.position,
            task.created_by.as_str(),
            created.seq
        ),
        ("via gRPC", 0, "alice", 1)
    );

    let got = c
        .get_task(GetTaskRequest {
            task_id: task.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.task.as_ref(), Some(&task));

    let updated = c
        .update_task(UpdateTaskRequest {
            task_id: task.id.clone(),
            description: Some("details".into()),
            expected_version: Some(1),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((updated.task.as_ref().unwrap().version, updated.seq), (2, 2));

    let moved = c
        .move_task(MoveTaskRequest {
            task_id: task.id.clone(),
            list_id: "list-done".into(),
            position: Some(1),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let m = moved.task.unwrap();
    assert_eq!((m.list_id.as_str(), m.position, m.version), ("list-done", 1, 3));

    let tasks = c
        .list_tasks(ListTasksRequest {
            board_id: "board-1".into(),
            list_id: "list-done".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        tasks.tasks.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
        ["task-5", task.id.as_str()]
    );

    let deleted = c
        .delete_task(DeleteTaskRequest {
            task_id: task.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((deleted.task_id.as_str(), deleted.seq), (task.id.as_str(), 4));

    let kinds: Vec<&str> = app
        .log("board-1")
        .await
        .iter()
        .map(|e| e.payload.as_ref().unwrap().type_name())
        .collect();
    assert_eq!(kinds, ["task_created", "task_updated", "task_moved", "task_deleted"]);
}

#[tokio::test]
async fn grpc_errors_map_to_status_codes_and_change_nothing() {
    let app = spawn_app().await;
    let mut c = client(&app).await;
    let create = |title: &str, list: &str| CreateTaskRequest {
        list_id: list.into(),
        title: title.into(),
        ..Default::default()
    };

    let err = c.create_task(create("", "list-todo")).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(err.message(), "title must not be empty");

    let err = c.create_task(create("x", "list-nope")).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);

    let err = c
        .get_board(as_user(
            &app,
            "carol",
            GetBoardRequest {
                board_id: "board-1".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    // Issue 11: a non-member's board is NOT_FOUND, like a missing one (was PERMISSION_DENIED).
    assert_eq!(err.code(), Code::NotFound);

    let err = c
        .update_task(UpdateTaskRequest {
            task_id: "task-1".into(),
            title: Some("x".into()),
            expected_version: Some(9),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Aborted);
    assert!(err.message().contains("version 1"), "{}", err.message());

    let mut bad = Request::new(ListBoardsRequest {});
    bad.metadata_mut()
        .insert("authorization", "Bearer nope".parse().unwrap());
    assert_eq!(c.list_boards(bad).await.unwrap_err().code(), Code::Unauthenticated);

    let huge = create(&"x".repeat(100 * 1024), "list-todo");
    // Past the 64 KiB message limit tonic refuses to decode the request.
    assert_eq!(c.create_task(huge).await.unwrap_err().code(), Code::OutOfRange);

    assert!(app.log("board-1").await.is_empty());
    assert_eq!(app.board("board-1").await.tasks.len(), 5);
}

#[tokio::test]
async fn grpc_request_id_makes_retries_idempotent() {
    let app = spawn_app().await;
    let mut c = client(&app).await;
    let req = MoveTaskRequest {
        task_id: "task-1".into(),
        list_id: "list-done".into(),
        position: Some(0),
        request_id: "move-once".into(),
        ..Default::default()
    };
    let first = c.move_task(req.clone()).await.unwrap().into_inner();
    let again = c.move_task(req.clone()).await.unwrap().into_inner();
    assert_eq!(first, again);
    let log = app.log("board-1").await;
    assert_eq!(log.len(), 1);
    assert!(matches!(log[0].payload, Some(Payload::TaskMoved(_))));
    assert_eq!(log[0].request_id, "move-once");

    let other = MoveTaskRequest {
        position: Some(1),
        ..req
    };
    assert_eq!(c.move_task(other).await.unwrap_err().code(), Code::InvalidArgument);
}

#[tokio::test]
async fn reflection_v1_and_health_answer() {
    use tonic_health::pb::health_client::HealthClient;
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let app = spawn_app().await;
    let channel = Channel::from_shared(format!("http://{}", app.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut reflection = ServerReflectionClient::new(channel.clone());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = reflection
        .server_reflection_info(tokio_stream::once(request))
        .await
        .unwrap()
        .into_inner();
    let answer = stream.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else {
        panic!("unexpected reflection answer {answer:?}");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(names.contains(&"boardcast.v1.BoardService".to_owned()), "{names:?}");
    assert!(names.contains(&"grpc.health.v1.Health".to_owned()), "{names:?}");

    let mut health = HealthClient::new(channel);
    let resp = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "boardcast.v1.BoardService".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        resp.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
}

#[tokio::test]
async fn unknown_grpc_method_is_unimplemented_and_rest_404_stays_json() {
    let app = spawn_app().await;
    let resp = app
        .http
        .post(app.url("/boardcast.v1.BoardService/Nope"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        reqwest::StatusCode::NOT_FOUND,
        "REST clients get REST 404s"
    );

    let channel = Channel::from_shared(format!("http://{}", app.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let path = "/boardcast.v1.BoardService/Nope".parse().unwrap();
    let err = grpc
        .unary::<ListBoardsRequest, ListBoardsResponse, _>(
            Request::new(ListBoardsRequest {}),
            path,
            tonic_prost::ProstCodec::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unimplemented);
}
