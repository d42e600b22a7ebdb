//! Date ranges: parsing `--from`/`--to` and defaulting and bounding them.

use super::*;

/// Local calendar days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Range {
    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }
}

/// A `YYYY-MM-DD` date, strictly (no other layouts, no missing zero padding).
pub fn parse_date(s: &str) -> Result<NaiveDate, AppError> {
    let t = s.trim();
    let shape = t.len() == 10
        && t.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    let bad = || AppError::Invalid(format!("invalid date `{t}`: expected YYYY-MM-DD"));
    if !shape {
        return Err(bad());
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| bad())
}

/// Resolves `--from/--to` against the facility's local `today`: both default to a range of
/// [`DEFAULT_DAYS`] ending today (or starting at `--from`, or ending at `--to`).
pub fn resolve_range(
    from: Option<&str>,
    to: Option<&str>,
    today: NaiveDate,
) -> Result<Range, AppError> {
    let span = chrono::Duration::days(DEFAULT_DAYS - 1);
    let from = from.map(parse_date).transpose()?;
    let to = to.map(parse_date).transpose()?;
    let (from, to) = match (from, to) {
        (Some(f), Some(t)) => (f, t),
        (Some(f), None) => (f, today.max(f).min(f + span)),
        (None, Some(t)) => (t - span, t),
        (None, None) => (today - span, today),
    };
    if from > to {
        return Err(AppError::Invalid(format!(
            "--from {from} is after --to {to}"
        )));
    }
    let range = Range { from, to };
    if range.days() > MAX_DAYS {
        return Err(AppError::Invalid(format!(
            "the range has {} days; at most {MAX_DAYS}",
            range.days()
        )));
    }
    Ok(range)
}
