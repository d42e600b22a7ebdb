//! `admin restore --pitr DIR --until TIME|latest`: a new data dir whose database is as it
//! was at TIME. The newest base backup finished by then is unpacked, the archived segments
//! from its start on are decrypted beside it, and the cluster replays them up to TIME and
//! promotes itself. Then the audit chains are walked, as after any restore.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::super::container::{Item, Reader};
use super::super::{BackupError, DecryptWith, io_err, priority};
use super::base::{AUTH_PART, BASE_PART};
use super::{WAL_DIR, WAL_SUFFIX, bases, position};
use crate::db::pg::archive::{self, RecoverTo};
use crate::db::pg::{self, ClusterAuth};
use crate::db::{ClusterOptions, Database, EmbeddedCluster};
use crate::secrets::SecretsKey;

/// The longest a replay may take before the restore gives up (a day of a busy mailroom's
/// WAL replays in minutes).
const REPLAY_LIMIT: Duration = Duration::from_secs(3600);

pub struct Request<'a> {
    /// The backup dir (`serve --backup-dir`), or its `pitr` subdirectory.
    pub dir: &'a Path,
    pub to: RecoverTo,
    pub key: DecryptWith,
    pub data_dir: &'a Path,
    pub keys_dir: &'a Path,
    pub without_secrets_key: bool,
}

#[derive(Debug)]
pub struct Restored {
    pub base: PathBuf,
    pub segments: usize,
    pub to: RecoverTo,
    pub packages: i64,
    pub audit_entries: u64,
    pub elapsed: Duration,
    pub notes: Vec<String>,
}

impl Restored {
    /// The drill's one-line verdict (`admin backup verify --pitr`, and `serve` after each
    /// base backup).
    pub fn verdict(&self) -> String {
        format!(
            "point-in-time archive OK: {} and {} WAL segments replayed to the end, {} \
             packages, {} audit entries intact, in {:.1} s",
            self.base.file_name().unwrap_or_default().to_string_lossy(),
            self.segments,
            self.packages,
            self.audit_entries,
            self.elapsed.as_secs_f64()
        )
    }
}

pub async fn restore(req: Request<'_>) -> Result<Restored, BackupError> {
    let started = Instant::now();
    let dir = pitr_dir(req.dir);
    if req.data_dir.join("postgres").join("PG_VERSION").exists() {
        return Err(BackupError::NotEmpty(format!(
            "refusing to restore: {} already holds a database. Restore into a new --data-dir",
            req.data_dir.display()
        )));
    }
    if let RecoverTo::Time(t) = req.to
        && t > Utc::now()
    {
        return Err(BackupError::Setup(format!(
            "{} UTC is in the future: restore with --until latest for everything archived",
            t.format("%Y-%m-%d %H:%M:%S")
        )));
    }
    let (base, start_segment) = choose_base(&dir, req.to)?;
    let secrets = secrets_key(&req)?;
    std::fs::create_dir_all(req.data_dir).map_err(io_err(req.data_dir))?;

    let (key, file, keys) = (req.key.clone(), base.clone(), secrets.clone());
    let reader = priority::background("decrypt", move || {
        super::mac::check(&keys, &file)?;
        key.open(&file)
    })
    .await??;
    if reader.info().source != super::base::SOURCE {
        return Err(BackupError::Setup(format!(
            "{} is not a base backup for point-in-time recovery",
            base.display()
        )));
    }
    let mut notes = super::super::restore::check_secrets_key(
        reader.info(),
        req.keys_dir,
        req.without_secrets_key,
    )?;
    let (data_dir, to) = (req.data_dir.to_path_buf(), req.to);
    let checkpoints = priority::background("unpack-base", move || unpack(reader, &data_dir, to))
        .await
        .and_then(|r| r);
    let checkpoints = match checkpoints {
        Ok(c) => c,
        Err(e) => {
            remove_cluster(req.data_dir);
            return Err(e);
        }
    };
    let result = replay(&req, &dir, &start_segment, &secrets, started, checkpoints).await;
    match result {
        Ok(mut r) => {
            r.base = base;
            notes.append(&mut r.notes);
            r.notes = notes;
            Ok(r)
        }
        Err(e) => {
            remove_cluster(req.data_dir);
            Err(e)
        }
    }
}

/// The point-in-time drill (`admin backup verify --pitr DIR`): everything archived, restored
/// into a throw-away data dir that is gone when this returns.
pub async fn drill(dir: &Path, key: DecryptWith, keys_dir: &Path) -> Result<Restored, BackupError> {
    let scratch = super::super::verify::Scratch::new()?;
    let data_dir = scratch.path.join("data");
    restore(Request {
        dir,
        to: RecoverTo::Latest,
        key,
        data_dir: &data_dir,
        keys_dir,
        without_secrets_key: false,
    })
    .await
}

