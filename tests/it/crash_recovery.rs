//! The embedded cluster's life cycle across processes: a second process reuses a running
//! cluster without stopping it, a postmaster killed with SIGKILL is recovered by the next
//! command, and the last process out stops the server — not the one that started it.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use packtrack::db::{ClusterOptions, EmbeddedCluster, pg};
use sqlx::ConnectOptions;

use crate::support::{Run, Sandbox, pid_alive};

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether a session of the owner role is running a query containing `marker`.
fn query_running(cluster: &EmbeddedCluster, marker: &str) -> bool {
    let opts = cluster
        .connect_options(pg::SUPERUSER, &cluster.auth().superuser, "postgres")
        .disable_statement_logging();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let Ok(mut conn) = opts.connect().await else {
            return false;
        };
        sqlx::query_scalar::<_, bool>(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity \
             WHERE usename = 'packtrack_owner' AND state = 'active' \
               AND strpos(query, $1) > 0)",
        )
        .bind(marker)
        .fetch_one(&mut conn)
        .await
        .unwrap_or(false)
    })
}

#[test]
fn running_cluster_is_reused_and_a_killed_one_recovers() {
    let s = Sandbox::new();
    // This process plays the long-running server (`serve`) that started the cluster, with
    // the configuration the binary uses. (The test suite's `durable: false` turns off
    // synchronous_commit: a commit acknowledged just before a SIGKILL may be lost there.)
    let cluster = EmbeddedCluster::start(&s.data_dir(), ClusterOptions::default())
        .expect("start the embedded cluster");
    assert!(cluster.started_here());
    let pid = cluster.postmaster_pid().expect("postmaster.pid");
    assert!(pid_alive(pid));

    // --- a second process reuses it ---------------------------------------------------
    let r = s.ok(
        &[
            "admin",
            "facility",
            "create",
            "--slug",
            "south",
            "--name",
            "South Hall",
        ],
        None,
    );
    assert!(r.stdout.contains("facility south created"), "{r:?}");
    assert_eq!(
        cluster.postmaster_pid(),
        Some(pid),
        "the binary must attach to the running postmaster, not start another"
    );
    assert!(
        pid_alive(pid),
        "the binary stopped a cluster it did not start: {r:?}"
    );

    // --- kill -9 the postmaster -------------------------------------------------------
    kill(Pid::from_raw(pid), Signal::SIGKILL).expect("kill -9 the postmaster");
    wait_until("the killed postmaster is gone", || !pid_alive(pid));
    assert_eq!(
        s.postmaster_pid(),
        Some(pid),
        "a crash leaves the stale lock file behind"
    );

    // The next command recovers: a new postmaster over the stale lock file, and the
    // committed facility survived (WAL replay).
    let r = s.ok(&["admin", "audit", "verify"], None);
    assert!(
        r.stdout
            .contains("audit chain intact: 1 entries in 1 facilities"),
        "{r:?}"
    );
    // This process is still attached (a `serve` would reconnect to the new server), so the
    // recovering command left the server it started running for it.
    let restarted = s.postmaster_pid().expect("a new postmaster");
    assert_ne!(restarted, pid);
    assert!(pid_alive(restarted));

    // --- the last process out stops it ------------------------------------------------
    // A long command attaches; this process (which started the cluster) detaches
    // meanwhile. The command must not lose its server, and must stop it when it ends.
    let child = Command::new(env!("CARGO_BIN_EXE_packtrack"))
        .arg("--data-dir")
        .arg(s.data_dir())
        .arg("--keys-dir")
        .arg(s.keys_dir())
        .args(["admin", "psql", "--", "-At", "-v", "ON_ERROR_STOP=1", "-c"])
        .arg("SELECT pg_sleep(1), 'handover-' || (SELECT slug FROM facilities)")
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn packtrack");
    wait_until("the long command runs", || {
        query_running(&cluster, "handover-")
    });
    cluster.stop();
    assert!(
        pid_alive(restarted),
        "detaching stopped the server while another process used it"
    );
    let r: Run = child.wait_with_output().expect("wait").into();
    assert!(r.ok, "the command lost its server: {r:?}");
    assert!(r.stdout.contains("handover-south"), "{r:?}");
    wait_until("the last process stopped the server", || {
        !pid_alive(restarted)
    });
    assert!(
        !s.postmaster_pid_file().exists(),
        "the server should have been stopped cleanly"
    );
    s.assert_cluster_stopped();
}
