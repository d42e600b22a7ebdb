//! Login: SSH user name + credentials → [`Principal`], with lockout and uniform failures.
//!
//! Every failure looks the same from outside: unknown login, wrong password, wrong code,
//! no membership, disabled user and locked login all run one argon2 verification and are
//! rejected after the same fixed delay (russh's `auth_rejection_time`). The log says why.
//!
//! Here: the [`Authenticator`] for operators (publickey, password and TOTP, lockout, binding to
//! a facility); `user` (the SSH user name, failures), `shares` (the hashing pool per address),
//! `kiosk` (device keys and PIN unlock).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use russh::keys::PublicKey;

use crate::auth::{password, pubkey, totp};
use crate::config::{
    LOCKOUT_THRESHOLD, LOCKOUT_WINDOW, PEER_FAILURE_THRESHOLD, PIN_DEVICE_THRESHOLD,
};
use crate::db::unscoped::UserRecord;
use crate::db::{Db, credential_scope};
use crate::domain::{Principal, Source};
use crate::logging::Clean;
use crate::secrets::SecretsKey;

// The kiosk's login name and device are domain types (the database layer uses them too).
pub use crate::domain::{Device, KIOSK_LOGIN};

mod kiosk;
mod shares;
mod user;
use shares::*;
pub use user::*;

/// Turns credentials into a principal.
#[derive(Clone)]
pub struct Authenticator {
    db: Db,
    secrets: SecretsKey,
    shares: HashShares,
}

