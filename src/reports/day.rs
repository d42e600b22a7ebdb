//! One day's parcels for the Reports screen: a page of rows and the day's totals from one
//! statement, and the audited request for the day's CSV.
//!
//! The list is the parcels report (`reports parcels`) for one local day: the same rows in
//! the same order (`queries::DAY_PAGE_SQL` and `PARCELS_SQL` share their conditions), so
//! what the screen shows is what its CSV holds. A page is [`DAY_PAGE`] rows: a busy day is
//! never loaded whole, and the totals still count all of it.

use super::*;

/// Rows one request loads. A screen shows about twenty, so a page lasts for seven screens
/// of scrolling; a day of 2,000 parcels takes ten pages.
pub const DAY_PAGE: i64 = 200;

/// One parcel of the day, for the screen (times are instants; the screen shows them in the
/// facility's time zone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParcelRow {
    pub id: i64,
    pub tracking: String,
    pub carrier: Option<String>,
    /// `None`: unmatched.
    pub recipient: Option<String>,
    pub unit: Option<String>,
    pub status: String,
    pub location: String,
    pub received_at: DateTime<Utc>,
    pub picked_up_at: Option<DateTime<Utc>>,
    /// The name the collector gave.
    pub collected_by: Option<String>,
    /// Someone other than the recipient collected it.
    pub proxy: bool,
    /// Staff logins.
    pub received_by: Option<String>,
    pub handed_over_by: Option<String>,
}

/// The day's counts, over all its rows (not only the page).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayTotals {
    /// Parcels listed: received that day, or picked up that day.
    pub listed: i64,
    /// Received that day (the daily log's `received`).
    pub received: i64,
    /// Picked up that day (the daily log's `picked_up`).
    pub picked_up: i64,
    /// Received that day and waiting still.
    pub waiting: i64,
}

/// A page of a day's parcels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayPage {
    pub day: NaiveDate,
    /// The facility's today when the page was read (the screen does not step past it).
    pub today: NaiveDate,
    pub time_zone: String,
    pub totals: DayTotals,
    /// Position of the first row in the day's list.
    pub offset: i64,
    pub rows: Vec<ParcelRow>,
}

/// The statement's row: the totals, and a parcel unless the page is empty.
#[derive(sqlx::FromRow)]
struct PageRow {
    listed: i64,
    received: i64,
    picked_up: i64,
    waiting: i64,
    id: Option<i64>,
    tracking: Option<String>,
    carrier: Option<String>,
    recipient_name: Option<String>,
    recipient_unit: Option<String>,
    status: Option<String>,
    location: Option<String>,
    received_at: Option<DateTime<Utc>>,
    picked_up_at: Option<DateTime<Utc>>,
    picked_up_name: Option<String>,
    proxy: Option<bool>,
    received_by: Option<String>,
    handed_over_by: Option<String>,
}

impl PageRow {
    fn parcel(self) -> Option<ParcelRow> {
        Some(ParcelRow {
            id: self.id?,
            tracking: self.tracking?,
            carrier: self.carrier,
            recipient: self.recipient_name,
            unit: self.recipient_unit,
            status: self.status?,
            location: self.location.unwrap_or_default(),
            received_at: self.received_at?,
            picked_up_at: self.picked_up_at,
            collected_by: self.picked_up_name,
            proxy: self.proxy.unwrap_or(false),
            received_by: self.received_by,
            handed_over_by: self.handed_over_by,
        })
    }
}

/// Who sees a day's parcels: whoever sees the daily log on the Reports screen (every role
/// today; the list shows what the package list already shows them: names and units, no
/// contact data, no pickup codes).
pub fn may_list_day(p: &Principal) -> bool {
    on_screen_for(p).contains(&Report::Daily)
}

