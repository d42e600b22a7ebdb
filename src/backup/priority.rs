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
//!
//! Nice alone left keystrokes waiting: the scheduler (EEVDF) lets a running task finish its
//! slice before a woken one runs, whatever its nice, so a session's key could wait up to a
//! slice (5 ms in `perf sched`) behind a backend reading for pg_dump. Linux's `SCHED_IDLE`
//! policy is preempted at once by any normal task that wakes, so the backup threads, their
//! children and the backup's backends run under it as well, at nice 19. It is not strictly
//! idle: a `SCHED_IDLE` task still gets a small share of a saturated CPU (weight 3 against
//! 1024 for a session), so a backup slows down but always finishes. What a backup still
//! costs the sessions is memory traffic, which no priority reaches (see `pace`).

use super::BackupError;

/// The lowest nice value; it is what counts where `SCHED_IDLE` is refused (a container
/// whose seccomp profile blocks `sched_setscheduler`).
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

/// Runs `f` on a blocking thread at normal priority: for work done while `serve` stops,
/// when the sessions are gone and the stop has a deadline. Lowered, such work could starve
/// behind whatever else keeps the host busy and miss it.
pub async fn foreground<T, F>(what: &'static str, f: F) -> Result<T, BackupError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| BackupError::Setup(format!("the {what} thread panicked")))
}

/// Lowers the calling thread's priority. Failure (a seccomp'd container) only costs latency,
/// so it is logged, not returned.
fn lower_this_thread() {
    lower(rustix::thread::gettid(), "the backup thread");
}

/// Lowers a local process (a PostgreSQL backend of the embedded cluster serving the
/// backup). Lowering is allowed for one's own processes, and root may do it for the
/// cluster's `postgres` user; anything else is logged and skipped.
pub fn lower_process(pid: i32) {
    if let Some(p) = rustix::process::Pid::from_raw(pid) {
        lower(p, "a backup backend");
    }
}

/// Nice 19 and `SCHED_IDLE` for one task. Both calls take a thread id on Linux, so a
/// thread id changes that thread only and a process id its main thread.
fn lower(task: rustix::process::Pid, what: &str) {
    if let Err(e) = rustix::process::setpriority_process(Some(task), NICE) {
        tracing::debug!(error = %e, "cannot lower the priority of {what}");
    }
    if let Err(e) = idle_policy(task.as_raw_nonzero().get()) {
        tracing::debug!(error = %e, "cannot put {what} under SCHED_IDLE");
    }
}

/// `sched_setscheduler(task, SCHED_IDLE)`: neither rustix nor nix wraps it.
#[allow(unsafe_code)]
fn idle_policy(task: i32) -> std::io::Result<()> {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: the call only reads `param`, which outlives it; a task id that names nothing
    // is an error return (ESRCH), not undefined behaviour.
    let rc = unsafe { libc::sched_setscheduler(task, libc::SCHED_IDLE, &param) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The calling thread's nice value.
#[cfg(test)]
pub fn current_nice() -> i32 {
    rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap_or(0)
}

/// The calling thread's scheduling policy (0: `SCHED_OTHER`, 5: `SCHED_IDLE`).
#[cfg(test)]
#[allow(unsafe_code)]
pub fn current_policy() -> i32 {
    // SAFETY: no arguments but the calling thread's id (0).
    unsafe { libc::sched_getscheduler(0) }
}
