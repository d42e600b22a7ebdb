//! The key archived segments are encrypted to. With a recipient key (`--backup-recipient`)
//! that is simply it. With a passphrase, scrypt would cost about a second of CPU per
//! segment on both ends (a day's segments would add minutes to a restore), so each `serve`
//! makes a fresh X25519 key, stores its secret half under the passphrase in
//! `pitr/keys/wal-key-<created>.age` (one scrypt), keeps only the public half, and encrypts
//! segments to it. A restore unlocks the key files once and decrypts every segment fast.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use age::secrecy::ExposeSecret;
use chrono::{DateTime, NaiveDateTime, Utc};

use crate::backup::{BackupError, DecryptWith, EncryptTo, io_err};

pub const KEYS_DIR: &str = "keys";
const PREFIX: &str = "wal-key-";
const SUFFIX: &str = ".age";
/// Longer than any base backup takes: a key retired this long before the oldest kept base
/// finished encrypted nothing that base needs.
const MARGIN: chrono::TimeDelta = chrono::TimeDelta::days(1);

/// What this process encrypts segments to (see the module doc).
pub fn segment_key(dir: &Path, key: &EncryptTo) -> Result<EncryptTo, BackupError> {
    let EncryptTo::Passphrase(_) = key else {
        return Ok(key.clone());
    };
    let keys = dir.join(KEYS_DIR);
    std::fs::create_dir_all(&keys).map_err(io_err(&keys))?;
    let identity = age::x25519::Identity::generate();
    let name = format!(
        "{PREFIX}{}{SUFFIX}",
        Utc::now().format("%Y%m%dT%H%M%S%.3fZ")
    );
    let path = keys.join(&name);
    let partial = keys.join(format!(".{name}.partial"));
    let io = |e| io_err(&partial)(e);
    let mut w = crate::backup::sealed_partial(&partial, key, crate::backup::Leftover::Replace)?;
    w.write_all(identity.to_string().expose_secret().as_bytes())
        .map_err(io)?;
    let file = w
        .finish()
        .map_err(io)?
        .into_inner()
        .map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    crate::backup::publish(&partial, &path)?;
    Ok(EncryptTo::Recipient(identity.to_public()))
}

/// What decrypts the segments: the identities given, or every key file unlocked with the
/// passphrase given.
pub fn segment_identities(dir: &Path, key: &DecryptWith) -> Result<DecryptWith, BackupError> {
    let DecryptWith::Passphrase(_) = key else {
        return Ok(key.clone());
    };
    let mut ids = Vec::new();
    for (_, path) in key_files(dir) {
        let mut text = String::new();
        key.decrypt(&path)?
            .take(4096)
            .read_to_string(&mut text)
            .map_err(|e| BackupError::Damaged {
                part: path.display().to_string(),
                reason: format!("does not decrypt: {e}"),
            })?;
        let id =
            text.trim()
                .parse::<age::x25519::Identity>()
                .map_err(|e| BackupError::Damaged {
                    part: path.display().to_string(),
                    reason: format!("not an age identity: {e}"),
                })?;
        ids.push(id);
    }
    Ok(DecryptWith::Identities(ids))
}

/// Removes key files retired long before `oldest_base` finished (the newest always stays).
pub fn prune(dir: &Path, oldest_base: DateTime<Utc>) -> usize {
    let files = key_files(dir);
    let mut removed = 0;
    for pair in files.windows(2) {
        let ((_, path), (next_created, _)) = (&pair[0], &pair[1]);
        if *next_created + MARGIN < oldest_base && std::fs::remove_file(path).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Key files, oldest first.
fn key_files(dir: &Path) -> Vec<(DateTime<Utc>, PathBuf)> {
    let mut out: Vec<_> = std::fs::read_dir(dir.join(KEYS_DIR))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let at = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
            let at = NaiveDateTime::parse_from_str(at, "%Y%m%dT%H%M%S%.3fZ").ok()?;
            Some((at.and_utc(), e.path()))
        })
        .collect();
    out.sort();
    out
}
