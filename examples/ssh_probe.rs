//! SSH timing and load probe for `scripts/ssh-bench.sh` (loopback only).
//!
//! A russh client that measures, against packtrack or any SSH server:
//!
//! * `first-frame`: TCP connect + key exchange + public-key auth + PTY + shell, until the
//!   first full screen has arrived (every `--expect` text is on the vt100 screen).
//! * `exec`: the same up to auth, then `exec COMMAND` until the server closes the channel
//!   (the in-process analogue of `ssh host COMMAND`).
//! * `idle`: opens `--count` concurrent PTY sessions, each waiting for its first frame, then
//!   follows commands on stdin (`check`: poke every session with keystrokes, or a resize,
//!   and count the ones that answer with a full redraw; `close`: quit every session with
//!   `q` and disconnect) so a script can read the server's memory in between.
//!
//! Timed modes print one `RESULT key=value ...` line (milliseconds) for the script to parse;
//! `idle` prints `READY`, `ALIVE` and `CLOSED` lines.
//!
//! ```text
//! cargo run --release --example ssh_probe -- first-frame --addr 127.0.0.1:2222 \
//!     --user clerk+demo --key id --host-key host.pub --runs 100
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use packtrack::benchkit::{ms, pct};
use russh::client::{self, Handle};
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate};
use russh::{ChannelMsg, Disconnect, Names};
use tokio::sync::Semaphore;

#[derive(Debug, Parser)]
#[command(about = "SSH connect/auth/first-frame timing and idle-session load (loopback)")]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// Connect + auth + PTY + shell until the first full frame, `--runs` times.
    FirstFrame {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        timing: Timing,
        #[command(flatten)]
        screen: Screen,
    },
    /// Connect + auth + exec COMMAND until the channel closes, `--runs` times.
    Exec {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        timing: Timing,
        #[arg(long, default_value = "true")]
        command: String,
    },
    /// Hold `--count` idle PTY sessions; driven by `check` / `close` lines on stdin.
    Idle {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        screen: Screen,
        #[arg(long, default_value_t = 500)]
        count: usize,
        /// Sessions being set up at the same time.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Per-step deadline (opening one session, a check, closing).
        #[arg(long, default_value_t = 60)]
        timeout_secs: u64,
        #[command(flatten)]
        check: Check,
    },
}

#[derive(Debug, Args)]
struct Target {
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
}

#[derive(Debug, Args)]
struct Timing {
    #[arg(long, default_value_t = 100)]
    runs: usize,
    /// Untimed runs first (caches, connection pools).
    #[arg(long, default_value_t = 5)]
    warmup: usize,
    /// Deadline of one run.
    #[arg(long, default_value_t = 10)]
    timeout_secs: u64,
    /// Also write every sample (ms, one per line) here.
    #[arg(long)]
    samples: Option<PathBuf>,
}

/// How `check` pokes the idle sessions.
#[derive(Debug, Args)]
struct Check {
    /// Keystrokes sent one after the other; each must be answered with a full redraw.
    #[arg(long = "check-key", default_values_t = ["?".to_string(), "?".to_string()])]
    keys: Vec<String>,
    /// Check with a terminal resize (window-change) instead of keystrokes.
    #[arg(long = "check-resize")]
    resize: bool,
}

#[derive(Debug, Args, Clone)]
struct Screen {
    #[arg(long, default_value_t = 80)]
    cols: u16,
    #[arg(long, default_value_t = 24)]
    rows: u16,
    #[arg(long, default_value = "xterm-256color")]
    term: String,
    /// Text that must be on the screen for the frame to count as complete (repeatable).
    #[arg(long = "expect", default_values_t = ["Demo Mailroom".to_string(), "q quit".to_string()])]
    expect: Vec<String>,
    /// `first-frame` only: after the frame, also time (separately, `loaded_p50`) until this
    /// text is gone from the screen (e.g. a placeholder shown while data loads).
    #[arg(long)]
    loaded_without: Option<String>,
}

/// Accepts the pinned host key only (or any key when none is pinned); records the
/// negotiated algorithms.
struct Client {
    host_key: Option<PublicKey>,
    names: Arc<Mutex<Option<String>>>,
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

