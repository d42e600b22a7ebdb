//! The admin console's Channels tab: a facility's SMTP, SMS and webhook integrations, set
//! and tested by its admins (before, only the host's admin CLI could). Admins only, in their
//! own session. Secrets are sealed here, the moment they arrive, and never go back out.
//! URLs must point at public addresses unless the host allowed a network
//! (`notify::egress`): checked when saved and again on every connection.

use std::time::Duration;

use super::Ops;
use crate::db::integrations::{self, ChannelKind, ChannelRow};
use crate::domain::Principal;
use crate::domain::text::Lines;
use crate::error::AppError;
use crate::notify::{config, http, send, templates};

/// How long a test message may take before the console is told it timed out (the worker's
/// bound on one delivery).
pub const TEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest SMTP From address, user name or SMS account.
const FIELD_MAX: usize = 254;

/// A Channels form as the admin submitted it. Empty `url` and `None` secret keep what is
/// stored. The secret never shows in `Debug`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ChannelForm {
    /// The webhook edited (`None`: a new one); SMTP and SMS have one each.
    pub id: Option<i64>,
    pub kind: Option<ChannelKind>,
    pub url: String,
    /// SMTP From address.
    pub sender: String,
    /// SMTP user name, SMS account (empty: none).
    pub username: String,
    /// A new password, token or signing secret (`None`: keep the stored one).
    pub secret: Option<String>,
    pub include_pickup_code: bool,
}

impl std::fmt::Debug for ChannelForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelForm")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("url", &self.url)
            .field("secret", &self.secret.as_ref().map(|_| "<new>"))
            .finish_non_exhaustive()
    }
}

/// What a test message did: sent (the receiver took it), or why not (one clean line).
pub type TestOutcome = Result<(), String>;

fn invalid(e: impl Into<String>) -> AppError {
    AppError::Invalid(e.into())
}

impl Ops {
    /// The facility's integrations (admins).
    pub async fn channels(&self, p: &Principal) -> Result<Vec<ChannelRow>, AppError> {
        Self::require_admin(p)?;
        self.db
            .scoped(p, async |tx| integrations::list(tx).await)
            .await
    }

    /// Saves a Channels form: checks it as the admin CLI checks its arguments, refuses a URL
    /// that points at an address notifications may not reach, seals a new secret, and
    /// stores it all with an audit row. Returns the integration's id.
    pub async fn save_channel(&self, p: &Principal, form: &ChannelForm) -> Result<i64, AppError> {
        Self::require_admin(p)?;
        let kind = form.kind.ok_or_else(|| invalid("which channel?"))?;
        let existing =
            self.channels(p).await?.into_iter().find(|c| {
                c.kind == kind && (kind != ChannelKind::Webhook || Some(c.id) == form.id)
            });
        if kind == ChannelKind::Webhook && form.id.is_some() && existing.is_none() {
            return Err(AppError::NotFound);
        }
        let sender = form.sender.trim();
        let username = form.username.trim();
        for (field, value) in [("From", sender), ("user name", username)] {
            super::checked(field, value, Lines::One)?;
            if value.chars().count() > FIELD_MAX {
                return Err(invalid(format!(
                    "the {field} is longer than {FIELD_MAX} characters"
                )));
            }
        }
        let secret = form.secret.as_deref().filter(|s| !s.is_empty());
        if let Some(s) = secret {
            super::checked("secret", s, Lines::One)?;
            if kind == ChannelKind::Webhook {
                config::webhook_secret(s).map_err(invalid)?;
            }
        }
        let secret_after = secret.is_some() || existing.as_ref().is_some_and(|c| c.secret_set);
        if kind == ChannelKind::Webhook && !secret_after {
            return Err(invalid(format!(
                "a webhook needs a signing secret of at least {} characters",
                crate::domain::limits::WEBHOOK_SECRET_MIN
            )));
        }
        // The URL in force after the save: the one typed, or the stored one (whose hidden
        // parts the console never had).
        let typed = form.url.trim();
        let stored_url = match (&existing, typed.is_empty()) {
            (Some(c), true) => Some(self.stored_url(p, c.id).await?),
            (None, true) => return Err(invalid("the URL is required")),
            _ => None,
        };
        let url_text = stored_url.as_deref().unwrap_or(typed);
        let url = match kind {
            ChannelKind::Smtp => config::smtp_url(url_text, !username.is_empty() || secret_after),
            ChannelKind::Sms | ChannelKind::Webhook => config::http_url(url_text),
        }
        .map_err(invalid)?;
        if kind == ChannelKind::Smtp {
            config::from_address(sender).map_err(invalid)?;
        }
        if let Some((host, port)) = config::host_port(&url) {
            self.egress.vet(&host, port).await.map_err(invalid)?;
        }
        let keys = match secret {
            Some(_) => Some(self.secrets().ok_or_else(|| {
                invalid("secrets cannot be stored on this server (no secrets key)")
            })?),
            None => None,
        };
        let sealed = secret
            .zip(keys)
            .map(|(s, k)| k.seal(&format!("facility:{}", p.facility().0), s.as_bytes()));
        let shown = config::shown_url(&url);
        let typed_url = (!typed.is_empty()).then(|| url.as_str().to_string());
        let save = integrations::Save {
            id: form.id.filter(|_| kind == ChannelKind::Webhook),
            kind,
            url: typed_url.as_deref(),
            shown_url: &shown,
            sender: (kind == ChannelKind::Smtp).then_some(sender),
            username: (kind != ChannelKind::Webhook && !username.is_empty()).then_some(username),
            sealed,
            include_pickup_code: form.include_pickup_code,
        };
        self.db
            .scoped(p, async |tx| integrations::save(tx, &save).await)
            .await
    }

