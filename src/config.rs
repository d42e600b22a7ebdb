//! Resolved settings and the limits that keep everything bounded.

use std::path::PathBuf;
use std::time::Duration;

/// Where state lives and which database to use.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub keys_dir: PathBuf,
    /// External PostgreSQL (owner role); `None` runs the embedded cluster.
    pub database_url: Option<String>,
}

/// Largest recipients CSV accepted by the import (bytes).
pub const MAX_IMPORT_BYTES: u64 = 32 * 1024 * 1024;
/// Largest number of rows in one recipients CSV.
pub const MAX_IMPORT_ROWS: usize = 200_000;

/// Failed logins allowed per login within [`LOCKOUT_WINDOW`] before it is locked.
pub const LOCKOUT_THRESHOLD: i64 = 5;
pub const LOCKOUT_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failed logins allowed per peer address within [`LOCKOUT_WINDOW`] (spraying across logins).
pub const PEER_FAILURE_THRESHOLD: i64 = 30;
/// Wrong kiosk PINs allowed per kiosk terminal within [`LOCKOUT_WINDOW`] (any staff login).
pub const PIN_DEVICE_THRESHOLD: i64 = 10;
/// Wrong pickup codes a logged-in user may type (interface or `packages pickup --code`)
/// within [`LOCKOUT_WINDOW`]: a clerk mistypes now and then, a million codes are not
/// tried ten at a time.
pub const USER_CODE_THRESHOLD: i64 = 10;

/// Connections in the runtime pool.
pub const APP_POOL_SIZE: u32 = 32;
