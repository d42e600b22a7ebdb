//! Latency summaries for the end-to-end benches and load tools (`benches/reports.rs`,
//! `examples/*`), which keep their own loops because they time whole requests against a
//! database or an SSH server rather than a function. Micro-benchmarks use divan instead.
//!
//! Behind the `bench-data` feature: dev builds (benches, examples, tests) get it through the
//! dev-dependency on this package, the server binary never does. A library module rather than a
//! file included with `#[path]`: each bench and example uses a different subset, and a
//! `#[path]` copy would be compiled (and dead-code linted) once per target.

use std::time::Duration;

/// A sample type and what a percentile of no samples is: NaN milliseconds (prints as such),
/// or a zero `Duration`.
pub trait Sample: Copy {
    const EMPTY: Self;
}

impl Sample for f64 {
    const EMPTY: Self = f64::NAN;
}

impl Sample for Duration {
    const EMPTY: Self = Duration::ZERO;
}

/// Nearest-rank percentile of ascending `sorted` samples, `p` in 0..=100 (`p` 0 is the
/// minimum, 100 the maximum); [`Sample::EMPTY`] when there are none.
pub fn pct<T: Sample>(sorted: &[T], p: f64) -> T {
    if sorted.is_empty() {
        return T::EMPTY;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The median (nearest rank) of samples in any order.
pub fn median<T: Sample + PartialOrd>(samples: &[T]) -> T {
    let mut s = samples.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    pct(&s, 50.0)
}

/// A number from the environment (`RUNS=5`), or `default` when unset or unparsable.
pub fn env_num<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Milliseconds as a float, the unit every summary prints.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The usual figures of a latency distribution, in milliseconds (NaN when there are none).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub min: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

impl Summary {
    /// Summarises samples in milliseconds, in any order.
    pub fn of_ms(samples: &[f64]) -> Self {
        let mut s = samples.to_vec();
        s.sort_by(f64::total_cmp);
        let at = |p| pct(&s, p);
        Self {
            n: s.len(),
            min: s.first().copied().unwrap_or(f64::NAN),
            p50: at(50.0),
            p90: at(90.0),
            p99: at(99.0),
            max: s.last().copied().unwrap_or(f64::NAN),
            mean: if s.is_empty() {
                f64::NAN
            } else {
                s.iter().sum::<f64>() / s.len() as f64
            },
        }
    }

    /// Summarises durations, in any order.
    pub fn of(samples: &[Duration]) -> Self {
        Self::of_ms(&samples.iter().copied().map(ms).collect::<Vec<_>>())
    }

    /// `n=… p50=… p90=… p99=… max=… mean=…`, two decimals.
    pub fn line(&self) -> String {
        format!(
            "n={} p50={:.2} p90={:.2} p99={:.2} max={:.2} mean={:.2}",
            self.n, self.p50, self.p90, self.p99, self.max, self.mean
        )
    }

    /// `KEY_n=… KEY_p50=… KEY_p99=… KEY_max=… KEY_mean=…`, three decimals, for scripts.
    pub fn kv(&self, key: &str) -> String {
        format!(
            "{key}_n={} {key}_p50={:.3} {key}_p99={:.3} {key}_max={:.3} {key}_mean={:.3}",
            self.n, self.p50, self.p99, self.max, self.mean
        )
    }
}

#[cfg(test)]
mod tests;
