//! Issue 3's budgets, measured: cold and warm start of the real binary, a fresh per-test
//! database, and one tenant transaction (intake) on one connection.
//!
//! `cargo build --release && cargo bench --bench foundation`
//!
//! Plain `Instant` timing; prints a table and never asserts on time (see docs/PERFORMANCE.md).
//! Sizes can be changed with BENCH_STARTUP_REPS, BENCH_FRESH_DBS and BENCH_TX_ITERS.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use packtrack::benchkit::pct;
use packtrack::db::packages::{self, NewPackage};
use packtrack::db::testing::TestCluster;
use packtrack::db::unscoped::Admin;
use packtrack::db::{ClusterOptions, Database, EmbeddedCluster, pg};
use packtrack::domain::{Principal, Role, Source};

/// Budgets from issue 3.
const BUDGET_FIRST_RUN: Duration = Duration::from_millis(5_000);
const BUDGET_LATER_START: Duration = Duration::from_millis(1_500);
const BUDGET_FRESH_DB: Duration = Duration::from_millis(150);
const BUDGET_TX_P99: Duration = Duration::from_millis(5);

/// Each timed loop stops early after this long, so the whole run stays well under 2 minutes.
const LOOP_CAP: Duration = Duration::from_secs(20);

fn main() {
    let startup_reps = env_usize("BENCH_STARTUP_REPS", 5);
    let fresh_dbs = env_usize("BENCH_FRESH_DBS", 30);
    let tx_iters = env_usize("BENCH_TX_ITERS", 5_000);
    let total = Instant::now();
    let load_start = loadavg();
    let mut rows = Vec::new();
    let mut phases: Vec<(&str, Duration)> = Vec::new();
    let mut later_phases: Vec<(&str, Duration)> = Vec::new();
    let mut diag: Vec<(String, Vec<Duration>)> = Vec::new();

    // 1. The real binary: `migrate` on an empty data dir, then again on the same dir.
    match release_binary() {
        Some(bin) => {
            let (first, later) = startup(&bin, startup_reps);
            rows.push(Row::new(
                "first run, empty dir -> migrated (binary)".into(),
                first,
                Stat::Max,
                BUDGET_FIRST_RUN,
            ));
            rows.push(Row::new(
                "later start -> migrated (binary)".into(),
                later,
                Stat::Max,
                BUDGET_LATER_START,
            ));
        }
        None => eprintln!(
            "startup: SKIPPED: target/release/packtrack not found; run `cargo build --release` \
             first (or set PACKTRACK_BIN)"
        ),
    }

    // 2. The shared test cluster (initdb with fsync off, start, migrate the template), then
    //    fresh per-test databases cloned from the template.
    let t = Instant::now();
    let tc = TestCluster::shared();
    let test_cluster_setup = t.elapsed();

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let tc_fs = fs_type(tc.data_dir());
    rt.block_on(async {
        let mut fresh = Vec::with_capacity(fresh_dbs);
        let mut last = None;
        for _ in 0..fresh_dbs {
            let t = Instant::now();
            let db = tc.fresh_database().await;
            fresh.push(t.elapsed());
            last = Some(db);
        }
        rows.push(Row::new(
            format!("fresh per-test database ({tc_fs})"),
            fresh,
            Stat::P90,
            BUDGET_FRESH_DB,
        ));

        // 3a. Tenant transaction on the test cluster (fsync off).
        let db = last.expect("at least one fresh database");
        let samples = tenant_tx(&db, "fast", tx_iters).await;
        rows.push(Row::new(
            format!("tenant tx: intake, test cluster ({tc_fs}, fsync OFF)"),
            samples,
            Stat::P99,
            BUDGET_TX_P99,
        ));

        // 3b. The same on a durable cluster, configured as production runs it. Setting it
        //     up is the binary's first run done in-process, so time its phases too.
        let dir = short_tempdir();
        let durable_fs = fs_type(dir.path());
        let t = Instant::now();
        let cluster = tokio::task::spawn_blocking({
            let path = dir.path().to_path_buf();
            move || EmbeddedCluster::start(&path, ClusterOptions::default())
        })
        .await
        .expect("join")
        .expect("durable cluster");
        phases.push(("initdb + pg_ctl start", t.elapsed()));
        let t = Instant::now();
        let db = Database::embedded(Arc::new(cluster), "packtrack")
            .await
            .expect("durable database");
        phases.push(("roles + CREATE DATABASE", t.elapsed()));
        let t = Instant::now();
        db.migrate().await.expect("migrate durable database");
        phases.push(("migrate", t.elapsed()));
        let samples = tenant_tx(&db, "durable", tx_iters).await;
        rows.push(Row::new(
            format!("tenant tx: intake, durable cluster ({durable_fs}, fsync ON)"),
            samples,
            Stat::P99,
            BUDGET_TX_P99,
        ));
        // Last reference to the cluster: stops it before its directory is removed.
        let t = Instant::now();
        drop(db);
        phases.push(("pg_ctl stop (after the tx run)", t.elapsed()));

        // A later start on the same directory, phase by phase.
        let t = Instant::now();
        let cluster = tokio::task::spawn_blocking({
            let path = dir.path().to_path_buf();
            move || EmbeddedCluster::start(&path, ClusterOptions::default())
        })
        .await
        .expect("join")
        .expect("durable cluster restart");
        later_phases.push(("pg_ctl start", t.elapsed()));
        let t = Instant::now();
        let db = Database::embedded(Arc::new(cluster), "packtrack")
            .await
            .expect("durable database");
        later_phases.push(("roles + database check", t.elapsed()));
        let t = Instant::now();
        db.migrate().await.expect("migrate durable database");
        later_phases.push(("migrate (nothing pending)", t.elapsed()));
        let t = Instant::now();
        drop(db);
        later_phases.push(("pg_ctl stop", t.elapsed()));
        drop(dir);

        // Diagnostics: what the numbers above are made of.
        diag.extend(diagnostics(tc).await);
    });

    print_table(&rows);
    println!("\nfirst-run phases, in-process, durable cluster (one sample each):");
    for (name, d) in &phases {
        println!("  {name:<44} {:>9}", fmt(*d));
    }
    println!("later-start phases, in-process, same cluster (one sample each):");
    for (name, d) in &later_phases {
        println!("  {name:<44} {:>9}", fmt(*d));
    }
    println!("\ndiagnostics (p50 / p99 of n samples):");
    for (name, mut s) in diag {
        s.sort_unstable();
        println!(
            "  {name:<52} {:>9} / {:>9}  (n={})",
            fmt(pct(&s, 50.0)),
            fmt(pct(&s, 99.0)),
            s.len()
        );
    }
    println!("\nloadavg at start: {load_start}");
    println!(
        "\ntest cluster setup in {} on {} (initdb --no-sync, start, migrate template): {}",
        tc.data_dir().display(),
        fs_type(tc.data_dir()),
        fmt(test_cluster_setup)
    );
    print_machine();
    println!("bench wall time: {}", fmt(total.elapsed()));
}