    async fn stored_url(&self, p: &Principal, id: i64) -> Result<String, AppError> {
        self.db
            .scoped(p, async |tx| integrations::stored(tx, id).await)
            .await
            .map(|s| s.url)
    }

    /// Sends a test message through a saved integration, by the worker's own sending code
    /// (the same URL, address, TLS and authentication rules), to `to` (an e-mail address for
    /// SMTP, a phone number for SMS; a webhook goes to its URL), within the test timeout.
    /// The outcome is the answer (`Err` only when the test could not be attempted); it is
    /// audited as `integration.test`, without the address.
    pub async fn test_channel(
        &self,
        p: &Principal,
        id: i64,
        to: &str,
    ) -> Result<TestOutcome, AppError> {
        Self::require_admin(p)?;
        let stored = self
            .db
            .scoped(p, async |tx| integrations::stored(tx, id).await)
            .await?;
        let to = to.trim();
        let to = match stored.kind {
            ChannelKind::Smtp => crate::admin::import::valid_email(to)
                .ok_or_else(|| invalid("type the e-mail address the test should go to"))?,
            ChannelKind::Sms => crate::admin::import::normalize_phone(to)
                .ok_or_else(|| invalid("type the phone number the test should go to"))?,
            ChannelKind::Webhook => String::new(),
        };
        let secret = match &stored.secret {
            Some(sealed) => {
                let keys = self.secrets().ok_or_else(|| {
                    invalid("the secret cannot be opened on this server (no secrets key)")
                })?;
                Some(keys.open(&format!("facility:{}", p.facility().0), sealed)?)
            }
            None => None,
        };
        let outcome = tokio::time::timeout(
            self.test_timeout,
            self.send_test(p, &stored, secret.as_deref(), &to),
        )
        .await
        .unwrap_or_else(|_| {
            Err(format!(
                "timed out after {:.1} s: the receiver did not answer",
                self.test_timeout.as_secs_f64()
            ))
        });
        let ok = outcome.is_ok();
        self.db
            .scoped(p, async |tx| {
                integrations::record_test(tx, id, stored.kind, ok).await
            })
            .await?;
        Ok(outcome)
    }

    async fn send_test(
        &self,
        p: &Principal,
        stored: &integrations::Stored,
        secret: Option<&[u8]>,
        to: &str,
    ) -> TestOutcome {
        let http = http::client(self.test_timeout, &self.egress)?;
        let route = send::Route {
            kind: stored.kind.as_str(),
            url: &stored.url,
            sender: stored.sender.as_deref(),
            username: stored.username.as_deref(),
            secret,
        };
        let delivery_id = send::new_delivery_id();
        let facility = p.facility_name();
        let (mail, text);
        let out = match stored.kind {
            ChannelKind::Smtp => {
                mail = templates::test_email(facility);
                send::Outgoing::Email {
                    to_name: "",
                    to,
                    mail: &mail,
                    delivery_id: &delivery_id,
                }
            }
            ChannelKind::Sms => {
                text = templates::test_sms(facility);
                send::Outgoing::Sms { to, text: &text }
            }
            ChannelKind::Webhook => send::Outgoing::Webhook {
                delivery_id: &delivery_id,
                body: test_webhook_body(&delivery_id, p.slug()),
                now_unix: chrono::Utc::now().timestamp(),
            },
        };
        send::send(&route, out, &http, &self.egress, self.test_timeout)
            .await
            .map_err(|e| e.message)
    }
}

/// A webhook test: the usual body with event `test` and no package or recipient.
fn test_webhook_body(delivery_id: &str, facility: &str) -> Vec<u8> {
    crate::notify::http::webhook_body(delivery_id, "test", facility, &serde_json::json!({}), false)
}
