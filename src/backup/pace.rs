//! Backups step aside while clerks type.
//!
//! Priorities (see `priority`) keep a backup from taking a session's CPU, but not from
//! slowing the session's own work: a backup copies, compresses and restores, and that memory
//! traffic slows a keystroke on the other core whatever its priority (docs/BACKUP.md: an
//! idle-priority memory-copy loop alone moves the keystroke p99 by about 3 ms). So a backup
//! pauses while the server's sessions receive input, and goes on once they have been quiet
//! for [`Pace::quiet`].
//!
//! It pauses between steps it can stop at: each chunk of pg_dump's output it encrypts and
//! each chunk it feeds pg_restore (pg_dump, its server backend and pg_restore then block on
//! their full pipes within a few milliseconds, well inside the 30 ms a lone key is held by
//! the scan recogniser), and before each step it cannot stop once started (the snapshot,
//! the throw-away cluster's initdb, a passphrase's scrypt, the drill's checks). A step never
//! waits longer than its `max` wait, and a run never waits longer than [`Pace::run_max`] in
//! all: someone typing without pause (or a logged-in user sending a byte every few hundred
//! milliseconds on purpose) delays a backup, and the snapshot it holds open, by at most that
//! long; then it goes on at full pace.
//!
//! The input clock is one per process: every interactive session's keys move it. `serve`
//! also publishes it as the modification time of `DATA_DIR/.input-clock` ([`publish`]), so
//! that `admin backup` run from a shell or cron on the same host paces on the server's
//! sessions too ([`watch`]).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Milliseconds after [`epoch`] of the newest session input, plus one (0: none yet).
static LAST_INPUT: AtomicU64 = AtomicU64::new(0);

/// Milliseconds backups of this process have waited for quiet, in all (the metrics
/// endpoint's `packtrack_backup_paused_seconds_total`).
static PAUSED_MS: AtomicU64 = AtomicU64::new(0);

/// How long backups of this process have waited for the sessions to be quiet, in all.
pub fn paused_total() -> Duration {
    Duration::from_millis(PAUSED_MS.load(Ordering::Relaxed))
}

