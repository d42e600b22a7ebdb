//! `packtrack admin facility …`: facilities.

use anyhow::Result;
use clap::Subcommand;

use super::text_arg;
use crate::db::unscoped::Admin;

#[derive(Debug, Subcommand)]
pub enum FacilityCmd {
    Create {
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
    },
}

pub(super) async fn run(admin: &Admin<'_>, cmd: FacilityCmd) -> Result<()> {
    match cmd {
        FacilityCmd::Create { slug, name } => {
            text_arg("--name", &name)?;
            admin.create_facility(&slug, &name).await?;
            println!("facility {slug} created");
        }
    }
    Ok(())
}
