//! Reports over a facility's packages: daily log, aging, carrier volume, time to pickup and
//! per-staff activity.
//!
//! Every report is one SQL statement aggregated in PostgreSQL and run through a
//! [`TenantTx`] (so row level security applies as for any other read). Rows are streamed
//! from the query into a [`Sink`] (aligned text, CSV, or a collected table for screens) as
//! they arrive; nothing is loaded into memory first.
//!
//! Date ranges are local calendar days of the facility (`facilities.time_zone`), both ends
//! inclusive: `--from 2024-01-10 --to 2024-01-12` is local midnight of the 10th up to (not
//! including) local midnight of the 13th, converted with `AT TIME ZONE f.time_zone` so days
//! with a DST change have their real length. The bounds are computed first and bound into
//! the report as plain timestamptz values, so the planner sees the real range: an index range
//! scan (migrations/0006_reports.sql) for weeks, a sequential scan for most of the table. See
//! docs/REPORTS.md for plans and timings.

use std::fmt;
use std::io::Write;

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::TryStreamExt;
use serde_json::json;

use crate::db::{Db, TenantTx, audit};
use crate::domain::Principal;
use crate::error::{AppError, DbError};

/// The range when none is given: the last 30 local days, today included.
pub const DEFAULT_DAYS: i64 = 30;
/// The longest range a report covers (about ten years).
pub const MAX_DAYS: i64 = 3660;

/// One of the reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Report {
    /// Per local day of the range: packages received and picked up.
    Daily,
    /// Packages waiting now, by how long they have waited.
    Aging,
    /// Packages received in the range, per carrier.
    Carriers,
    /// Packages picked up in the range: count, median and 90th percentile of hours waited.
    PickupTime,
    /// Per staff login: packages received and handed over in the range.
    Staff,
}

/// How a column is laid out in the text format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The CSV header and text heading.
    pub name: &'static str,
    /// Minimum text width (the heading's length is the floor).
    pub width: usize,
    /// Numbers are right-aligned, text left-aligned.
    pub numeric: bool,
}

const fn text(name: &'static str, width: usize) -> Column {
    Column {
        name,
        width,
        numeric: false,
    }
}

const fn num(name: &'static str, width: usize) -> Column {
    Column {
        name,
        width,
        numeric: true,
    }
}

/// Age buckets of the aging report, in order.
pub const AGE_BUCKETS: [&str; 5] = ["<1d", "1-3d", "3-7d", "7-14d", "14d+"];

impl Report {
    pub const ALL: [Report; 5] = [
        Report::Daily,
        Report::Aging,
        Report::Carriers,
        Report::PickupTime,
        Report::Staff,
    ];

