//! Webhooks as the admin CLI adds them, with what each may receive. Pickup codes are bearer
//! secrets: a webhook carries them only when it was added with `--include-pickup-code`
//! (stored per webhook, `integrations.include_pickup_code`, default off).

use serde_json::json;
use sqlx::PgPool;

use super::unscoped::Admin;
use crate::domain::FacilityId;
use crate::error::AppError;

/// Adds a webhook to facility `slug` (owner pool, as the admin CLI); returns its id. Audited
/// as `integration.webhook.add` with whether it receives pickup codes.
pub async fn add(
    owner: &PgPool,
    slug: &str,
    url: &str,
    include_pickup_code: bool,
    sealed_secret: impl FnOnce(FacilityId) -> Vec<u8>,
) -> Result<i64, AppError> {
    let facility = Admin::new(owner).facility_id(slug).await?;
    let secret = sealed_secret(facility);
    let mut tx = owner.begin().await?;
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
    sqlx::query(
        "INSERT INTO audit_log (facility_id, actor, action, target, detail) \
         VALUES ($1, 'cli', 'integration.webhook.add', $2, $3)",
    )
    .bind(facility.0)
    .bind(url)
    .bind(json!({ "id": id, "include_pickup_code": include_pickup_code }))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}
