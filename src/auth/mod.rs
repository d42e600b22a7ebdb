//! Authentication: password hashing, TOTP, SSH public keys.

pub mod login;
pub mod password;
pub mod pubkey;
pub mod totp;
