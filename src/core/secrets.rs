//! Secrets and their stored forms: argon2id password hashes (default parameters, a
//! random salt each) and bearer secrets (32 random bytes) kept only as SHA-256. A
//! bearer secret has 256 bits of entropy, so a fast hash is enough: a leaked
//! database cannot be turned back into a usable credential.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};

use super::{Error, Result};

/// The prefix of every bearer secret the server issues (sessions and personal tokens).
pub const SECRET_PREFIX: &str = "bc_";

/// The argon2id PHC string of a password. Slow by design: call off the runtime's
/// workers ([`hash_password_blocking`]).
pub fn hash_password(password: &str) -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| Error::Internal(format!("no randomness: {e}").into()))?;
    let salt = SaltString::encode_b64(&bytes).map_err(|e| Error::Internal(format!("encoding a salt: {e}").into()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("hashing a password: {e}").into()))
}

/// Whether `password` matches the PHC string `hash`. A malformed hash matches nothing.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// [`hash_password`] on the blocking pool.
pub async fn hash_password_blocking(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| Error::Internal(Box::new(e)))?
}

/// [`verify_password`] on the blocking pool.
pub async fn verify_password_blocking(password: String, hash: String) -> Result<bool> {
    tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| Error::Internal(Box::new(e)))
}

/// A new bearer secret: `bc_` and 64 hex digits (32 random bytes).
pub fn new_secret() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| Error::Internal(format!("no randomness: {e}").into()))?;
    let mut secret = String::with_capacity(SECRET_PREFIX.len() + 64);
    secret.push_str(SECRET_PREFIX);
    for b in bytes {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        secret.push(char::from(HEX[usize::from(b >> 4)]));
        secret.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    Ok(secret)
}

/// What the store keeps of a bearer secret.
pub fn secret_hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_hash_is_salted_argon2id_and_verifies_only_its_password() {
        let a = hash_password("correct horse").unwrap();
        let b = hash_password("correct horse").unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(!a.contains("correct horse"));
        assert!(verify_password("correct horse", &a));
        assert!(!verify_password("correct horsE", &a));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn secrets_are_random_and_stored_only_as_their_sha256() {
        let (a, b) = (new_secret().unwrap(), new_secret().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 3 + 64);
        assert!(a.starts_with("bc_") && a[3..].chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(secret_hash(&a), secret_hash(&a.clone()));
        assert_ne!(secret_hash(&a), secret_hash(&b));
    }
}
