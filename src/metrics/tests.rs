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

/// The sample names (and label sets) that scripts, docs and dashboards read: the same as
/// the hand-written encoder produced before `prometheus-client`.
#[test]
fn sample_names_are_stable() {
    let m = Metrics::default();
    m.watch_db(Arc::new(crate::db::supervisor::ClusterHealth::default()));
    let text = m.render();
    let samples: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' ').map(|(name, _)| name))
        .collect();
    assert_eq!(
        samples,
        [
            "packtrack_connections_total",
            "packtrack_connections_refused_total",
            r#"packtrack_auth_total{result="ok",method="publickey"}"#,
            r#"packtrack_auth_total{result="ok",method="password+totp"}"#,
            r#"packtrack_auth_total{result="failed"}"#,
            r#"packtrack_auth_total{result="unavailable"}"#,
            "packtrack_sessions_active",
            "packtrack_sessions_total",
            "packtrack_effects_in_flight",
            "packtrack_effects_started_total",
            "packtrack_session_recheck_failed_total",
            "packtrack_backup_failures_total",
            "packtrack_backup_paused_seconds_total",
            "packtrack_wal_segments_shipped_total",
            "packtrack_wal_outbox_files",
            "packtrack_wal_archive_failures_total",
            "packtrack_db_up",
            "packtrack_db_restarts_total",
        ]
    );
    assert!(text.ends_with("# EOF\n"), "{text}");
}

#[test]
fn renders_the_supervised_clusters_health() {
    let m = Metrics::default();
    m.watch_db(Arc::new(crate::db::supervisor::ClusterHealth::default()));
    let text = m.render();
    assert!(text.contains("# TYPE packtrack_db_up gauge"), "{text}");
    assert!(text.contains("packtrack_db_up 1"), "{text}");
    // OpenMetrics types a counter under its family name; the sample keeps `_total`.
    assert!(
        text.contains("# TYPE packtrack_db_restarts counter"),
        "{text}"
    );
    assert!(text.contains("packtrack_db_restarts_total 0"), "{text}");
}
