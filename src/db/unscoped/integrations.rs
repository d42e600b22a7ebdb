//! A facility's integrations (SMTP, SMS, webhooks) and the re-sealing of every stored
//! secret, as the admin CLI sets them.

use serde_json::json;

use super::{Admin, audit_in};
use crate::domain::FacilityId;
use crate::error::AppError;

impl Admin<'_> {
    /// Sets (or replaces) the facility's SMTP server.
    pub async fn set_smtp(
        &self,
        slug: &str,
        url: &str,
        from: &str,
        username: Option<&str>,
        sealed_password: impl FnOnce(FacilityId) -> Option<Vec<u8>>,
    ) -> Result<(), AppError> {
        let facility = self.facility_id(slug).await?;
        let secret = sealed_password(facility);
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO integrations (facility_id, kind, url, sender, username, secret) \
             VALUES ($1, 'smtp', $2, $3, $4, $5) \
             ON CONFLICT (facility_id) WHERE kind = 'smtp' DO UPDATE \
             SET url = EXCLUDED.url, sender = EXCLUDED.sender, username = EXCLUDED.username, \
                 secret = EXCLUDED.secret, enabled = true, last_error = NULL",
        )
        .bind(facility.0)
        .bind(url)
        .bind(from)
        .bind(username)
        .bind(&secret)
        .execute(&mut *tx)
        .await?;
        audit_in(
            &mut tx,
            facility.0,
            "integration.smtp.set",
            url,
            json!({ "from": from, "password_set": secret.is_some() }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets (or replaces) the facility's SMS API: `url` gets a JSON POST per message, with
    /// the sealed token as a bearer token when there is one. `shown_url` (the URL without
    /// credentials or query string, which may carry an API key) goes into the audit row.
    pub async fn set_sms(
        &self,
        slug: &str,
        url: &str,
        shown_url: &str,
        sealed_token: impl FnOnce(FacilityId) -> Option<Vec<u8>>,
    ) -> Result<(), AppError> {
        let facility = self.facility_id(slug).await?;
        let secret = sealed_token(facility);
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO integrations (facility_id, kind, url, secret) \
             VALUES ($1, 'sms', $2, $3) \
             ON CONFLICT (facility_id) WHERE kind = 'sms' DO UPDATE \
             SET url = EXCLUDED.url, secret = EXCLUDED.secret, enabled = true, \
                 last_error = NULL",
        )
        .bind(facility.0)
        .bind(url)
        .bind(&secret)
        .execute(&mut *tx)
        .await?;
        audit_in(
            &mut tx,
            facility.0,
            "integration.sms.set",
            shown_url,
            json!({ "token_set": secret.is_some() }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds a webhook; returns its id. Pickup codes are bearer secrets: the webhook carries
    /// them only when `include_pickup_code` (`admin webhook add --include-pickup-code`,
    /// stored per webhook, default off). Audited as `integration.webhook.add` with that flag.
    pub async fn add_webhook(
        &self,
        slug: &str,
        url: &str,
        include_pickup_code: bool,
        sealed_secret: impl FnOnce(FacilityId) -> Vec<u8>,
    ) -> Result<i64, AppError> {
        let facility = self.facility_id(slug).await?;
        let secret = sealed_secret(facility);
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO integrations (facility_id, kind, url, secret, include_pickup_code) \
             VALUES ($1, 'webhook', $2, $3, $4) RETURNING id",
        )
        .bind(facility.0)
        .bind(url)
        .bind(&secret)
        .bind(include_pickup_code)
        .fetch_one(&mut *tx)
        .await?;
        audit_in(
            &mut tx,
            facility.0,
            "integration.webhook.add",
            url,
            json!({ "id": id, "include_pickup_code": include_pickup_code }),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Re-seals every stored secret with the key ring's current key, in one transaction.
    /// Returns how many values were re-sealed.
    pub async fn reseal_all(&self, keys: &crate::secrets::SecretsKey) -> Result<u64, AppError> {
        let mut tx = self.pool.begin().await?;
        let mut n = 0;
        let users: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT id, totp_secret FROM users WHERE totp_secret IS NOT NULL FOR UPDATE",
        )
        .fetch_all(&mut *tx)
        .await?;
        for (id, sealed) in users {
            let owner = format!("user:{id}");
            let plain = keys.open(&owner, &sealed)?;
            sqlx::query("UPDATE users SET totp_secret = $2 WHERE id = $1")
                .bind(id)
                .bind(keys.seal(&owner, &plain))
                .execute(&mut *tx)
                .await?;
            n += 1;
        }
        let secrets: Vec<(i64, i64, Vec<u8>)> = sqlx::query_as(
            "SELECT facility_id, id, secret FROM integrations WHERE secret IS NOT NULL FOR UPDATE",
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut facilities = std::collections::BTreeSet::new();
        for (facility, id, sealed) in secrets {
            let owner = format!("facility:{facility}");
            let plain = keys.open(&owner, &sealed)?;
            sqlx::query("UPDATE integrations SET secret = $3 WHERE facility_id = $1 AND id = $2")
                .bind(facility)
                .bind(id)
                .bind(keys.seal(&owner, &plain))
                .execute(&mut *tx)
                .await?;
            facilities.insert(facility);
            n += 1;
        }
        let all: Vec<i64> = sqlx::query_scalar("SELECT id FROM facilities")
            .fetch_all(&mut *tx)
            .await?;
        for f in all {
            audit_in(
                &mut tx,
                f,
                "secrets.rotate",
                &keys.id_hex(),
                json!({ "resealed": n }),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(n)
    }
}
