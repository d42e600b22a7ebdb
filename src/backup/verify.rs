//! `admin backup verify FILE`, the restore drill: decrypt, check every part's hash, restore
//! into a throw-away private cluster, compare row counts and audit chain heads with the
//! manifest, migrate to the current level and verify every audit chain. Also the streaming
//! restore itself, which `restore` shares.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::container::{Item, Reader};
use super::pace::Pace;
use super::priority;
use super::{BackupError, DUMP_PART, DecryptWith, Manifest, PgClient, compare};
use crate::db::{ClusterOptions, Database, EmbeddedCluster, backups, pg};

/// A backup that decrypted, matched its manifest and restored.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub file: PathBuf,
    pub manifest: Manifest,
    /// pg_restore plus the checks.
    pub restore_time: Duration,
    pub audit_entries: u64,
    /// Things the operator should know (restore: keys, checkpoint file).
    pub notes: Vec<String>,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let m = &self.manifest;
        write!(
            f,
            "backup OK: {} (taken {}), {} facilities, {} packages, {} audit entries intact, \
             migration {}; restored and verified in {:.1} s",
            self.file.display(),
            m.info.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
            m.facilities.len(),
            m.packages(),
            self.audit_entries,
            m.migration_level,
            self.restore_time.as_secs_f64()
        )
    }
}

/// The whole drill; the throw-away cluster is gone when this returns.
pub async fn verify(
    file: &Path,
    key: DecryptWith,
    pace: Option<Pace>,
) -> Result<Verdict, BackupError> {
    let started = Instant::now();
    let scratch = Scratch::new()?;
    let root = scratch.path.clone();
    // The throw-away cluster's initdb and the header's scrypt (about a second each) overlap.
    let (reader, cluster) = tokio::join!(
        open_blocking(file, key, pace),
        // Started from a lowered thread, the throw-away postmaster and its backends (the
        // restore's CPU) yield to a serving node's sessions.
        priority::background("cluster", move || {
            Pace::step(pace);
            EmbeddedCluster::start(&root, ClusterOptions::throwaway())
        })
    );
    let cluster = Arc::new(cluster??);
    let reader = match reader {
        Ok(r) => r,
        Err(e) => {
            let c = cluster.clone();
            let _ = tokio::task::spawn_blocking(move || c.stop()).await;
            return Err(e);
        }
    };
    let result = async {
        let db = Database::embedded(cluster.clone(), pg::DATABASE).await?;
        let owner = db.owner_pool().await?;
        let out = restore_and_check(&db, &owner, reader, pace).await;
        owner.close().await;
        out
    }
    .await;
    // Stop the throw-away server before its directory goes.
    let c = cluster.clone();
    let _ = tokio::task::spawn_blocking(move || c.stop()).await;
    drop(cluster);
    drop(scratch);
    let (manifest, _, audit_entries) = result?;
    Ok(Verdict {
        file: file.to_path_buf(),
        manifest,
        restore_time: started.elapsed(),
        audit_entries,
        notes: Vec::new(),
    })
}

/// Opens the file and reads the age header on a blocking thread (scrypt takes a second).
pub(crate) async fn open_blocking(
    file: &Path,
    key: DecryptWith,
    pace: Option<Pace>,
) -> Result<Reader<impl Read + Send + use<>>, BackupError> {
    let f = file.to_path_buf();
    priority::background("decrypt", move || {
        Pace::step(pace);
        let reader = key.open(&f)?;
        if reader.info().source == super::pitr::base::SOURCE {
            return Err(BackupError::Setup(format!(
                "{} is a base backup for point-in-time recovery: restore it with \
                 `admin restore --pitr DIR --until TIME`",
                f.display()
            )));
        }
        Ok(reader)
    })
    .await?
}

