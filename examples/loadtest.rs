//! Load generator for `packtrack serve` (issue 8), loopback only, bounded in count and time.
//!
//! A russh client that opens `--sessions` authenticated PTY sessions (80×24 by default)
//! against a running server and drives one of these scenarios in every session:
//!
//! * `typing`: search as you type on the recipients screen (`r`). One keystroke at a time;
//!   the next one is sent only after the previous one's frame has arrived, plus a think time
//!   (`--think-ms`, ±50 % jitter; 0 = as fast as the server answers). After each name the
//!   field is cleared (Ctrl-U, untimed). `--stall` adds one more session, through an
//!   in-process TCP proxy, that stops reading its socket after its first frame while it keeps
//!   sending keys: the others' latency must not change, and the server must drop it after its
//!   write timeout (`Limits::write_stall`, 30 s).
//! * `intake`: the scan-intake flow of the intake screen (`i`): a scanner "types" a valid UPS
//!   number and Enter, the recipient's full name is typed, Enter chooses the top hit, the
//!   location (first intake only; the field keeps it) and Enter commits. `--pickup` then hands
//!   the parcel over by its pickup code (F3, code + Enter, Enter, Enter) and goes back (F2).
//!   `--rate` paces each session (commits per second; 0 = closed loop).
//! * `idle`: holds the sessions for `--duration-secs` (a soak), sampling the server's memory
//!   and file descriptors, and at the end checks that every session still answers (`?`
//!   twice, each answered with a complete redraw).
//!
//! **Timing.** Connect + auth + first frame: TCP connect, key exchange (host key pinned),
//! public-key auth, session channel, PTY and shell, until the vt100 screen shows every
//! `--expect` text. Keystroke → frame: from just before the byte is handed to the SSH client
//! to the arrival of the last byte of the frame it causes. The server sends each drawn frame
//! as one SSH data message, and a search keystroke draws two (the echo of the field, then the
//! results when the search task answers), so a keystroke is complete after two data messages;
//! when the results frame is empty (nothing on screen changed, so nothing is sent) it is
//! complete once no more bytes came for `--settle-ms`, and the time is still taken at the last
//! byte that arrived (these are counted as `single_frame`). Intake commit: from the Enter
//! that saves to the frame showing "received <tracking>". All timestamps are taken in the
//! client, on the same machine: they include the client's own scheduling and decryption, so
//! they are an upper bound of the server-side time.
//!
//! **Bytes per keystroke**: channel payload bytes (what the terminal receives), summed over the
//! keystroke's frames; SSH adds about 50 bytes of packet framing and MAC per message.
//!
//! **Server resources** (`--server-pid`): RSS (`VmRSS`), open fds and CPU time (utime+stime
//! of `/proc/PID/stat`) before the sessions, once they are open and over the measured
//! window; `--pg-pid` (the postmaster) adds PostgreSQL's CPU (postmaster + children).
//!
//! Output: a human-readable report and one `RESULT key=value ...` line (milliseconds, bytes,
//! KiB, percent of one core) for scripts.
//!
//! ```text
//! cargo run --release --example loadtest -- typing --addr 127.0.0.1:2222 --user clerk+demo \
//!     --key id --host-key host.pub --sessions 100 --duration-secs 60 --server-pid $PID
//! ```

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use packtrack::benchkit::{Summary, ms};
use russh::client::{self, Handle};
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate};
use russh::{ChannelMsg, Disconnect};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// Hard limits, whatever the arguments say.
const MAX_SESSIONS: usize = 2000;
const MAX_DURATION_SECS: u64 = 3600;

/// xterm function keys.
const F2: &[u8] = b"\x1bOQ";
const F3: &[u8] = b"\x1bOR";
const CTRL_U: &[u8] = b"\x15";
const CTRL_C: &[u8] = b"\x03";

#[derive(Debug, Parser)]
#[command(about = "SSH load generator for packtrack (loopback only)")]
struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// Search as you type on the recipients screen, one keystroke at a time.
    Typing {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        args: TypingArgs,
    },
    /// Scan intake (and optionally pickup by code) on the intake screen.
    Intake {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        args: IntakeArgs,
    },
    /// Idle sessions held for `--duration-secs`, memory sampled; all checked at the end.
    Idle {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        args: IdleArgs,
    },
}

#[derive(Debug, Args, Clone)]
struct Common {
    /// The server (a loopback address).
    #[arg(long)]
    addr: SocketAddr,
    #[arg(long)]
    user: String,
    /// OpenSSH private key file.
    #[arg(long)]
    key: PathBuf,
    /// The server's public host key (OpenSSH `.pub` line); without it any key is accepted.
    #[arg(long)]
    host_key: Option<PathBuf>,
    /// Concurrent sessions (at most 2000).
    #[arg(long, default_value_t = 10)]
    sessions: usize,
    /// Sessions being set up at the same time.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Measured time once every session is open (at most 3600).
    #[arg(long, default_value_t = 30)]
    duration_secs: u64,
    /// Driven but not measured, before the measured time.
    #[arg(long, default_value_t = 3)]
    warmup_secs: u64,
    /// Deadline of one step (opening a session, one keystroke, one intake step).
    #[arg(long, default_value_t = 20)]
    step_timeout_secs: u64,
    /// The server process, for RSS, fds and CPU.
    #[arg(long)]
    server_pid: Option<u32>,
    /// The PostgreSQL postmaster, for its CPU (postmaster + backends).
    #[arg(long)]
    pg_pid: Option<u32>,
    /// The server's metrics endpoint (`serve --metrics`), for `packtrack_sessions_active`.
    #[arg(long)]
    metrics: Option<SocketAddr>,
    #[arg(long, default_value_t = 80)]
    cols: u16,
    #[arg(long, default_value_t = 24)]
    rows: u16,
    #[arg(long, default_value = "xterm-256color")]
    term: String,
    /// Text that must be on the screen for the first frame to be complete (repeatable).
    #[arg(long = "expect", default_values_t = ["Demo Mailroom".to_string(), "q quit".to_string()])]
    expect: Vec<String>,
    /// Worker threads of the client's runtime (the client shares the machine with the server).
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Seed of the choices (names, think times).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Write the raw samples (ms, one per line) into this directory.
    #[arg(long)]
    samples_dir: Option<PathBuf>,
}

#[derive(Debug, Args, Clone)]
struct TypingArgs {
    /// Think time between keystrokes (±50 % jitter); 0 sends the next key at once.
    #[arg(long, default_value_t = 100)]
    think_ms: u64,
    /// A keystroke whose second frame does not come is complete after this much quiet.
    #[arg(long, default_value_t = 100)]
    settle_ms: u64,
    /// One more session that stops reading its socket (through a proxy) but keeps typing.
    #[arg(long)]
    stall: bool,
    /// The stalled session's key interval.
    #[arg(long, default_value_t = 20)]
    stall_key_ms: u64,
    /// A pause after each name (±50 %), as a clerk who handles the parcel before the next
    /// search; 0 types on without one.
    #[arg(long, default_value_t = 0)]
    name_pause_ms: u64,
}

