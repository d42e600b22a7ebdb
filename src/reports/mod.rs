//! Reports over a facility's packages: daily log, aging, carrier volume, time to pickup,
//! per-staff activity, and the parcels themselves (received or picked up in the range).
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
//!
//! Here: [`Report`] and its columns; `queries` (SQL), `range` (dates), `sink` (output forms),
//! `run` (streaming, export, overview), `day` (the Reports screen's list of a day's parcels,
//! a page at a time, and the audited request for its CSV).

use std::fmt;
use std::io::Write;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use futures_util::TryStreamExt;
use serde_json::json;

use crate::db::{Db, TenantTx, audit};
use crate::domain::Principal;
use crate::error::{AppError, DbError};

mod day;
mod queries;
mod range;
mod run;
mod sink;
pub use day::*;
pub use queries::*;
pub use range::*;
pub use run::*;
pub use sink::*;

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
    /// One row per package received or picked up in the range (the day's parcels): times,
    /// tracking, recipient, status, who collected it. Not a summary, so not in [`Report::ALL`].
    Parcels,
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
    /// The summary reports: a few rows each, shown as charts on the Reports screen.
    pub const ALL: [Report; 5] = [
        Report::Daily,
        Report::Aging,
        Report::Carriers,
        Report::PickupTime,
        Report::Staff,
    ];

    /// Every report `reports NAME` runs: the summaries and the parcel list.
    pub const NAMED: [Report; 6] = [
        Report::Daily,
        Report::Aging,
        Report::Carriers,
        Report::PickupTime,
        Report::Staff,
        Report::Parcels,
    ];

    /// The name in commands (`reports NAME`) and in the audit action (`report.NAME`).
    pub fn name(self) -> &'static str {
        match self {
            Report::Daily => "daily",
            Report::Aging => "aging",
            Report::Carriers => "carriers",
            Report::PickupTime => "pickup-time",
            Report::Staff => "staff",
            Report::Parcels => "parcels",
        }
    }

    pub fn parse(name: &str) -> Option<Report> {
        Report::NAMED.into_iter().find(|r| r.name() == name)
    }

    pub fn title(self) -> &'static str {
        match self {
            Report::Daily => "Daily log",
            Report::Aging => "Aging of waiting packages",
            Report::Carriers => "Carrier volume",
            Report::PickupTime => "Time to pickup",
            Report::Staff => "Staff activity",
            Report::Parcels => "Parcels",
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
        // Times are local to the facility, like the range; names are the recipient's and
        // the collector's (no contact data, no pickup code: a code is a bearer secret).
        const PARCELS: [Column; 12] = [
            text("received_at", 16),
            text("tracking", 22),
            text("carrier", 9),
            text("recipient", 24),
            text("unit", 8),
            text("status", 9),
            text("location", 10),
            text("picked_up_at", 16),
            text("collected_by", 20),
            text("proxy", 5),
            text("received_by", 12),
            text("handed_over_by", 14),
        ];
        match self {
            Report::Daily => &DAILY,
            Report::Aging => &AGING,
            Report::Carriers => &CARRIERS,
            Report::PickupTime => &PICKUP_TIME,
            Report::Staff => &STAFF,
            Report::Parcels => &PARCELS,
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
            Report::Parcels => PARCELS_SQL,
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests;
