//! The delivery worker: one per server, any number of servers.
//!
//! Each round claims a batch of due outbox rows in one short transaction (`FOR UPDATE SKIP
//! LOCKED`: concurrent workers take disjoint rows) and leases them: the claim counts the
//! attempt and moves `next_attempt_at` a lease ahead, so no other worker sees them due while
//! they are being delivered. Deliveries then run outside any transaction, each bounded by
//! `delivery_timeout` (well under the lease), and each row is settled on its own —
//! delivered, rescheduled with exponential backoff and jitter, or dead after
//! `max_attempts` — only if it still carries the claim's attempt count. A worker that dies
//! mid-delivery leaves its rows to be retried when the lease runs out.
//!
//! An integration that fails [`TRIP_AFTER`] times in a row (receiver down, hanging, 5xx) is
//! paused for this worker: its rows are left out of the claims for a backoff of its own
//! (the rows' schedule, doubled at each further pause), then a claim takes them again as
//! the probe; one success resumes it. While the SMTP server refuses connections the worker
//! thus stops churning through every new row (each failure is a committed write on the
//! database intake uses: measured in docs/PERFORMANCE.md), and a dead receiver does not
//! hold up other integrations' rows behind it round after round.
//!
//! Every few minutes a round also queues reminders for parcels waiting longer than the
//! facility's reminder schedule (`reminder_schedule`, else `reminder_days`), and prunes settled rows older than its retention period.
//!
//! The worker runs as the owner role (it serves every facility; RLS would hide them).
//! Logs name deliveries by id; names, addresses and numbers never reach them unmasked.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Timelike, Utc};
use futures_util::stream::{self, StreamExt};
use serde_json::Value;
use sqlx::PgPool;
use tokio::sync::watch;

use super::email::{self, SmtpServer};
use super::templates::{self, Parcel};
use super::{DeliveryError, http};
use crate::error::DbError;
use crate::logging::mask;
use crate::secrets::SecretsKey;

/// How the worker paces and retries. `Default` is what `serve` uses.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Attempts before a row is dead-lettered.
    pub max_attempts: i32,
    /// Delay after the first failure; doubled after each further one.
    pub base_backoff: Duration,
    /// Longest delay between two attempts.
    pub max_backoff: Duration,
    /// Rows claimed (and delivered concurrently) per round.
    pub batch: i64,
    /// Pause when a round found less than a full batch.
    pub poll: Duration,
    /// How long a claimed row stays invisible to other workers.
    pub lease: Duration,
    /// Bound on one delivery (connect, TLS, send, answer). Keep it well under `lease`.
    pub delivery_timeout: Duration,
    /// Default of the facility setting `notification_retention_days`.
    pub retention_days: i64,
    /// Default of the facility setting `reminder_days` (0 turns reminders off).
    pub reminder_days: i64,
    /// How often reminders and pruning run.
    pub housekeeping_every: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(3600),
            batch: 20,
            poll: Duration::from_secs(1),
            lease: Duration::from_secs(60),
            delivery_timeout: Duration::from_secs(10),
            retention_days: 30,
            reminder_days: 3,
            housekeeping_every: Duration::from_secs(300),
        }
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Rows claimed this round.
    pub claimed: u64,
    pub delivered: u64,
    /// Failed and rescheduled.
    pub retried: u64,
    /// Failed for the last time (or for good).
    pub dead: u64,
    /// Inside the recipient's quiet hours: moved to their end, no attempt counted.
    pub postponed: u64,
    /// Settled by another worker after our lease ran out (nothing written).
    pub lost: u64,
    /// Packages reminded about (outbox rows may be fewer or more: one per channel).
    pub reminded: u64,
    pub pruned: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("notification worker: {0}")]
    Setup(String),
}

impl From<sqlx::Error> for WorkerError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(DbError::Sql(e))
    }
}

