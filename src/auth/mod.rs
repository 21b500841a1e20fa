//! Identity: which user a request is. Transports pull a token out of their own
//! framing (header, metadata, query, cookie) and call [`Auth::actor`]; what that user
//! may do on a board is core's rule (`core::access`). Signing up, in and out goes
//! through here too, so the attempt limits and the token memory stay in one place.

mod attempts;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::core::seed::DEMO_USERS;
use crate::core::{Actor, Core, Error, GUEST_ID, Result, secrets};
use crate::limits::{SIGNIN_ATTEMPTS_PER_IP, SIGNIN_FAILURES_PER_USERNAME, SIGNIN_WINDOW};
use crate::proto::v1::{LoginRequest, SignupRequest, User};
use crate::store::CredentialKind;

use attempts::Attempts;

/// The cookie a browser carries its session token in.
pub const TOKEN_COOKIE: &str = "boardcast_token";

/// How often a credential's `last used` time is written while it is in use.
const TOUCH_EVERY: Duration = Duration::from_mins(1);

/// A credential seen valid: who it is, and when its use was last recorded.
struct Known {
    actor: Actor,
    touched: Instant,
}

/// The name of the sessions minted at start-up for the demo users.
const DEV_SESSION: &str = "dev sign-in";

#[derive(Clone)]
pub struct Auth {
    core: Arc<Core>,
    /// Whether a request without a token acts as the guest. On by default only when
    /// the server listens on a loopback address, so the seed's walkthrough works
    /// locally while an exposed server demands tokens.
    guests: bool,
    /// Secret hash → caller, for credentials seen valid, so a request need not open a
    /// read transaction to learn who it is. Revoking a credential (logout, token
    /// revocation) drops its entry before answering. Only valid credentials are kept.
    known: Arc<Mutex<HashMap<[u8; 32], Known>>>,
    guest: Arc<tokio::sync::OnceCell<User>>,
    per_ip: Arc<Attempts>,
    per_username: Arc<Attempts>,
    /// The demo users' start-up sessions, offered by `GET /dev/users` with `--demo`.
    /// Memory only: the store has their hashes like any session's.
    dev_sessions: Arc<Mutex<Vec<(User, String)>>>,
}

impl Auth {
    pub fn new(core: Arc<Core>, guests: bool) -> Self {
        Auth {
            core,
            guests,
            known: Arc::default(),
            guest: Arc::default(),
            per_ip: Arc::new(Attempts::new(SIGNIN_ATTEMPTS_PER_IP, SIGNIN_WINDOW)),
            per_username: Arc::new(Attempts::new(SIGNIN_FAILURES_PER_USERNAME, SIGNIN_WINDOW)),
            dev_sessions: Arc::default(),
        }
    }

    pub fn guests_allowed(&self) -> bool {
        self.guests
    }

    /// Who `token` is (or the guest, without one), calling from `client_ip` (what
    /// core's per-address limits count).
    pub async fn actor(&self, token: Option<&str>, client_ip: Option<IpAddr>) -> Result<Actor> {
        let mut actor = self.identify(token).await?;
        actor.client_ip = client_ip;
        Ok(actor)
    }

    async fn identify(&self, token: Option<&str>) -> Result<Actor> {
        match token {
            Some(t) if !t.is_empty() => self.signed_in(t).await,
            // An empty token is never valid.
            Some(_) => Err(Error::Unauthenticated("invalid token".into())),
            None if self.guests => self.guest().await,
            None => Err(Error::Unauthenticated(
                "a token is required: send `Authorization: Bearer <token>`".into(),
            )),
        }
    }

    async fn guest(&self) -> Result<Actor> {
        let store = self.core.store();
        let user = self
            .guest
            .get_or_try_init(|| async {
                store
                    .read()
                    .await?
                    .user(GUEST_ID)
                    .await?
                    .ok_or_else(|| Error::Internal("guest user missing from the database".into()))
            })
            .await?;
        Ok(Actor {
            user: user.clone(),
            credential_id: None,
            client_ip: None,
        })
    }

    async fn signed_in(&self, token: &str) -> Result<Actor> {
        let hash = secrets::secret_hash(token);
        let now = Instant::now();
        let touch = {
            let mut known = self.known.lock().expect("auth cache lock");
            known.get_mut(&hash).map(|k| {
                let due = now.duration_since(k.touched) >= TOUCH_EVERY;
                if due {
                    k.touched = now;
                }
                (k.actor.clone(), due)
            })
        };
        if let Some((actor, due)) = touch {
            if due {
                self.touch_later(&actor);
            }
            return Ok(actor);
        }
        let (user, id) = self
            .core
            .store()
            .read()
            .await?
            .user_by_secret(&hash)
            .await?
            .ok_or_else(|| Error::Unauthenticated("invalid token".into()))?;
        self.core.touch_credential(&id).await?;
        let actor = Actor {
            user,
            credential_id: Some(id),
            client_ip: None,
        };
        let entry = Known {
            actor: actor.clone(),
            touched: now,
        };
        self.known.lock().expect("auth cache lock").insert(hash, entry);
        Ok(actor)
    }