#[derive(Debug, Args, Clone)]
struct IntakeArgs {
    /// Commits per second per session; 0 = closed loop (next parcel as soon as one is done).
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Also hand each parcel over by its pickup code.
    #[arg(long)]
    pickup: bool,
    #[arg(long, default_value = "Shelf A")]
    location: String,
}

#[derive(Debug, Args, Clone)]
struct IdleArgs {
    /// Seconds between samples of the server's memory.
    #[arg(long, default_value_t = 10)]
    sample_secs: u64,
    /// Every session sends `??` (help on and off) this often; 0 = never (mind the server's
    /// idle timeout, `serve --idle-timeout`).
    #[arg(long, default_value_t = 0)]
    poke_secs: u64,
}

// ---------------------------------------------------------------------------------------
// SSH client

/// Accepts the pinned host key only (or any key when none is pinned).
struct Client {
    host_key: Option<PublicKey>,
}

impl client::Handler for Client {
    type Error = anyhow::Error;

    async fn check_server_key(&mut self, key: &PublicKeyOrCertificate) -> Result<bool> {
        Ok(match (&self.host_key, key) {
            (None, _) => true,
            (Some(want), PublicKeyOrCertificate::PublicKey { key, .. }) => {
                want.key_data() == key.key_data()
            }
            (Some(_), PublicKeyOrCertificate::Certificate(_)) => false,
        })
    }
}

/// What every connection needs.
struct Ctx {
    config: Arc<client::Config>,
    addr: SocketAddr,
    user: String,
    key: Arc<PrivateKey>,
    host_key: Option<PublicKey>,
    common: Common,
    step: Duration,
}

impl Ctx {
    fn new(c: &Common) -> Result<Self> {
        let key = russh::keys::load_secret_key(&c.key, None)
            .with_context(|| format!("reading {}", c.key.display()))?;
        let host_key = match &c.host_key {
            Some(p) => Some(
                russh::keys::load_public_key(p)
                    .with_context(|| format!("reading {}", p.display()))?,
            ),
            None => None,
        };
        let config = client::Config {
            nodelay: true,
            ..Default::default()
        };
        Ok(Self {
            config: Arc::new(config),
            addr: c.addr,
            user: c.user.clone(),
            key: Arc::new(key),
            host_key,
            common: c.clone(),
            step: Duration::from_secs(c.step_timeout_secs.max(1)),
        })
    }

    async fn connect_auth(&self, addr: SocketAddr) -> Result<Handle<Client>> {
        let handler = Client {
            host_key: self.host_key.clone(),
        };
        let mut h = client::connect(self.config.clone(), addr, handler).await?;
        let hash = h.best_supported_rsa_hash().await?.flatten();
        let auth = h
            .authenticate_publickey(
                self.user.clone(),
                PrivateKeyWithHashAlg::new(self.key.clone(), hash),
            )
            .await?;
        if !auth.success() {
            bail!("public key authentication failed for {}", self.user);
        }
        Ok(h)
    }

    /// Runs one exec command on a fresh connection and returns its stdout.
    async fn exec(&self, command: &str) -> Result<String> {
        let h = self.connect_auth(self.addr).await?;
        let mut ch = h.channel_open_session().await?;
        ch.exec(true, command.as_bytes()).await?;
        let mut out = Vec::new();
        let mut status = None;
        while let Some(msg) = ch.wait().await {
            match msg {
                ChannelMsg::Data { data } => out.extend_from_slice(&data),
                ChannelMsg::ExitStatus { exit_status } => status = Some(exit_status),
                ChannelMsg::Close => break,
                _ => {}
            }
        }
        let _ = h.disconnect(Disconnect::ByApplication, "", "en").await;
        if status != Some(0) {
            bail!("exec {command:?} ended with status {status:?}");
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }
}

fn nz(v: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(v).unwrap_or(std::num::NonZeroU16::MIN)
}

/// One open PTY session and the screen as the client sees it.
struct Term {
    handle: Handle<Client>,
    ch: russh::Channel<client::Msg>,
    parser: vt100::Parser,
    /// Connect + auth + PTY + shell until the first full frame.
    first_frame: Duration,
}

/// What arrived for one request: data messages, bytes, when the last one arrived.
#[derive(Debug, Default, Clone, Copy)]
struct Arrival {
    frames: u32,
    bytes: u64,
    last: Option<Instant>,
}

impl Term {
    async fn open(ctx: &Ctx, addr: SocketAddr) -> Result<Self> {
        let start = Instant::now();
        let c = &ctx.common;
        let handle = ctx.connect_auth(addr).await?;
        let ch = handle.channel_open_session().await?;
        ch.request_pty(true, &c.term, c.cols.into(), c.rows.into(), 0, 0, &[])
            .await?;
        ch.request_shell(true).await?;
        let mut t = Term {
            handle,
            ch,
            parser: vt100::Parser::new(nz(c.rows), nz(c.cols), 0),
            first_frame: Duration::ZERO,
        };
        let expect: Vec<&str> = c.expect.iter().map(String::as_str).collect();
        t.wait_all(&expect, ctx.step).await?;
        t.first_frame = start.elapsed();
        Ok(t)
    }

    fn screen(&self) -> String {
        self.parser.screen().contents()
    }

    fn has_all(&self, texts: &[&str]) -> bool {
        let s = self.screen();
        texts.iter().all(|t| s.contains(t))
    }

    /// Sends bytes; returns the moment just before they were handed to the SSH client.
    async fn send(&self, data: &[u8]) -> Result<Instant> {
        let t0 = Instant::now();
        self.ch
            .data_bytes(bytes::Bytes::copy_from_slice(data))
            .await
            .context("sending keys")?;
        Ok(t0)
    }

    /// The next data message before `deadline`: `Ok(None)` on timeout.
    async fn next(&mut self, deadline: tokio::time::Instant) -> Result<Option<(Instant, usize)>> {
        loop {
            match tokio::time::timeout_at(deadline, self.ch.wait()).await {
                Err(_) => return Ok(None),
                Ok(Some(ChannelMsg::Data { data })) => {
                    let at = Instant::now();
                    if std::env::var_os("LOADTEST_DUMP").is_some() {
                        eprintln!("FRAME {} {:?}", data.len(), String::from_utf8_lossy(&data));
                    }
                    self.parser.process(&data);
                    return Ok(Some((at, data.len())));
                }
                Ok(Some(ChannelMsg::ExitStatus { exit_status })) => {
                    bail!("session exited ({exit_status}); screen:\n{}", self.screen())
                }
                Ok(Some(ChannelMsg::Failure)) => bail!("the server refused a request"),
                Ok(Some(ChannelMsg::Close | ChannelMsg::Eof) | None) => {
                    bail!("channel closed; screen:\n{}", self.screen())
                }
                Ok(Some(_)) => {}
            }
        }
    }

