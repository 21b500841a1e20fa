//! Account rules: signing up, checking a password, and the credentials (sessions and
//! personal API tokens) that stand for a user. Credentials are stored as the hash of
//! their secret; the secret is returned once, to the caller that asked for it.
//!
//! These writes change no board, so they use a plain write transaction rather than
//! the board mutation pipeline: there is no board event to append.

use super::secrets::{self, hash_password_blocking, verify_password_blocking};
use super::validate::{self, Password, TOKEN_NAME_MAX_CHARS, Username};
use super::{Actor, Core, Error, Result, time};
use crate::proto::v1::{
    ApiToken, CreateTokenRequest, CreateTokenResponse, GetMeResponse, ListTokensResponse, LoginRequest, SignupRequest,
    User,
};
use crate::store::{CredentialKind, NewCredential, Store};

/// The one answer to a failed sign-in, whether the username exists or not.
pub const BAD_CREDENTIALS: &str = "wrong username or password";

/// A credential just issued: what is stored of it, and its secret (shown once).
pub struct Issued {
    pub token: ApiToken,
    pub secret: String,
}

impl Core {
    /// Creates an account. The password is hashed off the runtime's workers.
    pub async fn create_account(&self, req: &SignupRequest) -> Result<User> {
        create_account(self.store.as_ref(), req).await
    }

    /// The user whose username and password these are. An unknown username costs
    /// the same hash check as a wrong password and gets the same answer.
    pub async fn check_password(&self, req: &LoginRequest) -> Result<User> {
        let refused = || Error::Unauthenticated(BAD_CREDENTIALS.into());
        let Ok(username) = Username::parse(&req.username) else {
            return Err(refused());
        };
        let found = self.store.read().await?.user_by_username(username.as_str()).await?;
        let (user, hash) = match found {
            Some((user, Some(hash))) => (Some(user), hash),
            _ => (None, self.dummy_hash().await?),
        };
        let matches = verify_password_blocking(req.password.clone(), hash).await?;
        match user {
            Some(user) if matches => Ok(user),
            _ => Err(refused()),
        }
    }

    /// A hash no password is checked against successfully in practice, so an unknown
    /// username takes as long to refuse as a known one.
    async fn dummy_hash(&self) -> Result<String> {
        self.dummy_hash
            .get_or_try_init(|| hash_password_blocking(secrets::new_secret().unwrap_or_default()))
            .await
            .cloned()
    }

    /// Issues a credential for `user_id` and returns its secret, this once.
    pub async fn issue(&self, user_id: &str, kind: CredentialKind, name: &str) -> Result<Issued> {
        let secret = secrets::new_secret()?;
        let prefix = match kind {
            CredentialKind::Session => "ses",
            CredentialKind::Token => "tok",
        };
        let id = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let now = time::now_millis();
        let mut tx = self.store.write().await?;
        tx.insert_credential(&NewCredential {
            id: &id,
            user_id,
            kind,
            name,
            secret_hash: &secrets::secret_hash(&secret),
            created_ms: now,
        })
        .await?;
        tx.commit().await?;
        Ok(Issued {
            token: ApiToken {
                id,
                name: name.to_owned(),
                created_at: Some(time::from_millis(now)),
                last_used_at: None,
            },
            secret,
        })
    }

