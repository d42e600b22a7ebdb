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
