//! The only queries that run without a facility scope: turning a login into a principal
//! (runtime role, before authentication completes) and the admin CLI (owner role, the root
//! of trust on the server host). Everything else goes through a [`TenantTx`](super::TenantTx).
//!
//! One file per aggregate: `login` ([`Login`], the runtime role's lookups and the records
//! it sees); the owner's [`Admin`] in `facilities`, `users` (memberships, keys, TOTP, PIN),
//! `devices` and `integrations` (SMTP, SMS, webhooks, secrets re-seal). This file holds
//! `Admin` itself and the audit helpers they share.

mod devices;
mod facilities;
mod integrations;
mod login;
mod users;

pub use login::{ActiveKey, DeviceRecord, Login, UserRecord};

use serde_json::Value;
use sqlx::{PgConnection, PgPool};

use crate::domain::KeyInfo;
use crate::error::DbError;

/// The admin CLI's view of the database, as the owner role.
pub struct Admin<'a> {
    pool: &'a PgPool,
}

impl<'a> Admin<'a> {
    pub fn new(pool: &'a PgPool) -> Self {
        Self { pool }
    }
}

/// Appends an audit row for `facility` in an owner transaction.
async fn audit_in(
    conn: &mut PgConnection,
    facility: i64,
    action: &str,
    target: &str,
    detail: Value,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO audit_log (facility_id, actor, action, target, detail) \
         VALUES ($1, 'cli', $2, $3, $4)",
    )
    .bind(facility)
    .bind(action)
    .bind(target)
    .bind(detail)
    .execute(conn)
    .await?;
    Ok(())
}

/// User-level changes (keys, TOTP) are recorded in the chain of every facility the user
/// belongs to, so each facility's admins see what changed about their staff.
async fn audit_user_event(
    conn: &mut PgConnection,
    user_id: i64,
    action: &str,
    target: &str,
    detail: Value,
) -> Result<(), DbError> {
    let facilities: Vec<i64> = sqlx::query_scalar(
        "SELECT facility_id FROM memberships WHERE user_id = $1 ORDER BY facility_id",
    )
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?;
    for f in facilities {
        audit_in(conn, f, action, target, detail.clone()).await?;
    }
    Ok(())
}