    /// Deletes the user's sessions called `name`: what a server restarted with
    /// `--demo` does with its previous start's dev sessions, so they do not pile up.
    pub async fn retire_sessions(&self, user_id: &str, name: &str) -> Result<()> {
        let mut tx = self.store.write().await?;
        for session in tx.credentials(user_id, CredentialKind::Session).await? {
            if session.name == name {
                tx.delete_credential(user_id, &session.id).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// A new named personal API token for the caller.
    pub async fn create_token(&self, actor: &Actor, req: &CreateTokenRequest) -> Result<CreateTokenResponse> {
        let user_id = signed_in(actor)?;
        let name = validate::name(&req.name, TOKEN_NAME_MAX_CHARS)?;
        let issued = self.issue(user_id, CredentialKind::Token, &name).await?;
        Ok(CreateTokenResponse {
            api_token: Some(issued.token),
            token: issued.secret,
        })
    }

    pub async fn list_tokens(&self, actor: &Actor) -> Result<ListTokensResponse> {
        let user_id = signed_in(actor)?;
        let tokens = self
            .store
            .read()
            .await?
            .credentials(user_id, CredentialKind::Token)
            .await?;
        Ok(ListTokensResponse { tokens })
    }

    /// Deletes one of the caller's credentials; another user's id is a 404 like an
    /// unknown one.
    pub async fn revoke_credential(&self, actor: &Actor, id: &str) -> Result<()> {
        let user_id = signed_in(actor)?;
        validate::required("tokenId", id)?;
        let mut tx = self.store.write().await?;
        if !tx.delete_credential(user_id, id).await? {
            return Err(Error::not_found("token", id));
        }
        tx.commit().await?;
        self.revocations.revoke(id);
        Ok(())
    }

    /// Ends the credential the caller authenticated with (logout).
    pub async fn end_own_credential(&self, actor: &Actor) -> Result<String> {
        let Some(id) = actor.credential_id.clone() else {
            return Err(Error::Unauthenticated(
                "not signed in: there is no session to end".into(),
            ));
        };
        self.revoke_credential(actor, &id).await?;
        Ok(id)
    }

    /// The caller, when signed in.
    pub fn me(actor: &Actor) -> Result<GetMeResponse> {
        signed_in(actor)?;
        Ok(GetMeResponse {
            user: Some(actor.user.clone()),
        })
    }

    /// Whether any user can sign in yet.
    pub async fn has_accounts(&self) -> Result<bool> {
        Ok(self.store.read().await?.account_count().await? > 0)
    }

    /// Records that a credential was used (at most once a minute per credential).
    pub async fn touch_credential(&self, id: &str) -> Result<()> {
        let mut tx = self.store.write().await?;
        tx.touch_credential(id, time::now_millis()).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Creates an account in `store` (what `Core::create_account` and `boardcast user add`
/// do). The password is hashed off the runtime's workers.
pub async fn create_account(store: &dyn Store, req: &SignupRequest) -> Result<User> {
    let username = Username::parse(&req.username)?;
    let password = Password::parse(&req.password)?;
    let name = if req.name.trim().is_empty() {
        username.as_str().to_owned()
    } else {
        validate::name(&req.name, validate::TITLE_MAX_CHARS)?
    };
    let hash = hash_password_blocking(password.as_str().to_owned()).await?;
    let user = User {
        id: format!("u_{}", uuid::Uuid::new_v4().simple()),
        name,
        username: username.as_str().to_owned(),
    };
    let mut tx = store.write().await?;
    // Two sign-ups of one name on two instances: the second waits for the first and
    // then finds the name taken, as it would behind SQLite's one writer.
    tx.lock_request("", &format!("username:{}", username.as_str())).await?;
    if tx.user_by_username(username.as_str()).await?.is_some() {
        return Err(Error::invalid(
            "username",
            format!("username `{}` is taken", username.as_str()),
        ));
    }
    tx.insert_user(&user, Some(&hash)).await?;
    tx.commit().await?;
    Ok(user)
}

/// The caller's user id, when it is a signed-in user (not the guest).
fn signed_in(actor: &Actor) -> Result<&str> {
    if actor.credential_id.is_none() {
        return Err(Error::Unauthenticated(
            "sign in first: send `Authorization: Bearer <token>` or the session cookie".into(),
        ));
    }
    Ok(&actor.user.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn two_sign_ups_of_one_name_on_two_instances_make_one_account() {
        let Some(url) = crate::store::postgres::scratch::test_database().await else {
            return;
        };
        let (a, b) = (
            crate::store::connect(&url).await.unwrap(),
            crate::store::connect(&url).await.unwrap(),
        );
        let req = SignupRequest {
            username: "dana".into(),
            password: "a long enough password".into(),
            ..Default::default()
        };
        for round in 0..8 {
            let req = SignupRequest {
                username: format!("{}{round}", req.username),
                ..req.clone()
            };
            let (first, second) = tokio::join!(create_account(a.as_ref(), &req), create_account(b.as_ref(), &req));
            let refused = [first, second].into_iter().filter_map(Result::err).collect::<Vec<_>>();
            assert_eq!(refused.len(), 1, "round {round}: exactly one is refused: {refused:?}");
            assert!(
                matches!(&refused[0], Error::InvalidArgument { field: Some(f), message } if f == "username" && message.contains("is taken")),
                "{:?}",
                refused[0]
            );
        }
    }
}
