//! The embedded PostgreSQL cluster: a private server in `DATA_DIR/postgres`, reachable only
//! through a Unix socket inside that directory, created and started on demand from the
//! PostgreSQL server binaries installed on the machine.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg};
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
    attached: Option<Flock<fs::File>>,
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
            attached: None,
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
            cluster.remove_stale_pid_file();
            cluster.pg_ctl_start()?;
            cluster.started_here = true;
        }
        // Still under the setup lock, so no process can stop the server between the check
        // above and this.
        cluster.attached = Some(cluster.lock_users(FlockArg::LockShared).map_err(|e| {
            setup(format!(
                "cannot lock {}: {e}",
                cluster.users_file().display()
            ))
        })?);
        Ok(cluster)
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
        let text = fs::read_to_string(self.pgdata.join("postmaster.pid")).ok()?;
        text.lines().next()?.trim().parse().ok()
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
        let mut conf = format!(
            "\n# packtrack: private cluster, Unix socket only\n\
             listen_addresses = ''\n\
             unix_socket_directories = '{}'\n\
             unix_socket_permissions = 0700\n\
             port = {PORT}\n\
             max_connections = 200\n\
             shared_buffers = 128MB\n\
             password_encryption = 'scram-sha-256'\n\
             log_min_messages = warning\n\
             log_line_prefix = '%m [%p] '\n",
            self.pgdata.display()
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

    /// Running means: the pid in the lock file is alive, is a postgres process, and the
    /// socket exists. (`pg_ctl status` alone is fooled by pid reuse after a crash.)
    fn is_running(&self) -> bool {
        let Some(pid) = self.postmaster_pid() else {
            return false;
        };
        process_is_postgres(pid) && self.pgdata.join(format!(".s.PGSQL.{PORT}")).exists()
    }

    /// After a crash (kill -9, power loss) the lock file names a dead or unrelated pid;
    /// postgres refuses to start if that pid now belongs to someone else.
    fn remove_stale_pid_file(&self) {
        if let Some(pid) = self.postmaster_pid()
            && !process_is_postgres(pid)
        {
            tracing::warn!(
                pid,
                "removing stale postmaster.pid left by a crashed cluster"
            );
            let _ = fs::remove_file(self.pgdata.join("postmaster.pid"));
            // The socket's lock file names the same pid. Postgres checks it with kill(pid, 0),
            // which succeeds for an unreaped zombie, so it would refuse to start; the pid is
            // known dead here, so the lock is stale too.
            let _ = fs::remove_file(self.pgdata.join(format!(".s.PGSQL.{PORT}.lock")));
        }
    }

    fn pg_ctl_start(&self) -> Result<(), DbError> {
        let log = self.pgdata.join("server.log");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let out = self
                .command("pg_ctl")
                .arg("-D")
                .arg(&self.pgdata)
                .arg("-l")
                .arg(&log)
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
                self.remove_stale_pid_file();
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
    /// process is attached to it (whichever process started it).
    pub fn stop(&mut self) {
        let Some(attached) = self.attached.take() else {
            return;
        };
        // Regression: the process that started the server used to stop it on exit even
        // while another packtrack process (say `serve`, started meanwhile) still used it,
        // killing that process's connections. Now the last process out stops it, whoever
        // started it. Deciding under the setup lock keeps a new process from attaching
        // in between.
        let _setup = match self.lock_setup() {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot lock the data dir; leaving PostgreSQL running");
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
        let res = self
            .command("pg_ctl")
            .arg("-D")
            .arg(&self.pgdata)
            .args(["-m", "fast", "-w", "-t", "30", "-s", "stop"])
            .stdin(Stdio::null())
            .output();
        match res {
            Ok(out) if out.status.success() => tracing::debug!("embedded PostgreSQL stopped"),
            Ok(out) => tracing::warn!(
                stderr = %String::from_utf8_lossy(&out.stderr).trim(),
                "pg_ctl stop failed"
            ),
            Err(e) => tracing::warn!(error = %e, "cannot run pg_ctl stop"),
        }
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

/// Opens (creating, 0600) and flocks a file in the data dir.
fn lock_file(path: &Path, how: FlockArg) -> std::io::Result<Flock<fs::File>> {
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(path)?;
    Flock::lock(file, how).map_err(|(_, e)| std::io::Error::from(e))
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

fn process_is_postgres(pid: i32) -> bool {
    if pid <= 0 || pid as u32 == std::process::id() {
        return false;
    }
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // `PID (COMM) STATE …`. A postmaster killed by SIGKILL stays a zombie (state Z) until
        // its parent reaps it, and after pg_ctl exits that parent is PID 1 — which in many
        // containers never reaps. A zombie still shows its name but runs nothing.
        Ok(stat) => match (stat.split_once('('), stat.rsplit_once(')')) {
            (Some((_, after_open)), Some((_, after_close))) => {
                let comm = after_open.rsplit_once(')').map_or("", |(c, _)| c);
                let state = after_close.split_whitespace().next().unwrap_or("");
                comm.starts_with("postgres") && !matches!(state, "Z" | "X" | "x")
            }
            _ => false,
        },
        // No procfs: fall back to "is the pid alive".
        Err(_) => {
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
                && !Path::new("/proc/self").exists()
        }
    }
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
