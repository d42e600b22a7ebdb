//! `packtrack admin recipients …`: the CSV import (or its dry run) into one facility.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Subcommand;

use crate::config;
use crate::db::recipients;
use crate::db::unscoped::Admin;

#[derive(Debug, Subcommand)]
pub enum RecipientsCmd {
    /// Import a CSV with header name,unit,email,phone,aliases.
    Import {
        #[arg(long)]
        facility: String,
        /// Print what the import would do (adds, updates, unchanged, rejections); write nothing.
        #[arg(long)]
        dry_run: bool,
        file: PathBuf,
    },
}

pub(super) async fn run(admin: &Admin<'_>, cmd: RecipientsCmd) -> Result<()> {
    match cmd {
        RecipientsCmd::Import {
            facility,
            dry_run,
            file,
        } => import(admin, &facility, &file, dry_run).await,
    }
}

async fn import(
    admin: &Admin<'_>,
    facility: &str,
    file: &std::path::Path,
    dry_run: bool,
) -> Result<()> {
    let meta =
        std::fs::metadata(file).with_context(|| format!("cannot read {}", file.display()))?;
    if meta.len() > config::MAX_IMPORT_BYTES {
        bail!(
            "{} is {} bytes; the limit is {} bytes: split the file",
            file.display(),
            meta.len(),
            config::MAX_IMPORT_BYTES
        );
    }
    let data = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let parsed = crate::admin::import::parse(&data, config::MAX_IMPORT_ROWS)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let mut tx = admin.tenant(facility).await?;
    if dry_run {
        let existing = recipients::all(&mut tx).await?;
        tx.rollback().await?;
        let plan = crate::admin::import::plan(parsed, &existing);
        for line in crate::admin::import::preview_lines(&plan) {
            println!("{line}");
        }
        return Ok(());
    }
    let source = file
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let done = recipients::import(
        &mut tx,
        &parsed.rows,
        parsed.rejected.len(),
        &source,
        |_, _| {},
    )
    .await?;
    tx.commit().await?;
    println!("{}", done.counts);
    for r in &parsed.rejected {
        println!("line {}: {}", r.line, r.reason);
    }
    Ok(())
}
