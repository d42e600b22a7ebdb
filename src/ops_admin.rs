//! Admin console operations beyond members and audit: members' SSH keys and TOTP, the
//! facility's settings, and the notification outbox. Every one requires an admin of the
//! facility in their own session (never a kiosk) and runs in a facility-scoped transaction
//! whose audit row commits with the change.

use crate::auth::{pubkey, totp};
use crate::db::keys_admin::{self, KeyRow};
use crate::db::outbox_admin::{self, OutboxView};
use crate::db::settings::{self, FacilitySettings};
use crate::domain::Principal;
use crate::error::AppError;
use crate::ops::Ops;

/// Failed and dead deliveries listed in the outbox tab.
pub const OUTBOX_FAILED_LIMIT: i64 = 100;

/// A TOTP enrollment shown to the admin, not yet in effect: the secret travels sealed
/// (bound to the user), and takes effect only when a first code from it is confirmed.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpEnrollment {
    pub user_id: i64,
    pub login: String,
    pub account: String,
    pub sealed: Vec<u8>,
    pub qr: Option<totp::QrMatrix>,
    /// For typing into an authenticator by hand.
    pub manual: String,
}

impl std::fmt::Debug for TotpEnrollment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpEnrollment")
            .field("user_id", &self.user_id)
            .field("login", &self.login)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Longest reason accepted for a TOTP reset.
pub const REASON_MAX: usize = 200;

fn require_console(p: &Principal) -> Result<(), AppError> {
    if !p.may_administer() {
        return Err(AppError::PermissionDenied);
    }
    Ok(())
}

impl Ops {
    fn keys(&self) -> Result<&crate::secrets::SecretsKey, AppError> {
        self.secrets().ok_or_else(|| {
            AppError::Invalid(
                "TOTP enrollment is not available on this server (no secrets key)".into(),
            )
        })
    }

    pub async fn member_keys(&self, p: &Principal) -> Result<Vec<KeyRow>, AppError> {
        require_console(p)?;
        self.db()
            .scoped(p, async |tx| keys_admin::list(tx).await)
            .await
    }

    /// Registers a pasted OpenSSH public key line for a member (the same parser as
    /// `admin user add-key`), valid in this facility only; returns what was registered.
    pub async fn add_member_key(
        &self,
        p: &Principal,
        user_id: i64,
        line: &str,
    ) -> Result<pubkey::KeyInfo, AppError> {
        require_console(p)?;
        let key = pubkey::parse_line(line).map_err(AppError::Invalid)?;
        self.db()
            .scoped(p, async |tx| keys_admin::add(tx, user_id, &key).await)
            .await?;
        Ok(key)
    }

    /// Revokes a member's key; returns its fingerprint.
    pub async fn revoke_member_key(&self, p: &Principal, key_id: i64) -> Result<String, AppError> {
        require_console(p)?;
        self.db()
            .scoped(p, async |tx| keys_admin::revoke(tx, key_id).await)
            .await
    }

    /// A fresh TOTP secret for a member (or the admin), sealed, with its QR code. Nothing is
    /// stored until [`Ops::totp_confirm`].
    pub async fn totp_begin(
        &self,
        p: &Principal,
        user_id: i64,
    ) -> Result<TotpEnrollment, AppError> {
        require_console(p)?;
        let keys = self.keys()?;
        let login = self
            .db()
            .scoped(p, async |tx| keys_admin::member_login(tx, user_id).await)
            .await?;
        let secret = totp::new_secret();
        let account = format!("{login}@{}", p.slug());
        let uri = totp::otpauth_uri(&secret, &account);
        Ok(TotpEnrollment {
            user_id,
            login,
            account,
            sealed: keys.seal(&format!("user:{user_id}"), &secret),
            qr: totp::qr_matrix(&uri),
            manual: totp::secret_base32(&secret),
        })
    }

    /// Puts an enrollment into effect once `code` (from the member's authenticator) is
    /// valid now; that code's time step counts as used.
    pub async fn totp_confirm(
        &self,
        p: &Principal,
        user_id: i64,
        sealed: &[u8],
        code: &str,
    ) -> Result<(), AppError> {
        require_console(p)?;
        let keys = self.keys()?;
        let secret = keys.open(&format!("user:{user_id}"), sealed)?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let step = totp::verify(&secret, code, now).ok_or_else(|| {
            AppError::Invalid(
                "that code is not valid now: type the 6 digits the authenticator shows".into(),
            )
        })?;
        self.db()
            .scoped(p, async |tx| {
                keys_admin::set_totp(tx, user_id, sealed, i64::try_from(step).unwrap_or(0)).await
            })
            .await
    }

    /// Sets a member's kiosk unlock PIN (argon2id) for this facility's kiosks only; at the
    /// kiosks of their other facilities their own PIN (`admin user set-pin`) goes on.
    pub async fn set_member_pin(
        &self,
        p: &Principal,
        user_id: i64,
        pin: &str,
    ) -> Result<(), AppError> {
        require_console(p)?;
        crate::domain::pin::check(pin).map_err(|e| AppError::Invalid(e.to_string()))?;
        let hash = crate::auth::password::hash(pin.to_string()).await;
        self.db()
            .scoped(p, async |tx| keys_admin::set_pin(tx, user_id, &hash).await)
            .await
    }

    /// Removes a member's TOTP (they can then log in only with a key, until re-enrolled).
    pub async fn totp_reset(
        &self,
        p: &Principal,
        user_id: i64,
        reason: &str,
    ) -> Result<(), AppError> {
        require_console(p)?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(AppError::Invalid(
                "a reason is required to reset TOTP".into(),
            ));
        }
        crate::ops::checked("reason", reason, crate::domain::text::Lines::One)?;
        if reason.chars().count() > REASON_MAX {
            return Err(AppError::Invalid(format!(
                "the reason is longer than {REASON_MAX} characters"
            )));
        }
        if p.user().0 == user_id {
            return Err(AppError::Invalid(
                "you cannot reset your own TOTP; enroll a new one instead".into(),
            ));
        }
        self.db()
            .scoped(p, async |tx| {
                keys_admin::reset_totp(tx, user_id, reason).await
            })
            .await
    }

    pub async fn facility_settings(&self, p: &Principal) -> Result<FacilitySettings, AppError> {
        require_console(p)?;
        self.db()
            .scoped(p, async |tx| settings::load(tx).await)
            .await
    }

    /// Saves the changes from `before` to `after`; returns the changed keys.
    pub async fn save_facility_settings(
        &self,
        p: &Principal,
        before: &FacilitySettings,
        after: &FacilitySettings,
    ) -> Result<Vec<&'static str>, AppError> {
        require_console(p)?;
        self.db()
            .scoped(p, async |tx| settings::save(tx, before, after).await)
            .await
    }

    pub async fn outbox(&self, p: &Principal) -> Result<OutboxView, AppError> {
        require_console(p)?;
        self.db()
            .scoped(p, async |tx| {
                outbox_admin::view(tx, OUTBOX_FAILED_LIMIT).await
            })
            .await
    }

    pub async fn retry_notification(&self, p: &Principal, id: i64) -> Result<(), AppError> {
        require_console(p)?;
        self.db()
            .scoped(p, async |tx| outbox_admin::retry(tx, id).await)
            .await
    }
}
