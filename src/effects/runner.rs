//! A session's effects as tasks the session owns, so one session cannot burn the server:
//!
//! - reads run one per kind at a time and a newer read of a kind replaces the one waiting
//!   (the latest search wins; a burst of keystrokes costs one search in flight and one
//!   waiting, not one task per key);
//! - at most `cap` effects run at once; the rest wait in order;
//! - writes (a committing intake, a pickup, an admin change) are never dropped: they wait
//!   for a free slot, and while too many of them wait the session stops taking input
//!   ([`Runner::saturated`]);
//! - every task ends with the runner (a `JoinSet` aborts its tasks when dropped), i.e. when
//!   the session ends or the client disconnects.

use std::collections::{HashMap, VecDeque};
use std::mem::{Discriminant, discriminant};
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::{Id, JoinSet};
use tokio::time::Instant;

use crate::app::{Effect, Msg};
use crate::domain::Principal;
use crate::metrics::Metrics;
use crate::ops::Ops;

/// Effects of one session running at once (each may hold a database connection).
pub const IN_FLIGHT: usize = 4;
/// Writes waiting for a slot before the session stops reading input.
pub const WAITING_WRITES: usize = 16;

type Kind = Discriminant<Effect>;

struct Waiting {
    effect: Effect,
    principal: Principal,
}

pub struct Runner {
    ops: Ops,
    /// Answers (and progress reports) go to the session through this queue.
    results: mpsc::Sender<Msg>,
    tasks: JoinSet<()>,
    /// What each running task is: reads of a kind run one at a time.
    running: HashMap<Id, (Kind, bool)>,
    waiting: VecDeque<Waiting>,
    cap: usize,
    metrics: Arc<Metrics>,
}

/// Whether an effect only reads: a newer one of its kind makes a waiting one pointless.
fn is_read(e: &Effect) -> bool {
    matches!(
        e,
        Effect::LoadStats
            | Effect::Search { .. }
            | Effect::CheckWaiting { .. }
            | Effect::FindByCode(_)
            | Effect::FindByTracking(_)
            | Effect::WaitingFor(_)
            | Effect::LoadPackages { .. }
            | Effect::LoadPackage(_)
            | Effect::LoadMembers
            | Effect::LoadAudit(_)
            | Effect::LoadScorecard
            | Effect::LoadReports { .. }
            | Effect::Day(crate::app::reports_screen::day::DayEffect::Load { .. })
            | Effect::LoadTrend
    )
}

/// Counts a running effect task in the metrics for as long as it lives (finished or aborted).
struct InFlight(Arc<Metrics>);

impl InFlight {
    fn new(m: &Arc<Metrics>) -> Self {
        Metrics::inc(&m.effects_in_flight);
        Metrics::inc(&m.effects_started);
        Self(m.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        Metrics::dec(&self.0.effects_in_flight);
    }
}

impl Runner {
    pub fn new(ops: Ops, results: mpsc::Sender<Msg>, metrics: Arc<Metrics>) -> Self {
        Self::with_cap(ops, results, metrics, IN_FLIGHT)
    }

    pub fn with_cap(
        ops: Ops,
        results: mpsc::Sender<Msg>,
        metrics: Arc<Metrics>,
        cap: usize,
    ) -> Self {
        Self {
            ops,
            results,
            tasks: JoinSet::new(),
            running: HashMap::new(),
            waiting: VecDeque::new(),
            cap: cap.max(1),
            metrics,
        }
    }

    /// Runs `effect` as `principal` now, or as soon as a slot (and, for a read, its kind)
    /// is free. A waiting read of the same kind is replaced: its answer would be stale.
    pub fn push(&mut self, effect: Effect, principal: &Principal) {
        if is_read(&effect) {
            let kind = discriminant(&effect);
            self.waiting
                .retain(|w| !(is_read(&w.effect) && discriminant(&w.effect) == kind));
        }
        self.waiting.push_back(Waiting {
            effect,
            principal: principal.clone(),
        });
        self.pump();
    }

    /// The member's role changed: what still waits runs with the new principal.
    pub fn rebind(&mut self, principal: &Principal) {
        for w in &mut self.waiting {
            if w.principal.user() == principal.user() {
                w.principal = principal.clone();
            }
        }
    }

    /// Too many writes wait: the session should stop reading input until some finish.
    pub fn saturated(&self) -> bool {
        self.waiting.iter().filter(|w| !is_read(&w.effect)).count() >= WAITING_WRITES
    }

    /// Effects running now (for tests and metrics).
    pub fn running(&self) -> usize {
        self.tasks.len()
    }

    /// Effects waiting for a slot.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// Waits for a running effect to finish and starts what may run next. Pending forever
    /// when nothing runs (for `select!`).
    pub async fn reap(&mut self) {
        match self.tasks.join_next_with_id().await {
            Some(Ok((id, ()))) => {
                self.running.remove(&id);
            }
            Some(Err(e)) => {
                self.running.remove(&e.id());
                if e.is_panic() {
                    tracing::error!("an effect task panicked");
                }
            }
            None => std::future::pending().await,
        }
        self.pump();
    }

    fn pump(&mut self) {
        while self.tasks.len() < self.cap {
            let busy = |k: &Kind| self.running.values().any(|(r, read)| *read && r == k);
            let Some(i) = self
                .waiting
                .iter()
                .position(|w| !is_read(&w.effect) || !busy(&discriminant(&w.effect)))
            else {
                return;
            };
            let Some(w) = self.waiting.remove(i) else {
                return;
            };
            self.start(w);
        }
    }

    fn start(&mut self, w: Waiting) {
        let kind = discriminant(&w.effect);
        let read = is_read(&w.effect);
        let ops = self.ops.clone();
        let tx = self.results.clone();
        let guard = InFlight::new(&self.metrics);
        let handle = self.tasks.spawn(async move {
            let _guard = guard;
            // The variant's name only: an effect's fields may hold names or numbers.
            let name = super::kind_name(&w.effect);
            let started = Instant::now();
            let msg = super::run_with_progress(w.effect, &ops, &w.principal, &tx).await;
            tracing::debug!(
                effect = name,
                us = started.elapsed().as_micros() as u64,
                "effect ran"
            );
            if let Some(msg) = msg {
                let _ = tx.send(msg).await;
            }
        });
        self.running.insert(handle.id(), (kind, read));
    }
}
