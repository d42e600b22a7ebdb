//! The admin console's member operations: list, role and access changes, the audit trail
//! and the security scorecard; admins only.

use super::Ops;
use crate::db::members;
use crate::domain::Principal;
use crate::error::AppError;

impl Ops {
    fn require_admin(p: &Principal) -> Result<(), AppError> {
        if p.may_administer() {
            Ok(())
        } else {
            Err(AppError::PermissionDenied)
        }
    }

    pub async fn members(&self, p: &Principal) -> Result<Vec<members::Member>, AppError> {
        Self::require_admin(p)?;
        self.db.scoped(p, async |tx| members::list(tx).await).await
    }

    pub async fn update_member(
        &self,
        p: &Principal,
        user_id: i64,
        role: Option<crate::domain::Role>,
        disabled: Option<bool>,
    ) -> Result<(), AppError> {
        Self::require_admin(p)?;
        self.db
            .scoped(p, async |tx| {
                members::update(tx, user_id, role, disabled).await
            })
            .await
    }

    pub async fn audit(
        &self,
        p: &Principal,
        filter: &str,
    ) -> Result<Vec<members::AuditRow>, AppError> {
        Self::require_admin(p)?;
        self.db
            .scoped(p, async |tx| members::audit(tx, filter, 200).await)
            .await
    }

    pub async fn scorecard(&self, p: &Principal) -> Result<members::Scorecard, AppError> {
        Self::require_admin(p)?;
        self.db
            .scoped(p, async |tx| members::scorecard(tx).await)
            .await
    }
}
