//! Issue 5's search budget, measured: fuzzy top-50 over 10k / 100k / 1M recipients while a
//! clerk types, keystroke by keystroke, and the same data through `fzf --filter`.
//!
//! `cargo bench --bench search` (about two minutes; `BENCH_SIZES=100000` for the budget alone)
//!
//! Plain `Instant` timing; prints tables and never asserts on time. Queries are made from the
//! synthetic directory itself: a family name, a full name, a name typed without diacritics, a
//! unit, "family unit-number", "unit-number family-prefix" and an email, each typed one char at
//! a time. Rows:
//! - `typing`: one `Searcher` per query, as a search box keeps it; each keystroke's time is the
//!   best of BENCH_REPS runs of the whole sequence, so that other load on a shared machine
//!   does not count;
//! - `typ-raw`: every sample of those runs;
//! - `cold`: a fresh search per keystroke (as after a backspace), on a kept `Searcher`;
//! - `api`: `RecipientIndex::search` per keystroke (a new `Searcher` each time, as an exec
//!   command does).
//!
//! Then the typo fallback (issue 16), on the same index:
//! - `sug-api`: the queries above through `RecipientIndex::search_or_suggest` (a new
//!   `Searcher` per keystroke, as the interface's search does): the fallback's cost on the
//!   normal path (it runs only when nothing is recognised);
//! - `typo-api`: misspelled names (a family name with one letter replaced by one it lacks, or
//!   two neighbours swapped; alone or after the given name), typed key by key through
//!   `search_or_suggest`: the fallback hitting;
//! - `typo-off`: the same keystrokes through `RecipientIndex::search` (no fallback);
//! - `fallback`: the fallback's own time on the keystrokes where it ran (`typo-api` less
//!   `typo-off`, per keystroke);
//! - `heavy`: misspellings one edit from several common names ("mara", "jhon", "smiht"), the
//!   most records a fallback looks at;
//!   followed by how often the fallback ran and how often the misspelled recipient was in the
//!   answer to the last keystroke.
//!
//! BENCH_TAIL=1 gives half the recipients a generated family name (about 30,000 distinct
//! words per 100k instead of a few hundred): the word list the fallback scans grows like a
//! real directory's long tail.
//!
//! Environment: BENCH_SIZES (default "10000,100000,1000000"), BENCH_QUERIES (queries per size,
//! default 60), BENCH_REPS (default 5), BENCH_THREADS (default 1), BENCH_VERBOSE=1 to list
//! the slowest keystrokes, BENCH_FZF=0 to skip the fzf comparison (skipped anyway without fzf).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use packtrack::benchkit::pct;
use packtrack::search::{RecipientIndex, Searcher, synthetic_directory};

/// Budget from issue 5: top-50 over 100k recipients per keystroke.
const BUDGET: Duration = Duration::from_millis(5);
const LIMIT: usize = 50;

