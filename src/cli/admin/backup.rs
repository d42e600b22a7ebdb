//! `packtrack admin backup --to DIR`, `admin backup verify FILE` and `admin restore FILE`
//! (issue 18, docs/BACKUP.md). Restore and verify run before the usual `open` of the admin
//! CLI: restore needs an empty, unmigrated database, and verify needs none at all (it only
//! records its verdict where the configured database already exists).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use clap::{Args, Subcommand};

use crate::backup::{self, BackupError, DecryptWith, EncryptTo};
use crate::config::Config;
use crate::db::Database;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BackupArgs {
    #[command(subcommand)]
    pub verify: Option<BackupSub>,
    /// Directory to write the backup file into (created when missing).
    #[arg(long)]
    pub to: Option<PathBuf>,
    #[command(flatten)]
    pub enc: EncryptArgs,
    #[command(flatten)]
    pub pace: PaceArgs,
}

/// Whether a backup from a shell waits for the server's sessions to pause typing.
#[derive(Debug, Args)]
pub struct PaceArgs {
    /// Do not wait for the server's sessions (on this host, same data dir) to pause typing
    /// before each step; by default a run waits for half a second of quiet, 10 min at most.
    #[arg(long)]
    pub no_pace: bool,
}

impl PaceArgs {
    /// Paces on the input clock of a server that uses the same data dir, if one runs.
    fn pace(&self, cfg: &Config) -> Option<backup::pace::Pace> {
        if self.no_pace {
            return None;
        }
        backup::pace::watch(backup::pace::clock_file(&cfg.data_dir));
        Some(backup::pace::Pace::default().starting_now())
    }
}

/// Says how long a run waited for the sessions, when it did.
fn report_pause() {
    let waited = backup::pace::paused_total();
    if !waited.is_zero() {
        eprintln!(
            "waited {:.1} s for the server's sessions to pause typing",
            waited.as_secs_f64()
        );
    }
}

#[derive(Debug, Args)]
#[group(multiple = false)]
pub struct EncryptArgs {
    /// Encrypt with a passphrase read from the first line of stdin (scrypt).
    #[arg(long)]
    pub passphrase_stdin: bool,
    /// Encrypt to this age public key (age1…): this host cannot read the backup.
    #[arg(long, value_name = "AGE_PUBLIC_KEY")]
    pub recipient: Option<String>,
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct DecryptArgs {
    /// Read the passphrase from the first line of stdin.
    #[arg(long)]
    pub passphrase_stdin: bool,
    /// An age identity file (AGE-SECRET-KEY-1…).
    #[arg(long, value_name = "FILE")]
    pub identity: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum BackupSub {
    /// Decrypt, check every hash and restore into a throw-away cluster (the restore drill).
    Verify {
        /// The backup file; or, with --pitr, none.
        #[arg(required_unless_present = "pitr", conflicts_with = "pitr")]
        file: Option<PathBuf>,
        /// Drill the point-in-time archive of this backup dir instead: restore everything it
        /// holds into a throw-away data dir and walk the audit chains.
        #[arg(long, value_name = "BACKUP_DIR")]
        pitr: Option<PathBuf>,
        #[command(flatten)]
        dec: DecryptArgs,
        #[command(flatten)]
        pace: PaceArgs,
    },
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A backup file (`admin backup`, `serve --backup-dir`).
    #[arg(required_unless_present = "pitr", conflicts_with = "pitr")]
    file: Option<PathBuf>,
    /// Point-in-time recovery from this backup dir of a `serve --wal-archive` (embedded
    /// cluster): its base backups and archived WAL.
    #[arg(long, value_name = "BACKUP_DIR", requires = "until")]
    pitr: Option<PathBuf>,
    /// With --pitr: the moment to restore to (`2026-12-05T14:03:00Z`; UTC unless an
    /// offset is given), or `latest` for everything archived.
    #[arg(long, value_name = "TIME", requires = "pitr",
          value_parser = crate::backup::pitr::restore::parse_until)]
    until: Option<crate::db::pg::archive::RecoverTo>,
    #[command(flatten)]
    dec: DecryptArgs,
    /// Restore even though the keys dir lacks the secrets key the backup's sealed secrets
    /// need (users then re-enrol TOTP).
    #[arg(long)]
    without_secrets_key: bool,
}

impl EncryptArgs {
    fn key(&self) -> Result<EncryptTo> {
        if self.passphrase_stdin {
            return Ok(EncryptTo::Passphrase(backup::passphrase_from(
                std::io::stdin().lock(),
            )?));
        }
        match &self.recipient {
            Some(r) => Ok(EncryptTo::recipient(r)?),
            None => anyhow::bail!(
                "say how to encrypt the backup: --passphrase-stdin or --recipient AGE_PUBLIC_KEY"
            ),
        }
    }
}