    /// Waits until every text is on the screen; returns the arrival time of the message that
    /// completed it (now, if it was already there).
    async fn wait_all(&mut self, texts: &[&str], limit: Duration) -> Result<Instant> {
        if self.has_all(texts) {
            return Ok(Instant::now());
        }
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            match self.next(deadline).await? {
                Some((at, _)) => {
                    if self.has_all(texts) {
                        return Ok(at);
                    }
                }
                None => bail!(
                    "timed out after {limit:?} waiting for {texts:?}; screen:\n{}",
                    self.screen()
                ),
            }
        }
    }

    async fn wait_text(&mut self, text: &str, limit: Duration) -> Result<Instant> {
        self.wait_all(&[text], limit).await
    }

    /// Reads what arrives until `frames` data messages came, or nothing more came for
    /// `settle` after at least one, or `limit` passed.
    async fn collect(&mut self, frames: u32, settle: Duration, limit: Duration) -> Result<Arrival> {
        let hard = tokio::time::Instant::now() + limit;
        let mut a = Arrival::default();
        while a.frames < frames {
            let deadline = match a.last {
                Some(_) => (tokio::time::Instant::now() + settle).min(hard),
                None => hard,
            };
            match self.next(deadline).await? {
                Some((at, n)) => {
                    a.frames += 1;
                    a.bytes += n as u64;
                    a.last = Some(at);
                }
                None if a.last.is_some() => break,
                None => bail!("no frame within {limit:?}; screen:\n{}", self.screen()),
            }
        }
        Ok(a)
    }

    /// Everything that is already waiting, without blocking (ticks, live updates).
    async fn drain(&mut self) -> Result<u64> {
        let mut bytes = 0;
        while let Some((_, n)) = self.next(tokio::time::Instant::now()).await? {
            bytes += n as u64;
        }
        Ok(bytes)
    }

    /// Quits like a user (Ctrl-C), waits briefly, disconnects.
    async fn quit(mut self) {
        if self.send(CTRL_C).await.is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(2), async {
                while let Some(msg) = self.ch.wait().await {
                    if matches!(msg, ChannelMsg::ExitStatus { .. } | ChannelMsg::Close) {
                        break;
                    }
                }
            })
            .await;
        }
        let _ = self
            .handle
            .disconnect(Disconnect::ByApplication, "", "en")
            .await;
    }
}

/// Opens `n` sessions, `concurrency` at a time. Failures are counted, not fatal.
async fn open_all(ctx: &Arc<Ctx>, n: usize) -> (Vec<Term>, Vec<String>, Duration) {
    let gate = Arc::new(Semaphore::new(ctx.common.concurrency.max(1)));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let (ctx, gate) = (ctx.clone(), gate.clone());
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await?;
            let t = tokio::time::timeout(ctx.step, Term::open(&ctx, ctx.addr))
                .await
                .context("opening a session timed out")??;
            Ok::<_, anyhow::Error>((i, t))
        });
    }
    let mut terms = Vec::with_capacity(n);
    let mut errors = Vec::new();
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok(Ok(t)) => terms.push(t),
            Ok(Err(e)) => errors.push(format!("{e:#}")),
            Err(e) => errors.push(e.to_string()),
        }
    }
    terms.sort_by_key(|(i, _)| *i);
    let terms = terms.into_iter().map(|(_, t)| t).collect();
    (terms, errors, started.elapsed())
}

// ---------------------------------------------------------------------------------------
// Server resources

#[derive(Debug, Clone, Copy)]
struct ProcSample {
    at: Instant,
    rss_kib: u64,
    fds: u64,
    threads: u64,
    /// utime + stime, clock ticks.
    cpu_ticks: u64,
}

/// `/proc/PID/stat` fields after the command name: (ppid, utime + stime).
fn stat_fields(pid: u32) -> Option<(u32, u64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // Field n of proc(5) is f[n - 3]: ppid 4, utime 14, stime 15.
    let ppid = f.get(1)?.parse().ok()?;
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some((ppid, utime + stime))
}

fn status_kib(pid: u32, key: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with(key))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn sample_proc(pid: u32) -> Option<ProcSample> {
    let (_, cpu_ticks) = stat_fields(pid)?;
    Some(ProcSample {
        at: Instant::now(),
        rss_kib: status_kib(pid, "VmRSS:")?,
        fds: std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|d| d.count() as u64)
            .unwrap_or(0),
        threads: status_kib(pid, "Threads:").unwrap_or(0),
        cpu_ticks,
    })
}

/// CPU ticks of a process and its direct children (the postmaster and its backends).
fn tree_ticks(pid: u32) -> u64 {
    let mut total = stat_fields(pid).map_or(0, |(_, t)| t);
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Some(child) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            if let Some((ppid, t)) = stat_fields(child)
                && ppid == pid
            {
                total += t;
            }
        }
    }
    total
}

/// USER_HZ: the unit of /proc CPU times (100 on Linux whatever the kernel's HZ).
const TICKS_PER_SEC: f64 = 100.0;

fn cpu_pct(ticks: u64, over: Duration) -> f64 {
    ticks as f64 / TICKS_PER_SEC / over.as_secs_f64().max(1e-9) * 100.0
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Resource snapshot at one moment.
#[derive(Debug, Clone, Copy)]
struct Snap {
    at: Instant,
    server: Option<ProcSample>,
    pg_ticks: Option<u64>,
    self_ticks: u64,
}

fn snap(c: &Common) -> Snap {
    Snap {
        at: Instant::now(),
        server: c.server_pid.and_then(sample_proc),
        pg_ticks: c.pg_pid.map(tree_ticks),
        self_ticks: stat_fields(std::process::id()).map_or(0, |(_, t)| t),
    }
}

/// `packtrack_sessions_active` (or any metric) from the Prometheus endpoint.
async fn metric(addr: SocketAddr, name: &str) -> Option<f64> {
    let fetch = async {
        let mut s = TcpStream::connect(addr).await.ok()?;
        s.write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .await
            .ok()?;
        let mut body = String::new();
        s.read_to_string(&mut body).await.ok()?;
        body.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
    };
    tokio::time::timeout(Duration::from_secs(2), fetch)
        .await
        .ok()
        .flatten()
}

// ---------------------------------------------------------------------------------------
// Statistics

fn write_samples(c: &Common, name: &str, v: &[f64]) {
    if let Some(dir) = &c.samples_dir {
        let _ = std::fs::create_dir_all(dir);
        let text: String = v.iter().map(|x| format!("{x:.3}\n")).collect();
        let _ = std::fs::write(dir.join(format!("{name}.ms")), text);
    }
}

/// Deterministic pseudo-random numbers.
struct Lcg(u64);

impl Lcg {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    /// `base` ± 50 %.
    fn jitter(&mut self, base: Duration) -> Duration {
        if base.is_zero() {
            return base;
        }
        base.mul_f64(0.5 + (self.next() % 1000) as f64 / 1000.0)
    }
}

// ---------------------------------------------------------------------------------------
// Shared run state

/// The measured window: operations that start inside it count.
#[derive(Clone, Copy)]
struct Window {
    start: Instant,
    end: Instant,
}

impl Window {
    fn contains(&self, t: Instant) -> bool {
        t >= self.start && t < self.end
    }
}

#[derive(Default)]
struct Errors {
    count: AtomicU64,
    first: Mutex<Vec<String>>,
}

impl Errors {
    fn add(&self, e: &anyhow::Error) {
        self.count.fetch_add(1, Ordering::Relaxed);
        let mut f = self.first.lock().unwrap_or_else(|e| e.into_inner());
        if f.len() < 3 {
            f.push(format!("{e:#}"));
        }
    }
    fn report(&self) -> u64 {
        let n = self.count.load(Ordering::Relaxed);
        for e in self.first.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            eprintln!("loadtest: error: {e}");
        }
        n
    }
}

