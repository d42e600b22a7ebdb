//! Login: SSH user name + credentials → [`Principal`], with lockout and uniform failures.
//!
//! Every failure looks the same from outside: unknown login, wrong password, wrong code,
//! no membership, disabled user and locked login all run one argon2 verification and are
//! rejected after the same fixed delay (russh's `auth_rejection_time`). The log says why.

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

/// `LOGIN+SLUG` or `LOGIN`, as typed in `ssh LOGIN+SLUG@host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshUser {
    pub login: String,
    pub slug: Option<String>,
}

/// Longest SSH user name looked at: a login (63) + `+` + a slug (40), with room to spare.
/// Longer names cannot be a login; they are cut before anything copies them around.
const MAX_USER_NAME: usize = 128;

impl SshUser {
    pub fn parse(user: &str) -> Self {
        let cut = user
            .char_indices()
            .nth(MAX_USER_NAME)
            .map_or(user, |(i, _)| &user[..i]);
        let user = cut.trim().to_ascii_lowercase();
        match user.split_once('+') {
            Some((login, slug)) => Self {
                login: login.to_string(),
                slug: Some(slug.to_string()),
            },
            None => Self {
                login: user,
                slug: None,
            },
        }
    }

    /// What lockout counts against: the login (also for logins that do not exist).
    fn lockout_key(&self) -> &str {
        &self.login
    }

    /// Whether the login part can be a person's login (the `users.login` rule). Anything
    /// else — `pickup-code:device:1`, a name with control characters — names nobody: it
    /// is refused without hashing and without touching any counter.
    pub fn is_login_name(&self) -> bool {
        crate::domain::valid_login(&self.login) && self.login != KIOSK_LOGIN
    }
}

/// Why a login failed (for the log only; the client never learns it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    UnknownLogin,
    BadPassword,
    BadCode,
    CodeReused,
    NoTotp,
    Disabled,
    NoMembership,
    /// Several facilities and none named (`dave` instead of `dave+north`).
    Ambiguous,
    Locked,
    PeerLocked,
    UnknownKey,
    KeyNotValidHere,
    Quarantined,
    NoPin,
    /// Not a possible login name (see [`SshUser::is_login_name`]).
    NotALogin,
    /// The hashing queue is full, or this address already has its share of it.
    Busy,
    Internal,
}

impl Failure {
    pub fn as_str(self) -> &'static str {
        match self {
            Failure::UnknownLogin => "unknown login",
            Failure::BadPassword => "wrong password",
            Failure::BadCode => "wrong verification code",
            Failure::CodeReused => "verification code already used",
            Failure::NoTotp => "no TOTP enrolled",
            Failure::Disabled => "user disabled",
            Failure::NoMembership => "no membership for the facility",
            Failure::Ambiguous => "several facilities, none named",
            Failure::Locked => "login locked after repeated failures",
            Failure::PeerLocked => "peer address locked after repeated failures",
            Failure::UnknownKey => "key not registered for this login",
            Failure::KeyNotValidHere => "key valid only in another facility",
            Failure::Quarantined => "device quarantined",
            Failure::NoPin => "no kiosk PIN set",
            Failure::NotALogin => "not a login name",
            Failure::Busy => "password hashing busy",
            Failure::Internal => "internal error",
        }
    }

    /// Failures that may be guesses at a secret count towards lockout. Not counted:
    /// attempts refused because of a lock (they do not extend it), refusals before any
    /// secret was checked, and honest mistakes after the secret was right — a facility the
    /// person is not in, no facility named when they have several, a code used twice
    /// within its step.
    pub fn counts(self) -> bool {
        matches!(
            self,
            Failure::UnknownLogin
                | Failure::BadPassword
                | Failure::BadCode
                | Failure::NoTotp
                | Failure::Disabled
                | Failure::NoPin
        )
    }

    /// The person proved who they are but the facility part of the login did not work:
    /// they get in far enough to be told which logins would (see `ssh::server`).
    pub fn is_facility_mistake(self) -> bool {
        matches!(self, Failure::NoMembership | Failure::Ambiguous)
    }
}

/// Password verifications one peer address may have queued or running at once. The
/// hashing pool is small (a core or two); one address flooding logins must leave room for
/// everyone else.
const HASHES_PER_PEER: usize = 2;

/// Per-address share of the hashing pool.
#[derive(Clone, Default)]
struct HashShares(Arc<Mutex<HashMap<IpAddr, usize>>>);

/// One claimed share; given back when dropped.
struct HashShare {
    shares: HashShares,
    peer: IpAddr,
}

impl HashShares {
    fn claim(&self, peer: IpAddr) -> Result<HashShare, Failure> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(peer).or_insert(0);
        if *n >= HASHES_PER_PEER {
            return Err(Failure::Busy);
        }
        *n += 1;
        Ok(HashShare {
            shares: self.clone(),
            peer,
        })
    }
}

impl Drop for HashShare {
    fn drop(&mut self) {
        let mut map = self.shares.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.peer) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.peer);
            }
        }
    }
}

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
            let pin_hash =
                credential_scope::kiosk_pin_hash(self.db.pool(), &user.login, device.facility)
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
