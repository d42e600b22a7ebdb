//! Prints a new age key pair for backups (issue 18, docs/BACKUP.md): the identity
//! (`AGE-SECRET-KEY-1…`, keep it off the server) on stdout, the public key (`age1…`, for
//! `admin backup --recipient`) on stderr. The same format as `age-keygen`, for hosts without
//! the age tools; scripts/backup-bench.sh uses it.
//!
//! cargo run --example backup_keygen > backup.key

use age::secrecy::ExposeSecret;

fn main() {
    let id = age::x25519::Identity::generate();
    eprintln!("public key: {}", id.to_public());
    println!("{}", id.to_string().expose_secret());
}
