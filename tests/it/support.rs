//! Shared helpers for the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use packtrack::db::Database;
use packtrack::db::packages::{self, NewPackage};
use packtrack::db::testing::TestCluster;
use packtrack::db::unscoped::Admin;
use packtrack::domain::{FacilityId, Principal, Role, Source};
use packtrack::ops::Ops;
use packtrack::secrets::SecretsKey;
use sqlx::postgres::{PgConnection, PgPool};
use sqlx::{ConnectOptions, Postgres, Transaction};

/// One facility's staff (`north`: admin `boss`, operator `clerk`, viewer `vera`) and an admin
/// of another (`south`), with `Ops` holding a test secrets key: the console tests' world.
pub struct Staff {
    pub db: Database,
    pub ops: Ops,
    pub admin: Principal,
    pub operator: Principal,
    pub viewer: Principal,
    /// An admin of another facility.
    pub stranger: Principal,
    pub secrets: SecretsKey,
}

pub async fn staff() -> Staff {
    let db = fresh_db().await;
    let admin = member(&db, "north", "boss", Role::Admin).await;
    let operator = member(&db, "north", "clerk", Role::Operator).await;
    let viewer = member(&db, "north", "vera", Role::Viewer).await;
    let stranger = member(&db, "south", "other", Role::Admin).await;
    let secrets = SecretsKey::from_bytes(&[9u8; 32]);
    let ops = Ops::new(db.app(2).await.expect("app pool")).with_secrets(secrets.clone());
    Staff {
        db,
        ops,
        admin,
        operator,
        viewer,
        stranger,
        secrets,
    }
}

/// `login` of `facility` as logged in at a kiosk terminal: never the admin functions.
pub async fn at_kiosk(db: &Database, login: &str, facility: &str) -> Principal {
    let kiosk = Source::Kiosk {
        device_id: 1,
        device: "Front desk".into(),
        peer: "10.0.0.9".into(),
    };
    packtrack::db::testing::principal(db, login, facility, kiosk).await
}

/// A fresh, migrated database of the shared test cluster.
pub async fn fresh_db() -> Database {
    TestCluster::shared().fresh_database().await
}

/// `Ops` on a fresh pool of the runtime role (RLS on), as a server builds them.
pub async fn app_ops(db: &Database) -> Ops {
    Ops::new(db.app(4).await.unwrap())
}

/// Takes in a parcel with a number for `recipient` as `p`, committed; its id.
pub async fn intake_for(ops: &Ops, p: &Principal, tracking: &str, recipient: i64) -> i64 {
    let mut tx = ops.db().tenant(p).await.unwrap();
    let id = packages::intake(
        &mut tx,
        &NewPackage {
            tracking: tracking.into(),
            recipient_id: Some(recipient),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .package
    .id;
    tx.commit().await.unwrap();
    id
}

/// Creates a facility with one member of `role` and returns that member's principal,
/// resolved through the same path a login uses.
pub async fn member(db: &Database, slug: &str, login: &str, role: Role) -> Principal {
    let owner = db.owner_pool().await.expect("owner pool");
    let admin = Admin::new(&owner);
    if admin.facility_id(slug).await.is_err() {
        admin
            .create_facility(slug, &format!("Facility {slug}"))
            .await
            .expect("facility");
    }
    admin
        .add_user(login, login, slug, role, None)
        .await
        .expect("user");
    owner.close().await;
    packtrack::db::testing::principal(db, login, slug, Source::Cli).await
}

/// The name of a test database (the owner can ask; `Database` does not expose it).
pub async fn db_name(db: &Database) -> String {
    let owner = db.owner_pool().await.expect("owner pool");
    let name: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&owner)
        .await
        .expect("current_database");
    owner.close().await;
    name
}

/// A superuser connection to a test database: looks behind RLS, reads the catalog and
/// other sessions' wait states.
pub async fn superuser(db: &Database) -> PgConnection {
    let name = db_name(db).await;
    TestCluster::shared()
        .superuser_options(&name)
        .disable_statement_logging()
        .connect()
        .await
        .expect("superuser connection")
}

/// A raw transaction on a `packtrack_app` pool with `app.facility_id` set the way
/// `TenantTx` sets it (transaction-local) — for checks that must bypass the typed API and
/// talk SQL to the RLS wall directly. `None` leaves the setting unset.
pub async fn raw_tx(pool: &PgPool, facility: Option<FacilityId>) -> Transaction<'static, Postgres> {
    let mut tx = pool.begin().await.expect("begin");
    if let Some(f) = facility {
        sqlx::query("SELECT set_config('app.facility_id', $1, true)")
            .bind(f.0.to_string())
            .execute(&mut *tx)
            .await
            .expect("set facility");
    }
    tx
}

