//! Through PgBouncer in transaction mode (issue 17 item 4; docs/DEPLOY.md): a real
//! `pgbouncer` of the test's own on a free port, in front of the test cluster, and the runtime
//! pool (`serve --pooled-database-url`) through it.
//!
//! The tests need the `pgbouncer` binary (Debian package `pgbouncer`). Without it they print a
//! line starting with `SKIPPED` and pass, unless `PACKTRACK_REQUIRE_PGBOUNCER=1` (CI sets it):
//! then they fail.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use packtrack::db::testing::{TestCluster, tenant_view};
use packtrack::db::{Database, pg};
use packtrack::domain::Role;
use packtrack::ops::{Ops, RecipientFields};
use serde_json::Value;

use crate::recipients_admin::exec_stdin;
use crate::served::{Served, free_port};
use crate::ssh_support::{Client, new_key};
use crate::support::{Sandbox, db_name, fresh_db, member, superuser};

const UPS: &str = "1Z5R89390357567127";
const FEDEX: &str = "986578788855";

/// A `pgbouncer` in transaction mode in front of the test cluster: every database name
/// passes through to the cluster's database of that name. Few server connections
/// (`default_pool_size = 3`), so concurrent clients share them.
pub struct Bouncer {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl Bouncer {
    /// Logins it accepts: the owner and the runtime role, and `extra` (login, password).
    /// `None`, after a line saying so, when pgbouncer is not installed, unless
    /// `PACKTRACK_REQUIRE_PGBOUNCER=1`: then it panics.
    pub fn start(extra: &[(&str, &str)]) -> Option<Self> {
        let Some(bin) = find_pgbouncer() else {
            assert!(
                std::env::var("PACKTRACK_REQUIRE_PGBOUNCER").as_deref() != Ok("1"),
                "PACKTRACK_REQUIRE_PGBOUNCER=1 but no pgbouncer binary was found \
                 (apt-get install pgbouncer)"
            );
            eprintln!(
                "SKIPPED: pgbouncer is not installed (apt-get install pgbouncer); \
                 PACKTRACK_REQUIRE_PGBOUNCER=1 makes this a failure"
            );
            return None;
        };
        let cluster = TestCluster::shared().cluster();
        let auth = cluster.auth();
        let dir = tempfile::Builder::new()
            .prefix("packtrack-pgbouncer-")
            .tempdir()
            .expect("temp dir");
        let port = free_port();
        let ini = dir.path().join("pgbouncer.ini");
        // scram-sha-256 with the passwords in the auth file: PgBouncer checks the client and
        // logs in to PostgreSQL (which asks for SCRAM) with the same password.
        std::fs::write(
            &ini,
            format!(
                "[databases]\n\
                 * = host={socket} port=5432\n\
                 [pgbouncer]\n\
                 listen_addr = 127.0.0.1\n\
                 listen_port = {port}\n\
                 unix_socket_dir =\n\
                 auth_type = scram-sha-256\n\
                 auth_file = {dir}/userlist.txt\n\
                 pool_mode = transaction\n\
                 default_pool_size = 3\n\
                 max_client_conn = 200\n\
                 logfile = {dir}/pgbouncer.log\n\
                 pidfile = {dir}/pgbouncer.pid\n",
                socket = cluster.socket_dir().display(),
                dir = dir.path().display(),
            ),
        )
        .expect("write pgbouncer.ini");
        let mut users = format!(
            "\"{}\" \"{}\"\n\"{}\" \"{}\"\n",
            pg::OWNER_ROLE,
            auth.owner,
            pg::APP_ROLE,
            auth.app
        );
        for (login, password) in extra {
            users.push_str(&format!("\"{login}\" \"{password}\"\n"));
        }
        std::fs::write(dir.path().join("userlist.txt"), users).expect("write userlist");
        let mut cmd = Command::new(bin);
        // PgBouncer refuses to run as root. The test cluster runs as `postgres` then, and so
        // does this (it reads its files and writes its log).
        if nix::unistd::geteuid().is_root() {
            let pg = nix::unistd::User::from_name("postgres")
                .ok()
                .flatten()
                .expect("a postgres system user");
            for entry in std::fs::read_dir(dir.path()).expect("read dir") {
                nix::unistd::chown(&entry.expect("entry").path(), Some(pg.uid), Some(pg.gid))
                    .expect("chown");
            }
            nix::unistd::chown(dir.path(), Some(pg.uid), Some(pg.gid)).expect("chown");
            cmd.args(["-u", "postgres"]);
        }
        let child = cmd
            .arg(&ini)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn pgbouncer");
        let mut b = Self { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(st) = b.child.try_wait().expect("try_wait") {
                panic!("pgbouncer exited with {st}:\n{}", b.log());
            }
            assert!(
                Instant::now() < deadline,
                "pgbouncer did not listen:\n{}",
                b.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(b)
    }

    /// A URL for `database` through the bouncer.
    pub fn url(&self, login: &str, password: &str, database: &str) -> String {
        format!(
            "postgres://{login}:{password}@127.0.0.1:{}/{database}",
            self.port
        )
    }

    /// The runtime role's URL for `database` through the bouncer.
    pub fn app_url(&self, database: &str) -> String {
        let auth = TestCluster::shared().cluster().auth();
        self.url(pg::APP_ROLE, &auth.app, database)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pgbouncer.log")).unwrap_or_default()
    }
}

impl Drop for Bouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_pgbouncer() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    // Debian installs it in /usr/sbin, which a normal user's PATH may lack.
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into()])
        .map(|d| d.join("pgbouncer"))
        .find(|p| p.is_file())
}

