//! Finding the installed PostgreSQL server binaries.

use super::*;

pub(super) const INSTALL_HINT: &str = "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found \
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

    pub(super) fn bin(&self, name: &str) -> PathBuf {
        self.bindir.join(name)
    }
}