/// Runs the worker until `shutdown` turns true (or its sender is dropped). A round in
/// progress finishes first, so this returns at most about `delivery_timeout` after the
/// signal; rows it had not settled are retried by any worker after their lease.
pub async fn run(
    owner: PgPool,
    keys: SecretsKey,
    cfg: WorkerConfig,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut worker = match Worker::new(owner, keys, cfg) {
        Ok(w) => w,
        Err(e) => {
            tracing::error!(error = %e, "notification worker not started");
            return;
        }
    };
    tracing::info!("notification worker started");
    let mut failures: u32 = 0;
    loop {
        if *shutdown.borrow() {
            break;
        }
        let pause = match worker.run_once().await {
            Ok(stats) => {
                failures = 0;
                if stats.claimed > 0 || stats.reminded > 0 || stats.pruned > 0 {
                    tracing::debug!(?stats, "notification round");
                }
                // A full batch: more may be due right now.
                (stats.claimed < worker.cfg.batch.max(1) as u64).then_some(worker.cfg.poll)
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::warn!(error = %e, failures, "notification round failed");
                Some(worker.cfg.poll * 2u32.pow(failures.min(5)))
            }
        };
        if let Some(pause) = pause {
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
            }
        }
    }
    tracing::info!("notification worker stopped");
}

/// One round (housekeeping, then one batch) with a worker of its own: what tests and a
/// one-shot command use. Each call runs the housekeeping.
pub async fn run_once(
    owner: &PgPool,
    keys: &SecretsKey,
    cfg: &WorkerConfig,
) -> Result<RunStats, WorkerError> {
    Worker::new(owner.clone(), keys.clone(), cfg.clone())?
        .run_once()
        .await
}

/// A worker's state across rounds: the HTTP client (connection reuse) and when the
/// housekeeping last ran.
pub struct Worker {
    owner: PgPool,
    keys: SecretsKey,
    cfg: WorkerConfig,
    http: reqwest::Client,
    last_housekeeping: Option<Instant>,
    /// Integrations failing in a row, by id (ids are unique across facilities).
    failing: Mutex<HashMap<i64, Failing>>,
}

/// Consecutive failures of an integration after which it is paused.
pub const TRIP_AFTER: u32 = 3;

/// An integration's run of failures, and its pause.
#[derive(Debug, Clone, Copy)]
struct Failing {
    /// Failures since its last success.
    streak: u32,
    /// Times it was paused since its last success (the pause doubles each time).
    pauses: u32,
    /// Left out of claims until then.
    until: Option<Instant>,
}

/// A claimed outbox row with its integration and facility. No `Debug`: it holds personal
/// data and a sealed secret.
#[derive(sqlx::FromRow)]
struct Claimed {
    facility_id: i64,
    id: i64,
    integration_id: Option<i64>,
    delivery_id: String,
    channel: String,
    event: String,
    payload: Value,
    attempts: i32,
    kind: Option<String>,
    enabled: Option<bool>,
    url: Option<String>,
    sender: Option<String>,
    username: Option<String>,
    secret: Option<Vec<u8>>,
    /// The webhook was added with `--include-pickup-code`.
    include_pickup_code: Option<bool>,
    facility_slug: String,
    facility_name: String,
}

impl Claimed {
    fn recipient(&self, field: &str) -> Option<&str> {
        self.payload
            .get("recipient")?
            .get(field)?
            .as_str()
            .filter(|s| !s.trim().is_empty())
    }

    fn recipient_hour(&self, field: &str) -> Option<u32> {
        let h = self.payload.get("recipient")?.get(field)?.as_u64()?;
        u32::try_from(h).ok().filter(|h| *h < 24)
    }

    /// The error message with the recipient's name, address and number masked (for logs).
    fn scrub(&self, message: &str) -> String {
        let mut out = message.to_string();
        if let Some(e) = self.recipient("email") {
            out = out.replace(e, &mask::email(e));
        }
        if let Some(p) = self.recipient("phone") {
            out = out.replace(p, &mask::phone(p));
        }
        if let Some(n) = self.recipient("name") {
            out = out.replace(n, &mask::name(n));
        }
        out
    }
}

