//! Bulk actions on the package list's marked parcels (operators and admins): remind their
//! residents, return them to sender. At most [`BULK_MAX`] parcels a batch, each batch one
//! transaction (`db::packages::bulk_*`).

use super::Ops;
use crate::db::packages::{self, BulkOutcome};
use crate::domain::Principal;
use crate::domain::limits::BULK_MAX;
use crate::error::AppError;

/// Which bulk action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bulk {
    Remind,
    ReturnToSender,
}

impl Ops {
    /// Runs a bulk action on `ids`. Viewers are refused before anything is read; an empty or
    /// oversized batch is refused; an id that is not this facility's answers "not found" and
    /// nothing changes.
    pub async fn bulk(
        &self,
        p: &Principal,
        action: Bulk,
        ids: &[i64],
    ) -> Result<BulkOutcome, AppError> {
        Self::require_handler(p)?;
        if ids.is_empty() {
            return Err(AppError::Invalid("no parcels are marked".into()));
        }
        if ids.len() > BULK_MAX {
            return Err(AppError::Invalid(format!(
                "at most {BULK_MAX} parcels at a time ({} marked)",
                ids.len()
            )));
        }
        self.db
            .scoped(p, async |tx| match action {
                Bulk::Remind => packages::bulk_remind(tx, ids).await,
                Bulk::ReturnToSender => packages::bulk_return(tx, ids).await,
            })
            .await
    }
}
