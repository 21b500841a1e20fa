//! The model-based test (issue 14): proptest generates sequences of task, list,
//! member and board changes, each sent by one of several users over REST, gRPC or the
//! WebSocket, a few at a time so they race (some twice at once, with one request id),
//! on SQLite and on PostgreSQL. Subscribers on SSE, the WebSocket, gRPC and long
//! polling (from the start, from a snapshot or the live edge mid-way, and one that
//! drops and resumes on another transport) each fold the events they received into a
//! board of their own, which must end equal to the server's. Along the way: every
//! subscriber sees exactly the log's events in seq order, positions stay dense after
//! every event, every refused change leaves no event and every accepted one exactly
//! one, and each accepted change was allowed at its place in the log.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use boardcast::Config;
use boardcast::proto::SubscribeMessage;
use boardcast::proto::v1::board_event::Payload;
use boardcast::proto::v1::board_service_client::BoardServiceClient;
use boardcast::proto::v1::client_message::Message as ClientMsg;
use boardcast::proto::v1::*;
use futures_util::{FutureExt, SinkExt, StreamExt};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tonic::transport::Channel;

use crate::helpers::{SseClient, TestApp, as_user, dense_order, spawn_with};
use crate::roles::Ws;

/// The users who send changes. alice creates each board and stays its owner (no op
/// names her); bob, carol and dave are the members the ops add, promote, demote and
/// remove; vic is a viewer no op names, so his streams last the whole case.
const USERS: [&str; 5] = ["alice", "bob", "carol", "dave", "vic"];
const POOL: [&str; 3] = ["bob", "carol", "dave"];
/// Ids no board has: what an op aimed at "nothing" names.
const NO_TASK: &str = "task-missing";
const NO_LIST: &str = "list-missing";

// ---------------------------------------------------------------------------------
// The generated case.

/// Something that exists when the op is sent, by index (modulo how many there are),
/// or something that never existed.
#[derive(Clone, Copy, Debug)]
enum Pick {
    Nth(usize),
    Missing,
}

/// A title or name: valid, or blank (refused with 400).
#[derive(Clone, Copy, Debug)]
enum Text {
    Word(u8),
    Blank,
}

#[derive(Clone, Copy, Debug)]
enum Pos {
    /// No position: append (required for a list move, so 400 there).
    End,
    At(u8),
    /// Far past the end: clamps to the end.
    Past,
    /// Refused with 400.
    Negative,
}

/// The `expectedVersion` a task change carries.
#[derive(Clone, Copy, Debug)]
enum Ver {
    Unchecked,
    /// The version when the batch started: stale if another op of the batch got there first.
    Current,
    /// Always stale.
    Stale,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Via {
    Rest,
    Grpc,
    Ws,
}

#[derive(Clone, Debug)]
enum Op {
    CreateTask {
        list: Pick,
        title: Text,
        position: Pos,
    },
    UpdateTask {
        task: Pick,
        title: Text,
        assignees: Option<Vec<u8>>,
        version: Ver,
    },
    MoveTask {
        task: Pick,
        list: Pick,
        position: Pos,
        version: Ver,
    },
    DeleteTask {
        task: Pick,
        version: Ver,
    },
    CreateList {
        name: Text,
        position: Pos,
    },
    RenameList {
        list: Pick,
        name: Text,
    },
    MoveList {
        list: Pick,
        position: Pos,
    },
    DeleteList {
        list: Pick,
        move_tasks_to: Option<Pick>,
    },
    /// Members are named by index into [`POOL`].
    AddMember {
        user: u8,
        role: Role,
    },
    SetRole {
        user: u8,
        role: Role,
    },
    RemoveMember {
        user: u8,
    },
    RenameBoard {
        name: Text,
    },
    Archive(bool),
}

/// One change: who sends it, how, and what it is.
#[derive(Clone, Debug)]
struct Call {
    user: &'static str,
    via: Via,
    op: Op,
    /// Also sent, with the same request id, over this transport at the same time: a
    /// retry racing the first try.
    again: Option<Via>,
}

/// Ways of following a board.
#[derive(Clone, Copy, Debug)]
enum Follow {
    Sse,
    Ws,
    Grpc,
    Poll,
}

#[derive(Clone, Debug)]
struct Case {
    /// Each batch's calls are sent at once; batches one after another.
    batches: Vec<Vec<Call>>,
    /// Before this batch, a gRPC subscriber starts from a snapshot...
    snapshot_at: usize,
    /// ...and one over this transport from the live edge (no resume point).
    live: (usize, Follow),
    /// During this batch, a subscriber that followed from the start on the first
    /// transport drops its connection and resumes on the second.
    resume: (usize, Follow, Follow),
}

fn pick() -> impl Strategy<Value = Pick> {
    prop_oneof![9 => any::<u8>().prop_map(|n| Pick::Nth(n.into())), 1 => Just(Pick::Missing)]
}

fn text() -> impl Strategy<Value = Text> {
    prop_oneof![11 => (0u8..100).prop_map(Text::Word), 1 => Just(Text::Blank)]
}

fn pos() -> impl Strategy<Value = Pos> {
    prop_oneof![
        2 => Just(Pos::End),
        8 => (0u8..6).prop_map(Pos::At),
        1 => Just(Pos::Past),
        1 => Just(Pos::Negative),
    ]
}

fn ver() -> impl Strategy<Value = Ver> {
    prop_oneof![3 => Just(Ver::Unchecked), 2 => Just(Ver::Current), 1 => Just(Ver::Stale)]
}

fn role() -> impl Strategy<Value = Role> {
    prop_oneof![Just(Role::Owner), Just(Role::Editor), Just(Role::Viewer)]
}

fn member() -> impl Strategy<Value = u8> {
    0..POOL.len() as u8
}

fn task_op() -> impl Strategy<Value = Op> {
    let assignees = proptest::option::weighted(0.3, proptest::collection::vec(0..USERS.len() as u8, 0..=2));
    prop_oneof![
        5 => (pick(), text(), pos()).prop_map(|(list, title, position)| Op::CreateTask { list, title, position }),
        3 => (pick(), text(), assignees, ver())
            .prop_map(|(task, title, assignees, version)| Op::UpdateTask { task, title, assignees, version }),
        5 => (pick(), pick(), pos(), ver())
            .prop_map(|(task, list, position, version)| Op::MoveTask { task, list, position, version }),
        2 => (pick(), ver()).prop_map(|(task, version)| Op::DeleteTask { task, version }),
    ]
}

fn board_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (text(), pos()).prop_map(|(name, position)| Op::CreateList { name, position }),
        1 => (pick(), text()).prop_map(|(list, name)| Op::RenameList { list, name }),
        2 => (pick(), pos()).prop_map(|(list, position)| Op::MoveList { list, position }),
        2 => (pick(), proptest::option::weighted(0.7, pick()))
            .prop_map(|(list, move_tasks_to)| Op::DeleteList { list, move_tasks_to }),
        2 => (member(), role()).prop_map(|(user, role)| Op::AddMember { user, role }),
        2 => (member(), role()).prop_map(|(user, role)| Op::SetRole { user, role }),
        1 => member().prop_map(|user| Op::RemoveMember { user }),
        1 => text().prop_map(|name| Op::RenameBoard { name }),
        1 => any::<bool>().prop_map(Op::Archive),
    ]
}