/// How a claimed row was settled.
enum Outcome {
    Delivered,
    Retried,
    Dead,
    Postponed,
    Lost,
}

const CLAIM: &str = "\
    WITH due AS ( \
        SELECT facility_id, id FROM outbox \
        WHERE status = 'pending' AND next_attempt_at <= now() \
          AND (integration_id IS NULL OR integration_id <> ALL($3)) \
        ORDER BY next_attempt_at LIMIT $1 \
        FOR UPDATE SKIP LOCKED \
    ), claimed AS ( \
        UPDATE outbox o SET attempts = o.attempts + 1, \
               next_attempt_at = now() + make_interval(secs => $2) \
        FROM due WHERE o.facility_id = due.facility_id AND o.id = due.id \
        RETURNING o.facility_id, o.id, o.delivery_id::text AS delivery_id, o.channel, \
                  o.integration_id, o.event, o.payload, o.attempts \
    ) \
    SELECT c.facility_id, c.id, c.integration_id, c.delivery_id, c.channel, c.event, \
           c.payload, c.attempts, \
           i.kind, i.enabled, i.url, i.sender, i.username, i.secret, i.include_pickup_code, \
           f.slug AS facility_slug, f.name AS facility_name \
    FROM claimed c \
    JOIN facilities f ON f.id = c.facility_id \
    LEFT JOIN integrations i ON i.facility_id = c.facility_id AND i.id = c.integration_id";

/// Delivered: the row, and the integration's last success (written at most once a second
/// per integration, so a busy webhook does not turn into a hot row).
const DELIVERED: &str = "\
    WITH o AS ( \
        UPDATE outbox SET status = 'delivered', delivered_at = now(), last_error = NULL \
        WHERE facility_id = $1 AND id = $2 AND status = 'pending' AND attempts = $3 \
        RETURNING facility_id, integration_id \
    ), i AS ( \
        UPDATE integrations i SET last_success_at = now() FROM o \
        WHERE i.facility_id = o.facility_id AND i.id = o.integration_id \
          AND (i.last_success_at IS NULL OR i.last_success_at < now() - interval '1 second') \
    ) \
    SELECT count(*) FROM o";

/// Failed: rescheduled (`$4` false) after `$5` seconds, or dead; the error on the row and on
/// the integration (there only when it is a different error or a second has passed: with a
/// receiver down every queued row fails, and the integration, which every intake reads,
/// must not become a hot row).
const FAILED: &str = "\
    WITH o AS ( \
        UPDATE outbox SET \
            status = CASE WHEN $4 THEN 'dead' ELSE 'pending' END, \
            next_attempt_at = CASE WHEN $4 THEN now() \
                                   ELSE now() + make_interval(secs => $5) END, \
            last_error = $6 \
        WHERE facility_id = $1 AND id = $2 AND status = 'pending' AND attempts = $3 \
        RETURNING facility_id, integration_id \
    ), i AS ( \
        UPDATE integrations i SET last_error = $6, last_error_at = now() FROM o \
        WHERE i.facility_id = o.facility_id AND i.id = o.integration_id \
          AND (i.last_error_at IS NULL OR i.last_error_at < now() - interval '1 second' \
               OR i.last_error IS DISTINCT FROM $6) \
    ) \
    SELECT count(*) FROM o";

/// Quiet hours: back to the queue until `$4`, the claim's attempt given back.
const POSTPONED: &str = "\
    UPDATE outbox SET attempts = attempts - 1, next_attempt_at = $4 \
    WHERE facility_id = $1 AND id = $2 AND status = 'pending' AND attempts = $3";

/// A facility setting in days: a small non-negative integer, else the default `$n`.
macro_rules! days_setting {
    ($key:literal, $default:literal) => {
        concat!(
            "CASE WHEN f.settings->>'",
            $key,
            "' ~ '^[0-9]{1,4}$' THEN (f.settings->>'",
            $key,
            "')::int ELSE ",
            $default,
            "::int END"
        )
    };
}

