//! A resident's authorised proxies (migration 0020): the people they allow to collect their
//! parcels, offered at pickup. Each change locks the resident's row and is audited in the
//! same transaction with the resident's id and the list's new length, never the names
//! (recipient audits store no contact data or names either).

use super::{TenantTx, get_for_update};
use crate::domain::limits::PROXIES_MAX;
use crate::error::AppError;

/// The resident's authorised proxies, in the order they were added. RLS hides other
/// facilities' residents, so their ids answer "not found" like missing ones.
pub async fn list(tx: &mut TenantTx<'_>, id: i64) -> Result<Vec<String>, AppError> {
    sqlx::query_scalar(
        "SELECT authorised_proxies FROM recipients WHERE facility_id = $1 AND id = $2",
    )
    .bind(tx.facility().0)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(AppError::NotFound)
}

/// Adds a validated name (see `ops`) to the resident's list; a name already there (ignoring
/// case) or a full list is refused. Returns the new list.
pub async fn add(tx: &mut TenantTx<'_>, id: i64, name: &str) -> Result<Vec<String>, AppError> {
    get_for_update(tx, id).await?;
    let mut names = list(tx, id).await?;
    if names
        .iter()
        .any(|n| n.to_lowercase() == name.to_lowercase())
    {
        return Err(AppError::Conflict(
            "that name is already an authorised proxy".into(),
        ));
    }
    if names.len() >= PROXIES_MAX {
        return Err(AppError::Invalid(format!(
            "at most {PROXIES_MAX} authorised proxies per resident: remove one first"
        )));
    }
    names.push(name.to_string());
    store(tx, id, &names, "recipient.proxy_add").await?;
    Ok(names)
}

/// Removes a name (ignoring case) from the resident's list. Returns the new list.
pub async fn remove(tx: &mut TenantTx<'_>, id: i64, name: &str) -> Result<Vec<String>, AppError> {
    get_for_update(tx, id).await?;
    let mut names = list(tx, id).await?;
    let before = names.len();
    names.retain(|n| n.to_lowercase() != name.to_lowercase());
    if names.len() == before {
        return Err(AppError::NotFound);
    }
    store(tx, id, &names, "recipient.proxy_remove").await?;
    Ok(names)
}

async fn store(
    tx: &mut TenantTx<'_>,
    id: i64,
    names: &[String],
    action: &str,
) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE recipients SET authorised_proxies = $3, updated_at = now() \
         WHERE facility_id = $1 AND id = $2",
    )
    .bind(tx.facility().0)
    .bind(id)
    .bind(names)
    .execute(tx.conn())
    .await?;
    crate::db::audit::record(
        tx,
        action,
        &format!("recipient:{id}"),
        serde_json::json!({ "proxies": names.len() }),
    )
    .await?;
    Ok(())
}
