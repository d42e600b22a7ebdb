//! A facility's members, as its admins see and manage them.

use serde_json::json;

use super::TenantTx;
use crate::domain::Role;
use crate::error::{AppError, DbError};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Member {
    pub user_id: i64,
    pub login: String,
    pub display_name: String,
    pub role: String,
    pub disabled: bool,
    pub has_password: bool,
    pub has_totp: bool,
    pub keys: i64,
    pub key_last_used: Option<chrono::DateTime<chrono::Utc>>,
}

pub async fn list(tx: &mut TenantTx<'_>) -> Result<Vec<Member>, DbError> {
    Ok(sqlx::query_as(
        "SELECT u.id AS user_id, u.login, u.display_name, m.role, \
                (m.disabled_at IS NOT NULL OR u.disabled_at IS NOT NULL) AS disabled, \
                u.has_password, \
                u.has_totp, \
                (SELECT count(*) FROM ssh_keys k WHERE k.user_id = u.id AND k.disabled_at IS NULL \
                   AND (k.scope_facility_id IS NULL OR k.scope_facility_id = m.facility_id)) AS keys, \
                (SELECT max(k.last_used_at) FROM ssh_keys k WHERE k.user_id = u.id \
                   AND (k.scope_facility_id IS NULL OR k.scope_facility_id = m.facility_id)) AS key_last_used \
         FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.facility_id = $1 ORDER BY u.login",
    )
    .bind(tx.facility().0)
    .fetch_all(tx.conn())
    .await?)
}

/// Changes a member's role or disables/enables the membership, with an audit row and a
/// notification so the member's open sessions pick it up at once.
pub async fn update(
    tx: &mut TenantTx<'_>,
    user_id: i64,
    role: Option<Role>,
    disabled: Option<bool>,
) -> Result<(), AppError> {
    if tx.actor_id().map(|u| u.0) == Some(user_id) {
        return Err(AppError::Invalid(
            "you cannot change your own role or disable yourself".into(),
        ));
    }
    let facility = tx.facility().0;
    let login: String = sqlx::query_scalar(
        "UPDATE memberships m SET role = coalesce($3, m.role), \
             disabled_at = CASE WHEN $4 IS NULL THEN m.disabled_at \
                                WHEN $4 THEN coalesce(m.disabled_at, now()) ELSE NULL END \
         FROM users u WHERE u.id = m.user_id AND m.facility_id = $1 AND m.user_id = $2 \
         RETURNING u.login",
    )
    .bind(facility)
    .bind(user_id)
    .bind(role.map(Role::as_str))
    .bind(disabled)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(AppError::NotFound)?;
    let action = match (role, disabled) {
        (Some(_), _) => "membership.role",
        (None, Some(true)) => "membership.disable",
        (None, Some(false)) => "membership.enable",
        (None, None) => return Ok(()),
    };
    super::audit::record(
        tx,
        action,
        &login,
        json!({ "role": role.map(Role::as_str), "disabled": disabled }),
    )
    .await?;
    super::packages::notify(tx, "member", &[user_id]).await?;
    Ok(())
}

/// Adds a new person as a member of this facility (the console's "new member"): the user,
/// the membership, their password hash when given, and their key when given (valid in this
/// facility only, `keys_admin::add`), with `user.add` and `key.add` audit rows. A login that
/// exists anywhere is refused (`Conflict`), never taken over. Returns the user's id.
pub async fn add(
    tx: &mut TenantTx<'_>,
    login: &str,
    display_name: &str,
    role: Role,
    password_hash: Option<&str>,
    key: Option<&crate::domain::KeyInfo>,
) -> Result<i64, AppError> {
    let actor = tx.actor_label().to_string();
    let id: i64 = sqlx::query_scalar("SELECT admin_add_member($1, $2, $3, $4, $5)")
        .bind(actor)
        .bind(login)
        .bind(display_name)
        .bind(role.as_str())
        .bind(password_hash)
        .fetch_one(tx.conn())
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.code().as_deref() == Some("PT409") => AppError::Conflict(
                format!("the login `{login}` is already taken: choose another one"),
            ),
            sqlx::Error::Database(d) if d.code().as_deref() == Some("PT403") => {
                AppError::PermissionDenied
            }
            _ => e.into(),
        })?;
    if let Some(key) = key {
        super::keys_admin::add(tx, id, key).await?;
    }
    Ok(id)
}

/// One audit row for the admin's audit screen.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditRow {
    pub seq: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub actor: String,
    pub action: String,
    pub target: String,
}

pub async fn audit(
    tx: &mut TenantTx<'_>,
    filter: &str,
    limit: i64,
) -> Result<Vec<AuditRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT seq, at, actor, action, target FROM audit_log \
         WHERE facility_id = $1 AND ($2 = '' OR action ILIKE '%' || $2 || '%' \
               OR actor ILIKE '%' || $2 || '%' OR target ILIKE '%' || $2 || '%') \
         ORDER BY seq DESC LIMIT $3",
    )
    .bind(tx.facility().0)
    .bind(filter)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

