//! `fzf --filter` against packtrack's recipient search over the same directory, for
//! `scripts/compare.sh` (issue 8). A minimal version of the comparison in benches/search.rs,
//! with one parseable `RESULT` line.
//!
//! The directory is `synthetic_directory(--records, --seed)`, written for fzf as one
//! "name | unit | email | aliases" line per recipient. Per query: fzf is the whole process
//! (`fzf --filter QUERY < file > /dev/null`, start-up included, since that is what using it
//! costs), best of 3; packtrack is a fresh `Searcher` (a cold top-50 search, as after a
//! backspace) on the built index, best of `--reps`. The index build is reported apart: the
//! server builds it once per facility.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use packtrack::benchkit::{median, ms};
use packtrack::search::{RecipientIndex, Searcher, synthetic_directory};

#[derive(Debug, Parser)]
struct Cli {
    #[arg(long, default_value_t = 100_000)]
    records: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    #[arg(long, default_value_t = 5)]
    reps: usize,
    /// Where the fzf input file goes (removed at the end).
    #[arg(long, default_value = "/var/tmp")]
    work_dir: PathBuf,
}

const LIMIT: usize = 50;

/// Best of three runs of `fzf --filter q < path`; the number of lines it printed.
fn fzf(path: &std::path::Path, q: &str) -> Result<(Duration, usize)> {
    let mut best = Duration::MAX;
    let mut lines = 0;
    for _ in 0..3 {
        let input = std::fs::File::open(path)?;
        let t = Instant::now();
        let out = Command::new("fzf")
            .arg("--filter")
            .arg(q)
            .stdin(input)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .output()
            .context("running fzf")?;
        best = best.min(t.elapsed());
        lines = out.stdout.iter().filter(|b| **b == b'\n').count();
    }
    Ok((best, lines))
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    if cli.records == 0 || cli.records > 2_000_000 {
        bail!("--records 1..=2000000");
    }
    let directory = synthetic_directory(cli.records, cli.seed);
    let path = cli.work_dir.join(format!(
        "packtrack-search-compare-{}.txt",
        std::process::id()
    ));
    let mut text = String::with_capacity(cli.records * 64);
    for r in &directory {
        text.push_str(&format!(
            "{} | {} | {} | {}\n",
            r.name,
            r.unit,
            r.email.as_deref().unwrap_or(""),
            r.aliases.join(", ")
        ));
    }
    std::fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?;
    let t = Instant::now();
    let index = RecipientIndex::new(directory);
    let build = t.elapsed();
    let unit = index.get(4242).map(|r| r.unit.clone()).unwrap_or_default();
    let digits: String = unit.chars().filter(char::is_ascii_digit).collect();
    let queries = [
        "s".to_owned(),
        "sm".to_owned(),
        "smith".to_owned(),
        "bjorn".to_owned(),
        "garcia lopez".to_owned(),
        digits.clone(),
        format!("{digits} smi"),
        "nguyen".to_owned(),
        "ae".to_owned(),
        "zzq".to_owned(),
    ];
    let empty = PathBuf::from("/dev/null");
    let (startup, _) = fzf(&empty, "x")?;
    println!(
        "search: {} records (index built in {:.0} ms), fzf start-up on empty input {:.2} ms; \
         load average {}",
        cli.records,
        ms(build),
        ms(startup),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "{:<16} {:>10} {:>10} {:>8} {:>9} {:>6}",
        "query", "fzf ms", "ours ms", "ratio", "fzf hits", "ours"
    );
    let (mut fz, mut us, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let mut worst: f64 = 0.0;
    for q in &queries {
        let (f, hits) = fzf(&path, q)?;
        let mut best = Duration::MAX;
        let mut n = 0;
        for _ in 0..cli.reps.max(1) {
            let mut s = Searcher::with_threads(1);
            let t = Instant::now();
            n = s.search(&index, q, LIMIT, false).len();
            best = best.min(t.elapsed());
        }
        let ratio = ms(f) / ms(best).max(1e-6);
        println!(
            "{:<16} {:>10.2} {:>10.3} {:>7.0}x {:>9} {:>6}",
            format!("{q:?}"),
            ms(f),
            ms(best),
            ratio,
            hits,
            n
        );
        fz.push(ms(f));
        us.push(ms(best));
        ratios.push(ratio);
        worst = worst.max(ms(best));
    }
    let _ = std::fs::remove_file(&path);
    println!(
        "RESULT records={} fzf_median_ms={:.2} ours_median_ms={:.3} ours_max_ms={worst:.3} \
         ratio_median={:.0} ratio_min={:.0} build_ms={:.0}",
        cli.records,
        median(&fz),
        median(&us),
        median(&ratios),
        ratios.iter().copied().fold(f64::INFINITY, f64::min),
        ms(build)
    );
    Ok(())
}
