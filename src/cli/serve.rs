//! `packtrack serve`: the composition root. Opens the database, starts the cluster
//! supervisor, the notification worker, the audit anchorer and the SSH server, and on
//! SIGTERM/SIGINT stops them in order, each step bounded (docs/RELIABILITY.md).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use super::{ServeArgs, open_with, print_demo_login};
use crate::audit_anchor::Anchor;
use crate::config::Config;
use crate::secrets::SecretsKey;

pub(super) async fn serve(cfg: &Config, args: ServeArgs) -> Result<ExitCode> {
    use crate::ssh::{hostkey, limits::Limits, server};
    let host_key = hostkey::load_or_create(&cfg.keys_dir).map_err(anyhow::Error::msg)?;
    let keys = SecretsKey::load_or_create(&cfg.keys_dir)?;
    let db = open_with(cfg, args.backup.cluster_options(cfg)?).await?;
    let seeded = if args.demo {
        let owner = db.owner_pool().await?;
        let seeded = crate::admin::demo::seed(&owner, &keys).await?;
        owner.close().await;
        Some(seeded)
    } else {
        None
    };
    let app = match &args.pooled_database_url {
        Some(url) => {
            let app = db
                .app_pooled(url, crate::config::APP_POOL_SIZE)
                .await
                .context("--pooled-database-url")?;
            // Never the URL: it carries a password.
            tracing::info!("sessions use the pooled connection; LISTEN and jobs connect directly");
            app
        }
        None => db.app_default().await?,
    };
    // Restarts the embedded cluster should its postmaster die (docs/RELIABILITY.md).
    let supervisor = db
        .cluster()
        .map(|c| crate::db::supervisor::Supervisor::spawn(c.clone()));
    // Notification delivery: one worker per server (several servers share the outbox safely).
    let egress = match &args.notify_allow_private {
        Some(nets) => {
            tracing::info!(allowed = %nets, "notifications may reach these non-public networks");
            crate::notify::egress::Egress::allowing(nets.clone())
        }
        None => crate::notify::egress::Egress::default(),
    };
    let (notify_stop, notify_rx) = tokio::sync::watch::channel(false);
    let mut notifier = tokio::spawn(crate::notify::worker::run(
        db.owner_pool().await?,
        keys.clone(),
        crate::notify::worker::WorkerConfig {
            egress: egress.clone(),
            ..Default::default()
        },
        notify_rx,
    ));
    // Audit chain heads anchored outside the database: now, every minute, at shutdown.
    let (anchor_stop, anchor_rx) = tokio::sync::watch::channel(false);
    let mut anchorer = tokio::spawn(crate::audit_anchor::run(
        db.owner_pool().await?,
        Anchor::new(&cfg.data_dir, keys.clone()),
        anchor_rx,
    ));
    // Session input, published for backups run from a shell on this host (backup::pace).
    tokio::spawn(crate::backup::pace::publish(
        crate::backup::pace::clock_file(&cfg.data_dir),
    ));
    // Scheduled backups (issue 18, docs/BACKUP.md).
    let (backup_stop, backup_rx) = tokio::sync::watch::channel(false);
    let schedule = args.backup.schedule()?;
    // Point-in-time recovery: archived WAL shipped to the backup dir, base backups.
    let pitr_job = args
        .backup
        .pitr_job(cfg, &db, schedule.as_ref(), &keys)
        .await?;
    let backups = match schedule {
        Some(schedule) => Some(tokio::spawn(crate::backup::schedule::run(
            crate::backup::schedule::Job {
                owner: db.owner_pool().await?,
                client: crate::backup::PgClient::of(&db),
                data_dir: cfg.data_dir.clone(),
                keys_dir: cfg.keys_dir.clone(),
                schedule,
            },
            backup_rx,
        ))),
        None => None,
    };
    let (pitr_stop, pitr_rx) = tokio::sync::watch::channel(false);
    let mut pitr = pitr_job.map(|job| tokio::spawn(crate::backup::pitr::run(job, pitr_rx)));
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let limits = Limits {
        idle: std::time::Duration::from_secs(args.idle_timeout.max(1)),
        max_connections: args.max_connections,
        max_per_ip: args.max_per_ip,
        max_startups_per_ip: args.max_startups_per_ip.max(1),
        max_startups: args.max_startups.max(1),
        recheck: std::time::Duration::from_secs(args.recheck_secs),
        index_memory: args.index_memory,
        egress,
        ..Limits::default()
    };
    let auth = crate::auth::login::Authenticator::new(app.clone(), keys);
    let handle = server::start_with(listener, auth, host_key, limits, args.proxy_protocol_from)?;
    if let Some(s) = &supervisor {
        handle.metrics.watch_db(s.health());
    }
    if let Some(addr) = args.metrics {
        let l = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr} for metrics"))?;
        tokio::spawn(crate::metrics::serve(l, handle.metrics.clone()));
    }
    let signals = shutdown_signals()?;
    eprintln!("listening on {}", handle.addr);
    if let Some(seeded) = &seeded {
        print_demo_login(seeded);
        let host = if handle.addr.ip().is_unspecified() {
            "127.0.0.1".to_string()
        } else {
            handle.addr.ip().to_string()
        };
        println!(
            "log in:  ssh -p {} admin+{}@{host}",
            handle.addr.port(),
            crate::admin::demo::SLUG
        );
        if seeded.local_keys.is_empty() && seeded.created {
            println!("(no ~/.ssh/id_*.pub found: use the password and a code from the TOTP URI)");
        }
    }
    signals.await;
    eprintln!("shutting down");
    // Every step is bounded, so SIGTERM exits in time whatever the database is doing (down,
    // restarting, not answering): a service manager's restart must not hang.
    let deadline = tokio::time::Instant::now() + SHUTDOWN_BUDGET;
    // First, so the server being stopped is not restarted.
    if let Some(s) = supervisor {
        bounded(
            deadline,
            std::time::Duration::from_secs(1),
            "supervisor",
            s.stop(),
        )
        .await;
    }
    bounded(
        deadline,
        std::time::Duration::from_secs(4),
        "ssh server",
        handle.shutdown(),
    )
    .await;
    // The worker finishes its current round when the database answers; not otherwise.
    let _ = notify_stop.send(true);
    if bounded(
        deadline,
        std::time::Duration::from_millis(1500),
        "notification worker",
        &mut notifier,
    )
    .await
    .is_none()
    {
        notifier.abort();
    }
    // A backup in progress is abandoned (its `.partial` file never gets a final name).
    let _ = backup_stop.send(true);
    if let Some(b) = backups {
        b.abort();
    }
    // WAL archiving stops too (a pass, a base backup or its drill in progress is
    // abandoned); its last steps come after the last writes, below.
    let _ = pitr_stop.send(true);
    let mut pitr_finish = None;
    if let Some(task) = pitr.as_mut() {
        match bounded(deadline, WAL_CUT, "WAL archiving", &mut *task).await {
            Some(finish) => pitr_finish = finish.ok(),
            None => task.abort(),
        }
    }
    // The last audit checkpoint (bounded like the rest: it needs the database).
    let _ = anchor_stop.send(true);
    if bounded(
        deadline,
        std::time::Duration::from_millis(1500),
        "audit checkpoint",
        &mut anchorer,
    )
    .await
    .is_none()
    {
        anchorer.abort();
    }
    // Waits for connections lent out; those stuck on a silent server are left behind.
    bounded(
        deadline,
        std::time::Duration::from_secs(1),
        "database pool",
        app.close(),
    )
    .await;
    let Some(mut finish) = pitr_finish else {
        db.shutdown(deadline.into_std()).await;
        tracing::info!("stopped");
        return Ok(ExitCode::SUCCESS);
    };
    bounded(deadline, WAL_CUT, "WAL cut", finish.cut()).await;
    // The cluster's stop leaves room for the last pass.
    db.shutdown((deadline - WAL_SHIP).into_std()).await;
    if bounded(deadline, WAL_SHIP, "WAL shipping", finish.ship())
        .await
        .is_none()
    {
        tracing::warn!("archived WAL left in the data dir's outbox; the next start ships it");
    }
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// The WAL archiving steps of the stop (`backup::pitr::Finish`): ending the archiving task
/// and the cut; then the last pass, which may gzip and encrypt two 16 MiB segments.
const WAL_CUT: std::time::Duration = std::time::Duration::from_secs(1);
const WAL_SHIP: std::time::Duration = std::time::Duration::from_secs(2);