fn main() {
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000, 1_000_000]);
    let targets = env_usize("BENCH_QUERIES", 60);
    let threads = env_usize("BENCH_THREADS", 1);
    let reps = env_usize("BENCH_REPS", 5).max(1);
    let run_fzf = std::env::var("BENCH_FZF").map_or(true, |v| v != "0");

    println!(
        "search bench: top-{LIMIT}, {threads} thread(s), best of {reps} per keystroke, \
         budget {BUDGET:?} at 100k; load average {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "{:>9} {:<8} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "records", "mode", "keys", "p50", "p90", "p99", "max", "mean"
    );
    let tail = std::env::var("BENCH_TAIL").is_ok_and(|v| v == "1");
    for &n in &sizes {
        let mut directory = synthetic_directory(n, 42);
        if tail {
            long_tail(&mut directory);
        }
        let t = Instant::now();
        let index = RecipientIndex::new(directory.clone());
        let build = t.elapsed();
        let queries = typing_queries(&directory, targets);

        // Typing: one searcher per query, fed prefix after prefix; each keystroke's time is the
        // best of `reps` runs of the whole sequence (the machine may be shared), and the raw
        // samples are kept too.
        let mut typing = Vec::new();
        let mut typing_raw = Vec::new();
        let mut slowest = Vec::new();
        for q in &queries {
            let keys: Vec<&str> = prefixes(q).collect();
            let mut best = vec![Duration::MAX; keys.len()];
            let mut stats = vec![None; keys.len()];
            for _ in 0..reps {
                let mut searcher = Searcher::with_threads(threads);
                for (k, prefix) in keys.iter().enumerate() {
                    let t = Instant::now();
                    let hits = searcher.search(&index, prefix, LIMIT, false);
                    let elapsed = t.elapsed();
                    std::hint::black_box(hits);
                    typing_raw.push(elapsed);
                    best[k] = best[k].min(elapsed);
                    stats[k] = Some(searcher.stats());
                }
            }
            for (k, prefix) in keys.iter().enumerate() {
                typing.push(best[k]);
                slowest.push((best[k], prefix.to_string(), stats[k]));
            }
        }
        if std::env::var("BENCH_VERBOSE").is_ok_and(|v| v == "1") {
            slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
            for (d, q, st) in slowest.iter().take(12) {
                println!("    slow: {:>9} {q:?} {st:?}", fmt(*d));
            }
        }
        // Cold: every keystroke from scratch (best of `reps`).
        let mut cold = Vec::new();
        let mut searcher = Searcher::with_threads(threads);
        for q in &queries {
            for prefix in prefixes(q) {
                let mut best = Duration::MAX;
                for _ in 0..reps {
                    searcher.reset();
                    let t = Instant::now();
                    let hits = searcher.search(&index, prefix, LIMIT, false);
                    best = best.min(t.elapsed());
                    std::hint::black_box(hits);
                }
                cold.push(best);
            }
        }
        // `RecipientIndex::search`: a new Searcher (and nucleo matcher) per call.
        let mut api = Vec::new();
        for q in &queries {
            for prefix in prefixes(q) {
                let mut best = Duration::MAX;
                for _ in 0..reps {
                    let t = Instant::now();
                    let hits = index.search(prefix, LIMIT, false);
                    best = best.min(t.elapsed());
                    std::hint::black_box(hits);
                }
                api.push(best);
            }
        }
        row(n, "typing", &mut typing);
        row(n, "typ-raw", &mut typing_raw);
        row(n, "cold", &mut cold);
        row(n, "api", &mut api);
        typo_rows(n, &directory, &index, &queries, reps);
        println!(
            "{:>9} build {:?}, {} bytes per recipient (heap_bytes)",
            n,
            build,
            index.heap_bytes() / n.max(1)
        );
    }

    if run_fzf {
        fzf_comparison(100_000, threads);
    }
}

/// Best of `reps` runs of `search` per keystroke of every query (a fresh `Searcher` each).
fn per_keystroke(
    queries: &[String],
    reps: usize,
    mut search: impl FnMut(&str) -> usize,
) -> Vec<Duration> {
    let mut out = Vec::new();
    for q in queries {
        for prefix in prefixes(q) {
            let mut best = Duration::MAX;
            for _ in 0..reps {
                let t = Instant::now();
                std::hint::black_box(search(prefix));
                best = best.min(t.elapsed());
            }
            out.push(best);
        }
    }
    out
}

