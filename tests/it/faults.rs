//! Fault injection against the real binary and its embedded cluster: a postmaster killed
//! under load is restarted without a human and loses no acknowledged intake; SIGTERM exits
//! while the database does not answer; a copied data dir starts; a stale pid file naming
//! another cluster's postgres neither blocks startup nor gets that process signalled.
//! docs/RELIABILITY.md has the budgets and the scripts that measure them.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use packtrack::db::{ClusterOptions, EmbeddedCluster, pg};
use russh::ChannelMsg;
use russh::client;
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg, PublicKey};
use sqlx::ConnectOptions;

use crate::served::{Served, free_port};
use crate::ssh_support::Pinned;
use crate::support::{Sandbox, pid_alive};

/// Recovery after a kill -9, at most, before the test calls it "needs a human".
const RECOVERY_LIMIT: Duration = Duration::from_secs(60);

/// One login and one exec command, as a script over `ssh` would do it; any failure (refused,
/// dropped, timed out, non-zero exit) is an `Err` with what happened.
async fn ssh_exec(
    addr: SocketAddr,
    host: &PublicKey,
    user: &str,
    key: &Arc<PrivateKey>,
    command: &str,
) -> Result<String, String> {
    let attempt = async {
        let config = Arc::new(client::Config::default());
        let mut h = client::connect(config, addr, Pinned::new(host.clone()))
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let auth = h
            .authenticate_publickey(user, PrivateKeyWithHashAlg::new(key.clone(), None))
            .await
            .map_err(|e| format!("auth: {e}"))?;
        if !auth.success() {
            return Err("login refused".to_string());
        }
        let mut ch = h
            .channel_open_session()
            .await
            .map_err(|e| format!("channel: {e}"))?;
        ch.exec(true, command)
            .await
            .map_err(|e| format!("exec: {e}"))?;
        let (mut out, mut err, mut status) = (Vec::new(), Vec::new(), None);
        while let Some(msg) = ch.wait().await {
            match msg {
                ChannelMsg::Data { data } => out.extend_from_slice(&data),
                ChannelMsg::ExtendedData { data, .. } => err.extend_from_slice(&data),
                ChannelMsg::ExitStatus { exit_status } => status = Some(exit_status),
                _ => {}
            }
        }
        match status {
            Some(0) => Ok(String::from_utf8_lossy(&out).into_owned()),
            other => Err(format!(
                "exit {other:?}: {}",
                String::from_utf8_lossy(&err).trim()
            )),
        }
    };
    tokio::time::timeout(Duration::from_secs(10), attempt)
        .await
        .unwrap_or_else(|_| Err("timed out".into()))
}

/// The metrics endpoint's text.
async fn scrape(addr: SocketAddr) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut sock = tokio::net::TcpStream::connect(addr).await.expect("metrics");
    sock.write_all(b"GET /metrics HTTP/1.0\r\n\r\n")
        .await
        .unwrap();
    let mut body = String::new();
    sock.read_to_string(&mut body).await.unwrap();
    body
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Intake loops: each retries its current tracking number until the server acknowledges
/// it (exit 0), as a clerk at a counter would, and keeps the acknowledged ones.
struct Loops {
    stop: Arc<AtomicBool>,
    acked: Vec<Arc<Mutex<Vec<String>>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    errors: Arc<AtomicUsize>,
}

