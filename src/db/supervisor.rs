//! Keeps the embedded cluster running while `serve` runs. A postmaster that dies (kill -9,
//! the OOM killer, PostgreSQL stopping itself when it cannot write WAL on a full disk) is
//! noticed within [`POLL`] and started again through the normal start path, with backoff
//! while starting fails. Sessions meanwhile show "the database is not answering"; the pools
//! replace their dead connections on their own once the server is back.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use super::EmbeddedCluster;
use crate::error::DbError;

/// How often the postmaster is checked (a few reads in /proc).
pub const POLL: Duration = Duration::from_millis(500);
/// First pause after a failed restart; doubled per failure up to [`MAX_RETRY`].
const FIRST_RETRY: Duration = Duration::from_millis(500);
/// A server that cannot start (full disk) is retried this often at most.
const MAX_RETRY: Duration = Duration::from_secs(15);

/// What the supervisor saw, for the metrics endpoint.
#[derive(Debug)]
pub struct ClusterHealth {
    up: AtomicBool,
    restarts: AtomicU64,
}

impl Default for ClusterHealth {
    /// Up, no restarts: the supervisor starts on a running cluster.
    fn default() -> Self {
        Self {
            up: AtomicBool::new(true),
            restarts: AtomicU64::new(0),
        }
    }
}

impl ClusterHealth {
    /// Whether the postmaster ran at the last check.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Restarts done by this process's supervisor.
    pub fn restarts(&self) -> u64 {
        self.restarts.load(Ordering::Relaxed)
    }
}

/// A running supervisor; stop it before stopping the cluster.
#[derive(Debug)]
pub struct Supervisor {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    health: Arc<ClusterHealth>,
}

impl Supervisor {
    /// Starts watching `cluster` (which must be running).
    pub fn spawn(cluster: Arc<EmbeddedCluster>) -> Self {
        let health = Arc::new(ClusterHealth::default());
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(watch(cluster, health.clone(), stop_rx));
        Self { stop, task, health }
    }

    pub fn health(&self) -> Arc<ClusterHealth> {
        self.health.clone()
    }

    /// Stops watching. Returns at once; a start in progress finishes on its own thread
    /// (the cluster's stop waits for it under the setup lock, within its own deadline).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn watch(
    cluster: Arc<EmbeddedCluster>,
    health: Arc<ClusterHealth>,
    mut stop: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tick.tick() => {}
        }
        if cluster.is_running() {
            health.up.store(true, Ordering::Relaxed);
            continue;
        }
        health.up.store(false, Ordering::Relaxed);
        let down_since = Instant::now();
        tracing::error!(
            pgdata = %cluster.socket_dir().display(),
            "PostgreSQL is not running; restarting it"
        );
        let mut retry = FIRST_RETRY;
        for attempt in 1u32.. {
            let Some(result) = off_thread(&cluster, &mut stop).await else {
                return;
            };
            match result {
                Ok(restarted) => {
                    if restarted {
                        health.restarts.fetch_add(1, Ordering::Relaxed);
                    }
                    health.up.store(true, Ordering::Relaxed);
                    tracing::warn!(
                        attempt,
                        down_ms = down_since.elapsed().as_millis() as u64,
                        pid = cluster.postmaster_pid(),
                        by = if restarted {
                            "this process"
                        } else {
                            "another packtrack process"
                        },
                        "PostgreSQL is running again"
                    );
                    break;
                }
                Err(e) => tracing::error!(
                    attempt,
                    error = %e,
                    retry_in_ms = retry.as_millis() as u64,
                    "PostgreSQL restart failed"
                ),
            }
            tokio::select! {
                _ = stop.changed() => return,
                () = tokio::time::sleep(retry) => {}
            }
            retry = (retry * 2).min(MAX_RETRY);
        }
    }
}

/// One restart attempt on a thread of its own (`pg_ctl start` blocks for seconds), given up
/// when the supervisor is told to stop. Not `spawn_blocking`: the runtime's shutdown would
/// wait for it, and `serve` must exit within its deadline.
async fn off_thread(
    cluster: &Arc<EmbeddedCluster>,
    stop: &mut watch::Receiver<bool>,
) -> Option<Result<bool, DbError>> {
    let (tx, rx) = oneshot::channel();
    let c = cluster.clone();
    let spawned = std::thread::Builder::new()
        .name("pg-restart".into())
        .spawn(move || {
            let _ = tx.send(c.ensure_running());
        });
    if let Err(e) = spawned {
        return Some(Err(DbError::Setup(format!(
            "cannot start a thread to restart PostgreSQL: {e}"
        ))));
    }
    tokio::select! {
        _ = stop.changed() => None,
        res = rx => Some(res.unwrap_or_else(|_| {
            Err(DbError::Setup("the PostgreSQL restart thread panicked".into()))
        })),
    }
}
