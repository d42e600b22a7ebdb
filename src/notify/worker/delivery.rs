//! Delivering one claimed row (email, SMS or webhook) and deciding its outcome: delivered,
//! retried with backoff, dead, or postponed to the end of quiet hours.

use super::*;

impl Worker {
    pub(super) async fn deliver_batch(&self, stats: &mut RunStats) -> Result<(), WorkerError> {
        let rows: Vec<Claimed> = sqlx::query_as(CLAIM)
            .bind(self.cfg.batch.max(1))
            .bind(self.cfg.lease.as_secs_f64())
            .bind(self.paused())
            .fetch_all(&self.owner)
            .await?;
        stats.claimed = rows.len() as u64;
        let width = rows.len().max(1);
        let outcomes: Vec<Result<Outcome, WorkerError>> = stream::iter(rows)
            .map(|row| self.process(row))
            .buffer_unordered(width)
            .collect()
            .await;
        let mut first_error = None;
        for outcome in outcomes {
            match outcome {
                Ok(Outcome::Delivered) => stats.delivered += 1,
                Ok(Outcome::Retried) => stats.retried += 1,
                Ok(Outcome::Dead) => stats.dead += 1,
                Ok(Outcome::Postponed) => stats.postponed += 1,
                Ok(Outcome::Lost) => stats.lost += 1,
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    pub(super) async fn process(&self, row: Claimed) -> Result<Outcome, WorkerError> {
        if let Some(until) = self.quiet_until(&row, Utc::now()) {
            let n = sqlx::query(POSTPONED)
                .bind(row.facility_id)
                .bind(row.id)
                .bind(row.attempts)
                .bind(until)
                .execute(&self.owner)
                .await?
                .rows_affected();
            return Ok(if n == 1 {
                Outcome::Postponed
            } else {
                Outcome::Lost
            });
        }
        let result = tokio::time::timeout(self.cfg.delivery_timeout, self.deliver(&row))
            .await
            .unwrap_or_else(|_| Err(DeliveryError::transient("timed out")));
        // A permanent error belongs to the row (no address, disabled), not the receiver.
        if !result.as_ref().is_err_and(|e| e.permanent) {
            self.record(row.integration_id, result.is_ok());
        }
        match result {
            Ok(()) => {
                let n: i64 = sqlx::query_scalar(DELIVERED)
                    .bind(row.facility_id)
                    .bind(row.id)
                    .bind(row.attempts)
                    .fetch_one(&self.owner)
                    .await?;
                tracing::debug!(
                    delivery = %row.delivery_id,
                    channel = %row.channel,
                    event = %row.event,
                    attempt = row.attempts,
                    "notification delivered"
                );
                Ok(if n == 1 {
                    Outcome::Delivered
                } else {
                    Outcome::Lost
                })
            }
            Err(e) => {
                let dead = e.permanent || row.attempts >= self.cfg.max_attempts;
                let delay = backoff(&self.cfg, row.attempts, jitter());
                let n: i64 = sqlx::query_scalar(FAILED)
                    .bind(row.facility_id)
                    .bind(row.id)
                    .bind(row.attempts)
                    .bind(dead)
                    .bind(delay.as_secs_f64())
                    .bind(&e.message)
                    .fetch_one(&self.owner)
                    .await?;
                let error = row.scrub(&e.message);
                if dead {
                    tracing::warn!(
                        delivery = %row.delivery_id,
                        facility = row.facility_id,
                        channel = %row.channel,
                        event = %row.event,
                        attempt = row.attempts,
                        error = %crate::logging::Clean(&error),
                        "notification dead-lettered"
                    );
                } else {
                    tracing::info!(
                        delivery = %row.delivery_id,
                        facility = row.facility_id,
                        channel = %row.channel,
                        event = %row.event,
                        attempt = row.attempts,
                        retry_in_s = delay.as_secs(),
                        error = %crate::logging::Clean(&error),
                        "notification delivery failed"
                    );
                }
                Ok(match (n, dead) {
                    (1, true) => Outcome::Dead,
                    (1, false) => Outcome::Retried,
                    _ => Outcome::Lost,
                })
            }
        }
    }

    /// The end of the recipient's quiet hours when `now` is inside them (people only:
    /// webhooks go to machines).
    pub(super) fn quiet_until(&self, row: &Claimed, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if row.channel == "webhook" {
            return None;
        }
        quiet_until(
            now,
            row.recipient_hour("quiet_start")?,
            row.recipient_hour("quiet_end")?,
        )
    }

    pub(super) async fn deliver(&self, row: &Claimed) -> Result<(), DeliveryError> {
        let Some(kind) = row.kind.as_deref() else {
            return Err(DeliveryError::permanent("the integration was removed"));
        };
        if row.enabled != Some(true) {
            return Err(DeliveryError::permanent("the integration is disabled"));
        }
        let secret = match &row.secret {
            Some(sealed) => Some(
                self.keys
                    .open(&format!("facility:{}", row.facility_id), sealed)
                    .map_err(|e| DeliveryError::transient(e.to_string()))?,
            ),
            None => None,
        };
        let route = Route {
            kind,
            url: row.url.as_deref().unwrap_or_default(),
            sender: row.sender.as_deref(),
            username: row.username.as_deref(),
            secret: secret.as_deref(),
        };
        let parcel = Parcel::from_payload(&row.payload);
        let name = row.recipient("name").unwrap_or_default();
        let (mail, text);
        let out = match row.channel.as_str() {
            "email" => {
                let to = row.recipient("email").ok_or_else(|| {
                    DeliveryError::permanent("the recipient has no e-mail address")
                })?;
                mail = templates::email(&row.event, &row.facility_name, name, &parcel);
                Outgoing::Email {
                    to_name: name,
                    to,
                    mail: &mail,
                    delivery_id: &row.delivery_id,
                }
            }
            "sms" => {
                let to = row
                    .recipient("phone")
                    .ok_or_else(|| DeliveryError::permanent("the recipient has no phone number"))?;
                text = templates::sms(&row.event, &row.facility_name, &parcel);
                Outgoing::Sms { to, text: &text }
            }
            "webhook" => Outgoing::Webhook {
                delivery_id: &row.delivery_id,
                body: http::webhook_body(
                    &row.delivery_id,
                    &row.event,
                    &row.facility_slug,
                    &row.payload,
                    row.include_pickup_code == Some(true),
                ),
                now_unix: Utc::now().timestamp(),
            },
            channel => {
                return Err(DeliveryError::permanent(format!(
                    "unknown channel {channel}"
                )));
            }
        };
        send::send(
            &route,
            out,
            &self.http,
            &self.cfg.egress,
            self.cfg.delivery_timeout,
        )
        .await
    }
}

/// The delay after failed attempt number `attempt` (1 for the first): `base · 2^(attempt-1)`
/// capped at `max`, scaled by `0.5 + 0.5 · unit` for a `unit` in [0, 1) (jitter, so a
/// receiver coming back is not hit by every retry at once).
pub fn backoff(cfg: &WorkerConfig, attempt: i32, unit: f64) -> Duration {
    let exp = (attempt.max(1) - 1).min(62);
    let raw = cfg.base_backoff.as_secs_f64() * 2f64.powi(exp);
    let capped = raw.min(cfg.max_backoff.as_secs_f64());
    Duration::from_secs_f64(capped * (0.5 + 0.5 * unit.clamp(0.0, 1.0)))
}

/// A uniform number in [0, 1) from the operating system's generator.
pub(super) fn jitter() -> f64 {
    let bits = u64::from_le_bytes(crate::secrets::random_bytes::<8>()) >> 11;
    bits as f64 / (1u64 << 53) as f64
}

/// When `now` (UTC) falls in the quiet hours `[start, end)` — wrapping past midnight when
/// `start > end`; empty when they are equal — the next `end:00` UTC.
pub fn quiet_until(now: DateTime<Utc>, start: u32, end: u32) -> Option<DateTime<Utc>> {
    let h = now.hour();
    let inside = match start.cmp(&end) {
        std::cmp::Ordering::Equal => false,
        std::cmp::Ordering::Less => start <= h && h < end,
        std::cmp::Ordering::Greater => h >= start || h < end,
    };
    if !inside {
        return None;
    }
    let hours_ahead = (end + 24 - h) % 24;
    let top_of_hour = now
        .with_minute(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))?;
    Some(top_of_hour + chrono::Duration::hours(i64::from(hours_ahead)))
}
