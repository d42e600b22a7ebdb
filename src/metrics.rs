//! Counters for the optional Prometheus endpoint (`serve --metrics ADDR`).

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

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

    /// Prometheus text exposition format.
    pub fn render(&self) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, lines: &[(String, u64)]| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, v) in lines {
                let _ = writeln!(out, "{name}{labels} {v}");
            }
        };
        metric(
            "packtrack_connections_total",
            "counter",
            "TCP connections accepted.",
            &[(String::new(), get(&self.connections))],
        );
        metric(
            "packtrack_connections_refused_total",
            "counter",
            "Connections refused by a limit.",
            &[(String::new(), get(&self.refused))],
        );
        metric(
            "packtrack_auth_total",
            "counter",
            "Authentication results.",
            &[
                (
                    "{result=\"ok\",method=\"publickey\"}".into(),
                    get(&self.auth_ok_publickey),
                ),
                (
                    "{result=\"ok\",method=\"password+totp\"}".into(),
                    get(&self.auth_ok_password),
                ),
                ("{result=\"failed\"}".into(), get(&self.auth_failed)),
                (
                    "{result=\"unavailable\"}".into(),
                    get(&self.auth_unavailable),
                ),
            ],
        );
        metric(
            "packtrack_sessions_active",
            "gauge",
            "Open SSH sessions (channels with a shell or command).",
            &[(String::new(), get(&self.sessions_active))],
        );
        metric(
            "packtrack_sessions_total",
            "counter",
            "SSH sessions started.",
            &[(String::new(), get(&self.sessions_total))],
        );
        metric(
            "packtrack_effects_in_flight",
            "gauge",
            "Effect tasks (queries, searches, commits) of interactive sessions running now.",
            &[(String::new(), get(&self.effects_in_flight))],
        );
        metric(
            "packtrack_effects_started_total",
            "counter",
            "Effect tasks started by interactive sessions.",
            &[(String::new(), get(&self.effects_started))],
        );
        metric(
            "packtrack_session_recheck_failed_total",
            "counter",
            "Sessions ended because the periodic re-check of their access failed.",
            &[(String::new(), get(&self.recheck_failed))],
        );
        if let Some(db) = self.db.get() {
            metric(
                "packtrack_db_up",
                "gauge",
                "Whether the embedded PostgreSQL server ran at the supervisor's last check.",
                &[(String::new(), u64::from(db.is_up()))],
            );
            metric(
                "packtrack_db_restarts_total",
                "counter",
                "Restarts of the embedded PostgreSQL server by the supervisor.",
                &[(String::new(), db.restarts())],
            );
        }
        out
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
                "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters() {
        let m = Metrics::default();
        Metrics::inc(&m.connections);
        Metrics::inc(&m.sessions_active);
        let text = m.render();
        assert!(text.contains("packtrack_connections_total 1"), "{text}");
        assert!(text.contains("packtrack_sessions_active 1"));
        assert!(text.contains("# TYPE packtrack_sessions_active gauge"));
        assert!(
            !text.contains("packtrack_db_"),
            "no database metrics without a supervised cluster: {text}"
        );
    }

    #[test]
    fn renders_the_supervised_clusters_health() {
        let m = Metrics::default();
        m.watch_db(Arc::new(crate::db::supervisor::ClusterHealth::default()));
        let text = m.render();
        assert!(text.contains("# TYPE packtrack_db_up gauge"), "{text}");
        assert!(text.contains("packtrack_db_up 1"), "{text}");
        assert!(text.contains("# TYPE packtrack_db_restarts_total counter"));
        assert!(text.contains("packtrack_db_restarts_total 0"), "{text}");
    }
}
