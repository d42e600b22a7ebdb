//! Starting, attaching to and stopping the embedded cluster, and how to connect to it.

use super::*;

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
        let run_as = cluster_user(&root)?;

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
        if let Some(on) = opts.wal_archive {
            cluster.configure_archive(on)?;
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
    pub(super) fn start_stopped(&self) -> Result<(), DbError> {
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

    pub(super) fn pg_ctl_start(&self) -> Result<(), DbError> {
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
    pub(super) fn shutdown_server(&self, deadline: Instant) {
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
}

/// The system user the cluster runs as: `postgres` when packtrack runs as root (PostgreSQL
/// refuses to run as root), else packtrack's own user (`None`).
pub(super) fn cluster_user(root: &Path) -> Result<Option<nix::unistd::User>, DbError> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
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
    check_traversable(root, &user)?;
    Ok(Some(user))
}
