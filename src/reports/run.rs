//! Running reports: bounds for a range, streaming rows into a sink, the audited export, and
//! the dashboard's overview and trend.

use super::*;

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
    // Every query shape streams the same way; only the row type and its cells differ.
    macro_rules! rows {
        ($ty:ty, $map:expr) => {
            stream_rows!(tx, report, range, bounds, sink, stream, $ty, $map)
        };
    }
    let n = match report {
        Report::Daily => rows!((NaiveDate, i64, i64), |(d, r, u)| {
            [Cell::Date(d), Cell::Count(r), Cell::Count(u)]
        }),
        // Only $1 is used; the others are bound for a uniform call and ignored.
        Report::Aging => rows!((String, i64), |(a, n)| [Cell::Text(a), Cell::Count(n)]),
        Report::Carriers => rows!((String, i64), |(c, n)| [Cell::Text(c), Cell::Count(n)]),
        Report::PickupTime => match pickup_time_fast(tx, bounds.0, bounds.1).await? {
            Some((n, m, p)) => {
                sink.row(&[Cell::Count(n), Cell::Hours(m), Cell::Hours(p)])?;
                1
            }
            // The exact statement: one sort of every wait in the range.
            None => rows!((i64, Option<f64>, Option<f64>), |(n, m, p)| {
                [Cell::Count(n), Cell::Hours(m), Cell::Hours(p)]
            }),
        },
        Report::Staff => rows!((String, i64, i64), |(l, r, h)| {
            [Cell::Text(l), Cell::Count(r), Cell::Count(h)]
        }),
        Report::Parcels => rows!(ParcelLine, |p: ParcelLine| p.cells()),
    };
    sink.finish()?;
    Ok(n)
}

/// A row of the parcels report as the statement gives it (times already local).
#[derive(sqlx::FromRow)]
struct ParcelLine {
    received_at: NaiveDateTime,
    tracking: String,
    carrier: String,
    recipient: String,
    unit: String,
    status: String,
    location: String,
    picked_up_at: Option<NaiveDateTime>,
    collected_by: String,
    proxy: String,
    received_by: String,
    handed_over_by: String,
}

impl ParcelLine {
    fn cells(self) -> [Cell; 12] {
        [
            Cell::Time(Some(self.received_at)),
            Cell::Text(self.tracking),
            Cell::Text(self.carrier),
            Cell::Text(self.recipient),
            Cell::Text(self.unit),
            Cell::Text(self.status),
            Cell::Text(self.location),
            Cell::Time(self.picked_up_at),
            Cell::Text(self.collected_by),
            Cell::Text(self.proxy),
            Cell::Text(self.received_by),
            Cell::Text(self.handed_over_by),
        ]
    }
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
