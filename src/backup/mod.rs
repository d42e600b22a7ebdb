//! Encrypted, verified backups (issue 18; docs/BACKUP.md).
//!
//! A backup is one file, `packtrack-backup-<UTC time>.age`: an [age] stream (passphrase via
//! scrypt, or an X25519 recipient so the host that makes backups cannot read them) around a
//! container written in one pass:
//!
//! ```text
//! MAGIC
//! I <json: Info>             what is known before the dump starts (secrets key id, …)
//! P <part name>              then D <bytes> (≤ 1 MiB each) … then
//! E <size u64><sha256>       for each part: `database.dump` (pg_dump -Fc) and, when the
//!                            data dir has one, `audit-checkpoints`
//! M <json: Manifest>         per-part sizes and hashes, migration level, facilities with
//!                            their audit chain heads, row counts — all from one snapshot
//! Z                          end
//! ```
//!
//! Each frame is a tag byte and a big-endian u32 length. age's STREAM construction
//! authenticates every 64 KiB chunk and the end of the stream, so a flipped bit or a cut-off
//! file fails while reading; the reader always knows which part it was in, and says so. The
//! per-part SHA-256 in the manifest is checked as well (and is what a manifest printed by
//! `verify` vouches for).
//!
//! The secrets key (which seals TOTP seeds and integration secrets) is never in a backup;
//! its id is, so `restore` can say which key file it needs.
//!
//! [age]: https://age-encryption.org/v1

pub mod container;
pub mod make;
pub mod pace;
pub mod pitr;
mod priority;
pub mod restore;
pub mod schedule;
pub mod verify;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use age::secrecy::SecretString;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::db::Database;
use crate::error::DbError;

/// The name of the part holding `pg_dump -Fc`.
pub const DUMP_PART: &str = "database.dump";
/// The name of the part holding the data dir's audit checkpoint file.
pub const CHECKPOINTS_PART: &str = "audit-checkpoints";
/// Backup file names: this prefix, a UTC timestamp, this suffix.
pub const FILE_PREFIX: &str = "packtrack-backup-";
pub const FILE_SUFFIX: &str = ".age";
/// Version of the container and manifest.
pub const FORMAT: u32 = 1;
/// scrypt work factors above this (2^22, a few seconds) are refused when decrypting: a
/// crafted file must not make `verify` spin for minutes. age's own default for a decrypting
/// machine is what it can do in about a second, which refuses a backup written on a faster
/// host.
const MAX_SCRYPT_LOG_N: u8 = 22;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Setup(String),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A wrong passphrase or identity: nothing was read past the header.
    #[error("{0}")]
    WrongKey(String),
    /// The file does not decrypt or does not match its manifest; `part` names where.
    #[error("backup refused: part `{part}`: {reason}")]
    Damaged { part: String, reason: String },
    /// Decrypted and intact, but the restored database is not what the manifest says.
    #[error("backup refused: {0}")]
    Mismatch(String),
    /// `restore` found a database that is not empty.
    #[error("{0}")]
    NotEmpty(String),
}

impl From<sqlx::Error> for BackupError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(DbError::Sql(e))
    }
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Written first: what `restore` must know before it touches the target.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Info {
    pub format: u32,
    pub packtrack_version: String,
    pub created_at: DateTime<Utc>,
    /// `embedded` or `external`.
    pub source: String,
    /// Id of the secrets key that sealed the stored secrets (`None`: no key file found).
    pub secrets_key_id: Option<String>,
}

/// Written last, after every part: what the backup holds and how to check it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub info: Info,
    /// `server_version` of the database that was dumped.
    pub server_version: String,
    /// The newest applied migration.
    pub migration_level: i64,
    pub facilities: Vec<FacilityHead>,
    /// Rows per table of the `public` schema, counted in the dump's snapshot.
    pub row_counts: BTreeMap<String, i64>,
    pub parts: Vec<PartInfo>,
}

/// A facility and the newest entry of its audit chain (`None`: no entry yet).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FacilityHead {
    pub id: i64,
    pub slug: String,
    pub head_seq: Option<i64>,
    /// Hex SHA-256 of the head entry.
    pub head_hash: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PartInfo {
    pub name: String,
    pub size: u64,
    /// Hex SHA-256 of the part's bytes.
    pub sha256: String,
}

