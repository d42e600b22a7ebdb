//! Issue 6's two notification budgets, measured (printed, never asserted):
//!
//! * **throughput**: "at least 200 notifications per second to a local webhook receiver".
//!   A facility with one webhook (and nothing else) pointing at a minimal HTTP/1.1 receiver
//!   on 127.0.0.1 that answers `200` at once (keep-alive). `--notifications` real intakes
//!   (`Ops::intake`, concurrency `--concurrency`) queue one webhook row each with no worker
//!   running; then `--workers` real workers (`notify::worker::run`, the loop `serve` runs,
//!   `WorkerConfig::default()` with loopback allowed, and `--batch` if given) drain the
//!   backlog. Delivered/s = rows / time from the workers' start until the last row is
//!   `delivered` in the database
//!   (polled every 50 ms). The receiver counts requests and distinct delivery ids, so a row
//!   delivered twice would show.
//! * **intake**: "Intake p99 with the SMTP receiver down stays within 10 % of intake p99
//!   with it up". Another facility with an SMTP integration (smtp://127.0.0.1:PORT) and
//!   recipients with e-mail; one real worker with `WorkerConfig::default()` (loopback
//!   allowed, as `serve --notify-allow-private 127.0.0.0/8`) runs during each phase, as in
//!   `serve` (a new one per phase, so that no pause of the integration
//!   carries over from a `down` phase into an `up` one). Intakes at `--concurrency` for `--duration-secs` (after
//!   `--warmup-secs`) with the SMTP receiver in each mode: `up` (a minimal SMTP server that
//!   accepts every message), `refused` (nothing listens on the port: every delivery fails at
//!   once and is rescheduled), `hang` (accepts connections and never answers: every
//!   delivery runs into the 10 s delivery timeout). The modes are interleaved for
//!   `--rounds` rounds (the machine's load drifts), each round starting with the next mode
//!   (up-refused-hang, refused-hang-up, hang-up-refused, …); before each phase the facility's outbox
//!   is emptied. Per phase: p50/p90/p99/max (ms) and what the worker did; then the p99 of
//!   each mode (all its rounds pooled) and its ratio to `up`, the ratios of each round's
//!   phases (back to back, under about the same load) and their median, and the spread of
//!   `up`'s own p99 across rounds (what the machine's noise alone does to the same mode).
//!
//! Without `--database-url` a durable embedded cluster (fsync on, as `packtrack serve`
//! runs it) is created in a temp dir and removed afterwards. With it (the OWNER role's URL
//! of a migrated database), the facilities are named `nb<unix time>a`/`…b` and left there.
//! Everything listens on 127.0.0.1 only. Bounded: each drain stops after 120 s.
//!
//! ```text
//! cargo run --release --example notify_bench -- --part all
//! cargo run --release --example notify_bench -- --part throughput --notifications 5000 --workers 2
//! ```
//!
//! Prints `RESULT key=value ...` lines (milliseconds).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use packtrack::benchkit::pct;
use packtrack::config::Config;
use packtrack::db::recipients::{self, NewRecipient};
use packtrack::db::unscoped::Admin;
use packtrack::db::{ClusterOptions, Database, EmbeddedCluster};
use packtrack::domain::{Principal, Role, Source};
use packtrack::notify::worker::{self, WorkerConfig};
use packtrack::ops::{IntakeRequest, Ops};
use packtrack::secrets::SecretsKey;
use sqlx::PgPool;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Part {
    Throughput,
    Intake,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SmtpMode {
    Up,
    Refused,
    Hang,
}

impl SmtpMode {
    fn name(self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Refused => "refused",
            Self::Hang => "hang",
        }
    }
}

