//! One schema: every message of `proto/` round-trips through JSON and protobuf with the
//! same content, and its JSON keys are the proto3 JSON names of its fields.

use std::collections::BTreeSet;
use std::fmt::Debug;

use boardcast::proto::FILE_DESCRIPTOR_SET;
use boardcast::proto::v1::board_event::Payload;
use boardcast::proto::v1::*;
use prost::Message;
use prost_types::{DescriptorProto, FileDescriptorSet, Timestamp};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::helpers::spawn_app;

fn descriptor(name: &str) -> DescriptorProto {
    let fds = FileDescriptorSet::decode(FILE_DESCRIPTOR_SET).unwrap();
    fds.file
        .into_iter()
        .filter(|f| f.package() == "boardcast.v1")
        .flat_map(|f| f.message_type)
        .find(|m| m.name() == name)
        .unwrap_or_else(|| panic!("no message {name} in the contract"))
}

fn contract_messages() -> BTreeSet<String> {
    let fds = FileDescriptorSet::decode(FILE_DESCRIPTOR_SET).unwrap();
    fds.file
        .into_iter()
        .filter(|f| f.package() == "boardcast.v1")
        .flat_map(|f| f.message_type)
        .map(|m| m.name().to_owned())
        .collect()
}

/// Round-trips `value` both ways and checks that JSON and protobuf agree on it.
fn check<T>(name: &str, value: T, checked: &mut BTreeSet<String>)
where
    T: Message + Serialize + DeserializeOwned + PartialEq + Debug + Default,
{
    let bytes = value.encode_to_vec();
    assert_eq!(
        T::decode(bytes.as_slice()).unwrap(),
        value,
        "{name}: protobuf round trip"
    );
    let json = serde_json::to_value(&value).unwrap();
    let from_json: T = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(from_json, value, "{name}: JSON round trip of {json}");
    assert_eq!(
        from_json.encode_to_vec(),
        bytes,
        "{name}: JSON and protobuf carry the same data"
    );

    let object = json.as_object().unwrap_or_else(|| panic!("{name} is a JSON object"));
    for field in descriptor(name).field {
        if field.oneof_index.is_some() && !field.proto3_optional() {
            // oneof members are flattened beside the "type" tag
            assert!(object["type"].is_string(), "{name}: oneof carries a type tag: {json}");
            continue;
        }
        let key = field.json_name();
        assert!(
            object.get(key).is_some_and(|v| !v.is_null()),
            "{name}.{}: expected JSON key `{key}` in {json}",
            field.name()
        );
    }
    checked.insert(name.to_owned());
}

fn ts() -> Option<Timestamp> {
    Some(Timestamp {
        seconds: 1_763_892_000,
        nanos: 123_000_000,
    })
}

fn task() -> Task {
    Task {
        id: "task-1".into(),
        board_id: "board-1".into(),
        list_id: "list-todo".into(),
        title: "Write the announcement".into(),
        description: "Draft".into(),
        position: 2,
        version: 7,
        created_at: ts(),
        updated_at: ts(),
        created_by: "alice".into(),
        assignee_ids: vec!["alice".into(), "bob".into()],
        label_ids: vec!["label-1".into()],
        due_at: ts(),
    }
}

fn shifted() -> Vec<TaskPosition> {
    vec![TaskPosition {
        task_id: "task-2".into(),
        list_id: "list-todo".into(),
        position: 3,
    }]
}

fn event(payload: Payload) -> BoardEvent {
    BoardEvent {
        seq: 42,
        board_id: "board-1".into(),
        occurred_at: ts(),
        actor: "bob".into(),
        request_id: "req-1".into(),
        payload: Some(payload),
    }
}

