//! Packages and their custody events.
//!
//! Here: the package rows, intake, reads, pickup, assignment and changes; `listing` (the
//! package list's query and its capped total), `corrections` (recipient, flags and note of
//! a waiting parcel), `events` (custody events, change notices), `stats` (the dashboard's
//! counts).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use super::TenantTx;
use crate::domain::{AddressedTo, Flags, Location, Note, PickupCode};
use crate::error::{AppError, DbError};

mod bulk;
mod corrections;
mod events;
mod stats;
pub use bulk::*;
pub use corrections::*;
pub use events::*;
pub use stats::*;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Package {
    pub id: i64,
    pub tracking: String,
    pub carrier: Option<String>,
    pub recipient_id: Option<i64>,
    pub recipient_name: Option<String>,
    /// The recipient's unit: tells residents of one name apart at the desk (not a contract
    /// field; rows read back by intake leave it empty).
    #[serde(skip)]
    #[sqlx(default)]
    pub recipient_unit: Option<String>,
    pub status: String,
    pub location: String,
    pub pickup_code: Option<String>,
    /// The name an unmatched parcel was recorded for, as the clerk typed it at intake
    /// (migration 0021; not a contract field). PII: shown on screens, never logged.
    #[serde(skip)]
    #[sqlx(default)]
    pub addressed_to: Option<String>,
    pub received_at: DateTime<Utc>,
    pub picked_up_at: Option<DateTime<Utc>>,
    /// Flags and note, loaded for the detail screen and the pickup list only (not a
    /// contract field).
    #[serde(skip)]
    #[sqlx(skip)]
    pub handling: Option<Handling>,
}

/// What intake records for one parcel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewPackage {
    pub tracking: String,
    pub carrier: Option<String>,
    pub recipient_id: Option<i64>,
    /// What the clerk typed when no recipient matched (only with `recipient_id` `None`).
    pub addressed_to: Option<AddressedTo>,
    pub location: Location,
    pub flags: Flags,
    pub note: Note,
}

/// Result of an intake: the package, and whether this call created it (a re-scan of a
/// waiting tracking number returns the existing package).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intake {
    pub package: Package,
    pub created: bool,
}

/// The package columns of the contract, with the recipient's name.
macro_rules! select_packages {
    () => {
        "SELECT p.id, p.tracking, p.carrier, p.recipient_id, r.name AS recipient_name, \
    r.unit AS recipient_unit, p.status, p.location, p.pickup_code, p.addressed_to, p.received_at, \
    p.picked_up_at \
    FROM packages p LEFT JOIN recipients r \
    ON r.facility_id = p.facility_id AND r.id = p.recipient_id "
    };
}

// After `select_packages!`, which it uses.
mod listing;
pub use listing::*;

/// A pickup code from the OS RNG.
pub fn random_pickup_code() -> PickupCode {
    PickupCode::from_entropy(crate::secrets::random_bytes::<4>())
}