/// Reminders: the facility's schedule is `reminder_schedule` (days after intake, e.g.
/// `[3, 7]`, as the admin console saves it) or else the single `reminder_days`. A waiting
/// package that has had n reminders is due for the next when it has waited the schedule's
/// (n+1)th number of days; it gets a `reminded` custody event and one outbox row per channel
/// the recipient wants (same payload shape as [`super::enqueue`]).
const REMIND: &str = concat!(
    "WITH due AS ( \
        SELECT p.facility_id, p.id, p.recipient_id, d.days, f.slug \
        FROM facilities f \
        CROSS JOIN LATERAL (SELECT CASE \
            WHEN jsonb_typeof(f.settings->'reminder_schedule') = 'array' THEN ARRAY( \
                SELECT x::int FROM jsonb_array_elements_text(f.settings->'reminder_schedule') x \
                WHERE x ~ '^[0-9]{1,4}$' AND x::int > 0 ORDER BY x::int) \
            ELSE ARRAY[",
    days_setting!("reminder_days", "$1"),
    "] END AS sched) s \
        JOIN packages p ON p.facility_id = f.id \
        CROSS JOIN LATERAL (SELECT count(*)::int AS sent FROM package_events e \
                            WHERE e.facility_id = p.facility_id AND e.package_id = p.id \
                              AND e.kind = 'reminded') r \
        CROSS JOIN LATERAL (SELECT s.sched[r.sent + 1] AS days) d \
        WHERE f.closed_at IS NULL AND coalesce(s.sched[1], 0) > 0 AND d.days > 0 \
          AND p.status = 'waiting' AND p.recipient_id IS NOT NULL \
          AND p.received_at <= now() - make_interval(days => d.days) \
        ORDER BY p.received_at LIMIT $2 \
    ), events AS ( \
        INSERT INTO package_events (facility_id, package_id, kind, source, detail) \
        SELECT facility_id, id, 'reminded', 'notify', jsonb_build_object('after_days', days) \
        FROM due RETURNING 1 \
    ), queued AS ( \
        INSERT INTO outbox (facility_id, channel, integration_id, event, package_id, payload) \
        SELECT i.facility_id, CASE i.kind WHEN 'smtp' THEN 'email' ELSE i.kind END, i.id, \
               'reminder', p.id, \
               jsonb_build_object( \
                   'event', 'reminder', 'facility', due.slug, \
                   'package', jsonb_build_object( \
                       'id', p.id, 'tracking', p.tracking, 'carrier', p.carrier, \
                       'status', p.status, 'location', p.location, \
                       'pickup_code', p.pickup_code, 'received_at', p.received_at, \
                       'picked_up_at', p.picked_up_at), \
                   'recipient', jsonb_build_object( \
                       'id', r.id, 'name', r.name, 'unit', r.unit, 'email', r.email, \
                       'phone', r.phone, 'quiet_start', r.quiet_start, \
                       'quiet_end', r.quiet_end)) \
        FROM due \
        JOIN packages p ON p.facility_id = due.facility_id AND p.id = due.id \
        JOIN recipients r ON r.facility_id = due.facility_id AND r.id = due.recipient_id \
        JOIN integrations i ON i.facility_id = due.facility_id AND i.enabled \
        WHERE r.active AND ( \
              (i.kind = 'smtp' AND r.email IS NOT NULL AND r.notify_email) \
           OR (i.kind = 'sms' AND r.phone IS NOT NULL AND r.notify_sms)) \
        RETURNING 1 \
    ) \
    SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM queued)"
);

