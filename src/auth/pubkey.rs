//! OpenSSH public key lines.

use russh::keys::ssh_key::{HashAlg, PublicKey};

// The type moved down to domain (the database stores it); this path stays for app and ui.
pub use crate::domain::KeyInfo;

pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// Parses one OpenSSH public key line (`ssh-ed25519 AAAA… comment`).
pub fn parse_line(line: &str) -> Result<KeyInfo, String> {
    let line = line.trim();
    if line.is_empty() {
        return Err("the key file is empty; expected one OpenSSH public key line".into());
    }
    if line.lines().filter(|l| !l.trim().is_empty()).count() > 1 {
        return Err("expected exactly one OpenSSH public key line".into());
    }
    if line.contains("PRIVATE KEY") {
        return Err("this is a private key; give the .pub file".into());
    }
    let key = PublicKey::from_openssh(line)
        .map_err(|e| format!("not a valid OpenSSH public key line: {e}"))?;
    let public_key = key
        .to_openssh()
        .map_err(|e| format!("cannot encode key: {e}"))?;
    // to_openssh includes the comment when there is one; keep the bare key.
    let bare = public_key
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    Ok(KeyInfo {
        algorithm: key.algorithm().as_str().to_string(),
        fingerprint: fingerprint(&key),
        public_key: bare,
        comment: key.comment().to_string(),
    })
}

#[cfg(test)]
mod tests;
