//! A facility's integrations (SMTP, SMS, webhooks) as its admins see and set them in the
//! console's Channels tab, under RLS and audited in the same transaction (the admin CLI's
//! are in `unscoped/integrations.rs`). Secrets arrive sealed and never leave: the list says
//! only whether one is set, and URLs are listed without the parts that may carry a key.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::TenantTx;
use crate::domain::net::{hides_parts, shown_url};
use crate::error::AppError;

/// The three kinds of integration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    Smtp,
    Sms,
    Webhook,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 3] = [ChannelKind::Smtp, ChannelKind::Sms, ChannelKind::Webhook];

    /// As stored in `integrations.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Smtp => "smtp",
            ChannelKind::Sms => "sms",
            ChannelKind::Webhook => "webhook",
        }
    }

    pub fn parse(kind: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == kind)
    }

    /// As people call it.
    pub fn label(self) -> &'static str {
        match self {
            ChannelKind::Smtp => "E-mail (SMTP)",
            ChannelKind::Sms => "SMS",
            ChannelKind::Webhook => "Webhook",
        }
    }
}

/// One integration as the console shows it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRow {
    pub id: i64,
    pub kind: ChannelKind,
    /// The URL without user name, password, query or fragment.
    pub url: String,
    /// The stored URL has such parts: the form keeps them unless a new URL is typed.
    pub url_hidden: bool,
    /// SMTP From address.
    pub sender: Option<String>,
    /// SMTP user name, SMS account.
    pub username: Option<String>,
    pub secret_set: bool,
    pub enabled: bool,
    pub include_pickup_code: bool,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
}

type Row = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    bool,
    bool,
    bool,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

/// The facility's integrations: SMTP, SMS, then webhooks by id.
pub async fn list(tx: &mut TenantTx<'_>) -> Result<Vec<ChannelRow>, AppError> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, kind, url, sender, username, secret IS NOT NULL, enabled, \
                include_pickup_code, last_error, last_error_at, last_success_at \
         FROM integrations WHERE facility_id = $1 \
         ORDER BY array_position(ARRAY['smtp', 'sms', 'webhook'], kind), id",
    )
    .bind(tx.facility().0)
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let kind = ChannelKind::parse(&r.1)?;
            let (url, url_hidden) = match url::Url::parse(&r.2) {
                Ok(u) => (shown_url(&u), hides_parts(&u)),
                // Not a URL (never stored by either path): show nothing of it.
                Err(_) => ("(not a valid URL)".to_string(), true),
            };
            Some(ChannelRow {
                id: r.0,
                kind,
                url,
                url_hidden,
                sender: r.3,
                username: r.4,
                secret_set: r.5,
                enabled: r.6,
                include_pickup_code: r.7,
                last_error: r.8,
                last_error_at: r.9,
                last_success_at: r.10,
            })
        })
        .collect())
}

/// An integration as stored, for a test message. No `Debug`: the secret (sealed) is here.
pub struct Stored {
    pub id: i64,
    pub kind: ChannelKind,
    pub url: String,
    pub sender: Option<String>,
    pub username: Option<String>,
    pub secret: Option<Vec<u8>>,
}

/// One of this facility's integrations (another facility's id answers "not found").
pub async fn stored(tx: &mut TenantTx<'_>, id: i64) -> Result<Stored, AppError> {
    type StoredRow = (
        String,
        String,
        Option<String>,
        Option<String>,
        Option<Vec<u8>>,
    );
    let row: Option<StoredRow> = sqlx::query_as(
        "SELECT kind, url, sender, username, secret FROM integrations \
             WHERE facility_id = $1 AND id = $2",
    )
    .bind(tx.facility().0)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    let (kind, url, sender, username, secret) = row.ok_or(AppError::NotFound)?;
    Ok(Stored {
        id,
        kind: ChannelKind::parse(&kind).ok_or(AppError::NotFound)?,
        url,
        sender,
        username,
        secret,
    })
}

/// What the console saves. `None` for the URL or the secret keeps the stored one.
pub struct Save<'a> {
    /// The webhook edited (`None`: a new one); SMTP and SMS are one per facility.
    pub id: Option<i64>,
    pub kind: ChannelKind,
    pub url: Option<&'a str>,
    /// For the audit row: the URL in force after the save, without hidden parts.
    pub shown_url: &'a str,
    pub sender: Option<&'a str>,
    pub username: Option<&'a str>,
    /// Sealed under the facility.
    pub sealed: Option<Vec<u8>>,
    pub include_pickup_code: bool,
}