// ---------------------------------------------------------------------------------------
// Startup through the real binary

fn release_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PACKTRACK_BIN") {
        return Some(PathBuf::from(p));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let bin = target.join("release").join("packtrack");
    bin.is_file().then_some(bin)
}

/// Returns (first runs, later starts). Each rep uses a new empty data dir: one cold run,
/// then three warm ones. Every run starts and stops the embedded cluster itself.
fn startup(bin: &Path, reps: usize) -> (Vec<Duration>, Vec<Duration>) {
    let mut first = Vec::new();
    let mut later = Vec::new();
    let started = Instant::now();
    for _ in 0..reps {
        let dir = short_tempdir();
        first.push(run_migrate(bin, dir.path()));
        for _ in 0..3 {
            later.push(run_migrate(bin, dir.path()));
        }
        if started.elapsed() > LOOP_CAP + LOOP_CAP / 2 {
            break;
        }
    }
    (first, later)
}

fn run_migrate(bin: &Path, dir: &Path) -> Duration {
    let mut cmd = Command::new(bin);
    cmd.arg("--data-dir")
        .arg(dir)
        .arg("--keys-dir")
        .arg(dir.join("keys"))
        .arg("migrate")
        .env_remove("DATABASE_URL")
        .env_remove("PACKTRACK_DATA_DIR")
        .env_remove("PACKTRACK_KEYS_DIR")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let t = Instant::now();
    let out = cmd.output().expect("run packtrack migrate");
    let took = t.elapsed();
    assert!(
        out.status.success(),
        "packtrack migrate failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

/// The data dir holds the cluster's Unix socket, whose path must fit in 107 bytes:
/// keep it short and on the same disk a default `./data` would use.
fn short_tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("ptb")
        .tempdir_in(std::env::temp_dir())
        .expect("temp dir")
}

// ---------------------------------------------------------------------------------------
// Tenant transaction: the intake path exactly as a session runs it

async fn tenant_tx(db: &Database, tag: &str, iters: usize) -> Vec<Duration> {
    let principal = member(db, "bench", "clerk", Role::Operator).await;
    let app = db.app(1).await.expect("app pool");
    let new = |i: usize| NewPackage {
        tracking: format!("BENCH{tag}{i:09}"),
        carrier: Some("ups".into()),
        location: "Shelf A".try_into().expect("a valid location"),
        ..NewPackage::default()
    };
    // Warm up: prepared statements cached on the one connection, caches filled.
    for i in 0..200 {
        let mut tx = app.tenant(&principal).await.expect("tenant tx");
        packages::intake(&mut tx, &new(iters + i))
            .await
            .expect("intake");
        tx.commit().await.expect("commit");
    }
    let mut samples = Vec::with_capacity(iters);
    let started = Instant::now();
    for i in 0..iters {
        let t = Instant::now();
        let mut tx = app.tenant(&principal).await.expect("tenant tx");
        let got = packages::intake(&mut tx, &new(i)).await.expect("intake");
        tx.commit().await.expect("commit");
        samples.push(t.elapsed());
        assert!(got.created, "tracking numbers are unique per iteration");
        if started.elapsed() > LOOP_CAP {
            break;
        }
    }
    app.close().await;
    samples
}

/// Round-trip floor of one `packtrack_app` connection, and what a fresh database costs: the
/// template clone with each `CREATE DATABASE` strategy (PostgreSQL 15+; WAL_LOG is the
/// default), where the test cluster lives and, for comparison, on the other medium.
async fn diagnostics(tc: &TestCluster) -> Vec<(String, Vec<Duration>)> {
    let mut out = Vec::new();

    let db = tc.fresh_database().await;
    let app = db.app(1).await.expect("app pool");
    let mut rt = Vec::new();
    for i in 0..1_200 {
        let t = Instant::now();
        sqlx::query("SELECT 1")
            .execute(app.pool())
            .await
            .expect("select 1");
        if i >= 200 {
            rt.push(t.elapsed());
        }
    }
    out.push(("round trip `SELECT 1`, app pool".to_string(), rt));
    let mut empty = Vec::new();
    for i in 0..1_200 {
        let t = Instant::now();
        let tx = app.pool().begin().await.expect("begin");
        tx.commit().await.expect("commit");
        if i >= 200 {
            empty.push(t.elapsed());
        }
    }
    out.push(("empty BEGIN + COMMIT, app pool".to_string(), empty));
    app.close().await;
    drop(db);

    let here = fs_type(tc.data_dir());
    out.extend(clone_costs(&here, tc.cluster()).await);

    // The same cluster settings on the other medium: tmpfs (/dev/shm) when the test cluster
    // is on disk, the temp dir's disk when it is on tmpfs.
    let other = if here == "tmpfs" {
        std::env::temp_dir()
    } else {
        PathBuf::from("/dev/shm")
    };
    if other.is_dir() {
        let dir = tempfile::Builder::new()
            .prefix("ptb")
            .tempdir_in(&other)
            .expect("comparison dir");
        let place = fs_type(dir.path());
        let t = Instant::now();
        let cluster = tokio::task::spawn_blocking({
            let path = dir.path().to_path_buf();
            move || EmbeddedCluster::start(&path, ClusterOptions::throwaway())
        })
        .await
        .expect("join");
        match cluster {
            Ok(cluster) => {
                let cluster = Arc::new(cluster);
                let template = Database::embedded(cluster.clone(), TEMPLATE)
                    .await
                    .expect("comparison template");
                template
                    .migrate()
                    .await
                    .expect("migrate comparison template");
                drop(template);
                out.push((
                    format!("{place}: test cluster setup (initdb, start, migrate)"),
                    vec![t.elapsed()],
                ));
                out.extend(clone_costs(&place, &cluster).await);
            }
            Err(e) => eprintln!("diagnostics: {place} cluster: {e}"),
        }
        drop(dir);
    }
    out
}

/// The type of the filesystem holding `path` (longest matching mount point in
/// /proc/mounts), e.g. `ext4` or `tmpfs`.
fn fs_type(path: &Path) -> String {
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    mounts
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (_, mount, kind) = (f.next()?, f.next()?, f.next()?);
            path.starts_with(mount)
                .then(|| (mount.len(), kind.to_string()))
        })
        .max_by_key(|(len, _)| *len)
        .map_or_else(|| "unknown fs".into(), |(_, kind)| kind)
}

