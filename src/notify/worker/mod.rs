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
//!
//! Here: configuration, the run loop and the claimed-row types; `sql`, `cycle` (claim, remind,
//! prune, circuit breaker), `delivery` (one row's send and outcome, backoff, quiet hours).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Timelike, Utc};
use futures_util::stream::{self, StreamExt};
use serde_json::Value;
use sqlx::PgPool;
use tokio::sync::watch;

use super::egress::Egress;
use super::send::{self, Outgoing, Route};
use super::templates::{self, Parcel};
use super::{DeliveryError, http};
use crate::error::DbError;
use crate::logging::mask;
use crate::secrets::SecretsKey;

mod cycle;
mod delivery;
mod sql;
pub use delivery::*;
use sql::*;

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
    /// The addresses deliveries may connect to (`serve --notify-allow-private`).
    pub egress: Egress,
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
            egress: Egress::default(),
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
    http: http::Client,
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

#[cfg(test)]
mod tests;
