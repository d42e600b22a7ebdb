//! The intake transaction at a given concurrency, without SSH: the Rust side of the pgbench
//! comparison in `scripts/compare.sh` (issue 8).
//!
//! Connects like `packtrack serve` does to an external database (`--database-url`, then
//! `SET ROLE packtrack_app`, so row level security applies; on the embedded cluster pass
//! packtrack_app's own URL, see `scripts/compare.sh`),
//! resolves a member's principal as a login does, and runs `--concurrency` workers that commit
//! intakes back to back for `--duration-secs` (after `--warmup-secs`), one pool connection
//! each. Modes:
//!
//! * `ops`: `Ops::intake`, the exact path of the interface and of `packages intake` (BEGIN +
//!   set_config in one round trip; one statement inserting the package, its custody event
//!   and its outbox rows and reading the package back; COMMIT; the live-update NOTIFY handed
//!   to the pool's sender task).
//! * `bare`: only what the pgbench script runs (BEGIN + set_config, INSERT package ON CONFLICT
//!   DO NOTHING RETURNING id, INSERT event, COMMIT), through sqlx: separates the cost of the
//!   extra statements from the cost of the client library.
//!
//! `--every-ms N` paces the workers instead: all of them commit at the same instants, one
//! parcel each every N ms (16 clerks pressing Enter at once, again and again), so latency is
//! measured at a set load rather than at saturation.
//!
//! Prints one `RESULT key=value ...` line (milliseconds).
//!
//! ```text
//! cargo run --release --example intake_bench -- --database-url "$APP_URL" \
//!     --facility demo --login clerk --concurrency 16 --duration-secs 20
//! ```

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use packtrack::benchkit::{ms, pct};
use packtrack::config::Config;
use packtrack::db::Database;
use packtrack::domain::Source;
use packtrack::ops::{IntakeRequest, Ops};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Mode {
    Ops,
    Bare,
}