/// The migrated template of [`TestCluster`] (and of the comparison cluster above).
const TEMPLATE: &str = "packtrack_template";

/// Connect as superuser, clone the template with each strategy, and the whole of
/// `fresh_database` minus its lock: clone (default strategy) + `Database::embedded`.
async fn clone_costs(place: &str, cluster: &Arc<EmbeddedCluster>) -> Vec<(String, Vec<Duration>)> {
    use sqlx::{ConnectOptions, Connection};
    let mut out = Vec::new();
    let auth = cluster.auth();
    let opts = cluster
        .connect_options(pg::SUPERUSER, &auth.superuser, "postgres")
        .disable_statement_logging();
    let mut connects = Vec::new();
    let mut su = None;
    for _ in 0..10 {
        let t = Instant::now();
        let conn = opts.connect().await.expect("superuser connection");
        connects.push(t.elapsed());
        if let Some(old) = su.replace(conn) {
            let _ = old.close().await;
        }
    }
    out.push((
        format!("{place}: superuser connect (scram-sha-256)"),
        connects,
    ));
    let mut su = su.expect("superuser connection");
    for strategy in ["WAL_LOG", "FILE_COPY"] {
        let mut samples = Vec::new();
        for i in 0..10 {
            let name = format!("bench_{place}_{}_{i}", strategy.to_lowercase());
            let sql = format!("CREATE DATABASE {name} TEMPLATE {TEMPLATE} STRATEGY {strategy}");
            let t = Instant::now();
            match sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&mut su)
                .await
            {
                Ok(_) => samples.push(t.elapsed()),
                Err(e) => {
                    eprintln!("diagnostics: {place} {strategy}: {e}");
                    break;
                }
            }
        }
        out.push((
            format!("{place}: CREATE DATABASE .. STRATEGY {strategy}"),
            samples,
        ));
    }
    let mut whole = Vec::new();
    for i in 0..10 {
        let name = format!("bench_{place}_fresh_{i}");
        let t = Instant::now();
        packtrack::db::create_database(&mut su, &name, Some(TEMPLATE))
            .await
            .expect("clone");
        let db = Database::embedded(cluster.clone(), &name)
            .await
            .expect("database");
        whole.push(t.elapsed());
        drop(db);
    }
    out.push((format!("{place}: clone + Database::embedded"), whole));
    let _ = su.close().await;
    out
}