/// Who sends a change: mostly those allowed to make it, sometimes those who are not.
fn user(alice: u32, bob: u32) -> impl Strategy<Value = &'static str> {
    prop_oneof![alice => Just("alice"), bob => Just("bob"), 1 => Just("carol"), 1 => Just("dave"), 1 => Just("vic")]
}

/// The WebSocket carries task changes only; the rest go over REST or gRPC.
fn call() -> impl Strategy<Value = Call> {
    let any_via = || prop_oneof![Just(Via::Rest), Just(Via::Grpc), Just(Via::Ws)];
    let not_ws = || prop_oneof![Just(Via::Rest), Just(Via::Grpc)];
    prop_oneof![
        3 => (user(4, 4), any_via(), task_op(), proptest::option::weighted(0.15, any_via()))
            .prop_map(|(user, via, op, again)| Call { user, via, op, again }),
        2 => (user(5, 2), not_ws(), board_op(), proptest::option::weighted(0.15, not_ws()))
            .prop_map(|(user, via, op, again)| Call { user, via, op, again }),
    ]
}

fn transport() -> impl Strategy<Value = Follow> {
    prop_oneof![
        Just(Follow::Sse),
        Just(Follow::Ws),
        Just(Follow::Grpc),
        Just(Follow::Poll)
    ]
}

fn case() -> impl Strategy<Value = Case> {
    let batches = proptest::collection::vec(proptest::collection::vec(call(), 1..=4), 1..=12);
    let live = (any::<usize>(), transport());
    (
        batches,
        any::<usize>(),
        live,
        (any::<usize>(), transport(), transport()),
    )
        .prop_map(|(batches, snapshot_at, (live_at, live), (at, from, to))| {
            let n = batches.len();
            Case {
                batches,
                snapshot_at: snapshot_at % n,
                live: (live_at % n, live),
                resume: (at % n, from, to),
            }
        })
}

// ---------------------------------------------------------------------------------
// The client-side model: a board rebuilt from events.

/// What a client knows of a board: enough to compare with the server's.
#[derive(Clone, Debug, Default, PartialEq)]
struct Model {
    board: Option<Board>,
    lists: BTreeMap<String, BoardList>,
    tasks: BTreeMap<String, Task>,
    members: BTreeMap<String, Member>,
    seq: u64,
}

impl Model {
    fn of(snapshot: GetBoardResponse, members: Vec<Member>) -> Model {
        assert!(snapshot.next_page_token.is_empty(), "one page holds the board");
        Model {
            board: snapshot.board,
            lists: snapshot.lists.into_iter().map(|l| (l.id.clone(), l)).collect(),
            tasks: snapshot.tasks.into_iter().map(|t| (t.id.clone(), t)).collect(),
            members: members.into_iter().map(|m| (m.user_id.clone(), m)).collect(),
            seq: snapshot.seq,
        }
    }

    fn role(&self, user: &str) -> Role {
        self.members
            .get(user)
            .map_or(Role::Unspecified, |m| Role::try_from(m.role).unwrap())
    }

    fn archived(&self) -> bool {
        self.board.as_ref().is_some_and(|b| b.archived)
    }

    /// Lists in position order.
    fn list_ids(&self) -> Vec<String> {
        let mut lists: Vec<&BoardList> = self.lists.values().collect();
        lists.sort_by_key(|l| l.position);
        lists.iter().map(|l| l.id.clone()).collect()
    }

    fn apply(&mut self, e: &BoardEvent) {
        assert_eq!(e.seq, self.seq + 1, "events in seq order, none missing or repeated");
        self.seq = e.seq;
        let payload = e.payload.as_ref().expect("every event has a payload");
        let ctx = || format!("seq {} ({})", e.seq, payload.type_name());
        match payload {
            Payload::BoardCreated(c) => {
                assert!(self.board.is_none(), "{}: the board already exists", ctx());
                self.board = c.board.clone();
                self.lists = c.lists.iter().map(|l| (l.id.clone(), l.clone())).collect();
                let owner = c.owner.clone().expect("board_created names its owner");
                self.members = BTreeMap::from([(owner.user_id.clone(), owner)]);
            }
            Payload::BoardUpdated(u) => self.board = u.board.clone(),
            Payload::TaskCreated(c) => {
                let task = c.task.clone().expect("task_created carries the task");
                assert!(
                    self.tasks.insert(task.id.clone(), task).is_none(),
                    "{}: a new id",
                    ctx()
                );
                self.shift(&c.shifted, &ctx());
            }
            Payload::TaskUpdated(u) => self.replace_task(u.task.clone(), &ctx()),
            Payload::TaskMoved(m) => {
                self.replace_task(m.task.clone(), &ctx());
                self.shift(&m.shifted, &ctx());
            }
            Payload::TaskDeleted(d) => {
                let gone = self.tasks.remove(&d.task_id);
                assert_eq!(gone.map(|t| t.list_id), Some(d.list_id.clone()), "{}", ctx());
                self.shift(&d.shifted, &ctx());
            }
            Payload::ListCreated(c) => {
                let list = c.list.clone().expect("list_created carries the list");
                assert!(
                    self.lists.insert(list.id.clone(), list).is_none(),
                    "{}: a new id",
                    ctx()
                );
                self.shift_lists(&c.shifted, &ctx());
            }
            Payload::ListUpdated(u) => self.replace_list(u.list.clone(), &ctx()),
            Payload::ListMoved(m) => {
                self.replace_list(m.list.clone(), &ctx());
                self.shift_lists(&m.shifted, &ctx());
            }
            Payload::ListDeleted(d) => {
                assert!(self.lists.remove(&d.list_id).is_some(), "{}: a known list", ctx());
                self.shift_lists(&d.shifted, &ctx());
                self.shift(&d.moved_tasks, &ctx());
            }
            Payload::MemberAdded(a) => {
                let m = a.member.clone().expect("member_added carries the member");
                assert!(
                    self.members.insert(m.user_id.clone(), m).is_none(),
                    "{}: a newcomer",
                    ctx()
                );
            }
            Payload::MemberUpdated(u) => {
                let m = u.member.clone().expect("member_updated carries the member");
                assert!(
                    self.members.insert(m.user_id.clone(), m).is_some(),
                    "{}: a member",
                    ctx()
                );
            }
            Payload::MemberRemoved(r) => {
                assert!(self.members.remove(&r.user_id).is_some(), "{}: a member", ctx());
                for id in &r.unassigned_task_ids {
                    let task = self.tasks.get_mut(id).unwrap_or_else(|| panic!("{}: task {id}", ctx()));
                    task.assignee_ids.retain(|u| *u != r.user_id);
                }
            }
            other => panic!("{}: no op of this test makes a {}", ctx(), other.type_name()),
        }
        self.assert_dense(&ctx());
    }