    async fn kex_done(
        &mut self,
        _shared_secret: Option<&[u8]>,
        names: &Names,
        _session: &mut client::Session,
    ) -> Result<()> {
        if let Ok(mut n) = self.names.lock() {
            *n = Some(format!(
                "kex={} cipher={} hostkey={}",
                names.kex.as_ref(),
                names.cipher.as_ref(),
                names.key
            ));
        }
        Ok(())
    }
}

/// What every connection needs.
struct Ctx {
    config: Arc<client::Config>,
    addr: SocketAddr,
    user: String,
    key: Arc<PrivateKey>,
    host_key: Option<PublicKey>,
    names: Arc<Mutex<Option<String>>>,
}

impl Ctx {
    fn new(t: &Target, inactivity: Option<Duration>) -> Result<Self> {
        let key = russh::keys::load_secret_key(&t.key, None)
            .with_context(|| format!("reading {}", t.key.display()))?;
        let host_key = match &t.host_key {
            Some(p) => Some(
                russh::keys::load_public_key(p)
                    .with_context(|| format!("reading {}", p.display()))?,
            ),
            None => None,
        };
        let config = client::Config {
            // Like OpenSSH on a TTY / for small interactive packets.
            nodelay: true,
            inactivity_timeout: inactivity,
            ..Default::default()
        };
        Ok(Self {
            config: Arc::new(config),
            addr: t.addr,
            user: t.user.clone(),
            key: Arc::new(key),
            host_key,
            names: Arc::new(Mutex::new(None)),
        })
    }

    /// TCP + key exchange + host key check; then public-key auth.
    async fn connect_auth(&self, marks: &mut Marks) -> Result<Handle<Client>> {
        let handler = Client {
            host_key: self.host_key.clone(),
            names: self.names.clone(),
        };
        let mut h = client::connect(self.config.clone(), self.addr, handler).await?;
        marks.connected = Some(Instant::now());
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
        marks.authed = Some(Instant::now());
        Ok(h)
    }

    fn negotiated(&self) -> String {
        self.names
            .lock()
            .ok()
            .and_then(|n| n.clone())
            .unwrap_or_else(|| "kex=? cipher=? hostkey=?".into())
    }
}

/// Phase timestamps of one run.
#[derive(Debug, Default, Clone, Copy)]
struct Marks {
    connected: Option<Instant>,
    authed: Option<Instant>,
    channel: Option<Instant>,
    first_byte: Option<Instant>,
}

fn nz(v: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(v).unwrap_or(std::num::NonZeroU16::MIN)
}

fn screen_has_all(parser: &vt100::Parser, expect: &[String]) -> bool {
    let text = parser.screen().contents();
    expect.iter().all(|e| text.contains(e.as_str()))
}

/// One PTY session up to its first full frame. Returns the handle, the channel and the
/// parser (for later redraw checks).
async fn open_pty_session(
    ctx: &Ctx,
    screen: &Screen,
    marks: &mut Marks,
) -> Result<(Handle<Client>, russh::Channel<client::Msg>, vt100::Parser)> {
    let h = ctx.connect_auth(marks).await?;
    let mut ch = h.channel_open_session().await?;
    marks.channel = Some(Instant::now());
    // Both requests go out back to back (as OpenSSH sends them); their replies arrive as
    // Success messages among the data.
    ch.request_pty(
        true,
        &screen.term,
        screen.cols.into(),
        screen.rows.into(),
        0,
        0,
        &[],
    )
    .await?;
    ch.request_shell(true).await?;
    let mut parser = vt100::Parser::new(nz(screen.rows), nz(screen.cols), 0);
    loop {
        match ch.wait().await {
            Some(ChannelMsg::Data { data }) => {
                marks.first_byte.get_or_insert_with(Instant::now);
                parser.process(&data);
                if screen_has_all(&parser, &screen.expect) {
                    return Ok((h, ch, parser));
                }
            }
            Some(ChannelMsg::Failure) => bail!("the server refused the PTY or shell request"),
            Some(ChannelMsg::ExitStatus { exit_status }) => {
                bail!(
                    "session exited ({exit_status}) before the frame; screen:\n{}",
                    parser.screen().contents()
                )
            }
            Some(_) => {}
            None => bail!(
                "channel closed before the frame; screen:\n{}",
                parser.screen().contents()
            ),
        }
    }
}