    /// The name in commands (`reports NAME`) and in the audit action (`report.NAME`).
    pub fn name(self) -> &'static str {
        match self {
            Report::Daily => "daily",
            Report::Aging => "aging",
            Report::Carriers => "carriers",
            Report::PickupTime => "pickup-time",
            Report::Staff => "staff",
        }
    }

    pub fn parse(name: &str) -> Option<Report> {
        Report::ALL.into_iter().find(|r| r.name() == name)
    }

    pub fn title(self) -> &'static str {
        match self {
            Report::Daily => "Daily log",
            Report::Aging => "Aging of waiting packages",
            Report::Carriers => "Carrier volume",
            Report::PickupTime => "Time to pickup",
            Report::Staff => "Staff activity",
        }
    }

    /// Whether `--from/--to` apply (aging is always "waiting now").
    pub fn uses_range(self) -> bool {
        self != Report::Aging
    }

    pub fn columns(self) -> &'static [Column] {
        const DAILY: [Column; 3] = [text("date", 10), num("received", 9), num("picked_up", 9)];
        const AGING: [Column; 2] = [text("age", 6), num("waiting", 9)];
        const CARRIERS: [Column; 2] = [text("carrier", 12), num("received", 9)];
        const PICKUP_TIME: [Column; 3] = [
            num("picked_up", 9),
            num("median_hours", 12),
            num("p90_hours", 9),
        ];
        const STAFF: [Column; 3] = [
            text("login", 16),
            num("received", 9),
            num("handed_over", 11),
        ];
        match self {
            Report::Daily => &DAILY,
            Report::Aging => &AGING,
            Report::Carriers => &CARRIERS,
            Report::PickupTime => &PICKUP_TIME,
            Report::Staff => &STAFF,
        }
    }

    /// The statement. Parameters: `$1` facility id, `$2` first and `$3` last local day of
    /// the range, `$4`/`$5` its bounds as instants ([`BOUNDS_SQL`]); each uses what it
    /// needs (aging only `$1`). Public for the benchmark's EXPLAIN.
    pub fn sql(self) -> &'static str {
        match self {
            Report::Daily => DAILY_SQL,
            Report::Aging => AGING_SQL,
            Report::Carriers => CARRIERS_SQL,
            Report::PickupTime => PICKUP_TIME_SQL,
            Report::Staff => STAFF_SQL,
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The range as instants: local midnight of the first day (`lo`) up to local midnight after
/// the last (`hi`), in the facility's time zone. Computed first, then bound into the report
/// as `$4`/`$5`, so the planner sees real values and picks an index range scan for a few
/// weeks or a (parallel) sequential scan for most of the table.
pub const BOUNDS_SQL: &str = "\
    SELECT $2::date::timestamp AT TIME ZONE f.time_zone, \
           ($3::date + 1)::timestamp AT TIME ZONE f.time_zone \
    FROM facilities f WHERE f.id = $1";

/// One row per local day with the day's bounds; each count is an index range scan of that
/// day (no per-row time zone conversion, no grouping of a million rows).
const DAILY_SQL: &str = "\
    WITH d AS (SELECT g::date AS day, \
                      g::date::timestamp AT TIME ZONE f.time_zone AS lo, \
                      (g::date + 1)::timestamp AT TIME ZONE f.time_zone AS hi \
               FROM facilities f, generate_series($2::date, $3::date, interval '1 day') AS g \
               WHERE f.id = $1) \
    SELECT d.day, \
           (SELECT count(*) FROM packages p WHERE p.facility_id = $1 \
                AND p.received_at >= d.lo AND p.received_at < d.hi) AS received, \
           (SELECT count(*) FROM packages p WHERE p.facility_id = $1 \
                AND p.picked_up_at >= d.lo AND p.picked_up_at < d.hi) AS picked_up \
    FROM d ORDER BY d.day";

const AGING_SQL: &str = "\
    SELECT x.age, x.n \
    FROM (SELECT count(*) FILTER (WHERE a < interval '1 day') AS d0, \
                 count(*) FILTER (WHERE a >= interval '1 day' AND a < interval '3 days') AS d1, \
                 count(*) FILTER (WHERE a >= interval '3 days' AND a < interval '7 days') AS d3, \
                 count(*) FILTER (WHERE a >= interval '7 days' AND a < interval '14 days') AS d7, \
                 count(*) FILTER (WHERE a >= interval '14 days') AS d14 \
          FROM (SELECT now() - p.received_at AS a FROM packages p \
                WHERE p.facility_id = $1 AND p.status = 'waiting') w) c \
    CROSS JOIN LATERAL (VALUES (1, '<1d', c.d0), (2, '1-3d', c.d1), (3, '3-7d', c.d3), \
                               (4, '7-14d', c.d7), (5, '14d+', c.d14)) AS x(ord, age, n) \
    ORDER BY x.ord";

const CARRIERS_SQL: &str = concat!(
    "SELECT coalesce(p.carrier, '(unknown)') AS carrier, count(*) AS received \
     FROM packages p WHERE",
    " p.facility_id = $1 AND p.received_at >= $4 AND p.received_at < $5 ",
    "GROUP BY p.carrier \
     ORDER BY count(*) DESC, p.carrier NULLS LAST"
);

pub const PICKUP_TIME_SQL: &str = concat!(
    "SELECT s.n AS picked_up, s.q[1] AS median_hours, s.q[2] AS p90_hours \
     FROM (SELECT count(*) AS n, \
                  percentile_cont(ARRAY[0.5, 0.9]::float8[]) WITHIN GROUP \
                  (ORDER BY extract(epoch FROM p.picked_up_at - p.received_at)::float8 / 3600.0) \
                  AS q \
           FROM packages p WHERE",
    " p.facility_id = $1 AND p.picked_up_at >= $4 AND p.picked_up_at < $5 ",
    ") s"
);

/// Pickup time, fast path (migrations/0009_pickup_rollup.sql): pickups per wait bucket in
/// the range — the rollup's counts for whole UTC days `[$2, $3)` and the packages' own for
/// the partial days at the edges, `[$4, $5)` and `[$6, $7)`.
pub const PICKUP_HISTOGRAM_SQL: &str = "\
    SELECT x.bucket, sum(x.n)::bigint FROM ( \
        SELECT r.bucket, r.n::bigint AS n FROM pickup_wait_rollup r \
        WHERE r.facility_id = $1 AND r.day >= $2 AND r.day < $3 \
        UNION ALL \
        SELECT pickup_wait_bucket(p.wait_secs), count(*) FROM packages p \
        WHERE p.facility_id = $1 AND ((p.picked_up_at >= $4 AND p.picked_up_at < $5) \
                                   OR (p.picked_up_at >= $6 AND p.picked_up_at < $7)) \
        GROUP BY 1) x \
    GROUP BY x.bucket ORDER BY x.bucket";

/// The waits of one bucket `$6` (seconds in `[$4, $5)`) picked up in `[$2, $3)`, in order:
/// an index range scan of `packages_wait`.
pub const PICKUP_BUCKET_SQL: &str = "\
    SELECT p.wait_secs FROM packages p \
    WHERE p.facility_id = $1 AND p.picked_up_at >= $2 AND p.picked_up_at < $3 \
      AND p.wait_secs >= $4 AND p.wait_secs < $5 AND pickup_wait_bucket(p.wait_secs) = $6 \
    ORDER BY p.wait_secs";

/// The seconds `[lo, hi)` of a wait bucket, as `pickup_wait_bucket` assigns them: hours
/// under two days, 8-hour steps up to 60 days, then everything longer (negative waits, from
/// clock skew, count as bucket 0).
pub fn wait_bucket_bounds(bucket: i32) -> (f64, f64) {
    const H: f64 = 3600.0;
    match bucket {
        i32::MIN..=0 => (f64::NEG_INFINITY, H),
        1..=47 => (f64::from(bucket) * H, f64::from(bucket + 1) * H),
        48..=221 => {
            let lo = 48.0 * H + f64::from(bucket - 48) * 8.0 * H;
            (lo, lo + 8.0 * H)
        }
        _ => (60.0 * 24.0 * H, f64::INFINITY),
    }
}

/// `percentile_cont(p)` of sorted values, as PostgreSQL computes it.
fn lerp_rank(p: f64, n: i64) -> (i64, i64, f64) {
    let x = p * (n - 1) as f64;
    let first = x.floor();
    (first as i64, x.ceil() as i64, x - first)
}

/// Count, median and 90th percentile (hours) of the waits picked up in `[lo, hi)`: exact,
/// the same numbers as [`PICKUP_TIME_SQL`], without sorting the range. `None` when the
/// rollup does not match the packages in a bucket it reads (then the caller runs the exact
/// statement).
pub async fn pickup_time_fast(
    tx: &mut TenantTx<'_>,
    lo: DateTime<Utc>,
    hi: DateTime<Utc>,
) -> Result<Option<(i64, Option<f64>, Option<f64>)>, AppError> {
    let facility = tx.facility().0;
    let midnight = |d: NaiveDate| d.and_time(chrono::NaiveTime::MIN).and_utc();
    let lo_day = lo.date_naive();
    let d1 = if lo == midnight(lo_day) {
        lo_day
    } else {
        lo_day + chrono::Duration::days(1)
    };
    let d2 = hi.date_naive();
    let (full, edge1, edge2) = if d1 < d2 {
        ((d1, d2), (lo, midnight(d1)), (midnight(d2), hi))
    } else {
        ((d1, d1), (lo, hi), (hi, hi))
    };
    let hist: Vec<(i32, i64)> = sqlx::query_as(PICKUP_HISTOGRAM_SQL)
        .bind(facility)
        .bind(full.0)
        .bind(full.1)
        .bind(edge1.0)
        .bind(edge1.1)
        .bind(edge2.0)
        .bind(edge2.1)
        .fetch_all(tx.conn())
        .await?;
    let n: i64 = hist.iter().map(|(_, c)| *c).sum();
    if hist.iter().any(|(_, c)| *c < 0) {
        tracing::warn!(
            facility,
            "pickup wait rollup has negative counts; exact sort instead \
             (SELECT rebuild_pickup_wait_rollup() as the owner recounts it)"
        );
        return Ok(None);
    }
    if n == 0 {
        return Ok(Some((0, None, None)));
    }
    let percentiles = [lerp_rank(0.5, n), lerp_rank(0.9, n)];
    // The bucket of each rank needed, and the rank's place within it.
    let locate = |rank: i64| -> (i32, i64, i64) {
        let mut before = 0;
        for (b, c) in &hist {
            if rank < before + c {
                return (*b, rank - before, *c);
            }
            before += c;
        }
        let (b, c) = hist[hist.len() - 1];
        (b, c - 1, c)
    };
    let mut fetched: Vec<(i32, Vec<f64>)> = Vec::new();
    let mut value = Vec::new();
    for (first, second, _) in percentiles {
        for rank in [first, second] {
            let (bucket, at, expected) = locate(rank);
            if !fetched.iter().any(|(b, _)| *b == bucket) {
                let (blo, bhi) = wait_bucket_bounds(bucket);
                let waits: Vec<f64> = sqlx::query_scalar(PICKUP_BUCKET_SQL)
                    .bind(facility)
                    .bind(lo)
                    .bind(hi)
                    .bind(blo - 1.0)
                    .bind(bhi + 1.0)
                    .bind(bucket)
                    .fetch_all(tx.conn())
                    .await?;
                if i64::try_from(waits.len()).ok() != Some(expected) {
                    tracing::warn!(
                        facility,
                        bucket,
                        rollup = expected,
                        packages = waits.len(),
                        "pickup wait rollup does not match the packages; exact sort instead \
                         (SELECT rebuild_pickup_wait_rollup() as the owner recounts it)"
                    );
                    return Ok(None);
                }
                fetched.push((bucket, waits));
            }
            let waits = fetched
                .iter()
                .find(|(b, _)| *b == bucket)
                .map(|(_, w)| w)
                .ok_or(AppError::NotFound)?;
            let idx = usize::try_from(at).map_err(|_| AppError::NotFound)?;
            value.push(waits.get(idx).copied().ok_or(AppError::NotFound)? / 3600.0);
        }
    }
    let at = |i: usize, prop: f64| value[i] + prop * (value[i + 1] - value[i]);
    Ok(Some((
        n,
        Some(at(0, percentiles[0].2)),
        Some(at(2, percentiles[1].2)),
    )))
}

const STAFF_SQL: &str = concat!(
    "WITH r AS (SELECT coalesce(p.received_by, 0) AS uid, count(*) AS n FROM packages p WHERE",
    " p.facility_id = $1 AND p.received_at >= $4 AND p.received_at < $5 ",
    "GROUP BY 1), \
       h AS (SELECT coalesce(p.picked_up_by, 0) AS uid, count(*) AS n FROM packages p WHERE",
    " p.facility_id = $1 AND p.picked_up_at >= $4 AND p.picked_up_at < $5 ",
    "GROUP BY 1) \
     SELECT coalesce(u.login, '(none)') AS login, coalesce(r.n, 0) AS received, \
            coalesce(h.n, 0) AS handed_over \
     FROM r FULL JOIN h USING (uid) LEFT JOIN users u ON u.id = uid \
     ORDER BY u.login IS NULL, u.login"
);

/// Transaction-local settings of a report run: a bound on its run time, room for the
/// percentile sort to stay in memory, and no JIT (compiling costs more than these
/// statements take to run), and a plan for the actual bounds every time (a cached generic
/// plan would guess the range's size). Public for the benchmark's EXPLAIN.
pub const SETTINGS_SQL: &str = "SELECT set_config('statement_timeout', '30s', true), \
     set_config('work_mem', '64MB', true), set_config('jit', 'off', true), \
     set_config('plan_cache_mode', 'force_custom_plan', true)";

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

/// One value of a report row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Date(NaiveDate),
    Count(i64),
    /// Hours, `None` when there is nothing to measure.
    Hours(Option<f64>),
}

