//! `packtrack admin smtp|sms|webhook …`: where a facility's notifications go. URLs and
//! addresses are checked here, before anything is stored; secrets come from stdin and are
//! sealed under the secrets key.

use anyhow::{Result, bail};
use clap::Subcommand;

use super::read_secret_line;
use crate::config::Config;
use crate::db::unscoped::Admin;
use crate::domain::limits::WEBHOOK_SECRET_MIN;
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
            let parsed = url::Url::parse(&url)
                .ok()
                .filter(|u| matches!(u.scheme(), "smtp" | "smtps") && u.host_str().is_some())
                .ok_or_else(|| {
                    anyhow::anyhow!("`{url}` is not an smtp:// or smtps:// URL with a host")
                })?;
            // The TLS rules the worker applies on every delivery, checked now.
            let has_credentials =
                password_stdin || username.as_deref().is_some_and(|u| !u.is_empty());
            crate::notify::email::endpoint(parsed.as_str(), has_credentials)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if crate::admin::import::valid_email(&from).is_none() {
                bail!("`{from}` is not a valid From address");
            }
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
            let parsed = url::Url::parse(&url)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
                .ok_or_else(|| anyhow::anyhow!("the SMS URL is not an http:// or https:// URL"))?;
            let token = if token_stdin {
                Some(read_secret_line("token")?)
            } else {
                None
            };
            let shown = shown_url(&parsed);
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
            let parsed = url::Url::parse(&url)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
                .ok_or_else(|| anyhow::anyhow!("`{url}` is not an http:// or https:// URL"))?;
            let secret = read_secret_line("secret")?;
            if secret.len() < WEBHOOK_SECRET_MIN {
                bail!("the webhook secret must be at least {WEBHOOK_SECRET_MIN} characters");
            }
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
        }
    }
    Ok(())
}

/// A URL as it may be shown and audited: without user name, password, query or fragment
/// (an SMS provider's key often travels in one of them).
fn shown_url(url: &url::Url) -> String {
    let mut u = url.clone();
    let hidden = !u.username().is_empty()
        || u.password().is_some()
        || u.query().is_some()
        || u.fragment().is_some();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_query(None);
    u.set_fragment(None);
    if hidden {
        format!("{u} (credentials and query hidden)")
    } else {
        u.to_string()
    }
}