/// The typo fallback's rows (see the module doc).
fn typo_rows(
    n: usize,
    directory: &[packtrack::db::recipients::Recipient],
    index: &RecipientIndex,
    queries: &[String],
    reps: usize,
) {
    let mut normal = per_keystroke(queries, reps, |q| {
        index.search_or_suggest(q, LIMIT, false).len()
    });
    let typos = typo_queries(directory, 60);
    let texts: Vec<String> = typos.iter().map(|(q, _)| q.clone()).collect();
    let mut on = per_keystroke(&texts, reps, |q| {
        index.search_or_suggest(q, LIMIT, false).len()
    });
    let mut off = per_keystroke(&texts, reps, |q| index.search(q, LIMIT, false).len());
    row(n, "sug-api", &mut normal);
    row(n, "typo-api", &mut on);
    row(n, "typo-off", &mut off);
    // The fallback's own time: on the keystrokes where it ran, `search_or_suggest` less
    // `search` (each the best of `reps`).
    let mut own = Vec::new();
    let mut searcher = Searcher::new();
    for q in &texts {
        for prefix in prefixes(q) {
            searcher.search_or_suggest(index, prefix, LIMIT, false);
            if searcher.stats().typo_candidates == 0 {
                continue;
            }
            let best = |f: &dyn Fn() -> usize| {
                (0..reps)
                    .map(|_| {
                        let t = Instant::now();
                        std::hint::black_box(f());
                        t.elapsed()
                    })
                    .min()
                    .unwrap_or_default()
            };
            let with = best(&|| index.search_or_suggest(prefix, LIMIT, false).len());
            let without = best(&|| index.search(prefix, LIMIT, false).len());
            own.push(with.saturating_sub(without));
        }
    }
    row(n, "fallback", &mut own);
    // Misspellings one edit from several common names at once (the most records a fallback
    // looks at), whole, through `RecipientIndex::search_or_suggest` and, for each, `search`.
    // ("ann lii": no word long enough to correct, the fuzzy search's own cost.)
    let heavy = "mara,jhon,smiht,garica,mari garica,ann lii,wnag".split(',');
    let mut times = Vec::new();
    let mut each = Vec::new();
    for q in heavy {
        let best = (0..reps)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(index.search_or_suggest(q, LIMIT, false));
                t.elapsed()
            })
            .min()
            .unwrap_or_default();
        let mut searcher = Searcher::new();
        searcher.search_or_suggest(index, q, LIMIT, false);
        let records = searcher.stats().typo_candidates;
        let off = (0..reps)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(index.search(q, LIMIT, false));
                t.elapsed()
            })
            .min()
            .unwrap_or_default();
        each.push(format!(
            "{q:?} {} ({} without; {records} records)",
            fmt(best),
            fmt(off)
        ));
        times.push(best);
    }
    row(n, "heavy", &mut times);
    println!("{n:>9} heavy: {}", each.join(", "));
    // How often the fallback ran (any keystroke), and whether the misspelled recipient came
    // back for the whole misspelling (as a suggestion or, for a swap the fuzzy match still
    // finds, as a hit).
    let (mut keys, mut ran) = (0, 0);
    // [family name alone, given + family]: misspellings, recipient found, as a suggestion.
    let mut tally = [[0usize; 3]; 2];
    let mut searcher = Searcher::new();
    for (q, id) in &typos {
        for prefix in prefixes(q) {
            keys += 1;
            searcher.search_or_suggest(index, prefix, LIMIT, false);
            ran += usize::from(searcher.stats().typo_candidates > 0);
        }
        let hits = searcher.search_or_suggest(index, q, LIMIT, false);
        let t = &mut tally[usize::from(q.contains(' '))];
        t[0] += 1;
        if let Some(h) = hits.iter().find(|h| h.id == *id) {
            t[1] += 1;
            t[2] += usize::from(h.suggested);
        }
    }
    println!(
        "{:>9} typo: fallback ran on {ran} of {keys} keystrokes; the recipient meant in the \
         top {LIMIT} for the whole misspelling: family name alone {} of {} ({} suggested), \
         given + family {} of {} ({} suggested)",
        n, tally[0][1], tally[0][0], tally[0][2], tally[1][1], tally[1][0], tally[1][2]
    );
}

/// Misspelled names, each with the id of the recipient meant: a family name of five or more
/// ASCII letters with one letter replaced by a letter the name lacks ("kowalsky") or two
/// neighbours swapped ("hernnadez"), alone or after the given name.
fn typo_queries(
    directory: &[packtrack::db::recipients::Recipient],
    n: usize,
) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    let step = (directory.len() / (n * 2).max(1)).max(1);
    for r in directory.iter().skip(step / 2).step_by(step) {
        if out.len() == n {
            break;
        }
        let mut words = r.name.split_whitespace().map(strip_diacritics);
        let given = words.next().unwrap_or_default();
        let family = words.next_back().unwrap_or_default();
        if family.len() < 5 || !family.chars().all(|c| c.is_ascii_lowercase()) {
            continue;
        }
        let mut chars: Vec<char> = family.chars().collect();
        let k = out.len();
        let at = 1 + k % (chars.len() - 2);
        if k % 4 == 3 {
            chars.swap(at, at + 1);
        } else {
            let lacks = ('a'..='z').find(|c| !chars.contains(c) && !"aeiou".contains(*c));
            chars[at] = lacks.unwrap_or('x');
        }
        let typo: String = chars.into_iter().collect();
        if typo == family {
            continue;
        }
        let q = if k % 2 == 0 {
            typo
        } else {
            format!("{given} {typo}")
        };
        out.push((q, r.id));
    }
    out
}

