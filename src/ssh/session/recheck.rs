//! Re-reading a session's access (role, revocation, kiosk quarantine) while it runs; a
//! re-check that fails ends the session (fail closed).

use super::*;

impl Session {
    /// Reads this session's access from the database again: the member's role applies now;
    /// revoked access, a quarantined kiosk, or a re-check that fails (fail closed) ends the
    /// session.
    pub(super) async fn recheck(
        &mut self,
        model: &mut Model,
        runner: &mut Runner,
    ) -> Result<(), End> {
        let mut outcome = self.confirm().await;
        if outcome.is_err() {
            // One retry: a dropped pool connection should not end every session at once.
            tokio::time::sleep(RECHECK_RETRY).await;
            outcome = self.confirm().await;
        }
        match outcome {
            Ok(Confirmed::Still(p)) => {
                if let Some(p) = p {
                    model.me.role = p.role();
                    runner.rebind(&p);
                    self.principal = Some(p);
                }
                Ok(())
            }
            Ok(Confirmed::Revoked) => Err(End::AccessRevoked),
            Ok(Confirmed::Quarantined) => Err(End::Quarantined),
            Err(e) => {
                Metrics::inc(&self.metrics.recheck_failed);
                tracing::warn!(error = %e, "session access re-check failed: ending the session");
                Err(End::Unconfirmed)
            }
        }
    }

    /// What the database says about this session's access now.
    pub(super) async fn confirm(&self) -> Result<Confirmed, DbError> {
        let check = async {
            if let Some(k) = &self.kiosk
                && !crate::db::kiosk::device_in_service(self.ops.db(), &k.device).await?
            {
                return Ok(Confirmed::Quarantined);
            }
            Ok(match self.rebind().await? {
                Some(p) => Confirmed::Still(Some(p)),
                None if self.principal.is_none() => Confirmed::Still(None),
                None => Confirmed::Revoked,
            })
        };
        tokio::time::timeout(RECHECK_TIMEOUT, check)
            .await
            .map_err(|_| DbError::Setup("the access re-check timed out".into()))?
    }

    /// The principal as the database has it now: `None` when no longer allowed in (or
    /// nobody is at a locked kiosk).
    pub(super) async fn rebind(&self) -> Result<Option<Principal>, DbError> {
        let Some(current) = self.principal.as_ref() else {
            return Ok(None);
        };
        let login = self.ops.db().unscoped();
        let user = match login.user(current.login()).await? {
            Some(u) if !u.disabled => u,
            _ => return Ok(None),
        };
        if let Some(fp) = &self.auth_key
            && login.active_key(current.login(), fp).await?.is_none()
        {
            return Ok(None);
        }
        // The second factor this session logged in with was reset (lost phone, suspected
        // compromise): whoever holds the session may hold the phone.
        if self.auth_totp && user.totp_secret.is_none() {
            return Ok(None);
        }
        let source = current.source().clone();
        login.principal(&user, Some(current.slug()), source).await
    }
}

/// The outcome of a re-check that could read the database.
pub(super) enum Confirmed {
    /// Still allowed, with the principal as it is now (`None`: a locked kiosk).
    Still(Option<Principal>),
    Revoked,
    Quarantined,
}

/// A re-check that takes longer than this fails (closed).
pub(super) const RECHECK_TIMEOUT: Duration = Duration::from_secs(10);
/// A failed re-check is tried once more after this pause before the session ends.
pub(super) const RECHECK_RETRY: Duration = Duration::from_millis(500);
