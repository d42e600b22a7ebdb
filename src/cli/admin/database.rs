//! `packtrack admin db-url` and `admin psql`: the database in use, as the owner role.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::db::Database;

pub(super) async fn psql(db: &Database, args: &[String]) -> Result<ExitCode> {
    let bin = db
        .cluster()
        .map(|c| c.bins().bindir.join("psql"))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("psql"));
    let status = tokio::process::Command::new(&bin)
        .arg(db.owner_url())
        .args(args)
        .status()
        .await
        .with_context(|| format!("cannot run {}", bin.display()))?;
    Ok(ExitCode::from(
        status.code().unwrap_or(1).clamp(0, 255) as u8
    ))
}

/// `admin db-url`: the owner role's connection URL.
pub(super) fn url(db: &Database) {
    println!("{}", db.owner_url());
}