/// Ends a PTY session politely: Ctrl-C (`q` asks "Quit? y/n" first), wait briefly for the
/// exit status, disconnect.
async fn quit_pty(h: Handle<Client>, mut ch: russh::Channel<client::Msg>) {
    if ch.data_bytes(&b"\x03"[..]).await.is_ok() {
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while let Some(msg) = ch.wait().await {
                if matches!(msg, ChannelMsg::ExitStatus { .. } | ChannelMsg::Close) {
                    break;
                }
            }
        })
        .await;
    }
    let _ = h.disconnect(Disconnect::ByApplication, "", "en").await;
}

struct Run {
    total: Duration,
    /// Start to `--loaded-without` text gone (first-frame only).
    loaded: Option<Duration>,
    connect: Duration,
    auth: Duration,
    channel: Duration,
    first_byte: Duration,
}

impl Run {
    fn from_marks(start: Instant, end: Instant, m: &Marks) -> Self {
        let at = |t: Option<Instant>| t.unwrap_or(end);
        let connected = at(m.connected);
        let authed = at(m.authed);
        let channel = at(m.channel);
        Run {
            total: end - start,
            loaded: None,
            connect: connected - start,
            auth: authed - connected,
            channel: channel - authed,
            // From the channel being open to the first byte of screen/output.
            first_byte: at(m.first_byte).saturating_duration_since(channel),
        }
    }
}

async fn first_frame_once(ctx: &Ctx, screen: &Screen) -> Result<Run> {
    let start = Instant::now();
    let mut marks = Marks::default();
    let (h, mut ch, mut parser) = open_pty_session(ctx, screen, &mut marks).await?;
    let end = Instant::now();
    let mut run = Run::from_marks(start, end, &marks);
    if let Some(gone) = &screen.loaded_without {
        while parser.screen().contents().contains(gone.as_str()) {
            match ch.wait().await {
                Some(ChannelMsg::Data { data }) => parser.process(&data),
                Some(_) => {}
                None => bail!("channel closed before {gone:?} went away"),
            }
        }
        run.loaded = Some(start.elapsed());
    }
    quit_pty(h, ch).await;
    Ok(run)
}