/// Recipient names to type (ASCII only, so one keystroke is one byte), from the server.
async fn names(ctx: &Ctx) -> Result<Vec<String>> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for q in ["a", "e", "o", "i", "n"] {
        let text = ctx
            .exec(&format!("recipients search {q} --limit 200 --json"))
            .await?;
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line)?;
            if let Some(name) = v["name"].as_str()
                && name.is_ascii()
                && name.len() <= 28
                && seen.insert(name.to_string())
            {
                out.push(name.to_string());
            }
        }
    }
    if out.is_empty() {
        bail!("the facility has no recipients to search for");
    }
    Ok(out)
}

struct Opened {
    terms: Vec<Term>,
    errors: Vec<String>,
    open_time: Duration,
    first_frame: Summary,
    before: Snap,
    after_open: Snap,
}

async fn open_phase(ctx: &Arc<Ctx>) -> Result<Opened> {
    let c = &ctx.common;
    let before = snap(c);
    let (terms, errors, open_time) = open_all(ctx, c.sessions).await;
    let ff: Vec<f64> = terms.iter().map(|t| ms(t.first_frame)).collect();
    write_samples(c, "first_frame", &ff);
    if let Some(e) = errors.first() {
        eprintln!(
            "loadtest: {} sessions failed to open, first error: {e}",
            errors.len()
        );
    }
    if terms.is_empty() {
        bail!("no session could be opened");
    }
    // Let the dashboards' first queries finish before the baseline memory is read.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after_open = snap(c);
    println!(
        "opened {}/{} sessions in {:.0} ms ({} at a time); load average {}",
        terms.len(),
        c.sessions,
        ms(open_time),
        c.concurrency,
        loadavg()
    );
    Ok(Opened {
        first_frame: Summary::of_ms(&ff),
        terms,
        errors,
        open_time,
        before,
        after_open,
    })
}

/// Resource lines and key=values over the measured window.
fn resources(c: &Common, o: &Opened, w0: &Snap, w1: &Snap, sessions: usize) -> String {
    let over = w1.at - w0.at;
    let n = sessions.max(1) as f64;
    let mut kv = String::new();
    if let (Some(b), Some(a), Some(s0), Some(s1)) =
        (o.before.server, o.after_open.server, w0.server, w1.server)
    {
        let per_kib = (a.rss_kib as f64 - b.rss_kib as f64) / n;
        let cpu = cpu_pct(s1.cpu_ticks.saturating_sub(s0.cpu_ticks), over);
        println!(
            "server: RSS {:.1} MiB before, {:.1} MiB with {sessions} sessions open, {:.1} MiB \
             at the end ({per_kib:.0} KiB per session); fds {} / {} / {}; threads {}",
            b.rss_kib as f64 / 1024.0,
            a.rss_kib as f64 / 1024.0,
            s1.rss_kib as f64 / 1024.0,
            b.fds,
            a.fds,
            s1.fds,
            s1.threads
        );
        println!(
            "server CPU over the window: {cpu:.1} % of one core = {:.3} % per session",
            cpu / n
        );
        kv.push_str(&format!(
            " rss_before_kib={} rss_open_kib={} rss_end_kib={} rss_per_session_kib={per_kib:.0} \
             fds_before={} fds_open={} fds_end={} server_cpu_pct={cpu:.1} \
             server_cpu_per_session_pct={:.3}",
            b.rss_kib,
            a.rss_kib,
            s1.rss_kib,
            b.fds,
            a.fds,
            s1.fds,
            cpu / n
        ));
    }
    if let (Some(p0), Some(p1)) = (w0.pg_ticks, w1.pg_ticks) {
        let cpu = cpu_pct(p1.saturating_sub(p0), over);
        println!("PostgreSQL CPU over the window: {cpu:.1} % of one core");
        kv.push_str(&format!(" pg_cpu_pct={cpu:.1}"));
    }
    let me = cpu_pct(w1.self_ticks.saturating_sub(w0.self_ticks), over);
    println!("load generator CPU over the window: {me:.1} % of one core");
    kv.push_str(&format!(" client_cpu_pct={me:.1} load=\"{}\"", loadavg()));
    let _ = c;
    kv
}

// ---------------------------------------------------------------------------------------
// Scenario: typing

#[derive(Default)]
struct KeyStats {
    latency_ms: Vec<f64>,
    /// Seconds into the measured window, per sample.
    at_s: Vec<f64>,
    bytes: Vec<u64>,
    single_frame: u64,
    background_bytes: u64,
}

async fn typing_session(
    mut t: Term,
    idx: usize,
    names: Arc<Vec<String>>,
    args: TypingArgs,
    win: Window,
    step: Duration,
    seed: u64,
) -> (Term, KeyStats, Result<()>) {
    let mut st = KeyStats::default();
    let res = async {
        let mut rng = Lcg::new(seed ^ (idx as u64 + 1));
        t.send(b"r").await?;
        t.wait_text("Recipients (", step).await?;
        t.collect(2, Duration::from_millis(args.settle_ms), step)
            .await
            .ok();
        let think = Duration::from_millis(args.think_ms);
        let settle = Duration::from_millis(args.settle_ms);
        'run: while Instant::now() < win.end {
            let name = &names[rng.below(names.len())];
            for ch in name.chars() {
                tokio::time::sleep(rng.jitter(think)).await;
                if Instant::now() >= win.end {
                    break 'run;
                }
                st.background_bytes += t.drain().await?;
                let mut buf = [0u8; 4];
                let t0 = t.send(ch.encode_utf8(&mut buf).as_bytes()).await?;
                let a = t.collect(2, settle, step).await?;
                if win.contains(t0) {
                    let last = a.last.unwrap_or(t0);
                    st.latency_ms.push(ms(last - t0));
                    st.at_s.push((t0 - win.start).as_secs_f64());
                    st.bytes.push(a.bytes);
                    if a.frames < 2 {
                        st.single_frame += 1;
                    }
                }
            }
            // Clear the field (untimed): an echo and the empty query's results.
            tokio::time::sleep(rng.jitter(think)).await;
            t.send(CTRL_U).await?;
            t.collect(2, settle, step).await?;
            if args.name_pause_ms > 0 {
                tokio::time::sleep(rng.jitter(Duration::from_millis(args.name_pause_ms))).await;
            }
        }
        Ok(())
    }
    .await;
    (t, st, res)
}