/// The attack: the pooler logs in as a role that bypasses row level security (the owner, as
/// `DATABASE_URL` does), and a `SET ROLE packtrack_app` made once per connection (what the
/// direct route does) stays on whichever server connection ran it, so other transactions run
/// as the pooler's role and read every facility. Through PgBouncer, many concurrent clients
/// on three server connections: every tenant transaction runs as `packtrack_app` and row
/// level security alone shows it its own facility; no statement fails (prepared statements
/// left on a shared server connection would: `sqlx_s_1 already exists`).
#[tokio::test]
async fn bypassrls_pooler_login_never_reaches_another_facility() {
    let db = fresh_db().await;
    let name = db_name(&db).await;
    let north = member(&db, "north", "nadia", Role::Admin).await;
    let south = member(&db, "south", "sol", Role::Admin).await;
    let ops = Ops::new(db.app(2).await.expect("app pool"));
    for (p, who) in [(&north, "Nora North"), (&south, "Sam South")] {
        let fields = RecipientFields {
            name: who.into(),
            unit: "1".into(),
            ..Default::default()
        };
        ops.create_recipient(p, &fields).await.expect("recipient");
    }
    // A login that bypasses row level security and may become the runtime role (role
    // names are cluster-wide: this process's own).
    let pooler = format!("pt_pooler_{}", std::process::id());
    let password = format!("pw{}", std::process::id());
    let mut su = superuser(&db).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP ROLE IF EXISTS {pooler}; \
         CREATE ROLE {pooler} LOGIN BYPASSRLS PASSWORD '{password}' IN ROLE {}",
        pg::APP_ROLE
    )))
    .execute(&mut su)
    .await
    .expect("pooler role");
    let Some(b) = Bouncer::start(&[(&pooler, &password)]) else {
        return;
    };
    let pooled = db
        .app_pooled(&b.url(&pooler, &password, &name), 8)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", b.log()));

    // Without the role set per transaction, the pooler's own login sees both facilities:
    // the check below can fail.
    let raw: Vec<i64> =
        sqlx::query_scalar("SELECT DISTINCT facility_id FROM recipients WHERE $1 ORDER BY 1")
            .bind(true)
            .fetch_all(&mut *pooled.pool().begin().await.expect("begin"))
            .await
            .expect("raw read");
    assert_eq!(raw.len(), 2, "the pooler's login bypasses RLS");

    let mut tasks = Vec::new();
    for t in 0..8usize {
        let (pooled, north, south) = (pooled.clone(), north.clone(), south.clone());
        tasks.push(tokio::spawn(async move {
            let mut wrong = Vec::new();
            for i in 0..30usize {
                let (p, login) = if (t + i) % 2 == 0 {
                    (&north, "nadia")
                } else {
                    (&south, "sol")
                };
                match tenant_view(&pooled, p).await {
                    Ok((role, seen)) if role == pg::APP_ROLE && seen == [p.facility().0] => {}
                    other => wrong.push(format!("{login}: {other:?}")),
                }
                // The login path's lookups, outside any facility scope.
                match pooled.unscoped().user(login).await {
                    Ok(Some(u)) if u.login == login => {}
                    other => wrong.push(format!("lookup {login}: {other:?}")),
                }
            }
            wrong
        }));
    }
    let mut wrong = Vec::new();
    for t in tasks {
        wrong.extend(t.await.expect("task"));
    }
    assert!(
        wrong.is_empty(),
        "{} wrong answers: {wrong:#?}",
        wrong.len()
    );
    pooled.close().await;
    drop(b);
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP ROLE IF EXISTS {pooler}")))
        .execute(&mut su)
        .await
        .expect("drop pooler role");
}

