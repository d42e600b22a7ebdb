//! SSH keys, TOTP and kiosk PINs of a facility's members, as the facility's admins manage
//! them from the admin console. Users are global, so writes go through SECURITY DEFINER
//! functions (migrations 0008, 0011) that touch only members of the transaction's facility.
//! Keys and PINs added here are valid in this facility only and audited here; TOTP, and
//! revoking a key valid in all facilities, need an admin of all the member's facilities and
//! are audited in each.

use chrono::{DateTime, Utc};

use super::TenantTx;
use crate::domain::KeyInfo;
use crate::error::{AppError, DbError};

/// One SSH key of a member, for the keys tab.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct KeyRow {
    pub id: i64,
    pub user_id: i64,
    pub login: String,
    pub algorithm: String,
    pub fingerprint: String,
    pub comment: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
    /// Valid in every facility of the member (added with the admin CLI); otherwise valid
    /// in this facility only (added in this console).
    pub all_facilities: bool,
}

/// The keys of the facility's members that log in here (all-facilities keys and this
/// facility's own; not those another facility's console added): active ones first, then
/// revoked, by login.
pub async fn list(tx: &mut TenantTx<'_>) -> Result<Vec<KeyRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT k.id, k.user_id, u.login, k.algorithm, k.fingerprint, k.comment, \
                k.created_at, k.last_used_at, k.disabled_at, \
                k.scope_facility_id IS NULL AS all_facilities \
         FROM ssh_keys k JOIN users u ON u.id = k.user_id \
         JOIN memberships m ON m.user_id = u.id AND m.facility_id = $1 \
         WHERE k.scope_facility_id IS NULL OR k.scope_facility_id = $1 \
         ORDER BY k.disabled_at IS NOT NULL, u.login, k.created_at, k.id",
    )
    .bind(tx.facility().0)
    .fetch_all(tx.conn())
    .await?)
}

/// A database error raised by `facility_member_login` (the user is no member here).
fn not_member(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("P0002"))
}

fn member_error(e: sqlx::Error) -> AppError {
    if not_member(&e) {
        return AppError::Invalid("that user is not a member of this facility".into());
    }
    // Raised by `facility_member_login` for a user who also belongs to a facility the admin
    // does not administer: their TOTP and their all-facilities keys work there too.
    if let sqlx::Error::Database(d) = &e
        && d.code().as_deref() == Some("PT403")
    {
        return AppError::Invalid(format!(
            "{}: their TOTP and all-facilities keys are managed by an admin of all their \
             facilities, or with the admin CLI on the server",
            d.message()
        ));
    }
    e.into()
}

/// Registers a key for a member, valid in this facility only; returns the new key's id.
pub async fn add(tx: &mut TenantTx<'_>, user_id: i64, key: &KeyInfo) -> Result<i64, AppError> {
    let actor = tx.actor_label().to_string();
    let id: Option<i64> = sqlx::query_scalar("SELECT admin_add_ssh_key($1, $2, $3, $4, $5, $6)")
        .bind(user_id)
        .bind(actor)
        .bind(&key.fingerprint)
        .bind(&key.algorithm)
        .bind(&key.public_key)
        .bind(&key.comment)
        .fetch_one(tx.conn())
        .await
        .map_err(member_error)?;
    match id {
        Some(id) => Ok(id),
        None => {
            let revoked: Option<bool> = sqlx::query_scalar(
                "SELECT disabled_at IS NOT NULL FROM ssh_keys WHERE user_id = $1 AND fingerprint = $2",
            )
            .bind(user_id)
            .bind(&key.fingerprint)
            .fetch_optional(tx.conn())
            .await?;
            // No fingerprint here: the admin's screen shows it next to this message.
            Err(AppError::Conflict(if revoked == Some(true) {
                "this key was revoked for that member; a revoked key is not taken back, \
                 add a new one"
                    .to_string()
            } else {
                "this key is already registered for that member".to_string()
            }))
        }
    }
}