#[derive(Debug, Parser)]
#[command(about = "Notification throughput and intake latency with the SMTP receiver down")]
struct Cli {
    /// The owner role's URL of a migrated database; without it, a durable embedded cluster
    /// in a temp dir.
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    #[arg(long, value_enum, default_value_t = Part::All)]
    part: Part,
    /// Webhook notifications queued, then drained (throughput).
    #[arg(long, default_value_t = 3000)]
    notifications: u64,
    /// Workers draining at once (one per server).
    #[arg(long, default_value_t = 1)]
    workers: u32,
    /// Rows a worker claims per round (default: `WorkerConfig::default()`'s).
    #[arg(long)]
    batch: Option<i64>,
    /// Milliseconds the webhook receiver waits before answering (a slower receiver).
    #[arg(long, default_value_t = 0)]
    webhook_delay_ms: u64,
    /// Intakes in flight at once (queueing, and the intake part).
    #[arg(long, default_value_t = 16)]
    concurrency: u32,
    /// Measured seconds per intake phase.
    #[arg(long, default_value_t = 5)]
    duration_secs: u64,
    #[arg(long, default_value_t = 1)]
    warmup_secs: u64,
    /// Rounds of (up, refused, hang): many short interleaved phases, so that every mode
    /// sees the same mix of the machine's (shared, drifting) load.
    #[arg(long, default_value_t = 6)]
    rounds: u32,
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    if !(1..=100_000).contains(&cli.notifications)
        || !(1..=8).contains(&cli.workers)
        || !(1..=200).contains(&cli.concurrency)
        || cli.duration_secs > 120
        || cli.warmup_secs > 30
        || !(1..=20).contains(&cli.rounds)
        || cli.batch.is_some_and(|b| !(1..=1000).contains(&b))
        || cli.webhook_delay_ms > 1000
    {
        bail!(
            "bounds: --notifications 1..=100000, --workers 1..=8, --concurrency 1..=200, \
             --duration-secs <= 120, --warmup-secs <= 30, --rounds 1..=20, --batch 1..=1000, \
             --webhook-delay-ms <= 1000"
        );
    }
    println!("machine: {}", machine());
    println!("load average at start: {}", loadavg());

    // The database: external, or a durable embedded cluster of our own.
    let mut _tempdir = None;
    let db = match &cli.database_url {
        Some(url) => {
            let cfg = Config {
                data_dir: PathBuf::from("/nonexistent"),
                keys_dir: PathBuf::from("/nonexistent"),
                database_url: Some(url.clone()),
            };
            let db = Database::open(&cfg).await?;
            db.migrate().await?;
            db
        }
        None => {
            // Short: the cluster's Unix socket path must fit in 107 bytes.
            let dir = tempfile::Builder::new()
                .prefix("ptn")
                .tempdir_in(std::env::temp_dir())?;
            let path = dir.path().to_path_buf();
            let cluster = tokio::task::spawn_blocking(move || {
                EmbeddedCluster::start(&path, ClusterOptions::default())
            })
            .await??;
            println!(
                "database: durable embedded cluster (fsync on) in {} ({})",
                dir.path().display(),
                fs_type(dir.path())
            );
            _tempdir = Some(dir);
            let db = Database::embedded(Arc::new(cluster), "packtrack").await?;
            db.migrate().await?;
            db
        }
    };
    let keys = SecretsKey::from_bytes(&[42u8; 32]);
    let owner = db.owner_pool().await?;
    let app = db.app(cli.concurrency + 2).await?;
    let ops = Ops::new(app.clone());
    let tag = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());

    if matches!(cli.part, Part::Throughput | Part::All) {
        throughput(&cli, &db, &owner, &ops, &keys, &format!("nb{tag}a")).await?;
    }
    if matches!(cli.part, Part::Intake | Part::All) {
        intake_budget(&cli, &db, &owner, &ops, &keys, &format!("nb{tag}b")).await?;
    }
    println!("load average at end: {}", loadavg());
    app.close().await;
    owner.close().await;
    // The cluster stops when `db` (its last reference) drops, before the temp dir goes.
    drop(db);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Setup
// ---------------------------------------------------------------------------------------

