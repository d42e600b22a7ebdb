//! `packtrack admin device …`: kiosk terminals (register, self-service, quarantine).

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Subcommand;

use super::{read_public_key, text_arg};
use crate::db::unscoped::Admin;

#[derive(Debug, Subcommand)]
pub enum DeviceCmd {
    /// Register a kiosk terminal (it logs in as kiosk+FACILITY with this key).
    Add {
        #[arg(long)]
        facility: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        key_file: PathBuf,
        /// Offer self-service pickup on its lock screen (recipients type their pickup
        /// code; staff confirm the handover with their PIN).
        #[arg(long)]
        self_service: bool,
    },
    /// Turn self-service pickup on or off for a device.
    SelfService {
        #[arg(long)]
        facility: String,
        #[arg(long)]
        name: String,
        #[arg(value_enum)]
        state: OnOff,
    },
    /// Cut a device off at once: its sessions end and its key stops working.
    Quarantine {
        #[arg(long)]
        facility: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        reason: String,
    },
    /// Let a quarantined device in again.
    Release {
        #[arg(long)]
        facility: String,
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

pub(super) async fn run(admin: &Admin<'_>, cmd: DeviceCmd) -> Result<()> {
    match cmd {
        DeviceCmd::Add {
            facility,
            name,
            key_file,
            self_service,
        } => {
            text_arg("--name", &name)?;
            let key = read_public_key(&key_file)?;
            admin.add_device(&facility, &name, &key).await?;
            if self_service {
                admin.set_self_service(&facility, &name, true).await?;
            }
            println!(
                "device `{name}` added to {facility} ({}); it logs in as kiosk+{facility}{}",
                key.fingerprint,
                if self_service {
                    "; self-service pickup on"
                } else {
                    ""
                }
            );
        }
        DeviceCmd::SelfService {
            facility,
            name,
            state,
        } => {
            let on = state == OnOff::On;
            admin.set_self_service(&facility, &name, on).await?;
            println!(
                "device `{name}`: self-service pickup {}",
                if on { "on" } else { "off" }
            );
        }
        DeviceCmd::Quarantine {
            facility,
            name,
            reason,
        } => {
            if reason.trim().is_empty() {
                bail!("a reason is required");
            }
            text_arg("--reason", reason.trim())?;
            admin
                .quarantine_device(&facility, &name, Some(reason.trim()))
                .await?;
            println!("device `{name}` quarantined");
        }
        DeviceCmd::Release { facility, name } => {
            admin.quarantine_device(&facility, &name, None).await?;
            println!("device `{name}` released");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
