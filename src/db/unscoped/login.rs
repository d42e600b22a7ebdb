//! Login-time lookups, as the runtime role: the records the login path sees and the
//! queries that turn a login into a [`Principal`], before authentication completes.

use sqlx::{PgConnection, PgPool};

use crate::db::route::{Route, Work};
use crate::domain::{FacilityId, Principal, Role, Source, UserId};
use crate::error::DbError;

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
    route: Route,
}

impl<'a> Login<'a> {
    pub(crate) fn new(pool: &'a PgPool, route: Route) -> Self {
        Self { pool, route }
    }

    /// Runs `f` on a connection of the pool, in a transaction when the route needs one.
    async fn run<T>(
        &self,
        f: impl AsyncFnOnce(&mut PgConnection) -> Result<T, sqlx::Error>,
    ) -> Result<T, DbError> {
        let mut work = Work::start(self.pool, self.route).await?;
        let out = f(&mut work).await?;
        work.done().await?;
        Ok(out)
    }

    pub async fn user(&self, login: &str) -> Result<Option<UserRecord>, DbError> {
        // Hashes are not readable by SELECT for this role: one login at a time, through
        // the SECURITY DEFINER function (migration 0010).
        self.run(async |c| {
            sqlx::query_as("SELECT * FROM login_user($1)")
                .bind(login)
                .fetch_optional(c)
                .await
        })
        .await
    }

    /// `login`'s active key with this fingerprint, when the user and the key are both
    /// enabled, with where it is valid (the caller checks that against the facility bound).
    pub async fn active_key(
        &self,
        login: &str,
        fingerprint: &str,
    ) -> Result<Option<ActiveKey>, DbError> {
        self.run(async |c| {
            sqlx::query_as(
                "SELECT k.id, k.public_key, k.scope_facility_id, f.slug AS scope_slug \
                 FROM ssh_keys k JOIN users u ON u.id = k.user_id \
                 LEFT JOIN facilities f ON f.id = k.scope_facility_id \
                 WHERE u.login = $1 AND k.fingerprint = $2 \
                   AND k.disabled_at IS NULL AND u.disabled_at IS NULL",
            )
            .bind(login)
            .bind(fingerprint)
            .fetch_optional(c)
            .await
        })
        .await
    }

    pub async fn mark_key_used(&self, key_id: i64) -> Result<(), DbError> {
        self.run(async |c| {
            sqlx::query("UPDATE ssh_keys SET last_used_at = now() WHERE id = $1")
                .bind(key_id)
                .execute(c)
                .await
        })
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
        self.run(async |c| {
            sqlx::query_as("SELECT * FROM login_failure_counts($1, $2, $3)")
                .bind(login)
                .bind(peer)
                .bind(window.as_secs_f64())
                .fetch_one(c)
                .await
        })
        .await
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
        self.run(async |c| {
            sqlx::query_scalar("SELECT record_login_failure($1, $2, $3, $4)")
                .bind(login)
                .bind(peer)
                .bind(reason)
                .bind(window.as_secs_f64())
                .fetch_one(c)
                .await
        })
        .await
    }

    /// The slugs of every open facility the user belongs to, for the hint to a user who
    /// proved who they are but named no facility (or one they are not in).
    pub async fn facility_slugs(&self, user_id: i64) -> Result<Vec<String>, DbError> {
        self.run(async |c| {
            sqlx::query_scalar("SELECT slug FROM resolve_membership($1, NULL) ORDER BY slug")
                .bind(user_id)
                .fetch_all(c)
                .await
        })
        .await
    }

    /// Accepts a TOTP time step only if it is newer than the last accepted one, atomically:
    /// of two logins racing with the same code, one wins.
    pub async fn accept_totp_step(&self, user_id: i64, step: i64) -> Result<bool, DbError> {
        let n = self
            .run(async |c| {
                sqlx::query(
                    "UPDATE users SET totp_last_step = $2 \
                     WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
                )
                .bind(user_id)
                .bind(step)
                .execute(c)
                .await
            })
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
        self.run(async |c| {
            sqlx::query_as("SELECT * FROM resolve_device($1, $2)")
                .bind(slug)
                .bind(fingerprint)
                .fetch_optional(c)
                .await
        })
        .await
    }

    /// Binds a user to a facility: the named one (`LOGIN+SLUG`), or the only one they
    /// belong to. `None` when there is no such membership, or several and none named.
    pub async fn principal(
        &self,
        user: &UserRecord,
        slug: Option<&str>,
        source: Source,
    ) -> Result<Option<Principal>, DbError> {
        let rows: Vec<(i64, String, String, String, i32)> = self
            .run(async |c| {
                sqlx::query_as("SELECT * FROM resolve_membership($1, $2)")
                    .bind(user.id)
                    .bind(slug)
                    .fetch_all(c)
                    .await
            })
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
