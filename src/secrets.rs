//! Sealing of stored secrets (TOTP seeds, SMTP passwords, webhook secrets) with AES-256-GCM.
//!
//! A sealed value is `version (1) || key id (4) || nonce (12) || ciphertext+tag`. The nonce is
//! random per seal (96 bits, so a key can seal far more values than we ever store), and the
//! owner of the secret (user or facility id) is bound as associated data: a sealed value
//! copied onto another row does not open.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use sha2::{Digest, Sha256};

use crate::error::SecretsError;

const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const HEADER_LEN: usize = 1 + 4 + NONCE_LEN;
pub const KEY_FILE: &str = "secrets.key";

/// Random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // The OS RNG failing is not something a mailroom can recover from.
    getrandom::fill(&mut buf).expect("operating system random number generator failed");
    buf
}

/// A random URL-safe token of `len` characters (passwords for the embedded cluster's roles).
pub fn random_token(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in random_bytes::<64>() {
            // Rejection sampling keeps the distribution uniform.
            if (b as usize) < ALPHABET.len() * 4 && out.len() < len {
                out.push(ALPHABET[b as usize % ALPHABET.len()] as char);
            }
        }
    }
    out
}

/// One AES-256 key and its id (the first 4 bytes of its SHA-256).
#[derive(Clone)]
struct Key {
    id: [u8; 4],
    cipher: Aes256Gcm,
    hex: String,
}

impl Key {
    fn new(bytes: &[u8; 32]) -> Self {
        let digest = Sha256::digest(bytes);
        Self {
            id: [digest[0], digest[1], digest[2], digest[3]],
            cipher: Aes256Gcm::new(bytes.into()),
            hex: hex::encode(bytes),
        }
    }
}

/// The keys that seal secrets: the first seals, all of them open (values sealed before a
/// rotation, or by a server that has not seen the rotation yet). Loaded from the key file in
/// the keys directory, one hex key per line, current first.
#[derive(Clone)]
pub struct SecretsKey {
    ring: std::sync::Arc<std::sync::RwLock<Vec<Key>>>,
    /// The key file, re-read when a value names a key we do not hold (rotated elsewhere).
    path: Option<PathBuf>,
}

impl std::fmt::Debug for SecretsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretsKey({})", self.id_hex())
    }
}

impl SecretsKey {
    /// A single in-memory key (tests).
    pub fn from_bytes(key: &[u8; 32]) -> Self {
        Self {
            ring: std::sync::Arc::new(std::sync::RwLock::new(vec![Key::new(key)])),
            path: None,
        }
    }

    pub fn path(keys_dir: &Path) -> PathBuf {
        keys_dir.join(KEY_FILE)
    }

    /// Loads the key file, creating it (mode 0600) on first use. Refuses a key file that
    /// others can read.
    pub fn load_or_create(keys_dir: &Path) -> Result<Self, SecretsError> {
        let path = Self::path(keys_dir);
        let keys = match read_ring(&path) {
            Err(SecretsError::Key { reason, .. }) if reason == "missing" => {
                let key = random_bytes::<32>();
                write_key_file(&path, &[hex::encode(key)]).map_err(|e| SecretsError::Key {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                })?;
                vec![Key::new(&key)]
            }
            other => other?,
        };
        Ok(Self {
            ring: std::sync::Arc::new(std::sync::RwLock::new(keys)),
            path: Some(path),
        })
    }

    /// Id of the current (sealing) key.
    pub fn id_hex(&self) -> String {
        let ring = self.ring.read().unwrap_or_else(|e| e.into_inner());
        ring.first().map(|k| hex::encode(k.id)).unwrap_or_default()
    }

