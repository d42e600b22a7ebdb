//! The only queries that run without a facility scope: turning a login into a principal
//! (runtime role, before authentication completes) and the admin CLI (owner role, the root
//! of trust on the server host). Everything else goes through a [`TenantTx`].

use serde_json::{Value, json};
use sqlx::{PgConnection, PgPool};

use super::TenantTx;
use super::tenant::Scope;
use crate::auth::pubkey::KeyInfo;
use crate::domain::{FacilityId, Principal, Role, Source, UserId};
use crate::error::{AppError, DbError};

/// A user as the login path sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRecord {
    pub id: i64,
    pub login: String,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub totp_secret: Option<Vec<u8>>,
    pub totp_last_step: Option<i64>,
    pub pin_hash: Option<String>,
    pub disabled: bool,
}

/// A kiosk terminal as its login sees it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeviceRecord {
    pub facility_id: i64,
    pub slug: String,
    pub facility_name: String,
    pub device_id: i64,
    pub device_name: String,
    pub public_key: String,
    pub quarantined: bool,
    pub self_service: bool,
}

/// A registered, enabled key as the login path sees it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ActiveKey {
    pub id: i64,
    /// The OpenSSH line without comment.
    pub public_key: String,
    /// `None`: the person's key in every facility (admin CLI); `Some`: valid only in this
    /// facility (added in its admin console).
    pub scope_facility_id: Option<i64>,
    pub scope_slug: Option<String>,
}

impl ActiveKey {
    /// Whether the key may log in to `facility`.
    pub fn valid_in(&self, facility: FacilityId) -> bool {
        self.scope_facility_id.is_none_or(|f| f == facility.0)
    }

    /// Whether the key may log in to the facility the user name asks for (`LOGIN+SLUG`);
    /// with no slug, the facility bound later decides ([`ActiveKey::valid_in`]).
    pub fn valid_for_slug(&self, slug: Option<&str>) -> bool {
        match (&self.scope_slug, slug) {
            (Some(scope), Some(asked)) => scope == asked,
            _ => true,
        }
    }
}

/// Login-time lookups, as the runtime role.
pub struct Login<'a> {
    pool: &'a PgPool,
}

impl<'a> Login<'a> {
    pub(crate) fn new(pool: &'a PgPool) -> Self {
        Self { pool }
    }

    pub async fn user(&self, login: &str) -> Result<Option<UserRecord>, DbError> {
        // Hashes are not readable by SELECT for this role: one login at a time, through
        // the SECURITY DEFINER function (migration 0010).
        Ok(sqlx::query_as("SELECT * FROM login_user($1)")
            .bind(login)
            .fetch_optional(self.pool)
            .await?)
    }

    /// `login`'s active key with this fingerprint, when the user and the key are both
    /// enabled, with where it is valid (the caller checks that against the facility bound).
    pub async fn active_key(
        &self,
        login: &str,
        fingerprint: &str,
    ) -> Result<Option<ActiveKey>, DbError> {
        Ok(sqlx::query_as(
            "SELECT k.id, k.public_key, k.scope_facility_id, f.slug AS scope_slug \
             FROM ssh_keys k JOIN users u ON u.id = k.user_id \
             LEFT JOIN facilities f ON f.id = k.scope_facility_id \
             WHERE u.login = $1 AND k.fingerprint = $2 \
               AND k.disabled_at IS NULL AND u.disabled_at IS NULL",
        )
        .bind(login)
        .bind(fingerprint)
        .fetch_optional(self.pool)
        .await?)
    }

    pub async fn mark_key_used(&self, key_id: i64) -> Result<(), DbError> {
        sqlx::query("UPDATE ssh_keys SET last_used_at = now() WHERE id = $1")
            .bind(key_id)
            .execute(self.pool)
            .await?;
        Ok(())
    }

    /// Failed logins within `window` for this login and from this peer address.
    pub async fn recent_failures(
        &self,
        login: &str,
        peer: &str,
        window: std::time::Duration,
    ) -> Result<(i64, i64), DbError> {
        Ok(
            sqlx::query_as("SELECT * FROM login_failure_counts($1, $2, $3)")
                .bind(login)
                .bind(peer)
                .bind(window.as_secs_f64())
                .fetch_one(self.pool)
                .await?,
        )
    }