/// The facility's security scorecard.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scorecard {
    pub members: i64,
    pub without_mfa_or_key: Vec<String>,
    pub stale_keys: Vec<String>,
    pub failed_logins_24h: i64,
    pub locked: Vec<String>,
    pub dead_letters: i64,
    pub pending_notifications: i64,
    pub last_delivery_error: Option<String>,
    pub audit_entries: i64,
    /// The first audit entry (seq) of this facility that does not verify.
    pub audit_first_bad: Option<i64>,
    /// The newest backup and the newest restore drill (`admin backup verify`) of the
    /// installation (`backup_status()`): when, and whether it went well. The detail text is
    /// left out: it speaks of the whole installation, not this facility.
    pub last_backup: Option<BackupMark>,
    pub last_drill: Option<BackupMark>,
    /// The newest point-in-time archive event (`serve --wal-archive`: a base backup, or
    /// shipping that failed or recovered); `None` where archiving was never on.
    pub last_wal: Option<BackupMark>,
}

/// One backup or drill run, as the scorecard shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackupMark {
    pub at: chrono::DateTime<chrono::Utc>,
    pub ok: bool,
}

pub async fn scorecard(tx: &mut TenantTx<'_>) -> Result<Scorecard, DbError> {
    let facility = tx.facility().0;
    let members = list(tx).await?;
    let without_mfa_or_key = members
        .iter()
        .filter(|m| !m.disabled && !m.has_totp && m.keys == 0)
        .map(|m| m.login.clone())
        .collect();
    let stale_keys = sqlx::query_scalar(
        "SELECT DISTINCT u.login FROM ssh_keys k JOIN users u ON u.id = k.user_id \
         JOIN memberships m ON m.user_id = u.id AND m.facility_id = $1 \
         WHERE k.disabled_at IS NULL \
           AND coalesce(k.last_used_at, k.created_at) < now() - interval '90 days' \
         ORDER BY 1",
    )
    .bind(facility)
    .fetch_all(tx.conn())
    .await?;
    let logins: Vec<String> = members.iter().map(|m| m.login.clone()).collect();
    let failed_logins_24h = sqlx::query_scalar(
        "SELECT count(*) FROM login_failures WHERE login = ANY($1) AND at > now() - interval '24 hours'",
    )
    .bind(&logins)
    .fetch_one(tx.conn())
    .await?;
    let locked = sqlx::query_scalar(
        "SELECT login FROM login_failures WHERE login = ANY($1) \
           AND at > now() - interval '15 minutes' \
         GROUP BY login HAVING count(*) >= $2 ORDER BY 1",
    )
    .bind(&logins)
    .bind(crate::config::LOCKOUT_THRESHOLD)
    .fetch_all(tx.conn())
    .await?;
    let (dead_letters, pending_notifications): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'dead'), count(*) FILTER (WHERE status = 'pending') \
         FROM outbox WHERE facility_id = $1",
    )
    .bind(facility)
    .fetch_one(tx.conn())
    .await?;
    let last_delivery_error = sqlx::query_scalar(
        "SELECT kind || ': ' || last_error FROM integrations \
         WHERE facility_id = $1 AND last_error IS NOT NULL ORDER BY last_error_at DESC NULLS LAST LIMIT 1",
    )
    .bind(facility)
    .fetch_optional(tx.conn())
    .await?;
    // The same checks as `admin audit verify`, for this facility's chain.
    let (audit_entries, audit_first_bad): (i64, Option<i64>) = sqlx::query_as(
        "WITH c AS ( \
           SELECT seq, prev_hash, hash, digest, \
                  audit_entry_digest(digest, prev_hash, facility_id, seq, at, actor, action, \
                                     target, detail) AS d, \
                  lag(hash) OVER (ORDER BY seq) AS lh, \
                  lag(digest) OVER (ORDER BY seq) AS ld, \
                  row_number() OVER (ORDER BY seq) AS rn \
           FROM audit_log WHERE facility_id = $1) \
         SELECT count(*), min(seq) FILTER (WHERE d IS NULL OR hash <> d \
              OR coalesce(lh, '\\x'::bytea) <> prev_hash OR seq <> rn \
              OR digest < coalesce(ld, 1)) FROM c",
    )
    .bind(facility)
    .fetch_one(tx.conn())
    .await?;
    let runs: Vec<(String, chrono::DateTime<chrono::Utc>, bool)> =
        sqlx::query_as("SELECT kind, at, ok FROM backup_status()")
            .fetch_all(tx.conn())
            .await?;
    let mark = |kind: &str| {
        runs.iter()
            .find(|(k, ..)| k == kind)
            .map(|&(_, at, ok)| BackupMark { at, ok })
    };
    Ok(Scorecard {
        last_backup: mark("backup"),
        last_drill: mark("verify"),
        last_wal: mark("wal"),
        audit_entries,
        audit_first_bad,
        members: members.len() as i64,
        without_mfa_or_key,
        stale_keys,
        failed_logins_24h,
        locked,
        dead_letters,
        pending_notifications,
        last_delivery_error,
    })
}