impl Manifest {
    pub fn packages(&self) -> i64 {
        self.row_counts.get("packages").copied().unwrap_or(0)
    }
}

/// How a backup is encrypted.
#[derive(Clone)]
pub enum EncryptTo {
    Passphrase(SecretString),
    /// An age X25519 public key (`age1…`).
    Recipient(age::x25519::Recipient),
}

impl EncryptTo {
    pub fn recipient(text: &str) -> Result<Self, BackupError> {
        text.trim()
            .parse::<age::x25519::Recipient>()
            .map(Self::Recipient)
            .map_err(|e| BackupError::Setup(format!("--recipient: not an age public key: {e}")))
    }

    fn encryptor(&self) -> age::Encryptor {
        match self {
            Self::Passphrase(p) => age::Encryptor::with_user_passphrase(p.clone()),
            Self::Recipient(r) => {
                age::Encryptor::with_recipients(std::iter::once(r as &dyn age::Recipient))
                    .expect("one X25519 recipient is a valid recipient set")
            }
        }
    }
}

/// An age stream into a backup file being written.
pub(crate) type AgeFile = age::stream::StreamWriter<std::io::BufWriter<std::fs::File>>;

/// What a `.partial` file left by an earlier writer means.
#[derive(Clone, Copy)]
pub(crate) enum Leftover {
    /// Its name is this writer's alone (a timestamp or the process id): a leftover is an
    /// error, never overwritten.
    Refuse,
    /// Its name is fixed by what it holds (a WAL segment shipped again after a crash): it
    /// is emptied.
    Replace,
}

/// The 0600 `.partial` file every backup file is written through, encrypted to `key`; it
/// gets its final name only when complete and synced, so a half file never has one.
pub(crate) fn sealed_partial(
    partial: &Path,
    key: &EncryptTo,
    leftover: Leftover,
) -> Result<AgeFile, BackupError> {
    use std::os::unix::fs::OpenOptionsExt;
    let io = |e| io_err(partial)(e);
    let mut open = std::fs::OpenOptions::new();
    open.write(true).mode(0o600);
    match leftover {
        Leftover::Refuse => open.create_new(true),
        Leftover::Replace => open.create(true).truncate(true),
    };
    let file = open.open(partial).map_err(io)?;
    key.encryptor()
        .wrap_output(std::io::BufWriter::with_capacity(1 << 20, file))
        .map_err(io)
}

/// How a backup is decrypted.
#[derive(Clone)]
pub enum DecryptWith {
    Passphrase(SecretString),
    /// age identities (`AGE-SECRET-KEY-1…`), read from an identity file.
    Identities(Vec<age::x25519::Identity>),
}