#[test]
fn every_message_round_trips_through_json_and_protobuf() {
    let mut checked = BTreeSet::new();
    let c = &mut checked;
    let board = Board {
        id: "board-1".into(),
        name: "Launch".into(),
        created_at: ts(),
        archived: true,
    };
    let list = BoardList {
        id: "list-todo".into(),
        board_id: "board-1".into(),
        name: "To Do".into(),
        position: 1,
    };
    check("Board", board.clone(), c);
    check("BoardList", list.clone(), c);
    check("Task", task(), c);
    check(
        "User",
        User {
            id: "alice".into(),
            name: "Alice".into(),
            username: "alice".into(),
        },
        c,
    );
    check("TaskPosition", shifted()[0].clone(), c);
    check(
        "TaskCreated",
        TaskCreated {
            task: Some(task()),
            shifted: shifted(),
        },
        c,
    );
    check("TaskUpdated", TaskUpdated { task: Some(task()) }, c);
    let moved = TaskMoved {
        task: Some(task()),
        from_list_id: "list-done".into(),
        from_position: 4,
        shifted: shifted(),
    };
    check("TaskMoved", moved.clone(), c);
    let deleted = TaskDeleted {
        task_id: "task-9".into(),
        list_id: "list-todo".into(),
        shifted: shifted(),
        title: "Old".into(),
    };
    check("TaskDeleted", deleted.clone(), c);
    for payload in [
        Payload::TaskCreated(TaskCreated {
            task: Some(task()),
            shifted: shifted(),
        }),
        Payload::TaskUpdated(TaskUpdated { task: Some(task()) }),
        Payload::TaskMoved(moved),
        Payload::TaskDeleted(deleted),
    ] {
        check("BoardEvent", event(payload), c);
    }
    check(
        "ErrorResponse",
        ErrorResponse {
            error: Some(ErrorDetail {
                code: "invalid_argument".into(),
                message: "title must not be empty".into(),
                field: Some("title".into()),
            }),
        },
        c,
    );
    check(
        "ErrorDetail",
        ErrorDetail {
            code: "not_found".into(),
            message: "m".into(),
            field: Some("f".into()),
        },
        c,
    );
    check("ListBoardsRequest", ListBoardsRequest {}, c);
    check(
        "ListBoardsResponse",
        ListBoardsResponse {
            boards: vec![board.clone()],
        },
        c,
    );
    check(
        "GetBoardRequest",
        GetBoardRequest {
            board_id: "board-1".into(),
            limit: Some(100),
            page_token: "0.3.task-4".into(),
        },
        c,
    );
    check(
        "GetBoardResponse",
        GetBoardResponse {
            board: Some(board.clone()),
            lists: vec![list.clone()],
            tasks: vec![task()],
            seq: 9,
            next_page_token: "0.3.task-4".into(),
        },
        c,
    );
    check(
        "ListTasksRequest",
        ListTasksRequest {
            board_id: "board-1".into(),
            list_id: "list-todo".into(),
        },
        c,
    );
    check("ListTasksResponse", ListTasksResponse { tasks: vec![task()] }, c);
    check(
        "GetTaskRequest",
        GetTaskRequest {
            task_id: "task-1".into(),
        },
        c,
    );
    check("GetTaskResponse", GetTaskResponse { task: Some(task()) }, c);
    check(
        "CreateTaskRequest",
        CreateTaskRequest {
            list_id: "list-todo".into(),
            title: "t".into(),
            description: "d".into(),
            position: Some(0),
            board_id: "board-1".into(),
            request_id: "r".into(),
            assignee_ids: vec!["bob".into()],
            label_ids: vec!["label-1".into()],
            due_at: ts(),
        },
        c,
    );
    check(
        "CreateTaskResponse",
        CreateTaskResponse {
            task: Some(task()),
            seq: 1,
        },
        c,
    );
    check(
        "UpdateTaskRequest",
        UpdateTaskRequest {
            task_id: "task-1".into(),
            title: Some("t".into()),
            description: Some("d".into()),
            expected_version: Some(3),
            request_id: "r".into(),
            assignee_ids: Some(IdSet {
                ids: vec!["bob".into()],
            }),
            label_ids: Some(IdSet { ids: vec![] }),
            due_at: Some(DueDate { at: ts() }),
        },
        c,
    );
    check(
        "UpdateTaskResponse",
        UpdateTaskResponse {
            task: Some(task()),
            seq: 2,
        },
        c,
    );
    check(
        "MoveTaskRequest",
        MoveTaskRequest {
            task_id: "task-1".into(),
            list_id: "list-done".into(),
            position: Some(0),
            expected_version: Some(1),
            request_id: "r".into(),
        },
        c,
    );
    check(
        "MoveTaskResponse",
        MoveTaskResponse {
            task: Some(task()),
            seq: 3,
        },
        c,
    );
    check(
        "DeleteTaskRequest",
        DeleteTaskRequest {
            task_id: "task-1".into(),
            expected_version: Some(1),
            request_id: "r".into(),
        },
        c,
    );
    check(
        "DeleteTaskResponse",
        DeleteTaskResponse {
            task_id: "task-1".into(),
            seq: 4,
        },
        c,
    );

    // Boards, lists and members.
    boards_lists_and_members(c, &board, &list);
    labels_and_activity(c);

    // Streams and polling.
    let seqs = vec![BoardSeq {
        board_id: "board-1".into(),
        seq: 3,
    }];
    check("BoardSeq", seqs[0].clone(), c);
    check(
        "BoardCursor",
        BoardCursor {
            board_id: "board-1".into(),
            after_seq: Some(2),
        },
        c,
    );
    let connected = Connected {
        board_id: "board-1".into(),
        seq: 3,
        boards: seqs,
    };
    check("Connected", connected.clone(), c);
    let reset = Reset {
        board_id: "board-1".into(),
        seq: 3,
        reason: "ahead".into(),
    };
    check("Reset", reset.clone(), c);
    let revoked = Revoked {
        reason: "signed out".into(),
    };
    check("Revoked", revoked.clone(), c);
    for notice in [
        stream_notice::Notice::Connected(connected),
        stream_notice::Notice::Reset(reset),
        stream_notice::Notice::Revoked(revoked),
    ] {
        check("StreamNotice", StreamNotice { notice: Some(notice) }, c);
    }
    check(
        "SubscribeRequest",
        SubscribeRequest {
            board_id: "board-1".into(),
            after_seq: Some(1),
            snapshot: true,
            boards: vec![BoardCursor {
                board_id: "board-2".into(),
                after_seq: None,
            }],
        },
        c,
    );
    let events = vec![event(Payload::TaskUpdated(TaskUpdated { task: Some(task()) }))];
    check(
        "ChangesResponse",
        ChangesResponse {
            events: events.clone(),
            seq: 9,
            timeout: true,
            reset: true,
        },
        c,
    );
    check(
        "UpdatesResponse",
        UpdatesResponse {
            data: vec![task()],
            timestamp: 1_763_892_000_123,
        },
        c,
    );
    check(
        "PollResponse",
        PollResponse {
            data: events,
            timestamp: 1_763_892_000_123,
            timeout: true,
        },
        c,
    );
    // WebSocket messages, and each as a variant of its tagged envelope.
    let viewer = Viewer {
        user_id: "alice".into(),
        name: "Alice".into(),
        color: "#e6194b".into(),
    };
    check("Viewer", viewer.clone(), c);
    let create = CreateTaskRequest {
        list_id: "list-todo".into(),
        title: "t".into(),
        description: "d".into(),
        position: Some(1),
        board_id: "board-1".into(),
        request_id: "r".into(),
        assignee_ids: vec!["bob".into()],
        label_ids: vec!["label-1".into()],
        due_at: ts(),
    };
    let update = UpdateTaskRequest {
        task_id: "task-1".into(),
        title: Some("t".into()),
        description: Some("d".into()),
        expected_version: Some(2),
        request_id: "r".into(),
        assignee_ids: Some(IdSet {
            ids: vec!["bob".into()],
        }),
        label_ids: Some(IdSet {
            ids: vec!["label-1".into()],
        }),
        due_at: Some(DueDate { at: ts() }),
    };
    let mv = MoveTaskRequest {
        task_id: "task-1".into(),
        list_id: "list-done".into(),
        position: Some(0),
        expected_version: Some(2),
        request_id: "r".into(),
    };
    let del = DeleteTaskRequest {
        task_id: "task-1".into(),
        expected_version: Some(2),
        request_id: "r".into(),
    };
    let auth = Auth { token: "bc_x".into() };
    let join = Join {
        board_id: "board-1".into(),
        after_seq: Some(4),
    };
    let leave = Leave {
        board_id: "board-1".into(),
    };
    let typing = Typing {
        board_id: "board-1".into(),
        task_id: "task-1".into(),
    };
    let stop = StopTyping {
        board_id: "board-1".into(),
    };
    let cursor = CursorMove {
        board_id: "board-1".into(),
        x: 1.5,
        y: 2.5,
    };
    let resume = Resume {
        board_id: "board-1".into(),
        after_seq: 4,
    };
    check("Auth", auth.clone(), c);
    check("Join", join.clone(), c);
    check("Leave", leave.clone(), c);
    check("Typing", typing.clone(), c);
    check("StopTyping", stop.clone(), c);
    check("CursorMove", cursor.clone(), c);
    check("Ping", Ping {}, c);
    check("Resume", resume.clone(), c);
    use client_message::Message as In;
    for message in [
        In::Auth(auth),
        In::Join(join),
        In::Leave(leave),
        In::Typing(typing),
        In::StopTyping(stop),
        In::Cursor(cursor),
        In::Ping(Ping {}),
        In::Resume(resume),
        In::CreateTask(create),
        In::UpdateTask(update),
        In::MoveTask(mv),
        In::DeleteTask(del),
    ] {
        check("ClientMessage", ClientMessage { message: Some(message) }, c);
    }
    let welcome = Welcome {
        user_id: "alice".into(),
        name: "Alice".into(),
        color: "#e6194b".into(),
        connection_id: "7".into(),
    };
    let presence = Presence {
        board_id: "board-1".into(),
        viewers: vec![viewer],
        viewer_count: 1,
    };
    let joined = UserJoined {
        board_id: "board-1".into(),
        user_id: "bob".into(),
        name: "Bob".into(),
        color: "#3cb44b".into(),
    };
    let left = UserLeft {
        board_id: "board-1".into(),
        user_id: "bob".into(),
        name: "Bob".into(),
    };
    let user_typing = UserTyping {
        board_id: "board-1".into(),
        user_id: "bob".into(),
        name: "Bob".into(),
        task_id: "task-1".into(),
    };
    let stopped = UserStoppedTyping {
        board_id: "board-1".into(),
        user_id: "bob".into(),
    };
    let moved = CursorMoved {
        board_id: "board-1".into(),
        user_id: "bob".into(),
        x: 3.0,
        y: 4.0,
        color: "#3cb44b".into(),
    };
    let ack = Ack {
        request_id: "r".into(),
        task: Some(task()),
        seq: 5,
    };
    let error = ErrorFrame {
        request_id: "r".into(),
        code: "invalid_argument".into(),
        message: "title must not be empty".into(),
        field: "title".into(),
        error: "title must not be empty".into(),
    };
    check("Welcome", welcome.clone(), c);
    check("Presence", presence.clone(), c);
    check("UserJoined", joined.clone(), c);
    check("UserLeft", left.clone(), c);
    check("UserTyping", user_typing.clone(), c);
    check("UserStoppedTyping", stopped.clone(), c);
    check("CursorMoved", moved.clone(), c);
    check("Pong", Pong {}, c);
    check("Ack", ack.clone(), c);
    check("ErrorFrame", error.clone(), c);
    use server_message::Message as Out;
    for message in [
        Out::Welcome(welcome),
        Out::Presence(presence),
        Out::UserJoined(joined),
        Out::UserLeft(left),
        Out::UserTyping(user_typing),
        Out::UserStoppedTyping(stopped),
        Out::Cursor(moved),
        Out::Pong(Pong {}),
        Out::Ack(ack),
        Out::Error(error),
    ] {
        check("ServerMessage", ServerMessage { message: Some(message) }, c);
    }

    account_messages(c);

    let dev = DevUser {
        user_id: "alice".into(),
        name: "Alice".into(),
        token: "bc_x".into(),
    };
    check("DevUser", dev.clone(), c);
    check("DevUsersResponse", DevUsersResponse { users: vec![dev] }, c);

    let health = HealthResponse { status: "alive".into() };
    check("HealthResponse", health, c);
    let failed = ReadinessCheck {
        name: "serving".into(),
        ok: false,
        detail: "the server is draining for shutdown".into(),
    };
    check("ReadinessCheck", failed.clone(), c);
    check(
        "ReadinessResponse",
        ReadinessResponse {
            ready: false,
            checks: vec![failed],
        },
        c,
    );

    // gRPC only, written by hand for shared bytes: protobuf round trip, no JSON form.
    let sub = boardcast::proto::SubscribeResponse {
        message: Some(boardcast::proto::SubscribeMessage::Event(
            event(Payload::TaskDeleted(TaskDeleted::default()))
                .encode_to_vec()
                .into(),
        )),
    };
    assert_eq!(
        boardcast::proto::SubscribeResponse::decode(sub.encode_to_vec().as_slice()).unwrap(),
        sub
    );
    c.insert("SubscribeResponse".into());

    assert_eq!(checked, contract_messages(), "every message of the contract is checked");
}

