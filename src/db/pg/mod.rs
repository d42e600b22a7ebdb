//! The embedded PostgreSQL cluster: a private server in `DATA_DIR/postgres`, reachable only
//! through a Unix socket inside that directory, created and started on demand from the
//! PostgreSQL server binaries installed on the machine.
//!
//! Here: names, options and the cluster type; `binaries` (finding them), `lifecycle` (start,
//! attach, stop, connect), `init` (initdb and repairs), `host` (locks, pids, files),
//! `archive` (WAL archiving and point-in-time recovery).

use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use nix::sys::signal::{Signal, kill};
use serde::{Deserialize, Serialize};

use crate::error::DbError;

pub mod archive;
mod binaries;
mod host;
mod init;
mod lifecycle;
pub use binaries::*;
use host::*;
use lifecycle::cluster_user;

/// Superuser created by initdb; used only to bootstrap roles and databases.
pub const SUPERUSER: &str = "postgres";
pub const OWNER_ROLE: &str = "packtrack_owner";
pub const APP_ROLE: &str = "packtrack_app";
pub const DATABASE: &str = "packtrack";
/// The socket file is `.s.PGSQL.<port>`; with a private socket directory any port works.
pub const PORT: u16 = 5432;
/// sun_path is 108 bytes on Linux, including the NUL.
const MAX_SOCKET_PATH: usize = 107;
/// How long [`EmbeddedCluster::stop`] (and so `Drop`) gives the server to stop.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// Of a stop's budget, the part kept for an immediate shutdown after a fast one ran late.
const IMMEDIATE_RESERVE: Duration = Duration::from_millis(1500);

/// Passwords of the cluster's roles, generated at initdb time and kept next to the cluster.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClusterAuth {
    pub superuser: String,
    pub owner: String,
    pub app: String,
}

/// Tuning knobs for the cluster.
#[derive(Debug, Clone, Copy)]
pub struct ClusterOptions {
    /// Tests trade crash safety for speed (fsync off); a real mailroom never does.
    pub durable: bool,
    /// `Some(on)`: archive WAL for point-in-time recovery from the next server start on
    /// (`serve` says; `archive`); `None` leaves the setting as the last `serve` left it.
    pub wal_archive: Option<bool>,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        Self {
            durable: true,
            wal_archive: None,
        }
    }
}

impl ClusterOptions {
    /// A throw-away cluster (tests, the restore drill): fast, never archived.
    pub fn throwaway() -> Self {
        Self {
            durable: false,
            wal_archive: None,
        }
    }
}

/// A running embedded cluster. On drop, the last packtrack process attached to it stops
/// the server (see [`EmbeddedCluster::stop`]).
#[derive(Debug)]
pub struct EmbeddedCluster {
    root: PathBuf,
    pgdata: PathBuf,
    bins: PgBinaries,
    run_as: Option<nix::unistd::User>,
    auth: ClusterAuth,
    started_here: bool,
    /// A shared lock on `DATA_DIR/.cluster.users`, held while this process uses the
    /// cluster: it tells a process about to stop the server that others still need it.
    /// `None` once detached.
    attached: Mutex<Option<Flock<fs::File>>>,
}

impl Drop for EmbeddedCluster {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests;
