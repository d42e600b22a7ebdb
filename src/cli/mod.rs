//! Command line: `packtrack [GLOBAL OPTIONS] <COMMAND>`, per CONTRACT.md.
//!
//! This file holds the top-level clap types and the dispatch; each command lives in its own
//! file: `serve` (the composition root), `label`, and `admin/` with one file per command
//! group. The CLI is the top layer: it may use every module below it, none uses it.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};

use crate::config::Config;
use crate::db::Database;

mod admin;
mod demo;
mod label;
mod serve;

pub use admin::{
    AdminCmd, AuditCmd, DeviceCmd, FacilityCmd, OnOff, RecipientsCmd, SecretsCmd, SmsCmd, SmtpCmd,
    UserAdd, UserCmd, WebhookCmd,
};
pub use demo::print_demo_login;

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
    // Boxed: serve's flags outweigh every other command's several times over.
    Serve(Box<ServeArgs>),
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
    /// Behind a TCP load balancer: connections from these addresses/networks (e.g.
    /// 10.0.0.0/8,127.0.0.1) must open with a PROXY protocol header (v1 or v2), whose client
    /// address then counts for limits, lockouts and logs. Off by default.
    #[arg(long, value_name = "ADDRS")]
    proxy_protocol_from: Option<crate::ssh::server::TrustedProxies>,
    /// Memory for the per-facility recipient search indexes (e.g. 256MiB, 1GiB); beyond it
    /// the least recently searched facilities' indexes are dropped and rebuilt on their next
    /// search.
    #[arg(long, value_name = "SIZE", default_value = "256MiB", value_parser = serve::parse_size)]
    index_memory: usize,
    /// Let notifications (SMTP, SMS, webhooks, and the admin console's test messages) reach
    /// these non-public addresses/networks, e.g. an on-prem mail relay: 10.0.0.25,127.0.0.1.
    /// Without it only public internet addresses are reached: loopback (this host's own
    /// services), private, link-local (cloud metadata) and other special addresses are
    /// refused, whoever set the URL.
    #[arg(long, value_name = "ADDRS")]
    notify_allow_private: Option<crate::domain::net::Nets>,
    /// The sessions' connections through a pooler in transaction mode (PgBouncer), e.g.
    /// postgres://packtrack_app:PASSWORD@pgbouncer:6432/packtrack. DATABASE_URL (or the
    /// embedded cluster) stays the direct connection for migrations, LISTEN, the notification
    /// worker, audit checkpoints and backups (docs/DEPLOY.md).
    #[arg(
        long,
        env = "PACKTRACK_POOLED_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pooled_database_url: Option<String>,
    #[command(flatten)]
    backup: serve::BackupFlags,
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    let cfg = cli.config();
    match cli.command {
        Command::Label { json, text } => Ok(label::label(json, &text)),
        Command::Serve(args) => serve::serve(&cfg, *args).await,
        Command::Migrate => {
            let db = open(&cfg).await?;
            eprintln!("migrations applied");
            drop(db);
            Ok(ExitCode::SUCCESS)
        }
        Command::Admin(cmd) => admin::admin(&cfg, cmd).await,
    }
}

/// Opens the configured database and brings the schema up to date.
pub async fn open(cfg: &Config) -> Result<Database> {
    open_with(cfg, crate::db::ClusterOptions::default()).await
}

pub async fn open_with(cfg: &Config, opts: crate::db::ClusterOptions) -> Result<Database> {
    let db = Database::open_with(cfg, opts).await?;
    db.migrate().await?;
    Ok(db)
}
