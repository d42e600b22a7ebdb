//! The embedded PostgreSQL cluster: a private server in `DATA_DIR/postgres`, reachable only
//! through a Unix socket inside that directory, created and started on demand from the
//! PostgreSQL server binaries installed on the machine.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use nix::sys::signal::{Signal, kill};
use serde::{Deserialize, Serialize};

use crate::error::DbError;

/// Superuser created by initdb; used only to bootstrap roles and databases.
pub const SUPERUSER: &str = "postgres";
pub const OWNER_ROLE: &str = "packtrack_owner";
pub const APP_ROLE: &str = "packtrack_app";
pub const DATABASE: &str = "packtrack";
/// The socket file is `.s.PGSQL.<port>`; with a private socket directory any port works.
pub const PORT: u16 = 5432;
/// sun_path is 108 bytes on Linux, including the NUL.
const MAX_SOCKET_PATH: usize = 107;
/// How long [`EmbeddedCluster::stop`] (and so `Drop`) gives the server to stop.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// Of a stop's budget, the part kept for an immediate shutdown after a fast one ran late.
const IMMEDIATE_RESERVE: Duration = Duration::from_millis(1500);

const INSTALL_HINT: &str = "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found \
     via `pg_config --bindir`, PATH or /usr/lib/postgresql/*/bin; install the server package \
     (Debian/Ubuntu: `apt-get install postgresql`, Fedora: `dnf install postgresql-server`) \
     or set DATABASE_URL to use an existing server";

/// Where the server binaries live.
#[derive(Debug, Clone)]
pub struct PgBinaries {
    pub bindir: PathBuf,
}

impl PgBinaries {
    pub fn find() -> Result<Self, DbError> {
        let complete = |dir: &Path| {
            ["initdb", "pg_ctl", "postgres"]
                .iter()
                .all(|b| dir.join(b).is_file())
        };
        // 1. pg_config knows the bindir of the installation it belongs to; on Debian the
        //    client package ships pg_config too, so the directory must hold the server.
        if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
            && out.status.success()
        {
            let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            if complete(&dir) {
                return Ok(Self { bindir: dir });
            }
        }
        // 2. PATH, following symlinks (Debian puts wrappers in /usr/bin, some images link
        //    single binaries into /usr/local/bin).
        if let Some(path) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&path) {
                let initdb = dir.join("initdb");
                if let Ok(real) = fs::canonicalize(&initdb)
                    && let Some(real_dir) = real.parent()
                    && complete(real_dir)
                {
                    return Ok(Self {
                        bindir: real_dir.to_path_buf(),
                    });
                }
            }
        }
        // 3. The newest versioned install directory.
        let mut best: Option<(u32, PathBuf)> = None;
        if let Ok(entries) = fs::read_dir("/usr/lib/postgresql") {
            for e in entries.flatten() {
                let version = e.file_name().to_string_lossy().parse::<u32>().ok();
                let dir = e.path().join("bin");
                if let Some(v) = version
                    && complete(&dir)
                    && best.as_ref().is_none_or(|(bv, _)| v > *bv)
                {
                    best = Some((v, dir));
                }
            }
        }
        best.map(|(_, bindir)| Self { bindir })
            .ok_or_else(|| DbError::Setup(INSTALL_HINT.into()))
    }

    fn bin(&self, name: &str) -> PathBuf {
        self.bindir.join(name)
    }
}

/// Passwords of the cluster's roles, generated at initdb time and kept next to the cluster.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClusterAuth {
    pub superuser: String,
    pub owner: String,
    pub app: String,
}

/// Tuning knobs for the cluster.
#[derive(Debug, Clone, Copy)]
pub struct ClusterOptions {
    /// Tests trade crash safety for speed (fsync off); a real mailroom never does.
    pub durable: bool,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        Self { durable: true }
    }
}