    /// Records a cached credential's use without holding up the request.
    fn touch_later(&self, actor: &Actor) {
        let (core, id) = (self.core.clone(), actor.credential_id.clone());
        tokio::spawn(async move {
            if let Some(id) = id
                && let Err(e) = core.touch_credential(&id).await
            {
                tracing::warn!(error = %e, "could not record a token's last use");
            }
        });
    }

    /// Creates an account and signs it in: the user and the session's secret.
    pub async fn signup(&self, ip: IpAddr, req: &SignupRequest) -> Result<(User, String)> {
        let now = Instant::now();
        let username = req.username.trim().to_lowercase();
        self.per_ip.take(&ip.to_string(), now)?;
        self.per_username.check(&username, now)?;
        let user = match self.core.create_account(req).await {
            Ok(user) => user,
            Err(e) => {
                self.per_username.hit(&username, now);
                return Err(e);
            }
        };
        let session = self.core.issue(&user.id, CredentialKind::Session, "sign-up").await?;
        Ok((user, session.secret))
    }

    /// Signs in: the user and the new session's secret. Every refusal of a password
    /// says the same, whether the username exists or not.
    pub async fn login(&self, ip: IpAddr, req: &LoginRequest) -> Result<(User, String)> {
        let now = Instant::now();
        let username = req.username.trim().to_lowercase();
        self.per_ip.take(&ip.to_string(), now)?;
        self.per_username.check(&username, now)?;
        let user = match self.core.check_password(req).await {
            Ok(user) => user,
            Err(e) => {
                self.per_username.hit(&username, now);
                return Err(e);
            }
        };
        let session = self.core.issue(&user.id, CredentialKind::Session, "sign-in").await?;
        Ok((user, session.secret))
    }

    /// Ends the credential the caller used; the next request with it is refused.
    pub async fn logout(&self, actor: &Actor) -> Result<()> {
        let id = self.core.end_own_credential(actor).await?;
        self.forget(&id);
        Ok(())
    }

    /// Revokes one of the caller's personal tokens; the next request with it is refused.
    pub async fn revoke(&self, actor: &Actor, id: &str) -> Result<()> {
        self.core.revoke_credential(actor, id).await?;
        self.forget(id);
        Ok(())
    }

    fn forget(&self, credential_id: &str) {
        self.known
            .lock()
            .expect("auth cache lock")
            .retain(|_, k| k.actor.credential_id.as_deref() != Some(credential_id));
    }

    /// Mints a session for each demo user present, for `GET /dev/users` (`--demo`),
    /// in place of the previous start's.
    /// The secrets stay in memory; the store keeps their hashes.
    pub async fn mint_dev_sessions(&self) -> Result<()> {
        let mut minted = Vec::new();
        for (id, _, _) in DEMO_USERS {
            let user = self.core.store().read().await?.user(id).await?;
            if let Some(user) = user {
                self.core.retire_sessions(id, DEV_SESSION).await?;
                let session = self.core.issue(id, CredentialKind::Session, DEV_SESSION).await?;
                minted.push((user, session.secret));
            }
        }
        *self.dev_sessions.lock().expect("dev sessions lock") = minted;
        Ok(())
    }

    /// The demo users' start-up sessions, for the page's dev sign-in control: only
    /// where guests are allowed and the server runs with `--demo` (sessions were
    /// minted), and only to a request addressed to a loopback name (`host`: its Host
    /// or `:authority`). A page served under another name that resolves here (DNS
    /// rebinding) would otherwise read every token. Elsewhere the route does not exist.
    pub fn published_dev_credentials(&self, host: Option<&str>) -> Result<Vec<(User, String)>> {
        let sessions = self.dev_credentials();
        if !self.guests || sessions.is_empty() || !host.is_some_and(is_loopback_host) {
            return Err(Error::not_found("route", "/dev/users"));
        }
        Ok(sessions)
    }

    /// The demo users' start-up sessions (empty without `--demo`).
    pub fn dev_credentials(&self) -> Vec<(User, String)> {
        self.dev_sessions.lock().expect("dev sessions lock").clone()
    }
}

/// `localhost`, a loopback address, either with a port: `127.0.0.1:3000`, `[::1]:3000`.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _port)| name),
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The token of an `Authorization` header value: `Bearer <token>`.
pub fn bearer(header: &str) -> Result<&str> {
    match header.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => Ok(token.trim()),
        _ => Err(Error::Unauthenticated("Authorization must be `Bearer <token>`".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::{bearer, is_loopback_host};

    #[test]
    fn only_loopback_names_are_loopback_hosts() {
        for yes in [
            "localhost",
            "LOCALHOST:3000",
            "127.0.0.1:3000",
            "127.5.0.1",
            "[::1]:3000",
            "[::1]",
        ] {
            assert!(is_loopback_host(yes), "{yes}");
        }
        for no in [
            "evil.example",
            "evil.example:3000",
            "10.0.0.1:3000",
            "localhost.evil.example",
            "::1",
            "",
        ] {
            assert!(!is_loopback_host(no), "{no}");
        }
    }

    #[test]
    fn bearer_accepts_any_case_and_rejects_other_schemes() {
        assert_eq!(bearer("Bearer abc").unwrap(), "abc");
        assert_eq!(bearer("bearer  abc ").unwrap(), "abc");
        assert!(bearer("Basic abc").is_err());
        assert!(bearer("Bearer").is_err());
        assert!(bearer("Bearer   ").is_err());
    }
}
