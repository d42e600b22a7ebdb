//! argon2id password (and kiosk PIN) hashing, run off the async runtime with a bound on
//! concurrent hashes so a login storm cannot starve the server of CPU or memory.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

/// OWASP's minimum for argon2id: 19 MiB, 2 passes, 1 lane.
const M_COST_KIB: u32 = 19 * 1024;
const T_COST: u32 = 2;
const P_COST: u32 = 1;

/// At most this many hashes at once (each holds 19 MiB while it runs).
static HASH_SLOTS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(4));

fn argon2() -> Argon2<'static> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None).expect("valid argon2 params");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A hash of a password nobody knows, with the same parameters as real ones: verifying
/// against it costs what a real verification costs, so unknown logins take as long as
/// known ones.
pub static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_blocking("packtrack-dummy-password-never-matches"));

fn hash_blocking(password: &str) -> String {
    let salt = SaltString::encode_b64(&crate::secrets::random_bytes::<16>())
        .expect("16 bytes is a valid salt");
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing of a bounded input cannot fail")
        .to_string()
}

fn verify_blocking(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        // Verification uses the parameters stored in the hash itself.
        Ok(parsed) => argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Hashes a password (argon2id, random salt) on the blocking pool.
pub async fn hash(password: String) -> String {
    let _slot = HASH_SLOTS.acquire().await.expect("semaphore never closed");
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .expect("hashing task panicked")
}

/// Verifies a password against a PHC string; with `None` verifies against the dummy hash
/// (and fails) so the caller's timing does not reveal that the user has no password.
pub async fn verify(password: String, phc: Option<String>) -> bool {
    let _slot = HASH_SLOTS.acquire().await.expect("semaphore never closed");
    tokio::task::spawn_blocking(move || match phc {
        Some(phc) => verify_blocking(&password, &phc),
        None => {
            verify_blocking(&password, &DUMMY_HASH);
            false
        }
    })
    .await
    .expect("verification task panicked")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_and_verify() {
        let h = hash("correct horse".into()).await;
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("correct horse".into(), Some(h.clone())).await);
        assert!(!verify("wrong horse".into(), Some(h)).await);
        assert!(!verify("anything".into(), None).await);
        assert!(!verify("x".into(), Some("not a phc string".into())).await);
    }
}
