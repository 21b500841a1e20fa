//! `AccountService` over h2c gRPC: the same accounts as REST, and a Login token used
//! as `authorization: Bearer` on `BoardService`.

use boardcast::proto::v1::account_service_client::AccountServiceClient;
use boardcast::proto::v1::board_service_client::BoardServiceClient;
use boardcast::proto::v1::*;
use tonic::transport::Channel;
use tonic::{Code, Request};

use crate::helpers::{TestApp, spawn_app};

async fn accounts(app: &TestApp) -> AccountServiceClient<Channel> {
    AccountServiceClient::connect(format!("http://{}", app.addr))
        .await
        .unwrap()
}

fn bearer<T>(token: &str, msg: T) -> Request<T> {
    let mut req = Request::new(msg);
    req.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    req
}

fn login(username: &str, password: &str) -> LoginRequest {
    LoginRequest {
        username: username.into(),
        password: password.into(),
    }
}

#[tokio::test]
async fn account_service_end_to_end_and_its_token_on_board_service() {
    let app = spawn_app().await;
    let mut c = accounts(&app).await;
    let signed_up = c
        .signup(SignupRequest {
            username: "dana".into(),
            password: "dana-pw-123".into(),
            name: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let dana = signed_up.user.clone().unwrap();
    assert_eq!((dana.username.as_str(), dana.name.as_str()), ("dana", "dana"));
    let me = c
        .get_me(bearer(&signed_up.token, GetMeRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(me.user, Some(dana.clone()));

    // Login's token works on BoardService.
    let alice = c.login(login("alice", "alice-demo-pw")).await.unwrap().into_inner();
    assert_eq!(alice.user.as_ref().unwrap().id, "alice");
    let mut boards = BoardServiceClient::connect(format!("http://{}", app.addr))
        .await
        .unwrap();
    let listed = boards
        .list_boards(bearer(&alice.token, ListBoardsRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        listed.boards.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(),
        ["board-1", "board-2"]
    );
    let none = boards
        .list_boards(bearer(&signed_up.token, ListBoardsRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert!(none.boards.is_empty(), "a new account is on no board");

    // Personal tokens.
    let created = c
        .create_token(bearer(&alice.token, CreateTokenRequest { name: "ci".into() }))
        .await
        .unwrap()
        .into_inner();
    let id = created.api_token.as_ref().unwrap().id.clone();
    let tokens = c
        .list_tokens(bearer(&alice.token, ListTokensRequest {}))
        .await
        .unwrap()
        .into_inner()
        .tokens;
    assert_eq!(tokens.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(), [id.as_str()]);
    boards
        .get_board(bearer(
            &created.token,
            GetBoardRequest {
                board_id: "board-1".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    let theirs = c
        .revoke_token(bearer(&signed_up.token, RevokeTokenRequest { token_id: id.clone() }))
        .await
        .unwrap_err();
    assert_eq!(theirs.code(), Code::NotFound, "another user's token id");
    c.revoke_token(bearer(&alice.token, RevokeTokenRequest { token_id: id }))
        .await
        .unwrap();
    let revoked = boards
        .get_board(bearer(
            &created.token,
            GetBoardRequest {
                board_id: "board-1".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(revoked.code(), Code::Unauthenticated);

    // Logout ends the session the call carried.
    c.logout(bearer(&alice.token, LogoutRequest {})).await.unwrap();
    let after = c.get_me(bearer(&alice.token, GetMeRequest {})).await.unwrap_err();
    assert_eq!(after.code(), Code::Unauthenticated);
    let listed = boards
        .list_boards(bearer(&alice.token, ListBoardsRequest {}))
        .await
        .unwrap_err();
    assert_eq!(listed.code(), Code::Unauthenticated);
}

#[tokio::test]
async fn account_service_refusals() {
    let app = spawn_app().await;
    let mut c = accounts(&app).await;
    let wrong = c.login(login("alice", "wrong-password")).await.unwrap_err();
    let unknown = c.login(login("nobody", "wrong-password")).await.unwrap_err();
    assert_eq!(
        (wrong.code(), wrong.message()),
        (Code::Unauthenticated, "wrong username or password")
    );
    assert_eq!((unknown.code(), unknown.message()), (wrong.code(), wrong.message()));
    let taken = c
        .signup(SignupRequest {
            username: "Alice".into(),
            password: "long-enough".into(),
            name: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(taken.code(), Code::InvalidArgument);
    assert!(
        taken.message().contains("username `alice` is taken"),
        "{}",
        taken.message()
    );
    let short = c
        .signup(SignupRequest {
            username: "erin".into(),
            password: "short".into(),
            name: String::new(),
        })
        .await
        .unwrap_err();
    assert!(short.message().starts_with("password must be"), "{}", short.message());
    // Without a token: no guest account to speak for.
    let me = c.get_me(GetMeRequest {}).await.unwrap_err();
    assert_eq!(me.code(), Code::Unauthenticated);
    let token = c
        .create_token(CreateTokenRequest { name: "x".into() })
        .await
        .unwrap_err();
    assert_eq!(token.code(), Code::Unauthenticated);

    // The attempt limit: RESOURCE_EXHAUSTED once the address used its window
    // (the four attempts above and six more).
    for i in 0..6 {
        let e = c.login(login(&format!("nobody{i}"), "whatever-pw")).await.unwrap_err();
        assert_eq!(e.code(), Code::Unauthenticated, "attempt {i}");
    }
    let limited = c.login(login("alice", "alice-demo-pw")).await.unwrap_err();
    assert_eq!(limited.code(), Code::ResourceExhausted);
    assert!(
        limited.message().starts_with("too many attempts"),
        "{}",
        limited.message()
    );
}
