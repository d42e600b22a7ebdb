//! The dashboard's counts and recent activity, in one round trip.

use super::*;

/// One line of recent activity: when, who, what, which parcel, for whom.
pub(super) type RecentRow = (
    DateTime<Utc>,
    Option<String>,
    String,
    String,
    Option<String>,
);

/// Counts for the dashboard.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// The facility's setting (`settings.overdue_days`, default 3).
    pub overdue_days: i64,
    /// The facility's time zone (IANA name, `facilities.time_zone`): "today" and every time
    /// the interface shows are in it.
    pub time_zone: String,
    /// Where parcels usually go (`settings.default_location`, default empty): intake starts
    /// there and marks a location carried over from the previous parcel that differs.
    pub default_location: String,
    pub waiting: i64,
    pub received_today: i64,
    pub overdue: i64,
    pub picked_up_today: i64,
    /// The facility's latest custody events, newest first (the interface words them).
    pub recent: Vec<RecentEvent>,
}

/// One of the facility's latest custody events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentEvent {
    pub at: DateTime<Utc>,
    /// The staff login that acted, when there was one.
    pub actor: Option<String>,
    /// The event kind (`received`, `picked_up`, …).
    pub kind: String,
    pub tracking: String,
    pub recipient: Option<String>,
}

/// Dashboard counts, with the facility's settings they depend on. "Today" is the facility's
/// local day (`facilities.time_zone`).
pub async fn stats(tx: &mut TenantTx<'_>) -> Result<Stats, DbError> {
    type Counts = (String, i32, String, i64, i64, i64, i64);
    let (
        time_zone,
        overdue_days,
        default_location,
        waiting,
        received_today,
        overdue,
        picked_up_today,
    ): Counts = sqlx::query_as(
        // Four index range counts (packages_status_received, packages_received_range,
        // packages_picked_up_range): their cost follows what is waiting and what
        // happened today, not the facility's whole history.
        "WITH f AS ( \
                 SELECT time_zone, \
                     CASE WHEN settings->>'overdue_days' ~ '^[0-9]{1,3}$' \
                          THEN least(greatest((settings->>'overdue_days')::int, 1), 365) \
                          ELSE 3 END AS overdue_days, \
                     coalesce(settings->>'default_location', '') AS default_location, \
                     date_trunc('day', now() AT TIME ZONE time_zone) AT TIME ZONE time_zone \
                         AS midnight \
                 FROM facilities WHERE id = $1) \
             SELECT f.time_zone, f.overdue_days, f.default_location, \
                 (SELECT count(*) FROM packages \
                   WHERE facility_id = $1 AND status = 'waiting'), \
                 (SELECT count(*) FROM packages \
                   WHERE facility_id = $1 AND received_at >= f.midnight), \
                 (SELECT count(*) FROM packages \
                   WHERE facility_id = $1 AND status = 'waiting' \
                     AND received_at < now() - make_interval(days => f.overdue_days)), \
                 (SELECT count(*) FROM packages \
                   WHERE facility_id = $1 AND picked_up_at >= f.midnight) \
             FROM f",
    )
    .bind(tx.facility().0)
    .fetch_one(tx.conn())
    .await?;
    let recent: Vec<RecentRow> = sqlx::query_as(
        "SELECT e.at, u.login, e.kind, p.tracking, r.name \
             FROM package_events e \
             JOIN packages p ON p.facility_id = e.facility_id AND p.id = e.package_id \
             LEFT JOIN recipients r ON r.facility_id = p.facility_id AND r.id = p.recipient_id \
             LEFT JOIN users u ON u.id = e.actor_id \
             WHERE e.facility_id = $1 ORDER BY e.at DESC, e.id DESC LIMIT 8",
    )
    .bind(tx.facility().0)
    .fetch_all(tx.conn())
    .await?;
    let recent = recent
        .into_iter()
        .map(|(at, actor, kind, tracking, recipient)| RecentEvent {
            at,
            actor,
            kind,
            tracking,
            recipient,
        })
        .collect();
    Ok(Stats {
        recent,
        time_zone,
        overdue_days: i64::from(overdue_days),
        default_location,
        waiting,
        received_today,
        overdue,
        picked_up_today,
    })
}
