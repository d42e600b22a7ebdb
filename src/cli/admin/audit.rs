//! `packtrack admin audit …` and the checkpoint every writing admin command ends with.

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;

use crate::audit_anchor::Anchor;
use crate::config::Config;
use crate::secrets::SecretsKey;

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Exit 0 when every audit chain verifies; otherwise name the first bad entry.
    Verify,
}

pub(super) async fn run(cfg: &Config, owner: &sqlx::PgPool, cmd: AuditCmd) -> Result<ExitCode> {
    match cmd {
        AuditCmd::Verify => verify(cfg, owner).await,
    }
}

/// `admin audit verify`: every chain on its own, then against the newest checkpoint of
/// this data dir; a clean result is anchored in turn.
async fn verify(cfg: &Config, owner: &sqlx::PgPool) -> Result<ExitCode> {
    let anchor = Anchor::new(&cfg.data_dir, SecretsKey::load_or_create(&cfg.keys_dir)?);
    match anchor.verify(owner).await? {
        Ok(report) => {
            let v = &report.verified;
            println!(
                "audit chain intact: {} entries in {} facilities",
                v.entries, v.facilities
            );
            match report.checkpoint {
                Some((n, at)) => println!(
                    "every chain holds its head at checkpoint {n} ({})",
                    at.format("%Y-%m-%d %H:%M:%S UTC")
                ),
                None => println!(
                    "no audit checkpoint yet in {}: the server and the admin CLI write them",
                    anchor.path().display()
                ),
            }
            checkpoint(cfg, owner).await;
            Ok(ExitCode::SUCCESS)
        }
        Err(findings) => {
            for f in findings {
                eprintln!("{f}");
            }
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Anchors the chain heads after an admin command. The command itself is done: a failure
/// here is a warning, not an error.
pub(super) async fn checkpoint(cfg: &Config, owner: &sqlx::PgPool) {
    let keys = match SecretsKey::load_or_create(&cfg.keys_dir) {
        Ok(keys) => keys,
        Err(e) => {
            eprintln!("warning: audit checkpoint not written: {e}");
            return;
        }
    };
    match Anchor::new(&cfg.data_dir, keys).checkpoint(owner).await {
        Ok(w) => {
            for r in w.regressed {
                eprintln!(
                    "warning: the audit chain of facility {} lost its checkpointed entry seq {}; \
                     run `packtrack admin audit verify`",
                    r.facility, r.anchored_seq
                );
            }
        }
        Err(e) => eprintln!("warning: audit checkpoint not written: {e}"),
    }
}