/// A day as far back (or ahead) as a report reaches.
fn check_day(day: NaiveDate, today: NaiveDate) -> Result<(), AppError> {
    if (today - day).num_days().abs() > MAX_DAYS {
        return Err(AppError::Invalid(format!(
            "{day} is more than {MAX_DAYS} days from today"
        )));
    }
    Ok(())
}

async fn fetch(
    tx: &mut TenantTx<'_>,
    day: NaiveDate,
    bounds: (DateTime<Utc>, DateTime<Utc>),
    limit: i64,
    offset: i64,
) -> Result<(DayTotals, Vec<ParcelRow>), DbError> {
    let rows: Vec<PageRow> = sqlx::query_as(DAY_PAGE_SQL)
        .bind(tx.facility().0)
        .bind(day)
        .bind(day)
        .bind(bounds.0)
        .bind(bounds.1)
        .bind(limit)
        .bind(offset)
        .fetch_all(tx.conn())
        .await?;
    let totals = rows.first().map_or(DayTotals::default(), |r| DayTotals {
        listed: r.listed,
        received: r.received,
        picked_up: r.picked_up,
        waiting: r.waiting,
    });
    Ok((
        totals,
        rows.into_iter().filter_map(PageRow::parcel).collect(),
    ))
}

/// The parcels of `day` (`None`: the facility's today) from position `offset`, at most
/// [`DAY_PAGE`] of them, with the day's totals. An offset past the end (the day shrank: a
/// parcel was deleted) gives the last page instead.
pub async fn day_page(
    db: &Db,
    p: &Principal,
    day: Option<NaiveDate>,
    offset: i64,
) -> Result<DayPage, AppError> {
    if !may_list_day(p) {
        return Err(AppError::PermissionDenied);
    }
    let mut tx = db.tenant(p).await?;
    let (time_zone, today) = facility_today(&mut tx).await?;
    let day = day.unwrap_or(today);
    check_day(day, today)?;
    sqlx::query(SETTINGS_SQL).execute(tx.conn()).await?;
    let bounds = bounds(&mut tx, Range { from: day, to: day }).await?;
    let mut offset = offset.max(0);
    let (mut totals, mut rows) = fetch(&mut tx, day, bounds, DAY_PAGE, offset).await?;
    if rows.is_empty() && offset > 0 {
        offset = (totals.listed - 1).max(0) / DAY_PAGE * DAY_PAGE;
        (totals, rows) = fetch(&mut tx, day, bounds, DAY_PAGE, offset).await?;
    }
    tx.commit().await?;
    Ok(DayPage {
        day,
        today,
        time_zone,
        totals,
        offset,
        rows,
    })
}

/// What a CSV request from the screen covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayExport {
    pub day: NaiveDate,
    /// Parcels the day lists now (what the CSV holds if nothing changes).
    pub rows: i64,
}

/// The Reports screen's "export CSV" for a day: admins only, like every export. A terminal
/// session cannot hand a file to the user's computer, so the screen shows the command that
/// downloads it (`reports parcels --day DAY --csv`, audited as `report.parcels` when it
/// runs); the request itself is audited here as `report.export_requested`, with the day,
/// the time zone and the number of rows, never names.
pub async fn request_day_export(
    db: &Db,
    p: &Principal,
    day: NaiveDate,
) -> Result<DayExport, AppError> {
    if !p.may_administer() {
        return Err(AppError::PermissionDenied);
    }
    let mut tx = db.tenant(p).await?;
    let (time_zone, today) = facility_today(&mut tx).await?;
    check_day(day, today)?;
    let bounds = bounds(&mut tx, Range { from: day, to: day }).await?;
    let (totals, _) = fetch(&mut tx, day, bounds, 0, 0).await?;
    audit::record(
        &mut tx,
        "report.export_requested",
        Report::Parcels.name(),
        json!({ "from": day, "to": day, "time_zone": time_zone, "format": "csv",
                "rows": totals.listed, "via": "screen" }),
    )
    .await?;
    tx.commit().await?;
    Ok(DayExport {
        day,
        rows: totals.listed,
    })
}