impl Loops {
    fn start(n: usize, addr: SocketAddr, host: PublicKey, key: Arc<PrivateKey>, rcpt: i64) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let errors = Arc::new(AtomicUsize::new(0));
        let mut acked = Vec::new();
        let mut tasks = Vec::new();
        for l in 0..n {
            let done = Arc::new(Mutex::new(Vec::new()));
            acked.push(done.clone());
            let (stop, errors, host, key) =
                (stop.clone(), errors.clone(), host.clone(), key.clone());
            tasks.push(tokio::spawn(async move {
                let mut n = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    let tracking = format!("FAULT{l}X{n:05}");
                    let cmd = format!("packages intake --tracking {tracking} --recipient {rcpt}");
                    match ssh_exec(addr, &host, "clerk+demo", &key, &cmd).await {
                        Ok(_) => {
                            done.lock().unwrap().push(tracking);
                            n += 1;
                        }
                        Err(_) => {
                            errors.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    }
                }
            }));
        }
        Self {
            stop,
            acked,
            tasks,
            errors,
        }
    }

    fn counts(&self) -> Vec<usize> {
        self.acked.iter().map(|a| a.lock().unwrap().len()).collect()
    }

    async fn wait_each(&self, at_least: &[usize], limit: Duration, what: &str) {
        let deadline = Instant::now() + limit;
        loop {
            let now = self.counts();
            if now.iter().zip(at_least).all(|(n, min)| n >= min) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: acknowledged per loop {now:?}, wanted {at_least:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn finish(self) -> Vec<String> {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.tasks {
            t.await.expect("intake loop");
        }
        self.acked
            .iter()
            .flat_map(|a| a.lock().unwrap().clone())
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_postmaster_is_restarted_without_a_human_and_loses_no_acknowledged_intake() {
    let s = Sandbox::new();
    let (home, key) = s.home_with_key();
    let metrics = free_port();
    let mut served = s.serve_from(
        &home,
        &["--demo", "--metrics", &format!("127.0.0.1:{metrics}")],
    );
    let metrics: SocketAddr = format!("127.0.0.1:{metrics}").parse().unwrap();
    let host = s.host_key();
    let rcpt: i64 = ssh_exec(
        served.addr,
        &host,
        "clerk+demo",
        &key,
        "recipients search a --json",
    )
    .await
    .expect("recipients search")
    .lines()
    .next()
    .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
    .and_then(|v| v["id"].as_i64())
    .expect("a demo recipient id");

    let loops = Loops::start(4, served.addr, host.clone(), key.clone(), rcpt);
    loops
        .wait_each(&[2; 4], Duration::from_secs(60), "intakes before the kill")
        .await;

    // --- kill -9 the postmaster mid-intake ----------------------------------------------
    let pid = s.postmaster_pid().expect("postmaster.pid");
    kill(Pid::from_raw(pid), Signal::SIGKILL).expect("kill -9 the postmaster");
    let at_kill = loops.counts();
    let wanted: Vec<usize> = at_kill.iter().map(|n| n + 3).collect();
    loops
        .wait_each(
            &wanted,
            RECOVERY_LIMIT,
            "intakes did not work again without a human",
        )
        .await;
    // Whether an intake was in flight at the kill is up to timing (four loops of ssh exec
    // spend most of their time connecting): a fast restart can fail none, so the restart is
    // proven by the new postmaster, the metric and the log below, not by failed intakes.
    let failed_during_outage = loops.errors.load(Ordering::Relaxed);
    let acked = loops.finish().await;

    let restarted = s.postmaster_pid().expect("a new postmaster");
    assert_ne!(restarted, pid);
    assert!(pid_alive(restarted));
    let text = scrape(metrics).await;
    assert!(text.contains("packtrack_db_restarts_total 1"), "{text}");
    assert!(text.contains("packtrack_db_up 1"), "{text}");
    // The search indexes' memory is reported with its budget (serve's default, 256 MiB).
    assert!(
        text.contains("packtrack_search_index_budget_bytes 268435456"),
        "{text}"
    );
    let log = served.log();
    assert!(
        log.contains("PostgreSQL is not running; restarting it"),
        "{log}"
    );
    assert!(log.contains("PostgreSQL is running again"), "{log}");

    // --- every acknowledged intake exactly once, none partial ---------------------------
    let list = acked
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(",");
    let checks = ssh_exec(served.addr, &host, "clerk+demo", &key, "whoami").await;
    assert!(checks.is_ok(), "{checks:?}");
    let counts = s.psql(&format!(
        "SELECT count(DISTINCT tracking) || ' ' || count(*) FROM packages \
         WHERE tracking IN ({list})"
    ));
    assert_eq!(
        counts,
        format!("{} {}", acked.len(), acked.len()),
        "acknowledged intakes present exactly once ({failed_during_outage} failed during the outage)"
    );
    // Each package has its one custody event, and the same outbox rows as every other.
    let partial = s.psql(
        "SELECT count(*) FROM packages p WHERE tracking LIKE 'FAULT%' AND \
         (SELECT count(*) FROM package_events e \
          WHERE e.package_id = p.id AND e.kind = 'received') <> 1",
    );
    assert_eq!(partial, "0", "packages without exactly one intake event");
    let outbox_shapes = s.psql(
        "SELECT count(DISTINCT n) FROM (SELECT count(o.id) AS n FROM packages p \
         LEFT JOIN outbox o ON o.package_id = p.id AND o.event = 'intake' \
         WHERE p.tracking LIKE 'FAULT%' GROUP BY p.id) x",
    );
    assert_eq!(outbox_shapes, "1", "some package lacks its outbox rows");

    // --- SIGTERM while the cluster is down ---------------------------------------------
    kill(Pid::from_raw(restarted), Signal::SIGKILL).expect("kill -9 again");
    served.terminate_ok("while the cluster was down");
    stop_leftover(&s);
}

#[test]
fn sigterm_while_the_database_does_not_answer_exits_in_time() {
    let s = Sandbox::new();
    let home = s.path().to_path_buf();
    let mut served = s.serve_from(&home, &[]);
    // A postmaster that takes signals and connections but answers nothing (a hung server,
    // a stuck disk): SIGSTOP.
    let pid = s.postmaster_pid().expect("postmaster.pid");
    kill(Pid::from_raw(pid), Signal::SIGSTOP).expect("stop the postmaster");
    // Let the notification worker and live updates run into it.
    std::thread::sleep(Duration::from_secs(2));
    // Resume the postmaster even when the assertion fails, so it does not linger stopped.
    let resume = Resume(pid);
    served.terminate_ok("while PostgreSQL did not answer");
    drop(resume);
    // Resumed, the postmaster finds the stop signals it was sent.
    wait_until(
        "the resumed postmaster stops",
        Duration::from_secs(30),
        || !pid_alive(pid),
    );
}

/// Sends SIGCONT to `pid` when dropped.
struct Resume(i32);

impl Drop for Resume {
    fn drop(&mut self) {
        let _ = kill(Pid::from_raw(self.0), Signal::SIGCONT);
    }
}

/// Stops a postmaster a test left running (never one of another data dir).
fn stop_leftover(s: &Sandbox) {
    if let Some(pid) = s.postmaster_pid()
        && pid_alive(pid)
        && std::fs::read_link(format!("/proc/{pid}/cwd"))
            .is_ok_and(|d| d == s.data_dir().join("postgres"))
    {
        let _ = kill(Pid::from_raw(pid), Signal::SIGQUIT);
        wait_until(
            "the leftover postmaster stops",
            Duration::from_secs(30),
            || !pid_alive(pid),
        );
    }
}

#[tokio::test]
async fn copied_data_dir_starts_from_the_copy_and_logs_in() {
    let s = Sandbox::new();
    let (home, key) = s.home_with_key();
    // A data dir with a facility and the newcomer's key, stopped.
    let mut served = s.serve_from(&home, &["--demo"]);
    served.terminate_ok("on a healthy cluster");
    drop(served);
    s.assert_cluster_stopped();
    // Clusters made before the socket directory was passed at start carry its absolute
    // path in postgresql.conf; the start from the copy must not use it.
    let original = std::fs::canonicalize(s.data_dir()).unwrap();
    let conf = original.join("postgres/postgresql.conf");
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&conf)
        .unwrap();
    writeln!(
        f,
        "unix_socket_directories = '{}'",
        original.join("postgres").display()
    )
    .unwrap();
    drop(f);

    // cp -a, and the original moved away: nothing may still point into it.
    let copy = s.path().join("copied");
    let out = Command::new("cp")
        .arg("-a")
        .arg(s.data_dir())
        .arg(&copy)
        .output()
        .unwrap();
    assert!(out.status.success(), "cp -a: {out:?}");
    std::fs::rename(s.data_dir(), s.path().join("moved-away")).unwrap();

    let mut served = Served::start(&copy, &s.keys_dir(), &home, &[]);
    let host = s.host_key();
    let who = ssh_exec(served.addr, &host, "clerk+demo", &key, "whoami").await;
    assert_eq!(who.as_deref().map(str::trim), Ok("clerk demo operator"));
    for file in ["postgresql.conf", "postgresql.auto.conf"] {
        let mut text = String::new();
        std::fs::File::open(copy.join("postgres").join(file))
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        let live: Vec<&str> = text
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .filter(|l| l.contains(original.to_str().unwrap()) || l.contains("unix_socket_dir"))
            .collect();
        assert!(
            live.is_empty(),
            "{file} still names a socket path: {live:?}"
        );
    }
    served.terminate_ok("on the copy");
    let pid = std::fs::read_to_string(copy.join("postgres/postmaster.pid")).ok();
    assert!(pid.is_none(), "the copy's cluster was stopped on exit");
}

#[test]
fn stale_pid_file_naming_another_clusters_postgres_never_signals_it_nor_blocks_startup() {
    let fast = ClusterOptions::throwaway();
    // Another cluster on the same host: its postgres holds the pid ours had.
    let other_dir = Sandbox::new();
    let other = EmbeddedCluster::start(&other_dir.data_dir(), fast).expect("other cluster");
    let other_pid = other.postmaster_pid().expect("other postmaster");

    let s = Sandbox::new();
    let ours = EmbeddedCluster::start(&s.data_dir(), fast).expect("our cluster");
    let pid = ours.postmaster_pid().expect("our postmaster");
    let pid_file = s.postmaster_pid_file();
    let lock_text = std::fs::read_to_string(&pid_file).unwrap();
    kill(Pid::from_raw(pid), Signal::SIGKILL).expect("kill -9 our postmaster");
    wait_until("our postmaster is gone", Duration::from_secs(30), || {
        !pid_alive(pid)
    });
    // The pid number now belongs to the other cluster's postgres.
    let stale = lock_text.replacen(&pid.to_string(), &other_pid.to_string(), 1);
    std::fs::write(&pid_file, &stale).unwrap();

    // Stopping ours (serve exiting after the crash) must not signal the other one.
    ours.stop();
    drop(ours);
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        pid_alive(other_pid),
        "the other cluster's postgres was signalled"
    );
    assert!(answers(&other), "the other cluster stopped answering");

    // Starting ours over the same stale file works, and leaves the other one alone.
    std::fs::write(&pid_file, &stale).unwrap();
    let ours = EmbeddedCluster::start(&s.data_dir(), fast).expect("start over a stale pid file");
    let new_pid = ours.postmaster_pid().expect("a new postmaster");
    assert_ne!(new_pid, other_pid);
    assert!(answers(&ours), "our restarted cluster answers");
    assert!(pid_alive(other_pid) && answers(&other));
    drop(ours);
    s.assert_cluster_stopped();
    drop(other);
    other_dir.assert_cluster_stopped();
}

/// Whether the cluster accepts a superuser login and answers a query.
fn answers(cluster: &EmbeddedCluster) -> bool {
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
        sqlx::query_scalar::<_, i32>("SELECT 1")
            .fetch_one(&mut conn)
            .await
            .is_ok()
    })
}