/// The real server with its sessions' connections through PgBouncer (`DATABASE_URL` direct
/// for migrations, LISTEN and the jobs): a key login, an import, an intake, a search, a live
/// update on another session's open screen (the LISTEN connection is direct), and another
/// facility's recipient and parcel still answering "not found".
#[tokio::test]
async fn serve_through_pgbouncer_logs_in_takes_intake_and_keeps_facilities_apart() {
    let db = fresh_db().await;
    let name = db_name(&db).await;
    let Some(b) = Bouncer::start(&[]) else {
        return;
    };
    member(&db, "north", "clerk", Role::Admin).await;
    member(&db, "south", "sol", Role::Admin).await;
    let clerk = add_key(&db, "clerk").await;
    let sol = add_key(&db, "sol").await;

    let auth = TestCluster::shared().cluster().auth();
    let direct = TestCluster::shared()
        .cluster()
        .url(pg::OWNER_ROLE, &auth.owner, &name);
    let pooled = b.app_url(&name);
    let s = Sandbox::new();
    let served = Served::start_env(
        &s.data_dir(),
        &s.keys_dir(),
        s.path(),
        &[],
        &[
            ("DATABASE_URL", &direct),
            ("PACKTRACK_POOLED_DATABASE_URL", &pooled),
        ],
    );
    assert!(
        served.log().contains("sessions use the pooled connection"),
        "{}",
        served.log()
    );
    let connect = async |login: &str, key: &std::sync::Arc<russh::keys::PrivateKey>| {
        let mut c = Client::connect(served.addr, s.host_key()).await;
        assert!(
            c.pubkey(login, key.clone()).await.success(),
            "{login} logs in"
        );
        c
    };

    // South: a resident and a parcel for them.
    let on_south = connect("sol", &sol).await;
    let done = exec_stdin(
        &on_south,
        "recipients import",
        b"name,unit,email,phone,aliases\nSven Southby,S-1,,,\n",
    )
    .await;
    assert_eq!(done.status, Some(0), "{}", done.stderr);
    let sven = search(&on_south, "southby").await;
    assert_eq!(sven.len(), 1, "{sven:?}");
    let south_parcel = intake(&on_south, FEDEX, sven[0].0).await;

    // North: a session on the packages list, and a second one that takes an intake.
    let watcher = connect("clerk", &clerk).await;
    let mut screen = watcher.shell(80, 24).await;
    screen.wait_text("Dashboard").await;
    screen.send(b"l").await;
    screen.wait_text("Packages · waiting · 0").await;
    let on_north = connect("clerk", &clerk).await;
    let done = exec_stdin(
        &on_north,
        "recipients import",
        b"name,unit,email,phone,aliases\nAda Lovelace,A-101,,,\n",
    )
    .await;
    assert_eq!(done.status, Some(0), "{}", done.stderr);
    let ada = search(&on_north, "lovelace").await;
    assert_eq!(ada.len(), 1, "{ada:?}");
    intake(&on_north, UPS, ada[0].0).await;
    // No key pressed on the watching session: the notification reached it.
    screen.wait_text(UPS).await;
    screen.wait_text("Packages · waiting · 1").await;

    // South's resident and parcel do not exist for north.
    assert!(search(&on_north, "southby").await.is_empty());
    let out = on_north
        .exec(&format!(
            "packages intake --tracking {UPS}9 --recipient {}",
            sven[0].0
        ))
        .await;
    assert_eq!(
        (out.status, out.stderr.as_str()),
        (Some(1), "not found\n"),
        "{out:?}"
    );
    let out = on_north
        .exec(&format!("packages pickup --id {south_parcel}"))
        .await;
    assert_eq!(
        (out.status, out.stderr.as_str()),
        (Some(1), "not found\n"),
        "{out:?}"
    );
    let list = on_north.exec("packages list --json").await;
    assert_eq!(list.status, Some(0), "{}", list.stderr);
    assert!(
        list.stdout.contains(UPS) && !list.stdout.contains(FEDEX),
        "{}",
        list.stdout
    );
    let log = b.log();
    assert!(
        log.contains(&format!("{name}/{}", pg::APP_ROLE)),
        "the sessions' work went through the bouncer:\n{log}"
    );
}

async fn add_key(db: &Database, login: &str) -> std::sync::Arc<russh::keys::PrivateKey> {
    let key = new_key();
    let line = key.public_key().to_openssh().expect("openssh line");
    let info = packtrack::auth::pubkey::parse_line(&line).expect("key line");
    let owner = db.owner_pool().await.expect("owner pool");
    packtrack::db::unscoped::Admin::new(&owner)
        .add_key(login, &info)
        .await
        .expect("add key");
    owner.close().await;
    std::sync::Arc::new(key)
}

/// `recipients search QUERY --json` as (id, name) pairs.
async fn search(c: &Client, query: &str) -> Vec<(i64, String)> {
    let out = c.exec(&format!("recipients search '{query}' --json")).await;
    assert_eq!(out.status, Some(0), "{}", out.stderr);
    out.stdout
        .lines()
        .map(|l| {
            let r: Value = serde_json::from_str(l).expect("json line");
            (
                r["id"].as_i64().expect("id"),
                r["name"].as_str().expect("name").to_string(),
            )
        })
        .collect()
}

/// `packages intake … --json`; the new parcel's id.
async fn intake(c: &Client, tracking: &str, recipient: i64) -> i64 {
    let out = c
        .exec(&format!(
            "packages intake --tracking {tracking} --recipient {recipient} --json"
        ))
        .await;
    assert_eq!(out.status, Some(0), "{}", out.stderr);
    let p: Value = serde_json::from_str(out.stdout.trim()).expect("json");
    p["id"].as_i64().expect("id")
}
