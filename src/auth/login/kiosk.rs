//! Kiosk logins: the device key decides the terminal, a staff PIN unlocks it.

use super::*;

impl Authenticator {
    /// A kiosk terminal: `kiosk+SLUG` with a registered, not quarantined device key of
    /// that facility. Unknown and quarantined keys fail alike (the log says which).
    pub async fn device(&self, user: &SshUser, key: &PublicKey) -> Result<Device, Failure> {
        let slug = user.slug.as_deref().ok_or(Failure::UnknownKey)?;
        let fp = pubkey::fingerprint(key);
        let d = self
            .db
            .unscoped()
            .device(slug, &fp)
            .await
            .map_err(internal)?
            .ok_or(Failure::UnknownKey)?;
        let presented = key.to_openssh().map_err(|_| Failure::Internal)?;
        if presented.split_whitespace().nth(1) != d.public_key.split_whitespace().nth(1) {
            return Err(Failure::UnknownKey);
        }
        if d.quarantined {
            return Err(Failure::Quarantined);
        }
        Ok(Device {
            facility: crate::domain::FacilityId(d.facility_id),
            slug: d.slug,
            facility_name: d.facility_name,
            id: d.device_id,
            name: d.device_name,
            self_service: d.self_service,
        })
    }

    /// Unlocks a kiosk for a staff member with their PIN. Lockout counts per staff member
    /// (as for logins) and per device; every failure costs one argon2 verification.
    pub async fn pin(
        &self,
        login: &str,
        pin: String,
        device: &Device,
        peer: IpAddr,
    ) -> Result<Principal, Failure> {
        self.kiosk_unlock(login, pin, None, device, peer).await
    }

    /// Unlocks a kiosk with the PIN and, when `code` is given (the facility's
    /// `kiosk_pin_totp`), the staff member's TOTP code too: both are checked together, so
    /// a failure never says which was wrong; a code is accepted once (the same step as
    /// logins use); failures count towards the lockout per staff member and per device.
    pub async fn kiosk_unlock(
        &self,
        login: &str,
        pin: String,
        code: Option<&str>,
        device: &Device,
        peer: IpAddr,
    ) -> Result<Principal, Failure> {
        let user = SshUser {
            login: login.trim().to_ascii_lowercase(),
            slug: Some(device.slug.clone()),
        };
        let res = async {
            if !user.is_login_name() {
                return Err((Failure::NotALogin, None));
            }
            let record = self
                .db
                .unscoped()
                .user(&user.login)
                .await
                .map_err(|e| (internal(e), None))?;
            let user_id = record.as_ref().map(|r| r.id);
            // The PIN valid at this device's facility: one set in its admin console, else the
            // person's own from the admin CLI; a console PIN of another facility never is.
            let pin_hash = credential_scope::kiosk_pin_hash(&self.db, &user.login, device.facility)
                .await
                .map_err(|e| (internal(e), None))?;
            // Counted in their own table, per staff member and per device (never under
            // the SSH login name, which anyone can type): checked before any hashing.
            let (by_user, by_device) = crate::db::kiosk::pin_failures(&self.db, device, user_id)
                .await
                .map_err(|e| (internal(e), None))?;
            if by_user >= LOCKOUT_THRESHOLD {
                return Err((Failure::Locked, None));
            }
            if by_device >= PIN_DEVICE_THRESHOLD {
                return Err((Failure::PeerLocked, None));
            }
            let _share = self.shares.claim(peer).map_err(|f| (f, None))?;
            let ok = password::verify(pin, pin_hash.clone())
                .await
                .map_err(|_| (Failure::Busy, None))?;
            let checked = async {
                let record = record.ok_or(Failure::UnknownLogin)?;
                if pin_hash.is_none() {
                    return Err(Failure::NoPin);
                }
                if !ok {
                    return Err(Failure::BadPassword);
                }
                if record.disabled {
                    return Err(Failure::Disabled);
                }
                let step = code.map(|c| self.totp_step(&record, c)).transpose()?;
                let principal = self
                    .db
                    .unscoped()
                    .principal(
                        &record,
                        Some(&device.slug),
                        Source::Kiosk {
                            device_id: device.id,
                            device: device.name.clone(),
                            peer: peer.to_string(),
                        },
                    )
                    .await
                    .map_err(internal)?
                    .ok_or(Failure::NoMembership)?;
                // Membership before consuming the code: a code spent on a failed bind is not lost.
                if let Some(step) = step {
                    self.consume_totp_step(record.id, step).await?;
                }
                Ok(principal)
            }
            .await;
            checked.map_err(|f| (f, user_id))
        }
        .await;
        let method = if code.is_some() { "pin+totp" } else { "pin" };
        let res = match res {
            Ok(p) => Ok(p),
            Err((f, user_id)) => {
                if f.counts() {
                    let _ = crate::db::kiosk::record_pin_failure(&self.db, device, user_id).await;
                }
                Err(f)
            }
        };
        match &res {
            Ok(p) => tracing::info!(
                login = %p.login(), facility = %p.slug(), device = %device.name, %peer, method,
                "kiosk unlocked"
            ),
            Err(f) => {
                tracing::warn!(login = %Clean(&user.login), device = %device.name, %peer, method,
                    reason = f.as_str(), "kiosk unlock failed");
            }
        }
        res
    }
}
