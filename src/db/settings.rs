//! A facility's settings, as its admins edit them in the admin console: the name and time
//! zone columns, the `settings` document, and which notification channels are enabled
//! (`integrations.enabled`).
//!
//! Keys of the settings document (shared with the readers):
//! - `overdue_days` (integer, default 3): the dashboard and package list.
//! - `reminder_days` (integer, default 3, 0 = none) and `reminder_schedule` (array of
//!   integers, days after intake): the notification worker's reminders.
//! - `notification_retention_days` (integer, default 30): the worker prunes older rows.
//! - `default_location` (text, default empty): where intake puts a parcel unless told.
//! - `kiosk_relock_secs` (integer, default 120) and `kiosk_pin_totp` (bool, default false):
//!   kiosk terminals.

use serde_json::{Map, Value, json};

use super::TenantTx;
use crate::domain::limits::{FACILITY_NAME_MAX, TIME_ZONE_MAX};
use crate::error::AppError;

pub const DEFAULT_OVERDUE_DAYS: i64 = 3;
pub const DEFAULT_REMINDER_DAYS: i64 = 3;
pub const DEFAULT_RETENTION_DAYS: i64 = 30;
pub const DEFAULT_RELOCK_SECS: i64 = 120;

pub const OVERDUE_RANGE: (i64, i64) = (1, 60);
pub const REMINDER_RANGE: (i64, i64) = (1, 365);
pub const MAX_REMINDERS: usize = 5;
pub const RETENTION_RANGE: (i64, i64) = (1, 3650);
pub const RELOCK_MINUTES_RANGE: (i64, i64) = (1, 240);

/// A notification channel's switch: `None` when the facility has no such integration.
pub type Channel = Option<bool>;

/// Everything the settings tab edits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacilitySettings {
    pub name: String,
    pub time_zone: String,
    pub overdue_days: i64,
    /// Where intake puts a parcel unless told (empty: nowhere in particular).
    pub default_location: String,
    /// Days after intake a reminder goes out, ascending; empty: no reminders.
    pub reminders: Vec<i64>,
    pub retention_days: i64,
    /// Whole minutes (stored as `kiosk_relock_secs`).
    pub kiosk_relock_minutes: i64,
    pub kiosk_pin_totp: bool,
    pub email: Channel,
    pub sms: Channel,
    pub webhook: Channel,
}

/// The field names used in errors and in the audit row's `changed` list.
pub const FIELDS: [&str; 11] = [
    "name",
    "time_zone",
    "overdue_days",
    "reminder_days",
    "notification_retention_days",
    "kiosk_relock_secs",
    "kiosk_pin_totp",
    "email_enabled",
    "sms_enabled",
    "webhook_enabled",
    "default_location",
];

impl FacilitySettings {
    /// The keys whose values differ between `self` (as loaded) and `after`.
    pub fn changes(&self, after: &FacilitySettings) -> Vec<&'static str> {
        let same = [
            self.name == after.name,
            self.time_zone == after.time_zone,
            self.overdue_days == after.overdue_days,
            self.reminders == after.reminders,
            self.retention_days == after.retention_days,
            self.kiosk_relock_minutes == after.kiosk_relock_minutes,
            self.kiosk_pin_totp == after.kiosk_pin_totp,
            self.email == after.email,
            self.sms == after.sms,
            self.webhook == after.webhook,
            self.default_location == after.default_location,
        ];
        FIELDS
            .iter()
            .zip(same)
            .filter(|(_, s)| !s)
            .map(|(f, _)| *f)
            .collect()
    }

    /// Checks everything but the time zone's existence (the database knows the zones).
    pub fn validate(&self) -> Result<(), String> {
        match self.problems().into_iter().next() {
            Some((_, e)) => Err(e),
            None => Ok(()),
        }
    }

    /// What is wrong with one field (by its key in [`FIELDS`]).
    pub fn problem(&self, field: &str) -> Option<String> {
        self.problems()
            .into_iter()
            .find(|(k, _)| *k == field)
            .map(|(_, e)| e)
    }

    /// Every invalid field with its error.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > FACILITY_NAME_MAX {
            out.push(("name", format!("name: 1 to {FACILITY_NAME_MAX} characters")));
        } else if let Err(e) =
            crate::domain::text::check("name", name, crate::domain::text::Lines::One)
        {
            out.push(("name", e.to_string()));
        }
        let tz = self.time_zone.trim();
        if tz.is_empty() || tz.len() > TIME_ZONE_MAX || tz.contains(char::is_whitespace) {
            out.push((
                "time_zone",
                "time zone: an IANA name such as Europe/Berlin".to_string(),
            ));
        }
        if let Err(e) = in_range("overdue days", self.overdue_days, OVERDUE_RANGE) {
            out.push(("overdue_days", e));
        }
        if let Err(e) = crate::domain::Location::new(self.default_location.trim()) {
            out.push(("default_location", format!("usual {}", e.0)));
        }
        let reminders = if self.reminders.len() > MAX_REMINDERS {
            Err(format!("reminders: at most {MAX_REMINDERS} (e.g. 3,7)"))
        } else if let Some(Err(e)) = self
            .reminders
            .iter()
            .map(|d| in_range("reminder days", *d, REMINDER_RANGE))
            .find(Result::is_err)
        {
            Err(e)
        } else if self.reminders.windows(2).any(|w| w[0] >= w[1]) {
            Err("reminders: days must increase, e.g. 3,7".to_string())
        } else {
            Ok(())
        };
        if let Err(e) = reminders {
            out.push(("reminder_days", e));
        }
        if let Err(e) = in_range("retention days", self.retention_days, RETENTION_RANGE) {
            out.push(("notification_retention_days", e));
        }
        if let Err(e) = in_range(
            "kiosk relock minutes",
            self.kiosk_relock_minutes,
            RELOCK_MINUTES_RANGE,
        ) {
            out.push(("kiosk_relock_secs", e));
        }
        out
    }
}

