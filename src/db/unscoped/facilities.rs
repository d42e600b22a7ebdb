//! Facilities, as the admin CLI creates and finds them.

use serde_json::json;

use super::{Admin, audit_in};
use crate::db::TenantTx;
use crate::db::tenant::Scope;
use crate::domain::FacilityId;
use crate::error::{AppError, DbError};

impl Admin<'_> {
    pub async fn facility_id(&self, slug: &str) -> Result<FacilityId, AppError> {
        let id: Option<i64> = sqlx::query_scalar("SELECT id FROM facilities WHERE slug = $1")
            .bind(slug)
            .fetch_optional(self.pool)
            .await?;
        id.map(FacilityId)
            .ok_or_else(|| AppError::Invalid(format!("no facility with slug `{slug}`")))
    }

    /// A tenant transaction for the admin CLI acting on one facility.
    pub async fn tenant(&self, slug: &str) -> Result<TenantTx<'static>, AppError> {
        let facility = self.facility_id(slug).await?;
        Ok(TenantTx::begin(
            self.pool,
            crate::db::Route::Direct,
            None,
            Scope::Cli {
                facility,
                slug: slug.to_string(),
            },
        )
        .await?)
    }

    pub async fn facility_count(&self) -> Result<i64, DbError> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM facilities")
            .fetch_one(self.pool)
            .await?)
    }

    pub async fn create_facility(&self, slug: &str, name: &str) -> Result<FacilityId, AppError> {
        if !crate::domain::valid_slug(slug) {
            return Err(AppError::Invalid(format!(
                "invalid slug `{slug}`: use 1-40 lower-case letters, digits and '-'"
            )));
        }
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(AppError::Invalid(
                "facility name must be 1-200 characters".into(),
            ));
        }
        let mut tx = self.pool.begin().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO facilities (slug, name) VALUES ($1, $2) \
             ON CONFLICT (slug) DO NOTHING RETURNING id",
        )
        .bind(slug)
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else {
            return Err(AppError::Conflict(format!(
                "facility `{slug}` already exists"
            )));
        };
        audit_in(
            &mut tx,
            id,
            "facility.create",
            slug,
            json!({ "name": name }),
        )
        .await?;
        tx.commit().await?;
        Ok(FacilityId(id))
    }
}
