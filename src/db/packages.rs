//! Packages and their custody events.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use super::TenantTx;
use crate::error::{AppError, DbError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Package {
    pub id: i64,
    pub tracking: String,
    pub carrier: Option<String>,
    pub recipient_id: Option<i64>,
    pub recipient_name: Option<String>,
    pub status: String,
    pub location: String,
    pub pickup_code: Option<String>,
    pub received_at: DateTime<Utc>,
    pub picked_up_at: Option<DateTime<Utc>>,
}

/// What intake records for one parcel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewPackage {
    pub tracking: String,
    pub carrier: Option<String>,
    pub recipient_id: Option<i64>,
    pub location: String,
    pub perishable: bool,
    pub oversized: bool,
    pub damaged: bool,
    pub signature_required: bool,
    pub note: String,
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
    p.status, p.location, p.pickup_code, p.received_at, p.picked_up_at \
    FROM packages p LEFT JOIN recipients r \
    ON r.facility_id = p.facility_id AND r.id = p.recipient_id "
    };
}

/// A 6-digit pickup code from the OS RNG.
pub fn random_pickup_code() -> String {
    let n = u32::from_le_bytes(crate::secrets::random_bytes::<4>()) % 1_000_000;
    format!("{n:06}")
}

/// Records a received parcel and its first custody event in the caller's transaction.
///
/// Idempotent per waiting tracking number: two concurrent scans of one number produce one
/// package (the unique index serialises them; the loser finds the winner's row).
pub async fn intake(tx: &mut TenantTx<'_>, new: &NewPackage) -> Result<Intake, AppError> {
    if let Some(rid) = new.recipient_id {
        // Also guards against another facility's recipient id (RLS hides it: not found).
        super::recipients::get(tx, rid).await?;
    }
    let facility = tx.facility().0;
    let actor = tx.actor_id().map(|u| u.0);
    for _ in 0..16 {
        let code = random_pickup_code();
        let inserted: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO packages (facility_id, tracking, carrier, recipient_id, location, \
                 perishable, oversized, damaged, signature_required, pickup_code, note, received_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(facility)
        .bind(&new.tracking)
        .bind(&new.carrier)
        .bind(new.recipient_id)
        .bind(&new.location)
        .bind(new.perishable)
        .bind(new.oversized)
        .bind(new.damaged)
        .bind(new.signature_required)
        .bind(&code)
        .bind(&new.note)
        .bind(actor)
        .fetch_optional(tx.conn())
        .await?;
        if let Some((id,)) = inserted {
            let source = tx.source();
            sqlx::query(
                "INSERT INTO package_events (facility_id, package_id, kind, actor_id, source, \
                     location, detail) VALUES ($1, $2, 'received', $3, $4, $5, $6)",
            )
            .bind(facility)
            .bind(id)
            .bind(actor)
            .bind(source)
            .bind(&new.location)
            .bind(json!({ "carrier": new.carrier, "recipient_id": new.recipient_id }))
            .execute(tx.conn())
            .await?;
            return Ok(Intake {
                package: get(tx, id).await?,
                created: true,
            });
        }
        // Either the tracking number is already waiting (return it) or the random code
        // collided with a waiting package's code (draw again).
        if let Some(existing) = find_waiting(tx, &new.tracking).await? {
            return Ok(Intake {
                package: existing,
                created: false,
            });
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

/// Packages of the facility, newest first, optionally by status.
pub async fn list(
    tx: &mut TenantTx<'_>,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<Package>, DbError> {
    Ok(sqlx::query_as(concat!(
        select_packages!(),
        "WHERE p.facility_id = $1 AND ($2::text IS NULL OR p.status = $2) \
         ORDER BY p.received_at DESC, p.id DESC LIMIT $3"
    ))
    .bind(tx.facility().0)
    .bind(status)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}
