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
mod tests {
    use super::*;

    const LINE: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl user@host";

    #[test]
    fn parses_and_fingerprints() {
        let k = parse_line(LINE).unwrap();
        assert_eq!(k.algorithm, "ssh-ed25519");
        assert!(k.fingerprint.starts_with("SHA256:"), "{}", k.fingerprint);
        assert_eq!(k.comment, "user@host");
        assert!(!k.public_key.contains("user@host"));
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_line("").is_err());
        assert!(parse_line("ssh-ed25519 notbase64").is_err());
        assert!(parse_line("-----BEGIN OPENSSH PRIVATE KEY-----").is_err());
        assert!(parse_line(&format!("{LINE}\n{LINE}")).is_err());
    }
}