    /// Records a failed login; rows older than `window` go at the same time. `false`: not
    /// recorded, because `login` cannot be a login name (nothing to lock).
    pub async fn record_failure(
        &self,
        login: &str,
        peer: &str,
        reason: &str,
        window: std::time::Duration,
    ) -> Result<bool, DbError> {
        Ok(
            sqlx::query_scalar("SELECT record_login_failure($1, $2, $3, $4)")
                .bind(login)
                .bind(peer)
                .bind(reason)
                .bind(window.as_secs_f64())
                .fetch_one(self.pool)
                .await?,
        )
    }

    /// The slugs of every open facility the user belongs to, for the hint to a user who
    /// proved who they are but named no facility (or one they are not in).
    pub async fn facility_slugs(&self, user_id: i64) -> Result<Vec<String>, DbError> {
        Ok(
            sqlx::query_scalar("SELECT slug FROM resolve_membership($1, NULL) ORDER BY slug")
                .bind(user_id)
                .fetch_all(self.pool)
                .await?,
        )
    }

    /// Accepts a TOTP time step only if it is newer than the last accepted one, atomically:
    /// of two logins racing with the same code, one wins.
    pub async fn accept_totp_step(&self, user_id: i64, step: i64) -> Result<bool, DbError> {
        let n = sqlx::query(
            "UPDATE users SET totp_last_step = $2 \
             WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
        )
        .bind(user_id)
        .bind(step)
        .execute(self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// A kiosk device by facility slug and key fingerprint.
    pub async fn device(
        &self,
        slug: &str,
        fingerprint: &str,
    ) -> Result<Option<DeviceRecord>, DbError> {
        Ok(sqlx::query_as("SELECT * FROM resolve_device($1, $2)")
            .bind(slug)
            .bind(fingerprint)
            .fetch_optional(self.pool)
            .await?)
    }

    /// Binds a user to a facility: the named one (`LOGIN+SLUG`), or the only one they
    /// belong to. `None` when there is no such membership, or several and none named.
    pub async fn principal(
        &self,
        user: &UserRecord,
        slug: Option<&str>,
        source: Source,
    ) -> Result<Option<Principal>, DbError> {
        let rows: Vec<(i64, String, String, String, i32)> =
            sqlx::query_as("SELECT * FROM resolve_membership($1, $2)")
                .bind(user.id)
                .bind(slug)
                .fetch_all(self.pool)
                .await?;
        let pick = match (slug, rows.as_slice()) {
            (Some(_), [one]) => Some(one),
            (None, [one]) if one.4 == 1 => Some(one),
            _ => None,
        };
        Ok(pick.and_then(|(facility, slug, name, role, _)| {
            let role: Role = role.parse().ok()?;
            Some(Principal::new(
                UserId(user.id),
                user.login.clone(),
                FacilityId(*facility),
                slug.clone(),
                name.clone(),
                role,
                source,
            ))
        }))
    }
}

/// The admin CLI's view of the database, as the owner role.
pub struct Admin<'a> {
    pool: &'a PgPool,
}

impl<'a> Admin<'a> {
    pub fn new(pool: &'a PgPool) -> Self {
        Self { pool }
    }

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