    fn replace_task(&mut self, task: Option<Task>, ctx: &str) {
        let task = task.expect("the event carries the task");
        assert!(
            self.tasks.insert(task.id.clone(), task).is_some(),
            "{ctx}: a known task"
        );
    }

    fn replace_list(&mut self, list: Option<BoardList>, ctx: &str) {
        let list = list.expect("the event carries the list");
        assert!(
            self.lists.insert(list.id.clone(), list).is_some(),
            "{ctx}: a known list"
        );
    }

    fn shift(&mut self, positions: &[TaskPosition], ctx: &str) {
        for p in positions {
            let task =
                (self.tasks.get_mut(&p.task_id)).unwrap_or_else(|| panic!("{ctx}: shifts unknown task {}", p.task_id));
            task.list_id.clone_from(&p.list_id);
            task.position = p.position;
        }
    }

    fn shift_lists(&mut self, positions: &[ListPosition], ctx: &str) {
        for p in positions {
            let list =
                (self.lists.get_mut(&p.list_id)).unwrap_or_else(|| panic!("{ctx}: shifts unknown list {}", p.list_id));
            list.position = p.position;
        }
    }

    /// Lists hold positions 0..n-1, and so do the tasks of each list.
    fn assert_dense(&self, ctx: &str) {
        let mut lists: Vec<i32> = self.lists.values().map(|l| l.position).collect();
        lists.sort_unstable();
        assert_eq!(
            lists,
            (0..lists.len() as i32).collect::<Vec<_>>(),
            "{ctx}: list positions are dense"
        );
        let mut by_list: HashMap<&str, Vec<i32>> = HashMap::new();
        for t in self.tasks.values() {
            by_list.entry(&t.list_id).or_default().push(t.position);
        }
        for (list, mut positions) in by_list {
            assert!(
                self.lists.contains_key(list),
                "{ctx}: a task sits in unknown list {list}"
            );
            positions.sort_unstable();
            let dense: Vec<i32> = (0..positions.len() as i32).collect();
            assert_eq!(positions, dense, "{ctx}: positions in {list} are dense");
        }
    }

    /// What differs from `other`, one line per board, list, task or member.
    fn differences(&self, other: &Model) -> Vec<String> {
        fn diff<T: PartialEq + std::fmt::Debug>(
            what: &str,
            a: &BTreeMap<String, T>,
            b: &BTreeMap<String, T>,
        ) -> Vec<String> {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            (keys.into_iter())
                .filter(|k| a.get(*k) != b.get(*k))
                .map(|k| format!("{what} {k}: {:?} ≠ {:?}", a.get(k), b.get(k)))
                .collect()
        }
        let mut out = Vec::new();
        if self.board != other.board {
            out.push(format!("board: {:?} ≠ {:?}", self.board, other.board));
        }
        if self.seq != other.seq {
            out.push(format!("seq: {} ≠ {}", self.seq, other.seq));
        }
        out.extend(diff("list", &self.lists, &other.lists));
        out.extend(diff("task", &self.tasks, &other.tasks));
        out.extend(diff("member", &self.members, &other.members));
        out
    }
}

// ---------------------------------------------------------------------------------
// Ops as requests, and what the rules say of them.

/// A change as the proto request every transport carries.
#[derive(Clone, Debug)]
enum Req {
    CreateTask(CreateTaskRequest),
    UpdateTask(UpdateTaskRequest),
    MoveTask(MoveTaskRequest),
    DeleteTask(DeleteTaskRequest),
    CreateList(CreateListRequest),
    UpdateList(UpdateListRequest),
    MoveList(MoveListRequest),
    DeleteList(DeleteListRequest),
    AddMember(AddMemberRequest),
    UpdateMember(UpdateMemberRequest),
    RemoveMember(RemoveMemberRequest),
    UpdateBoard(UpdateBoardRequest),
}

impl Req {
    fn request_id(&self) -> &str {
        match self {
            Req::CreateTask(r) => &r.request_id,
            Req::UpdateTask(r) => &r.request_id,
            Req::MoveTask(r) => &r.request_id,
            Req::DeleteTask(r) => &r.request_id,
            Req::CreateList(r) => &r.request_id,
            Req::UpdateList(r) => &r.request_id,
            Req::MoveList(r) => &r.request_id,
            Req::DeleteList(r) => &r.request_id,
            Req::AddMember(r) => &r.request_id,
            Req::UpdateMember(r) => &r.request_id,
            Req::RemoveMember(r) => &r.request_id,
            Req::UpdateBoard(r) => &r.request_id,
        }
    }
}

fn words(text: Text, prefix: &str) -> String {
    match text {
        Text::Word(n) => format!("{prefix}{n}"),
        Text::Blank => "  ".into(),
    }
}

fn position(pos: Pos) -> Option<i32> {
    match pos {
        Pos::End => None,
        Pos::At(n) => Some(n.into()),
        Pos::Past => Some(1000),
        Pos::Negative => Some(-1),
    }
}

fn nth<'a>(mut ids: impl ExactSizeIterator<Item = &'a String>, pick: Pick, missing: &str) -> String {
    match pick {
        Pick::Nth(i) if ids.len() > 0 => {
            let n = ids.len();
            ids.nth(i % n).unwrap().clone()
        }
        _ => missing.into(),
    }
}

