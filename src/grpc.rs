//! gRPC: `BoardService` over tonic, plus reflection (v1 and v1alpha) and
//! `grpc.health.v1`. Each RPC takes the caller's identity from `authorization`
//! metadata, calls core, and answers with `crate::wire` (errors as `Status`, stream
//! items as `SubscribeResponse`). Health mirrors core's readiness. Every call keeps
//! its `grpc-timeout` ([`deadline`]).
//! Browsers reach the same services over gRPC-Web (`tonic_web`, HTTP/1.1 or h2),
//! translated to gRPC in front of them.

mod account;
mod deadline;
mod observe;

use std::pin::Pin;

use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::Stream;
use tonic::server::NamedService;
use tonic::{Request, Response, Status};
use tonic_health::ServingStatus;

use crate::app::AppState;
use crate::auth;
use crate::core::lifecycle::Phase;
use crate::core::{Actor, Core, Error, Resume};
use crate::metrics::Transport;
use crate::proto::SubscribeResponse;
use crate::proto::v1::account_service_server::AccountServiceServer;
use crate::proto::v1::board_service_server::{BoardService, BoardServiceServer};
use crate::proto::v1::{
    AddMemberRequest, AddMemberResponse, CreateBoardRequest, CreateBoardResponse, CreateListRequest,
    CreateListResponse, CreateTaskRequest, CreateTaskResponse, DeleteBoardRequest, DeleteBoardResponse,
    DeleteListRequest, DeleteListResponse, DeleteTaskRequest, DeleteTaskResponse, GetBoardRequest, GetBoardResponse,
    GetTaskRequest, GetTaskResponse, ListBoardsRequest, ListBoardsResponse, ListMembersRequest, ListMembersResponse,
    ListTasksRequest, ListTasksResponse, MoveListRequest, MoveListResponse, MoveTaskRequest, MoveTaskResponse,
    RemoveMemberRequest, RemoveMemberResponse, SubscribeRequest, UpdateBoardRequest, UpdateBoardResponse,
    UpdateListRequest, UpdateListResponse, UpdateMemberRequest, UpdateMemberResponse, UpdateTaskRequest,
    UpdateTaskResponse,
};
use crate::proto::v1::{
    CreateLabelRequest, CreateLabelResponse, DeleteLabelRequest, DeleteLabelResponse, ListActivityRequest,
    ListActivityResponse, ListLabelsRequest, ListLabelsResponse, UpdateLabelRequest, UpdateLabelResponse,
};
use crate::wire::Step;
use crate::wire::error::grpc_status as status;

/// Every service [`router`] serves, by its full name: the first segment of its paths.
const SERVICES: &[&str] = &[
    <BoardServiceServer<Grpc> as tonic::server::NamedService>::NAME,
    <crate::proto::v1::account_service_server::AccountServiceServer<account::Accounts> as tonic::server::NamedService>::NAME,
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];

/// Whether `path` is a method of a service here (`/package.Service/Method`). A CORS
/// preflight carries no gRPC content type, so its path alone says it is for gRPC-Web.
pub fn is_service_path(path: &str) -> bool {
    let mut parts = path.strip_prefix('/').unwrap_or_default().split('/');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(service), Some(method), None) if !method.is_empty() && SERVICES.contains(&service)
    )
}

