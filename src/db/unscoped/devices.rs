//! Kiosk devices of a facility: registration, self-service and quarantine.

use serde_json::json;

use super::{Admin, KeyInfo, audit_in};
use crate::error::AppError;

impl Admin<'_> {
    /// Registers a kiosk terminal of a facility with its own key.
    pub async fn add_device(&self, slug: &str, name: &str, key: &KeyInfo) -> Result<(), AppError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 80 {
            return Err(AppError::Invalid("a device name is 1-80 characters".into()));
        }
        let facility = self.facility_id(slug).await?;
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO devices (facility_id, name, fingerprint, public_key) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(facility.0)
        .bind(name)
        .bind(&key.fingerprint)
        .bind(&key.public_key)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Err(AppError::Conflict(format!(
                "a device named `{name}` or with key {} already exists",
                key.fingerprint
            )));
        }
        audit_in(
            &mut tx,
            facility.0,
            "device.add",
            name,
            json!({ "fingerprint": key.fingerprint }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Turns self-service pickup on or off for a device (recipients type their pickup code
    /// on its lock screen; staff confirm with their PIN). Audited as `device.self_service`.
    pub async fn set_self_service(&self, slug: &str, name: &str, on: bool) -> Result<(), AppError> {
        let facility = self.facility_id(slug).await?;
        let mut tx = self.pool.begin().await?;
        let was: bool = sqlx::query_scalar(
            "UPDATE devices d SET self_service = $3 FROM devices old \
             WHERE d.facility_id = $1 AND d.name = $2 \
               AND old.facility_id = d.facility_id AND old.id = d.id \
             RETURNING old.self_service",
        )
        .bind(facility.0)
        .bind(name)
        .bind(on)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::Invalid(format!("no device named `{name}` in {slug}")))?;
        audit_in(
            &mut tx,
            facility.0,
            "device.self_service",
            name,
            json!({ "from": was, "to": on }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Quarantines a device (`reason` given) or releases it (`None`). A quarantine ends the
    /// device's open sessions at once (they listen on the facility's channel).
    pub async fn quarantine_device(
        &self,
        slug: &str,
        name: &str,
        reason: Option<&str>,
    ) -> Result<(), AppError> {
        let facility = self.facility_id(slug).await?;
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "UPDATE devices SET quarantined_at = CASE WHEN $3::text IS NULL THEN NULL ELSE now() END, \
                 quarantine_reason = $3 \
             WHERE facility_id = $1 AND name = $2 RETURNING id",
        )
        .bind(facility.0)
        .bind(name)
        .bind(reason)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::Invalid(format!("no device named `{name}` in {slug}")))?;
        let action = if reason.is_some() {
            "device.quarantine"
        } else {
            "device.release"
        };
        audit_in(
            &mut tx,
            facility.0,
            action,
            name,
            json!({ "reason": reason }),
        )
        .await?;
        if reason.is_some() {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(crate::db::packages::channel(facility))
                .bind(json!({ "kind": "device", "ids": [id], "by": "cli" }).to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