impl DecryptWith {
    /// Reads an age identity file: `AGE-SECRET-KEY-1…` lines; `#` comments and blank lines
    /// skipped.
    pub fn identity_file(path: &Path) -> Result<Self, BackupError> {
        let text = std::fs::read_to_string(path).map_err(io_err(path))?;
        let ids = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| {
                l.parse::<age::x25519::Identity>().map_err(|e| {
                    BackupError::Setup(format!("{}: not an age identity: {e}", path.display()))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if ids.is_empty() {
            return Err(BackupError::Setup(format!(
                "{}: no age identity (AGE-SECRET-KEY-1…) in the file",
                path.display()
            )));
        }
        Ok(Self::Identities(ids))
    }

    /// Opens `file` and reads past the age header: the plaintext reader, or a clear refusal
    /// for a wrong key or a damaged header.
    pub fn open(&self, file: &Path) -> Result<container::Reader<impl Read + use<>>, BackupError> {
        container::Reader::new(self.decrypt(file)?)
    }

    /// Opens any age file of ours (a backup, an archived WAL segment) and reads past its
    /// header: the plaintext reader, or a clear refusal for a wrong key or a damaged header.
    pub(crate) fn decrypt(&self, file: &Path) -> Result<impl Read + Send + use<>, BackupError> {
        let f = std::fs::File::open(file).map_err(io_err(file))?;
        let decryptor = age::Decryptor::new_buffered(BufReader::with_capacity(1 << 20, f))
            .map_err(|e| header_error(file, e))?;
        let scrypt = decryptor.is_scrypt();
        let reader = match self {
            Self::Passphrase(p) => {
                if !scrypt {
                    return Err(BackupError::WrongKey(format!(
                        "{}: encrypted to a recipient key, not a passphrase; decrypt with \
                         --identity FILE",
                        file.display()
                    )));
                }
                let mut id = age::scrypt::Identity::new(p.clone());
                id.set_max_work_factor(MAX_SCRYPT_LOG_N);
                decryptor.decrypt(std::iter::once(&id as &dyn age::Identity))
            }
            Self::Identities(ids) => {
                if scrypt {
                    return Err(BackupError::WrongKey(format!(
                        "{}: encrypted with a passphrase, not to a recipient key; decrypt \
                         with --passphrase-stdin",
                        file.display()
                    )));
                }
                decryptor.decrypt(ids.iter().map(|i| i as &dyn age::Identity))
            }
        };
        reader.map_err(|e| match e {
            age::DecryptError::DecryptionFailed
            | age::DecryptError::NoMatchingKeys
            | age::DecryptError::KeyDecryptionFailed => BackupError::WrongKey(format!(
                "{}: wrong {}: it does not decrypt this backup",
                file.display(),
                if scrypt { "passphrase" } else { "identity" }
            )),
            other => header_error(file, other),
        })
    }
}

fn header_error(file: &Path, e: age::DecryptError) -> BackupError {
    match e {
        age::DecryptError::Io(source) => BackupError::Damaged {
            part: "header".into(),
            reason: format!("{}: {source}", file.display()),
        },
        age::DecryptError::ExcessiveWork { required, .. } => BackupError::Damaged {
            part: "header".into(),
            reason: format!(
                "asks for scrypt work factor 2^{required}, above the 2^{MAX_SCRYPT_LOG_N} \
                 this tool accepts"
            ),
        },
        other => BackupError::Damaged {
            part: "header".into(),
            reason: format!("not a packtrack backup or damaged: {other}"),
        },
    }
}

/// Reads a secret (passphrase) from the first line of a reader.
pub fn passphrase_from(mut r: impl BufRead) -> Result<SecretString, BackupError> {
    let mut line = String::new();
    r.read_line(&mut line)
        .map_err(|e| BackupError::Setup(format!("cannot read the passphrase: {e}")))?;
    let p = line.trim_end_matches(['\r', '\n']);
    if p.is_empty() {
        return Err(BackupError::Setup("empty passphrase".into()));
    }
    Ok(SecretString::from(p.to_string()))
}

/// Where PostgreSQL's client tools (pg_dump, pg_restore) come from and how they reach the
/// database in use.
#[derive(Debug, Clone)]
pub struct PgClient {
    bindir: Option<PathBuf>,
    /// Passed as `-d`, without the password.
    conninfo: String,
    password: Option<String>,
    embedded: bool,
}

impl PgClient {
    pub fn of(db: &Database) -> Self {
        // The password goes in PGPASSWORD, not on the command line, where `ps` shows it.
        let (conninfo, password) = split_password(db.owner_url());
        let bindir = match db.cluster() {
            Some(c) => Some(c.bins().bindir.clone()),
            // The installed server's tools when there are some (pg_dump must not be older
            // than the server), else whatever PATH has.
            None => crate::db::pg::PgBinaries::find()
                .ok()
                .map(|b| b.bindir)
                .filter(|d| d.join("pg_dump").is_file()),
        };
        Self {
            bindir,
            conninfo,
            password,
            embedded: db.cluster().is_some(),
        }
    }

    /// The database is this host's private cluster (its server processes are local).
    pub fn embedded(&self) -> bool {
        self.embedded
    }

    pub fn source(&self) -> &'static str {
        if self.embedded {
            "embedded"
        } else {
            "external"
        }
    }

    pub fn command(&self, tool: &str) -> std::process::Command {
        let bin = self
            .bindir
            .as_ref()
            .map(|d| d.join(tool))
            .filter(|p| p.is_file())
            .unwrap_or_else(|| PathBuf::from(tool));
        let mut cmd = std::process::Command::new(bin);
        // A caller's PGHOST, PGOPTIONS and friends must not redirect or change the dump.
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("PG") {
                cmd.env_remove(k);
            }
        }
        if let Some(p) = &self.password {
            cmd.env("PGPASSWORD", p);
        }
        cmd.arg("-d").arg(&self.conninfo);
        cmd
    }
}

/// Rows per table and the audit chain heads, as the restore found them, compared with the
/// manifest. `Err` names the first difference.
pub(crate) fn compare(
    manifest: &Manifest,
    counts: &BTreeMap<String, i64>,
    heads: &[FacilityHead],
) -> Result<(), BackupError> {
    for (table, want) in &manifest.row_counts {
        let got = counts.get(table).copied();
        if got != Some(*want) {
            return Err(BackupError::Mismatch(format!(
                "table {table}: {} rows restored, the manifest says {want}",
                got.map_or("no table, 0".to_string(), |g| g.to_string())
            )));
        }
    }
    for want in &manifest.facilities {
        match heads.iter().find(|h| h.id == want.id) {
            Some(got) if got == want => {}
            Some(got) => {
                return Err(BackupError::Mismatch(format!(
                    "facility {}: audit chain head is seq {:?} after the restore, the manifest \
                     says seq {:?}",
                    want.slug, got.head_seq, want.head_seq
                )));
            }
            None => {
                return Err(BackupError::Mismatch(format!(
                    "facility {} is missing after the restore",
                    want.slug
                )));
            }
        }
    }
    Ok(())
}

/// Gives a finished `.partial` file its final name, durably: renamed, then its directory
/// fsynced (a rename is on disk only once the directory is).
pub(crate) fn publish(partial: &Path, final_path: &Path) -> Result<(), BackupError> {
    std::fs::rename(partial, final_path).map_err(io_err(final_path))?;
    let dir = final_path.parent().unwrap_or(Path::new("."));
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

/// Every facility's audit chain head, as a manifest lists it.
pub(crate) async fn facility_heads(
    conn: &mut sqlx::PgConnection,
) -> Result<Vec<FacilityHead>, BackupError> {
    Ok(crate::db::backups::facility_heads(conn)
        .await?
        .into_iter()
        .map(|(id, slug, seq, hash)| FacilityHead {
            id,
            slug,
            head_seq: seq,
            head_hash: hash.map(hex::encode),
        })
        .collect())
}

/// `packtrack-backup-20261205T063242Z.age`
pub fn file_name(at: DateTime<Utc>) -> String {
    format!(
        "{FILE_PREFIX}{}{FILE_SUFFIX}",
        at.format("%Y%m%dT%H%M%S%.3fZ")
    )
}

/// Whether a directory entry is one of our backup files (not a `.partial` one).
pub fn is_backup_name(name: &str) -> bool {
    name.starts_with(FILE_PREFIX) && name.ends_with(FILE_SUFFIX)
}

/// A connection URL without its password, and the password (percent-decoded).
fn split_password(conn: &str) -> (String, Option<String>) {
    let Ok(mut url) = url::Url::parse(conn) else {
        return (conn.to_string(), None);
    };
    let Some(p) = url.password().map(percent_decode) else {
        return (conn.to_string(), None);
    };
    if url.set_password(None).is_err() {
        return (conn.to_string(), None);
    }
    (url.to_string(), Some(p))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Leaves one row in `backup_runs` (the scorecard's "last backup" and "restore drill"); a
/// failure to record is logged, never the run's own failure.
pub async fn record_run(
    owner: &sqlx::PgPool,
    kind: &str,
    ok: bool,
    file: Option<&str>,
    detail: &str,
    started: std::time::Instant,
    packages: Option<i64>,
) {
    let run = crate::db::backups::Run {
        kind,
        ok,
        file,
        detail,
        duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
        packages,
    };
    if let Err(e) = crate::db::backups::record(owner, &run).await {
        tracing::error!(error = %e, "cannot record the backup run");
    }
}

#[cfg(test)]
mod tests;