/// A running embedded cluster. On drop, the last packtrack process attached to it stops
/// the server (see [`EmbeddedCluster::stop`]).
#[derive(Debug)]
pub struct EmbeddedCluster {
    root: PathBuf,
    pgdata: PathBuf,
    bins: PgBinaries,
    run_as: Option<nix::unistd::User>,
    auth: ClusterAuth,
    started_here: bool,
    /// A shared lock on `DATA_DIR/.cluster.users`, held while this process uses the
    /// cluster: it tells a process about to stop the server that others still need it.
    /// `None` once detached.
    attached: Mutex<Option<Flock<fs::File>>>,
}

impl EmbeddedCluster {
    /// Creates (first run) and starts the cluster under `data_dir/postgres`, or attaches to
    /// the one another packtrack process already runs there.
    pub fn start(data_dir: &Path, opts: ClusterOptions) -> Result<Self, DbError> {
        let bins = PgBinaries::find()?;
        fs::create_dir_all(data_dir)
            .map_err(|e| setup(format!("cannot create {}: {e}", data_dir.display())))?;
        let root = fs::canonicalize(data_dir)
            .map_err(|e| setup(format!("cannot resolve {}: {e}", data_dir.display())))?;
        let pgdata = root.join("postgres");
        let socket = pgdata.join(format!(".s.PGSQL.{PORT}"));
        if socket.as_os_str().len() > MAX_SOCKET_PATH {
            return Err(setup(format!(
                "data directory path is too long for a Unix socket ({} bytes, max {}): {}; \
                 use a shorter --data-dir",
                socket.as_os_str().len(),
                MAX_SOCKET_PATH,
                socket.display()
            )));
        }
        let run_as = if nix::unistd::geteuid().is_root() {
            let user = nix::unistd::User::from_name(SUPERUSER)
                .ok()
                .flatten()
                .ok_or_else(|| {
                    setup(
                        "running as root, but there is no `postgres` system user to run the \
                         cluster as (the PostgreSQL server package creates it)"
                            .into(),
                    )
                })?;
            check_traversable(&root, &user)?;
            Some(user)
        } else {
            None
        };

        // Serialise setup between processes sharing the data dir.
        let _lock = lock_file(&root.join(".cluster.lock"), FlockArg::LockExclusive)
            .map_err(|e| setup(format!("cannot lock {}: {e}", root.display())))?;

        let mut cluster = Self {
            auth: ClusterAuth {
                superuser: String::new(),
                owner: String::new(),
                app: String::new(),
            },
            root,
            pgdata,
            bins,
            run_as,
            started_here: false,
            attached: Mutex::new(None),
        };
        let fresh = !cluster.pgdata.join("PG_VERSION").exists();
        if fresh {
            cluster.initdb(opts)?;
        } else {
            cluster.auth = cluster.read_auth()?;
        }
        if cluster.is_running() {
            tracing::debug!(pgdata = %cluster.pgdata.display(), "reusing running cluster");
        } else {
            cluster.start_stopped()?;
            cluster.started_here = true;
        }
        // Still under the setup lock, so no process can stop the server between the check
        // above and this.
        let attached = cluster.lock_users(FlockArg::LockShared).map_err(|e| {
            setup(format!(
                "cannot lock {}: {e}",
                cluster.users_file().display()
            ))
        })?;
        *lock(&cluster.attached) = Some(attached);
        Ok(cluster)
    }

    /// Starts the server again when it is not running (the supervisor's restart). `Ok(true)`
    /// when this call started it, `Ok(false)` when it was running (another packtrack process
    /// may have restarted it first).
    pub fn ensure_running(&self) -> Result<bool, DbError> {
        let _setup = self
            .lock_setup()
            .map_err(|e| setup(format!("cannot lock {}: {e}", self.root.display())))?;
        if self.is_running() {
            return Ok(false);
        }
        self.start_stopped()?;
        Ok(true)
    }

