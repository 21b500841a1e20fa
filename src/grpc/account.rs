//! gRPC `AccountService`: the account routes of REST as RPCs. Login and Signup answer
//! with a session token usable as `authorization: Bearer` on every service.

use std::net::{IpAddr, Ipv4Addr};

use tonic::{Request, Response, Status};

use super::Grpc;
use crate::app::AppState;
use crate::core::Core;
use crate::proto::v1::account_service_server::AccountService;
use crate::proto::v1::{
    CreateTokenRequest, CreateTokenResponse, GetMeRequest, GetMeResponse, ListTokensRequest, ListTokensResponse,
    LoginRequest, LoginResponse, LogoutRequest, LogoutResponse, RevokeTokenRequest, RevokeTokenResponse, SignupRequest,
    SignupResponse,
};
use crate::wire::error::grpc_status as status;

pub struct Accounts {
    grpc: Grpc,
}

impl Accounts {
    pub fn new(state: AppState) -> Self {
        Accounts { grpc: Grpc { state } }
    }

    fn state(&self) -> &AppState {
        &self.grpc.state
    }
}

impl Accounts {
    /// The client's address (unspecified if the accept loop recorded none).
    fn client_ip<T>(&self, req: &Request<T>) -> IpAddr {
        self.grpc.client_ip(req).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }
}

#[tonic::async_trait]
impl AccountService for Accounts {
    async fn signup(&self, req: Request<SignupRequest>) -> Result<Response<SignupResponse>, Status> {
        let ip = self.client_ip(&req);
        let (user, token) = self.state().auth.signup(ip, req.get_ref()).await.map_err(status)?;
        Ok(Response::new(SignupResponse {
            user: Some(user),
            token,
        }))
    }

    async fn login(&self, req: Request<LoginRequest>) -> Result<Response<LoginResponse>, Status> {
        let ip = self.client_ip(&req);
        let (user, token) = self.state().auth.login(ip, req.get_ref()).await.map_err(status)?;
        Ok(Response::new(LoginResponse {
            user: Some(user),
            token,
        }))
    }

    async fn logout(&self, req: Request<LogoutRequest>) -> Result<Response<LogoutResponse>, Status> {
        let actor = self.grpc.actor(&req).await?;
        self.state().auth.logout(&actor).await.map_err(status)?;
        Ok(Response::new(LogoutResponse {}))
    }

    async fn get_me(&self, req: Request<GetMeRequest>) -> Result<Response<GetMeResponse>, Status> {
        let actor = self.grpc.actor(&req).await?;
        Core::me(&actor).map(Response::new).map_err(status)
    }

    async fn create_token(&self, req: Request<CreateTokenRequest>) -> Result<Response<CreateTokenResponse>, Status> {
        let actor = self.grpc.actor(&req).await?;
        self.state()
            .core
            .create_token(&actor, req.get_ref())
            .await
            .map(Response::new)
            .map_err(status)
    }

    async fn list_tokens(&self, req: Request<ListTokensRequest>) -> Result<Response<ListTokensResponse>, Status> {
        let actor = self.grpc.actor(&req).await?;
        self.state()
            .core
            .list_tokens(&actor)
            .await
            .map(Response::new)
            .map_err(status)
    }

    async fn revoke_token(&self, req: Request<RevokeTokenRequest>) -> Result<Response<RevokeTokenResponse>, Status> {
        let actor = self.grpc.actor(&req).await?;
        self.state()
            .auth
            .revoke(&actor, &req.get_ref().token_id)
            .await
            .map_err(status)?;
        Ok(Response::new(RevokeTokenResponse {}))
    }
}
