//! How the runtime pool reaches PostgreSQL: directly, or through a pooler in transaction
//! mode (PgBouncer, `serve --pooled-database-url`; docs/DEPLOY.md).
//!
//! Behind a transaction pooler, a client connection gets a server connection for one
//! transaction at a time and nothing outside a transaction is ours: sqlx prepares a statement
//! (Parse, Sync) and runs it (Bind, Execute, Sync) in two exchanges, and between them the
//! pooler may hand the server to another client. PgBouncer 1.18 (Debian 12) does not track
//! prepared statements, so, measured through it (tests/it/pgbouncer.rs): statements outside a
//! transaction fail with `prepared statement "sqlx_s_1" already exists`, or bind to another
//! client's statement (`incorrect binary data format in bind parameter 1`); with the statement
//! cache off they still fail (sqlx names every statement and never closes it, and each client
//! counts from `sqlx_s_1`); a session-level `SET ROLE` run at connect stays on whichever
//! server connection ran it. What works, and what the pooled route does:
//!
//! - no statement cache, and every statement inside a transaction (the server is ours from
//!   BEGIN to COMMIT), which opens with `DEALLOCATE ALL` (the statements other clients left
//!   on this server connection) and `SET LOCAL ROLE packtrack_app` (whatever role the pooler
//!   logs in as, RLS applies, and nothing outlives the transaction);
//! - the facility scope is `set_config(…, true)`, transaction-local, as it always was;
//! - LISTEN needs a session of its own: the listener connects directly (`Db::listen_pool`).

use std::ops::{Deref, DerefMut};

use sqlx::pool::PoolConnection;
use sqlx::postgres::PgPool;
use sqlx::{AssertSqlSafe, PgConnection, Postgres, Transaction};

/// The way to PostgreSQL of a pool of the runtime role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Connections are sessions of their own (the embedded cluster, `DATABASE_URL`).
    Direct,
    /// Through a pooler in transaction mode: work only inside transactions (module doc).
    Pooled,
}

/// What a pooled transaction runs right after BEGIN, in the same round trip.
const POOLED_PRELUDE: &str = "DEALLOCATE ALL; SET LOCAL ROLE packtrack_app";

impl Route {
    /// The statement that opens a transaction on this route, with `then` (e.g. the facility
    /// scope) in the same simple query.
    pub(crate) fn begin(self, then: Option<&str>) -> String {
        let mut sql = String::from("BEGIN");
        if self == Route::Pooled {
            sql.push_str("; ");
            sql.push_str(POOLED_PRELUDE);
        }
        if let Some(t) = then {
            sql.push_str("; ");
            sql.push_str(t);
        }
        sql
    }
}

/// One piece of work outside a tenant transaction (the login lookups, notifications): a
/// pooled connection as it is on the direct route (no extra round trip), a transaction on
/// the pooled one. [`Work::done`] commits it.
pub(crate) enum Work {
    Conn(PoolConnection<Postgres>),
    Tx(Transaction<'static, Postgres>),
}

impl Work {
    pub(crate) async fn start(pool: &PgPool, route: Route) -> Result<Self, sqlx::Error> {
        Ok(match route {
            Route::Direct => Work::Conn(pool.acquire().await?),
            Route::Pooled => Work::Tx(pool.begin_with(AssertSqlSafe(route.begin(None))).await?),
        })
    }

    /// Commits the transaction (pooled route); a `Work` dropped instead rolls back.
    pub(crate) async fn done(self) -> Result<(), sqlx::Error> {
        match self {
            Work::Conn(_) => Ok(()),
            Work::Tx(tx) => tx.commit().await,
        }
    }
}

impl Deref for Work {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        match self {
            Work::Conn(c) => c,
            Work::Tx(t) => t,
        }
    }
}

impl DerefMut for Work {
    fn deref_mut(&mut self) -> &mut PgConnection {
        match self {
            Work::Conn(c) => c,
            Work::Tx(t) => t,
        }
    }
}

#[cfg(test)]
mod tests;
