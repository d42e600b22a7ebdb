//! The facility's notification outbox as its admins see it: counts by state and channel,
//! each integration's backlog and last error, recent failures (recipient data masked), and
//! retrying a failed or dead delivery.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::TenantTx;
use crate::error::{AppError, DbError};
use crate::logging::mask;

/// Rows per channel and state. `failing`: pending after at least one failed attempt.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct ChannelCounts {
    pub channel: String,
    pub pending: i64,
    pub failing: i64,
    pub delivered: i64,
    pub dead: i64,
}

/// One integration with its backlog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrationState {
    pub id: i64,
    pub kind: String,
    /// Scheme and host only: paths and queries of webhook URLs may carry tokens.
    pub target: String,
    pub enabled: bool,
    pub backlog: i64,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
}

/// A failed or dead delivery, personal data masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedRow {
    pub id: i64,
    pub channel: String,
    pub event: String,
    pub status: String,
    pub attempts: i32,
    pub recipient: String,
    pub last_error: String,
    pub created_at: DateTime<Utc>,
}

/// A failed row as stored: its payload holds personal data, so no `Debug`.
#[derive(sqlx::FromRow)]
struct RawFailed {
    id: i64,
    channel: String,
    event: String,
    status: String,
    attempts: i32,
    payload: Value,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboxView {
    pub channels: Vec<ChannelCounts>,
    pub integrations: Vec<IntegrationState>,
    pub failed: Vec<FailedRow>,
}

impl OutboxView {
    pub fn total(&self) -> ChannelCounts {
        let mut t = ChannelCounts {
            channel: "all".into(),
            ..Default::default()
        };
        for c in &self.channels {
            t.pending += c.pending;
            t.failing += c.failing;
            t.delivered += c.delivered;
            t.dead += c.dead;
        }
        t
    }
}

/// `https://user:pw@hooks.example.org/x?token=…` → `https://hooks.example.org`.
pub fn url_target(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    if scheme.is_empty() {
        host.to_string()
    } else {
        format!("{scheme}://{host}")
    }
}

fn recipient_field<'a>(payload: &'a Value, field: &str) -> Option<&'a str> {
    payload
        .get("recipient")?
        .get(field)?
        .as_str()
        .filter(|s| !s.trim().is_empty())
}

/// The recipient as shown: masked address or number for the channel, else masked name.
pub fn masked_recipient(channel: &str, payload: &Value) -> String {
    let shown = match channel {
        "email" => recipient_field(payload, "email").map(mask::email),
        "sms" => recipient_field(payload, "phone").map(mask::phone),
        _ => None,
    };
    shown
        .or_else(|| recipient_field(payload, "name").map(mask::name))
        .unwrap_or_else(|| "—".into())
}

/// An error message with the recipient's name, address and number masked.
pub fn scrub(message: &str, payload: &Value) -> String {
    let mut out = message.to_string();
    if let Some(e) = recipient_field(payload, "email") {
        out = out.replace(e, &mask::email(e));
    }
    if let Some(p) = recipient_field(payload, "phone") {
        out = out.replace(p, &mask::phone(p));
    }
    if let Some(n) = recipient_field(payload, "name") {
        out = out.replace(n, &mask::name(n));
    }
    out
}

pub async fn view(tx: &mut TenantTx<'_>, limit: i64) -> Result<OutboxView, DbError> {
    let facility = tx.facility().0;
    let channels = sqlx::query_as(
        "SELECT channel, \
                count(*) FILTER (WHERE status = 'pending') AS pending, \
                count(*) FILTER (WHERE status = 'pending' AND last_error IS NOT NULL) AS failing, \
                count(*) FILTER (WHERE status = 'delivered') AS delivered, \
                count(*) FILTER (WHERE status = 'dead') AS dead \
         FROM outbox WHERE facility_id = $1 GROUP BY channel ORDER BY channel",
    )
    .bind(facility)
    .fetch_all(tx.conn())
    .await?;
    type Row = (
        i64,
        String,
        String,
        bool,
        i64,
        Option<String>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT i.id, i.kind, i.url, i.enabled, \
                (SELECT count(*) FROM outbox o WHERE o.facility_id = i.facility_id \
                   AND o.integration_id = i.id AND o.status = 'pending'), \
                i.last_error, i.last_error_at, i.last_success_at \
         FROM integrations i WHERE i.facility_id = $1 ORDER BY i.kind, i.id",
    )
    .bind(facility)
    .fetch_all(tx.conn())
    .await?;
    let integrations = rows
        .into_iter()
        .map(
            |(id, kind, url, enabled, backlog, last_error, last_error_at, last_success_at)| {
                IntegrationState {
                    id,
                    kind,
                    target: url_target(&url),
                    enabled,
                    backlog,
                    // Integration errors name no recipient on purpose, but mask addresses
                    // in case a server echoed one.
                    last_error: last_error.map(|e| scrub_addresses(&e)),
                    last_error_at,
                    last_success_at,
                }
            },
        )
        .collect();
    let rows: Vec<RawFailed> = sqlx::query_as(
        "SELECT id, channel, event, status, attempts, payload, last_error, created_at \
         FROM outbox WHERE facility_id = $1 \
           AND (status = 'dead' OR (status = 'pending' AND last_error IS NOT NULL)) \
         ORDER BY id DESC LIMIT $2",
    )
    .bind(facility)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?;
    let failed = rows
        .into_iter()
        .map(|r| FailedRow {
            recipient: masked_recipient(&r.channel, &r.payload),
            last_error: scrub_addresses(&scrub(r.last_error.as_deref().unwrap_or(""), &r.payload)),
            id: r.id,
            channel: r.channel,
            event: r.event,
            status: r.status,
            attempts: r.attempts,
            created_at: r.created_at,
        })
        .collect();
    Ok(OutboxView {
        channels,
        integrations,
        failed,
    })
}

/// Masks anything that looks like an e-mail address.
fn scrub_addresses(text: &str) -> String {
    text.split(' ')
        .map(|w| {
            if w.contains('@') && w.contains('.') {
                let core = w.trim_matches(|c: char| "<>()[],;:\"'".contains(c));
                w.replace(core, &mask::email(core))
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Puts a dead or failing delivery back in the queue, due now, with a fresh attempt count.
/// Audited (the row's id, channel, event and former state; never its content).
pub async fn retry(tx: &mut TenantTx<'_>, id: i64) -> Result<(), AppError> {
    let facility = tx.facility().0;
    let row: Option<(String, String, String, i32)> = sqlx::query_as(
        "WITH old AS ( \
            SELECT id, status, attempts FROM outbox \
            WHERE facility_id = $1 AND id = $2 FOR UPDATE) \
         UPDATE outbox o SET status = 'pending', next_attempt_at = now(), attempts = 0, \
                last_error = NULL \
         FROM old WHERE o.facility_id = $1 AND o.id = old.id \
           AND (old.status = 'dead' OR (old.status = 'pending' AND o.last_error IS NOT NULL)) \
         RETURNING o.channel, o.event, old.status, old.attempts",
    )
    .bind(facility)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    let Some((channel, event, status, attempts)) = row else {
        let exists: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE facility_id = $1 AND id = $2)",
        )
        .bind(facility)
        .bind(id)
        .fetch_one(tx.conn())
        .await?;
        return Err(if exists {
            AppError::Invalid(format!(
                "notification #{id} has not failed: only failed or dead deliveries are retried"
            ))
        } else {
            AppError::NotFound
        });
    };
    super::audit::record(
        tx,
        "outbox.retry",
        &format!("notification #{id}"),
        json!({ "channel": channel, "event": event, "was": status, "attempts": attempts }),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests;