/// Records a received parcel and its first custody event in the caller's transaction.
///
/// Idempotent per waiting tracking number: two concurrent scans of one number produce one
/// package (the unique index serialises them; the loser finds the winner's row).
pub async fn intake(tx: &mut TenantTx<'_>, new: &NewPackage) -> Result<Intake, AppError> {
    let facility = tx.facility().0;
    let actor = tx.actor_id().map(|u| u.0);
    let device = tx.device_id();
    let source = tx.source();
    let slug = tx.slug().to_string();
    let detail = json!({ "carrier": new.carrier, "recipient_id": new.recipient_id });
    for _ in 0..16 {
        let code = random_pickup_code();
        // The package, its first custody event, its notifications (as `outbox::enqueue`
        // queues them) and the row read back, in one round trip.
        // Nothing is inserted for a recipient id this facility does not have (under RLS
        // another facility's recipient does not exist); the composite foreign key backs
        // that up. The transaction stays usable either way.
        let inserted: Option<Package> = sqlx::query_as(concat!(
            "WITH p AS ( \
                 INSERT INTO packages (facility_id, tracking, carrier, recipient_id, location, \
                     perishable, oversized, damaged, signature_required, pickup_code, note, \
                     received_by, addressed_to) \
                 SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
                     CASE WHEN $4::bigint IS NULL THEN $17::text END \
                 WHERE $4::bigint IS NULL OR EXISTS (SELECT 1 FROM recipients \
                     WHERE facility_id = $1 AND id = $4) \
                 ON CONFLICT DO NOTHING \
                 RETURNING id, tracking, carrier, recipient_id, status, location, pickup_code, \
                     addressed_to, received_at, picked_up_at), \
             e AS ( \
                 INSERT INTO package_events (facility_id, package_id, kind, actor_id, \
                     device_id, source, location, detail) \
                 SELECT $1, id, 'received', $12, $13, $14, $5, $15 FROM p), \
             o AS ( \
                 INSERT INTO outbox (facility_id, channel, integration_id, event, package_id, \
                     payload) \
                 SELECT i.facility_id, ",
            crate::outbox_channel!(),
            ", i.id, 'intake', p.id, \
                     jsonb_build_object('event', 'intake', 'facility', $16::text, \
                         'package', jsonb_build_object('id', p.id, 'tracking', p.tracking, \
                             'carrier', p.carrier, 'status', p.status, \
                             'location', p.location, 'pickup_code', p.pickup_code, \
                             'received_at', p.received_at, 'picked_up_at', p.picked_up_at)) \
                     || ",
            crate::outbox_recipient!(),
            " FROM p CROSS JOIN integrations i \
                 LEFT JOIN recipients r ON r.facility_id = i.facility_id \
                     AND r.id = p.recipient_id \
                 WHERE i.facility_id = $1 AND ",
            crate::outbox_wanted!(),
            ") \
             SELECT p.id, p.tracking, p.carrier, p.recipient_id, r.name AS recipient_name, \
                 p.status, p.location, p.pickup_code, p.addressed_to, p.received_at, \
                 p.picked_up_at \
             FROM p LEFT JOIN recipients r ON r.facility_id = $1 AND r.id = p.recipient_id"
        ))
        .bind(facility)
        .bind(&new.tracking)
        .bind(&new.carrier)
        .bind(new.recipient_id)
        .bind(new.location.as_str())
        .bind(new.flags.perishable)
        .bind(new.flags.oversized)
        .bind(new.flags.damaged)
        .bind(new.flags.signature_required)
        .bind(code.as_str())
        .bind(new.note.as_str())
        .bind(actor)
        .bind(device)
        .bind(&source)
        .bind(&detail)
        .bind(&slug)
        .bind(new.addressed_to.as_ref().map(AddressedTo::as_str))
        .fetch_optional(tx.conn())
        .await?;
        if let Some(package) = inserted {
            notify(tx, "intake", &[package.id]).await?;
            return Ok(Intake {
                package,
                created: true,
            });
        }
        // The tracking number is already waiting (return it), the recipient is unknown,
        // or the random code collided with a waiting package's code (draw again).
        if let Some(existing) = find_waiting(tx, &new.tracking).await? {
            return Ok(Intake {
                package: existing,
                created: false,
            });
        }
        if let Some(rid) = new.recipient_id {
            super::recipients::get(tx, rid).await?;
        }
    }
    Err(AppError::Conflict(
        "could not allocate a unique pickup code; too many packages waiting".into(),
    ))
}

pub async fn get(tx: &mut TenantTx<'_>, id: i64) -> Result<Package, AppError> {
    sqlx::query_as(concat!(
        select_packages!(),
        "WHERE p.facility_id = $1 AND p.id = $2"
    ))
    .bind(tx.facility().0)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(AppError::NotFound)
}

pub async fn find_waiting(
    tx: &mut TenantTx<'_>,
    tracking: &str,
) -> Result<Option<Package>, DbError> {
    Ok(sqlx::query_as(concat!(
        select_packages!(),
        "WHERE p.facility_id = $1 AND p.tracking = $2 AND p.status = 'waiting'"
    ))
    .bind(tx.facility().0)
    .bind(tracking)
    .fetch_optional(tx.conn())
    .await?)
}

/// The waiting package with this pickup code.
pub async fn find_by_code(
    tx: &mut TenantTx<'_>,
    code: &PickupCode,
) -> Result<Option<Package>, DbError> {
    Ok(sqlx::query_as(concat!(
        select_packages!(),
        "WHERE p.facility_id = $1 AND p.pickup_code = $2 AND p.status = 'waiting'"
    ))
    .bind(tx.facility().0)
    .bind(code.as_str())
    .fetch_optional(tx.conn())
    .await?)
}

