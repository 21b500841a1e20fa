//! Caps the streams (SSE, gRPC Subscribe, WebSocket) one user holds open at once: a
//! permit per stream, freed when the stream ends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::{Error, Result};

/// Caps the streams one user holds open at once.
#[derive(Clone)]
pub struct StreamLimiter {
    max: usize,
    open: Arc<Mutex<HashMap<String, usize>>>,
}

/// One open stream; dropping it frees the slot.
pub struct StreamPermit {
    pub(super) user: String,
    open: Arc<Mutex<HashMap<String, usize>>>,
}

impl StreamLimiter {
    pub fn new(max: usize) -> Self {
        StreamLimiter {
            max,
            open: Arc::default(),
        }
    }

    pub fn acquire(&self, user: &str) -> Result<StreamPermit> {
        let mut open = self.open.lock().expect("stream limiter lock");
        let n = open.entry(user.to_owned()).or_default();
        if *n >= self.max {
            return Err(Error::TooManyStreams { limit: self.max });
        }
        *n += 1;
        Ok(StreamPermit {
            user: user.to_owned(),
            open: self.open.clone(),
        })
    }
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let mut open = self.open.lock().expect("stream limiter lock");
        if let Some(n) = open.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_counts_per_user_and_frees_on_drop() {
        let limiter = StreamLimiter::new(2);
        let a1 = limiter.acquire("alice").unwrap();
        let _a2 = limiter.acquire("alice").unwrap();
        assert!(matches!(
            limiter.acquire("alice"),
            Err(Error::TooManyStreams { limit: 2 })
        ));
        let _b = limiter.acquire("bob").unwrap();
        drop(a1);
        assert!(limiter.acquire("alice").is_ok());
    }
}