/// A member's principal, resolved the way a login does (as tests/it/support.rs does).
async fn member(db: &Database, slug: &str, login: &str, role: Role) -> Principal {
    let owner = db.owner_pool().await.expect("owner pool");
    let admin = Admin::new(&owner);
    if admin.facility_id(slug).await.is_err() {
        admin
            .create_facility(slug, "Bench facility")
            .await
            .expect("facility");
    }
    admin
        .add_user(login, login, slug, role, None)
        .await
        .expect("user");
    owner.close().await;
    let ssh = Source::Ssh {
        peer: "127.0.0.1:50000".into(),
    };
    packtrack::db::testing::principal(db, login, slug, ssh).await
}

// ---------------------------------------------------------------------------------------
// Statistics and output

/// Which statistic the budget applies to.
#[derive(Clone, Copy)]
enum Stat {
    Max,
    P90,
    P99,
}

struct Row {
    name: String,
    sorted: Vec<Duration>,
    stat: Stat,
    budget: Duration,
}

impl Row {
    fn new(name: String, mut samples: Vec<Duration>, stat: Stat, budget: Duration) -> Self {
        samples.sort_unstable();
        Self {
            name,
            sorted: samples,
            stat,
            budget,
        }
    }
}

fn fmt(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms >= 1_000.0 {
        format!("{:.2} s", ms / 1e3)
    } else if ms >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

fn print_table(rows: &[Row]) {
    println!(
        "\n{:<56} {:>5} {:>9} {:>9} {:>9} {:>9} {:>9}   {:<16} {:>8}",
        "measurement", "n", "min", "p50", "p90", "p99", "max", "budget", "verdict"
    );
    println!("{}", "-".repeat(142));
    for r in rows {
        let s = &r.sorted;
        let (label, measured) = match r.stat {
            Stat::Max => ("max", pct(s, 100.0)),
            Stat::P90 => ("p90", pct(s, 90.0)),
            Stat::P99 => ("p99", pct(s, 99.0)),
        };
        println!(
            "{:<56} {:>5} {:>9} {:>9} {:>9} {:>9} {:>9}   {:<16} {:>8}",
            r.name,
            s.len(),
            fmt(pct(s, 0.0)),
            fmt(pct(s, 50.0)),
            fmt(pct(s, 90.0)),
            fmt(pct(s, 99.0)),
            fmt(pct(s, 100.0)),
            format!("{label} < {}", fmt(r.budget)),
            if s.is_empty() {
                "no data"
            } else if measured < r.budget {
                "ok"
            } else {
                "OVER"
            },
        );
    }
}

fn print_machine() {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let pg = TestCluster::shared()
        .cluster()
        .command("postgres")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    println!(
        "machine: {cores} cpus, {cpu}; {pg}; loadavg at end: {}",
        loadavg()
    );
}

/// 1, 5 and 15 minute load averages: the machine is shared, so say how busy it was.
fn loadavg() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
