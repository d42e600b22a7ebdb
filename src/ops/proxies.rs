//! A resident's authorised proxies: listed for whoever hands parcels over (the pickup
//! picker), added and removed by operators and admins away from a kiosk. The facility comes
//! from the principal's transaction, so another facility's resident answers "not found".

use crate::db::recipients::proxies;
use crate::domain::Principal;
use crate::domain::limits::PROXY_NAME_MAX;
use crate::domain::text::Lines;
use crate::error::AppError;

use super::{Ops, checked};

/// A proxy's name as it will be stored: trimmed, one line, no control characters, 1 to
/// [`PROXY_NAME_MAX`] characters.
pub fn proxy_name(raw: &str) -> Result<String, AppError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(AppError::Invalid("the proxy's name is required".into()));
    }
    if name.chars().count() > PROXY_NAME_MAX {
        return Err(AppError::Invalid(format!(
            "a proxy's name has at most {PROXY_NAME_MAX} characters"
        )));
    }
    checked("proxy name", name, Lines::One)?;
    Ok(name.to_string())
}

impl Ops {
    /// Changing the list: operators and admins, not at a kiosk terminal (a shared screen
    /// that residents use must not edit who may collect their parcels).
    fn require_proxy_editor(p: &Principal) -> Result<(), AppError> {
        if p.role().can_handle_packages() && p.source().device_id().is_none() {
            Ok(())
        } else {
            Err(AppError::PermissionDenied)
        }
    }

    /// The resident's authorised proxies, for the pickup picker (those who hand over).
    pub async fn recipient_proxies(&self, p: &Principal, id: i64) -> Result<Vec<String>, AppError> {
        Self::require_handler(p)?;
        self.db
            .scoped(p, async |tx| proxies::list(tx, id).await)
            .await
    }

    /// Adds an authorised proxy; answers the resident's new list.
    pub async fn add_recipient_proxy(
        &self,
        p: &Principal,
        id: i64,
        name: &str,
    ) -> Result<Vec<String>, AppError> {
        Self::require_proxy_editor(p)?;
        let name = proxy_name(name)?;
        self.db
            .scoped(p, async |tx| proxies::add(tx, id, &name).await)
            .await
    }

    /// Removes an authorised proxy; answers the resident's new list.
    pub async fn remove_recipient_proxy(
        &self,
        p: &Principal,
        id: i64,
        name: &str,
    ) -> Result<Vec<String>, AppError> {
        Self::require_proxy_editor(p)?;
        self.db
            .scoped(p, async |tx| proxies::remove(tx, id, name.trim()).await)
            .await
    }
}