impl DecryptArgs {
    fn key(&self) -> Result<DecryptWith> {
        if self.passphrase_stdin {
            return Ok(DecryptWith::Passphrase(backup::passphrase_from(
                std::io::stdin().lock(),
            )?));
        }
        let path = self
            .identity
            .as_deref()
            .expect("clap requires one of the two");
        Ok(DecryptWith::identity_file(path)?)
    }
}

/// `admin backup --to DIR`: the path of the new file on the last line of stdout.
pub(super) async fn backup(cfg: &Config, db: &Database, args: BackupArgs) -> Result<ExitCode> {
    let Some(dir) = args.to else {
        anyhow::bail!("admin backup needs --to DIR (or the `verify FILE` subcommand)");
    };
    let key = args.enc.key()?;
    let owner = db.owner_pool().await?;
    let src = backup::make::Source {
        owner: &owner,
        client: backup::PgClient::of(db),
        data_dir: &cfg.data_dir,
        keys_dir: &cfg.keys_dir,
        pace: args.pace.pace(cfg),
    };
    let started = Instant::now();
    let made = backup::make::make(&src, &dir, &key, true).await;
    let detail = match &made {
        Ok(m) => format!(
            "backup written: {} ({} bytes, {} packages)",
            m.path.display(),
            m.bytes,
            m.manifest.packages()
        ),
        Err(e) => format!("backup failed: {e}"),
    };
    let file = made.as_ref().ok().map(|m| m.path.display().to_string());
    crate::backup::record_run(
        &owner,
        "backup",
        made.is_ok(),
        file.as_deref(),
        &detail,
        started,
        made.as_ref().ok().map(|m| m.manifest.packages()),
    )
    .await;
    owner.close().await;
    let made = made?;
    report_pause();
    eprintln!(
        "{} facilities, {} packages, {:.1} MiB in {:.1} s",
        made.manifest.facilities.len(),
        made.manifest.packages(),
        made.bytes as f64 / 1048576.0,
        made.elapsed.as_secs_f64()
    );
    println!("{}", made.path.display());
    Ok(ExitCode::SUCCESS)
}

/// `admin backup verify FILE`: exit 0 and a one-line verdict, or non-zero and what failed.
pub(super) async fn verify(
    cfg: &Config,
    file: Option<&Path>,
    pitr: Option<&Path>,
    dec: &DecryptArgs,
    pace: &PaceArgs,
) -> Result<ExitCode> {
    let key = dec.key()?;
    let Some(file) = file else {
        let dir = pitr.expect("clap requires a file or --pitr");
        return verify_pitr(cfg, dir, key).await;
    };
    let started = Instant::now();
    let verdict = backup::verify::verify(file, key, pace.pace(cfg)).await;
    report_pause();
    let verdict = verdict.map(|v| (v.to_string(), Some(v.manifest.packages())));
    let name = file.display().to_string();
    let failed = "backup verify failed";
    Ok(report_drill(cfg, "verify", &name, started, verdict, failed).await)
}

/// `admin backup verify --pitr DIR`: exit 0 and a one-line verdict, recorded as the WAL
/// archive's state where a database exists here.
async fn verify_pitr(cfg: &Config, dir: &Path, key: DecryptWith) -> Result<ExitCode> {
    let started = Instant::now();
    let drilled = backup::pitr::restore::drill(dir, key, &cfg.keys_dir).await;
    let verdict = drilled.map(|r| (r.verdict(), None));
    let name = dir.display().to_string();
    let failed = "point-in-time drill failed";
    Ok(report_drill(cfg, "wal", &name, started, verdict, failed).await)
}

/// A drill's verdict line (and the package count it saw), printed and recorded as `kind`;
/// the exit code. A mistyped passphrase says nothing about the backup: the drill did not
/// run, it is not recorded, and the Security tab must not show FAILED until the next one.
async fn report_drill(
    cfg: &Config,
    kind: &str,
    name: &str,
    started: Instant,
    verdict: Result<(String, Option<i64>), BackupError>,
    failed: &str,
) -> ExitCode {
    let (ok, line, packages) = match verdict {
        Ok((line, packages)) => (true, line, packages),
        Err(e @ BackupError::WrongKey(_)) => {
            eprintln!("{e}\nnot recorded as a restore drill: run it again with the right key");
            return ExitCode::FAILURE;
        }
        Err(e) => (false, format!("{failed}: {e}"), None),
    };
    record_drill(cfg, kind, ok, name, &line, started, packages).await;
    if ok {
        println!("{line}");
        ExitCode::SUCCESS
    } else {
        eprintln!("{line}");
        ExitCode::FAILURE
    }
}

