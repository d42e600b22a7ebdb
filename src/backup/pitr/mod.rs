//! Point-in-time recovery for the embedded cluster (`serve --backup-dir DIR --wal-archive`,
//! `admin restore --pitr DIR --until TIME`; docs/BACKUP.md).
//!
//! The nightly logical backup alone loses everything since it was taken. With archiving on,
//! `BACKUP_DIR/pitr/` also holds:
//!
//! ```text
//! packtrack-base-<finished UTC>-<first WAL segment>.age   pg_basebackup's tar stream in
//!                                                        the backup container (+ role
//!                                                        passwords, audit checkpoints)
//! wal/<segment>.gz.age                                   every archived WAL segment,
//!                                                        gzipped, then age-encrypted
//! <file>.mac                                             who made it (`mac`)
//! ```
//!
//! PostgreSQL cuts a segment at least every `archive_timeout` (60 s) while anything is
//! written, and the shipper moves it within seconds: the recovery point is about a minute
//! old. Base backups follow `--backup-every`; `--backup-keep` of them stay, and segments
//! older than the oldest kept base go with it.
//!
//! Here: names and the loop `serve` runs; `ship` (segments), `base` (base backups),
//! `restore` (a new data dir at a chosen moment).

pub mod base;
pub mod keys;
pub mod mac;
pub mod restore;
pub mod ship;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, NaiveDateTime, Utc};

use super::EncryptTo;
use crate::db::EmbeddedCluster;

/// The subdirectory of the backup dir.
pub const DIR: &str = "pitr";
/// The subdirectory of [`DIR`] holding the segments.
pub const WAL_DIR: &str = "wal";
pub const BASE_PREFIX: &str = "packtrack-base-";
/// Suffix of an archived segment.
pub const WAL_SUFFIX: &str = ".gz.age";
/// How often the outbox is emptied into the backup dir.
pub const SHIP_EVERY: Duration = Duration::from_secs(5);
/// After a failed base backup, the next try.
const BASE_RETRY: Duration = Duration::from_secs(600);

static SHIPPED: AtomicU64 = AtomicU64::new(0);
static FAILURES: AtomicU64 = AtomicU64::new(0);
static WAITING: AtomicU64 = AtomicU64::new(0);

/// Segments shipped since the process started (`packtrack_wal_segments_shipped_total`).
pub fn shipped() -> u64 {
    SHIPPED.load(Ordering::Relaxed)
}

/// Archived files left in the data dir's outbox after the last pass
/// (`packtrack_wal_outbox_files`): above a few, shipping is failing and the data dir's disk
/// is filling with WAL.
pub fn waiting() -> u64 {
    WAITING.load(Ordering::Relaxed)
}

/// Failed ship or base backup attempts (`packtrack_wal_archive_failures_total`).
pub fn failures() -> u64 {
    FAILURES.load(Ordering::Relaxed)
}

/// `packtrack-base-20261205T150110.456Z-000000010000000000000003.age`
pub fn base_name(finished: DateTime<Utc>, start_segment: &str) -> String {
    format!(
        "{BASE_PREFIX}{}-{start_segment}{}",
        finished.format("%Y%m%dT%H%M%S%.3fZ"),
        super::FILE_SUFFIX
    )
}

/// A base backup file's finishing time and first segment, from its name.
pub fn parse_base_name(name: &str) -> Option<(DateTime<Utc>, String)> {
    let rest = name
        .strip_prefix(BASE_PREFIX)?
        .strip_suffix(super::FILE_SUFFIX)?;
    let (at, segment) = rest.split_once('-')?;
    let at = NaiveDateTime::parse_from_str(at, "%Y%m%dT%H%M%S%.3fZ").ok()?;
    is_segment(segment).then(|| (at.and_utc(), segment.to_string()))
}