fn in_range(what: &str, v: i64, (lo, hi): (i64, i64)) -> Result<(), String> {
    if (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err(format!("{what}: {v} is out of range {lo}–{hi}"))
    }
}

/// Parses a reminder schedule as typed: `3,7` (spaces allowed), empty or `0` for none.
pub fn parse_reminders(text: &str) -> Result<Vec<i64>, String> {
    let text = text.trim();
    if text.is_empty() || text == "0" || text.eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|part| {
            let part = part.trim();
            part.parse::<i64>().map_err(|_| {
                format!("reminders: `{part}` is not a number of days (e.g. 3,7; empty for none)")
            })
        })
        .collect()
}

pub fn format_reminders(days: &[i64]) -> String {
    days.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// An integer setting: a small non-negative integer (number or numeric string), else `None`.
fn int_setting(doc: &Map<String, Value>, key: &str) -> Option<i64> {
    match doc.get(key)? {
        Value::Number(n) => n.as_i64().filter(|v| (0..=100_000).contains(v)),
        Value::String(s) => s.trim().parse().ok().filter(|v| (0..=100_000).contains(v)),
        _ => None,
    }
}

/// Reads the settings the way their readers do (same keys, same defaults).
pub fn from_document(
    name: String,
    time_zone: String,
    doc: &Value,
    channels: [Channel; 3],
) -> FacilitySettings {
    let empty = Map::new();
    let doc = doc.as_object().unwrap_or(&empty);
    let reminders = match doc.get("reminder_schedule") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_i64)
            .filter(|d| *d > 0)
            .collect(),
        _ => match int_setting(doc, "reminder_days").unwrap_or(DEFAULT_REMINDER_DAYS) {
            0 => Vec::new(),
            d => vec![d],
        },
    };
    let relock = int_setting(doc, "kiosk_relock_secs").unwrap_or(DEFAULT_RELOCK_SECS);
    FacilitySettings {
        name,
        time_zone,
        overdue_days: int_setting(doc, "overdue_days").unwrap_or(DEFAULT_OVERDUE_DAYS),
        default_location: doc
            .get("default_location")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        reminders,
        retention_days: int_setting(doc, "notification_retention_days")
            .unwrap_or(DEFAULT_RETENTION_DAYS),
        kiosk_relock_minutes: (relock + 59) / 60,
        kiosk_pin_totp: doc
            .get("kiosk_pin_totp")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        email: channels[0],
        sms: channels[1],
        webhook: channels[2],
    }
}

/// The facility's settings now.
pub async fn load(tx: &mut TenantTx<'_>) -> Result<FacilitySettings, AppError> {
    let facility = tx.facility().0;
    let (name, time_zone, doc): (String, String, Value) =
        sqlx::query_as("SELECT name, time_zone, settings FROM facilities WHERE id = $1")
            .bind(facility)
            .fetch_one(tx.conn())
            .await?;
    let channels = channels(tx).await?;
    Ok(from_document(name, time_zone, &doc, channels))
}

