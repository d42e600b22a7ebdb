//! Custody events and the change notices a committing transaction sends (`LISTEN` channel per
//! facility).

use super::*;

/// Appends one custody event per package: who (user and kiosk device), from where, what.
pub(crate) async fn record_event(
    tx: &mut TenantTx<'_>,
    ids: &[i64],
    kind: &str,
    location: Option<&str>,
    detail: serde_json::Value,
) -> Result<(), DbError> {
    let facility = tx.facility().0;
    let actor = tx.actor_id().map(|u| u.0);
    let device = tx.device_id();
    let source = tx.source();
    sqlx::query(
        "INSERT INTO package_events (facility_id, package_id, kind, actor_id, device_id, source, \
             location, detail) \
         SELECT $1, id, $3, $4, $5, $6, $7, $8 FROM unnest($2::bigint[]) AS id",
    )
    .bind(facility)
    .bind(ids)
    .bind(kind)
    .bind(actor)
    .bind(device)
    .bind(source)
    .bind(location)
    .bind(detail)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The LISTEN/NOTIFY channel of one facility. Notifications are sent once the transaction
/// committed, so listeners never see work that rolled back.
pub fn channel(facility: crate::domain::FacilityId) -> String {
    format!("packtrack_f{}", facility.0)
}

/// Tells the facility's other sessions (on any server process) that packages changed.
pub async fn notify(tx: &mut TenantTx<'_>, kind: &str, ids: &[i64]) -> Result<(), DbError> {
    let facility = tx.facility();
    notify_in(tx, &[facility], kind, ids);
    Ok(())
}

/// [`notify`] in each of `facilities` (a person's key or TOTP opens every facility they
/// belong to), after the commit.
pub(crate) fn notify_in(
    tx: &mut TenantTx<'_>,
    facilities: &[crate::domain::FacilityId],
    kind: &str,
    ids: &[i64],
) {
    let payload = json!({ "kind": kind, "ids": ids, "by": tx.actor_label() }).to_string();
    for f in facilities {
        tx.notify_after_commit(channel(*f), payload.clone());
    }
}

/// One custody event, for the package timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Event {
    pub kind: String,
    pub at: DateTime<Utc>,
    pub actor: Option<String>,
    pub source: String,
    pub location: Option<String>,
    pub detail: serde_json::Value,
}

pub async fn events(tx: &mut TenantTx<'_>, package_id: i64) -> Result<Vec<Event>, DbError> {
    Ok(sqlx::query_as(
        "SELECT e.kind, e.at, u.login AS actor, e.source, e.location, e.detail \
         FROM package_events e LEFT JOIN users u ON u.id = e.actor_id \
         WHERE e.facility_id = $1 AND e.package_id = $2 ORDER BY e.at, e.id",
    )
    .bind(tx.facility().0)
    .bind(package_id)
    .fetch_all(tx.conn())
    .await?)
}
