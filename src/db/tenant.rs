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
    /// A locked kiosk terminal acting for nobody yet (its settings, self-service pickup
    /// lookups); opened only from an authenticated device (`crate::db::kiosk`).
    Device {
        facility: FacilityId,
        slug: String,
        device_id: i64,
        /// `kiosk:NAME`, as the audit log names the terminal.
        label: String,
        source: String,
    },
}

/// A transaction with `app.facility_id` set (transaction-local) to one facility. Only
/// [`super::Db::tenant`] (from a [`Principal`]) and the admin CLI can open one.
pub struct TenantTx<'p> {
    tx: Transaction<'static, Postgres>,
    scope: Scope<'p>,
    /// Where the notifications go once the transaction committed.
    pool: PgPool,
    /// `pg_notify(channel, payload)` calls to make after the commit.
    notices: Vec<(String, String)>,
}

impl<'p> TenantTx<'p> {
    pub(crate) async fn begin(pool: &PgPool, scope: Scope<'p>) -> Result<Self, DbError> {
        let mut tx = pool.begin().await?;
        let facility = match &scope {
            Scope::Member(p) => p.facility(),
            Scope::Cli { facility, .. } | Scope::Device { facility, .. } => *facility,
        };
        // `true`: the setting ends with the transaction, so a pooled connection never
        // carries one facility's scope into the next borrower's work.
        sqlx::query("SELECT set_config('app.facility_id', $1, true)")
            .bind(facility.0.to_string())
            .execute(&mut *tx)
            .await?;
        Ok(Self {
            tx,
            scope,
            pool: pool.clone(),
            notices: Vec::new(),
        })
    }

    pub fn facility(&self) -> FacilityId {
        match &self.scope {
            Scope::Member(p) => p.facility(),
            Scope::Cli { facility, .. } | Scope::Device { facility, .. } => *facility,
        }
    }

    pub fn slug(&self) -> &str {
        match &self.scope {
            Scope::Member(p) => p.slug(),
            Scope::Cli { slug, .. } | Scope::Device { slug, .. } => slug,
        }
    }

    /// The acting user, or `None` for the admin CLI.
    pub fn actor_id(&self) -> Option<UserId> {
        match &self.scope {
            Scope::Member(p) => Some(p.user()),
            Scope::Cli { .. } | Scope::Device { .. } => None,
        }
    }

    /// The actor as written in the audit log.
    pub fn actor_label(&self) -> &str {
        match &self.scope {
            Scope::Member(p) => p.login(),
            Scope::Cli { .. } => "cli",
            Scope::Device { label, .. } => label,
        }
    }

    pub fn role(&self) -> Role {
        match &self.scope {
            Scope::Member(p) => p.role(),
            Scope::Cli { .. } => Role::Admin,
            // Nobody is logged in: it may read what a locked kiosk shows, nothing more.
            Scope::Device { .. } => Role::Viewer,
        }
    }

    /// The kiosk device the actor works at, if any.
    pub fn device_id(&self) -> Option<i64> {
        match &self.scope {
            Scope::Member(p) => p.source().device_id(),
            Scope::Cli { .. } => None,
            Scope::Device { device_id, .. } => Some(*device_id),
        }
    }

    pub fn source(&self) -> String {
        match &self.scope {
            Scope::Member(p) => p.source().describe(),
            Scope::Cli { .. } => Source::Cli.describe(),
            Scope::Device { source, .. } => source.clone(),
        }
    }

    pub(crate) fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    /// Sends `pg_notify(channel, payload)` once this transaction has committed (never if it
    /// rolls back). Not inside it: a transaction that notifies holds PostgreSQL's global
    /// notification lock through its commit's WAL flush, which serialises every notifying
    /// commit of the database (measured: intake fell from ~4,300 to ~1,100 commits/s at 16
    /// clients; docs/PERFORMANCE.md, issue 8).
    pub(crate) fn notify_after_commit(&mut self, channel: String, payload: String) {
        self.notices.push((channel, payload));
    }

    pub async fn commit(self) -> Result<(), DbError> {
        self.tx.commit().await?;
        if !self.notices.is_empty() {
            // The change is committed whatever happens here: a lost notification only
            // delays other sessions' refresh until their next reload.
            let (channels, payloads): (Vec<String>, Vec<String>) = self.notices.into_iter().unzip();
            if let Err(e) =
                sqlx::query("SELECT pg_notify(c, p) FROM unnest($1::text[], $2::text[]) AS n(c, p)")
                    .bind(channels)
                    .bind(payloads)
                    .execute(&self.pool)
                    .await
            {
                tracing::warn!(error = %e, "live update not sent (the change is committed)");
            }
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<(), DbError> {
        Ok(self.tx.rollback().await?)
    }
}