fn count_pause(d: Duration) {
    let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    if ms > 0 {
        PAUSED_MS.fetch_add(ms, Ordering::Relaxed);
    }
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_ms() -> u64 {
    u64::try_from(epoch().elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Wakes [`publish`] (no-op in a process that does not publish).
static SEEN: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// The clock file of a server on this host, read by a backup run from a shell.
static WATCHED: OnceLock<PathBuf> = OnceLock::new();

/// A session received input (the SSH handler calls this for every data packet of an
/// interactive channel): one relaxed store and a wake-up of the publisher.
pub fn input_seen() {
    LAST_INPUT.store(now_ms().saturating_add(1), Ordering::Relaxed);
    SEEN.notify_one();
}

/// The server's input clock file in a data dir.
pub fn clock_file(data_dir: &Path) -> PathBuf {
    data_dir.join(".input-clock")
}

/// Keeps `file`'s modification time at the newest session input, at most every 20 ms, for
/// backups run by other processes on this host ([`watch`]). Runs until the process ends;
/// a file that cannot be written only costs those backups their pacing.
pub async fn publish(file: PathBuf) {
    // Opened at the first input: by then the data dir exists (a server on an external
    // database creates it with its first audit checkpoint).
    let mut opened: Option<std::fs::File> = None;
    loop {
        SEEN.notified().await;
        if opened.is_none() {
            match std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&file)
            {
                Ok(f) => opened = Some(f),
                Err(e) => {
                    tracing::warn!(file = %file.display(), error = %e,
                        "cannot publish the input clock: backups from a shell will not pace");
                    return;
                }
            }
        }
        if let Some(f) = &opened {
            // One futimens: cheap enough for the runtime, and at most 50 a second.
            let _ = f.set_modified(std::time::SystemTime::now());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Paces this process's backups on the input clock a server publishes in `file` as well
/// (`admin backup` from a shell on the server's host).
pub fn watch(file: PathBuf) {
    let _ = WATCHED.set(file);
}

/// How long ago the newest session input arrived, here or at the watched server; `None`
/// when none has.
fn since_input() -> Option<Duration> {
    let here = match LAST_INPUT.load(Ordering::Relaxed) {
        0 => None,
        at => Some(Duration::from_millis(now_ms().saturating_sub(at - 1))),
    };
    let there = WATCHED
        .get()
        .and_then(|f| std::fs::metadata(f).and_then(|m| m.modified()).ok())
        .map(|at| at.elapsed().unwrap_or_default());
    match (here, there) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// How a backup yields to typing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    /// Input this recent holds the backup back.
    pub quiet: Duration,
    /// The longest a chunk waits.
    pub chunk_max: Duration,
    /// The longest a step that cannot be stopped once started waits.
    pub step_max: Duration,
    /// The longest one run (backup and drill) waits in all.
    pub run_max: Duration,
    /// When this run stops waiting (set by [`Pace::starting_now`]).
    pub until: Option<Instant>,
}

impl Default for Pace {
    /// A clerk's gaps between keys are 0.1–0.3 s; half a second of quiet is a pause in
    /// the work, not between two letters of a name.
    fn default() -> Self {
        Self {
            quiet: Duration::from_millis(500),
            chunk_max: Duration::from_secs(5),
            step_max: Duration::from_secs(60),
            run_max: Duration::from_secs(600),
            until: None,
        }
    }
}

/// What a waiting step does next, from how long ago input arrived and how long it waited.
/// Pure, for the tests.
pub fn next(
    quiet: Duration,
    max: Duration,
    since_input: Option<Duration>,
    waited: Duration,
) -> Option<Duration> {
    let since = since_input?;
    if since >= quiet || waited >= max {
        return None;
    }
    // Sleep until the quiet period would end, or the wait's end, whichever is first; at
    // least a millisecond (no spinning), at most 50 (new input is seen soon).
    let sleep = (quiet - since)
        .min(max - waited)
        .clamp(Duration::from_millis(1), Duration::from_millis(50));
    Some(sleep)
}

impl Pace {
    /// This pace for a run that starts now: its waits end [`Pace::run_max`] from now.
    pub fn starting_now(self) -> Self {
        Self {
            until: Some(Instant::now() + self.run_max),
            ..self
        }
    }

    /// The longest the next wait may be: `max`, or what is left of the run's.
    fn cap(&self, max: Duration) -> Duration {
        self.until.map_or(max, |until| {
            max.min(until.saturating_duration_since(Instant::now()))
        })
    }

    /// Blocks the calling backup thread until the sessions are quiet, at most for a chunk.
    pub fn chunk(pace: Option<Self>) {
        if let Some(p) = pace {
            p.block(p.chunk_max);
        }
    }

    /// Blocks the calling backup thread before a step that cannot be stopped.
    pub fn step(pace: Option<Self>) {
        if let Some(p) = pace {
            p.block(p.step_max);
        }
    }

    /// [`Pace::step`] for async callers.
    pub async fn step_async(pace: Option<Self>) {
        let Some(p) = pace else {
            return;
        };
        let (started, max) = (Instant::now(), p.cap(p.step_max));
        let mut slept = Duration::ZERO;
        while let Some(sleep) = next(p.quiet, max, since_input(), started.elapsed()) {
            tokio::time::sleep(sleep).await;
            slept += sleep;
        }
        count_pause(slept);
    }

    fn block(self, max: Duration) {
        let (started, max) = (Instant::now(), self.cap(max));
        let mut slept = Duration::ZERO;
        while let Some(sleep) = next(self.quiet, max, since_input(), started.elapsed()) {
            std::thread::sleep(sleep);
            slept += sleep;
        }
        count_pause(slept);
    }
}
