//! `packtrack admin …`: administration on the server host, as the owner role (which sees
//! every facility). One file per command group, each with its clap types and its handler;
//! here the group list, the dispatch (which commands anchor the audit chain afterwards) and
//! the argument helpers the groups share.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Subcommand;

use super::{open, print_demo_login};
use crate::auth::pubkey;
use crate::config::Config;
use crate::db::unscoped::Admin;
use crate::secrets::SecretsKey;

mod audit;
mod backup;
mod database;
mod device;
mod facility;
mod integrations;
mod recipients;
mod secrets;
mod user;

pub use audit::AuditCmd;
pub use backup::{BackupArgs, BackupSub, RestoreArgs};
pub use device::{DeviceCmd, OnOff};
pub use facility::FacilityCmd;
pub use integrations::{SmsCmd, SmtpCmd, WebhookCmd};
pub use recipients::RecipientsCmd;
pub use secrets::SecretsCmd;
pub use user::{UserAdd, UserCmd};

#[derive(Debug, Subcommand)]
pub enum AdminCmd {
    #[command(subcommand)]
    Facility(FacilityCmd),
    #[command(subcommand)]
    User(UserCmd),
    #[command(subcommand)]
    Recipients(RecipientsCmd),
    #[command(subcommand)]
    Audit(AuditCmd),
    #[command(subcommand)]
    Smtp(SmtpCmd),
    #[command(subcommand)]
    Sms(SmsCmd),
    #[command(subcommand)]
    Webhook(WebhookCmd),
    #[command(subcommand)]
    Secrets(SecretsCmd),
    #[command(subcommand)]
    Device(DeviceCmd),
    /// Print the owner role's connection URL of the database in use.
    DbUrl,
    /// Run psql as the owner role on the database in use.
    Psql {
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Seed the demo facility (when the database has none) and print how to log in.
    Demo,
    /// Write an encrypted backup (`--to DIR`), or check one (`verify FILE`).
    Backup(BackupArgs),
    /// Restore a backup into an empty data dir or an empty DATABASE_URL database.
    Restore(RestoreArgs),
}

pub(super) async fn admin(cfg: &Config, cmd: AdminCmd) -> Result<ExitCode> {
    // Before `open`: restore needs an unmigrated, empty database; verify needs none.
    let cmd = match cmd {
        AdminCmd::Restore(args) => return backup::restore(cfg, args).await,
        AdminCmd::Backup(BackupArgs {
            verify:
                Some(BackupSub::Verify {
                    file,
                    pitr,
                    dec,
                    pace,
                }),
            ..
        }) => return backup::verify(cfg, file.as_deref(), pitr.as_deref(), &dec, &pace).await,
        other => other,
    };
    let db = open(cfg).await?;
    let owner = db.owner_pool().await?;
    let admin = Admin::new(&owner);
    // Commands that may have written audit entries anchor the chain heads afterwards; not
    // `psql`, whose changes nobody vouches for (a checkpoint never moves an anchor back
    // anyway), nor `audit verify`, which anchors only what it verified.
    let anchors = !matches!(
        cmd,
        AdminCmd::DbUrl | AdminCmd::Psql { .. } | AdminCmd::Audit(_) | AdminCmd::Backup(_)
    );
    match cmd {
        AdminCmd::Facility(cmd) => facility::run(&admin, cmd).await?,
        AdminCmd::User(cmd) => user::run(cfg, &admin, cmd).await?,
        AdminCmd::Recipients(cmd) => recipients::run(&admin, cmd).await?,
        AdminCmd::Audit(cmd) => {
            let code = audit::run(cfg, &owner, cmd).await;
            owner.close().await;
            return code;
        }
        AdminCmd::Smtp(cmd) => integrations::smtp(cfg, &admin, cmd).await?,
        AdminCmd::Sms(cmd) => integrations::sms(cfg, &admin, cmd).await?,
        AdminCmd::Webhook(cmd) => integrations::webhook(cfg, &owner, cmd).await?,
        AdminCmd::Secrets(cmd) => secrets::run(cfg, &admin, cmd).await?,
        AdminCmd::Device(cmd) => device::run(&admin, cmd).await?,
        AdminCmd::DbUrl => database::url(&db),
        AdminCmd::Psql { args } => {
            owner.close().await;
            return database::psql(&db, &args).await;
        }
        AdminCmd::Backup(args) => {
            owner.close().await;
            return backup::backup(cfg, &db, args).await;
        }
        AdminCmd::Restore(_) => unreachable!("dispatched above"),
        AdminCmd::Demo => {
            let keys = SecretsKey::load_or_create(&cfg.keys_dir)?;
            let seeded = crate::admin::demo::seed(&owner, &keys).await?;
            print_demo_login(&seeded);
        }
    }
    if anchors {
        audit::checkpoint(cfg, &owner).await;
    }
    owner.close().await;
    Ok(ExitCode::SUCCESS)
}

/// An OpenSSH public key line read from `--key-file`; errors name the file.
fn read_public_key(path: &Path) -> Result<pubkey::KeyInfo> {
    let line =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    pubkey::parse_line(&line).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// A free-text option that will be stored and shown to others: no control characters or
/// bidi overrides (`domain::text`), refused with the option's name.
fn text_arg(option: &'static str, value: &str) -> Result<()> {
    crate::domain::text::check(option, value, crate::domain::text::Lines::One)?;
    Ok(())
}

/// The first line of stdin (of at most 4 KiB): secrets never go on the command line, where
/// `ps` and shell history would show them.
fn read_secret_line(what: &str) -> Result<String> {
    let mut buf = String::new();
    std::io::stdin()
        .take(4096)
        .read_to_string(&mut buf)
        .with_context(|| format!("cannot read the {what} from stdin"))?;
    let line = buf.lines().next().unwrap_or("").to_string();
    if line.is_empty() {
        bail!("no {what} on stdin");
    }
    Ok(line)
}