/// Gives every other recipient a generated family name (a few syllables), so the directory
/// has a long tail of distinct words like a real one.
fn long_tail(directory: &mut [packtrack::db::recipients::Recipient]) {
    let syllables: Vec<&str> = "ka lo mi ren sto va del gu bri ton sen ma rik zo pel an ber chi \
         dos fa"
        .split_whitespace()
        .collect();
    let mut rng = fastrand::Rng::with_seed(9);
    for r in directory.iter_mut().step_by(2) {
        let family: String = (0..rng.usize(2..5))
            .map(|_| syllables[rng.usize(..syllables.len())])
            .collect();
        let mut words: Vec<&str> = r.name.split_whitespace().collect();
        if words.len() > 1 {
            words.pop();
            let mut family = family;
            if let Some(first) = family.get_mut(..1) {
                first.make_ascii_uppercase();
            }
            r.name = format!("{} {family}", words.join(" "));
        }
    }
}

/// Queries a clerk would type, made from recipients picked evenly through the directory.
fn typing_queries(directory: &[packtrack::db::recipients::Recipient], n: usize) -> Vec<String> {
    let mut out = Vec::new();
    let step = (directory.len() / n.max(1)).max(1);
    for (k, r) in directory.iter().step_by(step).take(n).enumerate() {
        let family = r
            .name
            .split_whitespace()
            .last()
            .unwrap_or(&r.name)
            .to_owned();
        let digits: String = r.unit.chars().filter(char::is_ascii_digit).collect();
        let q = match k % 7 {
            0 => family.to_lowercase(),
            1 => r.name.to_lowercase(),
            2 => strip_diacritics(&r.name),
            3 => r.unit.to_lowercase(),
            4 => format!("{} {}", family.to_lowercase(), digits),
            5 => format!("{} {}", digits, family.chars().take(3).collect::<String>()),
            _ => r
                .email
                .clone()
                .unwrap_or_else(|| r.name.clone())
                .chars()
                .take(12)
                .collect(),
        };
        out.push(q);
    }
    out
}

fn strip_diacritics(s: &str) -> String {
    s.chars()
        .map(nucleo_fold)
        .collect::<String>()
        .to_lowercase()
}

/// The same folding the index applies (diacritics off), for building realistic queries.
fn nucleo_fold(c: char) -> char {
    match c {
        'á' | 'à' | 'ä' | 'â' | 'å' => 'a',
        'é' | 'è' | 'ë' | 'ê' => 'e',
        'í' | 'ï' => 'i',
        'ó' | 'ö' | 'ø' | 'ô' => 'o',
        'ú' | 'ü' => 'u',
        'ñ' => 'n',
        'ç' => 'c',
        'ł' => 'l',
        'ş' => 's',
        _ => c,
    }
}

/// Every prefix of `q` that ends on a char boundary (what the search box holds key by key).
fn prefixes(q: &str) -> impl Iterator<Item = &str> {
    q.char_indices()
        .skip(1)
        .map(|(i, _)| &q[..i])
        .chain(std::iter::once(q))
}

fn row(n: usize, mode: &str, samples: &mut [Duration]) {
    samples.sort_unstable();
    let mean = samples.iter().sum::<Duration>() / samples.len().max(1) as u32;
    let flag = if n == 100_000 && pct(samples, 99.0) > BUDGET {
        "  OVER BUDGET (p99)"
    } else {
        ""
    };
    println!(
        "{:>9} {:<8} {:>6} {:>9} {:>9} {:>9} {:>9} {:>9}{flag}",
        n,
        mode,
        samples.len(),
        fmt(pct(samples, 50.0)),
        fmt(pct(samples, 90.0)),
        fmt(pct(samples, 99.0)),
        fmt(samples.last().copied().unwrap_or_default()),
        fmt(mean),
    );
}

