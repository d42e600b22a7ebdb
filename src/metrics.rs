//! Counters for the optional Prometheus endpoint (`serve --metrics ADDR`).
//!
//! The counters are plain atomics bumped on the hot paths; a scrape encodes a snapshot of them
//! with `prometheus-client` (OpenMetrics text: counters are typed under their family name and
//! sampled as `NAME_total`, so every sample name is unchanged from the hand-written format
//! this replaced). The HTTP side stays a few lines of tokio: one `GET`, one answer, close.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Debug, Default)]
pub struct Metrics {
    pub connections: AtomicU64,
    pub refused: AtomicU64,
    pub auth_ok_publickey: AtomicU64,
    pub auth_ok_password: AtomicU64,
    pub auth_failed: AtomicU64,
    /// Authentications that could not be checked (database error): disconnected with
    /// "service temporarily unavailable", not counted as failures.
    pub auth_unavailable: AtomicU64,
    pub sessions_active: AtomicU64,
    pub sessions_total: AtomicU64,
    /// Effect tasks of interactive sessions alive now (bounded per session).
    pub effects_in_flight: AtomicU64,
    pub effects_started: AtomicU64,
    /// Sessions ended because their access could not be confirmed (re-check failed).
    pub recheck_failed: AtomicU64,
    /// The embedded cluster's supervisor, when there is one (not with `DATABASE_URL`).
    db: OnceLock<Arc<crate::db::supervisor::ClusterHealth>>,
    /// The server's operations, for the search indexes' memory (read at scrape time).
    indexes: OnceLock<IndexWatch>,
}

/// The operations whose search indexes a scrape reports (`Ops` has no `Debug`).
struct IndexWatch(crate::ops::Ops);

impl std::fmt::Debug for IndexWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IndexWatch")
    }
}

impl Metrics {
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn dec(counter: &AtomicU64) {
        counter.fetch_sub(1, Ordering::Relaxed);
    }

    /// Adds the supervisor's view of the embedded cluster to the metrics.
    pub fn watch_db(&self, health: Arc<crate::db::supervisor::ClusterHealth>) {
        let _ = self.db.set(health);
    }

    /// Adds the search indexes' size, budget and evictions to the metrics.
    pub fn watch_indexes(&self, ops: crate::ops::Ops) {
        let _ = self.indexes.set(IndexWatch(ops));
    }