impl Cell {
    pub fn count(&self) -> Option<i64> {
        match self {
            Cell::Count(n) => Some(*n),
            _ => None,
        }
    }
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cell::Text(s) => f.pad(s),
            Cell::Date(d) => f.pad(&d.format("%Y-%m-%d").to_string()),
            Cell::Count(n) => f.pad(&n.to_string()),
            Cell::Hours(Some(h)) => f.pad(&format!("{h:.2}")),
            Cell::Hours(None) => f.pad(""),
        }
    }
}

/// Where report rows go, one at a time, as the query yields them.
pub trait Sink {
    fn header(&mut self, columns: &[Column]) -> Result<(), AppError>;
    fn row(&mut self, cells: &[Cell]) -> Result<(), AppError>;
    fn finish(&mut self) -> Result<(), AppError> {
        Ok(())
    }
    /// Pushes what the sink buffered into its writer (for streaming; see [`Stream`]).
    fn flush_rows(&mut self) -> Result<(), AppError> {
        Ok(())
    }
}

/// An `io::Write` whose bytes are taken out in chunks while a sink writes into it: the
/// writer of a streamed export.
#[derive(Debug, Clone, Default)]
pub struct ChunkBuf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl ChunkBuf {
    fn bytes(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn len(&self) -> usize {
        self.bytes().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.bytes())
    }
}