/// A facility with a clerk and 200 recipients (each with an e-mail address); returns the
/// clerk's principal and the recipients' ids.
async fn facility(db: &Database, owner: &PgPool, slug: &str) -> Result<(Principal, Vec<i64>)> {
    let admin = Admin::new(owner);
    admin.create_facility(slug, "Notification bench").await?;
    let login = format!("{slug}clerk");
    admin
        .add_user(&login, "Bench clerk", slug, Role::Operator, None)
        .await?;
    let mut tx = admin.tenant(slug).await?;
    for i in 0..200 {
        recipients::upsert(
            &mut tx,
            &NewRecipient {
                name: format!("Resident {i:03}"),
                unit: format!("U-{i:03}"),
                email: Some(format!("resident{i}@example.org")),
                phone: None,
                aliases: vec![],
            },
        )
        .await?;
    }
    tx.commit().await?;
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT r.id FROM recipients r JOIN facilities f ON f.id = r.facility_id \
         WHERE f.slug = $1 ORDER BY r.id",
    )
    .bind(slug)
    .fetch_all(owner)
    .await?;
    let app = db.app(1).await?;
    let user = app
        .unscoped()
        .user(&login)
        .await?
        .context("the clerk exists")?;
    let principal = app
        .unscoped()
        .principal(
            &user,
            Some(slug),
            Source::Ssh {
                peer: "127.0.0.1:50000".into(),
            },
        )
        .await?
        .context("the clerk is a member")?;
    app.close().await;
    Ok((principal, ids))
}

async fn facility_id(owner: &PgPool, slug: &str) -> Result<i64> {
    Ok(Admin::new(owner).facility_id(slug).await?.0)
}

/// Runs intakes at `concurrency` until `end`; returns the latencies (ms) of those that
/// started at or after `start`, and the number of failures.
async fn intakes(
    ops: &Ops,
    principal: &Principal,
    recipients: &Arc<Vec<i64>>,
    concurrency: u32,
    prefix: &str,
    start: Instant,
    stop: Stop,
) -> (Vec<f64>, u64) {
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = JoinSet::new();
    for w in 0..concurrency {
        let (ops, principal, recipients, next, prefix, stop) = (
            ops.clone(),
            principal.clone(),
            recipients.clone(),
            next.clone(),
            prefix.to_string(),
            stop.clone(),
        );
        tasks.spawn(async move {
            let mut samples = Vec::new();
            let mut errors = 0u64;
            while let Some(i) = stop.next(&next) {
                let t = Instant::now();
                let ok = ops
                    .intake(
                        &principal,
                        &IntakeRequest {
                            tracking: format!("{prefix}{w}X{i}"),
                            recipient_id: Some(recipients[(i as usize * 7919) % recipients.len()]),
                            location: "Shelf A".into(),
                            ..Default::default()
                        },
                    )
                    .await
                    .is_ok();
                if !ok {
                    errors += 1;
                } else if t >= start {
                    samples.push(t.elapsed().as_secs_f64() * 1000.0);
                }
            }
            (samples, errors)
        });
    }
    let mut all = Vec::new();
    let mut errors = 0;
    while let Some(r) = tasks.join_next().await {
        if let Ok((s, e)) = r {
            all.extend(s);
            errors += e;
        }
    }
    (all, errors)
}

/// When the intake workers stop: after a number of intakes, or at a time.
#[derive(Clone)]
enum Stop {
    Count(u64),
    At(Instant),
}

impl Stop {
    /// The next intake's number, or `None` when done.
    fn next(&self, counter: &AtomicU64) -> Option<u64> {
        match self {
            Self::Count(n) => {
                let i = counter.fetch_add(1, Ordering::SeqCst);
                (i < *n).then_some(i)
            }
            Self::At(end) => {
                (Instant::now() < *end).then(|| counter.fetch_add(1, Ordering::SeqCst))
            }
        }
    }
}

fn spawn_workers(
    owner: &PgPool,
    keys: &SecretsKey,
    cfg: &WorkerConfig,
    n: u32,
) -> (watch::Sender<bool>, JoinSet<()>) {
    let (tx, rx) = watch::channel(false);
    let mut set = JoinSet::new();
    for _ in 0..n {
        set.spawn(worker::run(
            owner.clone(),
            keys.clone(),
            cfg.clone(),
            rx.clone(),
        ));
    }
    (tx, set)
}