    /// The exposition text (OpenMetrics), encoded by `prometheus-client` from a snapshot of the
    /// counters. The counters stay plain atomics so the hot paths keep their `fetch_add` and the
    /// rest of the crate never sees the client's types; a scrape is rare, so building the
    /// registry per scrape costs nothing that matters.
    pub fn render(&self) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let one = |v: u64| vec![(Vec::new(), v)];
        // Counter families are named without `_total`: the encoder appends it to each sample
        // (OpenMetrics), so the sample names are the ones scripts and alerts read.
        let mut families = vec![
            Family::counter(
                "packtrack_connections",
                "TCP connections accepted.",
                one(get(&self.connections)),
            ),
            Family::counter(
                "packtrack_connections_refused",
                "Connections refused by a limit.",
                one(get(&self.refused)),
            ),
            Family::counter(
                "packtrack_auth",
                "Authentication results.",
                vec![
                    (
                        vec![("result", "ok"), ("method", "publickey")],
                        get(&self.auth_ok_publickey),
                    ),
                    (
                        vec![("result", "ok"), ("method", "password+totp")],
                        get(&self.auth_ok_password),
                    ),
                    (vec![("result", "failed")], get(&self.auth_failed)),
                    (vec![("result", "unavailable")], get(&self.auth_unavailable)),
                ],
            ),
            Family::gauge(
                "packtrack_sessions_active",
                "Open SSH sessions (channels with a shell or command).",
                one(get(&self.sessions_active)),
            ),
            Family::counter(
                "packtrack_sessions",
                "SSH sessions started.",
                one(get(&self.sessions_total)),
            ),
            Family::gauge(
                "packtrack_effects_in_flight",
                "Effect tasks (queries, searches, commits) of interactive sessions running now.",
                one(get(&self.effects_in_flight)),
            ),
            Family::counter(
                "packtrack_effects_started",
                "Effect tasks started by interactive sessions.",
                one(get(&self.effects_started)),
            ),
            Family::counter(
                "packtrack_session_recheck_failed",
                "Sessions ended because the periodic re-check of their access failed.",
                one(get(&self.recheck_failed)),
            ),
            Family::counter(
                "packtrack_backup_failures",
                "Scheduled backups (serve --backup-dir) that failed or did not verify.",
                one(crate::backup::schedule::failures()),
            ),
            Family::counter(
                "packtrack_backup_paused_seconds",
                "Seconds scheduled backups waited for the sessions to be quiet (backup::pace).",
                one(crate::backup::pace::paused_total().as_secs()),
            ),
            Family::counter(
                "packtrack_wal_segments_shipped",
                "Archived WAL files moved to the backup dir (serve --wal-archive).",
                one(crate::backup::pitr::shipped()),
            ),
            Family::gauge(
                "packtrack_wal_outbox_files",
                "Archived WAL files waiting in the data dir for the backup dir (after the last pass).",
                one(crate::backup::pitr::waiting()),
            ),
            Family::counter(
                "packtrack_wal_archive_failures",
                "Failed WAL shipping passes and base backups (serve --wal-archive).",
                one(crate::backup::pitr::failures()),
            ),
        ];
        if let Some(db) = self.db.get() {
            families.push(Family::gauge(
                "packtrack_db_up",
                "Whether the embedded PostgreSQL server ran at the supervisor's last check.",
                one(u64::from(db.is_up())),
            ));
            families.push(Family::counter(
                "packtrack_db_restarts",
                "Restarts of the embedded PostgreSQL server by the supervisor.",
                one(db.restarts()),
            ));
        }
        if let Some(IndexWatch(ops)) = self.indexes.get() {
            let st = ops.index_stats();
            let n = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
            families.push(Family::gauge(
                "packtrack_search_indexes",
                "Facilities whose recipient search index is in memory.",
                one(n(st.indexes)),
            ));
            families.push(Family::gauge(
                "packtrack_search_index_bytes",
                "Estimated heap of the search indexes in memory.",
                one(n(st.bytes)),
            ));
            families.push(Family::gauge(
                "packtrack_search_index_budget_bytes",
                "The indexes' memory budget (serve --index-memory).",
                one(n(st.budget)),
            ));
            families.push(Family::counter(
                "packtrack_search_index_evictions",
                "Indexes evicted (least recently searched first) to stay within the budget.",
                one(st.evictions),
            ));
        }
        let mut registry = Registry::default();
        registry.register_collector(Box::new(Scrape(families)));
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &registry);
        out
    }
}

/// Label pairs of one sample, in the order they are written.
type Labels = Vec<(&'static str, &'static str)>;

/// One metric family as read at scrape time.
#[derive(Debug)]
struct Family {
    name: &'static str,
    help: &'static str,
    kind: MetricType,
    samples: Vec<(Labels, u64)>,
}

impl Family {
    fn counter(name: &'static str, help: &'static str, samples: Vec<(Labels, u64)>) -> Self {
        Self {
            name,
            help,
            kind: MetricType::Counter,
            samples,
        }
    }

    fn gauge(name: &'static str, help: &'static str, samples: Vec<(Labels, u64)>) -> Self {
        Self {
            name,
            help,
            kind: MetricType::Gauge,
            samples,
        }
    }
}

/// The snapshot handed to the registry: `prometheus-client` writes HELP, TYPE, the `_total`
/// suffix, label escaping and the closing `# EOF`.
#[derive(Debug)]
struct Scrape(Vec<Family>);

impl Collector for Scrape {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::fmt::Result {
        for f in &self.0 {
            let mut metric = encoder.encode_descriptor(f.name, f.help, None, f.kind)?;
            for (labels, v) in &f.samples {
                let sample = metric.encode_family(labels)?;
                if f.kind == MetricType::Counter {
                    ConstCounter::new(*v).encode(sample)?;
                } else {
                    ConstGauge::new(*v).encode(sample)?;
                }
            }
        }
        Ok(())
    }
}

/// Serves the metrics on every HTTP request (any path) until the listener fails.
pub async fn serve(listener: TcpListener, metrics: Arc<Metrics>) {
    loop {
        let Ok((mut sock, _)) = listener.accept().await else {
            return;
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 1024];
            // Read (part of) the request; its content does not matter.
            let _ =
                tokio::time::timeout(std::time::Duration::from_secs(5), sock.read(&mut buf)).await;
            let body = metrics.render();
            let resp = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
        });
    }
}

#[cfg(test)]
mod tests;