impl Authenticator {
    pub fn new(db: Db, secrets: SecretsKey) -> Self {
        Self {
            db,
            secrets,
            shares: HashShares::default(),
        }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The key that seals TOTP secrets.
    pub fn secrets(&self) -> &SecretsKey {
        &self.secrets
    }

    /// Whether `key` is worth a signature: it is registered (enabled) for that login and,
    /// when the user name names a facility, valid there. This answers the offered-key probe
    /// only; it never authenticates.
    /// `Err(Failure::Internal)`: the database could not answer (not a refusal).
    pub async fn key_may_sign(&self, user: &SshUser, key: &PublicKey) -> Result<bool, Failure> {
        let fp = pubkey::fingerprint(key);
        Ok(
            match self
                .db
                .unscoped()
                .active_key(&user.login, &fp)
                .await
                .map_err(internal)?
            {
                Some(k) => k.valid_for_slug(user.slug.as_deref()),
                None => false,
            },
        )
    }

    /// After russh verified the signature: binds the identity.
    pub async fn publickey(
        &self,
        user: &SshUser,
        key: &PublicKey,
        peer: IpAddr,
    ) -> Result<Principal, Failure> {
        let res = self.publickey_inner(user, key, peer).await;
        // A signature is proof of possession, not a guess: key logins never count towards
        // a lockout and are never refused by one (a flood of wrong passwords for `admin`
        // must not lock the owner's key out). russh bounds attempts per connection.
        self.after(user, peer, "publickey", &res, false).await;
        res
    }

    async fn publickey_inner(
        &self,
        user: &SshUser,
        key: &PublicKey,
        peer: IpAddr,
    ) -> Result<Principal, Failure> {
        let login = self.db.unscoped();
        let fp = pubkey::fingerprint(key);
        let active = login
            .active_key(&user.login, &fp)
            .await
            .map_err(internal)?
            .ok_or(Failure::UnknownKey)?;
        let key_id = active.id;
        // The fingerprint matched; make sure the key itself does too.
        let presented = key.to_openssh().map_err(|_| Failure::Internal)?;
        if presented.split_whitespace().nth(1) != active.public_key.split_whitespace().nth(1) {
            return Err(Failure::UnknownKey);
        }
        let record = login
            .user(&user.login)
            .await
            .map_err(internal)?
            .ok_or(Failure::UnknownLogin)?;
        let principal = self.bind(user, &record, peer).await?;
        // A key added in one facility's admin console opens that facility only, whatever
        // memberships the person gains later.
        if !active.valid_in(principal.facility()) {
            return Err(Failure::KeyNotValidHere);
        }
        // Bookkeeping off the login path: a durable write would add a commit to every login.
        let db = self.db.clone();
        tokio::spawn(async move {
            let _ = db.unscoped().mark_key_used(key_id).await;
        });
        Ok(principal)
    }

    /// Password and verification code, checked together after both prompts, so a failure
    /// never tells which of the two was wrong.
    pub async fn password_totp(
        &self,
        user: &SshUser,
        password: String,
        code: &str,
        peer: IpAddr,
    ) -> Result<Principal, Failure> {
        let res = self.password_totp_inner(user, password, code, peer).await;
        self.after(user, peer, "password+totp", &res, true).await;
        res
    }

    async fn password_totp_inner(
        &self,
        user: &SshUser,
        password: String,
        code: &str,
        peer: IpAddr,
    ) -> Result<Principal, Failure> {
        // Cheap refusals first: nothing unauthenticated reaches argon2 that a lock or a
        // malformed name would refuse anyway. (russh answers every rejection at the same
        // fixed time after the request, so the early return does not show.)
        if !user.is_login_name() {
            return Err(Failure::NotALogin);
        }
        self.check_lockout(user, peer).await?;
        let _share = self.shares.claim(peer)?;
        let record = self
            .db
            .unscoped()
            .user(&user.login)
            .await
            .map_err(internal)?;
        // One argon2 verification for known and unknown logins alike: equal cost.
        let password_ok = password::verify(
            password,
            record.as_ref().and_then(|r| r.password_hash.clone()),
        )
        .await
        .map_err(|_| Failure::Busy)?;
        let record = record.ok_or(Failure::UnknownLogin)?;
        if !password_ok {
            return Err(Failure::BadPassword);
        }
        if record.disabled {
            return Err(Failure::Disabled);
        }
        let step = self.totp_step(&record, code)?;
        // Membership before consuming the code: a code spent on a failed bind is not lost.
        let principal = self.bind(user, &record, peer).await?;
        self.consume_totp_step(record.id, step).await?;
        Ok(principal)
    }

    /// The time step `code` is valid for, for this user (not consumed yet). The one TOTP
    /// check of both login paths (SSH and kiosk unlock).
    fn totp_step(&self, record: &UserRecord, code: &str) -> Result<i64, Failure> {
        let sealed = record.totp_secret.as_ref().ok_or(Failure::NoTotp)?;
        let secret = self
            .secrets
            .open(&format!("user:{}", record.id), sealed)
            .map_err(|_| Failure::Internal)?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let step = totp::verify(&secret, code.trim(), now).ok_or(Failure::BadCode)?;
        i64::try_from(step).map_err(|_| Failure::BadCode)
    }

    /// Spends `step` for the user, atomically: a code opens one login or kiosk unlock, and
    /// of two racing with the same code one wins. Call it only once everything else passed.
    async fn consume_totp_step(&self, user_id: i64, step: i64) -> Result<(), Failure> {
        if self
            .db
            .unscoped()
            .accept_totp_step(user_id, step)
            .await
            .map_err(internal)?
        {
            Ok(())
        } else {
            Err(Failure::CodeReused)
        }
    }

    async fn bind(
        &self,
        user: &SshUser,
        record: &UserRecord,
        peer: IpAddr,
    ) -> Result<Principal, Failure> {
        if record.disabled {
            return Err(Failure::Disabled);
        }
        self.db
            .unscoped()
            .principal(
                record,
                user.slug.as_deref(),
                Source::Ssh {
                    peer: peer.to_string(),
                },
            )
            .await
            .map_err(internal)?
            .ok_or(if user.slug.is_none() {
                Failure::Ambiguous
            } else {
                Failure::NoMembership
            })
    }

    /// What to tell a person who proved who they are but whose login named no facility
    /// (and they have several) or one they are not in: the logins that would work. The
    /// typed facility is not repeated (it is the client's text), and a facility that
    /// exists answers like one that does not.
    /// `None`: they belong to no open facility (disabled everywhere): nothing to offer, the
    /// login is refused like any other (and not counted).
    pub async fn facility_hint(&self, user: &SshUser) -> Option<String> {
        let slugs = match self.db.unscoped().user(&user.login).await {
            Ok(Some(record)) => self
                .db
                .unscoped()
                .facility_slugs(record.id)
                .await
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let logins: Vec<String> = slugs
            .iter()
            .map(|s| format!("{}+{s}", user.login))
            .collect();
        Some(match (user.slug.is_some(), logins.as_slice()) {
            (_, []) => return None,
            (false, _) => format!(
                "{} belongs to several facilities; log in as {}",
                user.login,
                logins.join(" or ")
            ),
            (true, _) => format!(
                "{} is not a member of that facility; log in as {}",
                user.login,
                logins.join(" or ")
            ),
        })
    }

    async fn check_lockout(&self, user: &SshUser, peer: IpAddr) -> Result<(), Failure> {
        let (by_login, by_peer) = self
            .db
            .unscoped()
            .recent_failures(user.lockout_key(), &peer.to_string(), LOCKOUT_WINDOW)
            .await
            .map_err(internal)?;
        if by_login >= LOCKOUT_THRESHOLD {
            return Err(Failure::Locked);
        }
        if by_peer >= PEER_FAILURE_THRESHOLD {
            return Err(Failure::PeerLocked);
        }
        Ok(())
    }

    async fn after(
        &self,
        user: &SshUser,
        peer: IpAddr,
        method: &str,
        res: &Result<Principal, Failure>,
        countable: bool,
    ) {
        match res {
            Ok(p) => tracing::info!(
                login = %p.login(), facility = %p.slug(), role = %p.role(), %peer, method,
                "login succeeded"
            ),
            Err(f) => {
                // The login is the client's text: logged escaped, so it cannot forge a log
                // line or send escape sequences to whoever reads the log.
                tracing::warn!(login = %Clean(&user.login), facility = %Clean(user.slug.as_deref().unwrap_or("")), %peer, method,
                    reason = f.as_str(), "login failed");
                if countable && f.counts() && user.is_login_name() {
                    let _ = self
                        .db
                        .unscoped()
                        .record_failure(
                            user.lockout_key(),
                            &peer.to_string(),
                            f.as_str(),
                            LOCKOUT_WINDOW,
                        )
                        .await;
                }
            }
        }
    }
}

fn internal(e: crate::error::DbError) -> Failure {
    tracing::error!(error = %e, "database error during login");
    Failure::Internal
}

#[cfg(test)]
mod tests;