/// Saves an integration (turning it on, clearing its last error, as the admin CLI does)
/// with an `integration.KIND.set` (or `.add`) audit row: the URL as shown, whether a new
/// secret was given, never the secret or the user name. Returns its id.
pub async fn save(tx: &mut TenantTx<'_>, s: &Save<'_>) -> Result<i64, AppError> {
    let facility = tx.facility().0;
    let kind = s.kind.as_str();
    let new_secret = s.sealed.is_some();
    let (id, action): (Option<i64>, &str) = match (s.kind, s.id) {
        (ChannelKind::Webhook, Some(id)) => (
            sqlx::query_scalar(
                "UPDATE integrations SET url = coalesce($3, url), \
                     secret = coalesce($4, secret), include_pickup_code = $5, enabled = true, \
                     last_error = NULL \
                 WHERE facility_id = $1 AND id = $2 AND kind = 'webhook' RETURNING id",
            )
            .bind(facility)
            .bind(id)
            .bind(s.url)
            .bind(&s.sealed)
            .bind(s.include_pickup_code)
            .fetch_optional(tx.conn())
            .await?,
            "integration.webhook.set",
        ),
        (ChannelKind::Webhook, None) => (
            Some(
                sqlx::query_scalar(
                    "INSERT INTO integrations (facility_id, kind, url, secret, include_pickup_code) \
                     VALUES ($1, 'webhook', $2, $3, $4) RETURNING id",
                )
                .bind(facility)
                .bind(s.url.ok_or_else(|| AppError::Invalid("the URL is required".into()))?)
                .bind(&s.sealed)
                .bind(s.include_pickup_code)
                .fetch_one(tx.conn())
                .await?,
            ),
            "integration.webhook.add",
        ),
        (ChannelKind::Smtp | ChannelKind::Sms, _) => {
            let exists: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM integrations WHERE facility_id = $1 AND kind = $2)",
            )
            .bind(facility)
            .bind(kind)
            .fetch_one(tx.conn())
            .await?;
            if !exists && s.url.is_none() {
                return Err(AppError::Invalid("the URL is required".into()));
            }
            // One SMTP and one SMS integration per facility (partial unique indexes, so the
            // conflict target names the kind). A kept URL (`$3` NULL) is never inserted: the
            // row exists, checked above; the placeholder only satisfies the column's check.
            let sql = if s.kind == ChannelKind::Smtp {
                "INSERT INTO integrations (facility_id, kind, url, sender, username, secret) \
                 VALUES ($1, $2, coalesce($3, 'kept'), $4, $5, $6) \
                 ON CONFLICT (facility_id) WHERE kind = 'smtp' DO UPDATE \
                 SET url = coalesce($3, integrations.url), sender = EXCLUDED.sender, \
                     username = EXCLUDED.username, \
                     secret = coalesce(EXCLUDED.secret, integrations.secret), enabled = true, \
                     last_error = NULL \
                 RETURNING id"
            } else {
                "INSERT INTO integrations (facility_id, kind, url, sender, username, secret) \
                 VALUES ($1, $2, coalesce($3, 'kept'), $4, $5, $6) \
                 ON CONFLICT (facility_id) WHERE kind = 'sms' DO UPDATE \
                 SET url = coalesce($3, integrations.url), sender = EXCLUDED.sender, \
                     username = EXCLUDED.username, \
                     secret = coalesce(EXCLUDED.secret, integrations.secret), enabled = true, \
                     last_error = NULL \
                 RETURNING id"
            };
            let id: i64 = sqlx::query_scalar(sql)
                .bind(facility)
                .bind(kind)
                .bind(s.url)
                .bind(s.sender)
                .bind(s.username)
                .bind(&s.sealed)
                .fetch_one(tx.conn())
                .await?;
            let action = if s.kind == ChannelKind::Smtp {
                "integration.smtp.set"
            } else {
                "integration.sms.set"
            };
            (Some(id), action)
        }
    };
    let id = id.ok_or(AppError::NotFound)?;
    let mut detail = json!({
        "id": id,
        "via": "console",
        "secret": if new_secret { "new" } else { "kept" },
    });
    if let Value::Object(d) = &mut detail {
        match s.kind {
            ChannelKind::Smtp => {
                d.insert("from".into(), json!(s.sender));
                d.insert("username_set".into(), json!(s.username.is_some()));
            }
            ChannelKind::Sms => {
                d.insert("account_set".into(), json!(s.username.is_some()));
            }
            ChannelKind::Webhook => {
                d.insert("include_pickup_code".into(), json!(s.include_pickup_code));
            }
        }
    }
    super::audit::record(tx, action, s.shown_url, detail).await?;
    Ok(id)
}

/// Records a test message sent through an integration: which, and whether it went (never
/// where to, nor the receiver's answer, which may quote the address).
pub async fn record_test(
    tx: &mut TenantTx<'_>,
    id: i64,
    kind: ChannelKind,
    ok: bool,
) -> Result<(), AppError> {
    super::audit::record(
        tx,
        "integration.test",
        &format!("integration #{id}"),
        json!({ "channel": kind.as_str(), "ok": ok }),
    )
    .await?;
    Ok(())
}
