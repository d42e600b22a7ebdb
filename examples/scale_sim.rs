//! Many facilities on one node (issue 17 item 2): memory, cold and warm search times, and
//! what the index memory budget evicts. In memory: indexes are built from
//! `search::synthetic_directory` (one seed per facility) through the same `ops::Directory`
//! a server uses (slot, build, size report, LRU sweep), without the database read a real
//! first search adds.
//!
//! `cargo run --release --example scale_sim` runs every scenario; `SCENARIO=wide|deep|evict`
//! one of them:
//! - `wide`: 1,000 facilities × 1,000 recipients, no budget;
//! - `deep`: 10 facilities × 100,000 recipients, no budget;
//! - `evict`: both shapes again under a budget a quarter of their total (`BUDGET_MIB`
//!   overrides), searched with a skewed load (80 % of searches on 10 % of the facilities).
//!
//! Figures: RSS (`/proc/self/statm`) and the directory's estimate (`heap_bytes`), the cold
//! first search (build + search), the warm search p50/p99 (one search as `Ops` runs it:
//! a fresh `index.search`, queries typed a character at a time), and under a budget the
//! evictions, rebuilds and the p99 of every search including those that rebuilt.

use std::time::{Duration, Instant};

use packtrack::benchkit::Summary;
use packtrack::domain::FacilityId;
use packtrack::ops::Directory;
use packtrack::search::{RecipientIndex, synthetic_directory};

fn rss_mib() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(f64::NAN);
    pages * 4096.0 / f64::from(1 << 20)
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / f64::from(1 << 20)
}

/// Queries as a clerk types them: every prefix (2 to 6 characters) of surnames drawn from
/// the generator (every facility's directory has the same mix of names).
fn queries(count: usize) -> Vec<String> {
    let people = synthetic_directory(2_000, 99);
    let mut out = Vec::new();
    let mut rng = fastrand::Rng::with_seed(99);
    while out.len() < count {
        let r = &people[rng.usize(..people.len())];
        let word = r
            .name
            .split_whitespace()
            .last()
            .unwrap_or("a")
            .to_lowercase();
        let chars: Vec<char> = word.chars().collect();
        for n in 2..=chars.len().min(6) {
            out.push(chars[..n].iter().collect());
        }
    }
    out.truncate(count);
    out
}

/// One search as the server runs it; builds first when the facility has no index (evicted
/// or never built). Returns whether it built.
fn search(dir: &Directory, facility: i64, size: usize, query: &str) -> bool {
    let f = FacilityId(facility);
    let slot = dir.slot(f);
    let mut built = false;
    if slot.blocking_read().is_none() {
        let mut guard = slot.blocking_write();
        if guard.is_none() {
            // Stands in for the database read of a real first search (not timed apart).
            let index = RecipientIndex::new(synthetic_directory(size, facility as u64));
            let bytes = index.heap_bytes();
            *guard = Some(index);
            dir.built(f, &slot, bytes);
            built = true;
        }
    }
    let guard = slot.blocking_read();
    let hits = guard.as_ref().map(|i| i.search(query, 10, false));
    std::hint::black_box(hits);
    built
}

fn summary(label: &str, samples: &[Duration]) {
    println!("  {label:<28} {}", Summary::of(samples).line());
}

/// Builds every facility (cold first searches), then searches warm ones at random.
fn unbounded(name: &str, facilities: i64, size: usize) {
    println!("== {name}: {facilities} facilities x {size} recipients, no budget");
    let rss0 = rss_mib();
    let dir = Directory::with_budget(usize::MAX);
    let mut cold = Vec::new();
    let pool = queries(4_000);
    for f in 1..=facilities {
        let t = Instant::now();
        search(&dir, f, size, &pool[f as usize % pool.len()]);
        cold.push(t.elapsed());
    }
    let stats = dir.stats();
    let rss = rss_mib();
    println!(
        "  RSS {rss0:.0} -> {rss:.0} MiB (+{:.0}); estimate {:.0} MiB ({:.0} KiB per facility, {:.0} B per recipient)",
        rss - rss0,
        mib(stats.bytes),
        stats.bytes as f64 / facilities as f64 / 1024.0,
        stats.bytes as f64 / (facilities as f64 * size as f64),
    );
    summary("cold first search (build)", &cold);
    let mut rng = fastrand::Rng::with_seed(7);
    let mut warm = Vec::new();
    for chunk in pool.chunks(100) {
        let f = rng.i64(1..=facilities);
        for q in chunk {
            let t = Instant::now();
            search(&dir, f, size, q);
            warm.push(t.elapsed());
        }
    }
    summary("warm search", &warm);
}

/// A skewed load under a budget a quarter of the total: what stays, what is rebuilt.
fn evicting(facilities: i64, size: usize, per_facility_bytes: usize) {
    let budget = std::env::var("BUDGET_MIB")
        .ok()
        .and_then(|m| m.parse::<usize>().ok())
        .map_or(per_facility_bytes * facilities as usize / 4, |m| m << 20);
    println!(
        "== evict: {facilities} facilities x {size} recipients, budget {:.0} MiB (about {} indexes)",
        mib(budget),
        budget / per_facility_bytes.max(1)
    );
    let rss0 = rss_mib();
    let dir = Directory::with_budget(budget);
    let hot = (facilities / 10).max(1);
    let mut rng = fastrand::Rng::with_seed(11);
    let (mut all, mut hits, mut rebuilt) = (Vec::new(), Vec::new(), 0usize);
    let mut peak_rss = 0f64;
    let searches = if size >= 100_000 { 400 } else { 20_000 };
    let pool = queries(4_000);
    for i in 0..searches {
        let f = if rng.u8(..10) < 8 {
            rng.i64(1..=hot)
        } else {
            rng.i64(hot + 1..=facilities)
        };
        let q = &pool[i % pool.len()];
        let t = Instant::now();
        let built = search(&dir, f, size, q);
        let took = t.elapsed();
        all.push(took);
        if built {
            rebuilt += 1;
        } else {
            hits.push(took);
        }
        if i % 100 == 0 {
            peak_rss = peak_rss.max(rss_mib());
        }
    }
    let stats = dir.stats();
    println!(
        "  {searches} searches: {rebuilt} built ({:.1} %), {} evictions; held at the end {} indexes, {:.0} MiB estimated",
        rebuilt as f64 * 100.0 / searches as f64,
        stats.evictions,
        stats.indexes,
        mib(stats.bytes),
    );
    println!(
        "  RSS {rss0:.0} -> peak {peak_rss:.0}, end {:.0} MiB",
        rss_mib()
    );
    summary("search, index held", &hits);
    summary("every search (incl. builds)", &all);
}

fn main() {
    let scenario = std::env::var("SCENARIO").unwrap_or_default();
    let run = |s: &str| scenario.is_empty() || scenario == s;
    // Per-index estimates for the eviction budget (measured the same way as above).
    let estimate = |size: usize| RecipientIndex::new(synthetic_directory(size, 1)).heap_bytes();
    if run("wide") {
        unbounded("wide", 1_000, 1_000);
    }
    if run("deep") {
        unbounded("deep", 10, 100_000);
    }
    if run("evict") {
        evicting(1_000, 1_000, estimate(1_000));
        evicting(10, 100_000, estimate(100_000));
    }
}