fn fmt(d: Duration) -> String {
    format!("{:.3}ms", d.as_secs_f64() * 1e3)
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `fzf --filter QUERY < file | head -50` on the directory written as
/// "name | unit | email | aliases" lines, against a cold search of the index.
fn fzf_comparison(n: usize, threads: usize) {
    let fzf_ok = Command::new("fzf")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !fzf_ok {
        println!("fzf comparison: SKIPPED (fzf not installed)");
        return;
    }
    let directory = synthetic_directory(n, 42);
    let path = std::env::temp_dir().join(format!("packtrack-search-bench-{n}.txt"));
    let mut text = String::new();
    for r in &directory {
        text.push_str(&format!(
            "{} | {} | {} | {}\n",
            r.name,
            r.unit,
            r.email.as_deref().unwrap_or(""),
            r.aliases.join(", ")
        ));
    }
    if std::fs::write(&path, &text).is_err() {
        println!("fzf comparison: SKIPPED (cannot write {})", path.display());
        return;
    }
    let index = RecipientIndex::new(directory);
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
    println!();
    println!(
        "fzf --filter vs the index, {n} records. fzf: `fzf --filter Q < file` (| wc -l, and \
         | head -50), the whole process, best of 3; ours cold: a fresh search; ours key: the last \
         keystroke of typing Q with one Searcher; best of 5."
    );
    let (startup, _) = time_fzf(Path::new("/dev/null"), "x", false);
    println!(
        "fzf on empty input (process start-up alone): {}",
        fmt(startup)
    );
    println!(
        "{:<16} {:>10} {:>10} {:>10} {:>10} {:>8} {:>6}",
        "query", "fzf", "fzf|head", "ours cold", "ours key", "fzf hits", "ours"
    );
    let mut cold = Searcher::with_threads(threads);
    for q in &queries {
        let (fzf_all, fzf_count) = time_fzf(&path, q, false);
        let (fzf_head, _) = time_fzf(&path, q, true);
        let mut count = 0;
        let ours_cold = best_of(5, || {
            cold.reset();
            let t = Instant::now();
            count = cold.search(&index, q, LIMIT, false).len();
            t.elapsed()
        });
        // The last keystroke of typing `q` with one searcher (the earlier keys untimed).
        let ours_key = best_of(5, || {
            let mut typing = Searcher::with_threads(threads);
            let mut keys = prefixes(q).collect::<Vec<_>>();
            let last = keys.pop().unwrap_or(q);
            for key in keys {
                std::hint::black_box(typing.search(&index, key, LIMIT, false));
            }
            let t = Instant::now();
            let n = typing.search(&index, last, LIMIT, false).len();
            let elapsed = t.elapsed();
            std::hint::black_box(n);
            elapsed
        });
        println!(
            "{:<16} {:>10} {:>10} {:>10} {:>10} {:>8} {:>6}",
            format!("{q:?}"),
            fmt(fzf_all),
            fmt(fzf_head),
            fmt(ours_cold),
            fmt(ours_key),
            fzf_count,
            count
        );
    }
    let _ = std::fs::remove_file(&path);
}

/// Best of `reps` runs of `f`, which times itself.
fn best_of(reps: usize, mut f: impl FnMut() -> Duration) -> Duration {
    (0..reps).map(|_| f()).min().unwrap_or_default()
}

/// Best of three runs of `fzf --filter q < path` (piped through `head -50` when `head`).
/// Returns the time and how many lines fzf matched (all, not just 50).
fn time_fzf(path: &Path, q: &str, head: bool) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut count = 0;
    for _ in 0..3 {
        let script = if head {
            "fzf --filter \"$1\" < \"$2\" | head -50 > /dev/null"
        } else {
            "fzf --filter \"$1\" < \"$2\" | wc -l"
        };
        let t = Instant::now();
        let out = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg("sh")
            .arg(q)
            .arg(path)
            .stderr(Stdio::null())
            .output();
        let elapsed = t.elapsed();
        best = best.min(elapsed);
        if let Ok(out) = out
            && !head
        {
            count = String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse()
                .unwrap_or(0);
        }
    }
    let _ = std::io::stdout().flush();
    (best, count)
}
