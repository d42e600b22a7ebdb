//! Creating the cluster (initdb, role passwords), repairing what a crash left (stale locks,
//! an old socket setting) and running its tools as the cluster's owner.

use super::*;

impl EmbeddedCluster {
    pub(super) fn initdb(&mut self, opts: ClusterOptions) -> Result<(), DbError> {
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
            // A throw-away cluster (the restore drill): nothing survives a crash anyway. With
            // minimal WAL, pg_restore's single transaction skips the WAL for the tables it
            // creates, and no autovacuum runs over freshly loaded tables: less I/O and CPU
            // taken from a serving node.
            conf.push_str(
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n\
                 wal_level = minimal\nmax_wal_senders = 0\nautovacuum = off\n",
            );
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

    pub(super) fn auth_file(&self) -> PathBuf {
        self.root.join("postgres-auth.json")
    }

    pub(super) fn read_auth(&self) -> Result<ClusterAuth, DbError> {
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
    pub(super) fn remove_stale_locks(&self) {
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
    pub(super) fn drop_socket_dir_setting(&self, path: &Path) -> Result<(), DbError> {
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

    pub(super) fn users_file(&self) -> PathBuf {
        self.root.join(".cluster.users")
    }

    pub(super) fn lock_users(&self, how: FlockArg) -> std::io::Result<Flock<fs::File>> {
        lock_file(&self.users_file(), how)
    }

    pub(super) fn lock_setup(&self) -> std::io::Result<Flock<fs::File>> {
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

    pub(super) fn chown(&self, path: &Path) -> Result<(), DbError> {
        if let Some(user) = &self.run_as {
            nix::unistd::chown(path, Some(user.uid), Some(user.gid))
                .map_err(|e| setup(format!("cannot chown {} to postgres: {e}", path.display())))?;
        }
        Ok(())
    }
}
