//! Authentication: password hashing, TOTP, SSH public keys.

pub mod password;
pub mod pubkey;
pub mod totp;
