//! `packtrack admin user …`: users, memberships and their credentials (password, SSH
//! keys, TOTP, kiosk PIN).

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::{Args, Subcommand};

use super::{read_public_key, read_secret_line, text_arg};
use crate::auth::{password, totp};
use crate::config::Config;
use crate::db::unscoped::Admin;
use crate::domain::Role;
use crate::domain::limits::PASSWORD_MIN;
use crate::secrets::SecretsKey;

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Add a user (or a membership, when the user exists).
    Add(UserAdd),
    /// Register one OpenSSH public key for a user.
    AddKey {
        #[arg(long)]
        login: String,
        #[arg(long)]
        key_file: PathBuf,
    },
    /// Enroll (or re-enroll) TOTP; prints the otpauth:// URI.
    TotpEnroll {
        #[arg(long)]
        login: String,
    },
    /// Set the PIN that unlocks kiosk terminals for this user (4-12 digits, from stdin).
    SetPin {
        #[arg(long)]
        login: String,
        #[arg(long, required = true)]
        pin_stdin: bool,
    },
}

#[derive(Debug, Args)]
pub struct UserAdd {
    #[arg(long)]
    login: String,
    #[arg(long)]
    facility: String,
    #[arg(long)]
    role: Role,
    /// Display name (defaults to the login).
    #[arg(long)]
    name: Option<String>,
    /// Read the password from the first line of stdin.
    #[arg(long)]
    password_stdin: bool,
}

pub(super) async fn run(cfg: &Config, admin: &Admin<'_>, cmd: UserCmd) -> Result<()> {
    match cmd {
        UserCmd::Add(add) => {
            let hash = if add.password_stdin {
                let pw = read_secret_line("password")?;
                if pw.chars().count() < PASSWORD_MIN {
                    bail!("password must be at least {PASSWORD_MIN} characters");
                }
                Some(password::hash(pw).await)
            } else {
                None
            };
            let display = add.name.clone().unwrap_or_else(|| add.login.clone());
            text_arg("--name", &display)?;
            let created = admin
                .add_user(&add.login, &display, &add.facility, add.role, hash)
                .await?;
            println!(
                "{} {} in {} as {}",
                if created {
                    "user added:"
                } else {
                    "membership set:"
                },
                add.login,
                add.facility,
                add.role
            );
        }
        UserCmd::AddKey { login, key_file } => {
            let key = read_public_key(&key_file)?;
            admin.add_key(&login, &key).await?;
            println!("key {} added for {login}", key.fingerprint);
        }
        UserCmd::TotpEnroll { login } => {
            let keys = SecretsKey::load_or_create(&cfg.keys_dir)?;
            let secret = totp::new_secret();
            admin
                .set_totp(&login, |uid| keys.seal(&format!("user:{}", uid.0), &secret))
                .await?;
            let slugs = admin.user_facility_slugs(&login).await?;
            let account = match slugs.as_slice() {
                [one] => format!("{login}@{one}"),
                _ => login.clone(),
            };
            let uri = totp::otpauth_uri(&secret, &account);
            println!("{uri}");
            if std::io::stdout().is_terminal()
                && let Some(qr) = totp::qr_terminal(&uri)
            {
                println!("{qr}");
            }
        }
        UserCmd::SetPin { login, .. } => {
            let pin = read_secret_line("PIN")?;
            let pin = pin.trim();
            crate::domain::pin::check(pin)?;
            let hash = password::hash(pin.to_string()).await;
            admin.set_pin(&login, &hash).await?;
            println!("kiosk PIN set for {login}");
        }
    }
    Ok(())
}