/// SIGTERM to exit, at most (plus the process's own teardown); the budget in
/// docs/RELIABILITY.md is 10 s.
const SHUTDOWN_BUDGET: std::time::Duration = std::time::Duration::from_secs(8);

/// Runs one shutdown step for at most `step`, and never past `deadline`. `None` (and a log
/// line naming the step) when it did not finish.
async fn bounded<F: std::future::Future>(
    deadline: tokio::time::Instant,
    step: std::time::Duration,
    what: &'static str,
    fut: F,
) -> Option<F::Output> {
    let until = deadline.min(tokio::time::Instant::now() + step);
    match tokio::time::timeout_at(until, fut).await {
        Ok(out) => Some(out),
        Err(_) => {
            tracing::warn!(
                step = what,
                "shutdown step did not finish in time; going on"
            );
            None
        }
    }
}

/// SIGTERM and SIGINT handlers, installed before `listening on` is printed: a signal sent
/// as soon as the server says it listens must shut it down, not kill it (exit by signal).
fn shutdown_signals() -> Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}

/// A size such as `256MiB`, `1GiB`, `512M` or `1048576` (bytes); K, M and G are binary
/// multiples, as memory is counted.
pub(super) fn parse_size(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(digits);
    let number: usize = number
        .parse()
        .map_err(|_| format!("{text:?}: expected a size such as 256MiB"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(format!("{text:?}: unknown unit (use KiB, MiB or GiB)")),
    };
    number
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("{text:?}: too large"))
}

