//! The server's Ed25519 host key: created once, kept private.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use russh::keys::ssh_key::LineEnding;
use russh::keys::{Algorithm, PrivateKey};

pub const FILE: &str = "ssh_host_ed25519_key";

pub fn path(keys_dir: &Path) -> PathBuf {
    keys_dir.join(FILE)
}

/// Loads the host key, generating it (mode 0600) on first start. Refuses a key file that
/// group or others can read, as sshd does.
pub fn load_or_create(keys_dir: &Path) -> Result<PrivateKey, String> {
    let path = path(keys_dir);
    if path.exists() {
        let mode = std::fs::metadata(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(format!(
                "host key {} is accessible by group or others (mode {:o}); run chmod 600 on it",
                path.display(),
                mode & 0o777
            ));
        }
        return PrivateKey::read_openssh_file(&path)
            .map_err(|e| format!("cannot read host key {}: {e}", path.display()));
    }
    std::fs::create_dir_all(keys_dir)
        .map_err(|e| format!("cannot create {}: {e}", keys_dir.display()))?;
    let key = PrivateKey::random(&mut russh::keys::key::safe_rng(), Algorithm::Ed25519)
        .map_err(|e| format!("cannot generate host key: {e}"))?;
    key.write_openssh_file(&path, LineEnding::LF)
        .map_err(|e| format!("cannot write host key {}: {e}", path.display()))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| format!("chmod {}: {e}", path.display()))?;
    Ok(key)
}

#[cfg(test)]
mod tests;