/// The base backups in `dir`, oldest first.
pub fn bases(dir: &Path) -> Vec<(DateTime<Utc>, String, PathBuf)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| {
                    let name = e.file_name().into_string().ok()?;
                    let (at, seg) = parse_base_name(&name)?;
                    Some((at, seg, e.path()))
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// A WAL segment's name: timeline and segment number, 24 hex digits.
pub fn is_segment(name: &str) -> bool {
    name.len() == 24 && name.bytes().all(|b| b.is_ascii_hexdigit())
}

/// What PostgreSQL archives: segments, a backup's `SEGMENT.OFFSET.backup` label and a
/// timeline's `TTTTTTTT.history`. Anything else in the outbox is not ours to ship.
pub fn is_archived_name(name: &str) -> bool {
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    if is_segment(name) {
        return true;
    }
    if let Some(tli) = name.strip_suffix(".history") {
        return hex(tli, 8);
    }
    if let Some(label) = name.strip_suffix(".backup") {
        return label
            .split_once('.')
            .is_some_and(|(seg, off)| is_segment(seg) && hex(off, 8));
    }
    false
}

/// The position of a segment (or a backup label) in the WAL, whatever its timeline: the
/// last 16 hex digits of its segment name. `None` for history files (always kept).
pub fn position(name: &str) -> Option<&str> {
    let seg = name.get(..24).filter(|s| is_segment(s))?;
    Some(&seg[8..])
}

/// What `serve` hands the archiver.
pub struct Job {
    pub owner: sqlx::PgPool,
    pub cluster: Arc<EmbeddedCluster>,
    pub data_dir: PathBuf,
    pub keys_dir: PathBuf,
    /// `BACKUP_DIR/pitr`.
    pub dir: PathBuf,
    pub every: Duration,
    pub keep: usize,
    pub key: EncryptTo,
    /// Authenticates every file written (`mac`).
    pub secrets: crate::secrets::SecretsKey,
    /// What decrypts the archive for the drill after each base backup; `None` (only a
    /// recipient key on this host): no drill here, and nothing pruned.
    pub check: Option<super::DecryptWith>,
    pub pace: Option<super::pace::Pace>,
}

/// Ships segments every few seconds and takes a base backup when one is due, until `stop`.
/// Whatever is in progress then (a pass, a base backup, its drill) is abandoned, and the
/// returned [`Finish`] does the rest once `serve` has written its last rows.
pub async fn run(job: Job, mut stop: tokio::sync::watch::Receiver<bool>) -> Finish {
    base::remove_abandoned(&job.dir);
    let mut base_due = first_base_due(&job.dir, job.every);
    let mut last_error = String::new();
    let mut segment_key = None;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(SHIP_EVERY) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            break;
        }
        // A pass starved on a busy host must not hold up the stop: its thread finishes on
        // its own, and the last pass waits for it (`ship::ship` runs one pass at a time).
        let stopped = tokio::select! {
            _ = ship_now(&job, &mut segment_key, &mut last_error, Pass::Serving) => false,
            _ = stop.changed() => true,
        };
        if stopped {
            break;
        }
        if SystemTime::now() < base_due {
            continue;
        }
        match new_base(&job, &mut stop, &mut segment_key, &mut last_error).await {
            Some(next) => base_due = next,
            None => break,
        }
    }
    Finish {
        job,
        segment_key,
        last_error,
        cut: None,
    }
}

/// A base backup, shipped WAL up to its end, its drill, then the prune. Returns when the
/// next one is due, or `None` when `stop` came first.
async fn new_base(
    job: &Job,
    stop: &mut tokio::sync::watch::Receiver<bool>,
    segment_key: &mut Option<EncryptTo>,
    last_error: &mut String,
) -> Option<SystemTime> {
    let src = base::Source {
        owner: &job.owner,
        cluster: &job.cluster,
        data_dir: &job.data_dir,
        keys_dir: &job.keys_dir,
        secrets: &job.secrets,
        pace: job.pace.map(super::pace::Pace::starting_now),
    };
    let started = std::time::Instant::now();
    // A stop during a base backup or its drill abandons them (a base's `.partial` file never
    // gets a final name, and is removed at the next start) so that the last cut still fits
    // in the stop's deadline.
    let made = tokio::select! {
        made = base::make(&src, &job.dir, &job.key) => made,
        _ = stop.changed() => return None,
    };
    let made = match made {
        Ok(made) => made,
        Err(e) => {
            FAILURES.fetch_add(1, Ordering::Relaxed);
            tracing::error!(error = %e, "base backup for point-in-time recovery failed");
            let detail = format!("base backup failed: {e}");
            record(job, false, None, &detail, started).await;
            return Some(SystemTime::now() + BASE_RETRY.min(job.every));
        }
    };
    let name = made.path.display().to_string();
    tracing::info!(
        file = %name, bytes = made.bytes, secs = made.elapsed.as_secs_f64(),
        "base backup for point-in-time recovery written"
    );
    let detail = format!("base backup written: {name} ({} bytes)", made.bytes);
    record(job, true, Some(&name), &detail, started).await;
    let next = Some(SystemTime::now() + job.every);
    let Some(check) = &job.check else {
        tracing::warn!(
            "base backup not drilled here (no identity on this host); older bases and their \
             WAL are kept until `admin backup verify --pitr` passes where the identity is"
        );
        return next;
    };
    // The WAL up to the base's end was archived before pg_basebackup returned; shipped now,
    // the drill can replay through it.
    ship_now(job, segment_key, last_error, Pass::Serving).await;
    let started = std::time::Instant::now();
    let drilled = tokio::select! {
        drilled = restore::drill(&job.dir, check.clone(), &job.keys_dir) => drilled,
        _ = stop.changed() => return None,
    };
    match drilled {
        Ok(r) => {
            let removed = prune(&job.dir, job.keep);
            let line = r.verdict();
            tracing::info!(removed, "{line}");
            record(job, true, Some(&name), &line, started).await;
        }
        Err(e) => {
            FAILURES.fetch_add(1, Ordering::Relaxed);
            let line = format!(
                "point-in-time drill of the new base failed: {e}; {}",
                after_failed_drill(&job.dir, &made.path)
            );
            tracing::error!("{line}");
            record(job, false, Some(&name), &line, started).await;
        }
    }
    next
}

