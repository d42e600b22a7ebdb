//! Error types. The `Display` text of each variant is what a user sees: one clear line.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum DbError {
    /// The database could not be set up or reached; the message says what to do.
    #[error("{0}")]
    Setup(String),
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// What a user is told when the database failed; the detail (SQL state, file paths,
/// line numbers) goes to the log only.
pub const NOT_ANSWERING: &str = "the database is not answering; try again in a moment";
pub const DISK_FULL: &str = "the server's disk is full; nothing was saved. Call your administrator";
pub const OVERLOADED: &str = "the server is short of resources; try again in a moment";
pub const REFUSED: &str = "the database refused this (the details are in the server log); try again or call your administrator";

impl DbError {
    /// The one line a user sees for this error (never the database's own text).
    pub fn user_message(&self) -> &'static str {
        match self {
            DbError::Sql(sqlx::Error::Database(db)) => match db.code().as_deref() {
                // disk_full: a WAL segment or table file could not be extended.
                Some("53100") => DISK_FULL,
                // insufficient_resources, out_of_memory, too_many_connections, …
                Some(c) if c.starts_with("53") => OVERLOADED,
                // shutting down, starting up, crash recovery; connection exceptions.
                Some(c) if c.starts_with("57P") || c.starts_with("08") => NOT_ANSWERING,
                _ => REFUSED,
            },
            DbError::Sql(
                sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::Protocol(_)
                | sqlx::Error::WorkerCrashed,
            ) => NOT_ANSWERING,
            DbError::Sql(_) => REFUSED,
            DbError::Setup(_) | DbError::Migrate(_) => NOT_ANSWERING,
        }
    }
}

impl AppError {
    /// The line a user sees: the error itself, except database errors, which are logged
    /// with their detail and shown as what the user can do about them.
    pub fn user_message(self) -> String {
        match self {
            AppError::Db(inner) => {
                tracing::error!(error = %inner, "database error");
                inner.user_message().into()
            }
            other => other.to_string(),
        }
    }
}

/// Errors of domain operations, shared by the admin CLI, exec commands and the TUI.
#[derive(Debug, Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("permission denied")]
    PermissionDenied,
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => AppError::NotFound,
            other => AppError::Db(DbError::Sql(other)),
        }
    }
}

#[derive(Debug, Error)]
pub enum SecretsError {
    #[error("secrets key {path}: {reason}")]
    Key { path: String, reason: String },
    #[error("sealed secret cannot be opened (wrong key, wrong owner or tampered)")]
    Open,
    #[error("sealed secret is malformed")]
    Malformed,
}