async fn exec_once(ctx: &Ctx, command: &str) -> Result<Run> {
    let start = Instant::now();
    let mut marks = Marks::default();
    let h = ctx.connect_auth(&mut marks).await?;
    let mut ch = h.channel_open_session().await?;
    marks.channel = Some(Instant::now());
    ch.exec(true, command.as_bytes()).await?;
    let mut status = None;
    loop {
        match ch.wait().await {
            Some(ChannelMsg::Data { .. } | ChannelMsg::ExtendedData { .. }) => {
                marks.first_byte.get_or_insert_with(Instant::now);
            }
            Some(ChannelMsg::ExitStatus { exit_status }) => status = Some(exit_status),
            Some(ChannelMsg::Failure) => bail!("the server refused exec {command:?}"),
            Some(ChannelMsg::Close) | None => break,
            Some(_) => {}
        }
    }
    let end = Instant::now();
    let _ = h.disconnect(Disconnect::ByApplication, "", "en").await;
    match status {
        Some(0) => Ok(Run::from_marks(start, end, &marks)),
        other => bail!("exec {command:?} ended with status {other:?}"),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    pct(&v, 50.0)
}

fn report(mode: &str, ctx: &Ctx, runs: &[Run], timing: &Timing) -> Result<()> {
    let mut total: Vec<f64> = runs.iter().map(|r| ms(r.total)).collect();
    if let Some(path) = &timing.samples {
        let text: String = total.iter().map(|v| format!("{v:.3}\n")).collect();
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    total.sort_by(f64::total_cmp);
    let mean = total.iter().sum::<f64>() / total.len().max(1) as f64;
    let phase = |f: fn(&Run) -> Duration| median(runs.iter().map(|r| ms(f(r))).collect());
    let loaded: Vec<f64> = runs.iter().filter_map(|r| r.loaded.map(ms)).collect();
    let loaded = if loaded.is_empty() {
        String::new()
    } else {
        format!("loaded_p50={:.2} ", median(loaded))
    };
    println!(
        "RESULT mode={mode} runs={} mean={mean:.2} p50={:.2} p90={:.2} p99={:.2} min={:.2} \
         max={:.2} connect_p50={:.2} auth_p50={:.2} channel_p50={:.2} first_byte_p50={:.2} {loaded}{}",
        total.len(),
        pct(&total, 50.0),
        pct(&total, 90.0),
        pct(&total, 99.0),
        total.first().copied().unwrap_or(f64::NAN),
        total.last().copied().unwrap_or(f64::NAN),
        phase(|r| r.connect),
        phase(|r| r.auth),
        phase(|r| r.channel),
        phase(|r| r.first_byte),
        ctx.negotiated(),
    );
    Ok(())
}

async fn timed<F, Fut>(timing: &Timing, mut once: F) -> Result<Vec<Run>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Run>>,
{
    let deadline = Duration::from_secs(timing.timeout_secs);
    let mut runs = Vec::with_capacity(timing.runs);
    for i in 0..timing.warmup + timing.runs {
        let run = tokio::time::timeout(deadline, once())
            .await
            .with_context(|| format!("run {i} took longer than {deadline:?}"))??;
        if i >= timing.warmup {
            runs.push(run);
        }
    }
    Ok(runs)
}

/// One held session: the write half for resizes and `q`, a task reading the other half.
struct Held {
    handle: Handle<Client>,
    writer: russh::ChannelWriteHalf<client::Msg>,
    redraws: Arc<AtomicU64>,
    closed: Arc<AtomicBool>,
    /// The terminal size the reader's parser should have: `cols << 16 | rows`.
    size: Arc<AtomicU32>,
    reader: tokio::task::JoinHandle<()>,
}

fn pack(cols: u16, rows: u16) -> u32 {
    (u32::from(cols) << 16) | u32::from(rows)
}

async fn open_held(ctx: Arc<Ctx>, screen: Screen) -> Result<Held> {
    let mut marks = Marks::default();
    let (handle, ch, mut parser) = open_pty_session(&ctx, &screen, &mut marks).await?;
    let (mut read, writer) = ch.split();
    let redraws = Arc::new(AtomicU64::new(0));
    let closed = Arc::new(AtomicBool::new(false));
    let size = Arc::new(AtomicU32::new(pack(screen.cols, screen.rows)));
    let reader = tokio::spawn({
        let redraws = redraws.clone();
        let closed = closed.clone();
        let size = size.clone();
        async move {
            let mut current = pack(screen.cols, screen.rows);
            while let Some(msg) = read.wait().await {
                match msg {
                    ChannelMsg::Data { data } => {
                        let want = size.load(Ordering::Acquire);
                        if want != current {
                            current = want;
                            parser.set_size(nz(want as u16), nz((want >> 16) as u16));
                        }
                        parser.process(&data);
                        // A redraw counts once the whole screen is back.
                        if screen_has_all(&parser, &screen.expect) {
                            redraws.fetch_add(1, Ordering::Release);
                        }
                    }
                    ChannelMsg::Close | ChannelMsg::ExitStatus { .. } => break,
                    _ => {}
                }
            }
            closed.store(true, Ordering::Release);
        }
    });
    Ok(Held {
        handle,
        writer,
        redraws,
        closed,
        size,
        reader,
    })
}

async fn idle(
    target: Target,
    screen: Screen,
    count: usize,
    conc: usize,
    secs: u64,
    check: Check,
) -> Result<()> {
    let step = Duration::from_secs(secs);
    // No client-side inactivity timeout: the sessions are meant to sit idle.
    let ctx = Arc::new(Ctx::new(&target, None)?);
    let gate = Arc::new(Semaphore::new(conc.max(1)));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..count {
        let (ctx, screen, gate) = (ctx.clone(), screen.clone(), gate.clone());
        tasks.spawn(async move {
            let _permit = gate.acquire_owned().await?;
            tokio::time::timeout(step, open_held(ctx, screen))
                .await
                .context("opening a session timed out")?
        });
    }
    let mut held = Vec::with_capacity(count);
    let mut errors = Vec::new();
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok(Ok(h)) => held.push(h),
            Ok(Err(e)) => errors.push(format!("{e:#}")),
            Err(e) => errors.push(e.to_string()),
        }
    }
    let open_ms = ms(started.elapsed());
    if let Some(e) = errors.first() {
        eprintln!(
            "ssh_probe: {} sessions failed to open, first error: {e}",
            errors.len()
        );
    }
    println!(
        "READY opened={} failed={} open_ms={open_ms:.0} {}",
        held.len(),
        errors.len(),
        ctx.negotiated()
    );

    let mut lines = stdin_lines();
    let mut checks = 0u32;
    while let Some(line) = lines.recv().await {
        match line.trim() {
            "check" => {
                // Every live session must answer each step with a complete redraw:
                // keystrokes (default `?` opens help, the second `?` closes it) or a resize.
                let steps: Vec<Step> = if check.resize {
                    checks += 1;
                    let cols = screen.cols + (checks % 2) as u16;
                    vec![Step::Resize(cols, screen.rows)]
                } else {
                    check.keys.iter().map(|k| Step::Keys(k.clone())).collect()
                };
                let t0 = Instant::now();
                let mut ok = vec![true; held.len()];
                for step_kind in &steps {
                    let answered = check_step(&held, step_kind, step).await;
                    for (o, a) in ok.iter_mut().zip(answered) {
                        *o &= a;
                    }
                }
                let alive = ok.iter().filter(|o| **o).count();
                println!(
                    "ALIVE alive={alive} held={} steps={} check_ms={:.0}",
                    held.len(),
                    steps.len(),
                    ms(t0.elapsed())
                );
            }
            "close" => break,
            other => eprintln!("ssh_probe: unknown command {other:?}"),
        }
    }

    // Quit every session like a user would (Ctrl-C: `q` asks first), then drop the
    // connections.
    let t0 = Instant::now();
    for h in &held {
        let _ = h.writer.data_bytes(&b"\x03"[..]).await;
    }
    let mut clean = 0;
    for h in &mut held {
        let left = step.saturating_sub(t0.elapsed());
        if tokio::time::timeout(left, &mut h.reader).await.is_ok() {
            clean += 1;
        }
    }
    for h in held.drain(..) {
        h.reader.abort();
        let _ = h
            .handle
            .disconnect(Disconnect::ByApplication, "", "en")
            .await;
    }
    println!(
        "CLOSED clean_exits={clean} close_ms={:.0}",
        ms(t0.elapsed())
    );
    Ok(())
}