/// The stalled session's outcome.
#[derive(Debug, Default)]
struct StallReport {
    stalled_at: Option<Instant>,
    /// The server closed the connection (the proxy's writes upstream failed).
    upstream_closed_at: Option<Instant>,
    /// `packtrack_sessions_active` fell below its value at the stall.
    session_gone_at: Option<Instant>,
    keys_sent: u64,
    send_error: Option<String>,
}

/// A TCP proxy to the server that forwards client → server always, and server → client until
/// `stall` is set; from then on it stops reading the server's socket (a frozen client).
async fn stall_proxy(
    target: SocketAddr,
    stall: Arc<AtomicBool>,
    stall_notify: Arc<tokio::sync::Notify>,
    closed: Arc<Mutex<Option<Instant>>>,
) -> Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let Ok((down, _)) = listener.accept().await else {
            return;
        };
        let Ok(up) = TcpStream::connect(target).await else {
            return;
        };
        let _ = down.set_nodelay(true);
        let _ = up.set_nodelay(true);
        let (mut down_r, mut down_w) = down.into_split();
        let (mut up_r, mut up_w) = up.into_split();
        let closed2 = closed.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 16384];
            loop {
                match down_r.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if up_w.write_all(&buf[..n]).await.is_err() {
                            closed2
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .get_or_insert_with(Instant::now);
                            break;
                        }
                    }
                }
            }
        });
        let mut buf = vec![0u8; 16384];
        loop {
            if stall.load(Ordering::Acquire) {
                break;
            }
            tokio::select! {
                r = up_r.read(&mut buf) => match r {
                    Ok(0) | Err(_) => {
                        closed.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_with(Instant::now);
                        return;
                    }
                    Ok(n) => {
                        if down_w.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                },
                () = stall_notify.notified() => {}
            }
        }
        // Stalled: hold the socket open and never read it again (until the run ends).
        std::future::pending::<()>().await;
        drop((up_r, down_w));
    });
    Ok(addr)
}

async fn stalled_session(ctx: Arc<Ctx>, args: TypingArgs, end: Instant) -> Result<StallReport> {
    let stall = Arc::new(AtomicBool::new(false));
    let notify = Arc::new(tokio::sync::Notify::new());
    let closed = Arc::new(Mutex::new(None));
    let proxy = stall_proxy(ctx.addr, stall.clone(), notify.clone(), closed.clone()).await?;
    let t = tokio::time::timeout(ctx.step, Term::open(&ctx, proxy))
        .await
        .context("opening the stalled session timed out")??;
    let before = match ctx.common.metrics {
        Some(m) => metric(m, "packtrack_sessions_active").await,
        None => None,
    };
    let mut rep = StallReport::default();
    stall.store(true, Ordering::Release);
    notify.notify_one();
    rep.stalled_at = Some(Instant::now());
    println!(
        "stalled session open (sessions_active {}); it stops reading now and sends `?` every {} ms",
        before.map_or("?".into(), |v| v.to_string()),
        args.stall_key_ms
    );
    let mut tick = tokio::time::interval(Duration::from_millis(args.stall_key_ms.max(1)));
    let mut last_poll = Instant::now();
    while Instant::now() < end {
        tick.tick().await;
        if rep.send_error.is_none() {
            // Bounded: the SSH client may itself block once its socket is full.
            match tokio::time::timeout(Duration::from_millis(200), t.send(b"?")).await {
                Ok(Ok(_)) => rep.keys_sent += 1,
                Ok(Err(e)) => rep.send_error = Some(format!("{e:#}")),
                Err(_) => {}
            }
        }
        if rep.upstream_closed_at.is_none() {
            rep.upstream_closed_at = *closed.lock().unwrap_or_else(|e| e.into_inner());
        }
        if rep.session_gone_at.is_none()
            && last_poll.elapsed() > Duration::from_millis(500)
            && let (Some(m), Some(b)) = (ctx.common.metrics, before)
        {
            last_poll = Instant::now();
            if let Some(now) = metric(m, "packtrack_sessions_active").await
                && now < b
            {
                rep.session_gone_at = Some(Instant::now());
            }
        }
        if rep.upstream_closed_at.is_some()
            && (rep.session_gone_at.is_some() || ctx.common.metrics.is_none())
        {
            break;
        }
    }
    // Dropped without a polite quit: the server side is what is being tested.
    drop(t);
    Ok(rep)
}