/// pg_restore into `db` (empty), then the checks. Returns the manifest, the checkpoint file
/// the backup carried, and the number of audit entries verified.
pub(crate) async fn restore_and_check(
    db: &Database,
    owner: &sqlx::PgPool,
    reader: Reader<impl Read + Send + 'static>,
    pace: Option<Pace>,
) -> Result<(Manifest, Option<Vec<u8>>, u64), BackupError> {
    let client = PgClient::of(db);
    let (manifest, checkpoints) =
        priority::background("restore", move || stream_into(reader, &client, pace)).await??;
    // Counts and heads first, as restored (the snapshot's state); migrations may add rows.
    Pace::step_async(pace).await;
    let mut conn = owner.acquire().await?;
    let counts = backups::row_counts(&mut conn).await?;
    let heads = super::facility_heads(&mut conn).await?;
    drop(conn);
    compare(&manifest, &counts, &heads)?;
    Pace::step_async(pace).await;
    crate::db::MIGRATOR
        .run(owner)
        .await
        .map_err(|e| BackupError::Db(e.into()))?;
    Pace::step_async(pace).await;
    let entries = match crate::db::audit::verify(owner).await? {
        Ok(v) => v.entries,
        Err(broken) => return Err(BackupError::Mismatch(broken.to_string())),
    };
    Ok((manifest, checkpoints, entries))
}

/// Feeds the `database.dump` part to `pg_restore` as it decrypts; reads the other parts and
/// the manifest. Any error stops pg_restore, whose single transaction then rolls back: the
/// target is left as empty as it was.
fn stream_into(
    mut reader: Reader<impl Read>,
    client: &PgClient,
    pace: Option<Pace>,
) -> Result<(Manifest, Option<Vec<u8>>), BackupError> {
    match reader.next_item()? {
        Item::Part(name) if name == DUMP_PART => {}
        _ => return Err(reader.damaged(format!("expected the `{DUMP_PART}` part first"))),
    }
    let mut cmd: Command = client.command("pg_restore");
    cmd.args([
        "--no-password",
        // Objects belong to whoever restores (the owner role here, whatever it was called
        // where the dump was taken); grants to packtrack_app stay.
        "--no-owner",
        "--exit-on-error",
        "--single-transaction",
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| BackupError::Setup(format!("cannot run pg_restore: {e}")))?;
    let mut stdin = child.stdin.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let errors = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::BufReader::new(stderr)
            .take(64 << 10)
            .read_to_string(&mut s);
        s
    });
    // A pipe's worth at a time: small enough that a paced drill stops within milliseconds.
    let mut buf = vec![0u8; 64 << 10];
    let fed: Result<(), BackupError> = loop {
        // Holding back the next chunk stops pg_restore and its backend on empty pipes.
        Pace::chunk(pace);
        let n = match reader.read_data(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => n,
            Err(e) => break Err(e),
        };
        if stdin.write_all(&buf[..n]).is_err() {
            // pg_restore stopped reading: its error says why.
            break Ok(());
        }
    };
    if let Err(e) = fed {
        let _ = child.kill();
        let _ = child.wait();
        return Err(e);
    }
    drop(stdin);
    let status = child
        .wait()
        .map_err(|e| BackupError::Setup(format!("pg_restore: {e}")))?;
    let msg = errors.join().unwrap_or_default();
    if !status.success() {
        return Err(BackupError::Setup(format!(
            "pg_restore failed ({status}): {}",
            msg.trim()
        )));
    }
    reader.checkpoints_then_manifest()
}

/// A private temporary directory for the throw-away cluster, removed on drop. Short
/// (socket paths are limited) and traversable, so the cluster can run as `postgres` when
/// packtrack runs as root.
pub(crate) struct Scratch {
    pub(crate) path: PathBuf,
}

impl Scratch {
    pub(crate) fn new() -> Result<Self, BackupError> {
        use std::os::unix::fs::PermissionsExt;
        let path = std::env::temp_dir().join(format!(
            "packtrack-drill-{}-{}",
            std::process::id(),
            crate::secrets::random_token(8)
        ));
        std::fs::create_dir(&path).map_err(super::io_err(&path))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o711))
            .map_err(super::io_err(&path))?;
        Ok(Self { path })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
