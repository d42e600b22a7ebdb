//! WAL archiving for point-in-time recovery (`serve --wal-archive`), and the recovery
//! settings of a cluster unpacked from a base backup (`admin restore --pitr`).
//!
//! The server's archiver only copies each finished segment into `DATA_DIR/wal-outbox`
//! (cp, sync, rename: run as the cluster's user, so no backup key ever reaches it);
//! packtrack's shipper (`backup::pitr`) compresses, encrypts and moves it to the backup dir.
//! The settings live in `packtrack-archive.conf`, which `postgresql.conf` includes, so
//! switching them never edits PostgreSQL's own file twice.

use super::*;

/// Where the server's archiver leaves finished WAL segments (in the data dir).
pub const OUTBOX: &str = "wal-outbox";
/// Where a restore puts the decrypted segments the recovering server reads (in the data dir).
pub const RESTORE_WAL: &str = "pitr-wal";
/// A partly written segment would end up only in the outbox with a name starting with this.
pub const PARTIAL_MARK: char = '.';
/// The longest a finished transaction waits in `pg_wal` before its segment is cut and
/// archived: the recovery point objective, with the shipper's interval on top.
pub const ARCHIVE_TIMEOUT_SECS: u32 = 60;
const CONF: &str = "packtrack-archive.conf";

/// How a restored cluster recovers: to a moment, or to the end of the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecoverTo {
    Time(chrono::DateTime<chrono::Utc>),
    Latest,
}

impl EmbeddedCluster {
    /// Turns archiving on or off for the next start of the server (it is read only at
    /// start): the outbox, the settings file and the include line.
    pub(super) fn configure_archive(&self, on: bool) -> Result<(), DbError> {
        let conf = if on {
            let outbox = self.root.join(OUTBOX);
            fs::create_dir_all(&outbox)
                .map_err(|e| setup(format!("cannot create {}: {e}", outbox.display())))?;
            fs::set_permissions(&outbox, fs::Permissions::from_mode(0o700))
                .map_err(|e| setup(format!("chmod {}: {e}", outbox.display())))?;
            self.chown(&outbox)?;
            // The archiver runs in the cluster's directory: a relative path needs no quoting
            // of the data dir's name, and the data dir stays movable. `sync FILE` (coreutils)
            // makes the copy durable before PostgreSQL may recycle the segment.
            let dst = format!("../{OUTBOX}");
            format!(
                "# packtrack serve --wal-archive (point-in-time recovery)\n\
                 archive_mode = on\n\
                 archive_command = 'cp %p {dst}/{PARTIAL_MARK}%f && sync {dst}/{PARTIAL_MARK}%f \
                 && mv -f {dst}/{PARTIAL_MARK}%f {dst}/%f && sync {dst}'\n\
                 archive_timeout = {ARCHIVE_TIMEOUT_SECS}\n\
                 # New segments are zero-filled, so a segment cut early gzips to almost nothing.\n\
                 wal_recycle = off\n"
            )
        } else {
            "# packtrack: WAL archiving off (serve --wal-archive turns it on)\narchive_mode = off\n"
                .to_string()
        };
        self.write_archive_conf(&conf)
    }

    /// Whether the settings file asks for archiving (what the server runs with once it
    /// has started since the file was written).
    pub fn archiving_configured(&self) -> bool {
        fs::read_to_string(self.pgdata.join(CONF))
            .is_ok_and(|t| t.lines().any(|l| l.trim() == "archive_mode = on"))
    }

    /// The directory the server's archiver copies finished segments into.
    pub fn outbox(&self) -> PathBuf {
        self.root.join(OUTBOX)
    }

    /// `pg_basebackup` as the cluster's superuser over its socket, writing one tar stream to
    /// stdout (gzip level 1); WAL comes from the archive (`-X none`), and the server's end-of-backup waits
    /// until the last segment it needs is archived.
    pub fn base_backup_command(&self) -> Command {
        let mut cmd = self.command("pg_basebackup");
        cmd.env("PGPASSWORD", &self.auth.superuser)
            .arg("-h")
            .arg(&self.pgdata)
            .args(["-p", &PORT.to_string(), "-U", SUPERUSER, "--no-password"])
            .args([
                "-D",
                "-",
                "-F",
                "tar",
                "-Z",
                "1",
                "-X",
                "none",
                "--checkpoint=fast",
            ])
            .arg("--no-manifest");
        cmd
    }