/// The gRPC services, routed by path, ready to sit beside the HTTP gateway.
pub async fn router(state: AppState) -> Result<axum::Router, Box<dyn std::error::Error + Send + Sync>> {
    let (health, health_service) = tonic_health::server::health_reporter();
    // The first answer is there before the listener serves; the task keeps it true.
    let mut health = Health {
        reporter: health,
        ready: None,
    };
    health.report(state.core.readiness().await.ready).await;
    tokio::spawn(health.follow(Arc::downgrade(&state.core)));
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(crate::proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let accounts = AccountServiceServer::new(account::Accounts::new(state.clone()))
        .max_decoding_message_size(crate::limits::MAX_BODY_BYTES);
    let metrics = state.metrics.clone();
    let board = BoardServiceServer::new(Grpc { state }).max_decoding_message_size(crate::limits::MAX_BODY_BYTES);
    Ok(tonic::service::Routes::new(board)
        .add_service(accounts)
        .add_service(health_service)
        .add_service(reflection().build_v1()?)
        .add_service(reflection().build_v1alpha()?)
        .into_axum_router()
        .layer(axum::middleware::from_fn(deadline::enforce))
        .layer(axum::middleware::from_fn_with_state(metrics, observe::observe))
        // Outermost, so the layers inside see gRPC; passes native gRPC (h2) through untouched.
        .layer(tonic_web::GrpcWebLayer::new()))
}

/// How often gRPC health re-checks readiness (the store probe) between phase changes.
const HEALTH_PERIOD: Duration = Duration::from_secs(1);

/// gRPC health, kept equal to core's readiness for "" and every service: SERVING
/// when ready, NOT_SERVING otherwise (draining, store unreachable, bus stopped).
struct Health {
    reporter: tonic_health::server::HealthReporter,
    /// What was last reported.
    ready: Option<bool>,
}

impl Health {
    const SERVICES: [&'static str; 3] = [
        "",
        <BoardServiceServer<Grpc> as NamedService>::NAME,
        <AccountServiceServer<account::Accounts> as NamedService>::NAME,
    ];

    async fn report(&mut self, ready: bool) {
        if self.ready == Some(ready) {
            return;
        }
        self.ready = Some(ready);
        let status = if ready {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        for service in Self::SERVICES {
            self.reporter.set_service_status(service, status).await;
        }
    }

    /// Re-checks every [`HEALTH_PERIOD`], and at once when the server's phase changes,
    /// until the server stops serving (or the core is gone: a weak reference, so an
    /// application built and dropped without running does not leave this running).
    async fn follow(mut self, core: Weak<Core>) {
        let Some(mut phase) = core.upgrade().map(|c| c.lifecycle().phase()) else {
            return;
        };
        loop {
            tokio::select! {
                changed = phase.changed() => if changed.is_err() { return },
                () = tokio::time::sleep(HEALTH_PERIOD) => {}
            }
            let Some(core) = core.upgrade() else { return };
            let ready = core.readiness().await.ready;
            let ending = core.lifecycle().current() >= Phase::Ending;
            drop(core);
            self.report(ready).await;
            if ending {
                return;
            }
        }
    }
}

pub struct Grpc {
    state: AppState,
}

impl Grpc {
    async fn actor<T>(&self, req: &Request<T>) -> Result<Actor, Status> {
        let token = match req.metadata().get("authorization") {
            Some(v) => {
                let v = v.to_str().map_err(|_| {
                    status(Error::Unauthenticated(
                        "authorization metadata is not valid text".into(),
                    ))
                })?;
                Some(auth::bearer(v).map_err(status)?)
            }
            None => None,
        };
        let ip = self.client_ip(req);
        self.state.auth.actor(token, ip).await.map_err(status)
    }

    /// The client's address (`AppState::client_ip`) from the accept loop's
    /// `ConnectInfo` and `x-forwarded-for` metadata.
    fn client_ip<T>(&self, req: &Request<T>) -> Option<std::net::IpAddr> {
        let peer = req
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0);
        let forwarded = req.metadata().get("x-forwarded-for").and_then(|v| v.to_str().ok());
        self.state.client_ip(peer, forwarded)
    }
}

/// Authenticates, calls the core method and frames its answer.
macro_rules! rpc {
    ($self:ident, $req:ident, $method:ident) => {{
        let actor = $self.actor(&$req).await?;
        $self
            .state
            .core
            .$method(&actor, $req.into_inner())
            .await
            .map(Response::new)
            .map_err(status)
    }};
}

#[tonic::async_trait]
impl BoardService for Grpc {
    type SubscribeStream = Pin<Box<dyn Stream<Item = Result<SubscribeResponse, Status>> + Send>>;

    async fn subscribe(&self, req: Request<SubscribeRequest>) -> Result<Response<Self::SubscribeStream>, Status> {
        let actor = self.actor(&req).await?;
        let req = req.into_inner();
        let resume = |after: Option<u64>| after.map_or(Resume::Live, Resume::After);
        let boards = if req.boards.is_empty() {
            vec![(req.board_id, resume(req.after_seq))]
        } else if req.board_id.is_empty() && req.after_seq.is_none() {
            req.boards
                .into_iter()
                .map(|b| (b.board_id, resume(b.after_seq)))
                .collect()
        } else {
            return Err(status(Error::invalid(
                "boards",
                "give either board_id (and after_seq) or boards, not both",
            )));
        };
        let sub = self
            .state
            .core
            .subscribe(&actor, Transport::Grpc, boards, req.snapshot)
            .await
            .map_err(status)?;
        // The state is the subscription, or the status still to end the stream with.
        let stream = futures_util::stream::unfold(Some(Ok(sub)), |state| async move {
            let mut sub = match state? {
                Ok(sub) => sub,
                Err(why) => return Some((Err(why), None)),
            };
            loop {
                // What is ready first: `next` (which counts the deliveries written so
                // far) only when the stream must wait.
                let item = match sub.ready() {
                    Some(item) => item,
                    None => sub.next().await,
                };
                match crate::wire::grpc::item(item, || sub.positions()) {
                    Step::Send(message) => return Some((Ok(message), Some(Ok(sub)))),
                    Step::Skip => {}
                    Step::End { last, why } => {
                        tracing::debug!(code = ?why.code(), reason = why.message(), "gRPC Subscribe ended");
                        return Some(match last {
                            Some(message) => (Ok(message), Some(Err(why))),
                            None => (Err(why), None),
                        });
                    }
                }
            }
        });
        Ok(Response::new(Box::pin(stream)))
    }

    async fn list_boards(&self, req: Request<ListBoardsRequest>) -> Result<Response<ListBoardsResponse>, Status> {
        let actor = self.actor(&req).await?;
        self.state
            .core
            .list_boards(&actor)
            .await
            .map(Response::new)
            .map_err(status)
    }

    async fn get_board(&self, req: Request<GetBoardRequest>) -> Result<Response<GetBoardResponse>, Status> {
        rpc!(self, req, get_board)
    }

    async fn list_tasks(&self, req: Request<ListTasksRequest>) -> Result<Response<ListTasksResponse>, Status> {
        rpc!(self, req, list_tasks)
    }

    async fn get_task(&self, req: Request<GetTaskRequest>) -> Result<Response<GetTaskResponse>, Status> {
        rpc!(self, req, get_task)
    }

    async fn create_task(&self, req: Request<CreateTaskRequest>) -> Result<Response<CreateTaskResponse>, Status> {
        rpc!(self, req, create_task)
    }

    async fn update_task(&self, req: Request<UpdateTaskRequest>) -> Result<Response<UpdateTaskResponse>, Status> {
        rpc!(self, req, update_task)
    }

    async fn move_task(&self, req: Request<MoveTaskRequest>) -> Result<Response<MoveTaskResponse>, Status> {
        rpc!(self, req, move_task)
    }

    async fn delete_task(&self, req: Request<DeleteTaskRequest>) -> Result<Response<DeleteTaskResponse>, Status> {
        rpc!(self, req, delete_task)
    }

    async fn create_board(&self, req: Request<CreateBoardRequest>) -> Result<Response<CreateBoardResponse>, Status> {
        rpc!(self, req, create_board)
    }

    async fn update_board(&self, req: Request<UpdateBoardRequest>) -> Result<Response<UpdateBoardResponse>, Status> {
        rpc!(self, req, update_board)
    }

    async fn delete_board(&self, req: Request<DeleteBoardRequest>) -> Result<Response<DeleteBoardResponse>, Status> {
        rpc!(self, req, delete_board)
    }

    async fn create_list(&self, req: Request<CreateListRequest>) -> Result<Response<CreateListResponse>, Status> {
        rpc!(self, req, create_list)
    }

    async fn update_list(&self, req: Request<UpdateListRequest>) -> Result<Response<UpdateListResponse>, Status> {
        rpc!(self, req, update_list)
    }

    async fn move_list(&self, req: Request<MoveListRequest>) -> Result<Response<MoveListResponse>, Status> {
        rpc!(self, req, move_list)
    }

    async fn delete_list(&self, req: Request<DeleteListRequest>) -> Result<Response<DeleteListResponse>, Status> {
        rpc!(self, req, delete_list)
    }

    async fn list_members(&self, req: Request<ListMembersRequest>) -> Result<Response<ListMembersResponse>, Status> {
        rpc!(self, req, list_members)
    }

    async fn add_member(&self, req: Request<AddMemberRequest>) -> Result<Response<AddMemberResponse>, Status> {
        rpc!(self, req, add_member)
    }

    async fn update_member(&self, req: Request<UpdateMemberRequest>) -> Result<Response<UpdateMemberResponse>, Status> {
        rpc!(self, req, update_member)
    }

    async fn remove_member(&self, req: Request<RemoveMemberRequest>) -> Result<Response<RemoveMemberResponse>, Status> {
        rpc!(self, req, remove_member)
    }

    async fn list_labels(&self, req: Request<ListLabelsRequest>) -> Result<Response<ListLabelsResponse>, Status> {
        rpc!(self, req, list_labels)
    }

    async fn create_label(&self, req: Request<CreateLabelRequest>) -> Result<Response<CreateLabelResponse>, Status> {
        rpc!(self, req, create_label)
    }

    async fn update_label(&self, req: Request<UpdateLabelRequest>) -> Result<Response<UpdateLabelResponse>, Status> {
        rpc!(self, req, update_label)
    }

    async fn delete_label(&self, req: Request<DeleteLabelRequest>) -> Result<Response<DeleteLabelResponse>, Status> {
        rpc!(self, req, delete_label)
    }

    async fn list_activity(&self, req: Request<ListActivityRequest>) -> Result<Response<ListActivityResponse>, Status> {
        rpc!(self, req, list_activity)
    }
}

#[cfg(test)]
mod tests {
    use super::is_service_path;

    #[test]
    fn service_paths_are_a_served_service_and_a_method() {
        assert!(is_service_path("/boardcast.v1.BoardService/GetBoard"));
        assert!(is_service_path("/boardcast.v1.AccountService/Login"));
        assert!(is_service_path("/grpc.health.v1.Health/Check"));
        assert!(!is_service_path("/boardcast.v1.BoardService/"));
        assert!(!is_service_path("/boardcast.v1.BoardService"));
        assert!(!is_service_path("/boardcast.v1.BoardService/GetBoard/x"));
        assert!(!is_service_path("/boardcast.v1.Other/GetBoard"));
        assert!(!is_service_path("/boards/board-1"));
        assert!(!is_service_path("boardcast.v1.BoardService/GetBoard"));
    }
}