/// `serve --backup-dir DIR --backup-every 24h --backup-keep 14` and the backup key.
#[derive(Debug, Args)]
pub struct BackupFlags {
    /// Write a verified, encrypted backup into DIR on a schedule.
    #[arg(long, value_name = "DIR")]
    backup_dir: Option<PathBuf>,
    /// How often: e.g. 24h, 6h, 30m, 7d.
    #[arg(long, default_value = "24h", value_parser = crate::backup::schedule::parse_every)]
    backup_every: std::time::Duration,
    /// How many verified backups to keep.
    #[arg(long, default_value_t = 14, value_parser = clap::value_parser!(u64).range(1..=10000))]
    backup_keep: u64,
    /// A file whose first line is the backup passphrase (encrypts and decrypts).
    #[arg(long, value_name = "FILE", conflicts_with = "backup_recipient")]
    backup_passphrase_file: Option<PathBuf>,
    /// Encrypt to this age public key (age1…); this host then cannot read its backups.
    #[arg(long, value_name = "AGE_PUBLIC_KEY")]
    backup_recipient: Option<String>,
    /// With --backup-recipient: the identity that verifies each new backup before old ones
    /// are removed. Without it nothing is verified or removed here.
    #[arg(long, value_name = "FILE", requires = "backup_recipient")]
    backup_identity: Option<PathBuf>,
    /// Point-in-time recovery (embedded cluster): archive every WAL segment, encrypted, to
    /// DIR/pitr within about a minute, and take a base backup there every --backup-every.
    /// `admin restore --pitr DIR --until TIME` restores to any moment they cover.
    #[arg(long, requires = "backup_dir")]
    wal_archive: bool,
    /// Run scheduled backups at full pace even while sessions type (by default they wait
    /// for half a second of quiet before each step: docs/BACKUP.md).
    #[arg(long)]
    backup_no_pace: bool,
}

