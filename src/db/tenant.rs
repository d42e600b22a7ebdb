//! The tenant transaction: the only handle through which tenant tables are read or written.

use sqlx::postgres::PgPool;
use sqlx::{AssertSqlSafe, PgConnection, Postgres, Transaction};

use super::route::{Route, Work};
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
    route: Route,
    /// The runtime pool's notification sender; `None` (the admin CLI): sent directly.
    notifier: Option<Notifier>,
    /// `pg_notify(channel, payload)` calls to make after the commit.
    notices: Vec<(String, String)>,
}

impl<'p> TenantTx<'p> {
    pub(crate) async fn begin(
        pool: &PgPool,
        route: Route,
        notifier: Option<&Notifier>,
        scope: Scope<'p>,
    ) -> Result<Self, DbError> {
        let facility = match &scope {
            Scope::Member(p) => p.facility(),
            Scope::Cli { facility, .. } | Scope::Device { facility, .. } => *facility,
        };
        // BEGIN and the scope in one round trip (a simple query). `true`: the setting ends
        // with the transaction, so a pooled connection (ours, or a PgBouncer's server
        // connection) never carries one facility's scope into the next borrower's work. The
        // id is an integer: nothing to escape.
        let begin = route.begin(Some(&format!(
            "SELECT set_config('app.facility_id', '{}', true)",
            facility.0
        )));
        // The pool does not ping a connection before lending it (a round trip per
        // transaction); a connection that died while idle (PostgreSQL restarted, a backend
        // was terminated) fails here instead, before anything was done, so it is safe to
        // try the next one. Failed connections are closed when they go back to the pool.
        let mut stale = 0;
        let tx = loop {
            match pool.begin_with(AssertSqlSafe(begin.clone())).await {
                Ok(tx) => break tx,
                Err(e)
                    if is_dead_connection(&e) && stale <= pool.options().get_max_connections() =>
                {
                    stale += 1;
                    tracing::info!(error = %e, "pooled connection was dead; trying another");
                }
                Err(e) => return Err(e.into()),
            }
        };
        Ok(Self {
            tx,
            scope,
            pool: pool.clone(),
            route,
            notifier: notifier.cloned(),
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
        if self.notices.is_empty() {
            return Ok(());
        }
        match &self.notifier {
            Some(n) => n.send(self.notices),
            None => send_notices(&self.pool, self.route, self.notices).await,
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<(), DbError> {
        Ok(self.tx.rollback().await?)
    }
}

/// Whether an error means the connection itself is gone (not the statement's fault).
fn is_dead_connection(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) => true,
        // Class 08: connection exception; 57P01-57P03: the server is shutting down,
        // crashed, or is restarting.
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
        _ => false,
    }
}

/// Sends notifications; the change they announce is committed whatever happens here: a lost
/// notification only delays other sessions' refresh until their next reload.
async fn send_notices(pool: &PgPool, route: Route, notices: Vec<(String, String)>) {
    let (channels, payloads): (Vec<String>, Vec<String>) = notices.into_iter().unzip();
    let sent = async {
        let mut work = Work::start(pool, route).await?;
        // A notifying transaction gets an id and a commit record; its commit need not wait
        // for the WAL flush (a notification lost in a crash only delays a refresh).
        sqlx::query(
            "SELECT set_config('synchronous_commit', 'off', true), pg_notify(c, p) \
             FROM unnest($1::text[], $2::text[]) AS n(c, p)",
        )
        .bind(channels)
        .bind(payloads)
        .execute(&mut *work)
        .await?;
        work.done().await
    };
    if let Err(e) = sent.await {
        tracing::warn!(error = %e, "live update not sent (the change is committed)");
    }
}

/// Sends the runtime pool's notifications from one task, many per round trip: a committed
/// transaction hands its notifications over and returns at once, instead of borrowing a
/// second pooled connection for a `pg_notify` of its own (which, at 50 clerks on a pool
/// of 50, waited for connections the transactions needed).
#[derive(Debug, Clone)]
pub struct Notifier {
    queue: tokio::sync::mpsc::Sender<(String, String)>,
}

/// Notifications waiting to be sent, at most; beyond that they are dropped (and logged).
const NOTIFY_QUEUE: usize = 8192;
/// Notifications per `pg_notify` round trip, at most.
const NOTIFY_BATCH: usize = 512;

impl Notifier {
    /// Starts the sending task; it ends when the last `Notifier` clone is dropped.
    pub fn spawn(pool: PgPool, route: Route) -> Self {
        let (queue, mut rx) = tokio::sync::mpsc::channel(NOTIFY_QUEUE);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(NOTIFY_BATCH);
            while rx.recv_many(&mut batch, NOTIFY_BATCH).await > 0 {
                send_notices(&pool, route, std::mem::take(&mut batch)).await;
            }
        });
        Self { queue }
    }

    fn send(&self, notices: Vec<(String, String)>) {
        for n in notices {
            if self.queue.try_send(n).is_err() {
                tracing::warn!("live update dropped: notification queue full or closed");
                return;
            }
        }
    }
}