fn removed() -> MemberRemoved {
    MemberRemoved {
        user_id: "bob".into(),
        unassigned_task_ids: vec!["task-1".into()],
    }
}

fn member() -> Member {
    Member {
        user_id: "bob".into(),
        username: "bob".into(),
        name: "Bob".into(),
        role: Role::Editor as i32,
    }
}

/// The messages of boards, lists and members: requests, responses and event payloads.
fn boards_lists_and_members(c: &mut BTreeSet<String>, board: &Board, list: &BoardList) {
    let board = || Some(board.clone());
    let list = || Some(list.clone());
    check("Member", member(), c);
    let list_shifted = vec![ListPosition {
        list_id: "list-done".into(),
        position: 2,
    }];
    check("ListPosition", list_shifted[0].clone(), c);
    let created = BoardCreated {
        board: board(),
        lists: vec![list().unwrap()],
        owner: Some(member()),
    };
    check("BoardCreated", created.clone(), c);
    check("BoardUpdated", BoardUpdated { board: board() }, c);
    check("BoardDeleted", BoardDeleted { name: "Launch".into() }, c);
    let list_created = ListCreated {
        list: list(),
        shifted: list_shifted.clone(),
    };
    check("ListCreated", list_created.clone(), c);
    check(
        "ListUpdated",
        ListUpdated {
            list: list(),
            from_name: "Doing".into(),
        },
        c,
    );
    let list_moved = ListMoved {
        list: list(),
        from_position: 0,
        shifted: list_shifted.clone(),
    };
    check("ListMoved", list_moved.clone(), c);
    let list_deleted = ListDeleted {
        list_id: "list-todo".into(),
        shifted: list_shifted,
        moved_tasks_to: "list-done".into(),
        moved_tasks: shifted(),
        name: "To Do".into(),
    };
    check("ListDeleted", list_deleted.clone(), c);
    check("MemberAdded", MemberAdded { member: Some(member()) }, c);
    check("MemberUpdated", MemberUpdated { member: Some(member()) }, c);
    check("MemberRemoved", removed(), c);
    for payload in [
        Payload::BoardCreated(created),
        Payload::BoardUpdated(BoardUpdated { board: board() }),
        Payload::BoardDeleted(BoardDeleted { name: "Launch".into() }),
        Payload::ListCreated(list_created),
        Payload::ListUpdated(ListUpdated {
            list: list(),
            from_name: "Doing".into(),
        }),
        Payload::ListMoved(list_moved),
        Payload::ListDeleted(list_deleted),
        Payload::MemberAdded(MemberAdded { member: Some(member()) }),
        Payload::MemberUpdated(MemberUpdated { member: Some(member()) }),
        Payload::MemberRemoved(removed()),
    ] {
        check("BoardEvent", event(payload), c);
    }
    let r = || "r".to_owned();
    check(
        "CreateBoardRequest",
        CreateBoardRequest {
            name: "Plans".into(),
            request_id: r(),
        },
        c,
    );
    check(
        "CreateBoardResponse",
        CreateBoardResponse {
            board: board(),
            lists: vec![list().unwrap()],
            seq: 1,
        },
        c,
    );
    check(
        "UpdateBoardRequest",
        UpdateBoardRequest {
            board_id: "board-1".into(),
            name: Some("n".into()),
            archived: Some(true),
            request_id: r(),
        },
        c,
    );
    check("UpdateBoardResponse", UpdateBoardResponse { board: board(), seq: 2 }, c);
    check(
        "DeleteBoardRequest",
        DeleteBoardRequest {
            board_id: "board-1".into(),
            request_id: r(),
        },
        c,
    );
    check(
        "DeleteBoardResponse",
        DeleteBoardResponse {
            board_id: "board-1".into(),
            seq: 3,
        },
        c,
    );
    check(
        "CreateListRequest",
        CreateListRequest {
            board_id: "board-1".into(),
            name: "n".into(),
            position: Some(1),
            request_id: r(),
        },
        c,
    );
    check("CreateListResponse", CreateListResponse { list: list(), seq: 4 }, c);
    check(
        "UpdateListRequest",
        UpdateListRequest {
            list_id: "list-todo".into(),
            name: "n".into(),
            request_id: r(),
        },
        c,
    );
    check("UpdateListResponse", UpdateListResponse { list: list(), seq: 5 }, c);
    check(
        "MoveListRequest",
        MoveListRequest {
            list_id: "list-todo".into(),
            position: Some(2),
            request_id: r(),
        },
        c,
    );
    check("MoveListResponse", MoveListResponse { list: list(), seq: 6 }, c);
    check(
        "DeleteListRequest",
        DeleteListRequest {
            list_id: "list-todo".into(),
            move_tasks_to: "list-done".into(),
            request_id: r(),
        },
        c,
    );
    check(
        "DeleteListResponse",
        DeleteListResponse {
            list_id: "list-todo".into(),
            seq: 7,
        },
        c,
    );
    check(
        "ListMembersRequest",
        ListMembersRequest {
            board_id: "board-1".into(),
        },
        c,
    );
    check(
        "ListMembersResponse",
        ListMembersResponse {
            members: vec![member()],
        },
        c,
    );
    check(
        "AddMemberRequest",
        AddMemberRequest {
            board_id: "board-1".into(),
            username: "bob".into(),
            role: Role::Viewer as i32,
            request_id: r(),
        },
        c,
    );
    check(
        "AddMemberResponse",
        AddMemberResponse {
            member: Some(member()),
            seq: 8,
        },
        c,
    );
    check(
        "UpdateMemberRequest",
        UpdateMemberRequest {
            board_id: "board-1".into(),
            user_id: "bob".into(),
            role: Role::Owner as i32,
            request_id: r(),
        },
        c,
    );
    check(
        "UpdateMemberResponse",
        UpdateMemberResponse {
            member: Some(member()),
            seq: 9,
        },
        c,
    );
    check(
        "RemoveMemberRequest",
        RemoveMemberRequest {
            board_id: "board-1".into(),
            user_id: "bob".into(),
            request_id: r(),
        },
        c,
    );
    check(
        "RemoveMemberResponse",
        RemoveMemberResponse {
            user_id: "bob".into(),
            seq: 10,
        },
        c,
    );
}

