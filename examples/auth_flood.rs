//! Login flood probe for `scripts/auth-flood.sh` (issue 13, item 4; loopback only).
//!
//! Measures, against a running `packtrack serve`:
//!
//! 1. quiet: key logins (connect + key exchange + publickey auth) and password+TOTP logins
//!    from a second address (`--other 127.0.0.2`);
//! 2. the same while `--flood` clients on the first address (`127.0.0.1`) send wrong
//!    keyboard-interactive logins as fast as the server answers them;
//!
//! and the server's CPU time and memory (`/proc/PID`) before and after the flood. Prints
//! `RESULT key=value …` lines (milliseconds, MiB, seconds).
//!
//! ```text
//! cargo run --release --example auth_flood -- --addr 127.0.0.1:2299 --key owner_key \
//!     --user owner+flood --kbd night1+flood:PASSWORD:BASE32 … --server-pid PID
//! ```

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use clap::Parser;
use packtrack::benchkit::Summary;
use russh::client::{self, AuthResult, Handle, KeyboardInteractiveAuthResponse as Kbd};
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg, PublicKeyOrCertificate};

#[derive(Debug, Parser)]
struct Cli {
    #[arg(long)]
    addr: SocketAddr,
    /// The key of `--user` (OpenSSH private key file).
    #[arg(long)]
    key: PathBuf,
    #[arg(long)]
    user: String,
    /// `LOGIN+SLUG:PASSWORD:BASE32SECRET`; one password+TOTP login per user per 30 s step.
    #[arg(long)]
    kbd: Vec<String>,
    /// Clients flooding wrong keyboard-interactive logins from 127.0.0.1.
    #[arg(long, default_value_t = 48)]
    flood: usize,
    /// Key logins measured per phase.
    #[arg(long, default_value_t = 30)]
    runs: usize,
    /// The address the measured logins come from.
    #[arg(long, default_value = "127.0.0.2")]
    other: IpAddr,
    #[arg(long)]
    server_pid: Option<u32>,
    /// Each flooding client on an address of its own (127.0.1.N) instead of all on
    /// 127.0.0.1: the per-address limits no longer help, only the global ones do.
    #[arg(long)]
    spread: bool,
}

struct Accept;

impl client::Handler for Accept {
    type Error = anyhow::Error;
    async fn check_server_key(&mut self, _key: &PublicKeyOrCertificate) -> Result<bool> {
        Ok(true)
    }
}

fn config() -> Arc<client::Config> {
    Arc::new(client::Config {
        inactivity_timeout: Some(Duration::from_secs(30)),
        ..Default::default()
    })
}

async fn connect(addr: SocketAddr, from: IpAddr) -> Result<Handle<Accept>> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(from, 0))?;
    let stream = socket.connect(addr).await?;
    client::connect_stream(config(), stream, Accept).await
}

/// Retries when the server dropped the connection before authentication (MaxStartups'
/// random early drop under a flood from many addresses), as a person would press Enter
/// again; counted in [`RETRIES`].
static RETRIES: AtomicU64 = AtomicU64::new(0);

async fn connect_retrying(addr: SocketAddr, from: IpAddr) -> Result<Handle<Accept>> {
    let mut last = None;
    for _ in 0..20 {
        match connect(addr, from).await {
            Ok(h) => return Ok(h),
            Err(e) => {
                RETRIES.fetch_add(1, Ordering::Relaxed);
                last = Some(e);
            }
        }
    }
    Err(last.unwrap_or_else(|| anyhow::anyhow!("no connection")))
}

/// Connect + key exchange + publickey auth; the time it took (retries included).
async fn key_login(cli: &Cli, key: &Arc<PrivateKey>) -> Result<Duration> {
    let t = Instant::now();
    let mut h = connect_retrying(cli.addr, cli.other).await?;
    let hash = h.best_supported_rsa_hash().await?.flatten();
    let r = h
        .authenticate_publickey(&cli.user, PrivateKeyWithHashAlg::new(key.clone(), hash))
        .await?;
    let took = t.elapsed();
    if !matches!(r, AuthResult::Success) {
        bail!("key login refused: {r:?}");
    }
    let _ = h
        .disconnect(russh::Disconnect::ByApplication, "", "en")
        .await;
    Ok(took)
}

/// Keyboard-interactive with the two answers; whether it succeeded.
async fn kbd(h: &mut Handle<Accept>, user: &str, password: &str, code: &str) -> Result<bool> {
    let mut resp = h
        .authenticate_keyboard_interactive_start(user, None)
        .await?;
    for _ in 0..4 {
        match resp {
            Kbd::Success => return Ok(true),
            Kbd::Failure { .. } => return Ok(false),
            Kbd::InfoRequest { ref prompts, .. } => {
                let answers = prompts
                    .iter()
                    .map(|p| {
                        if p.prompt.starts_with("Password") {
                            password.to_string()
                        } else {
                            code.to_string()
                        }
                    })
                    .collect();
                resp = h.authenticate_keyboard_interactive_respond(answers).await?;
            }
        }
    }
    bail!("too many keyboard-interactive rounds")
}

