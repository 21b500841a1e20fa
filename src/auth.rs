//! Identity: which user a request is. Transports pull a token out of their own
//! framing (header, metadata, query, cookie) and call [`Auth::actor`]; what that user
//! may do on a board is core's rule (`core::access`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::core::{Actor, Error, GUEST_ID, Result};
use crate::proto::v1::User;
use crate::store::Store;

/// The cookie a browser may carry its token in.
pub const TOKEN_COOKIE: &str = "boardcast_token";

#[derive(Clone)]
pub struct Auth {
    store: Arc<dyn Store>,
    /// Whether a request without a token acts as the guest. On by default only when
    /// the server listens on a loopback address, so the seed's walkthrough works
    /// locally while an exposed server demands tokens.
    guests: bool,
    /// Token → user, for tokens seen valid. Tokens are issued when the database is
    /// seeded and nothing changes them while the server runs, so a request need not
    /// open a read transaction just to learn who it is. Only valid tokens are kept:
    /// the map is as large as the user table at most.
    known: Arc<Mutex<HashMap<String, User>>>,
}

impl Auth {
    pub fn new(store: Arc<dyn Store>, guests: bool) -> Self {
        Auth {
            store,
            guests,
            known: Arc::default(),
        }
    }

    pub fn guests_allowed(&self) -> bool {
        self.guests
    }

    pub async fn actor(&self, token: Option<&str>) -> Result<Actor> {
        // The guest is kept under the empty key, which no real token can look up.
        let key = match token {
            Some(t) if !t.is_empty() => Some(t),
            Some(_) => None,
            None => self.guests.then_some(""),
        };
        if let Some(user) = key.and_then(|k| self.known.lock().expect("auth cache lock").get(k).cloned()) {
            return Ok(Actor { user });
        }
        let mut tx = self.store.read().await?;
        let user = match token {
            Some(token) => tx
                .user_by_token(token)
                .await?
                .ok_or_else(|| Error::Unauthenticated("invalid token".into()))?,
            None if self.guests => tx
                .user(GUEST_ID)
                .await?
                .ok_or_else(|| Error::Internal("guest user missing from the database".into()))?,
            None => {
                return Err(Error::Unauthenticated(
                    "a token is required: send `Authorization: Bearer <token>`".into(),
                ));
            }
        };
        if let Some(key) = key {
            self.known
                .lock()
                .expect("auth cache lock")
                .insert(key.to_owned(), user.clone());
        }
        Ok(Actor { user })
    }

    /// The dev credentials a browser may fetch for its sign-in control: only where
    /// guests are allowed (a loopback dev server); elsewhere the route does not exist.
    pub async fn published_dev_credentials(&self) -> Result<Vec<(User, String)>> {
        if !self.guests {
            return Err(Error::not_found("route", "/dev/users"));
        }
        self.dev_credentials().await
    }

    /// The seeded users and their tokens, printed at start-up for development.
    pub async fn dev_credentials(&self) -> Result<Vec<(User, String)>> {
        Ok(self.store.read().await?.users_with_tokens().await?)
    }
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
    use super::bearer;

    #[test]
    fn bearer_accepts_any_case_and_rejects_other_schemes() {
        assert_eq!(bearer("Bearer abc").unwrap(), "abc");
        assert_eq!(bearer("bearer  abc ").unwrap(), "abc");
        assert!(bearer("Basic abc").is_err());
        assert!(bearer("Bearer").is_err());
        assert!(bearer("Bearer   ").is_err());
    }
}