    /// Whether this cluster's postmaster runs and its socket exists. Cheap (a few reads in
    /// /proc): the supervisor polls it.
    pub fn is_running(&self) -> bool {
        let Some(pid) = self.postmaster_pid() else {
            return false;
        };
        is_postmaster_of(pid, &self.pgdata) && self.pgdata.join(format!(".s.PGSQL.{PORT}")).exists()
    }

    /// Clears what a crash left behind, then starts the server. Under the setup lock.
    fn start_stopped(&self) -> Result<(), DbError> {
        self.remove_stale_locks();
        for conf in ["postgresql.conf", "postgresql.auto.conf"] {
            self.drop_socket_dir_setting(&self.pgdata.join(conf))?;
        }
        self.pg_ctl_start()
    }

    pub fn socket_dir(&self) -> &Path {
        &self.pgdata
    }

    pub fn auth(&self) -> &ClusterAuth {
        &self.auth
    }

    pub fn bins(&self) -> &PgBinaries {
        &self.bins
    }

    pub fn started_here(&self) -> bool {
        self.started_here
    }

    /// The postmaster's pid, from its lock file.
    pub fn postmaster_pid(&self) -> Option<i32> {
        read_pid(&self.pgdata.join("postmaster.pid"))
    }

    /// Connection options for one of the cluster's roles.
    pub fn connect_options(
        &self,
        user: &str,
        password: &str,
        database: &str,
    ) -> sqlx::postgres::PgConnectOptions {
        sqlx::postgres::PgConnectOptions::new()
            .socket(&self.pgdata)
            .port(PORT)
            .username(user)
            .password(password)
            .database(database)
    }

    /// A URL libpq (psql) and sqlx both accept.
    pub fn url(&self, user: &str, password: &str, database: &str) -> String {
        format!(
            "postgresql://{user}:{password}@localhost:{PORT}/{database}?host={}",
            self.pgdata.display()
        )
    }