enum Step {
    Keys(String),
    Resize(u16, u16),
}

/// Sends one step to every session and waits (at most `limit`) until each has redrawn a
/// complete screen since. Returns, per session, whether it did.
async fn check_step(held: &[Held], step: &Step, limit: Duration) -> Vec<bool> {
    let before: Vec<u64> = held
        .iter()
        .map(|h| h.redraws.load(Ordering::Acquire))
        .collect();
    for h in held {
        let _ = match step {
            Step::Keys(k) => h.writer.data_bytes(k.clone().into_bytes()).await,
            Step::Resize(cols, rows) => {
                h.size.store(pack(*cols, *rows), Ordering::Release);
                h.writer
                    .window_change((*cols).into(), (*rows).into(), 0, 0)
                    .await
            }
        };
    }
    let t0 = Instant::now();
    loop {
        let answered: Vec<bool> = held
            .iter()
            .zip(&before)
            .map(|(h, b)| {
                !h.closed.load(Ordering::Acquire) && h.redraws.load(Ordering::Acquire) > *b
            })
            .collect();
        if answered.iter().all(|a| *a) || t0.elapsed() > limit {
            return answered;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Lines from stdin (tokio's `io-std` feature is not enabled in this crate).
fn stdin_lines() -> tokio::sync::mpsc::Receiver<String> {
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if tx.blocking_send(line).is_err() {
                break;
            }
        }
    });
    rx
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.mode {
        Mode::FirstFrame {
            target,
            timing,
            screen,
        } => {
            let ctx = Ctx::new(&target, Some(Duration::from_secs(timing.timeout_secs)))?;
            let runs = timed(&timing, || first_frame_once(&ctx, &screen)).await?;
            report("first-frame", &ctx, &runs, &timing)
        }
        Mode::Exec {
            target,
            timing,
            command,
        } => {
            let ctx = Ctx::new(&target, Some(Duration::from_secs(timing.timeout_secs)))?;
            let runs = timed(&timing, || exec_once(&ctx, &command)).await?;
            report("exec", &ctx, &runs, &timing)
        }
        Mode::Idle {
            target,
            screen,
            count,
            concurrency,
            timeout_secs,
            check,
        } => idle(target, screen, count, concurrency, timeout_secs, check).await,
    }
}
