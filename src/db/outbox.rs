//! Queueing notifications in the transactional outbox: intake and pickup add outbox rows in
//! their own transaction, so a notification exists exactly when the change does (delivery is
//! `notify::worker`'s). The SQL pieces are macros because the intake statement queues its
//! notifications in the same round trip as the package.

use serde_json::json;

use super::TenantTx;
use super::packages::Package;
use crate::error::DbError;

// The outbox's SQL pieces, shared by `enqueue` and the intake statement (which queues its
// notifications in the same round trip as the package): `i` is an integration, `r` the
// recipient (NULL for an unmatched parcel).

/// The delivery channel of integration `i`.
#[macro_export]
#[doc(hidden)]
macro_rules! outbox_channel {
    () => {
        "CASE i.kind WHEN 'smtp' THEN 'email' ELSE i.kind END"
    };
}

/// `{"recipient": …}` with what the templates need of recipient `r`.
#[macro_export]
#[doc(hidden)]
macro_rules! outbox_recipient {
    () => {
        "jsonb_build_object('recipient', CASE WHEN r.id IS NULL THEN NULL \
             ELSE jsonb_build_object('id', r.id, 'name', r.name, 'unit', r.unit, \
                  'email', r.email, 'phone', r.phone, \
                  'quiet_start', r.quiet_start, 'quiet_end', r.quiet_end) END)"
    };
}

/// Whether integration `i` sends this notification: webhooks always, email and SMS when
/// the recipient has the address and wants that channel.
#[macro_export]
#[doc(hidden)]
macro_rules! outbox_wanted {
    () => {
        "i.enabled AND (i.kind = 'webhook' \
             OR (i.kind = 'smtp' AND r.email IS NOT NULL AND r.notify_email AND r.active) \
             OR (i.kind = 'sms' AND r.phone IS NOT NULL AND r.notify_sms AND r.active))"
    };
}

/// Queues one notification per matching channel for `event` about `pkg`: email and SMS
/// when the facility has them configured and the recipient wants them, every enabled
/// webhook always. One statement, so intake pays one round trip whatever is configured.
pub async fn enqueue(tx: &mut TenantTx<'_>, event: &str, pkg: &Package) -> Result<u64, DbError> {
    let payload = json!({
        "event": event,
        "facility": tx.slug(),
        "package": {
            "id": pkg.id,
            "tracking": pkg.tracking,
            "carrier": pkg.carrier,
            "status": pkg.status,
            "location": pkg.location,
            "pickup_code": pkg.pickup_code,
            "received_at": pkg.received_at,
            "picked_up_at": pkg.picked_up_at,
        },
    });
    enqueue_to(tx, event, pkg.id, payload, pkg.recipient_id).await
}

/// Tells `recipient`, who was told `pkg` was theirs, that it is not: the notice names the
/// carrier, the tracking number and when it arrived, never where it is or its pickup code
/// (both now belong to someone else).
pub async fn enqueue_disregard(
    tx: &mut TenantTx<'_>,
    pkg: &Package,
    recipient: i64,
) -> Result<u64, DbError> {
    let payload = json!({
        "event": super::packages::DISREGARD,
        "facility": tx.slug(),
        "package": {
            "id": pkg.id,
            "tracking": pkg.tracking,
            "carrier": pkg.carrier,
            "received_at": pkg.received_at,
        },
    });
    enqueue_to(
        tx,
        super::packages::DISREGARD,
        pkg.id,
        payload,
        Some(recipient),
    )
    .await
}

async fn enqueue_to(
    tx: &mut TenantTx<'_>,
    event: &str,
    package: i64,
    payload: serde_json::Value,
    recipient: Option<i64>,
) -> Result<u64, DbError> {
    let n = sqlx::query(concat!(
        "INSERT INTO outbox (facility_id, channel, integration_id, event, package_id, payload) \
         SELECT i.facility_id, ",
        outbox_channel!(),
        ", i.id, $2, $3, $4::jsonb || ",
        outbox_recipient!(),
        " FROM integrations i \
         LEFT JOIN recipients r ON r.facility_id = i.facility_id AND r.id = $5 \
         WHERE i.facility_id = $1 AND ",
        outbox_wanted!()
    ))
    .bind(tx.facility().0)
    .bind(event)
    .bind(package)
    .bind(payload)
    .bind(recipient)
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(n)
}