#[test]
fn roles_are_lowercase_strings_on_json() {
    for (role, name) in [
        (Role::Owner, "owner"),
        (Role::Editor, "editor"),
        (Role::Viewer, "viewer"),
    ] {
        let json = serde_json::to_value(Member {
            role: role as i32,
            ..member()
        })
        .unwrap();
        assert_eq!(json["role"], name);
        let back: AddMemberRequest =
            serde_json::from_value(serde_json::json!({"username": "bob", "role": name})).unwrap();
        assert_eq!(back.role, role as i32);
    }
    let err = serde_json::from_value::<AddMemberRequest>(serde_json::json!({"role": "admin"})).unwrap_err();
    assert!(err.to_string().contains("unknown role `admin`"), "{err}");
    assert!(serde_json::from_value::<AddMemberRequest>(serde_json::json!({"role": 1})).is_err());
    let event = serde_json::to_value(event(Payload::MemberAdded(MemberAdded { member: Some(member()) }))).unwrap();
    assert_eq!(event["type"], "member_added");
    assert_eq!(event["member"]["role"], "editor");
}

#[test]
fn events_use_the_seed_wire_shape() {
    let json = serde_json::to_value(event(Payload::TaskCreated(TaskCreated {
        task: Some(task()),
        shifted: vec![],
    })))
    .unwrap();
    assert_eq!(json["type"], "task_created");
    assert_eq!(json["task"]["listId"], "list-todo");
    let connected = serde_json::to_value(StreamNotice {
        notice: Some(stream_notice::Notice::Connected(Connected {
            board_id: "board-1".into(),
            ..Default::default()
        })),
    })
    .unwrap();
    assert_eq!(
        (connected["type"].as_str(), connected["boardId"].as_str()),
        (Some("connected"), Some("board-1"))
    );
    assert_eq!(json["seq"], 42, "64-bit integers are JSON numbers");
    assert_eq!(json["occurredAt"], "2025-11-23T10:00:00.123Z");
    let deleted = serde_json::to_value(event(Payload::TaskDeleted(TaskDeleted {
        task_id: "task-1".into(),
        ..Default::default()
    })))
    .unwrap();
    assert_eq!(deleted["type"], "task_deleted");
    assert_eq!(deleted["taskId"], "task-1");
}