impl Call {
    /// The request, its targets picked from `known`: the board as the batch found it.
    fn request(&self, board_id: &str, known: &Model, request_id: String) -> Req {
        let task = |pick| nth(known.tasks.keys(), pick, NO_TASK);
        let list_ids = known.list_ids();
        let list = |pick| nth(list_ids.iter(), pick, NO_LIST);
        let version = |task_id: &str, ver| {
            let current = known.tasks.get(task_id).map_or(1, |t| t.version);
            match ver {
                Ver::Unchecked => None,
                Ver::Current => Some(current),
                Ver::Stale => Some(current - 1),
            }
        };
        let board_id = board_id.to_owned();
        match self.op {
            Op::CreateTask {
                list: l,
                title,
                position: p,
            } => Req::CreateTask(CreateTaskRequest {
                list_id: list(l),
                title: words(title, "t"),
                position: position(p),
                request_id,
                ..Default::default()
            }),
            Op::UpdateTask {
                task: t,
                title,
                ref assignees,
                version: v,
            } => {
                let task_id = task(t);
                Req::UpdateTask(UpdateTaskRequest {
                    title: Some(words(title, "u")),
                    assignee_ids: (assignees.as_ref()).map(|a| IdSet {
                        ids: a.iter().map(|u| USERS[usize::from(*u)].to_owned()).collect(),
                    }),
                    expected_version: version(&task_id, v),
                    task_id,
                    request_id,
                    ..Default::default()
                })
            }
            Op::MoveTask {
                task: t,
                list: l,
                position: p,
                version: v,
            } => {
                let task_id = task(t);
                Req::MoveTask(MoveTaskRequest {
                    list_id: list(l),
                    position: position(p),
                    expected_version: version(&task_id, v),
                    task_id,
                    request_id,
                })
            }
            Op::DeleteTask { task: t, version: v } => {
                let task_id = task(t);
                Req::DeleteTask(DeleteTaskRequest {
                    expected_version: version(&task_id, v),
                    task_id,
                    request_id,
                })
            }
            Op::CreateList { name, position: p } => Req::CreateList(CreateListRequest {
                board_id,
                name: words(name, "l"),
                position: position(p),
                request_id,
            }),
            Op::RenameList { list: l, name } => Req::UpdateList(UpdateListRequest {
                list_id: list(l),
                name: words(name, "r"),
                request_id,
            }),
            Op::MoveList { list: l, position: p } => Req::MoveList(MoveListRequest {
                list_id: list(l),
                position: position(p),
                request_id,
            }),
            Op::DeleteList { list: l, move_tasks_to } => Req::DeleteList(DeleteListRequest {
                list_id: list(l),
                move_tasks_to: move_tasks_to.map(list).unwrap_or_default(),
                request_id,
            }),
            Op::AddMember { user, role } => Req::AddMember(AddMemberRequest {
                board_id,
                username: POOL[usize::from(user)].into(),
                role: role as i32,
                request_id,
            }),
            Op::SetRole { user, role } => Req::UpdateMember(UpdateMemberRequest {
                board_id,
                user_id: POOL[usize::from(user)].into(),
                role: role as i32,
                request_id,
            }),
            Op::RemoveMember { user } => Req::RemoveMember(RemoveMemberRequest {
                board_id,
                user_id: POOL[usize::from(user)].into(),
                request_id,
            }),
            Op::RenameBoard { name } => Req::UpdateBoard(UpdateBoardRequest {
                board_id,
                name: Some(words(name, "b")),
                request_id,
                ..Default::default()
            }),
            Op::Archive(archived) => Req::UpdateBoard(UpdateBoardRequest {
                board_id,
                archived: Some(archived),
                request_id,
                ..Default::default()
            }),
        }
    }

    /// The status this call gets however the others of its batch fare: 400 for input
    /// no board accepts (checked before anything is read), 404 for a task or list
    /// that never existed.
    fn must_fail(&self, req: &Req) -> Option<u16> {
        let blank = |t: Text| matches!(t, Text::Blank);
        let negative = |p: Pos| matches!(p, Pos::Negative);
        let invalid = match self.op {
            Op::CreateTask { title, position, .. } => blank(title) || negative(position),
            Op::UpdateTask { title, .. } => blank(title),
            Op::MoveTask { position, .. } | Op::CreateList { position, .. } if negative(position) => true,
            Op::CreateList { name, .. } | Op::RenameList { name, .. } | Op::RenameBoard { name } => blank(name),
            Op::MoveList { position, .. } => matches!(position, Pos::End | Pos::Negative),
            _ => false,
        };
        let missing = match req {
            Req::CreateTask(r) => r.list_id == NO_LIST,
            Req::UpdateTask(UpdateTaskRequest { task_id, .. })
            | Req::MoveTask(MoveTaskRequest { task_id, .. })
            | Req::DeleteTask(DeleteTaskRequest { task_id, .. }) => task_id == NO_TASK,
            Req::UpdateList(UpdateListRequest { list_id, .. })
            | Req::MoveList(MoveListRequest { list_id, .. })
            | Req::DeleteList(DeleteListRequest { list_id, .. }) => list_id == NO_LIST,
            _ => false,
        };
        if invalid {
            Some(400)
        } else if missing {
            Some(404)
        } else {
            None
        }
    }

    /// Whether the board as `model` has it just before this call's event allowed the
    /// call: the actor's role (editors change lists and tasks, owners the board and
    /// its members, any member may leave) and an archived board taking no change but
    /// its (un)archiving and leaving.
    fn allowed(&self, model: &Model) -> Result<(), String> {
        let role = model.role(self.user);
        let (roles, while_archived): (&[Role], bool) = match self.op {
            Op::RemoveMember { user } if POOL[usize::from(user)] == self.user => {
                (&[Role::Owner, Role::Editor, Role::Viewer], true)
            }
            Op::AddMember { .. } | Op::SetRole { .. } | Op::RemoveMember { .. } | Op::RenameBoard { .. } => {
                (&[Role::Owner], false)
            }
            Op::Archive(_) => (&[Role::Owner], true),
            _ => (&[Role::Owner, Role::Editor], false),
        };
        if !roles.contains(&role) {
            return Err(format!("{} was {role:?}", self.user));
        }
        if model.archived() && !while_archived {
            return Err("the board was archived".into());
        }
        Ok(())
    }

    /// The type of the event this call makes when it succeeds.
    fn event_type(&self) -> &'static str {
        match self.op {
            Op::CreateTask { .. } => "task_created",
            Op::UpdateTask { .. } => "task_updated",
            Op::MoveTask { .. } => "task_moved",
            Op::DeleteTask { .. } => "task_deleted",
            Op::CreateList { .. } => "list_created",
            Op::RenameList { .. } => "list_updated",
            Op::MoveList { .. } => "list_moved",
            Op::DeleteList { .. } => "list_deleted",
            Op::AddMember { .. } => "member_added",
            Op::SetRole { .. } => "member_updated",
            Op::RemoveMember { .. } => "member_removed",
            Op::RenameBoard { .. } | Op::Archive(_) => "board_updated",
        }
    }
}

// ---------------------------------------------------------------------------------
// Sending calls.

#[derive(Clone, Copy, Debug, PartialEq)]
enum Outcome {
    /// Accepted; gRPC and the WebSocket also name the seq of the event it made.
    Done(Option<u64>),
    /// Refused with this HTTP status (gRPC codes and WebSocket error codes mapped).
    Refused(u16),
}

/// What a refused change may be told: bad input, not allowed, not there, in conflict
/// (stale version, archived board, last owner, already a member), a failed If-Match.
const REFUSALS: [u16; 5] = [400, 403, 404, 409, 412];

fn grpc_status(code: tonic::Code) -> u16 {
    match code {
        tonic::Code::InvalidArgument => 400,
        tonic::Code::Unauthenticated => 401,
        tonic::Code::PermissionDenied => 403,
        tonic::Code::NotFound => 404,
        tonic::Code::Aborted | tonic::Code::AlreadyExists | tonic::Code::FailedPrecondition => 409,
        tonic::Code::ResourceExhausted => 429,
        _ => 500,
    }
}

