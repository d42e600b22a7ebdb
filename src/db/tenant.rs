//! The tenant transaction: the only handle through which tenant tables are read or written.

use sqlx::postgres::PgPool;
use sqlx::{PgConnection, Postgres, Transaction};

use crate::domain::{FacilityId, Principal, Role, Source, UserId};
use crate::error::DbError;

/// Who a tenant transaction acts for.
#[derive(Debug, Clone)]
pub(crate) enum Scope<'p> {
    /// An authenticated member (SSH session).
    Member(&'p Principal),
    /// The admin CLI on the server host, for one facility it named by slug.
    Cli { facility: FacilityId, slug: String },
}

/// A transaction with `app.facility_id` set (transaction-local) to one facility. Only
/// [`super::Db::tenant`] (from a [`Principal`]) and the admin CLI can open one.
pub struct TenantTx<'p> {
    tx: Transaction<'static, Postgres>,
    scope: Scope<'p>,
}

impl<'p> TenantTx<'p> {
    pub(crate) async fn begin(pool: &PgPool, scope: Scope<'p>) -> Result<Self, DbError> {
        let mut tx = pool.begin().await?;
        let facility = match &scope {
            Scope::Member(p) => p.facility(),
            Scope::Cli { facility, .. } => *facility,
        };
        // `true`: the setting ends with the transaction, so a pooled connection never
        // carries one facility's scope into the next borrower's work.
        sqlx::query("SELECT set_config('app.facility_id', $1, true)")
            .bind(facility.0.to_string())
            .execute(&mut *tx)
            .await?;
        Ok(Self { tx, scope })
    }

    pub fn facility(&self) -> FacilityId {
        match &self.scope {
            Scope::Member(p) => p.facility(),
            Scope::Cli { facility, .. } => *facility,
        }
    }

    pub fn slug(&self) -> &str {
        match &self.scope {
            Scope::Member(p) => p.slug(),
            Scope::Cli { slug, .. } => slug,
        }
    }

    /// The acting user, or `None` for the admin CLI.
    pub fn actor_id(&self) -> Option<UserId> {
        match &self.scope {
            Scope::Member(p) => Some(p.user()),
            Scope::Cli { .. } => None,
        }
    }

    /// The actor as written in the audit log.
    pub fn actor_label(&self) -> &str {
        match &self.scope {
            Scope::Member(p) => p.login(),
            Scope::Cli { .. } => "cli",
        }
    }

    pub fn role(&self) -> Role {
        match &self.scope {
            Scope::Member(p) => p.role(),
            Scope::Cli { .. } => Role::Admin,
        }
    }

    /// The kiosk device the actor works at, if any.
    pub fn device_id(&self) -> Option<i64> {
        match &self.scope {
            Scope::Member(p) => p.source().device_id(),
            Scope::Cli { .. } => None,
        }
    }

    pub fn source(&self) -> String {
        match &self.scope {
            Scope::Member(p) => p.source().describe(),
            Scope::Cli { .. } => Source::Cli.describe(),
        }
    }

    pub(crate) fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    pub async fn commit(self) -> Result<(), DbError> {
        Ok(self.tx.commit().await?)
    }

    pub async fn rollback(self) -> Result<(), DbError> {
        Ok(self.tx.rollback().await?)
    }
}
