//! Bulk actions on marked parcels (the overdue list): remind their residents, return them to
//! sender. Each batch is one transaction: the rows are locked, every id must be this
//! facility's (one that is not answers "not found" and nothing is touched, so a crafted list
//! with another facility's id learns nothing and changes nothing), parcels no longer waiting
//! are skipped and counted, and one audit entry records the counts (no names).

use super::*;

/// What a bulk action did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BulkOutcome {
    /// Parcels reminded about or returned.
    pub done: u64,
    /// Skipped: picked up, returned or lost since they were marked.
    pub not_waiting: u64,
    /// Skipped by a reminder: no resident to remind (unmatched).
    pub unmatched: u64,
    /// Outbox rows a reminder queued (one per channel the resident wants).
    pub queued: u64,
}

/// Locks the parcels and answers (id, status, recipient) for each; `NotFound` when any id is
/// not this facility's (under RLS another facility's parcel does not exist).
async fn lock(
    tx: &mut TenantTx<'_>,
    ids: &[i64],
) -> Result<Vec<(i64, String, Option<i64>)>, AppError> {
    let mut wanted = ids.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let rows: Vec<(i64, String, Option<i64>)> = sqlx::query_as(
        "SELECT id, status, recipient_id FROM packages \
         WHERE facility_id = $1 AND id = ANY($2) ORDER BY id FOR UPDATE",
    )
    .bind(tx.facility().0)
    .bind(&wanted)
    .fetch_all(tx.conn())
    .await?;
    if rows.len() != wanted.len() {
        return Err(AppError::NotFound);
    }
    Ok(rows)
}

/// Queues the reminder the automatic schedule sends (event `reminder`, email and SMS as the
/// resident wants them) for each marked waiting parcel with a resident, with a `reminded`
/// custody event by the member (the schedule counts it, so the next automatic reminder is
/// the schedule's next step, not a repeat).
pub async fn bulk_remind(tx: &mut TenantTx<'_>, ids: &[i64]) -> Result<BulkOutcome, AppError> {
    let rows = lock(tx, ids).await?;
    let mut out = BulkOutcome::default();
    let mut due = Vec::new();
    for (id, status, recipient) in rows {
        match (status.as_str(), recipient) {
            ("waiting", Some(_)) => due.push(id),
            ("waiting", None) => out.unmatched += 1,
            _ => out.not_waiting += 1,
        }
    }
    let (events, queued): (i64, i64) = sqlx::query_as(concat!(
        "WITH due AS ( \
             SELECT id FROM packages WHERE facility_id = $1 AND id = ANY($2)), \
         events AS ( \
             INSERT INTO package_events (facility_id, package_id, kind, actor_id, device_id, \
                 source, detail) \
             SELECT $1, id, 'reminded', $3, $4, $5, '{\"manual\": true}'::jsonb FROM due \
             RETURNING 1), \
         queued AS ( \
             INSERT INTO outbox (facility_id, channel, integration_id, event, package_id, \
                 payload) \
             SELECT i.facility_id, ",
        crate::outbox_channel!(),
        ", i.id, 'reminder', p.id, \
                 jsonb_build_object('event', 'reminder', 'facility', $6::text, \
                     'package', jsonb_build_object( \
                         'id', p.id, 'tracking', p.tracking, 'carrier', p.carrier, \
                         'status', p.status, 'location', p.location, \
                         'pickup_code', p.pickup_code, 'received_at', p.received_at, \
                         'picked_up_at', p.picked_up_at)) || ",
        crate::outbox_recipient!(),
        " FROM due \
             JOIN packages p ON p.facility_id = $1 AND p.id = due.id \
             JOIN recipients r ON r.facility_id = $1 AND r.id = p.recipient_id \
             JOIN integrations i ON i.facility_id = $1 AND i.enabled \
             WHERE r.active AND ( \
                   (i.kind = 'smtp' AND r.email IS NOT NULL AND r.notify_email) \
                OR (i.kind = 'sms' AND r.phone IS NOT NULL AND r.notify_sms)) \
             RETURNING 1) \
         SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM queued)"
    ))
    .bind(tx.facility().0)
    .bind(&due)
    .bind(tx.actor_id().map(|u| u.0))
    .bind(tx.device_id())
    .bind(tx.source())
    .bind(tx.slug().to_string())
    .fetch_one(tx.conn())
    .await?;
    out.done = u64::try_from(events).unwrap_or(0);
    out.queued = u64::try_from(queued).unwrap_or(0);
    super::super::audit::record(
        tx,
        "packages.bulk_remind",
        "",
        json!({
            "count": out.done,
            "skipped_not_waiting": out.not_waiting,
            "skipped_unmatched": out.unmatched,
            "queued": out.queued,
        }),
    )
    .await?;
    if !due.is_empty() {
        notify(tx, "reminded", &due).await?;
    }
    Ok(out)
}

/// Returns the marked waiting parcels to sender: status `returned`, a `returned` custody
/// event each (who, from where, the shelf it left), parcels no longer waiting skipped.
pub async fn bulk_return(tx: &mut TenantTx<'_>, ids: &[i64]) -> Result<BulkOutcome, AppError> {
    let rows = lock(tx, ids).await?;
    let mut out = BulkOutcome::default();
    let mut due = Vec::new();
    for (id, status, _) in rows {
        if status == "waiting" {
            due.push(id);
        } else {
            out.not_waiting += 1;
        }
    }
    let done = sqlx::query(
        "WITH r AS ( \
             UPDATE packages SET status = 'returned' \
             WHERE facility_id = $1 AND id = ANY($2) AND status = 'waiting' \
             RETURNING id, location) \
         INSERT INTO package_events (facility_id, package_id, kind, actor_id, device_id, \
             source, location, detail) \
         SELECT $1, id, 'returned', $3, $4, $5, location, $6 FROM r",
    )
    .bind(tx.facility().0)
    .bind(&due)
    .bind(tx.actor_id().map(|u| u.0))
    .bind(tx.device_id())
    .bind(tx.source())
    .bind(json!({ "reason": "returned to sender (bulk)", "bulk": true }))
    .execute(tx.conn())
    .await?
    .rows_affected();
    out.done = done;
    super::super::audit::record(
        tx,
        "packages.bulk_return",
        "",
        json!({ "count": out.done, "skipped_not_waiting": out.not_waiting }),
    )
    .await?;
    if !due.is_empty() {
        notify(tx, "returned", &due).await?;
    }
    Ok(out)
}
