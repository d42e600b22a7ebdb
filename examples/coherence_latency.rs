//! How long until a recipient written by another process is found by every node's search
//! (issue 17's budget: 1 s), measured on the test cluster.
//!
//! `cargo run --release --example coherence_latency` (SIZES="2000,100000", ROUNDS=20,
//! ROWS=1, POLL_MS=2)
//!
//! Per size: a facility with that many synthetic recipients, two nodes (each its own pools,
//! its own LISTEN connection, its own `Ops` and search indexes, as two `serve` processes
//! have), both indexes warm. Then per round the owner role (what the admin CLI connects as)
//! inserts ROWS recipients in one statement, and both nodes search for the first of them
//! every POLL_MS until both find it (each search of 100,000 recipients costs about a
//! millisecond of CPU, so at 2 ms two polling nodes keep a core busy: use 20 ms where a
//! rebuild competes for the CPU). The time is from the start of the INSERT to the later
//! node's first answer that contains it: commit, NOTIFY delivery, then either reloading the
//! changed rows into the index (ROWS ≤ 10,000: one query, one pass over the index) or a
//! rebuild from every row beside the index in use (ROWS > 10,000), and the search. Also
//! printed: the index build alone and applying ROWS new records to it alone
//! (`RecipientIndex::new` and `apply`, pure CPU), and the median and the maximum of the
//! slowest search of each round (a search that reloaded, or waited for anything).

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use packtrack::benchkit::pct;
use packtrack::db::Db;
use packtrack::db::testing::TestCluster;
use packtrack::db::unscoped::Admin;
use packtrack::domain::{Principal, Role, Source};
use packtrack::live::LiveHub;
use packtrack::ops::Ops;
use packtrack::search::{RecipientIndex, synthetic_directory};

fn env_list(name: &str, default: &str) -> Vec<usize> {
    std::env::var(name)
        .unwrap_or_else(|_| default.into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

struct Node {
    ops: Ops,
    // Kept alive: dropping the hub ends the node's listener.
    _live: LiveHub,
}

async fn node(app: Db) -> Node {
    let ops = Ops::new(app.clone());
    let live = LiveHub::start(&app);
    ops.follow(&live);
    Node { ops, _live: live }
}

async fn finds(node: &Node, p: &Principal, name: &str) -> Result<bool> {
    let hits = node.ops.search_recipients(p, name, 10, false).await?;
    Ok(hits.iter().any(|f| f.recipient.name == name))
}

#[tokio::main]
async fn main() -> Result<()> {
    let sizes = env_list("SIZES", "2000,100000");
    let one = |name, default| env_list(name, default).first().copied().unwrap_or(1).max(1);
    let (rounds, rows) = (one("ROUNDS", "20"), one("ROWS", "1"));
    let poll = Duration::from_millis(one("POLL_MS", "2") as u64);
    println!(
        "coherence latency: {rounds} rounds per size, {rows} row(s) per change, \
         both nodes polled every {poll:?}"
    );
    println!(
        "{:>8} {:>10} {:>10} {:>14} {:>10} {:>10} {:>10} {:>12}",
        "records", "build", "apply", "slowest search", "p50", "p90", "max", "over 1 s"
    );
    for n in sizes {
        let directory = synthetic_directory(n, 42);
        let t = Instant::now();
        let mut index = RecipientIndex::new(directory.clone());
        let build = t.elapsed();
        let added: Vec<_> = synthetic_directory(rows, 7)
            .into_iter()
            .map(|mut r| {
                r.id += 1 << 40;
                r
            })
            .collect();
        let t = Instant::now();
        index.apply(added, &[]);
        let apply = t.elapsed();
        drop(index);

        let db = TestCluster::shared().fresh_database().await;
        let owner = db.owner_pool().await?;
        let admin = Admin::new(&owner);
        admin.create_facility("north", "North Hall").await?;
        admin
            .add_user("clerk", "clerk", "north", Role::Operator, None)
            .await?;
        let facility = admin.facility_id("north").await?;
        let (names, units): (Vec<String>, Vec<String>) =
            directory.into_iter().map(|r| (r.name, r.unit)).unzip();
        sqlx::query(
            "INSERT INTO recipients (facility_id, name, unit) \
             SELECT $1, * FROM unnest($2::text[], $3::text[]) ON CONFLICT DO NOTHING",
        )
        .bind(facility.0)
        .bind(&names)
        .bind(&units)
        .execute(&owner)
        .await?;

        let nodes = [node(db.app(4).await?).await, node(db.app(4).await?).await];
        let app = db.app(1).await?;
        let user = app.unscoped().user("clerk").await?.context("clerk")?;
        let p = app
            .unscoped()
            .principal(&user, Some("north"), Source::Cli)
            .await?
            .context("membership")?;
        // Warm both indexes, and let both listeners connect.
        for node in &nodes {
            finds(node, &p, "nobody at all").await?;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        for node in &nodes {
            finds(node, &p, "nobody at all").await?;
        }

        let mut seen = Vec::new();
        let mut reload = Vec::new();
        for round in 0..rounds {
            // Letters only, so the name is a plain word the search matches exactly.
            let tag: String = format!("{round:04}")
                .bytes()
                .map(|d| char::from(b'a' + (d - b'0')))
                .collect();
            let name = format!("Probe Quokka{tag}");
            let batch: Vec<String> = (0..rows)
                .map(|i| {
                    if i == 0 {
                        name.clone()
                    } else {
                        format!("Filler {tag} {i}")
                    }
                })
                .collect();
            let t0 = Instant::now();
            sqlx::query(
                "INSERT INTO recipients (facility_id, name, unit) \
                 SELECT $1, unnest($2::text[]), 'X-1'",
            )
            .bind(facility.0)
            .bind(&batch)
            .execute(&owner)
            .await?;
            let mut pending = [true, true];
            let mut slowest = Duration::ZERO;
            while pending.iter().any(|&p| p) {
                for (i, node) in nodes.iter().enumerate() {
                    if pending[i] {
                        let t = Instant::now();
                        if finds(node, &p, &name).await? {
                            pending[i] = false;
                        }
                        slowest = slowest.max(t.elapsed());
                    }
                }
                anyhow::ensure!(t0.elapsed() < Duration::from_secs(30), "never found {name}");
                tokio::time::sleep(poll).await;
            }
            seen.push(t0.elapsed());
            reload.push(slowest);
        }
        seen.sort();
        reload.sort();
        let over = seen.iter().filter(|d| **d > Duration::from_secs(1)).count();
        let slow = format!(
            "{:.1?} / {:.1?}",
            pct(&reload, 50.0),
            reload.last().copied().unwrap_or_default()
        );
        println!(
            "{:>8} {:>10.1?} {:>10.1?} {:>14} {:>10.1?} {:>10.1?} {:>10.1?} {:>12}",
            n,
            build,
            apply,
            slow,
            pct(&seen, 50.0),
            pct(&seen, 90.0),
            seen.last().copied().unwrap_or_default(),
            over
        );
        owner.close().await;
    }
    Ok(())
}