    /// Seals `plaintext`, bound to `owner` (e.g. `user:42`, `facility:7`).
    pub fn seal(&self, owner: &str, plaintext: &[u8]) -> Vec<u8> {
        let ring = self.ring.read().unwrap_or_else(|e| e.into_inner());
        let key = ring.first().expect("a key ring always holds a key");
        let nonce = random_bytes::<NONCE_LEN>();
        let ct = key
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: owner.as_bytes(),
                },
            )
            .expect("AES-GCM encryption of a bounded buffer cannot fail");
        let mut out = Vec::with_capacity(HEADER_LEN + ct.len());
        out.push(VERSION);
        out.extend_from_slice(&key.id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    pub fn open(&self, owner: &str, sealed: &[u8]) -> Result<Vec<u8>, SecretsError> {
        if sealed.len() < HEADER_LEN + 16 || sealed[0] != VERSION {
            return Err(SecretsError::Malformed);
        }
        let id = &sealed[1..5];
        let known = |ring: &Vec<Key>| ring.iter().any(|k| k.id == id);
        if !known(&self.ring.read().unwrap_or_else(|e| e.into_inner()))
            && let Some(path) = &self.path
            && let Ok(fresh) = read_ring(path)
        {
            // Rotated by another process since we loaded the ring.
            *self.ring.write().unwrap_or_else(|e| e.into_inner()) = fresh;
        }
        let ring = self.ring.read().unwrap_or_else(|e| e.into_inner());
        let key = ring.iter().find(|k| k.id == id).ok_or(SecretsError::Open)?;
        key.cipher
            .decrypt(
                Nonce::from_slice(&sealed[5..HEADER_LEN]),
                Payload {
                    msg: &sealed[HEADER_LEN..],
                    aad: owner.as_bytes(),
                },
            )
            .map_err(|_| SecretsError::Open)
    }

    /// A key for `purpose` derived from a ring key (HMAC-SHA256 of the purpose under it), with
    /// that key's id: the current key for `None`, else the key with that id (re-reading the key
    /// file when another process rotated). Authenticates data kept outside the database (the
    /// audit checkpoints) without using a sealing key for two things.
    pub fn derive(&self, purpose: &str, id: Option<[u8; 4]>) -> Option<([u8; 4], [u8; 32])> {
        use hmac::{Hmac, Mac};
        let pick = |ring: &Vec<Key>| -> Option<Key> {
            match id {
                None => ring.first().cloned(),
                Some(id) => ring.iter().find(|k| k.id == id).cloned(),
            }
        };
        let mut key = pick(&self.ring.read().unwrap_or_else(|e| e.into_inner()));
        if key.is_none()
            && let Some(path) = &self.path
            && let Ok(fresh) = read_ring(path)
        {
            key = pick(&fresh);
            *self.ring.write().unwrap_or_else(|e| e.into_inner()) = fresh;
        }
        let key = key?;
        let raw = hex::decode(&key.hex).ok()?;
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&raw).ok()?;
        mac.update(purpose.as_bytes());
        Some((key.id, mac.finalize().into_bytes().into()))
    }

    /// Puts a new key in front of the ring and writes the key file (atomically: a
    /// temporary file renamed over the old one). Older keys stay for opening.
    pub fn rotate(&self) -> Result<(), SecretsError> {
        let path = self.path.clone().ok_or_else(|| SecretsError::Key {
            path: "(memory)".into(),
            reason: "an in-memory key cannot be rotated".into(),
        })?;
        let mut ring = self.ring.write().unwrap_or_else(|e| e.into_inner());
        let new = random_bytes::<32>();
        ring.insert(0, Key::new(&new));
        // Keep the current and a few previous keys; more would only widen exposure.
        ring.truncate(4);
        let lines: Vec<String> = ring.iter().map(|k| k.hex.clone()).collect();
        let tmp = path.with_extension("key.new");
        let _ = fs::remove_file(&tmp);
        let err = |e: std::io::Error| SecretsError::Key {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        write_key_file(&tmp, &lines).map_err(err)?;
        fs::rename(&tmp, &path).map_err(err)?;
        Ok(())
    }
}

fn read_ring(path: &Path) -> Result<Vec<Key>, SecretsError> {
    let err = |reason: String| SecretsError::Key {
        path: path.display().to_string(),
        reason,
    };
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(err("missing".into())),
        Err(e) => return Err(err(e.to_string())),
    };
    let mode = fs::metadata(path)
        .map_err(|e| err(e.to_string()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(err(format!(
            "is readable by group or others (mode {:o}); chmod 600 it",
            mode & 0o777
        )));
    }
    let keys = String::from_utf8_lossy(&bytes)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            hex::decode(l)
                .ok()
                .and_then(|k| <[u8; 32]>::try_from(k).ok())
                .map(|k| Key::new(&k))
                .ok_or_else(|| err("each line must be 64 hex characters".into()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty() {
        return Err(err("holds no key".into()));
    }
    Ok(keys)
}

fn write_key_file(path: &Path, lines: &[String]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let mut f = fs::OpenOptions::new()
        .create_new(true)
        .write(true)
        .mode(0o600)
        .open(path)?;
    for l in lines {
        f.write_all(l.as_bytes())?;
        f.write_all(b"\n")?;
    }
    f.sync_all()
}

#[cfg(test)]
mod tests;