/// Settled rows past the facility's retention (`notification_retention_days`, at least 1).
const PRUNE: &str = concat!(
    "WITH old AS ( \
        SELECT o.facility_id, o.id FROM outbox o JOIN facilities f ON f.id = o.facility_id \
        WHERE o.status IN ('delivered', 'dead') \
          AND o.created_at < now() - make_interval(days => greatest(1, ",
    days_setting!("notification_retention_days", "$1"),
    ")) \
        LIMIT $2 \
    ) \
    DELETE FROM outbox o USING old WHERE o.facility_id = old.facility_id AND o.id = old.id"
);

/// Only one server sends reminders at a time (two would both find a package unreminded).
const REMINDER_LOCK: i64 = 0x7061_636b_7472_6b01;

impl Worker {
    pub fn new(owner: PgPool, keys: SecretsKey, cfg: WorkerConfig) -> Result<Self, WorkerError> {
        let http = http::client(cfg.delivery_timeout).map_err(WorkerError::Setup)?;
        Ok(Self {
            owner,
            keys,
            cfg,
            http,
            last_housekeeping: None,
            failing: Mutex::default(),
        })
    }

    /// Housekeeping when due, then one batch.
    pub async fn run_once(&mut self) -> Result<RunStats, WorkerError> {
        let mut stats = RunStats::default();
        if self
            .last_housekeeping
            .is_none_or(|t| t.elapsed() >= self.cfg.housekeeping_every)
        {
            self.last_housekeeping = Some(Instant::now());
            // A failure here is logged and retried next time; deliveries go on regardless.
            match self.remind().await {
                Ok((reminded, queued)) => {
                    if reminded > 0 {
                        tracing::info!(reminded, queued, "reminders queued");
                    }
                    stats.reminded = reminded;
                }
                Err(e) => tracing::warn!(error = %e, "queueing reminders failed"),
            }
            match self.prune().await {
                Ok(pruned) => {
                    if pruned > 0 {
                        tracing::info!(pruned, "old notifications pruned");
                    }
                    stats.pruned = pruned;
                }
                Err(e) => tracing::warn!(error = %e, "pruning notifications failed"),
            }
        }
        self.deliver_batch(&mut stats).await?;
        Ok(stats)
    }

    /// Queues reminders; returns (packages reminded about, outbox rows queued).
    pub async fn remind(&self) -> Result<(u64, u64), WorkerError> {
        let mut tx = self.owner.begin().await?;
        let ours: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
            .bind(REMINDER_LOCK)
            .fetch_one(&mut *tx)
            .await?;
        if !ours {
            return Ok((0, 0));
        }
        let (events, queued): (i64, i64) = sqlx::query_as(REMIND)
            .bind(i32::try_from(self.cfg.reminder_days.clamp(0, 3650)).unwrap_or(3))
            .bind(1000i64)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((events.max(0) as u64, queued.max(0) as u64))
    }

    /// Deletes settled rows past retention; returns how many.
    pub async fn prune(&self) -> Result<u64, WorkerError> {
        Ok(sqlx::query(PRUNE)
            .bind(i32::try_from(self.cfg.retention_days.clamp(1, 3650)).unwrap_or(30))
            .bind(10_000i64)
            .execute(&self.owner)
            .await?
            .rows_affected())
    }

    /// The integrations paused now (left out of claims).
    pub fn paused(&self) -> Vec<i64> {
        let now = Instant::now();
        self.failing.lock().map_or_else(
            |_| Vec::new(),
            |map| {
                map.iter()
                    .filter(|(_, f)| f.until.is_some_and(|u| u > now))
                    .map(|(id, _)| *id)
                    .collect()
            },
        )
    }

