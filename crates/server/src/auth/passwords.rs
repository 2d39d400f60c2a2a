//! Password hashing with argon2id at OWASP's recommended cost (19 MiB, 2 passes, 1 lane).
//!
//! Hashing is deliberately slow and memory-hungry, so it runs on the blocking pool behind a
//! semaphore: at most one hash per core at a time, which bounds memory under a sign-in flood
//! and keeps the async workers free for everything else.

use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use tokio::sync::Semaphore;

#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    /// A real hash of a random password, verified against when the account does not exist,
    /// so "no such account" takes as long as "wrong password".
    dummy: Arc<String>,
}

impl Passwords {
    pub fn new() -> anyhow::Result<Self> {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        let mut random = [0u8; 32];
        getrandom::fill(&mut random).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        let dummy = hash_now(&random)?;
        Ok(Self {
            permits: Arc::new(Semaphore::new(cores)),
            dummy: Arc::new(dummy),
        })
    }

    /// Hashes a new password (PHC string, salt included).
    pub async fn hash(&self, password: &str) -> anyhow::Result<String> {
        let _permit = self.permits.acquire().await?;
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || hash_now(password.as_bytes())).await?
    }

    /// Whether `password` matches `stored`. With no stored hash (unknown account, or a staff
    /// member who has not set a password) the work is done anyway and the answer is false.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> bool {
        let Ok(_permit) = self.permits.acquire().await else {
            return false;
        };
        let real = stored.is_some();
        let hash = stored
            .map(str::to_owned)
            .unwrap_or_else(|| self.dummy.as_str().to_owned());
        let password = password.to_owned();
        let matched = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash)
                .map(|parsed| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false);
        real && matched
    }
}

fn hash_now(password: &[u8]) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_own_password_only() {
        let p = Passwords::new().unwrap();
        let hash = p.hash("봄날 병원 산책 2026").await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(p.verify("봄날 병원 산책 2026", Some(&hash)).await);
        assert!(!p.verify("봄날 병원 산책 2025", Some(&hash)).await);
        assert!(
            !p.verify("anything", None).await,
            "no account never verifies"
        );
        assert!(!p.verify("anything", Some("not a phc string")).await);
    }
}
