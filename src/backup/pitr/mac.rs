//! Who made a point-in-time file. age gives confidentiality and integrity, but anyone who
//! knows a recipient's public key (`--backup-recipient`, printed on the server) can encrypt
//! a file to it. A planted base backup is worse than planted data: it is a whole cluster
//! directory (configuration, catalogs, C functions) that the restore host then runs. So every
//! base backup and segment has a sidecar `<file>.mac`: HMAC-SHA256 of its name and bytes
//! under a key derived from the secrets key (which restore needs anyway, and which never
//! goes with the backups), with that key's id so rotated keys still check.

use std::io::Read;
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::backup::{BackupError, io_err};
use crate::secrets::SecretsKey;

const PURPOSE: &str = "packtrack point-in-time files v1";
pub const SUFFIX: &str = ".mac";

/// The sidecar of `file`.
pub fn sidecar(file: &Path) -> PathBuf {
    let mut s = file.as_os_str().to_owned();
    s.push(SUFFIX);
    PathBuf::from(s)
}

/// Writes the sidecar for `data` (any path) as it will be named `final_path` (the name is
/// part of what is authenticated). Written before the data file gets its final name, so a
/// final name never lacks its sidecar; the caller fsyncs the directory.
pub fn sign(keys: &SecretsKey, data: &Path, final_path: &Path) -> Result<(), BackupError> {
    let (id, key) = keys
        .derive(PURPOSE, None)
        .ok_or_else(|| BackupError::Setup("the secrets key has no key to sign with".into()))?;
    let tag = digest(&key, data, final_path)?;
    let line = format!("v1 {} {}\n", hex::encode(id), hex::encode(tag));
    let out = sidecar(final_path);
    let tmp = sidecar(&data.with_extension("mac-partial"));
    std::fs::write(&tmp, line).map_err(io_err(&tmp))?;
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(io_err(&tmp))?;
    std::fs::rename(&tmp, &out).map_err(io_err(&out))
}

/// Refuses a file whose sidecar is missing, malformed, made under a key this installation
/// does not hold, or does not match its name and bytes.
pub fn check(keys: &SecretsKey, file: &Path) -> Result<(), BackupError> {
    let refuse = |why: &str| BackupError::Damaged {
        part: file.display().to_string(),
        reason: format!(
            "not authenticated by this installation's secrets key ({why}): it was not written \
             by a packtrack server holding that key, or was changed since"
        ),
    };
    let line = std::fs::read_to_string(sidecar(file)).map_err(|_| refuse("no .mac file"))?;
    let mut parts = line.split_whitespace();
    let (Some("v1"), Some(id), Some(tag), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(refuse("unreadable .mac file"));
    };
    let id: [u8; 4] = hex::decode(id)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| refuse("unreadable .mac file"))?;
    let tag = hex::decode(tag).map_err(|_| refuse("unreadable .mac file"))?;
    let (_, key) = keys
        .derive(PURPOSE, Some(id))
        .ok_or_else(|| refuse("made under a key not in the key file"))?;
    let mut mac = keyed(&key, file)?;
    feed(&mut mac, file)?;
    mac.verify_slice(&tag).map_err(|_| refuse("does not match"))
}

fn digest(key: &[u8; 32], data: &Path, named: &Path) -> Result<[u8; 32], BackupError> {
    let mut mac = keyed(key, named)?;
    feed(&mut mac, data)?;
    Ok(mac.finalize().into_bytes().into())
}

/// The MAC keyed and bound to the file's name (not its directory: the backup dir may move).
fn keyed(key: &[u8; 32], named: &Path) -> Result<Hmac<Sha256>, BackupError> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .map_err(|e| BackupError::Setup(format!("MAC key: {e}")))?;
    let name = named.file_name().unwrap_or_default().as_encoded_bytes();
    mac.update(name);
    mac.update(&[0]);
    Ok(mac)
}

fn feed(mac: &mut Hmac<Sha256>, file: &Path) -> Result<(), BackupError> {
    let mut f = std::fs::File::open(file).map_err(io_err(file))?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(io_err(file))?;
        if n == 0 {
            return Ok(());
        }
        mac.update(&buf[..n]);
    }
}