async fn stop_workers(tx: watch::Sender<bool>, mut set: JoinSet<()>) {
    let _ = tx.send(true);
    // A round in progress finishes first (at most about the delivery timeout).
    let _ = tokio::time::timeout(Duration::from_secs(30), async {
        while set.join_next().await.is_some() {}
    })
    .await;
    set.abort_all();
}

// ---------------------------------------------------------------------------------------
// (a) Throughput to a webhook
// ---------------------------------------------------------------------------------------

async fn throughput(
    cli: &Cli,
    db: &Database,
    owner: &PgPool,
    ops: &Ops,
    keys: &SecretsKey,
    slug: &str,
) -> Result<()> {
    let (principal, recipients) = facility(db, owner, slug).await?;
    let recipients = Arc::new(recipients);
    let receiver = HttpReceiver::start(Duration::from_millis(cli.webhook_delay_ms)).await?;
    let url = format!("http://{}/hook", receiver.addr);
    Admin::new(owner)
        .add_webhook(slug, &url, false, |f| {
            keys.seal(
                &format!("facility:{}", f.0),
                b"bench-webhook-secret-0123456789",
            )
        })
        .await?;
    let fid = facility_id(owner, slug).await?;

    // Queue: one webhook row per intake, nobody delivering yet.
    let t = Instant::now();
    let (samples, errors) = intakes(
        ops,
        &principal,
        &recipients,
        cli.concurrency,
        "NBT",
        t,
        Stop::Count(cli.notifications),
    )
    .await;
    let queued_in = t.elapsed();
    let queued: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE facility_id = $1 AND status = 'pending'",
    )
    .bind(fid)
    .fetch_one(owner)
    .await?;
    println!(
        "queued {queued} webhook notifications with {} intakes in {:.1} s ({:.0} intakes/s, \
         {errors} errors)",
        samples.len(),
        queued_in.as_secs_f64(),
        samples.len() as f64 / queued_in.as_secs_f64()
    );

    // Drain.
    let mut cfg = local_worker();
    if let Some(b) = cli.batch {
        cfg.batch = b;
    }
    let load0 = loadavg();
    let t = Instant::now();
    let (stop, set) = spawn_workers(owner, keys, &cfg, cli.workers);
    let deadline = t + Duration::from_secs(120);
    let mut delivered: i64 = 0;
    let mut first_at = None;
    while Instant::now() < deadline {
        delivered = sqlx::query_scalar(
            "SELECT count(*) FROM outbox WHERE facility_id = $1 AND status = 'delivered'",
        )
        .bind(fid)
        .fetch_one(owner)
        .await?;
        if delivered > 0 && first_at.is_none() {
            first_at = Some(t.elapsed());
        }
        if delivered >= queued {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let took = t.elapsed();
    stop_workers(stop, set).await;
    let (requests, distinct) = receiver.counts();
    let rate = delivered as f64 / took.as_secs_f64();
    println!(
        "RESULT part=throughput workers={} batch={} webhook_delay_ms={} notifications={queued} \
         delivered={delivered} seconds={:.2} per_second={rate:.0} first_delivery_ms={:.0} \
         requests={requests} distinct_deliveries={distinct} budget=200 verdict={} \
         load_start=\"{load0}\" load_end=\"{}\"",
        cli.workers,
        cfg.batch,
        cli.webhook_delay_ms,
        took.as_secs_f64(),
        first_at.map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0),
        if delivered >= queued && rate >= 200.0 {
            "ok"
        } else {
            "UNDER"
        },
        loadavg()
    );
    receiver.stop();
    Ok(())
}

// ---------------------------------------------------------------------------------------
// (b) Intake latency with the SMTP receiver up or down
// ---------------------------------------------------------------------------------------