/// Whether `code` belonged to a package picked up within `window`: a second counter
/// typing the code of a parcel just handed over is no guess (index `packages_picked_up_range`).
pub async fn code_recently_picked_up(
    tx: &mut TenantTx<'_>,
    code: &PickupCode,
    window: std::time::Duration,
) -> Result<bool, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM packages \
           WHERE facility_id = $1 AND picked_up_at > now() - make_interval(secs => $3) \
             AND pickup_code = $2)",
    )
    .bind(tx.facility().0)
    .bind(code.as_str())
    .bind(window.as_secs_f64())
    .fetch_one(tx.conn())
    .await?)
}

/// Waiting packages of one recipient, oldest first.
pub async fn waiting_for(
    tx: &mut TenantTx<'_>,
    recipient_id: i64,
) -> Result<Vec<Package>, DbError> {
    Ok(sqlx::query_as(concat!(
        select_packages!(),
        "WHERE p.facility_id = $1 AND p.recipient_id = $2 AND p.status = 'waiting' \
         ORDER BY p.received_at, p.id"
    ))
    .bind(tx.facility().0)
    .bind(recipient_id)
    .fetch_all(tx.conn())
    .await?)
}

/// Loads the flags and note of every listed package in one round trip (the pickup list
/// shows them: a damaged or perishable parcel is handed over knowingly).
pub async fn with_handling(tx: &mut TenantTx<'_>, list: &mut [Package]) -> Result<(), DbError> {
    let ids: Vec<i64> = list.iter().map(|p| p.id).collect();
    let rows: Vec<(i64, bool, bool, bool, bool, String)> = sqlx::query_as(
        "SELECT id, perishable, oversized, damaged, signature_required, note FROM packages \
         WHERE facility_id = $1 AND id = ANY($2)",
    )
    .bind(tx.facility().0)
    .bind(&ids)
    .fetch_all(tx.conn())
    .await?;
    for (id, perishable, oversized, damaged, signature_required, note) in rows {
        if let Some(p) = list.iter_mut().find(|p| p.id == id) {
            p.handling = Some(Handling {
                flags: Flags {
                    perishable,
                    oversized,
                    damaged,
                    signature_required,
                },
                note: Note::stored(note),
            });
        }
    }
    Ok(())
}

/// Who collected the parcels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handover {
    /// The name the receiver gave (and signed with).
    pub receiver: String,
    /// Set when someone other than the recipient collected them.
    pub proxy: bool,
}

/// Marks every listed package picked up, in the caller's transaction: all of them or, on any
/// error (one is not waiting, unknown or another facility's), none.
pub async fn pickup(
    tx: &mut TenantTx<'_>,
    ids: &[i64],
    handover: &Handover,
) -> Result<Vec<Package>, AppError> {
    let receiver = handover.receiver.trim();
    if receiver.is_empty() {
        return Err(AppError::Invalid(
            "the receiver's name is required for a pickup".into(),
        ));
    }
    if ids.is_empty() {
        return Err(AppError::Invalid("no packages selected".into()));
    }
    let facility = tx.facility().0;
    let actor = tx.actor_id().map(|u| u.0);
    // Lock the rows first so two counters cannot hand out the same parcel.
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, status FROM packages WHERE facility_id = $1 AND id = ANY($2) FOR UPDATE",
    )
    .bind(facility)
    .bind(ids)
    .fetch_all(tx.conn())
    .await?;
    for id in ids {
        match rows.iter().find(|(rid, _)| rid == id) {
            None => return Err(AppError::NotFound),
            Some((_, status)) if status != "waiting" => {
                return Err(AppError::Conflict(format!(
                    "package {id} is not waiting (it is {})",
                    status.replace('_', " ")
                )));
            }
            Some(_) => {}
        }
    }
    // Whether a proxy is on the resident's list is decided here, from the stored list, not
    // by the terminal: every parcel's resident must have authorised that name.
    let authorised = handover.proxy && proxy_authorised(tx, ids, receiver).await?;
    sqlx::query(
        "UPDATE packages SET status = 'picked_up', picked_up_at = now(), picked_up_by = $3, \
             picked_up_name = $4, proxy_name = CASE WHEN $5 THEN $4 END \
         WHERE facility_id = $1 AND id = ANY($2)",
    )
    .bind(facility)
    .bind(ids)
    .bind(actor)
    .bind(receiver)
    .bind(handover.proxy)
    .execute(tx.conn())
    .await?;
    record_event(
        tx,
        ids,
        "picked_up",
        None,
        if handover.proxy {
            json!({ "receiver": receiver, "proxy": true, "authorised": authorised })
        } else {
            json!({ "receiver": receiver, "proxy": false })
        },
    )
    .await?;
    notify(tx, "pickup", ids).await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let package = get(tx, *id).await?;
        super::outbox::enqueue(tx, "pickup", &package).await?;
        out.push(package);
    }
    Ok(out)
}