#[tokio::test]
async fn rest_json_and_grpc_protobuf_describe_the_same_task() {
    use boardcast::proto::v1::board_service_client::BoardServiceClient;
    let app = spawn_app().await;
    let created = app.create_task("list-doing", "same everywhere").await;
    let rest: Value = app.get(&format!("/tasks/{}", created.id)).await.json().await.unwrap();
    let mut grpc = BoardServiceClient::connect(format!("http://{}", app.addr))
        .await
        .unwrap();
    let via_grpc = grpc
        .get_task(GetTaskRequest {
            task_id: created.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .task
        .unwrap();
    assert_eq!(serde_json::from_value::<Task>(rest.clone()).unwrap(), via_grpc);
    assert_eq!(rest, serde_json::to_value(&via_grpc).unwrap());
}

/// The messages of `account.proto`.
fn account_messages(c: &mut BTreeSet<String>) {
    let user = || {
        Some(User {
            id: "u_1".into(),
            name: "Dana".into(),
            username: "dana".into(),
        })
    };
    let api_token = ApiToken {
        id: "tok_1".into(),
        name: "ci".into(),
        created_at: ts(),
        last_used_at: ts(),
    };
    check(
        "SignupRequest",
        SignupRequest {
            username: "dana".into(),
            password: "pw-123456".into(),
            name: "Dana".into(),
        },
        c,
    );
    check(
        "SignupResponse",
        SignupResponse {
            user: user(),
            token: "bc_x".into(),
        },
        c,
    );
    check(
        "LoginRequest",
        LoginRequest {
            username: "dana".into(),
            password: "pw-123456".into(),
        },
        c,
    );
    check(
        "LoginResponse",
        LoginResponse {
            user: user(),
            token: "bc_x".into(),
        },
        c,
    );
    check("LogoutRequest", LogoutRequest {}, c);
    check("LogoutResponse", LogoutResponse {}, c);
    check("GetMeRequest", GetMeRequest {}, c);
    check("GetMeResponse", GetMeResponse { user: user() }, c);
    check("ApiToken", api_token.clone(), c);
    check("CreateTokenRequest", CreateTokenRequest { name: "ci".into() }, c);
    check(
        "CreateTokenResponse",
        CreateTokenResponse {
            api_token: Some(api_token.clone()),
            token: "bc_x".into(),
        },
        c,
    );
    check("ListTokensRequest", ListTokensRequest {}, c);
    check(
        "ListTokensResponse",
        ListTokensResponse {
            tokens: vec![api_token],
        },
        c,
    );
    check(
        "RevokeTokenRequest",
        RevokeTokenRequest {
            token_id: "tok_1".into(),
        },
        c,
    );
    check("RevokeTokenResponse", RevokeTokenResponse {}, c);
}

fn label() -> Label {
    Label {
        id: "label-1".into(),
        board_id: "board-1".into(),
        name: "Bug".into(),
        color: "#d73a4a".into(),
    }
}

/// Labels, task detail wrappers and the activity feed: requests, responses, payloads.
fn labels_and_activity(c: &mut BTreeSet<String>) {
    let label = || Some(label());
    check("Label", label().unwrap(), c);
    check(
        "IdSet",
        IdSet {
            ids: vec!["bob".into()],
        },
        c,
    );
    check("DueDate", DueDate { at: ts() }, c);
    let deleted = LabelDeleted {
        label_id: "label-1".into(),
        task_ids: vec!["task-1".into()],
        name: "Bug".into(),
    };
    check("LabelCreated", LabelCreated { label: label() }, c);
    check("LabelUpdated", LabelUpdated { label: label() }, c);
    check("LabelDeleted", deleted.clone(), c);
    for payload in [
        Payload::LabelCreated(LabelCreated { label: label() }),
        Payload::LabelUpdated(LabelUpdated { label: label() }),
        Payload::LabelDeleted(deleted),
    ] {
        check("BoardEvent", event(payload), c);
    }
    let r = || "r".to_owned();
    check(
        "ListLabelsRequest",
        ListLabelsRequest {
            board_id: "board-1".into(),
        },
        c,
    );
    check(
        "ListLabelsResponse",
        ListLabelsResponse {
            labels: vec![label().unwrap()],
        },
        c,
    );
    let create = CreateLabelRequest {
        board_id: "board-1".into(),
        name: "Bug".into(),
        color: "#d73a4a".into(),
        request_id: r(),
    };
    check("CreateLabelRequest", create, c);
    check("CreateLabelResponse", CreateLabelResponse { label: label(), seq: 3 }, c);
    let update = UpdateLabelRequest {
        label_id: "label-1".into(),
        name: Some("Defect".into()),
        color: Some("#000000".into()),
        request_id: r(),
    };
    check("UpdateLabelRequest", update, c);
    check("UpdateLabelResponse", UpdateLabelResponse { label: label(), seq: 4 }, c);
    let delete = DeleteLabelRequest {
        label_id: "label-1".into(),
        request_id: r(),
    };
    check("DeleteLabelRequest", delete, c);
    let deleted = DeleteLabelResponse {
        label_id: "label-1".into(),
        seq: 5,
    };
    check("DeleteLabelResponse", deleted, c);
    let list = ListActivityRequest {
        board_id: "board-1".into(),
        before: Some(10),
        limit: Some(20),
    };
    check("ListActivityRequest", list, c);
    let entry = ActivityEntry {
        seq: 9,
        occurred_at: ts(),
        actor_id: "alice".into(),
        actor_name: "Alice".into(),
        r#type: "task_moved".into(),
        summary: "Alice moved “Fix login” to Done".into(),
    };
    check("ActivityEntry", entry.clone(), c);
    let page = ListActivityResponse {
        entries: vec![entry],
        next_before: 9,
    };
    check("ListActivityResponse", page, c);
}

/// The contract's JSON of task details: an unset due date is null; on an update,
/// a field left out is unchanged, `[]` clears a set and `null` clears the due date.
#[test]
fn task_details_on_json() {
    let json = serde_json::to_value(Task { due_at: None, ..task() }).unwrap();
    assert_eq!(json["dueAt"], Value::Null);
    assert_eq!(json["assigneeIds"], serde_json::json!(["alice", "bob"]));
    assert_eq!(json["labelIds"], serde_json::json!(["label-1"]));
    let json = serde_json::to_value(task()).unwrap();
    assert_eq!(json["dueAt"], "2025-11-23T10:00:00.123Z");

    let parse = |v: Value| serde_json::from_value::<UpdateTaskRequest>(v).unwrap();
    let absent = parse(serde_json::json!({"title": "t"}));
    assert_eq!(
        (&absent.assignee_ids, &absent.label_ids, &absent.due_at),
        (&None, &None, &None)
    );
    let cleared = parse(serde_json::json!({"assigneeIds": [], "labelIds": [], "dueAt": null}));
    assert_eq!(cleared.assignee_ids, Some(IdSet { ids: vec![] }));
    assert_eq!(cleared.label_ids, Some(IdSet { ids: vec![] }));
    assert_eq!(cleared.due_at, Some(DueDate { at: None }));
    let set = parse(serde_json::json!({"assigneeIds": ["bob"], "dueAt": "2026-12-24T17:00:00Z"}));
    assert_eq!(
        set.assignee_ids,
        Some(IdSet {
            ids: vec!["bob".into()]
        })
    );
    assert_eq!(
        set.due_at,
        Some(DueDate {
            at: Some(Timestamp {
                seconds: 1_798_131_600,
                nanos: 0
            })
        })
    );
    // Written back, a cleared due date is null and an untouched one is left out.
    let back = serde_json::to_value(&cleared).unwrap();
    assert_eq!(back["dueAt"], Value::Null);
    assert!(serde_json::to_value(&absent).unwrap().get("dueAt").is_none());
    for bad in [
        serde_json::json!({"assigneeIds": null}),
        serde_json::json!({"labelIds": "label-1"}),
        serde_json::json!({"dueAt": "tomorrow"}),
    ] {
        assert!(
            serde_json::from_value::<UpdateTaskRequest>(bad.clone()).is_err(),
            "{bad}"
        );
    }
    let create: CreateTaskRequest = serde_json::from_value(serde_json::json!({"listId": "l", "dueAt": null})).unwrap();
    assert_eq!(create.due_at, None);
}