async fn intake_budget(
    cli: &Cli,
    db: &Database,
    owner: &PgPool,
    ops: &Ops,
    keys: &SecretsKey,
    slug: &str,
) -> Result<()> {
    let (principal, recipients) = facility(db, owner, slug).await?;
    let recipients = Arc::new(recipients);
    let fid = facility_id(owner, slug).await?;
    // A port for the SMTP receiver, free again until a mode listens on it.
    let port = TcpListener::bind("127.0.0.1:0").await?.local_addr()?.port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    Admin::new(owner)
        .set_smtp(
            slug,
            // Its receiver offers no STARTTLS: plain, as the URL says.
            &format!("smtp://127.0.0.1:{port}?tls=none"),
            "mailroom@bench.example",
            None,
            |_| None,
        )
        .await?;
    let modes = [SmtpMode::Up, SmtpMode::Refused, SmtpMode::Hang];
    let mut pooled: Vec<(SmtpMode, Vec<f64>)> = modes.iter().map(|m| (*m, Vec::new())).collect();
    // (mode, p99 of each round).
    let mut per_round: Vec<(SmtpMode, Vec<f64>)> = modes.iter().map(|m| (*m, Vec::new())).collect();
    let mut n = 0u64;
    for round in 1..=cli.rounds {
        // Each round starts with the next mode: the load of a shared machine drifts within
        // a round too, and no mode should always run first (or last).
        let first = (round as usize - 1) % modes.len();
        for k in 0..modes.len() {
            let mode = modes[(first + k) % modes.len()];
            n += 1;
            sqlx::query("DELETE FROM outbox WHERE facility_id = $1")
                .bind(fid)
                .execute(owner)
                .await?;
            sqlx::raw_sql("VACUUM (ANALYZE) outbox, integrations")
                .execute(owner)
                .await?;
            let smtp = SmtpReceiver::start(addr, mode)?;
            // The worker as `serve` runs it, a new one per phase: it would otherwise carry
            // the previous phase's pause of the failing integration into an `up` phase.
            let (stop, set) = spawn_workers(owner, keys, &local_worker(), 1);
            tokio::time::sleep(Duration::from_millis(500)).await;
            let load0 = loadavg();
            let start = Instant::now() + Duration::from_secs(cli.warmup_secs);
            let end = start + Duration::from_secs(cli.duration_secs);
            let (mut samples, errors) = intakes(
                ops,
                &principal,
                &recipients,
                cli.concurrency,
                &format!("NBI{n}"),
                start,
                Stop::At(end),
            )
            .await;
            let outbox: (i64, i64, i64, i64) = sqlx::query_as(
                "SELECT count(*) FILTER (WHERE status = 'delivered'), \
                        count(*) FILTER (WHERE status = 'pending'), \
                        count(*) FILTER (WHERE status = 'dead'), \
                        coalesce(sum(attempts), 0) \
                 FROM outbox WHERE facility_id = $1",
            )
            .bind(fid)
            .fetch_one(owner)
            .await?;
            // Closing the receiver's connections first ends hanging deliveries.
            smtp.stop();
            stop_workers(stop, set).await;
            samples.sort_by(f64::total_cmp);
            println!(
                "RESULT part=intake round={round} smtp={} concurrency={} commits={} tps={:.0} \
                 p50={:.2} p90={:.2} p99={:.2} max={:.2} errors={errors} \
                 outbox_delivered={} outbox_pending={} outbox_dead={} attempts={} \
                 smtp_connections={} load_start=\"{load0}\" load_end=\"{}\"",
                mode.name(),
                cli.concurrency,
                samples.len(),
                samples.len() as f64 / cli.duration_secs as f64,
                pct(&samples, 50.0),
                pct(&samples, 90.0),
                pct(&samples, 99.0),
                samples.last().copied().unwrap_or(f64::NAN),
                outbox.0,
                outbox.1,
                outbox.2,
                outbox.3,
                smtp.connections(),
                loadavg()
            );
            if let Some((_, r)) = per_round.iter_mut().find(|(m, _)| *m == mode) {
                r.push(pct(&samples, 99.0));
            }
            if let Some((_, all)) = pooled.iter_mut().find(|(m, _)| *m == mode) {
                all.extend(samples);
            }
        }
    }
    for (_, all) in &mut pooled {
        all.sort_by(f64::total_cmp);
    }
    let pooled_p99 = |m: SmtpMode| {
        pooled
            .iter()
            .find(|(x, _)| *x == m)
            .map_or(f64::NAN, |(_, s)| pct(s, 99.0))
    };
    let rounds = |m: SmtpMode| -> Vec<f64> {
        per_round
            .iter()
            .find(|(x, _)| *x == m)
            .map(|(_, r)| r.clone())
            .unwrap_or_default()
    };
    let up = pooled_p99(SmtpMode::Up);
    let up_rounds = rounds(SmtpMode::Up);
    let (lo, hi) = up_rounds.iter().fold((f64::INFINITY, 0f64), |(lo, hi), v| {
        (lo.min(*v), hi.max(*v))
    });
    println!(
        "RESULT part=intake_noise smtp=up p99_per_round_min={lo:.2} p99_per_round_max={hi:.2} \
         spread={:.2}",
        hi / lo
    );
    for mode in [SmtpMode::Refused, SmtpMode::Hang] {
        let down = pooled_p99(mode);
        let ratio = down / up;
        // The same round's phases ran back to back, under about the same load.
        let mut paired: Vec<f64> = rounds(mode)
            .iter()
            .zip(&up_rounds)
            .map(|(d, u)| d / u)
            .collect();
        paired.sort_by(f64::total_cmp);
        let median = paired.get(paired.len() / 2).copied().unwrap_or(f64::NAN);
        println!(
            "RESULT part=intake_summary smtp={} p99={down:.2} p99_up={up:.2} ratio={ratio:.3} \
             paired_ratios={} paired_median={median:.3} budget=1.10 verdict={}",
            mode.name(),
            paired
                .iter()
                .map(|r| format!("{r:.2}"))
                .collect::<Vec<_>>()
                .join(","),
            if ratio <= 1.10 { "ok" } else { "OVER" }
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Receivers (127.0.0.1 only)
// ---------------------------------------------------------------------------------------

fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

/// Answers every request with `200` after `delay`; HTTP/1.1 keep-alive, Content-Length
/// bodies. Counts requests and distinct `X-Packtrack-Delivery` ids.
struct HttpReceiver {
    addr: SocketAddr,
    tasks: Arc<Mutex<JoinSet<()>>>,
    requests: Arc<AtomicU64>,
    ids: Arc<Mutex<HashSet<String>>>,
}

impl HttpReceiver {
    async fn start(delay: Duration) -> Result<Self> {
        let listener = listen("127.0.0.1:0".parse()?)?;
        let addr = listener.local_addr()?;
        let tasks = Arc::new(Mutex::new(JoinSet::new()));
        let requests = Arc::new(AtomicU64::new(0));
        let ids = Arc::new(Mutex::new(HashSet::new()));
        let (t, r, i) = (tasks.clone(), requests.clone(), ids.clone());
        tasks.lock().expect("tasks").spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (r, i) = (r.clone(), i.clone());
                t.lock().expect("tasks").spawn(async move {
                    let _ = http_conn(stream, delay, r, i).await;
                });
            }
        });
        Ok(Self {
            addr,
            tasks,
            requests,
            ids,
        })
    }

    fn counts(&self) -> (u64, usize) {
        (
            self.requests.load(Ordering::SeqCst),
            self.ids.lock().expect("ids").len(),
        )
    }

    fn stop(&self) {
        self.tasks.lock().expect("tasks").abort_all();
    }
}