fn totp_now(secret_b32: &str) -> Result<String> {
    let secret = totp_rs::Secret::Encoded(secret_b32.to_string())
        .to_bytes()
        .map_err(|e| anyhow::anyhow!("secret: {e:?}"))?;
    Ok(packtrack::auth::totp::code_at(&secret, unix_now()))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Waits for the start of the next 30 s TOTP step (each code logs in once).
async fn next_step() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let into = now.as_millis() % 30_000;
    tokio::time::sleep(Duration::from_millis((30_000 - into) as u64 + 200)).await;
}

/// Password+TOTP logins, one per user, from the other address.
async fn kbd_logins(cli: &Cli) -> Result<Vec<Duration>> {
    let mut out = Vec::new();
    for spec in &cli.kbd {
        let mut parts = spec.splitn(3, ':');
        let (Some(user), Some(pw), Some(secret)) = (parts.next(), parts.next(), parts.next())
        else {
            bail!("--kbd LOGIN+SLUG:PASSWORD:SECRET");
        };
        let t = Instant::now();
        let mut h = connect_retrying(cli.addr, cli.other).await?;
        let ok = kbd(&mut h, user, pw, &totp_now(secret)?).await?;
        let took = t.elapsed();
        if !ok {
            bail!("password+TOTP login of {user} refused");
        }
        out.push(took);
    }
    Ok(out)
}

fn summary(name: &str, v: Vec<Duration>) {
    let s = Summary::of(&v);
    println!(
        "RESULT {name} n={} p50={:.1} p99={:.1} max={:.1}",
        s.n, s.p50, s.p99, s.max
    );
}

/// (CPU seconds, RSS MiB, peak RSS MiB) of the server process.
fn proc_stats(pid: Option<u32>) -> Option<(f64, f64, f64)> {
    let pid = pid?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb = |k: &str| {
        status
            .lines()
            .find(|l| l.starts_with(k))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
            / 1024.0
    };
    Some((ticks / 100.0, kb("VmRSS:"), kb("VmHWM:")))
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let key = Arc::new(
        russh::keys::load_secret_key(&cli.key, None)
            .with_context(|| format!("reading {}", cli.key.display()))?,
    );
    // Warm-up (one-time costs: the server's dummy hash, connection pool).
    key_login(&cli, &key).await?;

    let mut quiet = Vec::new();
    for _ in 0..cli.runs {
        quiet.push(key_login(&cli, &key).await?);
    }
    summary("quiet_key_login_ms", quiet);
    next_step().await;
    summary("quiet_password_totp_login_ms", kbd_logins(&cli).await?);

    let before = proc_stats(cli.server_pid);
    let stop = Arc::new(AtomicBool::new(false));
    let attempts = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let mut flood = Vec::new();
    for i in 0..cli.flood {
        let (stop, attempts, refused, addr) =
            (stop.clone(), attempts.clone(), refused.clone(), cli.addr);
        let from: IpAddr = if cli.spread {
            IpAddr::from([127, 0, 1, (i % 250 + 1) as u8])
        } else {
            IpAddr::from([127, 0, 0, 1])
        };
        flood.push(tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                // A new name now and then: the per-login lock is not what stops this.
                n += 1;
                let user = format!("guess{i}x{}+flood", n / 4);
                match connect(addr, from).await {
                    Ok(mut h) => {
                        for _ in 0..6 {
                            attempts.fetch_add(1, Ordering::Relaxed);
                            if !matches!(kbd(&mut h, &user, "wrong", "000000").await, Ok(false)) {
                                break;
                            }
                        }
                    }
                    Err(_) => {
                        refused.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }
        }));
    }
    // Let the flood reach its steady state (the address lock, the startup cap).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let flood_started = Instant::now();
    let mut busy = Vec::new();
    for _ in 0..cli.runs {
        busy.push(key_login(&cli, &key).await?);
    }
    summary("flood_key_login_ms", busy);
    next_step().await;
    summary("flood_password_totp_login_ms", kbd_logins(&cli).await?);
    let flood_secs = flood_started.elapsed().as_secs_f64() + 3.0;
    stop.store(true, Ordering::Relaxed);
    for f in flood {
        let _ = tokio::time::timeout(Duration::from_secs(10), f).await;
    }
    let after = proc_stats(cli.server_pid);
    println!(
        "RESULT flood clients={} spread={} seconds={flood_secs:.1} kbd_attempts={} connections_refused={} measured_retries={}",
        cli.flood,
        cli.spread,
        attempts.load(Ordering::Relaxed),
        refused.load(Ordering::Relaxed),
        RETRIES.load(Ordering::Relaxed)
    );
    if let (Some(b), Some(a)) = (before, after) {
        println!(
            "RESULT server cpu_s={:.2} rss_before_mib={:.1} rss_after_mib={:.1} peak_rss_mib={:.1}",
            a.0 - b.0,
            b.1,
            a.1,
            a.2
        );
    }
    Ok(())
}