/// Segments decrypted, the server started to replay them, waited for, checked.
async fn replay(
    req: &Request<'_>,
    dir: &Path,
    start_segment: &str,
    secrets: &SecretsKey,
    started: Instant,
    checkpoints: Option<Vec<u8>>,
) -> Result<Restored, BackupError> {
    let wal_dir = dir.join(WAL_DIR);
    let into = archive::restore_wal_dir(req.data_dir)?;
    let (key, data_dir, floor) = (
        req.key.clone(),
        req.data_dir.to_path_buf(),
        start_segment[8..].to_string(),
    );
    let (keys_of, secrets) = (dir.to_path_buf(), secrets.clone());
    let segments = priority::background("decrypt-wal", move || {
        let key = super::keys::segment_identities(&keys_of, &key)?;
        unpack_wal(&wal_dir, &into, &floor, &key, &secrets, &data_dir)
    })
    .await??;

    // Started from a lowered thread, the replaying server yields to a serving node's
    // sessions when this is the drill on that host (on a spare host it changes nothing).
    let data_dir = req.data_dir.to_path_buf();
    let cluster = priority::background("cluster", move || {
        EmbeddedCluster::start(&data_dir, ClusterOptions::default())
    })
    .await?
    .map_err(|e| BackupError::Setup(format!("the restored cluster did not start: {e}")))
    .map_err(|e| past_the_end(e, &dir.join(WAL_DIR)))?;
    let cluster = Arc::new(cluster);
    wait_for_promotion(&cluster)
        .await
        .map_err(|e| past_the_end(e, &dir.join(WAL_DIR)))?;
    cluster.finish_recovery()?;

    let db = Database::embedded(cluster.clone(), pg::DATABASE).await?;
    let owner = db.owner_pool().await?;
    let checked = async {
        let mut conn = owner.acquire().await?;
        let counts = crate::db::backups::row_counts(&mut conn).await?;
        drop(conn);
        let entries = match crate::db::audit::verify(&owner).await? {
            Ok(v) => v.entries,
            Err(broken) => return Err(BackupError::Mismatch(broken.to_string())),
        };
        Ok((counts.get("packages").copied().unwrap_or(0), entries))
    }
    .await;
    owner.close().await;
    db.shutdown(Instant::now() + pg::STOP_TIMEOUT).await;
    let (packages, audit_entries) = checked?;

    let mut notes = Vec::new();
    if let Some(bytes) = checkpoints {
        let path = req.data_dir.join(crate::audit_anchor::FILE);
        std::fs::write(&path, bytes).map_err(io_err(&path))?;
    } else {
        notes.push("the base backup carried no audit checkpoints".to_string());
    }
    Ok(Restored {
        base: PathBuf::new(),
        segments,
        to: req.to,
        packages,
        audit_entries,
        elapsed: started.elapsed(),
        notes,
    })
}

/// The secrets key: it authenticates the point-in-time files (`mac`), so unlike a plain
/// restore this one cannot go without it.
fn secrets_key(req: &Request<'_>) -> Result<SecretsKey, BackupError> {
    let path = SecretsKey::path(req.keys_dir);
    if !path.exists() {
        return Err(BackupError::Setup(format!(
            "the secrets key file {} is missing. Point-in-time files are authenticated with \
             it (and their sealed secrets need it): copy the key file from where you keep it \
             into the keys directory and run restore again",
            path.display()
        )));
    }
    if req.without_secrets_key {
        return Err(BackupError::Setup(
            "--without-secrets-key does not apply to --pitr".into(),
        ));
    }
    SecretsKey::load_or_create(req.keys_dir).map_err(|e| BackupError::Setup(e.to_string()))
}

/// The newest base backup finished at or before `to`.
fn choose_base(dir: &Path, to: RecoverTo) -> Result<(PathBuf, String), BackupError> {
    let all = bases(dir);
    let Some((oldest, _, _)) = all.first() else {
        return Err(BackupError::Setup(format!(
            "{} holds no base backup (serve --wal-archive writes them)",
            dir.display()
        )));
    };
    let chosen = match to {
        RecoverTo::Latest => all.last(),
        RecoverTo::Time(t) => all.iter().rev().find(|(at, _, _)| *at <= t),
    };
    match chosen {
        Some((_, seg, path)) => Ok((path.clone(), seg.clone())),
        None => Err(BackupError::Setup(format!(
            "the archive cannot go back that far: its oldest base backup finished at {} UTC",
            oldest.format("%Y-%m-%d %H:%M:%S")
        ))),
    }
}

/// `DIR/pitr` when the backup dir was named, else `DIR` itself.
fn pitr_dir(dir: &Path) -> PathBuf {
    let sub = dir.join(super::DIR);
    if sub.is_dir() { sub } else { dir.to_path_buf() }
}