#[derive(Debug, Parser)]
#[command(about = "Intake transactions at a concurrency, in process (no SSH)")]
struct Cli {
    /// A role that may `SET ROLE packtrack_app`: on the embedded cluster, packtrack_app's own
    /// URL (its password is in DATA/postgres-auth.json); on an external server, the owner's.
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    #[arg(long, default_value = "demo")]
    facility: String,
    #[arg(long, default_value = "clerk")]
    login: String,
    #[arg(long, default_value_t = 16)]
    concurrency: u32,
    #[arg(long, default_value_t = 20)]
    duration_secs: u64,
    #[arg(long, default_value_t = 3)]
    warmup_secs: u64,
    #[arg(long, value_enum, default_value_t = Mode::Ops)]
    mode: Mode,
    /// Pace the workers: every one commits at the same instants, once every this many ms.
    #[arg(long)]
    every_ms: Option<u64>,
    /// Write every sample (ms, one per line) here.
    #[arg(long)]
    samples: Option<PathBuf>,
    /// The intakes through a pooler in transaction mode (PgBouncer), as `serve
    /// --pooled-database-url` runs sessions (mode `ops` only: `bare` uses the pool directly).
    #[arg(long)]
    pooled_database_url: Option<String>,
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    if cli.concurrency == 0 || cli.concurrency > 200 || cli.duration_secs > 600 {
        bail!("--concurrency 1..=200 and --duration-secs <= 600");
    }
    let cfg = Config {
        data_dir: PathBuf::from("/nonexistent"),
        keys_dir: PathBuf::from("/nonexistent"),
        database_url: Some(cli.database_url.clone()),
    };
    let db = Database::open(&cfg).await?;
    let app = match &cli.pooled_database_url {
        Some(_) if matches!(cli.mode, Mode::Bare) => bail!("--pooled-database-url: mode ops only"),
        Some(url) => db.app_pooled(url, cli.concurrency).await?,
        None => db.app(cli.concurrency).await?,
    };
    let user = app
        .unscoped()
        .user(&cli.login)
        .await?
        .with_context(|| format!("no user {}", cli.login))?;
    let principal = app
        .unscoped()
        .principal(
            &user,
            Some(&cli.facility),
            Source::Ssh {
                peer: "127.0.0.1:50000".into(),
            },
        )
        .await?
        .with_context(|| format!("{} is not a member of {}", cli.login, cli.facility))?;
    let recipients: Vec<i64> = {
        let mut tx = app.tenant(&principal).await?;
        let all = packtrack::db::recipients::all(&mut tx).await?;
        tx.commit().await?;
        all.into_iter()
            .filter(|r| r.active)
            .map(|r| r.id)
            .take(10_000)
            .collect()
    };
    if recipients.is_empty() {
        bail!("facility {} has no active recipients", cli.facility);
    }
    let ops = Ops::new(app.clone());
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let recipients = Arc::new(recipients);
    let start = Instant::now() + Duration::from_secs(cli.warmup_secs);
    let end = start + Duration::from_secs(cli.duration_secs);
    let load0 = loadavg();
    let every = cli.every_ms.map(Duration::from_millis);
    // One schedule for all workers (their commits start together), from now: the warm-up's
    // ticks open the pool's connections and are not counted.
    let t0 = tokio::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..cli.concurrency {
        let (ops, principal, recipients, mode) =
            (ops.clone(), principal.clone(), recipients.clone(), cli.mode);
        let pool = app.pool().clone();
        let facility = principal.facility().0;
        let actor = principal.user().0;
        tasks.spawn(async move {
            let mut samples = Vec::new();
            let mut errors = 0u64;
            let mut i = 0u64;
            let mut tick = every.map(|e| {
                let mut t = tokio::time::interval_at(t0, e);
                t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                t
            });
            while Instant::now() < end {
                if let Some(t) = tick.as_mut() {
                    t.tick().await;
                    if Instant::now() >= end {
                        break;
                    }
                }
                i += 1;
                let tracking = format!("IB{run}-{w}-{i}");
                let recipient = recipients[(i as usize * 7919 + w as usize) % recipients.len()];
                let t = Instant::now();
                let ok = match mode {
                    Mode::Ops => ops
                        .intake(
                            &principal,
                            &IntakeRequest {
                                tracking,
                                recipient_id: Some(recipient),
                                location: "Shelf A".into(),
                                ..Default::default()
                            },
                        )
                        .await
                        .is_ok(),
                    Mode::Bare => bare(&pool, facility, actor, &tracking, recipient)
                        .await
                        .is_ok(),
                };
                let took = t.elapsed();
                if !ok {
                    errors += 1;
                } else if t >= start && t < end {
                    samples.push(ms(took));
                }
            }
            (samples, errors)
        });
    }
    let mut all = Vec::new();
    let mut errors = 0;
    while let Some(r) = tasks.join_next().await {
        let (s, e) = r?;
        all.extend(s);
        errors += e;
    }
    app.close().await;
    if let Some(p) = &cli.samples {
        let text: String = all.iter().map(|v| format!("{v:.3}\n")).collect();
        std::fs::write(p, text)?;
    }
    all.sort_by(f64::total_cmp);
    let secs = cli.duration_secs as f64;
    println!(
        "RESULT mode={:?} concurrency={} every_ms={} commits={} tps={:.1} p50={:.3} p90={:.3} p99={:.3} \
         max={:.3} mean={:.3} errors={errors} load_start=\"{load0}\" load_end=\"{}\"",
        cli.mode,
        cli.concurrency,
        cli.every_ms.unwrap_or(0),
        all.len(),
        all.len() as f64 / secs,
        pct(&all, 50.0),
        pct(&all, 90.0),
        pct(&all, 99.0),
        all.last().copied().unwrap_or(f64::NAN),
        all.iter().sum::<f64>() / all.len().max(1) as f64,
        loadavg()
    );
    Ok(())
}

/// The pgbench script's transaction, through sqlx.
async fn bare(
    pool: &sqlx::PgPool,
    facility: i64,
    actor: i64,
    tracking: &str,
    recipient: i64,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT set_config('app.facility_id', $1, true)")
        .bind(facility.to_string())
        .execute(&mut *tx)
        .await?;
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO packages (facility_id, tracking, carrier, recipient_id, location, received_by) \
         VALUES ($1, $2, 'ups', $3, 'Shelf A', $4) ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(facility)
    .bind(tracking)
    .bind(recipient)
    .bind(actor)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = id else {
        bail!("tracking number already waiting");
    };
    sqlx::query(
        "INSERT INTO package_events (facility_id, package_id, kind, actor_id, source, location, \
         detail) VALUES ($1, $2, 'received', $3, 'bench', 'Shelf A', '{}')",
    )
    .bind(facility)
    .bind(id)
    .bind(actor)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}