impl BackupFlags {
    /// Archiving follows this serve's flag from the cluster's next start on.
    fn cluster_options(&self, cfg: &Config) -> Result<crate::db::ClusterOptions> {
        if cfg.database_url.is_some() {
            if self.wal_archive {
                anyhow::bail!(
                    "--wal-archive archives the embedded cluster; an external database's \
                     point-in-time recovery is set up on its own server"
                );
            }
            return Ok(crate::db::ClusterOptions::default());
        }
        Ok(crate::db::ClusterOptions {
            wal_archive: Some(self.wal_archive),
            ..Default::default()
        })
    }

    /// The archiver's job, after checking that the running server archives.
    async fn pitr_job(
        &self,
        cfg: &Config,
        db: &crate::db::Database,
        schedule: Option<&crate::backup::schedule::Schedule>,
        secrets: &SecretsKey,
    ) -> Result<Option<crate::backup::pitr::Job>> {
        let (true, Some(cluster)) = (self.wal_archive, db.cluster()) else {
            return Ok(None);
        };
        let schedule = schedule.context("--wal-archive needs --backup-dir")?;
        let owner = db.owner_pool().await?;
        let mode = crate::db::backups::archive_mode(&mut *owner.acquire().await?).await?;
        if mode != "on" {
            anyhow::bail!(
                "--wal-archive: the embedded cluster is running without WAL archiving (another \
                 packtrack process started it); stop that process, then start serve again"
            );
        }
        tracing::info!(dir = %schedule.dir.join(crate::backup::pitr::DIR).display(),
            "archiving WAL for point-in-time recovery");
        Ok(Some(crate::backup::pitr::Job {
            owner,
            cluster: cluster.clone(),
            data_dir: cfg.data_dir.clone(),
            keys_dir: cfg.keys_dir.clone(),
            dir: schedule.dir.join(crate::backup::pitr::DIR),
            every: schedule.every,
            keep: schedule.keep,
            key: schedule.key.clone(),
            secrets: secrets.clone(),
            check: schedule.check.clone(),
            pace: schedule.pace,
        }))
    }

    fn schedule(&self) -> Result<Option<crate::backup::schedule::Schedule>> {
        use crate::backup::{DecryptWith, EncryptTo, passphrase_from};
        let Some(dir) = &self.backup_dir else {
            return Ok(None);
        };
        let (key, check) = match (&self.backup_passphrase_file, &self.backup_recipient) {
            (Some(file), _) => {
                let f = std::fs::File::open(file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                let p = passphrase_from(std::io::BufReader::new(f))?;
                (
                    EncryptTo::Passphrase(p.clone()),
                    Some(DecryptWith::Passphrase(p)),
                )
            }
            (None, Some(r)) => (
                EncryptTo::recipient(r)?,
                self.backup_identity
                    .as_deref()
                    .map(DecryptWith::identity_file)
                    .transpose()?,
            ),
            (None, None) => anyhow::bail!(
                "--backup-dir needs --backup-passphrase-file FILE or --backup-recipient KEY"
            ),
        };
        Ok(Some(crate::backup::schedule::Schedule {
            dir: dir.clone(),
            every: self.backup_every,
            keep: usize::try_from(self.backup_keep).unwrap_or(usize::MAX),
            key,
            check,
            pace: (!self.backup_no_pace).then(crate::backup::pace::Pace::default),
        }))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes() {
        use super::parse_size;
        assert_eq!(parse_size("256MiB"), Ok(256 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("512m"), Ok(512 << 20));
        assert_eq!(parse_size("64 KiB"), Ok(64 << 10));
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert!(parse_size("MiB").is_err());
        assert!(parse_size("5TB").is_err());
        assert!(parse_size("-1").is_err());
    }
}