/// Whether each channel (email, SMS, webhook) is configured, and then enabled. Several
/// webhooks count as enabled while any is.
async fn channels(tx: &mut TenantTx<'_>) -> Result<[Channel; 3], AppError> {
    let rows: Vec<(String, bool)> = sqlx::query_as(
        "SELECT kind, bool_or(enabled) FROM integrations WHERE facility_id = $1 GROUP BY kind",
    )
    .bind(tx.facility().0)
    .fetch_all(tx.conn())
    .await?;
    let get = |kind: &str| rows.iter().find(|(k, _)| k == kind).map(|(_, e)| *e);
    Ok([get("smtp"), get("sms"), get("webhook")])
}

/// Saves what changed from `before` (as the admin loaded it) to `after`: only those keys
/// are written, so a concurrent change of another setting is not undone. One audit row
/// lists the changed keys. Returns them (empty: nothing to save).
pub async fn save(
    tx: &mut TenantTx<'_>,
    before: &FacilitySettings,
    after: &FacilitySettings,
) -> Result<Vec<&'static str>, AppError> {
    after.validate().map_err(AppError::Invalid)?;
    let changed = before.changes(after);
    if changed.is_empty() {
        return Ok(changed);
    }
    let facility = tx.facility().0;
    let time_zone = after.time_zone.trim();
    if changed.contains(&"time_zone") {
        let known: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1)")
                .bind(time_zone)
                .fetch_one(tx.conn())
                .await?;
        if !known {
            return Err(AppError::Invalid(format!(
                "time zone: `{time_zone}` is not a known time zone (e.g. Europe/Berlin, America/New_York, UTC)"
            )));
        }
    }
    let mut patch = Map::new();
    let mut values = Map::new();
    for key in &changed {
        match *key {
            "name" => {
                values.insert("name".into(), json!(after.name.trim()));
            }
            "time_zone" => {
                values.insert("time_zone".into(), json!(time_zone));
            }
            "overdue_days" => {
                patch.insert("overdue_days".into(), json!(after.overdue_days));
            }
            "default_location" => {
                patch.insert(
                    "default_location".into(),
                    json!(after.default_location.trim()),
                );
            }
            "reminder_days" => {
                patch.insert(
                    "reminder_days".into(),
                    json!(after.reminders.first().copied().unwrap_or(0)),
                );
                patch.insert("reminder_schedule".into(), json!(after.reminders));
            }
            "notification_retention_days" => {
                patch.insert(
                    "notification_retention_days".into(),
                    json!(after.retention_days),
                );
            }
            "kiosk_relock_secs" => {
                patch.insert(
                    "kiosk_relock_secs".into(),
                    json!(after.kiosk_relock_minutes * 60),
                );
            }
            "kiosk_pin_totp" => {
                patch.insert("kiosk_pin_totp".into(), json!(after.kiosk_pin_totp));
            }
            _ => {}
        }
    }
    for (k, v) in &patch {
        values.insert(k.clone(), v.clone());
    }
    let updated = sqlx::query(
        "UPDATE facilities SET name = $2, time_zone = $3, settings = settings || $4 \
         WHERE id = $1",
    )
    .bind(facility)
    .bind(if changed.contains(&"name") {
        after.name.trim().to_string()
    } else {
        before.name.clone()
    })
    .bind(if changed.contains(&"time_zone") {
        time_zone.to_string()
    } else {
        before.time_zone.clone()
    })
    .bind(Value::Object(patch))
    .execute(tx.conn())
    .await?
    .rows_affected();
    if updated != 1 {
        return Err(AppError::NotFound);
    }
    for (key, kind, before_on, after_on) in [
        ("email_enabled", "smtp", before.email, after.email),
        ("sms_enabled", "sms", before.sms, after.sms),
        ("webhook_enabled", "webhook", before.webhook, after.webhook),
    ] {
        if !changed.contains(&key) {
            continue;
        }
        let (Some(_), Some(on)) = (before_on, after_on) else {
            return Err(AppError::Invalid(format!(
                "{key}: no {kind} integration is configured (set one up on the Channels tab)"
            )));
        };
        let n = sqlx::query(
            "UPDATE integrations SET enabled = $3 WHERE facility_id = $1 AND kind = $2",
        )
        .bind(facility)
        .bind(kind)
        .bind(on)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n == 0 {
            return Err(AppError::Invalid(format!(
                "{key}: no {kind} integration is configured"
            )));
        }
        values.insert(key.into(), json!(on));
    }
    let slug = tx.slug().to_string();
    super::audit::record(
        tx,
        "facility.settings",
        &slug,
        json!({ "changed": changed, "values": values }),
    )
    .await?;
    Ok(changed)
}

#[cfg(test)]
mod tests;