async fn http_conn(
    stream: TcpStream,
    delay: Duration,
    requests: Arc<AtomicU64>,
    ids: Arc<Mutex<HashSet<String>>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let mut len = 0usize;
        let mut id = None;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).await? == 0 {
                return Ok(());
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                let k = k.trim().to_ascii_lowercase();
                if k == "content-length" {
                    len = v.trim().parse().unwrap_or(0);
                } else if k == "x-packtrack-delivery" {
                    id = Some(v.trim().to_string());
                }
            }
        }
        let mut body = vec![0; len.min(1 << 20)];
        reader.read_exact(&mut body).await?;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        requests.fetch_add(1, Ordering::SeqCst);
        if let Some(id) = id {
            ids.lock().expect("ids").insert(id);
        }
        reader
            .get_mut()
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
            .await?;
    }
}

/// The SMTP receiver in one mode on a fixed port; `refused` listens on nothing.
struct SmtpReceiver {
    tasks: Arc<Mutex<JoinSet<()>>>,
    connections: Arc<AtomicU64>,
}

impl SmtpReceiver {
    fn start(addr: SocketAddr, mode: SmtpMode) -> Result<Self> {
        let tasks = Arc::new(Mutex::new(JoinSet::new()));
        let connections = Arc::new(AtomicU64::new(0));
        if mode != SmtpMode::Refused {
            let listener = listen(addr)?;
            let (t, c) = (tasks.clone(), connections.clone());
            tasks.lock().expect("tasks").spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    c.fetch_add(1, Ordering::SeqCst);
                    t.lock().expect("tasks").spawn(async move {
                        if mode == SmtpMode::Hang {
                            // Hold the connection, say nothing.
                            let _stream = stream;
                            std::future::pending::<()>().await;
                        } else {
                            let _ = smtp_conn(stream).await;
                        }
                    });
                }
            });
        }
        Ok(Self { tasks, connections })
    }

    fn connections(&self) -> u64 {
        self.connections.load(Ordering::SeqCst)
    }

    /// Closes the port and every connection.
    fn stop(&self) {
        self.tasks.lock().expect("tasks").abort_all();
    }
}