/// The SQLSTATE and message of a failed statement (panics when it did not fail, or failed
/// for a reason other than a database error).
pub fn sql_error<T: std::fmt::Debug>(res: Result<T, sqlx::Error>) -> (String, String) {
    match res {
        Ok(v) => panic!("statement succeeded, expected an error: {v:?}"),
        Err(sqlx::Error::Database(e)) => (
            e.code().map(|c| c.into_owned()).unwrap_or_default(),
            e.message().to_string(),
        ),
        Err(other) => panic!("expected a database error, got {other}"),
    }
}

/// Tables of schema `public` that carry a `facility_id` column: the tenant tables.
pub async fn tenant_tables(conn: &mut PgConnection) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_attribute a ON a.attrelid = c.oid \
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') \
           AND a.attname = 'facility_id' AND NOT a.attisdropped \
         ORDER BY 1",
    )
    .fetch_all(conn)
    .await
    .expect("tenant tables")
}

// ---------------------------------------------------------------------------------------
// The real binary, on an embedded cluster of its own
// ---------------------------------------------------------------------------------------

/// A temporary data dir + keys dir for running `packtrack` as an operator would. The path
/// stays short (the socket path limit is 107 bytes) and traversable by the `postgres`
/// system user (the cluster runs as that user when the tests run as root).
pub struct Sandbox {
    dir: tempfile::TempDir,
}

/// What one run of the binary did.
pub struct Run {
    pub ok: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Self {
            ok: o.status.success(),
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Sandbox {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("pt")
            .tempdir_in("/tmp")
            .expect("temp dir");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o711))
            .expect("chmod temp dir");
        Self { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn keys_dir(&self) -> PathBuf {
        self.dir.path().join("keys")
    }

    /// The cluster's lock file, which exists exactly while a postmaster runs (or crashed).
    pub fn postmaster_pid_file(&self) -> PathBuf {
        self.data_dir().join("postgres").join("postmaster.pid")
    }

    /// The pid in `postmaster.pid`, if the file exists.
    pub fn postmaster_pid(&self) -> Option<i32> {
        let text = std::fs::read_to_string(self.postmaster_pid_file()).ok()?;
        text.lines().next()?.trim().parse().ok()
    }

    /// Asserts that no postmaster runs on this data dir: no lock file, or one naming a
    /// dead process.
    pub fn assert_cluster_stopped(&self) {
        if let Some(pid) = self.postmaster_pid() {
            assert!(
                !pid_alive(pid),
                "postmaster {pid} still running on {}",
                self.data_dir().display()
            );
        }
    }

    /// Runs `packtrack --data-dir … --keys-dir … ARGS` with no `DATABASE_URL` (so the
    /// embedded cluster is used), feeding `stdin`.
    pub fn run(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_packtrack"));
        cmd.arg("--data-dir")
            .arg(self.data_dir())
            .arg("--keys-dir")
            .arg(self.keys_dir())
            .args(args)
            .env_remove("DATABASE_URL")
            .env_remove("PACKTRACK_DATA_DIR")
            .env_remove("PACKTRACK_KEYS_DIR")
            .env("RUST_LOG", "warn")
            .current_dir(self.path())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn packtrack");
        if let Some(input) = stdin {
            use std::io::Write;
            let mut pipe = child.stdin.take().expect("stdin pipe");
            pipe.write_all(input.as_bytes()).expect("write stdin");
        }
        child.wait_with_output().expect("wait for packtrack").into()
    }

    /// Like [`Sandbox::run`], but the command must succeed.
    pub fn ok(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let run = self.run(args, stdin);
        assert!(run.ok, "packtrack {args:?} failed:\n{run:?}");
        run
    }

    /// `packtrack admin psql -- -At -v ON_ERROR_STOP=1 -c SQL`: one SQL statement as the
    /// owner role, its unaligned output trimmed.
    pub fn psql(&self, sql: &str) -> String {
        let run = self.ok(
            &[
                "admin",
                "psql",
                "--",
                "-At",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                sql,
            ],
            None,
        );
        run.stdout.trim().to_string()
    }
}

/// Whether `pid` is a live process (a zombie, killed but not yet reaped, counts as dead).
pub fn pid_alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // Field 3 is the state; the command name before it is in parentheses.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok(),
    }
}
