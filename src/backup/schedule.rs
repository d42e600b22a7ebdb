//! Scheduled backups from `serve` (`--backup-dir DIR --backup-every 24h --backup-keep 14`):
//! each run writes a backup (atomically, like `admin backup`), verifies it by restoring it
//! into a throw-away cluster, and only then removes the oldest files beyond `keep`. A failed
//! run is an error line in the log and a row in `backup_runs` (the scorecard reads it); a
//! backup that fails its drill is renamed `….age.unverified` and never counts as one of the
//! `keep`.
//!
//! The first run is due `every` after the newest backup already in the directory (at once
//! when there is none), so restarting the server neither skips nor repeats backups.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use std::sync::atomic::{AtomicU64, Ordering};

use super::{DecryptWith, EncryptTo, PgClient};

/// Scheduled runs that failed (backup or drill) since the process started: for a
/// `packtrack_backup_failures_total` counter on the metrics endpoint.
static FAILURES: AtomicU64 = AtomicU64::new(0);

pub fn failures() -> u64 {
    FAILURES.load(Ordering::Relaxed)
}

pub struct Schedule {
    pub dir: PathBuf,
    pub every: Duration,
    pub keep: usize,
    pub key: EncryptTo,
    /// What decrypts the new backup for its drill; `None` (a recipient key whose identity is
    /// kept off this host, as it should be) means no drill here and no removal either: the
    /// host that holds the identity runs `admin backup verify` and prunes.
    pub check: Option<DecryptWith>,
    /// Wait for the sessions to be quiet (`pace`); `None`: `serve --backup-no-pace`.
    pub pace: Option<super::pace::Pace>,
}

/// What `serve` hands the scheduler: its own owner pool and client tools.
pub struct Job {
    pub owner: sqlx::PgPool,
    pub client: PgClient,
    pub data_dir: PathBuf,
    pub keys_dir: PathBuf,
    pub schedule: Schedule,
}

/// What one run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Written and verified; `removed` old files pruned.
    Verified {
        file: PathBuf,
        removed: usize,
    },
    /// Written; not verified here (no key to decrypt), nothing pruned.
    Written {
        file: PathBuf,
    },
    Failed(String),
}

/// Runs until `stop` turns true (a run in progress finishes first; it is bounded by the
/// database's size, and the shutdown budget of `serve` does not wait for it).
pub async fn run(job: Job, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut due = first_due(&job.schedule);
    loop {
        let wait = due.duration_since(SystemTime::now()).unwrap_or_default();
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        let (started, paused) = (Instant::now(), super::pace::paused_total());
        let outcome = once(&job).await;
        // How long this run took, and how much of it it waited for the sessions to be quiet.
        let secs = started.elapsed().as_secs_f64();
        let paused = super::pace::paused_total()
            .saturating_sub(paused)
            .as_secs_f64();
        match outcome {
            Outcome::Verified { file, removed } => {
                tracing::info!(
                    file = %file.display(), removed, secs, paused,
                    "scheduled backup verified"
                );
            }
            Outcome::Written { file } => tracing::warn!(
                file = %file.display(), secs, paused,
                "scheduled backup written but not verified (no identity on this host); \
                 old backups are kept until a verified one exists"
            ),
            Outcome::Failed(e) => {
                FAILURES.fetch_add(1, Ordering::Relaxed);
                tracing::error!(error = %e, "scheduled backup failed");
            }
        }
        due = SystemTime::now() + job.schedule.every;
    }
}

/// One scheduled run: backup, drill, prune.
pub async fn once(job: &Job) -> Outcome {
    let s = &job.schedule;
    let src = super::make::Source {
        owner: &job.owner,
        client: job.client.clone(),
        data_dir: &job.data_dir,
        keys_dir: &job.keys_dir,
        pace: s.pace.map(super::pace::Pace::starting_now),
    };
    let started = Instant::now();
    let made = match super::make::make(&src, &s.dir, &s.key, false).await {
        Ok(m) => m,
        Err(e) => {
            let msg = format!("backup failed: {e}");
            super::record_run(&job.owner, "backup", false, None, &msg, started, None).await;
            return Outcome::Failed(msg);
        }
    };
    let name = made.path.display().to_string();
    let packages = Some(made.manifest.packages());
    super::record_run(
        &job.owner,
        "backup",
        true,
        Some(&name),
        &format!("backup written: {name} ({} bytes)", made.bytes),
        started,
        packages,
    )
    .await;
    let Some(check) = &s.check else {
        return Outcome::Written { file: made.path };
    };
    let started = Instant::now();
    match super::verify::verify(&made.path, check.clone(), src.pace).await {
        Ok(v) => {
            super::record_run(
                &job.owner,
                "verify",
                true,
                Some(&name),
                &v.to_string(),
                started,
                packages,
            )
            .await;
            let removed = prune(&s.dir, s.keep, &made.path);
            Outcome::Verified {
                file: made.path,
                removed,
            }
        }
        Err(e) => {
            let msg = format!("backup verify failed: {e}");
            super::record_run(
                &job.owner,
                "verify",
                false,
                Some(&name),
                &msg,
                started,
                None,
            )
            .await;
            let mut bad = made.path.clone().into_os_string();
            bad.push(".unverified");
            let _ = std::fs::rename(&made.path, &bad);
            Outcome::Failed(msg)
        }
    }
}

/// Removes the oldest backups beyond `keep` (never `newest`, the one just verified); names
/// sort by their UTC timestamp.
fn prune(dir: &Path, keep: usize, newest: &Path) -> usize {
    let mut names = backup_names(dir);
    names.sort();
    let excess = names.len().saturating_sub(keep.max(1));
    let mut removed = 0;
    for name in names.into_iter().take(excess) {
        let path = dir.join(&name);
        if path == newest {
            continue;
        }
        match std::fs::remove_file(&path) {
            Ok(()) => removed += 1,
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "cannot remove old backup")
            }
        }
    }
    removed
}

fn backup_names(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| super::is_backup_name(n))
                .collect()
        })
        .unwrap_or_default()
}

fn first_due(s: &Schedule) -> SystemTime {
    backup_names(&s.dir)
        .iter()
        .filter_map(|n| std::fs::metadata(s.dir.join(n)).ok()?.modified().ok())
        .max()
        .map_or_else(SystemTime::now, |newest| newest + s.every)
}

/// `24h`, `30m`, `90s`, `7d` (at least a minute: a backup per second is a mistake).
pub fn parse_every(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{text}`: expected a number and a unit, e.g. 24h"))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" | "" => n * 3600,
        "d" => n * 86400,
        _ => return Err(format!("`{text}`: unit must be s, m, h or d")),
    };
    if secs < 60 {
        return Err(format!("`{text}`: at least 1m"));
    }
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests;