async fn typing(common: Common, args: TypingArgs) -> Result<()> {
    let ctx = Arc::new(Ctx::new(&common)?);
    let names = Arc::new(names(&ctx).await?);
    println!(
        "typing: {} sessions, think {} ms ±50 %, settle {} ms, {} names; load average {}",
        common.sessions,
        args.think_ms,
        args.settle_ms,
        names.len(),
        loadavg()
    );
    let mut opened = open_phase(&ctx).await?;
    let n = opened.terms.len();
    let start = Instant::now() + Duration::from_secs(common.warmup_secs);
    let win = Window {
        start,
        end: start + Duration::from_secs(common.duration_secs),
    };
    let stall = if args.stall {
        let (ctx, args) = (ctx.clone(), args.clone());
        // Stalls once the others are typing; runs until the window ends.
        Some(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            stalled_session(ctx, args, win.end).await
        }))
    } else {
        None
    };
    let errors = Arc::new(Errors::default());
    let mut tasks = tokio::task::JoinSet::new();
    let terms = std::mem::take(&mut opened.terms);
    for (i, t) in terms.into_iter().enumerate() {
        let (names, args) = (names.clone(), args.clone());
        tasks.spawn(typing_session(
            t,
            i,
            names,
            args,
            win,
            ctx.step,
            common.seed,
        ));
    }
    tokio::time::sleep_until(win.start.into()).await;
    let w0 = snap(&common);
    tokio::time::sleep_until(win.end.into()).await;
    let w1 = snap(&common);
    let mut all = KeyStats::default();
    let mut done = Vec::new();
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok((t, st, res)) => {
                if let Err(e) = res {
                    errors.add(&e);
                }
                all.latency_ms.extend(st.latency_ms);
                all.at_s.extend(st.at_s);
                all.bytes.extend(st.bytes);
                all.single_frame += st.single_frame;
                all.background_bytes += st.background_bytes;
                done.push(t);
            }
            Err(e) => errors.add(&e.into()),
        }
    }
    let stall_rep = match stall {
        Some(h) => Some(h.await.map_err(anyhow::Error::from).and_then(|r| r)),
        None => None,
    };
    for t in done {
        t.quit().await;
    }

    let lat = Summary::of_ms(&all.latency_ms);
    write_samples(&common, "keystroke", &all.latency_ms);
    let keys = all.bytes.len().max(1) as f64;
    let bpk = all.bytes.iter().sum::<u64>() as f64 / keys;
    let rate = all.latency_ms.len() as f64 / (win.end - win.start).as_secs_f64();
    let errs = errors.report();
    println!(
        "connect + auth + first frame (ms): {}",
        opened.first_frame.line()
    );
    println!("keystroke -> frame (ms): {}", lat.line());
    // Over time (10 s buckets): shows a stall or a leak that averages would hide.
    let buckets = ((win.end - win.start).as_secs_f64() / 10.0).ceil() as usize;
    let mut by: Vec<Vec<f64>> = vec![Vec::new(); buckets.max(1)];
    for (t, l) in all.at_s.iter().zip(&all.latency_ms) {
        let b = ((*t / 10.0) as usize).min(by.len() - 1);
        by[b].push(*l);
    }
    let line: Vec<String> = by
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let s = Summary::of_ms(v);
            format!(
                "{}-{}s p50 {:.2} p99 {:.2}",
                i * 10,
                i * 10 + 10,
                s.p50,
                s.p99
            )
        })
        .collect();
    println!("  by time: {}", line.join(" | "));
    println!(
        "bytes per keystroke: {bpk:.0} average (max {}); {} of {} keystrokes drew one frame \
         (no visible change in the results); {rate:.0} keystrokes/s in all; background bytes {}",
        all.bytes.iter().max().copied().unwrap_or(0),
        all.single_frame,
        all.bytes.len(),
        all.background_bytes
    );
    let res = resources(&common, &opened, &w0, &w1, n);
    let mut stall_kv = String::new();
    if let Some(r) = stall_rep {
        match r {
            Ok(r) => {
                let since = |t: Option<Instant>| match (r.stalled_at, t) {
                    (Some(a), Some(b)) => format!("{:.1}", (b - a).as_secs_f64()),
                    _ => "never".into(),
                };
                let offset = |t: Instant| {
                    if t >= win.start {
                        (t - win.start).as_secs_f64()
                    } else {
                        -(win.start - t).as_secs_f64()
                    }
                };
                if let Some(a) = r.stalled_at {
                    println!(
                        "stalled session: stopped reading at t={:.1}s of the measured window; \
                         dropped at t={}",
                        offset(a),
                        r.upstream_closed_at
                            .or(r.session_gone_at)
                            .map_or("never".into(), |t| format!("{:.1}s", offset(t)))
                    );
                }
                println!(
                    "stalled session: {} keys sent; its session ended on the server after {} s \
                     (sessions_active), its connection was closed after {} s{}",
                    r.keys_sent,
                    since(r.session_gone_at),
                    since(r.upstream_closed_at),
                    r.send_error
                        .as_deref()
                        .map(|e| format!("; client send error: {e}"))
                        .unwrap_or_default()
                );
                stall_kv = format!(
                    " stall_session_gone_s={} stall_conn_closed_s={} stall_keys={}",
                    since(r.session_gone_at),
                    since(r.upstream_closed_at),
                    r.keys_sent
                );
            }
            Err(e) => {
                println!("stalled session: failed: {e:#}");
                stall_kv = " stall=failed".into();
            }
        }
    }
    println!(
        "RESULT scenario=typing sessions={n} open_failed={} open_ms={:.0} {} {} bytes_per_key={bpk:.0} \
         single_frame={} keys_per_s={rate:.0} errors={errs}{res}{stall_kv}",
        opened.errors.len(),
        ms(opened.open_time),
        opened.first_frame.kv("first_frame"),
        lat.kv("key"),
        all.single_frame,
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Scenario: intake (+ pickup)

/// UPS `1Z` + 15 characters + check digit (the rule of src/admin/demo.rs), made unique per
/// run, session and parcel.
fn ups_number(run: u64, session: usize, n: u64) -> String {
    let body = format!(
        "{:05}{:03}{:07}",
        run % 100_000,
        session % 1000,
        n % 10_000_000
    );
    let sum: u32 = body
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            let v = u32::from(b - b'0');
            if i % 2 == 1 { v * 2 } else { v }
        })
        .sum();
    format!("1Z{body}{}", (10 - sum % 10) % 10)
}

#[derive(Default)]
struct IntakeStats {
    commit_ms: Vec<f64>,
    cycle_ms: Vec<f64>,
    pickup_ms: Vec<f64>,
    pickup_commit_ms: Vec<f64>,
    commits: u64,
    pickups: u64,
    no_code: u64,
}

#[allow(clippy::too_many_arguments)]
async fn intake_session(
    mut t: Term,
    idx: usize,
    names: Arc<Vec<String>>,
    args: IntakeArgs,
    win: Window,
    step: Duration,
    seed: u64,
    run: u64,
    sessions: usize,
) -> (Term, IntakeStats, Result<()>) {
    let mut st = IntakeStats::default();
    let res = async {
        let mut rng = Lcg::new(seed ^ (idx as u64 + 1));
        // Each session its own recipients, so that a pickup lists only its own parcels.
        let names: Vec<&String> = if names.len() >= sessions {
            names.iter().skip(idx).step_by(sessions).collect()
        } else {
            names.iter().collect()
        };
        t.send(b"i").await?;
        t.wait_text("Tracking", step).await?;
        let period = (args.rate > 0.0).then(|| Duration::from_secs_f64(1.0 / args.rate));
        let mut next = Instant::now();
        let mut typed_location = false;
        let mut n = 0u64;
        while Instant::now() < win.end {
            if let Some(p) = period {
                tokio::time::sleep_until(next.into()).await;
                next += p;
            }
            n += 1;
            let tracking = ups_number(run, idx, n);
            let name = names[rng.below(names.len())];
            t.drain().await?;
            // The scanner: the number and Enter in one burst.
            let c0 = t.send(format!("{tracking}\r").as_bytes()).await?;
            t.wait_text("Who is it for?", step).await?;
            t.send(name.as_bytes()).await?;
            t.wait_text(&format!("▶ {name}"), step).await?;
            if typed_location {
                t.send(b"\r").await?;
                t.wait_text("Enter: save", step).await?;
            } else {
                t.send(format!("\r{}", args.location).as_bytes()).await?;
                t.wait_all(&["Enter: save", args.location.as_str()], step)
                    .await?;
                typed_location = true;
            }
            let s0 = t.send(b"\r").await?;
            let done = format!("received {tracking}");
            let at = t.wait_text(&done, step).await?;
            if win.contains(c0) {
                st.commit_ms.push(ms(at - s0));
                st.cycle_ms.push(ms(at - c0));
                st.commits += 1;
            }
            if !args.pickup {
                continue;
            }
            let screen = t.screen();
            let code = screen
                .find(&done)
                .and_then(|i| screen[i..].find("code ").map(|j| i + j + 5))
                .map(|k| screen[k..].chars().take(6).collect::<String>())
                .filter(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()));
            let Some(code) = code else {
                st.no_code += 1;
                continue;
            };
            t.send(F3).await?;
            t.wait_text("6-digit pickup code", step).await?;
            let p0 = t.send(format!("{code}\r").as_bytes()).await?;
            t.wait_text(&format!("[x] {tracking}"), step).await?;
            t.send(b"\r").await?;
            t.wait_text("Receiver", step).await?;
            let q0 = t.send(b"\r").await?;
            let at = t.wait_text("handed over", step).await?;
            if win.contains(c0) {
                st.pickup_ms.push(ms(at - p0));
                st.pickup_commit_ms.push(ms(at - q0));
                st.pickups += 1;
            }
            t.send(F2).await?;
            t.wait_text("Tracking", step).await?;
        }
        Ok(())
    }
    .await;
    (t, st, res)
}