    /// Creates the user when missing (with `password_hash` when given) and adds or changes
    /// their membership of `slug`. Returns whether the user was created.
    pub async fn add_user(
        &self,
        login: &str,
        display_name: &str,
        slug: &str,
        role: Role,
        password_hash: Option<String>,
    ) -> Result<bool, AppError> {
        if login == crate::domain::KIOSK_LOGIN {
            return Err(AppError::Invalid(
                "`kiosk` is reserved for kiosk terminals (kiosk+FACILITY)".into(),
            ));
        }
        if !crate::domain::valid_login(login) {
            return Err(AppError::Invalid(format!(
                "invalid login `{login}`: use 1-63 lower-case letters, digits, '.', '_' and '-'"
            )));
        }
        let facility = self.facility_id(slug).await?;
        let mut tx = self.pool.begin().await?;
        let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE login = $1")
            .bind(login)
            .fetch_optional(&mut *tx)
            .await?;
        let (user_id, created) = match existing {
            Some(id) => (id, false),
            None => {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO users (login, display_name) VALUES ($1, $2) RETURNING id",
                )
                .bind(login)
                .bind(display_name)
                .fetch_one(&mut *tx)
                .await?;
                (id, true)
            }
        };
        if let Some(hash) = &password_hash {
            sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                .bind(user_id)
                .bind(hash)
                .execute(&mut *tx)
                .await?;
        }
        let joins: bool = sqlx::query_scalar(
            "SELECT NOT EXISTS (SELECT 1 FROM memberships WHERE facility_id = $1 AND user_id = $2)",
        )
        .bind(facility.0)
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO memberships (facility_id, user_id, role) VALUES ($1, $2, $3) \
             ON CONFLICT (facility_id, user_id) DO UPDATE SET role = EXCLUDED.role",
        )
        .bind(facility.0)
        .bind(user_id)
        .bind(role.as_str())
        .execute(&mut *tx)
        .await?;
        audit_in(
            &mut tx,
            facility.0,
            if created {
                "user.add"
            } else {
                "membership.set"
            },
            login,
            json!({ "role": role.as_str(), "password_set": password_hash.is_some() }),
        )
        .await?;
        if joins && !created {
            // An existing person's all-facilities credentials log in here from now on: the
            // new facility's chain records which (never a secret).
            let detail = super::credential_scope::global_credentials(&mut tx, user_id).await?;
            audit_in(&mut tx, facility.0, "membership.credentials", login, detail).await?;
        }
        tx.commit().await?;
        Ok(created)
    }

    async fn user_id(&self, conn: &mut PgConnection, login: &str) -> Result<i64, AppError> {
        sqlx::query_scalar("SELECT id FROM users WHERE login = $1")
            .bind(login)
            .fetch_optional(conn)
            .await?
            .ok_or_else(|| AppError::Invalid(format!("no user with login `{login}`")))
    }

    pub async fn add_key(&self, login: &str, key: &KeyInfo) -> Result<(), AppError> {
        let mut tx = self.pool.begin().await?;
        let user_id = self.user_id(&mut tx, login).await?;
        let inserted = sqlx::query(
            "INSERT INTO ssh_keys (user_id, fingerprint, algorithm, public_key, comment) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (fingerprint, user_id) DO NOTHING",
        )
        .bind(user_id)
        .bind(&key.fingerprint)
        .bind(&key.algorithm)
        .bind(&key.public_key)
        .bind(&key.comment)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Err(AppError::Conflict(format!(
                "key {} is already registered for `{login}`",
                key.fingerprint
            )));
        }
        audit_user_event(
            &mut tx,
            user_id,
            "key.add",
            login,
            json!({ "fingerprint": key.fingerprint, "algorithm": key.algorithm }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores a sealed TOTP secret (replacing any previous one) and resets the replay guard.
    pub async fn set_totp(
        &self,
        login: &str,
        seal: impl FnOnce(UserId) -> Vec<u8>,
    ) -> Result<(), AppError> {
        let mut tx = self.pool.begin().await?;
        let user_id = self.user_id(&mut tx, login).await?;
        sqlx::query("UPDATE users SET totp_secret = $2, totp_last_step = NULL WHERE id = $1")
            .bind(user_id)
            .bind(seal(UserId(user_id)))
            .execute(&mut *tx)
            .await?;
        audit_user_event(&mut tx, user_id, "totp.enroll", login, json!({})).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn user_facility_slugs(&self, login: &str) -> Result<Vec<String>, DbError> {
        Ok(sqlx::query_scalar(
            "SELECT f.slug FROM memberships m JOIN facilities f ON f.id = m.facility_id \
             JOIN users u ON u.id = m.user_id WHERE u.login = $1 ORDER BY f.slug",
        )
        .bind(login)
        .fetch_all(self.pool)
        .await?)
    }
}

impl Admin<'_> {
    /// Sets (or replaces) the facility's SMTP server.
    pub async fn set_smtp(
        &self,
        slug: &str,
        url: &str,
        from: &str,
        username: Option<&str>,
        sealed_password: impl FnOnce(FacilityId) -> Option<Vec<u8>>,
    ) -> Result<(), AppError> {
        let facility = self.facility_id(slug).await?;
        let secret = sealed_password(facility);
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO integrations (facility_id, kind, url, sender, username, secret) \
             VALUES ($1, 'smtp', $2, $3, $4, $5) \
             ON CONFLICT (facility_id) WHERE kind = 'smtp' DO UPDATE \
             SET url = EXCLUDED.url, sender = EXCLUDED.sender, username = EXCLUDED.username, \
                 secret = EXCLUDED.secret, enabled = true, last_error = NULL",
        )
        .bind(facility.0)
        .bind(url)
        .bind(from)
        .bind(username)
        .bind(&secret)
        .execute(&mut *tx)
        .await?;
        audit_in(
            &mut tx,
            facility.0,
            "integration.smtp.set",
            url,
            json!({ "from": from, "password_set": secret.is_some() }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets (or replaces) the facility's SMS API: `url` gets a JSON POST per message, with
    /// the sealed token as a bearer token when there is one. `shown_url` (the URL without
    /// credentials or query string, which may carry an API key) goes into the audit row.
    pub async fn set_sms(
        &self,
        slug: &str,
        url: &str,
        shown_url: &str,
        sealed_token: impl FnOnce(FacilityId) -> Option<Vec<u8>>,
    ) -> Result<(), AppError> {
        let facility = self.facility_id(slug).await?;
        let secret = sealed_token(facility);
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO integrations (facility_id, kind, url, secret) \
             VALUES ($1, 'sms', $2, $3) \
             ON CONFLICT (facility_id) WHERE kind = 'sms' DO UPDATE \
             SET url = EXCLUDED.url, secret = EXCLUDED.secret, enabled = true, \
                 last_error = NULL",
        )
        .bind(facility.0)
        .bind(url)
        .bind(&secret)
        .execute(&mut *tx)
        .await?;
        audit_in(
            &mut tx,
            facility.0,
            "integration.sms.set",
            shown_url,
            json!({ "token_set": secret.is_some() }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds a webhook; returns its id.
    pub async fn add_webhook(
        &self,
        slug: &str,
        url: &str,
        sealed_secret: impl FnOnce(FacilityId) -> Vec<u8>,
    ) -> Result<i64, AppError> {
        let facility = self.facility_id(slug).await?;
        let secret = sealed_secret(facility);
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO integrations (facility_id, kind, url, secret) \
             VALUES ($1, 'webhook', $2, $3) RETURNING id",
        )
        .bind(facility.0)
        .bind(url)
        .bind(&secret)
        .fetch_one(&mut *tx)
        .await?;
        audit_in(
            &mut tx,
            facility.0,
            "integration.webhook.add",
            url,
            json!({ "id": id }),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Re-seals every stored secret with the key ring's current key, in one transaction.
    /// Returns how many values were re-sealed.
    pub async fn reseal_all(&self, keys: &crate::secrets::SecretsKey) -> Result<u64, AppError> {
        let mut tx = self.pool.begin().await?;
        let mut n = 0;
        let users: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT id, totp_secret FROM users WHERE totp_secret IS NOT NULL FOR UPDATE",
        )
        .fetch_all(&mut *tx)
        .await?;
        for (id, sealed) in users {
            let owner = format!("user:{id}");
            let plain = keys.open(&owner, &sealed)?;
            sqlx::query("UPDATE users SET totp_secret = $2 WHERE id = $1")
                .bind(id)
                .bind(keys.seal(&owner, &plain))
                .execute(&mut *tx)
                .await?;
            n += 1;
        }
        let secrets: Vec<(i64, i64, Vec<u8>)> = sqlx::query_as(
            "SELECT facility_id, id, secret FROM integrations WHERE secret IS NOT NULL FOR UPDATE",
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut facilities = std::collections::BTreeSet::new();
        for (facility, id, sealed) in secrets {
            let owner = format!("facility:{facility}");
            let plain = keys.open(&owner, &sealed)?;
            sqlx::query("UPDATE integrations SET secret = $3 WHERE facility_id = $1 AND id = $2")
                .bind(facility)
                .bind(id)
                .bind(keys.seal(&owner, &plain))
                .execute(&mut *tx)
                .await?;
            facilities.insert(facility);
            n += 1;
        }
        let all: Vec<i64> = sqlx::query_scalar("SELECT id FROM facilities")
            .fetch_all(&mut *tx)
            .await?;
        for f in all {
            audit_in(
                &mut tx,
                f,
                "secrets.rotate",
                &keys.id_hex(),
                json!({ "resealed": n }),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(n)
    }
}

impl Admin<'_> {
    /// Registers a kiosk terminal of a facility with its own key.
    pub async fn add_device(&self, slug: &str, name: &str, key: &KeyInfo) -> Result<(), AppError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 80 {
            return Err(AppError::Invalid("a device name is 1-80 characters".into()));
        }
        let facility = self.facility_id(slug).await?;
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO devices (facility_id, name, fingerprint, public_key) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(facility.0)
        .bind(name)
        .bind(&key.fingerprint)
        .bind(&key.public_key)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Err(AppError::Conflict(format!(
                "a device named `{name}` or with key {} already exists",
                key.fingerprint
            )));
        }
        audit_in(
            &mut tx,
            facility.0,
            "device.add",
            name,
            json!({ "fingerprint": key.fingerprint }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Turns self-service pickup on or off for a device (recipients type their pickup code
    /// on its lock screen; staff confirm with their PIN). Audited as `device.self_service`.
    pub async fn set_self_service(&self, slug: &str, name: &str, on: bool) -> Result<(), AppError> {
        let facility = self.facility_id(slug).await?;
        let mut tx = self.pool.begin().await?;
        let was: bool = sqlx::query_scalar(
            "UPDATE devices d SET self_service = $3 FROM devices old \
             WHERE d.facility_id = $1 AND d.name = $2 \
               AND old.facility_id = d.facility_id AND old.id = d.id \
             RETURNING old.self_service",
        )
        .bind(facility.0)
        .bind(name)
        .bind(on)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::Invalid(format!("no device named `{name}` in {slug}")))?;
        audit_in(
            &mut tx,
            facility.0,
            "device.self_service",
            name,
            json!({ "from": was, "to": on }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Quarantines a device (`reason` given) or releases it (`None`). A quarantine ends the
    /// device's open sessions at once (they listen on the facility's channel).
    pub async fn quarantine_device(
        &self,
        slug: &str,
        name: &str,
        reason: Option<&str>,
    ) -> Result<(), AppError> {
        let facility = self.facility_id(slug).await?;
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "UPDATE devices SET quarantined_at = CASE WHEN $3::text IS NULL THEN NULL ELSE now() END, \
                 quarantine_reason = $3 \
             WHERE facility_id = $1 AND name = $2 RETURNING id",
        )
        .bind(facility.0)
        .bind(name)
        .bind(reason)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::Invalid(format!("no device named `{name}` in {slug}")))?;
        let action = if reason.is_some() {
            "device.quarantine"
        } else {
            "device.release"
        };
        audit_in(
            &mut tx,
            facility.0,
            action,
            name,
            json!({ "reason": reason }),
        )
        .await?;
        if reason.is_some() {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(crate::db::packages::channel(facility))
                .bind(json!({ "kind": "device", "ids": [id], "by": "cli" }).to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Sets a user's kiosk PIN (an argon2id hash).
    pub async fn set_pin(&self, login: &str, pin_hash: &str) -> Result<(), AppError> {
        let mut tx = self.pool.begin().await?;
        let user_id = self.user_id(&mut tx, login).await?;
        sqlx::query("UPDATE users SET pin_hash = $2 WHERE id = $1")
            .bind(user_id)
            .bind(pin_hash)
            .execute(&mut *tx)
            .await?;
        audit_user_event(&mut tx, user_id, "pin.set", login, json!({})).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Appends an audit row for `facility` in an owner transaction.
async fn audit_in(
    conn: &mut PgConnection,
    facility: i64,
    action: &str,
    target: &str,
    detail: Value,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO audit_log (facility_id, actor, action, target, detail) \
         VALUES ($1, 'cli', $2, $3, $4)",
    )
    .bind(facility)
    .bind(action)
    .bind(target)
    .bind(detail)
    .execute(conn)
    .await?;
    Ok(())
}

/// User-level changes (keys, TOTP) are recorded in the chain of every facility the user
/// belongs to, so each facility's admins see what changed about their staff.
async fn audit_user_event(
    conn: &mut PgConnection,
    user_id: i64,
    action: &str,
    target: &str,
    detail: Value,
) -> Result<(), DbError> {
    let facilities: Vec<i64> = sqlx::query_scalar(
        "SELECT facility_id FROM memberships WHERE user_id = $1 ORDER BY facility_id",
    )
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?;
    for f in facilities {
        audit_in(conn, f, action, target, detail.clone()).await?;
    }
    Ok(())
}
