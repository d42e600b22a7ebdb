//! Database access. The runtime pool connects as `packtrack_app` (row level security applies);
//! tenant data is reachable only through a [`TenantTx`]. The owner pool is for migrations and
//! the admin CLI, through [`unscoped`].

pub mod audit;
pub mod backups;
pub mod credential_scope;
pub mod guesses;
pub mod integrations;
pub mod keys_admin;
pub mod kiosk;
pub mod members;
pub mod outbox;
pub mod outbox_admin;
pub mod packages;
pub mod pg;
pub mod recipients;
pub mod route;
pub mod settings;
pub mod supervisor;
pub mod tenant;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod unscoped;

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Executor};

use crate::config::{APP_POOL_SIZE, Config};
use crate::domain::Principal;
use crate::error::{AppError, DbError};

/// A pooled connection idle this long is pinged before it is lent out.
const IDLE_PING_AFTER: Duration = Duration::from_secs(2);
pub use pg::{ClusterOptions, EmbeddedCluster};
pub use route::Route;
pub use tenant::TenantTx;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How the runtime role is reached.
#[derive(Debug, Clone)]
enum AppLogin {
    /// Log in as `packtrack_app` with its own password (embedded cluster).
    Direct(PgConnectOptions),
    /// Log in as the owner and `SET ROLE packtrack_app` (external server, where we do not
    /// know the runtime role's password). RLS applies to the current role either way.
    SetRole(PgConnectOptions),
}

/// The PostgreSQL server in use: the embedded cluster or the one `DATABASE_URL` names.
#[derive(Debug)]
pub struct Database {
    cluster: Option<Arc<EmbeddedCluster>>,
    owner: PgConnectOptions,
    app: AppLogin,
    owner_url: String,
}

impl Database {
    /// Resolves the configured server, starting the embedded cluster when needed, and makes
    /// sure the roles and the database exist. Does not migrate.
    pub async fn open(cfg: &Config) -> Result<Self, DbError> {
        Self::open_with(cfg, ClusterOptions::default()).await
    }

    /// [`Database::open`] with options for the embedded cluster (`serve` sets archiving).
    pub async fn open_with(cfg: &Config, opts: ClusterOptions) -> Result<Self, DbError> {
        match &cfg.database_url {
            Some(url) => Self::external(url).await,
            None => {
                let data_dir = cfg.data_dir.clone();
                let cluster =
                    tokio::task::spawn_blocking(move || EmbeddedCluster::start(&data_dir, opts))
                        .await
                        .map_err(|e| DbError::Setup(format!("cluster start panicked: {e}")))??;
                Self::embedded(Arc::new(cluster), pg::DATABASE).await
            }
        }
    }

    /// Uses `database` on an already running embedded cluster, creating roles and the
    /// database when missing.
    pub async fn embedded(cluster: Arc<EmbeddedCluster>, database: &str) -> Result<Self, DbError> {
        bootstrap(&cluster, database).await?;
        let auth = cluster.auth();
        Ok(Self {
            owner: cluster.connect_options(pg::OWNER_ROLE, &auth.owner, database),
            app: AppLogin::Direct(cluster.connect_options(pg::APP_ROLE, &auth.app, database)),
            owner_url: cluster.url(pg::OWNER_ROLE, &auth.owner, database),
            cluster: Some(cluster),
        })
    }

    async fn external(url: &str) -> Result<Self, DbError> {
        let owner: PgConnectOptions = url
            .parse()
            .map_err(|e| DbError::Setup(format!("DATABASE_URL is not a valid URL: {e}")))?;
        let owner = owner.disable_statement_logging();
        Ok(Self {
            app: AppLogin::SetRole(owner.clone()),
            owner,
            owner_url: url.to_string(),
            cluster: None,
        })
    }

    pub fn cluster(&self) -> Option<&Arc<EmbeddedCluster>> {
        self.cluster.as_ref()
    }

    /// Detaches from the embedded cluster (stopping it when this is the last packtrack
    /// process using it) by `deadline`, whatever the server is doing. The stop runs on a
    /// thread of its own, so a server that does not answer signals cannot hold up the exit.
    pub async fn shutdown(&self, deadline: std::time::Instant) {
        let Some(cluster) = self.cluster.clone() else {
            return;
        };
        let budget = deadline.saturating_duration_since(std::time::Instant::now());
        let (tx, rx) = tokio::sync::oneshot::channel();
        let spawned = std::thread::Builder::new()
            .name("pg-stop".into())
            .spawn(move || {
                cluster.stop_within(budget);
                let _ = tx.send(());
            });
        if spawned.is_err() {
            tracing::warn!("cannot start a thread to stop PostgreSQL; leaving it running");
            return;
        }
        // The stop keeps its own deadline; the margin covers the thread's last poll.
        let margin = std::time::Duration::from_millis(200);
        if tokio::time::timeout(budget + margin, rx).await.is_err() {
            tracing::warn!("PostgreSQL did not stop in time; leaving it running");
        }
    }

