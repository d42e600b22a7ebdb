//! Backups run beside a serving mailroom, so their CPU work (pg_dump's compression, age, the
//! scrypt of a passphrase, a throw-away cluster's restore) must yield to the sessions' keys.
//!
//! Linux keeps the nice value per thread, and whatever a thread starts (threads, processes
//! and their children) inherits it. So each piece of backup work runs on its own thread,
//! lowered to [`NICE`] before it does anything, and starts its child processes from there:
//! pg_dump, pg_restore and the throw-away cluster's postmaster come up at that priority with
//! no wrapper program and no window at normal priority. On an embedded cluster the two
//! server backends that read for the backup (the snapshot's and pg_dump's) are lowered too:
//! they only read, so a lowered backend holds no lock a session's write waits on for long.
//! On an idle machine nice costs nothing; on a busy one the sessions win every wake-up.

use super::BackupError;

/// The lowest priority short of `SCHED_IDLE` (which could starve a backup forever on a busy
/// node and leave it holding its snapshot).
pub const NICE: i32 = 19;

/// Runs `f` on a new thread at [`NICE`] and waits for it without blocking the runtime.
/// Like `spawn_blocking`, the work finishes even when the caller stops waiting.
pub async fn background<T, F>(what: &'static str, f: F) -> Result<T, BackupError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name(format!("backup-{what}"))
        .spawn(move || {
            lower_this_thread();
            let _ = tx.send(f());
        })
        .map_err(|e| BackupError::Setup(format!("cannot start the {what} thread: {e}")))?;
    rx.await
        .map_err(|_| BackupError::Setup(format!("the {what} thread panicked")))
}

/// Lowers the calling thread's priority. Failure (a seccomp'd container) only costs latency,
/// so it is logged, not returned.
fn lower_this_thread() {
    // PRIO_PROCESS with a thread id changes that thread only (Linux's per-thread nice).
    let me = rustix::thread::gettid();
    if let Err(e) = rustix::process::setpriority_process(Some(me), NICE) {
        tracing::debug!(error = %e, "cannot lower the backup thread's priority");
    }
}

/// Lowers a local process (a PostgreSQL backend of the embedded cluster serving the
/// backup) to [`NICE`]. Raising a nice value is allowed for one's own processes, and root
/// may do it for the cluster's `postgres` user; anything else is logged and skipped.
pub fn lower_process(pid: i32) {
    let Some(p) = rustix::process::Pid::from_raw(pid) else {
        return;
    };
    if let Err(e) = rustix::process::setpriority_process(Some(p), NICE) {
        tracing::debug!(pid, error = %e, "cannot lower a backup backend's priority");
    }
}

/// The calling thread's nice value.
#[cfg(test)]
pub fn current_nice() -> i32 {
    rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap_or(0)
}