    /// After a restore has promoted: archiving off and the recovery settings gone (the
    /// server removed `recovery.signal` itself), the decrypted segments deleted.
    pub fn finish_recovery(&self) -> Result<(), DbError> {
        self.configure_archive(false)?;
        let wal = self.root.join(RESTORE_WAL);
        if wal.exists() {
            fs::remove_dir_all(&wal)
                .map_err(|e| setup(format!("cannot remove {}: {e}", wal.display())))?;
        }
        Ok(())
    }

    /// Closes the WAL segment in use so the archiver takes it (`pg_switch_wal`); its name.
    pub async fn switch_wal(&self) -> Result<String, sqlx::Error> {
        self.superuser_scalar("SELECT pg_walfile_name(pg_switch_wal())")
            .await
    }

    /// Whether the server is still replaying (`pg_is_in_recovery`).
    pub async fn in_recovery(&self) -> Result<bool, sqlx::Error> {
        self.superuser_scalar("SELECT pg_is_in_recovery()").await
    }

    /// One scalar from a short-lived superuser connection: the archive's controls work on
    /// the server, not on packtrack's database, and must not hold a pool.
    async fn superuser_scalar<T>(&self, sql: &'static str) -> Result<T, sqlx::Error>
    where
        T: Send + Unpin + for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
    {
        use sqlx::Connection;
        let opts = self.connect_options(SUPERUSER, &self.auth().superuser, "postgres");
        let mut conn = sqlx::PgConnection::connect_with(&opts).await?;
        let value = sqlx::query_scalar(sql).fetch_one(&mut conn).await?;
        let _ = conn.close().await;
        Ok(value)
    }

    /// The FATAL line of the server's log, for a server that stopped by itself.
    pub fn last_fatal(&self) -> Option<String> {
        last_fatal_of(&log_tail(&self.pgdata.join("server.log")))
    }

    fn write_archive_conf(&self, text: &str) -> Result<(), DbError> {
        ensure_include(&self.pgdata, self.run_as.as_ref())?;
        let path = self.pgdata.join(CONF);
        let tmp = self.pgdata.join(format!("{CONF}.tmp"));
        write_private(&tmp, text.as_bytes())?;
        self.chown(&tmp)?;
        fs::rename(&tmp, &path)
            .map_err(|e| setup(format!("cannot replace {}: {e}", path.display())))
    }
}

/// The last FATAL line that says why the server stopped. A connection refused while the
/// server started or replayed is logged as FATAL too ("the database system is in recovery
/// mode"), and can come after the real reason: seen on a busy host, where it hid "recovery
/// ended before configured recovery target was reached" from `admin restore --pitr`.
pub(crate) fn last_fatal_of(log: &str) -> Option<String> {
    log.lines()
        .rev()
        .filter(|l| l.contains("FATAL"))
        .find(|l| !l.contains("the database system is "))
        .map(str::to_string)
}

/// Unpacks a base backup (pg_basebackup's tar stream) into `DATA_DIR/postgres`, which must
/// not exist yet, with the role passwords that belong to it; then sets it up to recover
/// from the segments in `DATA_DIR/pitr-wal` to `to`. The cluster's next start replays them.
/// On an error nothing is left behind.
pub fn unpack_base(
    data_dir: &Path,
    tar: impl std::io::Read,
    auth: &ClusterAuth,
    to: RecoverTo,
) -> Result<(), DbError> {
    let root = fs::canonicalize(data_dir)
        .map_err(|e| setup(format!("cannot resolve {}: {e}", data_dir.display())))?;
    let run_as = cluster_user(&root)?;
    let pgdata = root.join("postgres");
    fs::create_dir(&pgdata)
        .map_err(|e| setup(format!("cannot create {}: {e}", pgdata.display())))?;
    let result = (|| {
        fs::set_permissions(&pgdata, fs::Permissions::from_mode(0o700))
            .map_err(|e| setup(format!("chmod {}: {e}", pgdata.display())))?;
        let mut archive = tar::Archive::new(tar);
        archive.set_preserve_permissions(true);
        archive.set_overwrite(false);
        archive
            .unpack(&pgdata)
            .map_err(|e| setup(format!("cannot unpack the base backup: {e}")))?;
        if !pgdata.join("PG_VERSION").exists() {
            return Err(setup(
                "the base backup holds no cluster (no PG_VERSION)".into(),
            ));
        }
        // What the source server left that must not come back: its pid and socket locks.
        for stale in ["postmaster.pid", "postmaster.opts", ".s.PGSQL.5432.lock"] {
            let _ = fs::remove_file(pgdata.join(stale));
        }
        let json = serde_json::to_vec_pretty(auth).map_err(|e| setup(e.to_string()))?;
        write_private(&root.join("postgres-auth.json"), &json)?;
        let wal = format!("../{RESTORE_WAL}");
        let target = match to {
            RecoverTo::Time(t) => format!(
                "recovery_target_time = '{}'\n",
                t.format("%Y-%m-%d %H:%M:%S%.6f+00")
            ),
            RecoverTo::Latest => String::new(),
        };
        let conf = format!(
            "# packtrack admin restore --pitr: recovering; replaced once promoted\n\
             archive_mode = off\n\
             restore_command = 'cp {wal}/%f %p'\n\
             {target}recovery_target_action = 'promote'\n"
        );
        ensure_include(&pgdata, run_as.as_ref())?;
        write_private(&pgdata.join(CONF), conf.as_bytes())?;
        write_private(&pgdata.join("recovery.signal"), b"")?;
        if let Some(user) = &run_as {
            chown_tree(&pgdata, user)?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_dir_all(&pgdata);
        let _ = fs::remove_file(root.join("postgres-auth.json"));
    }
    result
}

/// The directory a restore decrypts segments into, created for the cluster's user.
pub fn restore_wal_dir(data_dir: &Path) -> Result<PathBuf, DbError> {
    let root = fs::canonicalize(data_dir)
        .map_err(|e| setup(format!("cannot resolve {}: {e}", data_dir.display())))?;
    let dir = root.join(RESTORE_WAL);
    fs::create_dir_all(&dir).map_err(|e| setup(format!("cannot create {}: {e}", dir.display())))?;
    if let Some(user) = cluster_user(&root)? {
        nix::unistd::chown(&dir, Some(user.uid), Some(user.gid))
            .map_err(|e| setup(format!("cannot chown {}: {e}", dir.display())))?;
    }
    Ok(dir)
}

/// Hands a file a restore wrote to the cluster's user (when packtrack runs as root).
pub fn give_to_cluster(data_dir: &Path, path: &Path) -> Result<(), DbError> {
    if let Some(user) = cluster_user(data_dir)? {
        nix::unistd::chown(path, Some(user.uid), Some(user.gid))
            .map_err(|e| setup(format!("cannot chown {}: {e}", path.display())))?;
    }
    Ok(())
}

/// `postgresql.conf` includes our settings file (once; older clusters get the line added).
fn ensure_include(pgdata: &Path, run_as: Option<&nix::unistd::User>) -> Result<(), DbError> {
    let path = pgdata.join("postgresql.conf");
    let text = fs::read_to_string(&path)
        .map_err(|e| setup(format!("cannot read {}: {e}", path.display())))?;
    let line = format!("include_if_exists = '{CONF}'");
    if text.lines().any(|l| l.trim() == line) {
        return Ok(());
    }
    let mut f = fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .map_err(|e| setup(format!("cannot open {}: {e}", path.display())))?;
    f.write_all(format!("\n# packtrack: archiving and recovery settings\n{line}\n").as_bytes())
        .map_err(|e| setup(format!("cannot write {}: {e}", path.display())))?;
    if let Some(user) = run_as {
        nix::unistd::chown(&path, Some(user.uid), Some(user.gid))
            .map_err(|e| setup(format!("cannot chown {}: {e}", path.display())))?;
    }
    Ok(())
}

fn chown_tree(dir: &Path, user: &nix::unistd::User) -> Result<(), DbError> {
    nix::unistd::chown(dir, Some(user.uid), Some(user.gid))
        .map_err(|e| setup(format!("cannot chown {}: {e}", dir.display())))?;
    let entries =
        fs::read_dir(dir).map_err(|e| setup(format!("cannot list {}: {e}", dir.display())))?;
    for entry in entries {
        let entry = entry.map_err(|e| setup(format!("cannot list {}: {e}", dir.display())))?;
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            chown_tree(&path, user)?;
        } else {
            // lchown: a symlink in the tree is changed itself, never what it points at.
            std::os::unix::fs::lchown(&path, Some(user.uid.as_raw()), Some(user.gid.as_raw()))
                .map_err(|e| setup(format!("cannot chown {}: {e}", path.display())))?;
        }
    }
    Ok(())
}