/// What a failed drill does to the base just written, said for the log and the Security
/// tab. The drill restores the newest base in the dir; when that is not the one just
/// written, a file was put there (a base is only named by this loop), and it is the planted
/// file that failed: the new base stays, and nothing is pruned either way.
fn after_failed_drill(dir: &Path, made: &Path) -> String {
    match bases(dir).last() {
        Some((_, _, newest)) if newest != made => format!(
            "the newest base in the backup dir is not the one just written but {}: was it \
             put there? The new base and the older ones are kept",
            newest.display()
        ),
        _ => format!(
            "it is set aside as {} and the older bases are kept",
            set_aside(made).display()
        ),
    }
}

/// Renames a base that failed its drill (and its MAC) to `….unverified`: restores and the
/// prune no longer count it, and it stays for a look.
pub fn set_aside(base: &Path) -> PathBuf {
    let bad = |p: &Path| {
        let mut s = p.as_os_str().to_owned();
        s.push(".unverified");
        PathBuf::from(s)
    };
    let mac = mac::sidecar(base);
    let _ = std::fs::rename(&mac, bad(&mac));
    let aside = bad(base);
    let _ = std::fs::rename(base, &aside);
    aside
}

/// The end of WAL archiving at a clean stop, in two steps around the cluster's own stop, so
/// that the backup dir holds everything up to it:
/// 1. [`Finish::cut`], after `serve`'s last writes (the audit checkpoint): the segment in
///    use is closed and handed to the archiver;
/// 2. [`Finish::ship`], after the cluster stopped: what the archiver finished goes to the
///    backup dir. PostgreSQL itself closes and archives the segment in use when it shuts
///    down with archiving on, so rows written after the cut (seen: a session's last
///    audit rows) are not left behind; when the cluster stays up for another packtrack
///    process, the cut is what gets the last rows out.
pub struct Finish {
    job: Job,
    segment_key: Option<EncryptTo>,
    last_error: String,
    /// The segment the cut closed.
    cut: Option<String>,
}

impl Finish {
    /// Closes the segment in use (`pg_switch_wal`).
    pub async fn cut(&mut self) {
        let cut = self.job.cluster.switch_wal().await;
        match cut {
            Ok(name) => self.cut = Some(name),
            Err(e) => tracing::warn!(error = %e, "cannot cut the last WAL segment at shutdown"),
        }
    }