/// `admin restore FILE`, or `admin restore --pitr DIR --until TIME`.
pub(super) async fn restore(cfg: &Config, args: RestoreArgs) -> Result<ExitCode> {
    let key = args.dec.key()?;
    let (Some(file), None) = (&args.file, &args.pitr) else {
        return restore_pitr(cfg, &args, key).await;
    };
    // Key and secrets-key refusals come before the database is opened: a refused restore
    // into a new data dir leaves no cluster behind.
    let prepared =
        match backup::restore::prepare(file, key, &cfg.keys_dir, args.without_secrets_key).await {
            Ok(p) => p,
            Err(e) => {
                eprintln!("restore refused: {e}");
                return Ok(ExitCode::FAILURE);
            }
        };
    let db = Database::open(cfg).await?;
    let target = backup::restore::Target {
        db: &db,
        data_dir: &cfg.data_dir,
        keys_dir: &cfg.keys_dir,
        without_secrets_key: args.without_secrets_key,
    };
    let out = backup::restore::finish(prepared, &target).await;
    db.shutdown(std::time::Instant::now() + crate::db::pg::STOP_TIMEOUT)
        .await;
    match out {
        Ok(v) => {
            for note in &v.notes {
                eprintln!("note: {note}");
            }
            println!(
                "restored: {} facilities, {} packages, {} audit entries intact, migrated to the \
                 current level, in {:.1} s",
                v.manifest.facilities.len(),
                v.manifest.packages(),
                v.audit_entries,
                v.restore_time.as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Ok(restore_failed(&e)),
    }
}

/// `admin restore --pitr DIR --until TIME|latest` into a new data dir.
async fn restore_pitr(cfg: &Config, args: &RestoreArgs, key: DecryptWith) -> Result<ExitCode> {
    use crate::db::pg::archive::RecoverTo;
    if cfg.database_url.is_some() {
        anyhow::bail!(
            "--pitr restores the embedded cluster; for an external database use its own \
             point-in-time recovery (unset DATABASE_URL to restore into --data-dir)"
        );
    }
    let (Some(dir), Some(to)) = (&args.pitr, args.until) else {
        anyhow::bail!("--pitr needs --until TIME (or --until latest)");
    };
    let req = backup::pitr::restore::Request {
        dir,
        to,
        key,
        data_dir: &cfg.data_dir,
        keys_dir: &cfg.keys_dir,
        without_secrets_key: args.without_secrets_key,
    };
    match backup::pitr::restore::restore(req).await {
        Ok(r) => {
            for note in &r.notes {
                eprintln!("note: {note}");
            }
            let point = match r.to {
                RecoverTo::Time(t) => format!("{} UTC", t.format("%Y-%m-%d %H:%M:%S")),
                RecoverTo::Latest => "the end of the archive".into(),
            };
            println!(
                "restored to {point} from {} and {} WAL segments: {} packages, {} audit \
                 entries intact, in {:.1} s",
                r.base.file_name().unwrap_or_default().to_string_lossy(),
                r.segments,
                r.packages,
                r.audit_entries,
                r.elapsed.as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Ok(restore_failed(&e)),
    }
}

/// What a refused or failed restore prints; a refusal (not empty, wrong key) says itself.
fn restore_failed(e: &BackupError) -> ExitCode {
    match e {
        BackupError::NotEmpty(_) | BackupError::WrongKey(_) => eprintln!("{e}"),
        _ => eprintln!("restore failed: {e}"),
    }
    ExitCode::FAILURE
}

/// A drill's result goes where the scorecard reads it, when there is a database here
/// already (a drill on a spare machine creates none).
async fn record_drill(
    cfg: &Config,
    kind: &str,
    ok: bool,
    name: &str,
    line: &str,
    started: Instant,
    packages: Option<i64>,
) {
    let Some(db) = existing_database(cfg).await else {
        return;
    };
    if db.migrate().await.is_ok()
        && let Ok(owner) = db.owner_pool().await
    {
        crate::backup::record_run(&owner, kind, ok, Some(name), line, started, packages).await;
        owner.close().await;
    }
    db.shutdown(std::time::Instant::now() + crate::db::pg::STOP_TIMEOUT)
        .await;
}

/// The configured database if it exists already: `DATABASE_URL`, or an embedded cluster
/// that has been created in the data dir.
async fn existing_database(cfg: &Config) -> Option<Database> {
    let exists =
        cfg.database_url.is_some() || cfg.data_dir.join("postgres").join("PG_VERSION").exists();
    if !exists {
        return None;
    }
    match Database::open(cfg).await {
        Ok(db) => Some(db),
        Err(e) => {
            tracing::warn!(error = %e, "cannot record the verify result");
            None
        }
    }
}
