//! Recipients of one facility.

use serde::Serialize;

use super::TenantTx;
use crate::error::{AppError, DbError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Recipient {
    pub id: i64,
    pub name: String,
    pub unit: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub aliases: Vec<String>,
    pub active: bool,
}

/// A validated recipient as written by the CSV import or the admin console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRecipient {
    pub name: String,
    pub unit: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub aliases: Vec<String>,
}

/// What an upsert did to the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    Added,
    Updated,
    Unchanged,
}

macro_rules! columns {
    () => {
        "id, name, unit, email, phone, aliases, active"
    };
}

pub async fn get(tx: &mut TenantTx<'_>, id: i64) -> Result<Recipient, AppError> {
    // RLS hides other facilities' rows, so their ids answer exactly like missing ones.
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM recipients WHERE facility_id = $1 AND id = $2"
    ))
    .bind(tx.facility().0)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(AppError::NotFound)
}

/// All recipients of the facility (for the in-memory search index), active ones first.
pub async fn all(tx: &mut TenantTx<'_>) -> Result<Vec<Recipient>, DbError> {
    Ok(sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM recipients WHERE facility_id = $1 ORDER BY NOT active, name, id"
    ))
    .bind(tx.facility().0)
    .fetch_all(tx.conn())
    .await?)
}

/// Inserts a recipient or updates the one with the same name and unit (case-insensitive);
/// re-running an import therefore changes nothing.
pub async fn upsert(tx: &mut TenantTx<'_>, r: &NewRecipient) -> Result<Upserted, DbError> {
    let row: Option<(bool,)> = sqlx::query_as(
        "INSERT INTO recipients AS r (facility_id, name, unit, email, phone, aliases) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (facility_id, lower(name), lower(unit)) DO UPDATE \
            SET email = EXCLUDED.email, phone = EXCLUDED.phone, aliases = EXCLUDED.aliases, \
                active = true, updated_at = now() \
            WHERE (r.email, r.phone, r.aliases, r.active) \
                  IS DISTINCT FROM (EXCLUDED.email, EXCLUDED.phone, EXCLUDED.aliases, true) \
         RETURNING (xmax = 0)",
    )
    .bind(tx.facility().0)
    .bind(&r.name)
    .bind(&r.unit)
    .bind(&r.email)
    .bind(&r.phone)
    .bind(&r.aliases)
    .fetch_optional(tx.conn())
    .await?;
    Ok(match row {
        Some((true,)) => Upserted::Added,
        Some((false,)) => Upserted::Updated,
        None => Upserted::Unchanged,
    })
}

pub async fn count(tx: &mut TenantTx<'_>) -> Result<i64, DbError> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM recipients WHERE facility_id = $1")
            .bind(tx.facility().0)
            .fetch_one(tx.conn())
            .await?,
    )
}