    fn initdb(&mut self, opts: ClusterOptions) -> Result<(), DbError> {
        // A half-finished initdb leaves a non-empty directory that initdb refuses; start over.
        if self.pgdata.exists() {
            fs::remove_dir_all(&self.pgdata).map_err(|e| {
                setup(format!(
                    "cannot clear incomplete cluster {}: {e}",
                    self.pgdata.display()
                ))
            })?;
        }
        fs::create_dir(&self.pgdata)
            .map_err(|e| setup(format!("cannot create {}: {e}", self.pgdata.display())))?;
        fs::set_permissions(&self.pgdata, fs::Permissions::from_mode(0o700))
            .map_err(|e| setup(format!("chmod {}: {e}", self.pgdata.display())))?;
        self.chown(&self.pgdata)?;

        self.auth = ClusterAuth {
            superuser: crate::secrets::random_token(24),
            owner: crate::secrets::random_token(24),
            app: crate::secrets::random_token(24),
        };
        let pwfile = self.root.join(".initdb-pw");
        write_private(&pwfile, self.auth.superuser.as_bytes())?;
        self.chown(&pwfile)?;
        let out = self
            .command("initdb")
            .arg("-D")
            .arg(&self.pgdata)
            .args(["-U", SUPERUSER, "-E", "UTF8", "--no-locale"])
            .arg("--auth=scram-sha-256")
            .arg(format!("--pwfile={}", pwfile.display()))
            // initdb fsyncs its ~1000 files one by one (seconds); one syncfs() of the
            // filesystem below gives the same durability at a fraction of the cost.
            .arg("--no-sync")
            .output();
        let _ = fs::remove_file(&pwfile);
        let out = out.map_err(|e| setup(format!("cannot run initdb: {e}")))?;
        if !out.status.success() {
            return Err(setup(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        if opts.durable {
            let dir = fs::File::open(&self.pgdata)
                .map_err(|e| setup(format!("cannot open {}: {e}", self.pgdata.display())))?;
            nix::unistd::syncfs(&dir)
                .map_err(|e| setup(format!("cannot sync {}: {e}", self.pgdata.display())))?;
        }
        // No paths here: the socket directory is passed at each start (`-k`), so the data
        // directory can be copied or moved.
        let mut conf = format!(
            "\n# packtrack: private cluster, Unix socket only (its directory is passed at start)\n\
             listen_addresses = ''\n\
             unix_socket_permissions = 0700\n\
             port = {PORT}\n\
             max_connections = 200\n\
             shared_buffers = 128MB\n\
             password_encryption = 'scram-sha-256'\n\
             log_min_messages = warning\n\
             log_line_prefix = '%m [%p] '\n"
        );
        if !opts.durable {
            conf.push_str("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n");
        }
        let mut f = fs::OpenOptions::new()
            .append(true)
            .open(self.pgdata.join("postgresql.conf"))
            .map_err(|e| setup(format!("cannot open postgresql.conf: {e}")))?;
        f.write_all(conf.as_bytes())
            .map_err(|e| setup(format!("cannot write postgresql.conf: {e}")))?;
        // Auth file written only after initdb succeeded, so its presence marks a usable cluster.
        let json = serde_json::to_vec_pretty(&self.auth).map_err(|e| setup(e.to_string()))?;
        write_private(&self.auth_file(), &json)?;
        Ok(())
    }

    fn auth_file(&self) -> PathBuf {
        self.root.join("postgres-auth.json")
    }

    fn read_auth(&self) -> Result<ClusterAuth, DbError> {
        let path = self.auth_file();
        let bytes = fs::read(&path).map_err(|e| {
            setup(format!(
                "cluster in {} has no credentials file {} ({e}); move the directory away to \
                 start a new cluster",
                self.pgdata.display(),
                path.display()
            ))
        })?;
        serde_json::from_slice(&bytes)
            .map_err(|e| setup(format!("corrupt credentials file {}: {e}", path.display())))
    }

    /// After a crash (kill -9, power loss) the lock files name a dead pid, or one the system
    /// has since given to another process — possibly another cluster's postgres. Postgres
    /// refuses to start while such a pid is alive, so a lock file whose pid is not this
    /// cluster's postmaster (checked by data directory, never by name) is removed.
    fn remove_stale_locks(&self) {
        let socket_lock = format!(".s.PGSQL.{PORT}.lock");
        for name in ["postmaster.pid", socket_lock.as_str()] {
            let path = self.pgdata.join(name);
            let Some(pid) = read_pid(&path) else {
                continue;
            };
            // A zombie counts as dead: postgres checks with kill(pid, 0), which succeeds for
            // an unreaped zombie, and would refuse to start.
            if !is_postmaster_of(pid, &self.pgdata) {
                tracing::warn!(
                    pid,
                    file = name,
                    "removing a stale lock file left by a crashed cluster"
                );
                let _ = fs::remove_file(&path);
            }
        }
    }

    /// Clusters made before the socket directory was passed at start name it in their
    /// configuration as an absolute path, which breaks a copied or moved data dir. The
    /// command line overrides it anyway; the line is commented out so no stale path stays.
    fn drop_socket_dir_setting(&self, path: &Path) -> Result<(), DbError> {
        let Ok(text) = fs::read_to_string(path) else {
            return Ok(());
        };
        let is_setting = |l: &str| l.trim_start().starts_with("unix_socket_directories");
        if !text.lines().any(is_setting) {
            return Ok(());
        }
        let mut fixed = String::with_capacity(text.len() + 80);
        for line in text.lines() {
            if is_setting(line) {
                fixed.push_str("# packtrack: the socket directory is passed at start; was: ");
            }
            fixed.push_str(line);
            fixed.push('\n');
        }
        let tmp = path.with_extension("conf.packtrack-tmp");
        write_private(&tmp, fixed.as_bytes())?;
        self.chown(&tmp)?;
        fs::rename(&tmp, path)
            .map_err(|e| setup(format!("cannot replace {}: {e}", path.display())))?;
        tracing::info!(file = %path.display(), "removed the absolute socket directory from the cluster configuration");
        Ok(())
    }

    fn pg_ctl_start(&self) -> Result<(), DbError> {
        let log = self.pgdata.join("server.log");
        let socket_option = socket_dir_option(&self.pgdata)?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let out = self
                .command("pg_ctl")
                .arg("-D")
                .arg(&self.pgdata)
                .arg("-l")
                .arg(&log)
                .arg("-o")
                .arg(&socket_option)
                .args(["-w", "-t", "30", "-s", "start"])
                .stdin(Stdio::null())
                .output()
                .map_err(|e| setup(format!("cannot run pg_ctl: {e}")))?;
            if out.status.success() {
                return Ok(());
            }
            let tail = log_tail(&log);
            // Backends of a killed postmaster keep the old shared memory a moment longer.
            let retryable = tail.contains("shared memory block is still in use")
                || tail.contains("lock file \"postmaster.pid\" already exists");
            if retryable && Instant::now() < deadline {
                self.remove_stale_locks();
                std::thread::sleep(Duration::from_millis(250));
                continue;
            }
            return Err(setup(format!(
                "PostgreSQL did not start (see {}): {}",
                log.display(),
                // The FATAL line says why; the last line is often just "shut down".
                tail.lines()
                    .rev()
                    .find(|l| l.contains("FATAL"))
                    .or_else(|| tail.lines().last())
                    .unwrap_or("no log output")
            )));
        }
    }

    /// Detaches this process from the cluster, and stops the server when no other packtrack
    /// process is attached to it (whichever process started it). At most [`STOP_TIMEOUT`].
    pub fn stop(&self) {
        self.stop_within(STOP_TIMEOUT);
    }

    /// [`EmbeddedCluster::stop`] in at most about `budget`, whatever the server is doing:
    /// a fast shutdown, then an immediate one (safe: the next start replays the WAL, as
    /// after a crash); past the budget the server is left to the next packtrack process.
    pub fn stop_within(&self, budget: Duration) {
        let deadline = Instant::now() + budget;
        let Some(attached) = lock(&self.attached).take() else {
            return;
        };
        // Regression: the process that started the server used to stop it on exit even
        // while another packtrack process (say `serve`, started meanwhile) still used it,
        // killing that process's connections. Now the last process out stops it, whoever
        // started it. Deciding under the setup lock keeps a new process from attaching
        // in between.
        let _setup = match lock_file_until(&self.root.join(".cluster.lock"), deadline) {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot lock the data dir in time; leaving PostgreSQL running");
                return;
            }
        };
        let file = match attached.unlock() {
            Ok(f) => f,
            Err((_, e)) => {
                tracing::warn!(error = %e, "cannot unlock the users file; leaving PostgreSQL running");
                return;
            }
        };
        if Flock::lock(file, FlockArg::LockExclusiveNonblock).is_err() {
            tracing::debug!("another packtrack process uses the cluster; leaving it running");
            return;
        }
        self.shutdown_server(deadline);
    }

    /// Signals this cluster's postmaster — only after checking that the pid in the lock file
    /// is it (`pg_ctl stop` signals whatever that pid is now) — and waits for it to exit.
    fn shutdown_server(&self, deadline: Instant) {
        let Some(pid) = self.postmaster_pid() else {
            return;
        };
        if !is_postmaster_of(pid, &self.pgdata) {
            tracing::warn!(
                pid,
                "postmaster.pid names no postmaster of this cluster; not signalling it"
            );
            self.remove_stale_locks();
            return;
        }
        let fast_until = deadline
            .checked_sub(IMMEDIATE_RESERVE)
            .filter(|t| *t > Instant::now())
            .unwrap_or(deadline);
        // SIGINT is `pg_ctl stop -m fast`, SIGQUIT `-m immediate`.
        for (signal, until) in [(Signal::SIGINT, fast_until), (Signal::SIGQUIT, deadline)] {
            if let Err(e) = kill(nix::unistd::Pid::from_raw(pid), signal) {
                tracing::warn!(pid, error = %e, "cannot signal the postmaster");
                return;
            }
            while is_postmaster_of(pid, &self.pgdata) {
                if Instant::now() >= until {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            if !is_postmaster_of(pid, &self.pgdata) {
                tracing::debug!(?signal, "embedded PostgreSQL stopped");
                return;
            }
            tracing::warn!(pid, ?signal, "PostgreSQL did not stop in time");
        }
        tracing::warn!(
            pid,
            "leaving PostgreSQL running; the next packtrack process will stop or reuse it"
        );
    }

    fn users_file(&self) -> PathBuf {
        self.root.join(".cluster.users")
    }

    fn lock_users(&self, how: FlockArg) -> std::io::Result<Flock<fs::File>> {
        lock_file(&self.users_file(), how)
    }

    fn lock_setup(&self) -> std::io::Result<Flock<fs::File>> {
        lock_file(&self.root.join(".cluster.lock"), FlockArg::LockExclusive)
    }

    /// A command for one of the server binaries, run as the cluster's system user.
    pub fn command(&self, bin: &str) -> Command {
        let mut cmd = Command::new(self.bins.bin(bin));
        // The server must not pick up a caller's PGDATA/PGHOST and friends.
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("PG") {
                cmd.env_remove(k);
            }
        }
        cmd.env("LC_ALL", "C");
        if let Some(user) = &self.run_as {
            cmd.uid(user.uid.as_raw()).gid(user.gid.as_raw());
            cmd.env("HOME", &user.dir);
            cmd.current_dir(&self.root);
        }
        cmd
    }

    fn chown(&self, path: &Path) -> Result<(), DbError> {
        if let Some(user) = &self.run_as {
            nix::unistd::chown(path, Some(user.uid), Some(user.gid))
                .map_err(|e| setup(format!("cannot chown {} to postgres: {e}", path.display())))?;
        }
        Ok(())
    }
}

impl Drop for EmbeddedCluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The attach lock, whatever a panicking holder left (an `Option` is always consistent).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// [`lock_file`] exclusively, waiting at most until `deadline`.
fn lock_file_until(path: &Path, deadline: Instant) -> std::io::Result<Flock<fs::File>> {
    let mut file = lock_target(path)?;
    loop {
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(l) => return Ok(l),
            Err((f, Errno::EWOULDBLOCK)) if Instant::now() < deadline => {
                file = f;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err((_, e)) => return Err(std::io::Error::from(e)),
        }
    }
}

/// Opens (creating, 0600) and flocks a file in the data dir.
fn lock_file(path: &Path, how: FlockArg) -> std::io::Result<Flock<fs::File>> {
    Flock::lock(lock_target(path)?, how).map_err(|(_, e)| std::io::Error::from(e))
}

fn lock_target(path: &Path) -> std::io::Result<fs::File> {
    fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(path)
}

fn setup(msg: String) -> DbError {
    DbError::Setup(msg)
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), DbError> {
    let _ = fs::remove_file(path);
    let mut f = fs::OpenOptions::new()
        .create_new(true)
        .write(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| setup(format!("cannot create {}: {e}", path.display())))?;
    f.write_all(bytes)
        .map_err(|e| setup(format!("cannot write {}: {e}", path.display())))
}

/// The first line of a postgres lock file: the pid of the process that holds it.
fn read_pid(path: &Path) -> Option<i32> {
    let text = fs::read_to_string(path).ok()?;
    text.lines().next()?.trim().parse().ok()
}

/// Whether `pid` is a live postmaster of the cluster in `pgdata`. Identified by data
/// directory — its working directory (a postmaster chdirs into it) or, where that link is
/// not readable, its `-D` argument — never by name: with several clusters on one host, a
/// stale lock file can name another cluster's postgres, which must never be signalled.
fn is_postmaster_of(pid: i32, pgdata: &Path) -> bool {
    if pid <= 0 || pid as u32 == std::process::id() {
        return false;
    }
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    match fs::read_to_string(proc_dir.join("stat")) {
        // `PID (COMM) STATE …`. A postmaster killed by SIGKILL stays a zombie (state Z) until
        // its parent reaps it, and after pg_ctl exits that parent is PID 1 — which in many
        // containers never reaps. A zombie runs nothing.
        // The name is necessary (an administrator's shell sitting in the data dir is not a
        // postmaster), never sufficient.
        Ok(stat) => {
            let comm = stat
                .split_once('(')
                .and_then(|(_, rest)| rest.rsplit_once(')'))
                .map_or("", |(c, _)| c);
            let state = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .unwrap_or("Z");
            if !comm.starts_with("postgres") || matches!(state, "Z" | "X" | "x") {
                return false;
            }
        }
        // No procfs (not Linux): "is the pid alive" is all there is to know.
        Err(_) if !Path::new("/proc/self").exists() => {
            return kill(nix::unistd::Pid::from_raw(pid), None).is_ok();
        }
        Err(_) => return false,
    }
    let Ok(ours) = fs::canonicalize(pgdata) else {
        return false;
    };
    if let Ok(cwd) = fs::read_link(proc_dir.join("cwd")) {
        return cwd == ours;
    }
    // Another user's cwd link is unreadable without privileges; the command line is not.
    let Ok(cmdline) = fs::read(proc_dir.join("cmdline")) else {
        return false;
    };
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    args.windows(2)
        .find(|w| w[0] == b"-D")
        .and_then(|w| std::str::from_utf8(w[1]).ok())
        .and_then(|d| fs::canonicalize(d).ok())
        .is_some_and(|d| d == ours)
}

/// `pg_ctl -o` value naming the socket directory. pg_ctl runs the server through
/// `/bin/sh`, and postgres reads the value as a list with double-quoted items.
fn socket_dir_option(dir: &Path) -> Result<String, DbError> {
    let dir = dir.to_str().ok_or_else(|| {
        setup(format!(
            "the data directory path is not UTF-8: {}",
            dir.display()
        ))
    })?;
    let item = format!("\"{}\"", dir.replace('"', "\"\""));
    Ok(format!("-k '{}'", item.replace('\'', r"'\''")))
}

fn log_tail(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(5)..].join("\n")
}

/// The `postgres` user must be able to walk down to the data directory; a 0700 home or
/// temp directory on the way blocks it, and initdb's own error would not say which one.
fn check_traversable(dir: &Path, user: &nix::unistd::User) -> Result<(), DbError> {
    for ancestor in dir.ancestors() {
        let Ok(meta) = fs::metadata(ancestor) else {
            continue;
        };
        let mode = meta.mode();
        let ok = if meta.uid() == user.uid.as_raw() {
            mode & 0o100 != 0
        } else if meta.gid() == user.gid.as_raw() {
            mode & 0o010 != 0
        } else {
            mode & 0o001 != 0
        };
        if !ok {
            if ancestor == dir {
                // Our own data dir: open it up for traversal only (no listing).
                let perm = fs::Permissions::from_mode((mode & 0o7777) | 0o711);
                if fs::set_permissions(ancestor, perm).is_ok() {
                    continue;
                }
            }
            return Err(setup(format!(
                "the `postgres` system user cannot enter {} (mode {:o}); the embedded cluster \
                 runs as that user when packtrack runs as root. Allow traversal (chmod o+x {}) \
                 or choose a --data-dir elsewhere",
                ancestor.display(),
                mode & 0o777,
                ancestor.display()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
