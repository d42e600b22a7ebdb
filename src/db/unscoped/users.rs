//! Users and their memberships, keys, TOTP and kiosk PIN, as the admin CLI sets them.
//! Changes to a person are audited in every facility they belong to.

use serde_json::json;
use sqlx::PgConnection;

use super::{Admin, KeyInfo, audit_in, audit_user_event};
use crate::domain::{Role, UserId};
use crate::error::{AppError, DbError};

impl Admin<'_> {
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
        if let Some(problem) = crate::domain::login_problem(login) {
            return Err(AppError::Invalid(problem));
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
            let detail = crate::db::credential_scope::global_credentials(&mut tx, user_id).await?;
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