    /// Ships the outbox at normal priority until the cut segment has arrived (one pass when
    /// there was no cut); `serve` bounds the wait.
    pub async fn ship(mut self) {
        let started = std::time::Instant::now();
        let shipped = self.cut.as_ref().map(|name| {
            self.job
                .dir
                .join(WAL_DIR)
                .join(format!("{name}{WAL_SUFFIX}"))
        });
        loop {
            let (job, key, err) = (&self.job, &mut self.segment_key, &mut self.last_error);
            ship_now(job, key, err, Pass::Stopping).await;
            if shipped.as_ref().is_none_or(|p| p.exists()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let left = ship::waiting(&self.job.cluster.outbox());
        tracing::info!(
            cut = self.cut.as_deref().unwrap_or("none"),
            left,
            ms = started.elapsed().as_millis() as u64,
            "archived WAL shipped at the stop"
        );
    }
}

/// Who a pass over the outbox yields to.
#[derive(Clone, Copy)]
enum Pass {
    /// Beside the sessions: lowered like every backup, it waits while they type.
    Serving,
    /// The last pass of a stopping `serve`: no session is left, and the stop's deadline
    /// is near. Lowered on a busy host, it missed the deadline and left the segment behind.
    Stopping,
}

impl Pass {
    async fn run<T, F>(self, work: F) -> Result<T, super::BackupError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        match self {
            Pass::Serving => super::priority::background("ship-wal", work).await,
            Pass::Stopping => super::priority::foreground("ship-wal", work).await,
        }
    }
}

/// One pass over the outbox; an error is logged once until it changes or clears.
async fn ship_now(
    job: &Job,
    segment_key: &mut Option<EncryptTo>,
    last_error: &mut String,
    pass: Pass,
) {
    let (outbox, dir) = (job.cluster.outbox(), job.dir.clone());
    let (key, known, secrets) = (job.key.clone(), segment_key.clone(), job.secrets.clone());
    let work = move || {
        let key = match known {
            Some(k) => k,
            None => keys::segment_key(&dir, &key)?,
        };
        let n = ship::ship(&outbox, &dir.join(WAL_DIR), &key, &secrets)?;
        Ok::<_, super::BackupError>((n, key))
    };
    let result = pass.run(work).await.and_then(|r| r);
    let waiting = ship::waiting(&job.cluster.outbox());
    WAITING.store(waiting as u64, Ordering::Relaxed);
    match result {
        Ok((n, key)) => {
            *segment_key = Some(key);
            SHIPPED.fetch_add(n as u64, Ordering::Relaxed);
            if !last_error.is_empty() {
                tracing::info!(shipped = n, "archived WAL is reaching the backup dir again");
                last_error.clear();
                let detail = "archived WAL reaches the backup dir again";
                record(job, true, None, detail, std::time::Instant::now()).await;
            }
        }
        Err(e) => {
            FAILURES.fetch_add(1, Ordering::Relaxed);
            let text = e.to_string();
            if *last_error != text {
                tracing::error!(
                    error = %text, waiting,
                    "cannot ship archived WAL to the backup dir; it waits in the data dir"
                );
                let detail = format!("cannot ship archived WAL: {text}");
                record(job, false, None, &detail, std::time::Instant::now()).await;
                *last_error = text;
            }
        }
    }
}

/// A `wal` row in `backup_runs`: the Security tab's "WAL archive" line.
async fn record(
    job: &Job,
    ok: bool,
    file: Option<&str>,
    detail: &str,
    started: std::time::Instant,
) {
    super::record_run(&job.owner, "wal", ok, file, detail, started, None).await;
}

/// At once when there is no base backup yet; else `every` after the newest.
fn first_base_due(dir: &Path, every: Duration) -> SystemTime {
    bases(dir).last().map_or(SystemTime::now(), |(at, _, _)| {
        SystemTime::from(*at) + every
    })
}

/// Keeps the newest `keep` base backups, and the segments from the oldest kept base's first
/// one on. Returns how many files went.
pub fn prune(dir: &Path, keep: usize) -> usize {
    let all = bases(dir);
    let excess = all.len().saturating_sub(keep.max(1));
    let mut removed = 0;
    for (_, _, path) in &all[..excess] {
        let _ = std::fs::remove_file(mac::sidecar(path));
        match std::fs::remove_file(path) {
            Ok(()) => removed += 1,
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "cannot remove an old base backup")
            }
        }
    }
    let Some((oldest_at, oldest_kept, _)) = all.get(excess) else {
        return removed;
    };
    removed += keys::prune(dir, *oldest_at);
    let floor = &oldest_kept[8..];
    let wal = dir.join(WAL_DIR);
    for entry in std::fs::read_dir(&wal).into_iter().flatten().flatten() {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let Some(archived) = name.strip_suffix(WAL_SUFFIX) else {
            continue;
        };
        if position(archived).is_some_and(|p| p < floor) {
            let _ = std::fs::remove_file(mac::sidecar(&entry.path()));
            match std::fs::remove_file(entry.path()) {
                Ok(()) => removed += 1,
                Err(e) => {
                    tracing::warn!(file = %name, error = %e, "cannot remove an old WAL segment")
                }
            }
        }
    }
    removed
}

#[cfg(test)]
mod tests;
