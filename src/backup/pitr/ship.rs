//! Moving archived WAL from the data dir's outbox to the backup dir: each file gzipped,
//! age-encrypted into a `.partial` file, fsynced and renamed; the directory fsynced; only
//! then the outbox copy removed. Each file's `.mac` sidecar (`mac`) lands before its final name. A crash anywhere leaves the segment in the outbox (shipped
//! again next time, to the same name) or in both places, never in neither.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;

use super::{WAL_SUFFIX, is_archived_name};
use crate::backup::{BackupError, DecryptWith, EncryptTo, Leftover, io_err, sealed_partial};
use crate::db::pg::archive::PARTIAL_MARK;
use crate::secrets::SecretsKey;

/// One pass at a time in this process: a pass abandoned by a stopping `serve` (starved at
/// idle priority) and the stop's last pass would write the same files.
static ONE_PASS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Ships everything finished in `outbox` into `wal_dir`; returns how many files.
pub fn ship(
    outbox: &Path,
    wal_dir: &Path,
    key: &EncryptTo,
    secrets: &SecretsKey,
) -> Result<usize, BackupError> {
    let _one = ONE_PASS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut names = finished(outbox).map_err(io_err(outbox))?;
    if names.is_empty() {
        return Ok(0);
    }
    names.sort();
    std::fs::create_dir_all(wal_dir).map_err(io_err(wal_dir))?;
    for name in &names {
        encrypt_one(&outbox.join(name), wal_dir, name, key, secrets)?;
    }
    // The renames are durable only once the directory is; then the outbox may forget.
    std::fs::File::open(wal_dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(wal_dir))?;
    for name in &names {
        let path = outbox.join(name);
        std::fs::remove_file(&path).map_err(io_err(&path))?;
    }
    Ok(names.len())
}

/// How many finished files wait in `outbox`.
pub fn waiting(outbox: &Path) -> usize {
    finished(outbox).map_or(0, |v| v.len())
}

/// The names of the files the archiver has finished copying into `outbox`.
fn finished(outbox: &Path) -> std::io::Result<Vec<String>> {
    Ok(std::fs::read_dir(outbox)?
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        // The archiver's copy in progress starts with the mark.
        .filter(|n| !n.starts_with(PARTIAL_MARK) && is_archived_name(n))
        .collect())
}

fn encrypt_one(
    src: &Path,
    wal_dir: &Path,
    name: &str,
    key: &EncryptTo,
    secrets: &SecretsKey,
) -> Result<(), BackupError> {
    let final_path = wal_dir.join(format!("{name}{WAL_SUFFIX}"));
    let partial = wal_dir.join(format!(".{name}{WAL_SUFFIX}.partial"));
    let io = |e| io_err(&partial)(e);
    let mut input = std::fs::File::open(src).map_err(io_err(src))?;
    let age = sealed_partial(&partial, key, Leftover::Replace)?;
    let mut gz = GzEncoder::new(age, Compression::fast());
    std::io::copy(&mut input, &mut gz).map_err(io)?;
    let age = gz.finish().map_err(io)?;
    let buf = age.finish().map_err(io)?;
    let file = buf.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    super::mac::sign(secrets, &partial, &final_path)?;
    std::fs::rename(&partial, &final_path).map_err(io_err(&final_path))
}

/// Decrypts and unpacks one archived file into `dest` (written beside it, then renamed).
pub fn unpack_one(file: &Path, dest: &Path, key: &DecryptWith) -> Result<(), BackupError> {
    let reader = key.decrypt(file)?;
    let mut gz = flate2::read::GzDecoder::new(reader);
    let tmp = dest.with_extension("tmp");
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io_err(&tmp))?;
    std::io::copy(&mut gz, &mut out).map_err(|e| BackupError::Damaged {
        part: file.display().to_string(),
        reason: format!("does not decrypt or unpack: the file was modified or truncated ({e})"),
    })?;
    out.flush().map_err(io_err(&tmp))?;
    std::fs::rename(&tmp, dest).map_err(io_err(dest))
}
