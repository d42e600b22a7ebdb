//! `packtrack admin recipients …`: the CSV import (or its dry run) into one facility.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Subcommand;

use crate::admin::import::{self, ColumnMap, ImportOptions};
use crate::config;
use crate::db::recipients::{self, ImportWrite};
use crate::db::unscoped::Admin;

#[derive(Debug, Subcommand)]
pub enum RecipientsCmd {
    /// Import a CSV: the header name,unit,email,phone,aliases, or an export whose columns
    /// are recognised by name (Unit/Apt/Suite, Name/Resident or First+Last Name, Email,
    /// Phone/Mobile/Cell, Aliases/Nickname; others are ignored) or mapped with --map.
    Import {
        #[arg(long)]
        facility: String,
        /// Print what the import would do (adds, updates, unchanged, rejections, move-outs);
        /// write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Which column fills which field, e.g. "name=Resident Name,unit=Apt" (fields: name,
        /// first, last, unit, email, phone, aliases; `#N` is the Nth column; `phone=` skips).
        #[arg(long, value_name = "FIELD=COLUMN,…")]
        map: Option<ColumnMap>,
        /// Deactivate active residents missing from the file (move-outs); those with
        /// packages waiting stay active.
        #[arg(long)]
        deactivate_missing: bool,
        /// Confirm deactivating more than 20% of the active residents.
        #[arg(long, requires = "deactivate_missing")]
        allow_mass_deactivate: bool,
        file: PathBuf,
    },
}

pub(super) async fn run(admin: &Admin<'_>, cmd: RecipientsCmd) -> Result<()> {
    match cmd {
        RecipientsCmd::Import {
            facility,
            dry_run,
            map,
            deactivate_missing,
            allow_mass_deactivate,
            file,
        } => {
            let options = ImportOptions {
                map: map.unwrap_or_default(),
                deactivate_missing,
                allow_mass_deactivate,
            };
            import(admin, &facility, &file, dry_run, &options).await
        }
    }
}

async fn import(
    admin: &Admin<'_>,
    facility: &str,
    file: &std::path::Path,
    dry_run: bool,
    options: &ImportOptions,
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
    let parsed = import::parse_with(&data, config::MAX_IMPORT_ROWS, &options.map)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    // Planned and written in one transaction: the move-outs are exactly the residents
    // missing when the rows are written.
    let mut tx = admin.tenant(facility).await?;
    let existing = recipients::all(&mut tx).await?;
    let waiting = recipients::waiting_counts(&mut tx).await?;
    let plan = import::plan_with(parsed, &existing, &waiting, options);
    if dry_run {
        tx.rollback().await?;
        for line in import::preview_lines(&plan) {
            println!("{line}");
        }
        return Ok(());
    }
    if let Some(refusal) = plan.move_outs.refusal() {
        tx.rollback().await?;
        bail!(
            "{}; nothing written",
            refusal.message("add --allow-mass-deactivate")
        );
    }
    let source = file
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ids = plan.move_outs.ids();
    let done = recipients::import(
        &mut tx,
        ImportWrite {
            rows: &plan.rows,
            rejected: plan.rejected.len(),
            provided: plan.provided,
            deactivate: ids.as_deref(),
            held: plan.move_outs.held.len(),
            source: &source,
        },
        |_, _| {},
    )
    .await?;
    tx.commit().await?;
    for line in import::done_lines(&plan, &done) {
        println!("{line}");
    }
    Ok(())
}
