//! Guesses at short secrets that are not logins: kiosk PINs, pickup codes typed at a kiosk
//! or by a logged-in user. Counted per device or per user in `guess_failures` (a tenant
//! table), never under an SSH login name or a peer address, and forgotten once no window
//! counts them any more.

use super::TenantTx;
use crate::error::DbError;

/// Wrong pickup codes `user_id` typed in this facility within the lockout window.
pub async fn user_code_failures(tx: &mut TenantTx<'_>, user_id: i64) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM guess_failures \
         WHERE facility_id = $1 AND user_id = $2 AND kind = 'user_code' \
           AND at > now() - make_interval(secs => $3)",
    )
    .bind(tx.facility().0)
    .bind(user_id)
    .bind(crate::config::LOCKOUT_WINDOW.as_secs_f64())
    .fetch_one(tx.conn())
    .await?)
}

/// Records a wrong pickup code typed by `user_id`.
pub async fn record_user_code_failure(tx: &mut TenantTx<'_>, user_id: i64) -> Result<(), DbError> {
    prune(tx).await?;
    sqlx::query(
        "INSERT INTO guess_failures (facility_id, kind, user_id) VALUES ($1, 'user_code', $2)",
    )
    .bind(tx.facility().0)
    .bind(user_id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Guesses older than every window that counts them are of no use: removed, so the table
/// stays small.
pub async fn prune(tx: &mut TenantTx<'_>) -> Result<(), DbError> {
    let window = crate::config::LOCKOUT_WINDOW.max(super::kiosk::CODE_WINDOW);
    sqlx::query(
        "DELETE FROM guess_failures WHERE facility_id = $1 \
           AND at < now() - make_interval(secs => $2)",
    )
    .bind(tx.facility().0)
    .bind(window.as_secs_f64())
    .execute(tx.conn())
    .await?;
    Ok(())
}
