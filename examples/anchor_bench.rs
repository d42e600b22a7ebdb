//! What anchoring the audit chains costs (issue 13 item 10), measured (printed, never
//! asserted): a durable embedded cluster (fsync on, as `packtrack serve` runs it) with
//! `--facilities` facilities of `--entries` audit entries each; then `--rounds` times one
//! new entry in one facility followed by one `Anchor::checkpoint` (the server's minute: the
//! heads query, the anchored-entries query, one signed line appended and fsynced). Also the
//! line size, reading back the file of `--rounds` lines (`Anchor::latest`, what every
//! checkpoint and `audit verify` do first) and the full `audit verify`.
//!
//! ```text
//! cargo run --example anchor_bench -- --facilities 100 --entries 1000 --rounds 50
//! ```
//!
//! Prints `RESULT key=value ...` lines (milliseconds, bytes).

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Result, bail};
use clap::Parser;
use packtrack::audit_anchor::Anchor;
use packtrack::benchkit::Summary;
use packtrack::db::{ClusterOptions, Database, EmbeddedCluster};
use packtrack::secrets::SecretsKey;

#[derive(Parser)]
struct Cli {
    #[arg(long, default_value_t = 100)]
    facilities: i64,
    #[arg(long, default_value_t = 1000)]
    entries: i64,
    #[arg(long, default_value_t = 50)]
    rounds: usize,
}

fn quantiles(ms: Vec<f64>) -> String {
    let s = Summary::of_ms(&ms);
    format!("p50={:.2} p90={:.2} max={:.2}", s.p50, s.p90, s.max)
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    if !(1..=1000).contains(&cli.facilities)
        || !(1..=10_000).contains(&cli.entries)
        || !(1..=1000).contains(&cli.rounds)
    {
        bail!("bounds: --facilities 1..=1000, --entries 1..=10000, --rounds 1..=1000");
    }
    let dir = tempfile::Builder::new()
        .prefix("pta")
        .tempdir_in(std::env::temp_dir())?;
    let path = dir.path().join("pg");
    let cluster = tokio::task::spawn_blocking(move || {
        EmbeddedCluster::start(&path, ClusterOptions::default())
    })
    .await??;
    let db = Database::embedded(Arc::new(cluster), "packtrack").await?;
    db.migrate().await?;
    let owner = db.owner_pool().await?;
    let started = Instant::now();
    sqlx::query(
        "INSERT INTO facilities (slug, name) SELECT 'f' || g, 'F' || g FROM generate_series(1, $1) g",
    )
    .bind(cli.facilities)
    .execute(&owner)
    .await?;
    sqlx::query(
        "INSERT INTO audit_log (facility_id, actor, action, target) \
         SELECT f.id, 'cli', 'bench', 'entry ' || g FROM facilities f, generate_series(1, $1) g",
    )
    .bind(cli.entries)
    .execute(&owner)
    .await?;
    println!(
        "setup: {} facilities x {} entries in {:.1} s",
        cli.facilities,
        cli.entries,
        started.elapsed().as_secs_f64()
    );

    let anchor = Anchor::new(dir.path(), SecretsKey::from_bytes(&[7u8; 32]));
    let mut times = Vec::with_capacity(cli.rounds);
    for round in 0..cli.rounds {
        sqlx::query(
            "INSERT INTO audit_log (facility_id, actor, action) \
             SELECT id, 'cli', 'tick' FROM facilities ORDER BY id OFFSET $1 LIMIT 1",
        )
        .bind(round as i64 % cli.facilities)
        .execute(&owner)
        .await?;
        let t = Instant::now();
        let w = anchor.checkpoint(&owner).await?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(w.appended && w.regressed.is_empty(), "{w:?}");
    }
    let t = Instant::now();
    let w = anchor.checkpoint(&owner).await?;
    let unchanged = t.elapsed().as_secs_f64() * 1000.0;
    assert!(!w.appended);
    let size = std::fs::metadata(anchor.path())?.len();
    let t = Instant::now();
    let latest = anchor.latest()?.expect("a checkpoint");
    let read = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let verified = anchor.verify(&owner).await?;
    let verify = t.elapsed().as_secs_f64() * 1000.0;
    if verified.is_err() {
        bail!("verify failed: {verified:?}");
    }
    println!(
        "RESULT checkpoint_ms {} unchanged_ms={unchanged:.2}",
        quantiles(times)
    );
    println!(
        "RESULT file_bytes={size} lines={} bytes_per_line={}",
        latest.n,
        size / latest.n
    );
    println!("RESULT read_latest_ms={read:.2} verify_ms={verify:.1}");
    owner.close().await;
    drop(db);
    Ok(())
}
