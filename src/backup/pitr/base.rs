//! A base backup for point-in-time recovery: `pg_basebackup`'s tar stream (WAL left to the
//! archive) in the backup container, with the cluster's role passwords (a restored cluster
//! is only usable with them) and the audit checkpoints; encrypted like every backup and
//! written as a `.partial` file that gets its final name when complete and on disk.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::super::container::{MAX_DATA, Writer};
use super::super::pace::Pace;
use super::super::priority;
use super::super::{
    BackupError, CHECKPOINTS_PART, EncryptTo, FORMAT, Info, Leftover, Manifest, io_err,
    sealed_partial,
};
use crate::db::{EmbeddedCluster, backups};

/// The part holding the cluster's role passwords (`postgres-auth.json`).
pub const AUTH_PART: &str = "postgres-auth.json";
/// The part holding pg_basebackup's tar stream, gzipped by pg_basebackup (level 1: the
/// cluster's files shrink about eightfold for little CPU).
pub const BASE_PART: &str = "base.tar.gz";
/// `Info::source` of a base backup: `verify` and a plain `restore` refuse it by this.
pub const SOURCE: &str = "embedded-base";

pub struct Source<'a> {
    pub owner: &'a sqlx::PgPool,
    pub cluster: &'a EmbeddedCluster,
    pub data_dir: &'a Path,
    pub keys_dir: &'a Path,
    /// Signs the file (`mac`).
    pub secrets: &'a crate::secrets::SecretsKey,
    pub pace: Option<Pace>,
}

#[derive(Debug)]
pub struct Made {
    pub path: PathBuf,
    pub bytes: u64,
    pub elapsed: Duration,
}

pub async fn make(src: &Source<'_>, dir: &Path, key: &EncryptTo) -> Result<Made, BackupError> {
    let started = Instant::now();
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let pace = src.pace;
    Pace::step_async(pace).await;
    // The segment in use now: the backup's own start is in it or a later one, so keeping
    // from here on keeps everything this base needs.
    let mut conn = src.owner.acquire().await?;
    let start_segment = backups::current_wal_segment(&mut conn).await?;
    let heads = super::super::facility_heads(&mut conn).await?;
    let level = backups::migration_level(&mut conn).await?;
    let version = backups::server_version(&mut conn).await?;
    drop(conn);
    let info = Info {
        format: FORMAT,
        packtrack_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: chrono::Utc::now(),
        source: SOURCE.to_string(),
        secrets_key_id: super::super::make::secrets_key_id(src.keys_dir),
    };
    let manifest = Manifest {
        info: info.clone(),
        server_version: version,
        migration_level: level,
        facilities: heads,
        row_counts: Default::default(),
        parts: Vec::new(),
    };
    let auth = serde_json::to_vec(src.cluster.auth())
        .map_err(|e| BackupError::Setup(format!("cannot encode the role passwords: {e}")))?;
    let checkpoints = super::super::make::read_checkpoints(src.data_dir)?;

    let partial = dir.join(format!(
        ".{}{}.partial",
        super::BASE_PREFIX,
        std::process::id()
    ));
    let mut cmd = src.cluster.base_backup_command();
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = priority::background("pg_basebackup", move || cmd.spawn())
        .await?
        .map_err(|e| BackupError::Setup(format!("cannot run pg_basebackup: {e}")))?;
    let stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let stderr_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = (&mut stderr).take(64 << 10).read_to_string(&mut s);
        s
    });
    let written = {
        let partial = partial.clone();
        let key = key.clone();
        priority::background("encrypt-base", move || {
            write_base(
                &partial,
                &key,
                &info,
                &auth,
                stdout,
                checkpoints,
                manifest,
                pace,
            )
        })
        .await
        .and_then(|r| r)
    };
    let status = child
        .wait()
        .map_err(|e| BackupError::Setup(format!("pg_basebackup: {e}")));
    let err_text = stderr_reader.join().unwrap_or_default();
    let fail = |e: BackupError| {
        let _ = std::fs::remove_file(&partial);
        e
    };
    let status = status.map_err(fail)?;
    if !status.success() {
        return Err(fail(BackupError::Setup(format!(
            "pg_basebackup failed ({status}): {}",
            err_text.trim()
        ))));
    }
    let bytes = written.map_err(fail)?;
    let final_path = dir.join(super::base_name(chrono::Utc::now(), &start_segment));
    super::mac::sign(src.secrets, &partial, &final_path).map_err(fail)?;
    super::super::publish(&partial, &final_path).map_err(fail)?;
    Ok(Made {
        path: final_path,
        bytes,
        elapsed: started.elapsed(),
    })
}

/// Removes base backups abandoned half-written by a `serve` that stopped or died during one
/// (each is as large as a base): the `.partial` files of processes no longer running.
pub fn remove_abandoned(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = format!(".{}", super::BASE_PREFIX);
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|n| n.strip_suffix(".partial"))
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new("/proc").join(pid.to_string()).exists() {
            match std::fs::remove_file(e.path()) {
                Ok(()) => {
                    tracing::info!(file = %e.path().display(), "removed an abandoned base backup")
                }
                Err(err) => {
                    tracing::warn!(file = %e.path().display(), error = %err, "cannot remove an abandoned base backup")
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn write_base(
    partial: &Path,
    key: &EncryptTo,
    info: &Info,
    auth: &[u8],
    mut tar: impl Read,
    checkpoints: Option<Vec<u8>>,
    mut manifest: Manifest,
    pace: Option<Pace>,
) -> Result<u64, BackupError> {
    let io = |e| io_err(partial)(e);
    let age = sealed_partial(partial, key, Leftover::Refuse)?;
    let mut w = Writer::new(age, info).map_err(io)?;
    w.begin(AUTH_PART).map_err(io)?;
    w.data(auth).map_err(io)?;
    w.end().map_err(io)?;
    w.begin(BASE_PART).map_err(io)?;
    let mut buf = vec![0u8; MAX_DATA];
    loop {
        Pace::chunk(pace);
        let n = match tar.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(BackupError::Setup(format!(
                    "reading pg_basebackup's output: {e}"
                )));
            }
        };
        w.data(&buf[..n]).map_err(io)?;
    }
    w.end().map_err(io)?;
    if let Some(bytes) = checkpoints {
        w.begin(CHECKPOINTS_PART).map_err(io)?;
        w.data(&bytes).map_err(io)?;
        w.end().map_err(io)?;
    }
    manifest.parts = w.parts().to_vec();
    let age = w.finish(&manifest).map_err(io)?;
    let buf = age.finish().map_err(io)?;
    let file = buf.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    Ok(file.metadata().map(|m| m.len()).unwrap_or(0))
}
