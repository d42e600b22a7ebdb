//! Host-level helpers: file locks, private files, whether a pid is this cluster's postmaster,
//! the socket directory option, and the traversal check for the `postgres` user.

use super::*;

/// The attach lock, whatever a panicking holder left (an `Option` is always consistent).
pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// [`lock_file`] exclusively, waiting at most until `deadline`.
pub(super) fn lock_file_until(path: &Path, deadline: Instant) -> std::io::Result<Flock<fs::File>> {
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
pub(super) fn lock_file(path: &Path, how: FlockArg) -> std::io::Result<Flock<fs::File>> {
    Flock::lock(lock_target(path)?, how).map_err(|(_, e)| std::io::Error::from(e))
}

pub(super) fn lock_target(path: &Path) -> std::io::Result<fs::File> {
    fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(path)
}

pub(super) fn setup(msg: String) -> DbError {
    DbError::Setup(msg)
}

pub(super) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), DbError> {
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
pub(super) fn read_pid(path: &Path) -> Option<i32> {
    let text = fs::read_to_string(path).ok()?;
    text.lines().next()?.trim().parse().ok()
}

/// Whether `pid` is a live postmaster of the cluster in `pgdata`. Identified by data
/// directory — its working directory (a postmaster chdirs into it) or, where that link is
/// not readable, its `-D` argument — never by name: with several clusters on one host, a
/// stale lock file can name another cluster's postgres, which must never be signalled.
pub(super) fn is_postmaster_of(pid: i32, pgdata: &Path) -> bool {
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
pub(super) fn socket_dir_option(dir: &Path) -> Result<String, DbError> {
    let dir = dir.to_str().ok_or_else(|| {
        setup(format!(
            "the data directory path is not UTF-8: {}",
            dir.display()
        ))
    })?;
    let item = format!("\"{}\"", dir.replace('"', "\"\""));
    Ok(format!("-k '{}'", item.replace('\'', r"'\''")))
}

pub(super) fn log_tail(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(5)..].join("\n")
}

/// The `postgres` user must be able to walk down to the data directory; a 0700 home or
/// temp directory on the way blocks it, and initdb's own error would not say which one.
pub(super) fn check_traversable(dir: &Path, user: &nix::unistd::User) -> Result<(), DbError> {
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