    /// The owner role's connection URL (for `admin db-url` and `admin psql`).
    pub fn owner_url(&self) -> &str {
        &self.owner_url
    }

    pub async fn owner_pool(&self) -> Result<PgPool, DbError> {
        PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(self.owner.clone().disable_statement_logging())
            .await
            .map_err(|e| connect_error("owner", e))
    }

    /// Applies pending migrations (idempotent; concurrent runs serialise on a lock).
    pub async fn migrate(&self) -> Result<(), DbError> {
        let pool = self.owner_pool().await?;
        MIGRATOR.run(&pool).await?;
        pool.close().await;
        Ok(())
    }

    /// The runtime pool, as `packtrack_app`.
    pub async fn app(&self, max_connections: u32) -> Result<Db, DbError> {
        let opts = PgPoolOptions::new()
            .max_connections(max_connections)
            .min_connections(1)
            // A ping before lending a connection costs a round trip per transaction; only
            // connections idle for a while (those that may have died with a PostgreSQL
            // restart) are pinged. A busy connection that died anyway is noticed and
            // replaced when its BEGIN fails (`TenantTx::begin`).
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= IDLE_PING_AFTER {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .acquire_timeout(Duration::from_secs(5));
        let pool = match &self.app {
            AppLogin::Direct(o) => {
                opts.connect_with(o.clone().disable_statement_logging())
                    .await
            }
            AppLogin::SetRole(o) => {
                opts.after_connect(|conn, _| {
                    Box::pin(async move {
                        conn.execute("SET ROLE packtrack_app").await?;
                        Ok(())
                    })
                })
                .connect_with(o.clone().disable_statement_logging())
                .await
            }
        }
        .map_err(|e| connect_error("packtrack_app", e))?;
        let notifier = tenant::Notifier::spawn(pool.clone(), Route::Direct);
        Ok(Db {
            listen: pool.clone(),
            pool,
            notifier,
            route: Route::Direct,
        })
    }

    /// The runtime pool through a pooler in transaction mode (PgBouncer) at `url`: no
    /// statement cache, every statement in a transaction that sets the runtime role
    /// ([`route`]). LISTEN cannot go through it: the listener gets a direct connection of its
    /// own, as the non-pooled runtime pool would make it.
    pub async fn app_pooled(&self, url: &str, max_connections: u32) -> Result<Db, DbError> {
        let opts: PgConnectOptions = url
            .parse()
            .map_err(|e| DbError::Setup(format!("the pooled database URL is not valid: {e}")))?;
        let opts = opts
            .statement_cache_capacity(0)
            // A startup parameter PgBouncer refuses unless told to ignore it; we read no
            // floats as text.
            .extra_float_digits(None)
            .disable_statement_logging();
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .min_connections(1)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(opts)
            .await
            .map_err(|e| connect_error("packtrack_app through the pooler", e))?;
        // Fails now, not at the first login, when the pooler's role cannot become the
        // runtime role.
        let check = route::Work::start(&pool, Route::Pooled)
            .await
            .map_err(|e| connect_error("packtrack_app through the pooler", e))?;
        check.done().await?;
        let direct = match &self.app {
            AppLogin::Direct(o) | AppLogin::SetRole(o) => o.clone(),
        };
        let listen = PgPoolOptions::new()
            .max_connections(1)
            .connect_lazy_with(direct.disable_statement_logging());
        let notifier = tenant::Notifier::spawn(pool.clone(), Route::Pooled);
        Ok(Db {
            pool,
            notifier,
            route: Route::Pooled,
            listen,
        })
    }

    /// Runtime pool with the default size.
    pub async fn app_default(&self) -> Result<Db, DbError> {
        self.app(APP_POOL_SIZE).await
    }
}

fn connect_error(role: &str, e: sqlx::Error) -> DbError {
    DbError::Setup(format!("cannot connect to PostgreSQL as {role}: {e}"))
}

/// Creates the roles and the database on the embedded cluster when they do not exist yet.
async fn bootstrap(cluster: &EmbeddedCluster, database: &str) -> Result<(), DbError> {
    let auth = cluster.auth();
    let su = cluster
        .connect_options(pg::SUPERUSER, &auth.superuser, "postgres")
        .disable_statement_logging();
    let mut conn = su
        .connect()
        .await
        .map_err(|e| connect_error("postgres", e))?;
    let has_role = |name: &'static str| {
        sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
            .bind(name)
    };
    // Role passwords cannot be bound parameters; they are generated alphanumerics.
    if !has_role(pg::OWNER_ROLE).fetch_one(&mut conn).await? {
        exec(
            &mut conn,
            format!(
                "CREATE ROLE {} LOGIN NOSUPERUSER BYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD '{}'",
                pg::OWNER_ROLE,
                auth.owner
            ),
        )
        .await?;
    }
    if !has_role(pg::APP_ROLE).fetch_one(&mut conn).await? {
        exec(
            &mut conn,
            format!(
                "CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE \
                 PASSWORD '{}'",
                pg::APP_ROLE,
                auth.app
            ),
        )
        .await?;
    }
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(database)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        create_database(&mut conn, database, None).await?;
    }
    Ok(())
}

