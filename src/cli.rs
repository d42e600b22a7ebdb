//! Command line: `packtrack [GLOBAL OPTIONS] <COMMAND>`, per CONTRACT.md.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};

use crate::audit_anchor::Anchor;
use crate::auth::{password, pubkey, totp};
use crate::config::{self, Config};
use crate::db::unscoped::Admin;
use crate::db::{Database, recipients};
use crate::domain::Role;
use crate::secrets::SecretsKey;

#[derive(Debug, Parser)]
#[command(
    name = "packtrack",
    version,
    about = "Mailroom package tracker served over SSH"
)]
pub struct Cli {
    /// State: the embedded PostgreSQL cluster (DIR/postgres) and the audit checkpoints.
    #[arg(
        long,
        env = "PACKTRACK_DATA_DIR",
        default_value = "./data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// SSH host key and secrets key.
    #[arg(
        long,
        env = "PACKTRACK_KEYS_DIR",
        default_value = "./keys",
        global = true
    )]
    pub keys_dir: PathBuf,
    /// Log as JSON lines instead of text.
    #[arg(long, env = "PACKTRACK_LOG_JSON", global = true)]
    pub log_json: bool,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The server logs sessions; one-shot commands only warnings.
    pub fn default_log_level(&self) -> &'static str {
        match self.command {
            Command::Serve(_) => "info",
            _ => "warn",
        }
    }

    fn config(&self) -> Config {
        Config {
            data_dir: self.data_dir.clone(),
            keys_dir: self.keys_dir.clone(),
            database_url: std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the SSH server.
    Serve(ServeArgs),
    /// Apply database migrations.
    Migrate,
    /// Administration on the server host.
    #[command(subcommand)]
    Admin(AdminCmd),
    /// Parse scanned label text into tracking numbers.
    Label {
        /// One JSON object per input, one per line.
        #[arg(long)]
        json: bool,
        #[arg(required = true)]
        text: Vec<String>,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:2222")]
    listen: std::net::SocketAddr,
    /// Seed the demo facility when the database has none, and print how to log in.
    #[arg(long)]
    demo: bool,
    /// Serve Prometheus metrics on this address (e.g. 127.0.0.1:9222).
    #[arg(long)]
    metrics: Option<std::net::SocketAddr>,
    /// End interactive sessions after this many seconds without input.
    #[arg(long, default_value_t = 600)]
    idle_timeout: u64,
    /// Most simultaneous connections.
    #[arg(long, default_value_t = crate::ssh::limits::Limits::default().max_connections)]
    max_connections: usize,
    /// Most simultaneous connections from one address.
    #[arg(long, default_value_t = crate::ssh::limits::Limits::default().max_per_ip)]
    max_per_ip: usize,
    /// Most connections from one address that have not authenticated yet.
    #[arg(long, default_value_t = crate::ssh::limits::Limits::default().max_startups_per_ip)]
    max_startups_per_ip: usize,
    /// Most connections in all that have not authenticated yet (new ones are refused at
    /// random from 30 % of this on, like OpenSSH's MaxStartups).
    #[arg(long, default_value_t = crate::ssh::limits::Limits::default().max_startups)]
    max_startups: usize,
    /// Seconds between re-checks of every session's access (revoked keys, reset TOTP,
    /// disabled members, quarantined kiosks end within this long even if a notification
    /// was lost).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    recheck_secs: u64,
}

#[derive(Debug, Subcommand)]
pub enum AdminCmd {
    #[command(subcommand)]
    Facility(FacilityCmd),
    #[command(subcommand)]
    User(UserCmd),
    #[command(subcommand)]
    Recipients(RecipientsCmd),
    #[command(subcommand)]
    Audit(AuditCmd),
    #[command(subcommand)]
    Smtp(SmtpCmd),
    #[command(subcommand)]
    Sms(SmsCmd),
    #[command(subcommand)]
    Webhook(WebhookCmd),
    #[command(subcommand)]
    Secrets(SecretsCmd),
    #[command(subcommand)]
    Device(DeviceCmd),
    /// Print the owner role's connection URL of the database in use.
    DbUrl,
    /// Run psql as the owner role on the database in use.
    Psql {
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Seed the demo facility (when the database has none) and print how to log in.
    Demo,
}

#[derive(Debug, Subcommand)]
pub enum SmtpCmd {
    /// Where the facility's notification email goes out.
    Set {
        #[arg(long)]
        facility: String,
        /// smtp://HOST:PORT (STARTTLS required), smtps://HOST:PORT (TLS), or
        /// smtp://HOST:PORT?tls=none for plain SMTP to a local relay (with a password only
        /// to localhost).
        #[arg(long)]
        url: String,
        /// The From address.
        #[arg(long)]
        from: String,
        #[arg(long)]
        username: Option<String>,
        /// Read the SMTP password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SmsCmd {
    /// Where the facility's text messages go: a JSON POST of {"to", "message"} per SMS,
    /// with `Authorization: Bearer TOKEN` when a token is set.
    Set {
        #[arg(long)]
        facility: String,
        /// http:// or https:// URL of the SMS provider's send endpoint.
        #[arg(long)]
        url: String,
        /// Read the API token from the first line of stdin (without it, no Authorization
        /// header is sent).
        #[arg(long)]
        token_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum WebhookCmd {
    /// Add a webhook: JSON POSTs signed with HMAC-SHA256 under the secret.
    Add {
        #[arg(long)]
        facility: String,
        #[arg(long)]
        url: String,
        /// Read the signing secret from the first line of stdin.
        #[arg(long, required = true)]
        secret_stdin: bool,
        /// Send each package's pickup code too. Off by default: a pickup code lets whoever
        /// holds it collect the parcel, so only receivers that need it should get it.
        #[arg(long)]
        include_pickup_code: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum DeviceCmd {
    /// Register a kiosk terminal (it logs in as kiosk+FACILITY with this key).
    Add {
        #[arg(long)]
        facility: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        key_file: PathBuf,
        /// Offer self-service pickup on its lock screen (recipients type their pickup
        /// code; staff confirm the handover with their PIN).
        #[arg(long)]
        self_service: bool,
    },
    /// Turn self-service pickup on or off for a device.
    SelfService {
        #[arg(long)]
        facility: String,
        #[arg(long)]
        name: String,
        #[arg(value_enum)]
        state: OnOff,
    },
    /// Cut a device off at once: its sessions end and its key stops working.
    Quarantine {
        #[arg(long)]
        facility: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        reason: String,
    },
    /// Let a quarantined device in again.
    Release {
        #[arg(long)]
        facility: String,
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

#[derive(Debug, Subcommand)]
pub enum SecretsCmd {
    /// Re-seal every stored secret under a new key (older keys stay to open stragglers).
    Rotate,
}

#[derive(Debug, Subcommand)]
pub enum FacilityCmd {
    Create {
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Add a user (or a membership, when the user exists).
    Add(UserAdd),
    /// Register one OpenSSH public key for a user.
    AddKey {
        #[arg(long)]
        login: String,
        #[arg(long)]
        key_file: PathBuf,
    },
    /// Enroll (or re-enroll) TOTP; prints the otpauth:// URI.
    TotpEnroll {
        #[arg(long)]
        login: String,
    },
    /// Set the PIN that unlocks kiosk terminals for this user (4-12 digits, from stdin).
    SetPin {
        #[arg(long)]
        login: String,
        #[arg(long, required = true)]
        pin_stdin: bool,
    },
}

#[derive(Debug, Args)]
pub struct UserAdd {
    #[arg(long)]
    login: String,
    #[arg(long)]
    facility: String,
    #[arg(long)]
    role: Role,
    /// Display name (defaults to the login).
    #[arg(long)]
    name: Option<String>,
    /// Read the password from the first line of stdin.
    #[arg(long)]
    password_stdin: bool,
}

#[derive(Debug, Subcommand)]
pub enum RecipientsCmd {
    /// Import a CSV with header name,unit,email,phone,aliases.
    Import {
        #[arg(long)]
        facility: String,
        /// Print what the import would do (adds, updates, unchanged, rejections); write nothing.
        #[arg(long)]
        dry_run: bool,
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Exit 0 when every audit chain verifies; otherwise name the first bad entry.
    Verify,
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    let cfg = cli.config();
    match cli.command {
        Command::Label { json, text } => Ok(label(json, &text)),
        Command::Serve(args) => serve(&cfg, args).await,
        Command::Migrate => {
            let db = open(&cfg).await?;
            eprintln!("migrations applied");
            drop(db);
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin(cmd) => admin(&cfg, cmd).await,
    }
}

async fn serve(cfg: &Config, args: ServeArgs) -> Result<ExitCode> {
    use crate::ssh::{hostkey, limits::Limits, server};
    let host_key = hostkey::load_or_create(&cfg.keys_dir).map_err(anyhow::Error::msg)?;
    let keys = SecretsKey::load_or_create(&cfg.keys_dir)?;
    let db = open(cfg).await?;
    let seeded = if args.demo {
        let owner = db.owner_pool().await?;
        let seeded = crate::admin::demo::seed(&owner, &keys).await?;
        owner.close().await;
        Some(seeded)
    } else {
        None
    };
    let app = db.app_default().await?;
    // Restarts the embedded cluster should its postmaster die (docs/RELIABILITY.md).
    let supervisor = db
        .cluster()
        .map(|c| crate::db::supervisor::Supervisor::spawn(c.clone()));
    // Notification delivery: one worker per server (several servers share the outbox safely).
    let (notify_stop, notify_rx) = tokio::sync::watch::channel(false);
    let mut notifier = tokio::spawn(crate::notify::worker::run(
        db.owner_pool().await?,
        keys.clone(),
        crate::notify::worker::WorkerConfig::default(),
        notify_rx,
    ));
    // Audit chain heads anchored outside the database: now, every minute, at shutdown.
    let (anchor_stop, anchor_rx) = tokio::sync::watch::channel(false);
    let mut anchorer = tokio::spawn(crate::audit_anchor::run(
        db.owner_pool().await?,
        Anchor::new(&cfg.data_dir, keys.clone()),
        anchor_rx,
    ));
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
        ..Limits::default()
    };
    let auth = crate::auth::login::Authenticator::new(app.clone(), keys);
    let handle = server::start(listener, auth, host_key, limits)?;
    if let Some(s) = &supervisor {
        handle.metrics.watch_db(s.health());
    }
    if let Some(addr) = args.metrics {
        let l = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr} for metrics"))?;
        tokio::spawn(crate::ssh::metrics::serve(l, handle.metrics.clone()));
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
    db.shutdown(deadline.into_std()).await;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

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

/// Opens the configured database and brings the schema up to date.
pub async fn open(cfg: &Config) -> Result<Database> {
    let db = Database::open(cfg).await?;
    db.migrate().await?;
    Ok(db)
}

/// Prints what each scanned text is. Exit 1 when some input is not a tracking number.
fn label(json: bool, inputs: &[String]) -> ExitCode {
    let mut all_known = true;
    for input in inputs {
        let parsed = crate::label::parse(input);
        all_known &= parsed.carrier.is_some();
        if json {
            println!("{}", parsed.to_json());
        } else {
            match parsed.carrier {
                Some(carrier) => println!(
                    "{}\t{carrier}\t{}\tchecksum {}{}",
                    parsed.tracking,
                    parsed.service.as_deref().unwrap_or("-"),
                    match parsed.checksum {
                        crate::label::Checksum::Valid => "valid",
                        crate::label::Checksum::Invalid => "INVALID (check the number)",
                        crate::label::Checksum::None => "none",
                    },
                    if parsed.candidates.len() > 1 {
                        format!(
                            "\talso: {}",
                            parsed.candidates[1..]
                                .iter()
                                .map(|c| c.carrier)
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    } else {
                        String::new()
                    }
                ),
                None => println!(
                    "{}\tnot a known tracking number format",
                    parsed.input.trim()
                ),
            }
        }
    }
    if all_known {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

async fn admin(cfg: &Config, cmd: AdminCmd) -> Result<ExitCode> {
    let db = open(cfg).await?;
    let owner = db.owner_pool().await?;
    let admin = Admin::new(&owner);
    // Commands that may have written audit entries anchor the chain heads afterwards; not
    // `psql`, whose changes nobody vouches for (a checkpoint never moves an anchor back
    // anyway), nor `audit verify`, which anchors only what it verified.
    let anchors = !matches!(
        cmd,
        AdminCmd::DbUrl | AdminCmd::Psql { .. } | AdminCmd::Audit(_)
    );
    match cmd {
        AdminCmd::Facility(FacilityCmd::Create { slug, name }) => {
            text_arg("--name", &name)?;
            admin.create_facility(&slug, &name).await?;
            println!("facility {slug} created");
        }
        AdminCmd::User(UserCmd::Add(add)) => {
            let hash = if add.password_stdin {
                let pw = read_secret_line("password")?;
                if pw.chars().count() < 8 {
                    bail!("password must be at least 8 characters");
                }
                Some(password::hash(pw).await)
            } else {
                None
            };
            let display = add.name.clone().unwrap_or_else(|| add.login.clone());
            text_arg("--name", &display)?;
            let created = admin
                .add_user(&add.login, &display, &add.facility, add.role, hash)
                .await?;
            println!(
                "{} {} in {} as {}",
                if created {
                    "user added:"
                } else {
                    "membership set:"
                },
                add.login,
                add.facility,
                add.role
            );
        }
        AdminCmd::User(UserCmd::AddKey { login, key_file }) => {
            let line = std::fs::read_to_string(&key_file)
                .with_context(|| format!("cannot read {}", key_file.display()))?;
            let key = pubkey::parse_line(&line)
                .map_err(|e| anyhow::anyhow!("{}: {e}", key_file.display()))?;
            admin.add_key(&login, &key).await?;
            println!("key {} added for {login}", key.fingerprint);
        }
        AdminCmd::User(UserCmd::TotpEnroll { login }) => {
            let keys = SecretsKey::load_or_create(&cfg.keys_dir)?;
            let secret = totp::new_secret();
            admin
                .set_totp(&login, |uid| keys.seal(&format!("user:{}", uid.0), &secret))
                .await?;
            let slugs = admin.user_facility_slugs(&login).await?;
            let account = match slugs.as_slice() {
                [one] => format!("{login}@{one}"),
                _ => login.clone(),
            };
            let uri = totp::otpauth_uri(&secret, &account);
            println!("{uri}");
            if std::io::stdout().is_terminal()
                && let Some(qr) = totp::qr_terminal(&uri)
            {
                println!("{qr}");
            }
        }
        AdminCmd::Recipients(RecipientsCmd::Import {
            facility,
            dry_run,
            file,
        }) => {
            import(&admin, &facility, &file, dry_run).await?;
        }
        AdminCmd::Audit(AuditCmd::Verify) => {
            let code = audit_verify(cfg, &owner).await;
            owner.close().await;
            return code;
        }
        AdminCmd::Smtp(SmtpCmd::Set {
            facility,
            url,
            from,
            username,
            password_stdin,
        }) => {
            let parsed = url::Url::parse(&url)
                .ok()
                .filter(|u| matches!(u.scheme(), "smtp" | "smtps") && u.host_str().is_some())
                .ok_or_else(|| {
                    anyhow::anyhow!("`{url}` is not an smtp:// or smtps:// URL with a host")
                })?;
            // The TLS rules the worker applies on every delivery, checked now.
            let has_credentials =
                password_stdin || username.as_deref().is_some_and(|u| !u.is_empty());
            crate::notify::email::endpoint(parsed.as_str(), has_credentials)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if crate::admin::import::valid_email(&from).is_none() {
                bail!("`{from}` is not a valid From address");
            }
            let password = if password_stdin {
                Some(read_secret_line("password")?)
            } else {
                None
            };
            let keys = SecretsKey::load_or_create(&cfg.keys_dir)?;
            admin
                .set_smtp(
                    &facility,
                    parsed.as_str(),
                    &from,
                    username.as_deref(),
                    |f| {
                        password
                            .as_ref()
                            .map(|p| keys.seal(&format!("facility:{}", f.0), p.as_bytes()))
                    },
                )
                .await?;
            println!("smtp for {facility}: {parsed} from {from}");
        }
        AdminCmd::Sms(SmsCmd::Set {
            facility,
            url,
            token_stdin,
        }) => {
            let parsed = url::Url::parse(&url)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
                .ok_or_else(|| anyhow::anyhow!("the SMS URL is not an http:// or https:// URL"))?;
            let token = if token_stdin {
                Some(read_secret_line("token")?)
            } else {
                None
            };
            let shown = shown_url(&parsed);
            let keys = SecretsKey::load_or_create(&cfg.keys_dir)?;
            admin
                .set_sms(&facility, parsed.as_str(), &shown, |f| {
                    token
                        .as_ref()
                        .map(|t| keys.seal(&format!("facility:{}", f.0), t.as_bytes()))
                })
                .await?;
            println!(
                "sms for {facility}: {shown} ({})",
                if token.is_some() {
                    "token sealed"
                } else {
                    "no token"
                }
            );
        }
        AdminCmd::Webhook(WebhookCmd::Add {
            facility,
            url,
            include_pickup_code,
            ..
        }) => {
            let parsed = url::Url::parse(&url)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
                .ok_or_else(|| anyhow::anyhow!("`{url}` is not an http:// or https:// URL"))?;
            let secret = read_secret_line("secret")?;
            if secret.len() < 16 {
                bail!("the webhook secret must be at least 16 characters");
            }
            let keys = SecretsKey::load_or_create(&cfg.keys_dir)?;
            let id = crate::db::webhooks::add(
                &owner,
                &facility,
                parsed.as_str(),
                include_pickup_code,
                |f| keys.seal(&format!("facility:{}", f.0), secret.as_bytes()),
            )
            .await?;
            println!(
                "webhook {id} added for {facility}: {parsed} (pickup codes {})",
                if include_pickup_code {
                    "included"
                } else {
                    "left out"
                }
            );
        }
        AdminCmd::Secrets(SecretsCmd::Rotate) => {
            let keys = SecretsKey::load_or_create(&cfg.keys_dir)?;
            keys.rotate()?;
            let n = admin.reseal_all(&keys).await?;
            println!(
                "secrets key rotated to {}; {n} secrets re-sealed",
                keys.id_hex()
            );
        }
        AdminCmd::User(UserCmd::SetPin { login, .. }) => {
            let pin = read_secret_line("PIN")?;
            let pin = pin.trim();
            crate::domain::pin::check(pin)?;
            let hash = password::hash(pin.to_string()).await;
            admin.set_pin(&login, &hash).await?;
            println!("kiosk PIN set for {login}");
        }
        AdminCmd::Device(DeviceCmd::Add {
            facility,
            name,
            key_file,
            self_service,
        }) => {
            text_arg("--name", &name)?;
            let line = std::fs::read_to_string(&key_file)
                .with_context(|| format!("cannot read {}", key_file.display()))?;
            let key = pubkey::parse_line(&line)
                .map_err(|e| anyhow::anyhow!("{}: {e}", key_file.display()))?;
            admin.add_device(&facility, &name, &key).await?;
            if self_service {
                admin.set_self_service(&facility, &name, true).await?;
            }
            println!(
                "device `{name}` added to {facility} ({}); it logs in as kiosk+{facility}{}",
                key.fingerprint,
                if self_service {
                    "; self-service pickup on"
                } else {
                    ""
                }
            );
        }
        AdminCmd::Device(DeviceCmd::SelfService {
            facility,
            name,
            state,
        }) => {
            let on = state == OnOff::On;
            admin.set_self_service(&facility, &name, on).await?;
            println!(
                "device `{name}`: self-service pickup {}",
                if on { "on" } else { "off" }
            );
        }
        AdminCmd::Device(DeviceCmd::Quarantine {
            facility,
            name,
            reason,
        }) => {
            if reason.trim().is_empty() {
                bail!("a reason is required");
            }
            text_arg("--reason", reason.trim())?;
            admin
                .quarantine_device(&facility, &name, Some(reason.trim()))
                .await?;
            println!("device `{name}` quarantined");
        }
        AdminCmd::Device(DeviceCmd::Release { facility, name }) => {
            admin.quarantine_device(&facility, &name, None).await?;
            println!("device `{name}` released");
        }
        AdminCmd::DbUrl => println!("{}", db.owner_url()),
        AdminCmd::Psql { args } => {
            owner.close().await;
            return psql(&db, &args).await;
        }
        AdminCmd::Demo => {
            let keys = SecretsKey::load_or_create(&cfg.keys_dir)?;
            let seeded = crate::admin::demo::seed(&owner, &keys).await?;
            print_demo_login(&seeded);
        }
    }
    if anchors {
        checkpoint(cfg, &owner).await;
    }
    owner.close().await;
    Ok(ExitCode::SUCCESS)
}

/// `admin audit verify`: every chain on its own, then against the newest checkpoint of
/// this data dir; a clean result is anchored in turn.
async fn audit_verify(cfg: &Config, owner: &sqlx::PgPool) -> Result<ExitCode> {
    let anchor = Anchor::new(&cfg.data_dir, SecretsKey::load_or_create(&cfg.keys_dir)?);
    match anchor.verify(owner).await? {
        Ok(report) => {
            let v = &report.verified;
            println!(
                "audit chain intact: {} entries in {} facilities",
                v.entries, v.facilities
            );
            match report.checkpoint {
                Some((n, at)) => println!(
                    "every chain holds its head at checkpoint {n} ({})",
                    at.format("%Y-%m-%d %H:%M:%S UTC")
                ),
                None => println!(
                    "no audit checkpoint yet in {}: the server and the admin CLI write them",
                    anchor.path().display()
                ),
            }
            checkpoint(cfg, owner).await;
            Ok(ExitCode::SUCCESS)
        }
        Err(findings) => {
            for f in findings {
                eprintln!("{f}");
            }
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Anchors the chain heads after an admin command. The command itself is done: a failure
/// here is a warning, not an error.
async fn checkpoint(cfg: &Config, owner: &sqlx::PgPool) {
    let keys = match SecretsKey::load_or_create(&cfg.keys_dir) {
        Ok(keys) => keys,
        Err(e) => {
            eprintln!("warning: audit checkpoint not written: {e}");
            return;
        }
    };
    match Anchor::new(&cfg.data_dir, keys).checkpoint(owner).await {
        Ok(w) => {
            for r in w.regressed {
                eprintln!(
                    "warning: the audit chain of facility {} lost its checkpointed entry seq {}; \
                     run `packtrack admin audit verify`",
                    r.facility, r.anchored_seq
                );
            }
        }
        Err(e) => eprintln!("warning: audit checkpoint not written: {e}"),
    }
}

async fn import(
    admin: &Admin<'_>,
    facility: &str,
    file: &std::path::Path,
    dry_run: bool,
) -> Result<()> {
    let meta =
        std::fs::metadata(file).with_context(|| format!("cannot read {}", file.display()))?;
    if meta.len() > config::MAX_IMPORT_BYTES {
        bail!(
            "{} is {} bytes; the limit is {} bytes: split the file",
            file.display(),
            meta.len(),
            config::MAX_IMPORT_BYTES
        );
    }
    let data = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let parsed = crate::admin::import::parse(&data, config::MAX_IMPORT_ROWS)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let mut tx = admin.tenant(facility).await?;
    if dry_run {
        let existing = recipients::all(&mut tx).await?;
        tx.rollback().await?;
        let plan = crate::admin::import::plan(parsed, &existing);
        for line in crate::admin::import::preview_lines(&plan) {
            println!("{line}");
        }
        return Ok(());
    }
    let source = file
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let done = recipients::import(
        &mut tx,
        &parsed.rows,
        parsed.rejected.len(),
        &source,
        |_, _| {},
    )
    .await?;
    tx.commit().await?;
    println!("{}", done.counts);
    for r in &parsed.rejected {
        println!("line {}: {}", r.line, r.reason);
    }
    Ok(())
}

async fn psql(db: &Database, args: &[String]) -> Result<ExitCode> {
    let bin = db
        .cluster()
        .map(|c| c.bins().bindir.join("psql"))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("psql"));
    let status = tokio::process::Command::new(&bin)
        .arg(db.owner_url())
        .args(args)
        .status()
        .await
        .with_context(|| format!("cannot run {}", bin.display()))?;
    Ok(ExitCode::from(
        status.code().unwrap_or(1).clamp(0, 255) as u8
    ))
}

/// A free-text option that will be stored and shown to others: no control characters or
/// bidi overrides (`domain::text`), refused with the option's name.
fn text_arg(option: &'static str, value: &str) -> Result<()> {
    crate::domain::text::check(option, value, crate::domain::text::Lines::One)?;
    Ok(())
}

/// A URL as it may be shown and audited: without user name, password, query or fragment
/// (an SMS provider's key often travels in one of them).
fn shown_url(url: &url::Url) -> String {
    let mut u = url.clone();
    let hidden = !u.username().is_empty()
        || u.password().is_some()
        || u.query().is_some()
        || u.fragment().is_some();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_query(None);
    u.set_fragment(None);
    if hidden {
        format!("{u} (credentials and query hidden)")
    } else {
        u.to_string()
    }
}

fn read_secret_line(what: &str) -> Result<String> {
    let mut buf = String::new();
    std::io::stdin()
        .take(4096)
        .read_to_string(&mut buf)
        .with_context(|| format!("cannot read the {what} from stdin"))?;
    let line = buf.lines().next().unwrap_or("").to_string();
    if line.is_empty() {
        bail!("no {what} on stdin");
    }
    Ok(line)
}

pub fn print_demo_login(seeded: &crate::admin::demo::Seeded) {
    use crate::admin::demo;
    if !seeded.created {
        println!("the database already has a facility; demo data not seeded");
        return;
    }
    println!(
        "demo facility `{}` seeded: users admin, clerk, viewer",
        demo::SLUG
    );
    println!("password for each: {}", demo::PASSWORD);
    for (login, uri) in &seeded.totp_uris {
        println!("TOTP for {login}: {uri}");
    }
    for key in &seeded.local_keys {
        println!("registered your key for admin and clerk: {key}");
    }
}

#[cfg(test)]
mod device_cli_tests {
    use clap::Parser;

    use super::{AdminCmd, Cli, Command, DeviceCmd, OnOff};

    fn device(args: &[&str]) -> Result<DeviceCmd, clap::Error> {
        let cli =
            Cli::try_parse_from(["packtrack", "admin", "device"].iter().chain(args).copied())?;
        match cli.command {
            Command::Admin(AdminCmd::Device(d)) => Ok(d),
            other => panic!("not a device command: {other:?}"),
        }
    }

    #[test]
    fn self_service_on_add_and_as_its_own_command() {
        let base = [
            "add",
            "--facility",
            "north",
            "--name",
            "Desk",
            "--key-file",
            "k.pub",
        ];
        let d = device(&[&base[..], &["--self-service"]].concat()).unwrap();
        assert!(matches!(
            d,
            DeviceCmd::Add {
                self_service: true,
                ..
            }
        ));
        assert!(matches!(
            device(&base).unwrap(),
            DeviceCmd::Add {
                self_service: false,
                ..
            }
        ));
        for (word, want) in [("on", OnOff::On), ("off", OnOff::Off)] {
            let d = device(&[
                "self-service",
                "--facility",
                "north",
                "--name",
                "Desk",
                word,
            ])
            .unwrap();
            assert!(matches!(d, DeviceCmd::SelfService { state, .. } if state == want));
        }
        assert!(
            device(&[
                "self-service",
                "--facility",
                "north",
                "--name",
                "Desk",
                "maybe"
            ])
            .is_err()
        );
    }
}
