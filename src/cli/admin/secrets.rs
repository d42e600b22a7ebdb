//! `packtrack admin secrets …`: the key that seals stored secrets.

use anyhow::Result;
use clap::Subcommand;

use crate::config::Config;
use crate::db::unscoped::Admin;
use crate::secrets::SecretsKey;

#[derive(Debug, Subcommand)]
pub enum SecretsCmd {
    /// Re-seal every stored secret under a new key (older keys stay to open stragglers).
    Rotate,
}

pub(super) async fn run(cfg: &Config, admin: &Admin<'_>, cmd: SecretsCmd) -> Result<()> {
    match cmd {
        SecretsCmd::Rotate => {
            let keys = SecretsKey::load_or_create(&cfg.keys_dir)?;
            keys.rotate()?;
            let n = admin.reseal_all(&keys).await?;
            println!(
                "secrets key rotated to {}; {n} secrets re-sealed",
                keys.id_hex()
            );
        }
    }
    Ok(())
}