/// `CREATE DATABASE name [TEMPLATE template]` owned by the owner role, connectable only by
/// the owner and the runtime role.
pub async fn create_database(
    conn: &mut sqlx::PgConnection,
    database: &str,
    template: Option<&str>,
) -> Result<(), DbError> {
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let mut sql = format!(
        "CREATE DATABASE {} OWNER {}",
        quote(database),
        pg::OWNER_ROLE
    );
    if let Some(t) = template {
        sql.push_str(&format!(" TEMPLATE {}", quote(t)));
    }
    exec(conn, sql).await?;
    exec(
        conn,
        format!("REVOKE ALL ON DATABASE {} FROM PUBLIC", quote(database)),
    )
    .await?;
    exec(
        conn,
        format!(
            "GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}",
            quote(database),
            pg::APP_ROLE
        ),
    )
    .await?;
    Ok(())
}

/// Runs DDL built from identifiers and generated passwords, which cannot be bound
/// parameters. Callers quote identifiers; passwords are alphanumeric tokens.
async fn exec(conn: &mut sqlx::PgConnection, sql: String) -> Result<(), DbError> {
    sqlx::raw_sql(AssertSqlSafe(sql)).execute(conn).await?;
    Ok(())
}

/// The runtime pool. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Db {
    pool: PgPool,
    notifier: tenant::Notifier,
    route: Route,
    /// Where the LISTEN connection comes from: the pool itself on the direct route, a
    /// direct connection of its own through a pooler.
    listen: PgPool,
}

impl Db {
    /// Opens a transaction scoped to the principal's facility.
    pub async fn tenant<'p>(&self, principal: &'p Principal) -> Result<TenantTx<'p>, DbError> {
        TenantTx::begin(
            &self.pool,
            self.route,
            Some(&self.notifier),
            tenant::Scope::Member(principal),
        )
        .await
    }

    /// Runs `f` in a transaction scoped to the principal's facility: commits when it
    /// returns `Ok`, rolls back when it returns `Err` (the transaction is dropped, as an
    /// early `?` would: sqlx rolls it back when the connection goes back to the pool). For
    /// work that must commit before answering with an error (a wrong pickup code is
    /// recorded), open [`Db::tenant`] by hand.
    ///
    /// The closure takes a transaction of any lifetime, not the principal's: with the
    /// lifetime tied to `principal`, callers' futures spawned on the runtime failed the
    /// `Send` check ("implementation of `AsyncFnOnce` is not general enough").
    pub async fn scoped<T, E>(
        &self,
        principal: &Principal,
        f: impl AsyncFnOnce(&mut TenantTx<'_>) -> Result<T, E>,
    ) -> Result<T, AppError>
    where
        AppError: From<E>,
    {
        let mut tx = self.tenant(principal).await?;
        let out = f(&mut tx).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Queries that run before there is a principal (login) — see [`unscoped`].
    pub fn unscoped(&self) -> unscoped::Login<'_> {
        unscoped::Login::new(&self.pool, self.route)
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn route(&self) -> Route {
        self.route
    }

    /// The pool the LISTEN connection is taken from (see [`Database::app_pooled`]).
    pub fn listen_pool(&self) -> &PgPool {
        &self.listen
    }

    /// One piece of work outside a tenant transaction, as this pool's route needs it.
    pub(crate) async fn work(&self) -> Result<route::Work, DbError> {
        Ok(route::Work::start(&self.pool, self.route).await?)
    }

    pub(crate) fn notifier(&self) -> &tenant::Notifier {
        &self.notifier
    }

    pub async fn close(&self) {
        self.pool.close().await;
        if self.route == Route::Pooled {
            self.listen.close().await;
        }
    }
}
