//! Where a credential is valid. The host's admin CLI sets the person's credentials, valid in
//! every facility they belong to (now and later); a facility's admin console sets keys and
//! kiosk PINs valid in that facility only (migration 0011), so an admin of one facility
//! never gives anyone a way into another.

use serde_json::{Value, json};
use sqlx::PgConnection;

use crate::domain::FacilityId;
use crate::error::DbError;

/// The PIN hash that unlocks `login` at a kiosk of `facility`: the one set for that
/// membership in the console, else the person's own (`admin user set-pin`), else `None`.
pub async fn kiosk_pin_hash(
    db: &super::Db,
    login: &str,
    facility: FacilityId,
) -> Result<Option<String>, DbError> {
    let mut work = db.work().await?;
    let hash = sqlx::query_scalar("SELECT kiosk_pin_hash($1, $2)")
        .bind(login)
        .bind(facility.0)
        .fetch_one(&mut *work)
        .await?;
    work.done().await?;
    Ok(hash)
}

/// What can log in as `user_id` in any facility they join: their active all-facilities keys
/// (fingerprint and algorithm) and whether a password, TOTP and kiosk PIN are set. Never a
/// secret, a hash or a whole key. For the audit row of a new membership (owner role).
pub(crate) async fn global_credentials(
    conn: &mut PgConnection,
    user_id: i64,
) -> Result<Value, DbError> {
    let keys: Vec<(String, String)> = sqlx::query_as(
        "SELECT fingerprint, algorithm FROM ssh_keys \
         WHERE user_id = $1 AND scope_facility_id IS NULL AND disabled_at IS NULL \
         ORDER BY created_at, id",
    )
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?;
    let (password, totp, pin): (bool, bool, bool) = sqlx::query_as(
        "SELECT password_hash IS NOT NULL, totp_secret IS NOT NULL, pin_hash IS NOT NULL \
         FROM users WHERE id = $1",
    )
    .bind(user_id)
    .fetch_one(&mut *conn)
    .await?;
    let keys: Vec<Value> = keys
        .into_iter()
        .map(|(fingerprint, algorithm)| json!({ "fingerprint": fingerprint, "algorithm": algorithm }))
        .collect();
    Ok(json!({
        "keys": keys,
        "password_set": password,
        "totp_enrolled": totp,
        "pin_set": pin,
    }))
}