fn ws_status(code: &str) -> u16 {
    match code {
        "invalid_argument" => 400,
        "unauthenticated" => 401,
        "permission_denied" => 403,
        "not_found" => 404,
        "version_conflict" | "conflict" | "already_exists" => 409,
        "precondition_failed" => 412,
        "rate_limited" => 429,
        _ => 500,
    }
}

/// The senders of one case: REST through the app's client, gRPC through one channel,
/// and a WebSocket per user (one call at a time each, as `Ws::ask` reads the answer).
struct Clients<'a> {
    app: &'a TestApp,
    grpc: BoardServiceClient<Channel>,
    ws: HashMap<&'static str, tokio::sync::Mutex<Ws>>,
}

impl<'a> Clients<'a> {
    async fn open(app: &'a TestApp, grpc: &BoardServiceClient<Channel>) -> Clients<'a> {
        let mut ws = HashMap::new();
        for user in USERS {
            ws.insert(user, tokio::sync::Mutex::new(Ws::open(app, Some(user)).await));
        }
        Clients {
            app,
            grpc: grpc.clone(),
            ws,
        }
    }

    async fn send(&self, user: &str, via: Via, req: &Req) -> Outcome {
        match via {
            Via::Rest => self.rest(user, req).await,
            Via::Grpc => self.grpc(user, req).await,
            Via::Ws => self.ws(user, req).await,
        }
    }

    async fn rest(&self, user: &str, req: &Req) -> Outcome {
        fn body<T: serde::Serialize>(request: &T) -> Option<Value> {
            Some(serde_json::to_value(request).unwrap())
        }
        let (method, path, body, if_match) = match req {
            Req::CreateTask(r) => (Method::POST, "/tasks".to_owned(), body(r), None),
            Req::UpdateTask(r) => (Method::PATCH, format!("/tasks/{}", r.task_id), body(r), None),
            Req::MoveTask(r) => (Method::PATCH, format!("/tasks/{}/move", r.task_id), body(r), None),
            Req::DeleteTask(r) => (
                Method::DELETE,
                format!("/tasks/{}", r.task_id),
                None,
                r.expected_version,
            ),
            Req::CreateList(r) => (Method::POST, format!("/boards/{}/lists", r.board_id), body(r), None),
            Req::UpdateList(r) => (Method::PATCH, format!("/lists/{}", r.list_id), body(r), None),
            Req::MoveList(r) => (Method::PATCH, format!("/lists/{}/move", r.list_id), body(r), None),
            Req::DeleteList(r) if r.move_tasks_to.is_empty() => {
                (Method::DELETE, format!("/lists/{}", r.list_id), None, None)
            }
            Req::DeleteList(r) => {
                let path = format!("/lists/{}?moveTasksTo={}", r.list_id, r.move_tasks_to);
                (Method::DELETE, path, None, None)
            }
            Req::AddMember(r) => (Method::POST, format!("/boards/{}/members", r.board_id), body(r), None),
            Req::UpdateMember(r) => {
                let path = format!("/boards/{}/members/{}", r.board_id, r.user_id);
                (Method::PATCH, path, body(r), None)
            }
            Req::RemoveMember(r) => {
                let path = format!("/boards/{}/members/{}", r.board_id, r.user_id);
                (Method::DELETE, path, None, None)
            }
            Req::UpdateBoard(r) => (Method::PATCH, format!("/boards/{}", r.board_id), body(r), None),
        };
        let mut request = (self.app.request(method, &path, Some(user))).header("Idempotency-Key", req.request_id());
        if let Some(body) = body {
            request = request.json(&body);
        }
        if let Some(version) = if_match {
            request = request.header("If-Match", format!("\"{version}\""));
        }
        let status = request.send().await.unwrap().status();
        if status.is_success() {
            Outcome::Done(None)
        } else {
            Outcome::Refused(status.as_u16())
        }
    }

    async fn grpc(&self, user: &str, req: &Req) -> Outcome {
        let mut c = self.grpc.clone();
        macro_rules! call {
            ($method:ident, $msg:expr) => {
                c.$method(as_user(self.app, user, $msg.clone()))
                    .await
                    .map(|answer| answer.into_inner().seq)
            };
        }
        let answer = match req {
            Req::CreateTask(r) => call!(create_task, r),
            Req::UpdateTask(r) => call!(update_task, r),
            Req::MoveTask(r) => call!(move_task, r),
            Req::DeleteTask(r) => call!(delete_task, r),
            Req::CreateList(r) => call!(create_list, r),
            Req::UpdateList(r) => call!(update_list, r),
            Req::MoveList(r) => call!(move_list, r),
            Req::DeleteList(r) => call!(delete_list, r),
            Req::AddMember(r) => call!(add_member, r),
            Req::UpdateMember(r) => call!(update_member, r),
            Req::RemoveMember(r) => call!(remove_member, r),
            Req::UpdateBoard(r) => call!(update_board, r),
        };
        match answer {
            Ok(seq) => Outcome::Done(Some(seq)),
            Err(status) => Outcome::Refused(grpc_status(status.code())),
        }
    }

    async fn ws(&self, user: &str, req: &Req) -> Outcome {
        let message = match req.clone() {
            Req::CreateTask(r) => ClientMsg::CreateTask(r),
            Req::UpdateTask(r) => ClientMsg::UpdateTask(r),
            Req::MoveTask(r) => ClientMsg::MoveTask(r),
            Req::DeleteTask(r) => ClientMsg::DeleteTask(r),
            other => unreachable!("the WebSocket carries task changes only: {other:?}"),
        };
        let frame = serde_json::to_value(ClientMessage { message: Some(message) }).unwrap();
        let answer = self.ws[user].lock().await.ask(frame).await;
        assert_eq!(answer["requestId"], req.request_id(), "{answer}");
        match answer["type"].as_str() {
            Some("ack") => Outcome::Done(Some(answer["seq"].as_u64().unwrap())),
            Some("error") => Outcome::Refused(ws_status(answer["code"].as_str().unwrap())),
            _ => panic!("an ack or an error: {answer}"),
        }
    }
}

// ---------------------------------------------------------------------------------
// Following the board.

/// What one subscriber received, and why it stopped early if it did.
#[derive(Default)]
struct Received {
    events: Vec<BoardEvent>,
    trouble: Option<String>,
}

type Inbox = Arc<Mutex<Received>>;

fn deliver(inbox: &Inbox, event: BoardEvent) {
    inbox.lock().unwrap().events.push(event);
}

/// A JSON stream frame (SSE data, WebSocket text) as an event, or its type if it is
/// something else.
fn event_of(frame: Value) -> Result<BoardEvent, String> {
    let kind = frame["type"].as_str().unwrap_or_default().to_owned();
    if Payload::TAGS.contains(&kind.as_str()) {
        Ok(serde_json::from_value(frame).unwrap())
    } else {
        Err(kind)
    }
}

/// A spawned reader, stopped when dropped (so a failed case leaves nothing running).
struct Reader(JoinHandle<()>);

/// Runs `read` (which returns why it stopped) until it stops or is stopped; why it
/// stopped, a panic included, lands in the inbox for the wait to report.
fn reader(inbox: Inbox, read: impl Future<Output = String> + Send + 'static) -> Reader {
    Reader(tokio::spawn(async move {
        let why = match AssertUnwindSafe(read).catch_unwind().await {
            Ok(why) => why,
            Err(panic) => match (panic.downcast_ref::<String>(), panic.downcast_ref::<&str>()) {
                (Some(message), _) => format!("its reader panicked: {message}"),
                (None, Some(message)) => format!("its reader panicked: {message}"),
                (None, None) => "its reader panicked".into(),
            },
        };
        inbox.lock().unwrap().trouble.get_or_insert(why);
    }))
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Reader {
    /// Stops it and waits until it has, so nothing more lands in its inbox.
    async fn stop(mut self) {
        self.0.abort();
        let _ = (&mut self.0).await;
    }
}

/// An SSE stream once its `connected` frame is in: the board's seq it names.
async fn open_sse(req: reqwest::RequestBuilder) -> (SseClient, u64) {
    let mut sse = SseClient::connect(req).await;
    assert_eq!(sse.response_status, StatusCode::OK);
    let connected = sse.next().await.expect("a connected frame").json();
    assert_eq!(connected["type"], "connected", "{connected}");
    (sse, connected["seq"].as_u64().unwrap())
}

fn read_sse(mut sse: SseClient, inbox: Inbox) -> Reader {
    reader(inbox.clone(), async move {
        while let Some(frame) = sse.next().await {
            if frame.comment.is_some() {
                continue;
            }
            match event_of(frame.json()) {
                Ok(event) => {
                    assert_eq!(frame.id, Some(event.seq.to_string()), "an event's SSE id is its seq");
                    deliver(&inbox, event);
                }
                Err(kind) => return format!("SSE sent {kind}: {}", frame.data),
            }
        }
        "the SSE stream ended".into()
    })
}

fn read_grpc(mut stream: tonic::Streaming<boardcast::proto::SubscribeResponse>, inbox: Inbox) -> Reader {
    reader(inbox.clone(), async move {
        loop {
            match stream.message().await {
                Ok(Some(msg)) => match msg.event() {
                    Some(event) => deliver(&inbox, event.unwrap()),
                    None => return format!("gRPC sent {msg:?}"),
                },
                other => return format!("the gRPC stream ended: {other:?}"),
            }
        }
    })
}

/// The next text frame of a WebSocket, as JSON; `None` when it closed.
async fn ws_frame(ws: &mut Ws) -> Option<Value> {
    loop {
        match ws.0.next().await? {
            Ok(Message::Text(text)) => return Some(serde_json::from_str(text.as_str()).unwrap()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// Where a subscriber starts.
#[derive(Clone, Copy)]
enum Start {
    /// With the events after this seq, replayed from the log.
    After(u64),
    /// With the events from now on, the board being at this seq (nothing in flight).
    Live(u64),
}

/// Follows `board_id` as `user` over `how`; returns once the stream is open, so
/// every later change reaches it.
async fn follow(
    app: &TestApp,
    grpc: &BoardServiceClient<Channel>,
    (how, user): (Follow, &str),
    board_id: &str,
    from: Start,
    inbox: Inbox,
) -> Reader {
    let (after, resume) = match from {
        Start::After(seq) => (seq, Some(seq)),
        Start::Live(seq) => (seq, None),
    };
    match how {
        Follow::Sse => {
            let path = format!("/boards/{board_id}/events");
            let mut req = app.request(Method::GET, &path, Some(user));
            if let Some(seq) = resume {
                req = req.header("Last-Event-ID", seq.to_string());
            }
            let (sse, head) = open_sse(req).await;
            if resume.is_none() {
                assert_eq!(head, after, "a live stream starts at the board's seq");
            }
            read_sse(sse, inbox)
        }
        Follow::Grpc => {
            let req = SubscribeRequest {
                board_id: board_id.into(),
                after_seq: resume,
                ..Default::default()
            };
            let stream = grpc.clone().subscribe(as_user(app, user, req)).await.unwrap();
            read_grpc(stream.into_inner(), inbox)
        }
        Follow::Ws => {
            let mut ws = Ws::open(app, Some(user)).await;
            let join = ClientMsg::Join(Join {
                board_id: board_id.into(),
                after_seq: resume,
            });
            let join = serde_json::to_string(&ClientMessage { message: Some(join) }).unwrap();
            ws.0.send(Message::text(join)).await.unwrap();
            // `presence` answers the join: from then on the socket follows the board.
            loop {
                let frame = ws_frame(&mut ws).await.expect("the socket stays open");
                match event_of(frame) {
                    Ok(event) => deliver(&inbox, event),
                    Err(kind) if kind == "presence" => break,
                    Err(kind) if kind == "welcome" => {}
                    Err(kind) => panic!("WebSocket sent {kind} before presence"),
                }
            }
            reader(inbox.clone(), async move {
                while let Some(frame) = ws_frame(&mut ws).await {
                    match event_of(frame.clone()) {
                        Ok(event) => deliver(&inbox, event),
                        Err(kind) if ["user_joined", "user_left"].contains(&kind.as_str()) => {}
                        Err(_) => return format!("WebSocket sent {frame}"),
                    }
                }
                "the WebSocket closed".into()
            })
        }
        // A long poll has no live edge of its own: it asks for what follows the seq.
        Follow::Poll => {
            let (http, token) = (app.http.clone(), app.token(user).to_owned());
            let url = app.url(&format!("/boards/{board_id}/poll"));
            reader(inbox.clone(), async move {
                let mut after = after;
                loop {
                    let held = http.get(format!("{url}?after={after}&timeout=5")).bearer_auth(&token);
                    let resp = held.send().await.unwrap();
                    if resp.status() != StatusCode::OK {
                        return format!("a long poll answered {}", resp.status());
                    }
                    let answer: ChangesResponse = resp.json().await.unwrap();
                    if answer.reset {
                        return format!("a long poll answered reset: {answer:?}");
                    }
                    for event in answer.events {
                        after = event.seq;
                        deliver(&inbox, event);
                    }
                }
            })
        }
    }
}

/// A subscriber and the board it started from.
struct Subscriber {
    name: String,
    start: Model,
    inbox: Inbox,
}

impl Subscriber {
    fn new(name: String, start: Model) -> Subscriber {
        Subscriber {
            name,
            start,
            inbox: Inbox::default(),
        }
    }

    /// Waits until it has received the events up to `seq`, failing as soon as what
    /// it has cannot become 1..seq (after its start) any more: a failing case then
    /// fails fast, which keeps shrinking quick.
    async fn caught_up(&self, seq: u64) {
        let deadline = tokio::time::Instant::now() + CATCH_UP;
        loop {
            {
                let got = self.inbox.lock().unwrap();
                let seqs: Vec<u64> = got.events.iter().map(|e| e.seq).collect();
                let expected: Vec<u64> = (self.start.seq + 1..).take(seqs.len()).collect();
                assert_eq!(seqs, expected, "{}: each seq once, in order", self.name);
                let last = seqs.last().copied().unwrap_or(self.start.seq);
                if last >= seq {
                    return;
                }
                let why = match &got.trouble {
                    Some(trouble) => trouble.clone(),
                    None if tokio::time::Instant::now() > deadline => format!("nothing after {CATCH_UP:?}"),
                    None => String::new(),
                };
                assert!(why.is_empty(), "{} stopped at seq {last} of {seq}: {why}", self.name);
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// How long a subscriber may take to receive the events of a quiet board.
const CATCH_UP: Duration = Duration::from_secs(3);

// ---------------------------------------------------------------------------------
// A case.

/// The board as the server has it (alice reads it: she stays its owner), as a model
/// and as the answer it came in.
async fn server_board(app: &TestApp, board_id: &str) -> (Model, GetBoardResponse) {
    let board = app
        .send_as(Some("alice"), Method::GET, &format!("/boards/{board_id}"), None)
        .await;
    assert_eq!(board.status(), StatusCode::OK);
    let board: GetBoardResponse = board.json().await.unwrap();
    let members = app
        .send_as(Some("alice"), Method::GET, &format!("/boards/{board_id}/members"), None)
        .await;
    let members: ListMembersResponse = members.json().await.unwrap();
    (Model::of(board.clone(), members.members), board)
}

/// A fresh board owned by alice, with bob as editor, carol and vic as viewers, and
/// a few tasks in its first list for the ops to move around.
async fn fresh_board(app: &TestApp) -> String {
    let body = serde_json::to_value(CreateBoardRequest {
        name: "model".into(),
        ..Default::default()
    })
    .unwrap();
    let resp = app.send_as(Some("alice"), Method::POST, "/boards", Some(body)).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let board_id = resp.json::<Board>().await.unwrap().id;
    for (user, role) in [("bob", Role::Editor), ("carol", Role::Viewer), ("vic", Role::Viewer)] {
        let add = AddMemberRequest {
            username: user.into(),
            role: role as i32,
            ..Default::default()
        };
        let path = format!("/boards/{board_id}/members");
        let body = Some(serde_json::to_value(add).unwrap());
        let resp = app.send_as(Some("alice"), Method::POST, &path, body).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
    }
    let (board, _) = server_board(app, &board_id).await;
    let first_list = board.list_ids()[0].clone();
    for i in 0..SEEDED_TASKS {
        let create = CreateTaskRequest {
            list_id: first_list.clone(),
            title: format!("seeded {i}"),
            ..Default::default()
        };
        let body = Some(serde_json::to_value(create).unwrap());
        let resp = app.send_as(Some("alice"), Method::POST, "/tasks", body).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
    }
    board_id
}

const SEEDED_TASKS: usize = 4;

/// One call as sent and answered (twice when it was retried).
struct Sent {
    call: Call,
    req: Req,
    outcomes: Vec<Outcome>,
}

impl Sent {
    fn accepted(&self) -> bool {
        self.outcomes.iter().any(|o| matches!(o, Outcome::Done(_)))
    }
}

async fn run_case(app: &TestApp, grpc: &BoardServiceClient<Channel>, case: Case) {
    let board_id = fresh_board(app).await;
    let (setup, _) = server_board(app, &board_id).await;
    let clients = Clients::open(app, grpc).await;

    // Subscribers from seq 0 open while the first batch's changes land, so their
    // replay from the log races the live events; the resumer is one of them.
    let (resume_at, first, then) = case.resume;
    let from_start = [
        (Follow::Sse, "alice"),
        (Follow::Ws, "vic"),
        (Follow::Grpc, "alice"),
        (Follow::Poll, "vic"),
    ];
    let mut subscribers: Vec<Subscriber> = (from_start.iter())
        .map(|(how, user)| Subscriber::new(format!("{how:?} ({user}) from seq 0"), Model::default()))
        .collect();
    let resumer = Subscriber::new(
        format!("{first:?} from seq 0, resumed over {then:?} during batch {resume_at}"),
        Model::default(),
    );
    let resumer_inbox = resumer.inbox.clone();
    let starting: Vec<(Follow, &str, Inbox)> = (from_start.iter().zip(&subscribers))
        .map(|((how, user), sub)| (*how, *user, sub.inbox.clone()))
        .chain([(first, "alice", resumer_inbox.clone())])
        .collect();
    subscribers.push(resumer);
    let mut readers = Vec::new();
    let mut dropped = None;

    let mut sent: Vec<Sent> = Vec::new();
    for (i, batch) in case.batches.iter().enumerate() {
        // Between batches nothing is in flight: this read, the snapshot and the live
        // edge below all stand at the same seq.
        let (known, _) = server_board(app, &board_id).await;
        if i == case.snapshot_at {
            let req = SubscribeRequest {
                board_id: board_id.clone(),
                snapshot: true,
                ..Default::default()
            };
            let mut stream = grpc
                .clone()
                .subscribe(as_user(app, "alice", req))
                .await
                .unwrap()
                .into_inner();
            let first = stream.message().await.unwrap().unwrap();
            let Some(SubscribeMessage::Snapshot(snapshot)) = first.message else {
                panic!("a snapshot first: {first:?}");
            };
            let members = known.members.values().cloned().collect();
            let sub = Subscriber::new(format!("gRPC snapshot before batch {i}"), Model::of(snapshot, members));
            assert_eq!(sub.start, known, "the snapshot is the board");
            readers.push(read_grpc(stream, sub.inbox.clone()));
            subscribers.push(sub);
        }
        if i == case.live.0 {
            let how = case.live.1;
            let sub = Subscriber::new(format!("{how:?} (vic) live from before batch {i}"), known.clone());
            let from = Start::Live(known.seq);
            readers.push(follow(app, grpc, (how, "vic"), &board_id, from, sub.inbox.clone()).await);
            subscribers.push(sub);
        }
        let calls: Vec<(Call, Req)> = (batch.iter().enumerate())
            .map(|(j, call)| {
                let request_id = format!("{board_id}-{}", sent.len() + j);
                (call.clone(), call.request(&board_id, &known, request_id))
            })
            .collect();
        let tries = (calls.iter().enumerate()).flat_map(|(j, (call, req))| {
            let vias = [Some(call.via), call.again].into_iter().flatten();
            vias.map(move |via| (j, call.user, via, req))
        });
        let clients = &clients;
        let sends = futures_util::future::join_all(
            tries.map(|(j, user, via, req)| async move { (j, clients.send(user, via, req).await) }),
        );
        let beside = async {
            if i == 0 {
                for (how, user, inbox) in &starting {
                    let reader = follow(app, grpc, (*how, user), &board_id, Start::After(0), inbox.clone()).await;
                    if Arc::ptr_eq(inbox, &resumer_inbox) {
                        dropped = Some(reader);
                    } else {
                        readers.push(reader);
                    }
                }
            }
            if i == resume_at {
                // The resumer drops its connection and comes back from the last seq
                // it has, on another transport, while this batch's changes land.
                dropped.take().unwrap().stop().await;
                let last = resumer_inbox.lock().unwrap().events.last().map_or(0, |e| e.seq);
                let from = Start::After(last);
                readers.push(follow(app, grpc, (then, "alice"), &board_id, from, resumer_inbox.clone()).await);
            }
        };
        let ((), outcomes) = tokio::join!(beside, sends);
        let mut answers: Vec<Vec<Outcome>> = vec![Vec::new(); calls.len()];
        for (j, outcome) in outcomes {
            answers[j].push(outcome);
        }
        for ((call, req), outcomes) in calls.into_iter().zip(answers) {
            sent.push(Sent { call, req, outcomes });
        }
    }

    let (server, board) = server_board(app, &board_id).await;
    check_board(&board);
    let log = app.log(&board_id).await;
    check_log(&log, setup.seq, &sent, &server);
    for sub in &subscribers {
        sub.caught_up(server.seq).await;
    }
    for sub in &subscribers {
        let got = sub.inbox.lock().unwrap().events.clone();
        let seqs: Vec<u64> = got.iter().map(|e| e.seq).collect();
        let expected: Vec<u64> = (sub.start.seq + 1..=server.seq).collect();
        assert_eq!(seqs, expected, "{}: each seq once, in order", sub.name);
        assert!(
            got == log[sub.start.seq as usize..],
            "{}: the log's events as they are",
            sub.name
        );
        let mut model = sub.start.clone();
        for event in &got {
            model.apply(event);
        }
        let differences = model.differences(&server);
        assert!(
            differences.is_empty(),
            "{} ends with another board:\n{}",
            sub.name,
            differences.join("\n")
        );
    }
    drop(readers);
}

/// Positions on the server are dense: lists 0..n-1, and the tasks of each list.
fn check_board(board: &GetBoardResponse) {
    let lists: Vec<i32> = board.lists.iter().map(|l| l.position).collect();
    assert_eq!(
        lists,
        (0..lists.len() as i32).collect::<Vec<_>>(),
        "list positions are dense"
    );
    let in_lists: usize = (board.lists.iter()).map(|l| dense_order(board, &l.id).len()).sum();
    assert_eq!(in_lists, board.tasks.len(), "every task is in a list of the board");
}

/// Every accepted call made exactly one event, at a point of the log where the rules
/// allowed it, and every refused call none (the events up to `setup` are the case's
/// setup); the log folded from the start is the server's board.
fn check_log(log: &[BoardEvent], setup: u64, sent: &[Sent], server: &Model) {
    let seqs: Vec<u64> = log.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=server.seq).collect::<Vec<_>>(), "the log is 1..N");
    let by_id: HashMap<&str, &Sent> = sent.iter().map(|s| (s.req.request_id(), s)).collect();
    let mut accepted = BTreeSet::new();
    let mut model = Model::default();
    for event in log {
        match by_id.get(event.request_id.as_str()) {
            Some(s) => {
                let what = format!("{:?} → seq {}", s.call, event.seq);
                assert!(s.accepted(), "{what}: refused ({:?}) yet logged", s.outcomes);
                assert!(accepted.insert(event.request_id.as_str()), "{what}: logged twice");
                assert_eq!(event.actor, s.call.user, "{what}");
                let kind = event.payload.as_ref().unwrap().type_name();
                assert_eq!(kind, s.call.event_type(), "{what}");
                for outcome in &s.outcomes {
                    if let Outcome::Done(Some(seq)) = outcome {
                        assert_eq!(*seq, event.seq, "{what}: every answer names its one event's seq");
                    }
                }
                if let Err(why) = s.call.allowed(&model) {
                    panic!("{what}: accepted though {why}");
                }
            }
            None => assert!(event.seq <= setup, "seq {} was made by no call", event.seq),
        }
        model.apply(event);
    }
    for s in sent {
        if s.accepted() {
            assert!(
                accepted.contains(s.req.request_id()),
                "{:?}: accepted, not logged",
                s.call
            );
        }
        for outcome in &s.outcomes {
            if let Outcome::Refused(status) = outcome {
                assert!(REFUSALS.contains(status), "{:?} ({:?}): {status}", s.call, s.req);
            }
            if let Some(status) = s.call.must_fail(&s.req) {
                assert_eq!(*outcome, Outcome::Refused(status), "{:?} ({:?})", s.call, s.req);
            }
        }
    }
    let differences = model.differences(server);
    assert!(
        differences.is_empty(),
        "the log folds into another board:\n{}",
        differences.join("\n")
    );
}

/// Cases per run (`PROPTEST_CASES` overrides, for a longer soak). PostgreSQL, with its
/// own locking, gets a few: a case there takes about twice as long.
const CASES: u32 = 24;
const POSTGRES_CASES: u32 = 8;

#[test]
fn every_subscriber_that_applies_its_events_ends_with_the_servers_board() {
    run_model(CASES, async { Some(Config::ephemeral().database_url) });
}

#[test]
fn every_subscriber_that_applies_its_events_ends_with_the_servers_board_on_postgres() {
    run_model(POSTGRES_CASES, crate::postgres::database());
}

/// Runs the cases against one server on `database` (`None`: skipped), each case on a
/// board of its own: the runner (rather than `proptest!`) lets the cases share the
/// server and its runtime.
fn run_model(cases: u32, database: impl Future<Output = Option<String>>) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some((app, grpc)) = rt.block_on(async {
        let mut app = spawn_with(Config {
            database_url: database.await?,
            // SseClient gives up after 10 s of silence; heartbeats keep idle streams talking.
            sse_heartbeat_ms: 1000,
            ..Config::ephemeral()
        })
        .await;
        for user in ["dave", "vic"] {
            app.add_user(user).await;
        }
        let grpc = crate::roles::grpc_client(&app).await;
        Some((app, grpc))
    }) else {
        return;
    };
    let soak = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok());
    let mut runner = TestRunner::new(ProptestConfig {
        cases: soak.unwrap_or(cases),
        // A failing try takes a second or so (a subscriber missing its last event, the
        // catch-up wait): shrinking stops after two minutes with what it has.
        max_shrink_iters: 1024,
        max_shrink_time: 120_000,
        source_file: Some(file!()),
        ..ProptestConfig::default()
    });
    let result = runner.run(&case(), |case| {
        rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(60), run_case(&app, &grpc, case))
                .await
                .expect("a case runs within 60 s");
        });
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}
