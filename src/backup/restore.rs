//! `admin restore FILE`: into an empty database only (the embedded cluster of a new data dir,
//! or an empty `DATABASE_URL` database). The secrets key is checked before anything is
//! written: without it the restored TOTP seeds and integration secrets cannot be opened,
//! and nobody with TOTP could log in.

use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Instant;

use super::verify::{Verdict, open_blocking, restore_and_check};
use super::{BackupError, DecryptWith, io_err};
use crate::db::{Database, backups};
use crate::secrets::SecretsKey;

pub struct Target<'a> {
    /// Opened, not migrated (a migrated database is not empty).
    pub db: &'a Database,
    pub data_dir: &'a Path,
    pub keys_dir: &'a Path,
    /// Restore even when the keys dir lacks the secrets key the backup needs.
    pub without_secrets_key: bool,
}

pub async fn restore(
    target: &Target<'_>,
    file: &Path,
    key: DecryptWith,
) -> Result<Verdict, BackupError> {
    let prepared = prepare(file, key, target.keys_dir, target.without_secrets_key).await?;
    finish(prepared, target).await
}

/// A decrypted backup whose keys were checked, ready to go into a database.
pub struct Prepared {
    file: std::path::PathBuf,
    started: Instant,
    reader: super::container::Reader<Box<dyn std::io::Read + Send>>,
    notes: Vec<String>,
}

/// Decrypts the header and checks the secrets key, before any database is touched (the
/// CLI opens, and for a new data dir creates, the cluster only after this).
pub async fn prepare(
    file: &Path,
    key: DecryptWith,
    keys_dir: &Path,
    without_secrets_key: bool,
) -> Result<Prepared, BackupError> {
    let started = Instant::now();
    let reader = open_blocking(file, key, None).await?.boxed();
    let notes = check_secrets_key(reader.info(), keys_dir, without_secrets_key)?;
    Ok(Prepared {
        file: file.to_path_buf(),
        started,
        reader,
        notes,
    })
}

/// Whether the keys dir holds the secrets key a backup's sealed secrets need: a refusal
/// (unless `without_secrets_key`), or notes for the operator.
pub(crate) fn check_secrets_key(
    info: &super::Info,
    keys_dir: &Path,
    without_secrets_key: bool,
) -> Result<Vec<String>, BackupError> {
    let mut notes = Vec::new();
    let key_path = SecretsKey::path(keys_dir);
    if let Some(want) = &info.secrets_key_id {
        if !key_path.exists() {
            if !without_secrets_key {
                return Err(BackupError::Setup(format!(
                    "the secrets key file {} is missing. This backup's TOTP seeds and \
                     integration secrets are sealed under secrets key {want}, which backups \
                     never contain: copy that key file from where you keep it into the keys \
                     directory and run restore again (or pass --without-secrets-key to \
                     restore anyway: users must then re-enrol TOTP and integration secrets \
                     must be set again)",
                    key_path.display()
                )));
            }
            notes.push(format!(
                "restored without the secrets key {want}: TOTP and integration secrets will \
                 not open until that key file is in {}",
                keys_dir.display()
            ));
        } else {
            let have = SecretsKey::load_or_create(keys_dir)
                .map_err(|e| BackupError::Setup(e.to_string()))?
                .id_hex();
            if &have != want {
                notes.push(format!(
                    "the secrets key in {} is {have}, the backup was taken under {want}: \
                     unless that key file also holds {want} (after a rotation), sealed \
                     secrets will not open",
                    key_path.display()
                ));
            }
        }
    }
    Ok(notes)
}

/// Restores a prepared backup into `target.db`, which must be empty.
pub async fn finish(prepared: Prepared, target: &Target<'_>) -> Result<Verdict, BackupError> {
    let Prepared {
        file,
        started,
        reader,
        mut notes,
    } = prepared;
    let owner = target.db.owner_pool().await?;
    let mut conn = owner.acquire().await?;
    if let Some(object) = backups::first_object(&mut conn).await? {
        drop(conn);
        owner.close().await;
        return Err(BackupError::NotEmpty(format!(
            "refusing to restore: the database is not empty (it has {object}). Restore into \
             a new --data-dir, or an empty DATABASE_URL database"
        )));
    }
    if target.db.cluster().is_none() {
        backups::ensure_app_role(&mut conn).await?;
    }
    drop(conn);
    let result = restore_and_check(target.db, &owner, reader, None).await;
    owner.close().await;
    let (manifest, checkpoints, audit_entries) = result?;

    // The audit checkpoints travel with the backup: a new data dir gets them back, so
    // `audit verify` keeps checking the chains against their anchors. An existing file is
    // this installation's newer memory and is kept.
    if let Some(bytes) = checkpoints {
        let path = target.data_dir.join(crate::audit_anchor::FILE);
        if path.exists() {
            notes.push(format!(
                "kept the existing {} (the backup's copy is older)",
                path.display()
            ));
        } else {
            std::fs::create_dir_all(target.data_dir).map_err(io_err(target.data_dir))?;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .map_err(io_err(&path))?;
            std::io::Write::write_all(&mut f, &bytes).map_err(io_err(&path))?;
            f.sync_all().map_err(io_err(&path))?;
        }
    }
    Ok(Verdict {
        file,
        manifest,
        restore_time: started.elapsed(),
        audit_entries,
        notes,
    })
}