impl Write for ChunkBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Bytes of output sent at a time by a streamed export.
pub const STREAM_CHUNK: usize = 16 * 1024;

/// Where a streamed export's output goes while the query runs: full chunks of the sink's
/// [`ChunkBuf`] into a bounded channel (the SSH channel's writer reads it), so a large
/// export never sits in memory whole and a slow client slows the query down instead.
#[derive(Debug)]
pub struct Stream {
    buf: ChunkBuf,
    tx: tokio::sync::mpsc::Sender<Vec<u8>>,
    /// Bytes handed to the channel so far.
    pub sent: u64,
}

impl Stream {
    pub fn new(buf: ChunkBuf, tx: tokio::sync::mpsc::Sender<Vec<u8>>) -> Self {
        Self { buf, tx, sent: 0 }
    }

    /// Sends what the sink wrote, once it is a full chunk (`all`: whatever there is).
    async fn pump<S: Sink + ?Sized>(&mut self, sink: &mut S, all: bool) -> Result<(), AppError> {
        sink.flush_rows()?;
        let len = self.buf.len();
        if len >= STREAM_CHUNK || (all && len > 0) {
            let chunk = self.buf.take();
            self.tx
                .send(chunk)
                .await
                .map_err(|_| AppError::Invalid("the client went away during the export".into()))?;
            self.sent += len as u64;
        }
        Ok(())
    }
}

