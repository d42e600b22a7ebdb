//! `admin backup --to DIR`: pg_dump (custom format) of an exported snapshot, streamed through
//! SHA-256 into the age encryptor and a `.partial` file that is fsynced and renamed; the
//! manifest's row counts and audit chain heads are read in that same snapshot, while the
//! dump runs. Memory stays flat: 1 MiB frames, whatever the database's size.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::container::Writer;
use super::pace::Pace;
use super::priority;
use super::{
    AgeFile, BackupError, CHECKPOINTS_PART, DUMP_PART, EncryptTo, FORMAT, Info, Leftover, Manifest,
    PgClient, io_err, sealed_partial,
};
use crate::db::backups;

/// What a finished backup is.
#[derive(Debug, Clone)]
pub struct Made {
    pub path: PathBuf,
    pub manifest: Manifest,
    pub bytes: u64,
    pub elapsed: Duration,
}

/// Everything a backup reads: the database (through the owner pool and pg_dump), the data
/// dir's audit checkpoint file, and the secrets key's id (never the key).
pub struct Source<'a> {
    pub owner: &'a sqlx::PgPool,
    pub client: PgClient,
    pub data_dir: &'a Path,
    pub keys_dir: &'a Path,
    /// Step aside while sessions type (`backup::pace`); `None`: `--no-pace`.
    pub pace: Option<Pace>,
}

/// Writes one backup into `dir`; the file appears under its final name only when complete
/// and on disk.
pub async fn make(
    src: &Source<'_>,
    dir: &Path,
    key: &EncryptTo,
    progress: bool,
) -> Result<Made, BackupError> {
    let started = Instant::now();
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let created_at = chrono::Utc::now();
    let name = super::file_name(created_at);
    let final_path = dir.join(&name);
    let partial = dir.join(format!(".{name}.partial"));

    let info = Info {
        format: FORMAT,
        packtrack_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at,
        source: src.client.source().to_string(),
        secrets_key_id: secrets_key_id(src.keys_dir),
    };
    let checkpoints = read_checkpoints(src.data_dir)?;

    let pace = src.pace;
    Pace::step_async(pace).await;
    let mut snap = backups::export_snapshot(src.owner).await?;
    let mut dump = src.client.command("pg_dump");
    // Named so that its server backend can be found and lowered (embedded cluster only).
    let app = format!("packtrack-backup-{}", std::process::id());
    dump.env("PGAPPNAME", &app)
        .args(["--format=custom", "--no-password"])
        .arg(format!("--snapshot={}", snap.id))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Started from a lowered thread, pg_dump (and its compression) inherits the priority.
    let mut child = priority::background("pg_dump", move || dump.spawn())
        .await?
        .map_err(|e| BackupError::Setup(format!("cannot run pg_dump: {e}")))?;
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");

    // The encrypting writer runs on its own lowered thread (age and the file are
    // synchronous); the manifest's queries run meanwhile on the snapshot's transaction.
    // The encryptor is made there too: with a passphrase, age runs scrypt (a second of CPU)
    // as it is made, which would otherwise hold one of the runtime's workers.
    let writer = {
        let partial = partial.clone();
        let info = info.clone();
        let key = key.clone();
        priority::background("encrypt", move || {
            Pace::step(pace);
            write_stream(&partial, &key, &info, stdout, progress, pace)
        })
    };
    let stderr_reader = tokio::task::spawn_blocking(move || {
        let mut s = String::new();
        let _ = std::io::BufReader::new(stderr)
            .take(64 << 10)
            .read_to_string(&mut s);
        s
    });
    if src.client.embedded() {
        lower_backends(src.owner, &mut snap.tx, &app).await;
    }
    let queried = async {
        Pace::step_async(pace).await;
        let conn = &mut *snap.tx;
        let heads = super::facility_heads(conn).await?;
        let counts = backups::row_counts(conn).await?;
        let level = backups::migration_level(conn).await?;
        let version = backups::server_version(conn).await?;
        Ok::<_, BackupError>((heads, counts, level, version))
    }
    .await;
    let written = writer.await?;
    let status = child
        .wait()
        .map_err(|e| BackupError::Setup(format!("pg_dump: {e}")))?;
    let dump_err = stderr_reader.await.unwrap_or_default();
    // The snapshot is needed until pg_dump has imported it; it has exited now.
    let _ = snap.tx.rollback().await;
    let fail = |e: BackupError| {
        let _ = std::fs::remove_file(&partial);
        e
    };
    if !status.success() {
        return Err(fail(BackupError::Setup(format!(
            "pg_dump failed ({status}): {}",
            dump_err.trim()
        ))));
    }
    let (heads, counts, level, version) = queried.map_err(fail)?;
    let mut w = written.map_err(fail)?;

    let part_path = partial.clone();
    let finish = move || -> Result<(Manifest, u64), BackupError> {
        let partial = part_path;
        let io = io_err(&partial);
        if let Some(bytes) = checkpoints {
            w.begin(CHECKPOINTS_PART).map_err(io_err(&partial))?;
            w.data(&bytes).map_err(io_err(&partial))?;
            w.end().map_err(io_err(&partial))?;
        }
        let manifest = Manifest {
            info,
            server_version: version,
            migration_level: level,
            facilities: heads,
            row_counts: counts,
            parts: w.parts().to_vec(),
        };
        let age = w.finish(&manifest).map_err(io_err(&partial))?;
        let buf = age.finish().map_err(io_err(&partial))?;
        let file = buf.into_inner().map_err(|e| BackupError::Io {
            path: partial.display().to_string(),
            source: e.into_error(),
        })?;
        file.sync_all().map_err(io)?;
        let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
        Ok((manifest, bytes))
    };
    let (manifest, bytes) = priority::background("finish", finish)
        .await?
        .map_err(fail)?;
    super::publish(&partial, &final_path).map_err(fail)?;
    Ok(Made {
        path: final_path,
        manifest,
        bytes,
        elapsed: started.elapsed(),
    })
}