/// Revokes a key; returns its fingerprint.
pub async fn revoke(tx: &mut TenantTx<'_>, key_id: i64) -> Result<String, AppError> {
    let actor = tx.actor_label().to_string();
    let fp: Option<String> = sqlx::query_scalar("SELECT admin_revoke_ssh_key($1, $2)")
        .bind(key_id)
        .bind(actor)
        .fetch_one(tx.conn())
        .await
        .map_err(member_error)?;
    let fp = fp.ok_or_else(|| {
        AppError::Invalid("that key is already revoked or not a key of this facility".into())
    })?;
    // The member's open sessions check their key again and end if it was this one.
    let user_id: i64 = sqlx::query_scalar("SELECT user_id FROM ssh_keys WHERE id = $1")
        .bind(key_id)
        .fetch_one(tx.conn())
        .await?;
    tell_member_everywhere(tx, user_id).await?;
    Ok(fp)
}

/// A `member` live event for `user_id` in every facility they belong to: a key or TOTP
/// opens all of them, so their sessions in each check again (and end if it was theirs).
async fn tell_member_everywhere(tx: &mut TenantTx<'_>, user_id: i64) -> Result<(), AppError> {
    let facilities: Vec<i64> = sqlx::query_scalar("SELECT member_facilities($1)")
        .bind(user_id)
        .fetch_all(tx.conn())
        .await?;
    let facilities: Vec<_> = facilities
        .into_iter()
        .map(crate::domain::FacilityId)
        .collect();
    super::packages::notify_in(tx, &facilities, "member", &[user_id]);
    Ok(())
}

/// Stores a member's confirmed, sealed TOTP secret.
pub async fn set_totp(
    tx: &mut TenantTx<'_>,
    user_id: i64,
    sealed: &[u8],
    step: i64,
) -> Result<(), AppError> {
    let actor = tx.actor_label().to_string();
    sqlx::query("SELECT admin_set_totp($1, $2, $3, $4)")
        .bind(user_id)
        .bind(actor)
        .bind(sealed)
        .bind(step)
        .execute(tx.conn())
        .await
        .map_err(member_error)?;
    Ok(())
}

/// Removes a member's TOTP secret, with the reason in the audit row; their open sessions
/// that logged in with password+TOTP end.
pub async fn reset_totp(tx: &mut TenantTx<'_>, user_id: i64, reason: &str) -> Result<(), AppError> {
    let actor = tx.actor_label().to_string();
    let done: bool = sqlx::query_scalar("SELECT admin_reset_totp($1, $2, $3)")
        .bind(user_id)
        .bind(actor)
        .bind(reason)
        .fetch_one(tx.conn())
        .await
        .map_err(member_error)?;
    if done {
        // The member's open sessions check their second factor again and end if they
        // logged in with password+TOTP, in every facility they belong to.
        tell_member_everywhere(tx, user_id).await?;
        Ok(())
    } else {
        Err(AppError::Invalid("that member has no TOTP enrolled".into()))
    }
}

/// Stores a member's kiosk PIN hash (argon2id PHC string) for this facility's kiosks only.
pub async fn set_pin(tx: &mut TenantTx<'_>, user_id: i64, pin_hash: &str) -> Result<(), AppError> {
    let actor = tx.actor_label().to_string();
    sqlx::query("SELECT admin_set_member_pin($1, $2, $3)")
        .bind(user_id)
        .bind(actor)
        .bind(pin_hash)
        .execute(tx.conn())
        .await
        .map_err(member_error)?;
    Ok(())
}

/// The login of a member of this facility (for the TOTP account name).
pub async fn member_login(tx: &mut TenantTx<'_>, user_id: i64) -> Result<String, AppError> {
    sqlx::query_scalar(
        "SELECT u.login FROM users u JOIN memberships m ON m.user_id = u.id \
         WHERE u.id = $1 AND m.facility_id = $2",
    )
    .bind(user_id)
    .bind(tx.facility().0)
    .fetch_optional(tx.conn())
    .await?
    .ok_or_else(|| AppError::Invalid("that user is not a member of this facility".into()))
}