fn write_failed(e: impl fmt::Display) -> AppError {
    AppError::Invalid(format!("cannot write the report: {e}"))
}

/// CSV with a header row (csv crate: quoting as RFC 4180).
pub struct CsvSink<W: Write> {
    writer: csv::Writer<W>,
}

impl<W: Write> CsvSink<W> {
    pub fn new(out: W) -> Self {
        Self {
            writer: csv::Writer::from_writer(out),
        }
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(self) -> Result<W, AppError> {
        self.writer
            .into_inner()
            .map_err(|e| write_failed(e.error()))
    }
}

impl<W: Write> Sink for CsvSink<W> {
    fn header(&mut self, columns: &[Column]) -> Result<(), AppError> {
        self.writer
            .write_record(columns.iter().map(|c| c.name))
            .map_err(write_failed)
    }

    fn row(&mut self, cells: &[Cell]) -> Result<(), AppError> {
        self.writer
            .write_record(cells.iter().map(|c| c.to_string()))
            .map_err(write_failed)
    }

    fn finish(&mut self) -> Result<(), AppError> {
        self.writer.flush().map_err(write_failed)
    }

    fn flush_rows(&mut self) -> Result<(), AppError> {
        self.writer.flush().map_err(write_failed)
    }
}

/// Plain text in aligned columns: fixed widths per report, so each row is written as it
/// arrives (a longer value pushes its line out instead of re-measuring the table).
pub struct TextSink<W: Write> {
    out: W,
    columns: Vec<Column>,
}

impl<W: Write> TextSink<W> {
    pub fn new(out: W) -> Self {
        Self {
            out,
            columns: Vec::new(),
        }
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    fn line(&mut self, values: &[String]) -> Result<(), AppError> {
        let mut line = String::new();
        for (i, (c, v)) in self.columns.iter().zip(values).enumerate() {
            let w = c.width.max(c.name.len());
            if i > 0 {
                line.push_str("  ");
            }
            let last = i + 1 == self.columns.len();
            if c.numeric {
                line.push_str(&format!("{v:>w$}"));
            } else if last {
                line.push_str(v);
            } else {
                line.push_str(&format!("{v:<w$}"));
            }
        }
        line.push('\n');
        self.out.write_all(line.as_bytes()).map_err(write_failed)
    }
}

impl<W: Write> Sink for TextSink<W> {
    fn header(&mut self, columns: &[Column]) -> Result<(), AppError> {
        self.columns = columns.to_vec();
        let names: Vec<String> = columns.iter().map(|c| c.name.to_string()).collect();
        self.line(&names)
    }

