//! A shared embedded cluster for the test suite and benchmarks: one cluster per process,
//! one migrated template database, and a fresh database per test cloned from it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use sqlx::ConnectOptions;

use super::{ClusterOptions, Database, EmbeddedCluster, pg};

const TEMPLATE: &str = "packtrack_template";

pub struct TestCluster {
    cluster: Arc<EmbeddedCluster>,
    root: PathBuf,
    next: AtomicU32,
}

static SHARED: OnceLock<TestCluster> = OnceLock::new();

impl TestCluster {
    /// The process-wide cluster, started (and its template migrated) on first use.
    pub fn shared() -> &'static TestCluster {
        SHARED.get_or_init(|| {
            // Own thread and runtime: callers may be inside any #[tokio::test] runtime.
            std::thread::spawn(Self::start)
                .join()
                .expect("test cluster start panicked")
        })
    }

    fn start() -> TestCluster {
        // On tmpfs when there is one: cloning the template there takes ~30 ms instead of
        // ~200-280 ms on disk (measured, docs/PERFORMANCE.md), and tests need no durability.
        let shm = std::path::Path::new("/dev/shm");
        // Each test database takes ~7.5 MB; a small /dev/shm (64 MB in containers) would fill.
        let roomy = nix::sys::statvfs::statvfs(shm)
            .is_ok_and(|v| v.blocks_available().saturating_mul(v.fragment_size()) >= 1 << 30);
        let probe = shm.join(format!(".packtrack-probe-{}", std::process::id()));
        let base = if roomy && std::fs::write(&probe, b"").is_ok() {
            let _ = std::fs::remove_file(&probe);
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let root = base.join(format!("packtrack-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let cluster = EmbeddedCluster::start(&root, ClusterOptions::throwaway())
            .unwrap_or_else(|e| panic!("cannot start the test cluster: {e}"));
        spawn_reaper(&root);
        let cluster = Arc::new(cluster);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let db = Database::embedded(cluster.clone(), TEMPLATE)
                .await
                .unwrap_or_else(|e| panic!("cannot create the template database: {e}"));
            db.migrate()
                .await
                .unwrap_or_else(|e| panic!("cannot migrate the template database: {e}"));
        });
        TestCluster {
            cluster,
            root,
            next: AtomicU32::new(0),
        }
    }

    pub fn cluster(&self) -> &Arc<EmbeddedCluster> {
        &self.cluster
    }

    pub fn data_dir(&self) -> &PathBuf {
        &self.root
    }

    /// A new, migrated database of its own (a copy of the template).
    pub async fn fresh_database(&self) -> Database {
        let name = format!(
            "t{}_{}",
            std::process::id(),
            self.next.fetch_add(1, Ordering::SeqCst)
        );
        let auth = self.cluster.auth();
        let mut conn = self
            .cluster
            .connect_options(pg::SUPERUSER, &auth.superuser, "postgres")
            .disable_statement_logging()
            .connect()
            .await
            .expect("superuser connection");
        // CREATE DATABASE … TEMPLATE fails while another copy of the same template runs.
        sqlx::query("SELECT pg_advisory_lock(7262818)")
            .execute(&mut conn)
            .await
            .expect("lock");
        super::create_database(&mut conn, &name, Some(TEMPLATE))
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        sqlx::query("SELECT pg_advisory_unlock(7262818)")
            .execute(&mut conn)
            .await
            .expect("unlock");
        Database::embedded(self.cluster.clone(), &name)
            .await
            .expect("test database")
    }

    /// The superuser's password (tests that need to look behind RLS, e.g. the catalog).
    pub fn superuser_options(&self, database: &str) -> sqlx::postgres::PgConnectOptions {
        self.cluster
            .connect_options(pg::SUPERUSER, &self.cluster.auth().superuser, database)
    }
}

/// Statics are never dropped, so a watchdog stops the cluster and removes its directory
/// once the test process has exited.
fn spawn_reaper(root: &std::path::Path) {
    let script = r#"
        while kill -0 "$0" 2>/dev/null; do sleep 0.5; done
        pid=$(head -n 1 "$1/postgres/postmaster.pid" 2>/dev/null)
        [ -n "$pid" ] && kill -INT "$pid" 2>/dev/null
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            [ -e "$1/postgres/postmaster.pid" ] || break
            sleep 0.5
        done
        rm -rf "$1"
    "#;
    let _ = std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(std::process::id().to_string())
        .arg(root)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}

/// Inside a tenant transaction as the runtime pool opens them (its route included): the role
/// it runs as and the facilities whose recipients it can read with no facility filter, so
/// that row level security alone decides.
pub async fn tenant_view(
    db: &super::Db,
    p: &crate::domain::Principal,
) -> Result<(String, Vec<i64>), crate::error::AppError> {
    db.scoped(p, async |tx| {
        let role: String = sqlx::query_scalar("SELECT current_user::text")
            .fetch_one(tx.conn())
            .await?;
        let seen: Vec<i64> =
            sqlx::query_scalar("SELECT DISTINCT facility_id FROM recipients ORDER BY 1")
                .fetch_all(tx.conn())
                .await?;
        Ok::<_, crate::error::DbError>((role, seen))
    })
    .await
}

/// `login`'s principal in `facility` as a login from `source` resolves it: for tests,
/// benchmarks and examples that act as a member without an SSH session. Panics when the
/// member does not exist.
pub async fn principal(
    db: &Database,
    login: &str,
    facility: &str,
    source: crate::domain::Source,
) -> crate::domain::Principal {
    let app = db.app(1).await.expect("app pool");
    let user = app
        .unscoped()
        .user(login)
        .await
        .expect("lookup")
        .expect("user exists");
    let p = app
        .unscoped()
        .principal(&user, Some(facility), source)
        .await
        .expect("resolve")
        .expect("membership");
    app.close().await;
    p
}