/// The role passwords, then the tar stream into the data dir, then the checkpoints and the
/// manifest (which vouches for every part's hash).
fn unpack(
    mut reader: Reader<impl Read>,
    data_dir: &Path,
    to: RecoverTo,
) -> Result<Option<Vec<u8>>, BackupError> {
    let expect = |reader: &mut Reader<_>, want: &str| match reader.next_item()? {
        Item::Part(name) if name == want => Ok(()),
        _ => Err(reader.damaged(format!("expected the `{want}` part"))),
    };
    expect(&mut reader, AUTH_PART)?;
    let auth: ClusterAuth = serde_json::from_slice(&reader.read_part_to_vec(64 << 10)?)
        .map_err(|e| reader.damaged(format!("unreadable role passwords: {e}")))?;
    expect(&mut reader, BASE_PART)?;
    let mut part = PartRead {
        reader: &mut reader,
        error: None,
    };
    let unpacked =
        pg::archive::unpack_base(data_dir, flate2::read::GzDecoder::new(&mut part), &auth, to);
    if let Some(e) = part.error.take() {
        return Err(e);
    }
    unpacked?;
    // tar stops at its end marker; the rest of the part is still hashed.
    reader.skip_part()?;
    Ok(reader.checkpoints_then_manifest()?.1)
}

/// A container part as a plain reader; the first error is kept to be reported as itself.
struct PartRead<'a, R: Read> {
    reader: &'a mut Reader<R>,
    error: Option<BackupError>,
}

impl<R: Read> Read for PartRead<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.reader.read_data(buf).map_err(|e| {
            let text = e.to_string();
            self.error.get_or_insert(e);
            std::io::Error::other(text)
        })
    }
}

/// Decrypts every history file and every segment from `floor` on into `into`.
fn unpack_wal(
    wal_dir: &Path,
    into: &Path,
    floor: &str,
    key: &DecryptWith,
    secrets: &SecretsKey,
    data_dir: &Path,
) -> Result<usize, BackupError> {
    let mut names: Vec<String> = std::fs::read_dir(wal_dir)
        .map_err(io_err(wal_dir))?
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(WAL_SUFFIX).map(str::to_string))
        .filter(|n| super::is_archived_name(n))
        .filter(|n| position(n).is_none_or(|p| p >= floor))
        .collect();
    names.sort();
    for name in &names {
        let dest = into.join(name);
        let file = wal_dir.join(format!("{name}{WAL_SUFFIX}"));
        super::mac::check(secrets, &file)?;
        super::ship::unpack_one(&file, &dest, key)?;
        archive::give_to_cluster(data_dir, &dest)?;
    }
    Ok(names.iter().filter(|n| super::is_segment(n)).count())
}

/// Until the server has replayed to its target and promoted itself; a server that stopped
/// instead (the target is past the archive's end, a segment is missing) says why.
async fn wait_for_promotion(cluster: &EmbeddedCluster) -> Result<(), BackupError> {
    let deadline = Instant::now() + REPLAY_LIMIT;
    loop {
        let in_recovery = cluster.in_recovery().await;
        match in_recovery {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            Err(_) if !cluster.is_running() => {
                return Err(BackupError::Setup(format!(
                    "the restored server stopped while replaying: {}",
                    cluster
                        .last_fatal()
                        .unwrap_or_else(|| "no reason in its log".into())
                )));
            }
            Err(_) => {}
        }
        if Instant::now() > deadline {
            return Err(BackupError::Setup(
                "the replay did not finish within an hour".into(),
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// PostgreSQL's "recovery ended before configured recovery target was reached", said for a
/// mailroom: the archive ends before that moment, and where it ends.
fn past_the_end(e: BackupError, wal_dir: &Path) -> BackupError {
    if !e
        .to_string()
        .contains("before configured recovery target was reached")
    {
        return e;
    }
    let last = std::fs::read_dir(wal_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|f| f.metadata().ok()?.modified().ok())
        .max()
        .map(|t| {
            DateTime::<Utc>::from(t)
                .format("%Y-%m-%d %H:%M:%S UTC")
                .to_string()
        });
    BackupError::Setup(format!(
        "the archive ends before that moment (its newest segment arrived {}): restore to an \
         earlier time, or --until latest",
        last.unwrap_or_else(|| "at an unknown time".into())
    ))
}

/// A failed restore leaves the data dir as it found it: no cluster.
fn remove_cluster(data_dir: &Path) {
    for dir in ["postgres", archive::RESTORE_WAL] {
        let _ = std::fs::remove_dir_all(data_dir.join(dir));
    }
    let _ = std::fs::remove_file(data_dir.join("postgres-auth.json"));
}

/// `--until`: `latest`, or an RFC 3339 time (`2026-12-05T14:03:00Z`, `…+01:00`), or
/// `2026-12-05 14:03:00` read as UTC.
pub fn parse_until(text: &str) -> Result<RecoverTo, String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("latest") {
        return Ok(RecoverTo::Latest);
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(t) {
        return Ok(RecoverTo::Time(at.with_timezone(&Utc)));
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S%.f",
    ] {
        if let Ok(at) = chrono::NaiveDateTime::parse_from_str(t, fmt) {
            return Ok(RecoverTo::Time(at.and_utc()));
        }
    }
    Err(format!(
        "`{text}`: expected `latest` or a time such as 2026-12-05T14:03:00Z (UTC unless an \
         offset is given)"
    ))
}