    fn row(&mut self, cells: &[Cell]) -> Result<(), AppError> {
        let values: Vec<String> = cells
            .iter()
            .map(|c| match c {
                Cell::Hours(None) => "-".to_string(),
                other => other.to_string(),
            })
            .collect();
        self.line(&values)
    }

    fn finish(&mut self) -> Result<(), AppError> {
        self.out.flush().map_err(write_failed)
    }

    fn flush_rows(&mut self) -> Result<(), AppError> {
        self.out.flush().map_err(write_failed)
    }
}

/// Keeps the rows (for screens and charts; report tables are small).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

impl Sink for Table {
    fn header(&mut self, columns: &[Column]) -> Result<(), AppError> {
        self.columns = columns.to_vec();
        Ok(())
    }

    fn row(&mut self, cells: &[Cell]) -> Result<(), AppError> {
        self.rows.push(cells.to_vec());
        Ok(())
    }
}

/// The facility's time zone and its local date now.
pub async fn facility_today(tx: &mut TenantTx<'_>) -> Result<(String, NaiveDate), DbError> {
    Ok(sqlx::query_as(
        "SELECT f.time_zone, (now() AT TIME ZONE f.time_zone)::date \
         FROM facilities f WHERE f.id = $1",
    )
    .bind(tx.facility().0)
    .fetch_one(tx.conn())
    .await?)
}

/// The range's first and last instant (exclusive) in the facility's time zone.
pub async fn bounds(
    tx: &mut TenantTx<'_>,
    range: Range,
) -> Result<(DateTime<Utc>, DateTime<Utc>), DbError> {
    Ok(sqlx::query_as(BOUNDS_SQL)
        .bind(tx.facility().0)
        .bind(range.from)
        .bind(range.to)
        .fetch_one(tx.conn())
        .await?)
}

/// Streams rows of one query shape into the sink.
macro_rules! stream_rows {
    ($tx:expr, $report:expr, $range:expr, $bounds:expr, $sink:expr, $stream:expr, $ty:ty, $map:expr) => {{
        let facility = $tx.facility().0;
        let mut rows = sqlx::query_as::<_, $ty>($report.sql())
            .bind(facility)
            .bind($range.from)
            .bind($range.to)
            .bind($bounds.0)
            .bind($bounds.1)
            .fetch($tx.conn());
        let mut n = 0u64;
        let map = $map;
        while let Some(row) = rows.try_next().await? {
            $sink.row(&map(row))?;
            n += 1;
            if let Some(s) = $stream.as_mut() {
                s.pump($sink, false).await?;
            }
        }
        n
    }};
}

/// Runs one report in the caller's transaction, writing the header and then each row as the
/// query yields it. Returns the number of rows written. No permission check: callers
/// decide (see [`export`]).
pub async fn run<S: Sink + ?Sized>(
    tx: &mut TenantTx<'_>,
    report: Report,
    range: Range,
    sink: &mut S,
) -> Result<u64, AppError> {
    run_streamed(tx, report, range, sink, None).await
}

/// [`run`], sending full chunks of the output into `stream` as rows arrive (the rest stays
/// in the sink's buffer for the caller to send once the transaction committed).
pub async fn run_streamed<S: Sink + ?Sized>(
    tx: &mut TenantTx<'_>,
    report: Report,
    range: Range,
    sink: &mut S,
    mut stream: Option<&mut Stream>,
) -> Result<u64, AppError> {
    let bounds = bounds(tx, range).await?;
    sink.header(report.columns())?;
    let n = match report {
        Report::Daily => stream_rows!(
            tx,
            report,
            range,
            bounds,
            sink,
            stream,
            (NaiveDate, i64, i64),
            |(d, r, u)| { [Cell::Date(d), Cell::Count(r), Cell::Count(u)] }
        ),
        Report::Aging => {
            // Only $1 is used; the others are bound for a uniform call and ignored.
            stream_rows!(
                tx,
                report,
                range,
                bounds,
                sink,
                stream,
                (String, i64),
                |(a, n)| [Cell::Text(a), Cell::Count(n)]
            )
        }
        Report::Carriers => {
            stream_rows!(
                tx,
                report,
                range,
                bounds,
                sink,
                stream,
                (String, i64),
                |(c, n)| [Cell::Text(c), Cell::Count(n)]
            )
        }
        Report::PickupTime => match pickup_time_fast(tx, bounds.0, bounds.1).await? {
            Some((n, m, p)) => {
                sink.row(&[Cell::Count(n), Cell::Hours(m), Cell::Hours(p)])?;
                1
            }
            // The exact statement: one sort of every wait in the range.
            None => stream_rows!(
                tx,
                report,
                range,
                bounds,
                sink,
                stream,
                (i64, Option<f64>, Option<f64>),
                |(n, m, p)| [Cell::Count(n), Cell::Hours(m), Cell::Hours(p)]
            ),
        },
        Report::Staff => stream_rows!(
            tx,
            report,
            range,
            bounds,
            sink,
            stream,
            (String, i64, i64),
            |(l, r, h)| { [Cell::Text(l), Cell::Count(r), Cell::Count(h)] }
        ),
    };
    sink.finish()?;
    Ok(n)
}

/// What an export covered (for the caller's messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub report: Report,
    pub range: Range,
    pub time_zone: String,
    pub rows: u64,
}

/// A report run by a member: admins only, the range resolved in the facility's time zone,
/// the rows streamed into `sink`, and the run recorded in the audit log (`report.NAME`) in
/// the same transaction.
pub async fn export<S: Sink + ?Sized>(
    db: &Db,
    p: &Principal,
    report: Report,
    from: Option<&str>,
    to: Option<&str>,
    format: &str,
    sink: &mut S,
) -> Result<Summary, AppError> {
    export_streamed(db, p, report, from, to, format, sink, None).await
}

/// [`export`] with the output streamed: full chunks go out while the query runs, the last
/// one once the audit row committed (so a report that fits one chunk, which is almost all
/// of them, is sent only after its audit row is in). When something fails after output went
/// out, the run is still audited, in a transaction of its own, with the error.
#[allow(clippy::too_many_arguments)]
pub async fn export_streamed<S: Sink + ?Sized>(
    db: &Db,
    p: &Principal,
    report: Report,
    from: Option<&str>,
    to: Option<&str>,
    format: &str,
    sink: &mut S,
    mut stream: Option<&mut Stream>,
) -> Result<Summary, AppError> {
    if !p.may_administer() {
        return Err(AppError::PermissionDenied);
    }
    let mut tx = db.tenant(p).await?;
    let (time_zone, today) = facility_today(&mut tx).await?;
    let range = resolve_range(from, to, today)?;
    let detail = |rows: Option<u64>, error: Option<String>, sent: u64| {
        let mut d = if report.uses_range() {
            json!({ "from": range.from, "to": range.to, "time_zone": time_zone,
                    "format": format, "rows": rows })
        } else {
            json!({ "format": format, "rows": rows })
        };
        if let Some(e) = error {
            d["error"] = json!(e);
            d["bytes_sent"] = json!(sent);
        }
        d
    };
    let res: Result<u64, AppError> = async {
        sqlx::query(SETTINGS_SQL).execute(tx.conn()).await?;
        let rows = run_streamed(&mut tx, report, range, sink, stream.as_deref_mut()).await?;
        audit::record(
            &mut tx,
            &format!("report.{}", report.name()),
            report.name(),
            detail(Some(rows), None, 0),
        )
        .await?;
        tx.commit().await?;
        Ok(rows)
    }
    .await;
    let sent = stream.as_ref().map_or(0, |s| s.sent);
    let rows = match res {
        Ok(rows) => rows,
        Err(e) if sent > 0 => {
            // Part of the report is out: that is an export too.
            let mut tx = db.tenant(p).await?;
            audit::record(
                &mut tx,
                &format!("report.{}", report.name()),
                report.name(),
                detail(None, Some(e.to_string()), sent),
            )
            .await?;
            tx.commit().await?;
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    if let Some(s) = stream {
        s.pump(sink, true).await?;
    }
    Ok(Summary {
        report,
        range,
        time_zone,
        rows,
    })
}

/// The report screens' data: the same statements as `reports NAME`, for a range of
/// `span` local days ending `ends_ago` days before the facility's today.
#[derive(Debug, Clone, PartialEq)]
pub struct Overview {
    pub range: Range,
    pub time_zone: String,
    /// Reports shown, in tab order, each with its table. Admins (in their own session) get
    /// all five; everyone else the daily log and aging.
    pub tables: Vec<(Report, Table)>,
}

impl Overview {
    pub fn table(&self, report: Report) -> Option<&Table> {
        self.tables
            .iter()
            .find(|(r, _)| *r == report)
            .map(|(_, t)| t)
    }
}

/// The reports a member sees on screen: admins all of them, others (and anyone at a kiosk,
/// which never shows admin views) the daily log and aging.
pub fn on_screen_for(p: &Principal) -> &'static [Report] {
    const COMPACT: [Report; 2] = [Report::Daily, Report::Aging];
    if p.may_administer() {
        &Report::ALL
    } else {
        &COMPACT
    }
}

/// Runs the screen's reports in one read-only transaction. Viewing is not an export: it
/// writes no audit row (exports through `reports … --csv` stay admin-only and audited).
pub async fn overview(
    db: &Db,
    p: &Principal,
    span: i64,
    ends_ago: i64,
) -> Result<Overview, AppError> {
    if !(1..=MAX_DAYS).contains(&span) || !(0..=MAX_DAYS).contains(&ends_ago) {
        return Err(AppError::Invalid(format!(
            "a report range is 1 to {MAX_DAYS} days"
        )));
    }
    let mut tx = db.tenant(p).await?;
    let (time_zone, today) = facility_today(&mut tx).await?;
    let to = today - chrono::Duration::days(ends_ago);
    let range = Range {
        from: to - chrono::Duration::days(span - 1),
        to,
    };
    sqlx::query(SETTINGS_SQL).execute(tx.conn()).await?;
    let mut tables = Vec::new();
    for report in on_screen_for(p) {
        let mut t = Table::default();
        run(&mut tx, *report, range, &mut t).await?;
        tables.push((*report, t));
    }
    tx.commit().await?;
    Ok(Overview {
        range,
        time_zone,
        tables,
    })
}

/// Packages received per local day over the last `days` days, oldest first (the
/// dashboard's sparkline): the daily log's statement.
pub async fn received_trend(db: &Db, p: &Principal, days: i64) -> Result<Vec<u64>, AppError> {
    let mut tx = db.tenant(p).await?;
    let (_, today) = facility_today(&mut tx).await?;
    let range = Range {
        from: today - chrono::Duration::days(days.clamp(1, MAX_DAYS) - 1),
        to: today,
    };
    let mut t = Table::default();
    run(&mut tx, Report::Daily, range, &mut t).await?;
    tx.commit().await?;
    Ok(t.rows
        .iter()
        .map(|r| {
            r.get(1)
                .and_then(Cell::count)
                .map_or(0, |n| n.max(0).unsigned_abs())
        })
        .collect())
}

#[cfg(test)]
mod tests;