/// Enough of RFC 5321 for lettre: accepts every message and forgets it.
async fn smtp_conn(stream: TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    reader.get_mut().write_all(b"220 bench ESMTP\r\n").await?;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let upper = line.trim_end().to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-bench\r\n250-8BITMIME\r\n250 SIZE 10000000\r\n"
        } else if upper.starts_with("HELO") {
            b"250 bench\r\n"
        } else if upper.starts_with("MAIL FROM:") || upper.starts_with("RCPT TO:") {
            b"250 2.1.0 ok\r\n"
        } else if upper == "DATA" {
            reader
                .get_mut()
                .write_all(b"354 end with <CRLF>.<CRLF>\r\n")
                .await?;
            loop {
                let mut l = String::new();
                if reader.read_line(&mut l).await? == 0 {
                    return Ok(());
                }
                if l == ".\r\n" {
                    break;
                }
            }
            b"250 2.0.0 queued\r\n"
        } else if upper == "RSET" || upper == "NOOP" {
            b"250 2.0.0 ok\r\n"
        } else if upper == "QUIT" {
            reader.get_mut().write_all(b"221 2.0.0 bye\r\n").await?;
            return Ok(());
        } else {
            b"502 5.5.2 not implemented\r\n"
        };
        reader.get_mut().write_all(reply).await?;
    }
}

// ---------------------------------------------------------------------------------------
// Statistics and the machine
// ---------------------------------------------------------------------------------------

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} cores ({cpu})")
}

fn fs_type(path: &std::path::Path) -> String {
    std::process::Command::new("stat")
        .args(["-f", "-c", "%T"])
        .arg(path)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown fs".into())
}

/// `WorkerConfig::default()` with the local receivers' loopback allowed (as `serve
/// --notify-allow-private 127.0.0.0/8`): by default the worker reaches public addresses only.
fn local_worker() -> WorkerConfig {
    WorkerConfig {
        egress: packtrack::notify::egress::Egress::allowing(
            "127.0.0.0/8".parse().expect("loopback network"),
        ),
        ..WorkerConfig::default()
    }
}