/// Lowers the snapshot's backend and pg_dump's once it has connected (it does within
/// milliseconds; after a second the backup goes on at normal priority rather than wait).
async fn lower_backends(owner: &sqlx::PgPool, conn: &mut sqlx::PgConnection, app: &str) {
    for _ in 0..50 {
        match backups::backend_pids(owner, conn, app).await {
            Ok(pids) if pids.len() > 1 => {
                pids.into_iter().for_each(priority::lower_process);
                return;
            }
            Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            Err(e) => {
                tracing::debug!(error = %e, "cannot find the backup's backends");
                return;
            }
        }
    }
}

/// pg_dump's output into the container's `database.dump` part, through age into `partial`.
fn write_stream(
    partial: &Path,
    key: &EncryptTo,
    info: &Info,
    mut dump: impl Read,
    progress: bool,
    pace: Option<Pace>,
) -> Result<Writer<AgeFile>, BackupError> {
    let io = |e| io_err(partial)(e);
    let age = sealed_partial(partial, key, Leftover::Refuse)?;
    let mut w = Writer::new(age, info).map_err(io)?;
    w.begin(DUMP_PART).map_err(io)?;
    let mut buf = vec![0u8; super::container::MAX_DATA];
    let show = progress && std::io::stderr().is_terminal();
    let (mut total, mut last) = (0u64, Instant::now());
    loop {
        // Not reading stops pg_dump (and its server backend) on a full pipe.
        Pace::chunk(pace);
        let n = match dump.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(BackupError::Setup(format!("reading pg_dump's output: {e}")));
            }
        };
        w.data(&buf[..n]).map_err(io)?;
        total += n as u64;
        if show && last.elapsed() >= Duration::from_millis(500) {
            last = Instant::now();
            eprint!("\rbackup: {:.1} MiB dumped", total as f64 / 1048576.0);
        }
    }
    if show {
        eprintln!("\rbackup: {:.1} MiB dumped", total as f64 / 1048576.0);
    }
    w.end().map_err(io)?;
    Ok(w)
}

/// The id of the secrets key now sealing values, when the keys dir has a key file (a backup
/// never creates one).
pub(super) fn secrets_key_id(keys_dir: &Path) -> Option<String> {
    let path = crate::secrets::SecretsKey::path(keys_dir);
    if !path.exists() {
        return None;
    }
    crate::secrets::SecretsKey::load_or_create(keys_dir)
        .ok()
        .map(|k| k.id_hex())
}

/// The data dir's audit checkpoint file (bounded: it rotates at 8 MiB).
pub(super) fn read_checkpoints(data_dir: &Path) -> Result<Option<Vec<u8>>, BackupError> {
    let path = data_dir.join(crate::audit_anchor::FILE);
    match std::fs::read(&path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(&path)(e)),
    }
}