/// Whether `name` is (ignoring case) an authorised proxy of every listed parcel's resident;
/// an unmatched parcel has nobody's authorisation.
async fn proxy_authorised(tx: &mut TenantTx<'_>, ids: &[i64], name: &str) -> Result<bool, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT coalesce(bool_and(EXISTS (SELECT 1 FROM unnest(r.authorised_proxies) n \
                                          WHERE lower(n) = lower($3))), false) \
         FROM packages p LEFT JOIN recipients r \
              ON r.facility_id = p.facility_id AND r.id = p.recipient_id \
         WHERE p.facility_id = $1 AND p.id = ANY($2)",
    )
    .bind(tx.facility().0)
    .bind(ids)
    .bind(name)
    .fetch_one(tx.conn())
    .await?)
}

/// Gives an unmatched waiting package its recipient.
pub async fn assign(
    tx: &mut TenantTx<'_>,
    id: i64,
    recipient_id: i64,
) -> Result<Package, AppError> {
    // Another facility's recipient is not found (RLS), like a missing one.
    super::recipients::get(tx, recipient_id).await?;
    let facility = tx.facility().0;
    let n = sqlx::query(
        "UPDATE packages SET recipient_id = $3 WHERE facility_id = $1 AND id = $2 \
         AND status = 'waiting' AND recipient_id IS NULL",
    )
    .bind(facility)
    .bind(id)
    .bind(recipient_id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if n == 0 {
        get(tx, id).await?; // not found, or:
        return Err(AppError::Conflict(
            "only unmatched waiting packages can be assigned".into(),
        ));
    }
    record_event(
        tx,
        &[id],
        "updated",
        None,
        json!({ "recipient_id": recipient_id, "reason": "matched" }),
    )
    .await?;
    notify(tx, "updated", &[id]).await?;
    get(tx, id).await
}

/// A correction to a waiting package, always with a reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Move { to: Location },
    ReturnToSender,
    Lost,
}

/// Applies a change to a waiting package and records it in the custody chain.
pub async fn change(
    tx: &mut TenantTx<'_>,
    id: i64,
    change: &Change,
    reason: &str,
) -> Result<Package, AppError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::Invalid("a reason is required".into()));
    }
    let facility = tx.facility().0;
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT status, location FROM packages WHERE facility_id = $1 AND id = $2 FOR UPDATE",
    )
    .bind(facility)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    let (status, from) = row.ok_or(AppError::NotFound)?;
    if status != "waiting" {
        return Err(AppError::Conflict(format!(
            "package {id} is {}, not waiting",
            status.replace('_', " ")
        )));
    }
    let (kind, new_status, location, detail) = match change {
        Change::Move { to } => {
            // Checked when built; an empty one is refused here too (the type allows it for
            // intake, a move needs a place).
            if to.as_str().is_empty() {
                return Err(AppError::Invalid(Location::not_a_place().0));
            }
            let to = to.as_str();
            (
                "moved",
                "waiting",
                to.to_string(),
                json!({ "from": from, "to": to, "reason": reason }),
            )
        }
        Change::ReturnToSender => (
            "returned",
            "returned",
            from.clone(),
            json!({ "reason": reason }),
        ),
        Change::Lost => ("lost", "lost", from.clone(), json!({ "reason": reason })),
    };
    sqlx::query(
        "UPDATE packages SET status = $3, location = $4 WHERE facility_id = $1 AND id = $2",
    )
    .bind(facility)
    .bind(id)
    .bind(new_status)
    .bind(&location)
    .execute(tx.conn())
    .await?;
    record_event(tx, &[id], kind, Some(&location), detail).await?;
    notify(tx, kind, &[id]).await?;
    get(tx, id).await
}