    /// Counts a delivery's outcome against its integration: a success clears its record;
    /// the [`TRIP_AFTER`]th failure in a row (and each one after a pause ran out) pauses it.
    fn record(&self, integration: Option<i64>, ok: bool) {
        let Some(id) = integration else {
            return;
        };
        let Ok(mut map) = self.failing.lock() else {
            return;
        };
        if ok {
            map.remove(&id);
            return;
        }
        let now = Instant::now();
        let f = map.entry(id).or_insert(Failing {
            streak: 0,
            pauses: 0,
            until: None,
        });
        f.streak = f.streak.saturating_add(1);
        let paused = f.until.is_some_and(|u| u > now);
        if f.streak >= TRIP_AFTER && !paused {
            f.pauses = f.pauses.saturating_add(1);
            let pause = backoff(
                &self.cfg,
                i32::try_from(f.pauses).unwrap_or(i32::MAX),
                jitter(),
            );
            f.until = Some(now + pause);
            tracing::info!(
                integration = id,
                failures = f.streak,
                pause_s = pause.as_secs(),
                "integration failing: its notifications wait"
            );
        }
    }

    async fn deliver_batch(&self, stats: &mut RunStats) -> Result<(), WorkerError> {
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

    async fn process(&self, row: Claimed) -> Result<Outcome, WorkerError> {
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
    fn quiet_until(&self, row: &Claimed, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if row.channel == "webhook" {
            return None;
        }
        quiet_until(
            now,
            row.recipient_hour("quiet_start")?,
            row.recipient_hour("quiet_end")?,
        )
    }

    async fn deliver(&self, row: &Claimed) -> Result<(), DeliveryError> {
        let Some(kind) = row.kind.as_deref() else {
            return Err(DeliveryError::permanent("the integration was removed"));
        };
        if row.enabled != Some(true) {
            return Err(DeliveryError::permanent("the integration is disabled"));
        }
        let url = row.url.as_deref().unwrap_or_default();
        let secret = match &row.secret {
            Some(sealed) => Some(
                self.keys
                    .open(&format!("facility:{}", row.facility_id), sealed)
                    .map_err(|e| DeliveryError::transient(e.to_string()))?,
            ),
            None => None,
        };
        let secret_text = match &secret {
            Some(s) => Some(
                std::str::from_utf8(s)
                    .map_err(|_| DeliveryError::permanent("the stored secret is not text"))?,
            ),
            None => None,
        };
        let parcel = Parcel::from_payload(&row.payload);
        match (row.channel.as_str(), kind) {
            ("email", "smtp") => {
                let to = row.recipient("email").ok_or_else(|| {
                    DeliveryError::permanent("the recipient has no e-mail address")
                })?;
                let name = row.recipient("name").unwrap_or_default();
                let sender = row
                    .sender
                    .as_deref()
                    .ok_or_else(|| DeliveryError::permanent("SMTP has no From address"))?;
                let mail = templates::email(&row.event, &row.facility_name, name, &parcel);
                let msg = email::message(sender, name, to, &mail, &row.delivery_id)?;
                let server = SmtpServer {
                    url,
                    username: row.username.as_deref(),
                    password: secret_text,
                    sender,
                    timeout: self.cfg.delivery_timeout,
                };
                email::send(&server, msg).await
            }
            ("sms", "sms") => {
                let to = row
                    .recipient("phone")
                    .ok_or_else(|| DeliveryError::permanent("the recipient has no phone number"))?;
                let text = templates::sms(&row.event, &row.facility_name, &parcel);
                http::send_sms(&self.http, url, secret_text, to, &text).await
            }
            ("webhook", "webhook") => {
                let secret = secret
                    .as_deref()
                    .ok_or_else(|| DeliveryError::permanent("the webhook has no secret"))?;
                let body = http::webhook_body(
                    &row.delivery_id,
                    &row.event,
                    &row.facility_slug,
                    &row.payload,
                    row.include_pickup_code == Some(true),
                );
                http::send_webhook(
                    &self.http,
                    url,
                    secret,
                    &row.delivery_id,
                    body,
                    Utc::now().timestamp(),
                )
                .await
            }
            (channel, kind) => Err(DeliveryError::permanent(format!(
                "channel {channel} does not match a {kind} integration"
            ))),
        }
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
fn jitter() -> f64 {
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

#[cfg(test)]
mod tests;
