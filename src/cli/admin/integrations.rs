//! `packtrack admin smtp|sms|webhook …`: where a facility's notifications go. URLs and
//! addresses are checked here, before anything is stored; secrets come from stdin and are
//! sealed under the secrets key.

use anyhow::Result;
use clap::Subcommand;

use super::read_secret_line;
use crate::config::Config;
use crate::db::unscoped::Admin;
use crate::notify::config;
use crate::secrets::SecretsKey;

#[derive(Debug, Subcommand)]
pub enum SmtpCmd {
    /// Where the facility's notification email goes out.
    Set {
        #[arg(long)]
        facility: String,
        /// smtp://HOST:PORT (STARTTLS required), smtps://HOST:PORT (TLS), or
        /// smtp://HOST:PORT?tls=none for plain SMTP to a local relay (with a password only
        /// to localhost).
        #[arg(long)]
        url: String,
        /// The From address.
        #[arg(long)]
        from: String,
        #[arg(long)]
        username: Option<String>,
        /// Read the SMTP password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SmsCmd {
    /// Where the facility's text messages go: a JSON POST of {"to", "message"} per SMS,
    /// with `Authorization: Bearer TOKEN` when a token is set.
    Set {
        #[arg(long)]
        facility: String,
        /// http:// or https:// URL of the SMS provider's send endpoint.
        #[arg(long)]
        url: String,
        /// Read the API token from the first line of stdin (without it, no Authorization
        /// header is sent).
        #[arg(long)]
        token_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum WebhookCmd {
    /// Add a webhook: JSON POSTs signed with HMAC-SHA256 under the secret.
    Add {
        #[arg(long)]
        facility: String,
        #[arg(long)]
        url: String,
        /// Read the signing secret from the first line of stdin.
        #[arg(long, required = true)]
        secret_stdin: bool,
        /// Send each package's pickup code too. Off by default: a pickup code lets whoever
        /// holds it collect the parcel, so only receivers that need it should get it.
        #[arg(long)]
        include_pickup_code: bool,
    },
}

pub(super) async fn smtp(cfg: &Config, admin: &Admin<'_>, cmd: SmtpCmd) -> Result<()> {
    match cmd {
        SmtpCmd::Set {
            facility,
            url,
            from,
            username,
            password_stdin,
        } => {
            // The TLS rules the worker applies on every delivery, checked now.
            let has_credentials =
                password_stdin || username.as_deref().is_some_and(|u| !u.is_empty());
            let parsed = config::smtp_url(&url, has_credentials).map_err(anyhow::Error::msg)?;
            config::from_address(&from).map_err(anyhow::Error::msg)?;
            let password = if password_stdin {
                Some(read_secret_line("password")?)
            } else {
                None
            };
            let keys = SecretsKey::load_or_create(&cfg.keys_dir)?;
            admin
                .set_smtp(
                    &facility,
                    parsed.as_str(),
                    &from,
                    username.as_deref(),
                    |f| {
                        password
                            .as_ref()
                            .map(|p| keys.seal(&format!("facility:{}", f.0), p.as_bytes()))
                    },
                )
                .await?;
            println!("smtp for {facility}: {parsed} from {from}");
            warn_if_private(&parsed).await;
        }
    }
    Ok(())
}

pub(super) async fn sms(cfg: &Config, admin: &Admin<'_>, cmd: SmsCmd) -> Result<()> {
    match cmd {
        SmsCmd::Set {
            facility,
            url,
            token_stdin,
        } => {
            let parsed = config::http_url(&url).map_err(anyhow::Error::msg)?;
            let token = if token_stdin {
                Some(read_secret_line("token")?)
            } else {
                None
            };
            let shown = config::shown_url(&parsed);
            let keys = SecretsKey::load_or_create(&cfg.keys_dir)?;
            admin
                .set_sms(&facility, parsed.as_str(), &shown, |f| {
                    token
                        .as_ref()
                        .map(|t| keys.seal(&format!("facility:{}", f.0), t.as_bytes()))
                })
                .await?;
            println!(
                "sms for {facility}: {shown} ({})",
                if token.is_some() {
                    "token sealed"
                } else {
                    "no token"
                }
            );
            warn_if_private(&parsed).await;
        }
    }
    Ok(())
}

pub(super) async fn webhook(cfg: &Config, owner: &sqlx::PgPool, cmd: WebhookCmd) -> Result<()> {
    match cmd {
        WebhookCmd::Add {
            facility,
            url,
            include_pickup_code,
            ..
        } => {
            let parsed = config::http_url(&url).map_err(anyhow::Error::msg)?;
            let secret = read_secret_line("secret")?;
            config::webhook_secret(&secret).map_err(anyhow::Error::msg)?;
            let keys = SecretsKey::load_or_create(&cfg.keys_dir)?;
            let id = Admin::new(owner)
                .add_webhook(&facility, parsed.as_str(), include_pickup_code, |f| {
                    keys.seal(&format!("facility:{}", f.0), secret.as_bytes())
                })
                .await?;
            println!(
                "webhook {id} added for {facility}: {parsed} (pickup codes {})",
                if include_pickup_code {
                    "included"
                } else {
                    "left out"
                }
            );
            warn_if_private(&parsed).await;
        }
    }
    Ok(())
}

/// The host's owner may point an integration anywhere, but the server refuses to connect
/// to addresses that are not public unless `serve --notify-allow-private` allows them: say
/// so now rather than in the outbox later.
async fn warn_if_private(url: &url::Url) {
    let Some((host, port)) = config::host_port(url) else {
        return;
    };
    if let Err(why) = crate::notify::egress::Egress::default()
        .vet(&host, port)
        .await
    {
        eprintln!(
            "note: {why}. Start the server with --notify-allow-private covering that \
             address, or deliveries will fail."
        );
    }
}
