//! One worker cycle and its upkeep: claim and deliver, remind, prune, and the per-integration
//! circuit breaker's bookkeeping.

use super::*;

impl Worker {
    pub fn new(owner: PgPool, keys: SecretsKey, cfg: WorkerConfig) -> Result<Self, WorkerError> {
        let http = http::client(cfg.delivery_timeout, &cfg.egress).map_err(WorkerError::Setup)?;
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
    pub(super) fn record(&self, integration: Option<i64>, ok: bool) {
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
}
