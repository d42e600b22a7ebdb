//! argon2id password (and kiosk PIN) hashing on a small pool of dedicated threads.
//!
//! Each verification needs 19 MiB of working memory. Run on tokio's blocking pool, a login
//! storm spread them over dozens of threads, each keeping its own malloc arena: 50
//! concurrent failed logins left the server at about 1 GB. Here a fixed number of threads
//! each own one reusable block of memory, and the queue in front of them is short: when it
//! is full a verification is refused at once ([`Busy`]) instead of waiting, so an
//! unauthenticated flood cannot build a backlog that delays everyone else's login.

use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{LazyLock, Mutex};

use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::oneshot;

/// OWASP's minimum for argon2id: 19 MiB, 2 passes, 1 lane.
const M_COST_KIB: u32 = 19 * 1024;
const T_COST: u32 = 2;
const P_COST: u32 = 1;

/// Verifications waiting for a thread before new ones are refused.
const QUEUE: usize = 8;
/// A stored hash asking for more memory than this is refused rather than computed.
const MAX_BLOCKS: usize = 64 * 1024;

/// The hashing pool is full: the caller refuses the attempt without counting it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("password hashing is busy")]
pub struct Busy;

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

/// Verifies `password` against a PHC string, computing in `memory` (grown once when a
/// stored hash asks for more than the default; never beyond [`MAX_BLOCKS`]).
fn verify_in(password: &[u8], phc: &str, memory: &mut Vec<Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(expected), Some(salt)) = (parsed.hash, parsed.salt) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let blocks = params.block_count();
    if blocks > MAX_BLOCKS {
        return false;
    }
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, salt, &mut out, &mut memory[..blocks])
        .is_ok()
        // `Output`'s equality is constant-time.
        && argon2::password_hash::Output::new(&out).is_ok_and(|o| o == expected)
}

enum Job {
    Verify {
        password: String,
        phc: Option<String>,
        reply: oneshot::Sender<bool>,
    },
    Hash {
        password: String,
        reply: oneshot::Sender<String>,
    },
}

struct Pool {
    jobs: SyncSender<Job>,
}

static POOL: LazyLock<Pool> = LazyLock::new(|| {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4));
    let (tx, rx) = mpsc::sync_channel::<Job>(QUEUE);
    let rx = std::sync::Arc::new(Mutex::new(rx));
    for i in 0..threads {
        let rx = rx.clone();
        std::thread::Builder::new()
            .name(format!("argon2-{i}"))
            .spawn(move || worker(&rx))
            .expect("spawn a hashing thread");
    }
    Pool { jobs: tx }
});

fn worker(rx: &Mutex<mpsc::Receiver<Job>>) {
    let mut memory = vec![Block::default(); M_COST_KIB as usize];
    loop {
        // The lock is held only while waiting for the next job, not while hashing.
        let job = match rx.lock().unwrap_or_else(|e| e.into_inner()).recv() {
            Ok(job) => job,
            Err(_) => return,
        };
        match job {
            Job::Verify {
                password,
                phc,
                reply,
            } => {
                let ok = match phc {
                    Some(phc) => verify_in(password.as_bytes(), &phc, &mut memory),
                    None => {
                        verify_in(password.as_bytes(), &DUMMY_HASH, &mut memory);
                        false
                    }
                };
                let _ = reply.send(ok);
            }
            Job::Hash { password, reply } => {
                let _ = reply.send(hash_blocking(&password));
            }
        }
    }
}

/// Hashes a password (argon2id, random salt). Waits for room in the queue: only
/// authenticated administrators set passwords and PINs.
pub async fn hash(password: String) -> String {
    let (reply, answer) = oneshot::channel();
    let jobs = POOL.jobs.clone();
    tokio::task::spawn_blocking(move || jobs.send(Job::Hash { password, reply }))
        .await
        .expect("queueing a hash does not panic")
        .expect("hashing threads never stop");
    answer.await.expect("hashing threads never stop")
}

/// Verifies a password against a PHC string; with `None` verifies against the dummy hash
/// (and fails) so the caller's timing does not reveal that the user has no password.
/// Refused at once with [`Busy`] when the queue is full.
pub async fn verify(password: String, phc: Option<String>) -> Result<bool, Busy> {
    let (reply, answer) = oneshot::channel();
    match POOL.jobs.try_send(Job::Verify {
        password,
        phc,
        reply,
    }) {
        Ok(()) => Ok(answer.await.unwrap_or(false)),
        Err(TrySendError::Full(_)) => Err(Busy),
        Err(TrySendError::Disconnected(_)) => Err(Busy),
    }
}

#[cfg(test)]
mod tests;
