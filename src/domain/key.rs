//! A parsed SSH public key, as the database stores it. Parsing lives in `auth::pubkey`; the
//! type lives here because the database layer stores and returns it.

/// A validated public key as stored in `ssh_keys`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub algorithm: String,
    /// `SHA256:…`, as `ssh-keygen -l` prints it.
    pub fingerprint: String,
    /// `ALGORITHM BASE64`, without the comment.
    pub public_key: String,
    pub comment: String,
}