async fn intake(common: Common, args: IntakeArgs) -> Result<()> {
    let ctx = Arc::new(Ctx::new(&common)?);
    let names = Arc::new(names(&ctx).await?);
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    println!(
        "intake: {} sessions, {}{}; {} names; load average {}",
        common.sessions,
        if args.rate > 0.0 {
            format!("{} commits/s per session", args.rate)
        } else {
            "closed loop".into()
        },
        if args.pickup {
            ", each parcel picked up by code"
        } else {
            ""
        },
        names.len(),
        loadavg()
    );
    let mut opened = open_phase(&ctx).await?;
    let n = opened.terms.len();
    let start = Instant::now() + Duration::from_secs(common.warmup_secs);
    let win = Window {
        start,
        end: start + Duration::from_secs(common.duration_secs),
    };
    let errors = Errors::default();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, t) in std::mem::take(&mut opened.terms).into_iter().enumerate() {
        tasks.spawn(intake_session(
            t,
            i,
            names.clone(),
            args.clone(),
            win,
            ctx.step,
            common.seed,
            run,
            n,
        ));
    }
    tokio::time::sleep_until(win.start.into()).await;
    let w0 = snap(&common);
    tokio::time::sleep_until(win.end.into()).await;
    let w1 = snap(&common);
    let mut all = IntakeStats::default();
    let mut done = Vec::new();
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok((t, st, res)) => {
                if let Err(e) = res {
                    errors.add(&e);
                }
                all.commit_ms.extend(st.commit_ms);
                all.cycle_ms.extend(st.cycle_ms);
                all.pickup_ms.extend(st.pickup_ms);
                all.pickup_commit_ms.extend(st.pickup_commit_ms);
                all.commits += st.commits;
                all.pickups += st.pickups;
                all.no_code += st.no_code;
                done.push(t);
            }
            Err(e) => errors.add(&e.into()),
        }
    }
    for t in done {
        t.quit().await;
    }
    let secs = (win.end - win.start).as_secs_f64();
    let commit = Summary::of_ms(&all.commit_ms);
    let cycle = Summary::of_ms(&all.cycle_ms);
    write_samples(&common, "intake_commit", &all.commit_ms);
    let errs = errors.report();
    println!(
        "connect + auth + first frame (ms): {}",
        opened.first_frame.line()
    );
    println!(
        "intake commits: {} in {secs:.0} s = {:.1} commits/s ({:.2} per session per second)",
        all.commits,
        all.commits as f64 / secs,
        all.commits as f64 / secs / n.max(1) as f64
    );
    println!(
        "intake commit, Enter -> \"received\" frame (ms): {}",
        commit.line()
    );
    println!(
        "whole intake, scan -> \"received\" frame (ms): {}",
        cycle.line()
    );
    let mut pk = String::new();
    if args.pickup {
        let p = Summary::of_ms(&all.pickup_ms);
        let pc = Summary::of_ms(&all.pickup_commit_ms);
        println!(
            "pickups: {} ({:.1}/s), code not visible {}; code -> \"handed over\" (ms): {}; last \
             Enter -> \"handed over\" (ms): {}",
            all.pickups,
            all.pickups as f64 / secs,
            all.no_code,
            p.line(),
            pc.line()
        );
        pk = format!(
            " pickups={} no_code={} {} {}",
            all.pickups,
            all.no_code,
            p.kv("pickup"),
            pc.kv("pickup_commit")
        );
    }
    let res = resources(&common, &opened, &w0, &w1, n);
    println!(
        "RESULT scenario=intake sessions={n} open_failed={} {} commits={} commits_per_s={:.1} {} {}{pk} \
         errors={errs}{res}",
        opened.errors.len(),
        opened.first_frame.kv("first_frame"),
        all.commits,
        all.commits as f64 / secs,
        commit.kv("commit"),
        cycle.kv("cycle"),
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Scenario: idle (soak)

/// Help on and off: each must be answered with a frame, the second with the full dashboard.
async fn check(t: &mut Term, expect: &[String], step: Duration) -> Result<()> {
    t.drain().await?;
    t.send(b"?").await?;
    t.collect(1, Duration::ZERO, step).await?;
    t.send(b"?").await?;
    let expect: Vec<&str> = expect.iter().map(String::as_str).collect();
    t.wait_all(&expect, step).await?;
    Ok(())
}

async fn idle(common: Common, args: IdleArgs) -> Result<()> {
    let ctx = Arc::new(Ctx::new(&common)?);
    println!(
        "idle: {} sessions held for {} s, sampled every {} s{}; load average {}",
        common.sessions,
        common.duration_secs,
        args.sample_secs,
        if args.poke_secs > 0 {
            format!(", each poked with `??` every {} s", args.poke_secs)
        } else {
            String::new()
        },
        loadavg()
    );
    let mut opened = open_phase(&ctx).await?;
    let n = opened.terms.len();
    let w0 = snap(&common);
    let hold = Duration::from_secs(common.duration_secs);
    let end = Instant::now() + hold;

    // Sessions sit in tasks that drain their output (ticks) and optionally poke.
    let stop = Arc::new(tokio::sync::Notify::new());
    let errors = Arc::new(Errors::default());
    let mut tasks = tokio::task::JoinSet::new();
    for (i, mut t) in std::mem::take(&mut opened.terms).into_iter().enumerate() {
        let (stop, errors, expect, step) = (
            stop.clone(),
            errors.clone(),
            common.expect.clone(),
            ctx.step,
        );
        let poke = Duration::from_secs(args.poke_secs);
        let offset = if args.poke_secs > 0 {
            Duration::from_millis((i as u64 * 997) % (args.poke_secs * 1000))
        } else {
            Duration::ZERO
        };
        tasks.spawn(async move {
            let mut next_poke = tokio::time::Instant::now() + offset + poke;
            let stopped = stop.notified();
            tokio::pin!(stopped);
            loop {
                let wake = if poke.is_zero() {
                    tokio::time::Instant::now() + Duration::from_secs(3600)
                } else {
                    next_poke
                };
                tokio::select! {
                    () = &mut stopped => break,
                    r = t.ch.wait() => match r {
                        Some(ChannelMsg::Data { data }) => t.parser.process(&data),
                        Some(ChannelMsg::ExitStatus { .. } | ChannelMsg::Close) | None => {
                            errors.add(&anyhow::anyhow!("an idle session was closed by the server"));
                            return (t, false);
                        }
                        Some(_) => {}
                    },
                    () = tokio::time::sleep_until(wake) => {
                        if let Err(e) = check(&mut t, &expect, step).await {
                            errors.add(&e);
                            return (t, false);
                        }
                        next_poke += poke;
                    }
                }
            }
            let ok = match check(&mut t, &expect, step).await {
                Ok(()) => true,
                Err(e) => {
                    errors.add(&e);
                    false
                }
            };
            (t, ok)
        });
    }

    let mut series: Vec<(f64, ProcSample)> = Vec::new();
    let t0 = Instant::now();
    loop {
        if let Some(s) = common.server_pid.and_then(sample_proc) {
            series.push((s.at.duration_since(t0).as_secs_f64(), s));
            println!(
                "  t={:>5.0}s rss={:.1} MiB fds={} threads={} load {}",
                s.at.duration_since(t0).as_secs_f64(),
                s.rss_kib as f64 / 1024.0,
                s.fds,
                s.threads,
                loadavg()
            );
        }
        if Instant::now() >= end {
            break;
        }
        let next = (Instant::now() + Duration::from_secs(args.sample_secs.max(1))).min(end);
        tokio::time::sleep_until(next.into()).await;
    }
    let w1 = snap(&common);
    stop.notify_waiters();
    // `notify_waiters` only wakes tasks already waiting; all are, in their select.
    let check_start = Instant::now();
    let mut alive = 0;
    let mut done = Vec::new();
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok((t, ok)) => {
                alive += usize::from(ok);
                done.push(t);
            }
            Err(e) => errors.add(&e.into()),
        }
    }
    let check_ms = ms(check_start.elapsed());
    let after_check = snap(&common);
    let close_start = Instant::now();
    for t in done {
        t.quit().await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after_close = snap(&common);
    let errs = errors.report();

    println!(
        "connect + auth + first frame (ms): {}",
        opened.first_frame.line()
    );
    println!(
        "alive at the end: {alive}/{n} (checked in {check_ms:.0} ms); closed in {:.0} ms",
        ms(close_start.elapsed())
    );
    let mut kv = String::new();
    if series.len() >= 2 {
        let first = series[0].1;
        let last = series[series.len() - 1].1;
        let min = series.iter().map(|s| s.1.rss_kib).min().unwrap_or(0);
        let max = series.iter().map(|s| s.1.rss_kib).max().unwrap_or(0);
        let fmin = series.iter().map(|s| s.1.fds).min().unwrap_or(0);
        let fmax = series.iter().map(|s| s.1.fds).max().unwrap_or(0);
        println!(
            "soak ({:.0} s): RSS first {:.1} MiB, last {:.1} MiB, min {:.1}, max {:.1} (drift {:+.1} \
             MiB); fds first {}, last {}, min {fmin}, max {fmax}",
            series[series.len() - 1].0,
            first.rss_kib as f64 / 1024.0,
            last.rss_kib as f64 / 1024.0,
            min as f64 / 1024.0,
            max as f64 / 1024.0,
            (last.rss_kib as f64 - first.rss_kib as f64) / 1024.0,
            first.fds,
            last.fds
        );
        kv = format!(
            " soak_s={:.0} soak_rss_first_kib={} soak_rss_last_kib={} soak_rss_max_kib={max} \
             soak_fds_first={} soak_fds_last={} soak_fds_max={fmax}",
            series[series.len() - 1].0,
            first.rss_kib,
            last.rss_kib,
            first.fds,
            last.fds
        );
    }
    if let (Some(a), Some(c)) = (after_check.server, after_close.server) {
        println!(
            "after the check: RSS {:.1} MiB; after close: RSS {:.1} MiB, fds {}",
            a.rss_kib as f64 / 1024.0,
            c.rss_kib as f64 / 1024.0,
            c.fds
        );
        kv.push_str(&format!(
            " rss_after_check_kib={} rss_after_close_kib={} fds_after_close={}",
            a.rss_kib, c.rss_kib, c.fds
        ));
    }
    let res = resources(&common, &opened, &w0, &w1, n);
    println!(
        "RESULT scenario=idle sessions={n} open_failed={} open_ms={:.0} {} alive={alive} \
         errors={errs}{kv}{res}",
        opened.errors.len(),
        ms(opened.open_time),
        opened.first_frame.kv("first_frame"),
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------

fn check_bounds(c: &Common) -> Result<()> {
    if !c.addr.ip().is_loopback() {
        bail!("loadtest only targets loopback addresses, not {}", c.addr);
    }
    if c.sessions == 0 || c.sessions > MAX_SESSIONS {
        bail!("--sessions must be between 1 and {MAX_SESSIONS}");
    }
    if c.duration_secs > MAX_DURATION_SECS {
        bail!("--duration-secs is at most {MAX_DURATION_SECS}");
    }
    Ok(())
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let common = match &cli.scenario {
        Scenario::Typing { common, .. }
        | Scenario::Intake { common, .. }
        | Scenario::Idle { common, .. } => common.clone(),
    };
    check_bounds(&common)?;
    // Bounded in time as a whole: opening (every session may take a full step), warm-up,
    // the measured time and the checks, plus a margin.
    let budget = Duration::from_secs(
        common.warmup_secs
            + common.duration_secs
            + 120
            + common.step_timeout_secs * (2 + (common.sessions / common.concurrency.max(1)) as u64),
    );
    std::thread::spawn(move || {
        std::thread::sleep(budget);
        eprintln!("loadtest: gave up after {budget:?}");
        std::process::exit(2);
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(common.threads.max(1))
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match cli.scenario {
            Scenario::Typing { common, args } => typing(common, args).await,
            Scenario::Intake { common, args } => intake(common, args).await,
            Scenario::Idle { common, args } => idle(common, args).await,
        }
    })
}
