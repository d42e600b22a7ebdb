//! The russh server: our own accept loop (limits before any SSH bytes), one handler per
//! connection, one task per session channel, graceful shutdown.

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use russh::keys::{Algorithm, EcdsaCurve, HashAlg, PrivateKey, PublicKey};
use russh::server::{
    self, Auth, ChannelOpenHandle, Handler, Msg, PublicKeyOffer, Response, Session,
};
use russh::{
    Channel, ChannelId, ChannelWriteHalf, Disconnect, MethodKind, MethodSet, Preferred, Pty,
    cipher, compression, kex, mac,
};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};

use super::limits::{ConnectionLimiter, Limits, Slot};
use super::session::{self, Input};
use crate::auth::login::{Authenticator, Failure, SshUser};
use crate::auth::pubkey;
use crate::domain::Principal;
use crate::metrics::Metrics;

/// Modern algorithms only: hybrid post-quantum / curve25519 key exchange with strict-kex,
/// AEAD ciphers, ETM MACs (only used with non-AEAD ciphers, of which we offer none).
pub fn preferred() -> Preferred {
    Preferred {
        kex: Cow::Borrowed(&[
            kex::MLKEM768X25519_SHA256,
            kex::CURVE25519,
            kex::CURVE25519_PRE_RFC_8731,
            kex::EXTENSION_SUPPORT_AS_SERVER,
            kex::EXTENSION_SUPPORT_AS_CLIENT,
            kex::EXTENSION_OPENSSH_STRICT_KEX_AS_SERVER,
            kex::EXTENSION_OPENSSH_STRICT_KEX_AS_CLIENT,
        ]),
        // On a server this is both the host key algorithms (filtered to our Ed25519 key)
        // and `server-sig-algs`, the user key signatures we accept.
        key: Cow::Borrowed(&[
            Algorithm::Ed25519,
            Algorithm::Ecdsa {
                curve: EcdsaCurve::NistP256,
            },
            Algorithm::Rsa {
                hash: Some(HashAlg::Sha512),
            },
            Algorithm::Rsa {
                hash: Some(HashAlg::Sha256),
            },
        ]),
        host_key_certificates: Cow::Borrowed(&[]),
        cipher: Cow::Borrowed(&[cipher::CHACHA20_POLY1305, cipher::AES_256_GCM]),
        mac: Cow::Borrowed(&[mac::HMAC_SHA512_ETM, mac::HMAC_SHA256_ETM]),
        compression: Cow::Borrowed(&[compression::NONE]),
    }
}

fn config(host_key: PrivateKey, limits: &Limits) -> server::Config {
    server::Config {
        server_id: russh::SshId::Standard(Cow::Owned(format!(
            "SSH-2.0-packtrack_{}",
            env!("CARGO_PKG_VERSION")
        ))),
        // Advertised methods; `password` is also refused by not implementing it.
        methods: MethodSet::from(&[MethodKind::PublicKey, MethodKind::KeyboardInteractive][..]),
        auth_rejection_time: limits.auth_rejection,
        // The client's first `none` probe is not a guess; answer it at once.
        auth_rejection_time_initial: Some(Duration::ZERO),
        keys: vec![host_key],
        max_auth_attempts: limits.max_auth_attempts,
        // Backstop only: the app enforces the real idle timeout on input.
        inactivity_timeout: Some(limits.idle + Duration::from_secs(300)),
        keepalive_interval: Some(limits.keepalive),
        keepalive_max: 3,
        nodelay: true,
        preferred: preferred(),
        ..Default::default()
    }
}

/// Everything the connections share.
struct Shared {
    auth: Authenticator,
    ops: crate::ops::Ops,
    live: crate::live::LiveHub,
    limits: Limits,
    metrics: Arc<Metrics>,
    shutdown: watch::Receiver<bool>,
}

/// A running server.
pub struct ServerHandle {
    pub addr: SocketAddr,
    pub host_key: PublicKey,
    pub metrics: Arc<Metrics>,
    limiter: ConnectionLimiter,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl ServerHandle {
    /// Open TCP connections (authenticated or not).
    pub fn connections(&self) -> usize {
        self.limiter.active()
    }

    pub fn active_sessions(&self) -> u64 {
        self.metrics.sessions_active.load(Ordering::Relaxed)
    }

    /// Stops accepting, tells every session (which restores its terminal), and waits for
    /// them (at most a few seconds).
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

/// Starts serving on `listener`.
pub fn start(
    listener: TcpListener,
    auth: Authenticator,
    host_key: PrivateKey,
    limits: Limits,
) -> std::io::Result<ServerHandle> {
    let addr = listener.local_addr()?;
    // Compute the dummy hash now, not on the first unknown login (which would then take
    // one extra hash longer than any other failure).
    std::sync::LazyLock::force(&crate::auth::password::DUMMY_HASH);
    let public = host_key.public_key().clone();
    tracing::info!(fingerprint = %pubkey::fingerprint(&public), "host key");
    let config = Arc::new(config(host_key, &limits));
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let metrics = Arc::new(Metrics::default());
    let limiter = ConnectionLimiter::new(&limits);
    let shared = Arc::new(Shared {
        ops: crate::ops::Ops::new(auth.db().clone()).with_secrets(auth.secrets().clone()),
        live: crate::live::LiveHub::start(auth.db()),
        auth,
        limits,
        metrics: metrics.clone(),
        shutdown: shutdown_rx,
    });
    let task = tokio::spawn(accept_loop(listener, config, shared, limiter.clone()));
    Ok(ServerHandle {
        addr,
        host_key: public,
        metrics,
        limiter,
        shutdown: shutdown_tx,
        task,
    })
}

async fn accept_loop(
    listener: TcpListener,
    config: Arc<server::Config>,
    shared: Arc<Shared>,
    limiter: ConnectionLimiter,
) {
    let mut shutdown = shared.shutdown.clone();
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => {
                let (socket, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // EMFILE and friends: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                Metrics::inc(&shared.metrics.connections);
                let slot = match limiter.try_acquire(peer.ip()) {
                    Ok(slot) => slot,
                    Err(why) => {
                        Metrics::inc(&shared.metrics.refused);
                        tracing::warn!(%peer, limit = ?why, "connection refused: limit reached");
                        // Closed before any SSH bytes: the client sees a clean EOF.
                        drop(socket);
                        continue;
                    }
                };
                let _ = socket.set_nodelay(true);
                connections.spawn(connection(socket, peer, slot, config.clone(), shared.clone()));
            }
        }
    }
    drop(listener);
    let grace = tokio::time::sleep(Duration::from_secs(5));
    tokio::pin!(grace);
    loop {
        tokio::select! {
            next = connections.join_next() => if next.is_none() { break },
            () = &mut grace => {
                connections.abort_all();
                break;
            }
        }
    }
}

/// One TCP connection: the SSH session, a pre-authentication deadline, shutdown.
async fn connection(
    socket: tokio::net::TcpStream,
    peer: SocketAddr,
    slot: Slot,
    config: Arc<server::Config>,
    shared: Arc<Shared>,
) {
    let authed = Arc::new(AtomicBool::new(false));
    let kill = Arc::new(tokio::sync::Notify::new());
    let unavailable = Arc::new(tokio::sync::Notify::new());
    let handler = Conn {
        unavailable: unavailable.clone(),
        shared: shared.clone(),
        peer,
        slot,
        authed: authed.clone(),
        principal: None,
        unbound: None,
        kiosk: None,
        method: String::new(),
        kbd: Kbd::Idle,
        channels: HashMap::new(),
        kill: kill.clone(),
        dropped_warned: None,
    };
    // One deadline from the TCP connect: a slow identification line does not restart it.
    let deadline = tokio::time::Instant::now() + shared.limits.pre_auth;
    // russh runs the session in a task of its own, which does not act on a disconnect
    // during key exchange and otherwise lives until its inactivity timeout: when this
    // function returns, `_kill` drops and the stream fails, ending that task too.
    let (_kill, killed) = tokio::sync::oneshot::channel::<()>();
    let stream = Killable {
        inner: socket,
        killed: Some(killed),
    };
    let session = match tokio::time::timeout_at(
        deadline,
        server::run_stream(config, stream, handler),
    )
    .await
    {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "ssh handshake failed");
            return;
        }
        Err(_) => {
            tracing::info!(%peer, "closed: no SSH handshake before the deadline");
            return;
        }
    };
    let handle = session.handle();
    tokio::pin!(session);
    let pre_auth = tokio::time::sleep_until(deadline);
    tokio::pin!(pre_auth);
    let mut deadline_armed = true;
    let mut shutdown = shared.shutdown.clone();
    loop {
        tokio::select! {
            res = &mut session => {
                if let Err(e) = res {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            () = &mut pre_auth, if deadline_armed => {
                deadline_armed = false;
                if !authed.load(Ordering::Acquire) {
                    tracing::info!(%peer, "closed: not authenticated before the deadline");
                    disconnect(&handle, "authentication timeout").await;
                    let _ = tokio::time::timeout(Duration::from_secs(2), &mut session).await;
                    return;
                }
            }
            () = kill.notified() => {
                // A session's client stopped reading its output: nothing more can reach it,
                // and its unread data holds server memory. Dropping the stream (`_kill`)
                // ends russh's task too, even when it is blocked writing.
                tracing::info!(%peer, "closed: the client stopped reading");
                return;
            }
            () = unavailable.notified() => {
                // Authentication could not be checked (the database is not answering):
                // not a refusal, and not the client's fault. Say so instead of letting it
                // look like a wrong key.
                tracing::warn!(%peer, "closed: authentication unavailable (database error)");
                disconnect(&handle, "service temporarily unavailable; try again in a moment")
                    .await;
                let _ = tokio::time::timeout(Duration::from_secs(2), &mut session).await;
                return;
            }
            _ = shutdown.changed() => {
                // Sessions restore their terminals on the same signal; give them a moment.
                // A finished session future must not be polled again (it panics).
                if tokio::time::timeout(Duration::from_secs(2), &mut session).await.is_err() {
                    disconnect(&handle, "server shutting down").await;
                    let _ = tokio::time::timeout(Duration::from_secs(2), &mut session).await;
                }
                return;
            }
        }
    }
}

/// The connection's TCP stream with a kill switch: once the sender is dropped, every
/// read and write fails.
struct Killable {
    inner: tokio::net::TcpStream,
    killed: Option<tokio::sync::oneshot::Receiver<()>>,
}

impl Killable {
    fn alive(&mut self, cx: &mut std::task::Context<'_>) -> std::io::Result<()> {
        if let Some(rx) = self.killed.as_mut() {
            if std::pin::Pin::new(rx).poll(cx).is_pending() {
                return Ok(());
            }
            self.killed = None;
        }
        Err(std::io::ErrorKind::ConnectionAborted.into())
    }
}

impl tokio::io::AsyncRead for Killable {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if let Err(e) = this.alive(cx) {
            return std::task::Poll::Ready(Err(e));
        }
        let res = std::pin::Pin::new(&mut this.inner).poll_read(cx, buf);
        if res.is_ready() {
            // Acknowledge at once: with delayed ACKs a client's small key-exchange packet
            // waited ~40 ms on Nagle (measured, docs/PERFORMANCE.md). The kernel clears
            // the flag again after use, so it is set after every read.
            let _ = this.inner.set_quickack(true);
        }
        res
    }
}

impl tokio::io::AsyncWrite for Killable {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        if let Err(e) = this.alive(cx) {
            return std::task::Poll::Ready(Err(e));
        }
        std::pin::Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if let Err(e) = this.alive(cx) {
            return std::task::Poll::Ready(Err(e));
        }
        std::pin::Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Sends a DISCONNECT, bounded: a session whose queue is full must not hold us up.
async fn disconnect(handle: &server::Handle, reason: &str) {
    let _ = tokio::time::timeout(
        Duration::from_secs(2),
        handle.disconnect(Disconnect::ByApplication, reason.into(), "en".into()),
    )
    .await;
}

/// Keyboard-interactive progress. The password is kept only until the code arrives.
enum Kbd {
    Idle,
    AwaitPassword,
    AwaitCode { password: String },
}

struct Chan {
    writer: Option<ChannelWriteHalf<Msg>>,
    pty: Option<session::Pty>,
    colorterm: Option<String>,
    theme: Option<String>,
    input: Option<mpsc::Sender<Input>>,
    task: Option<JoinHandle<()>>,
    /// An exec command that reads stdin (`recipients import`): its line and the data so
    /// far; it runs at the client's EOF.
    stdin: Option<(String, Vec<u8>)>,
}

/// The russh handler of one connection.
struct Conn {
    shared: Arc<Shared>,
    peer: SocketAddr,
    slot: Slot,
    authed: Arc<AtomicBool>,
    principal: Option<Principal>,
    /// The person proved who they are, but the login named no facility (and they have
    /// several) or one they are not in: every channel gets this hint and exit status 1.
    /// The connection stays under the pre-authentication deadline.
    unbound: Option<String>,
    /// A kiosk terminal (device key); staff unlock it with their PIN.
    kiosk: Option<crate::auth::login::Device>,
    /// "publickey SHA256:…" or "password+totp", for the session log.
    method: String,
    kbd: Kbd,
    channels: HashMap<ChannelId, Chan>,
    /// Closes the whole connection (a session whose client stopped reading).
    kill: Arc<tokio::sync::Notify>,
    /// Closes the connection with "service temporarily unavailable" (authentication could
    /// not be checked).
    unavailable: Arc<tokio::sync::Notify>,
    /// When input was last reported dropped (reported at most once a second).
    dropped_warned: Option<Instant>,
}

impl Conn {
    fn prompt(text: &'static str) -> Auth {
        Auth::Partial {
            name: Cow::Borrowed("packtrack"),
            instructions: Cow::Borrowed(""),
            prompts: Cow::Owned(vec![(Cow::Borrowed(text), false)]),
        }
    }

    fn accept(&mut self, principal: Principal, method: String) -> Auth {
        self.principal = Some(principal);
        self.method = method;
        self.authed.store(true, Ordering::Release);
        self.slot.authenticated();
        Auth::Accept
    }

    /// Right credentials, wrong facility part: let them in far enough to read the hint
    /// (refused when they have no facility at all).
    async fn accept_unbound(&mut self, user: &SshUser) -> Auth {
        match self.shared.auth.facility_hint(user).await {
            Some(hint) => {
                self.unbound = Some(hint);
                Auth::Accept
            }
            None => self.reject(),
        }
    }

    fn reject(&self) -> Auth {
        Metrics::inc(&self.shared.metrics.auth_failed);
        Auth::reject()
    }

    /// A failed check: a refusal, or — when the database could not answer — a disconnect
    /// that says the service is unavailable (never counted as a failed login).
    fn refuse(&self, f: Failure) -> Auth {
        if f == Failure::Internal {
            Metrics::inc(&self.shared.metrics.auth_unavailable);
            self.unavailable.notify_one();
            return Auth::reject();
        }
        self.reject()
    }

    /// Starts the task that owns a channel's output.
    fn spawn_task(
        &mut self,
        channel: ChannelId,
        exec: Option<String>,
        session: &mut Session,
    ) -> Result<(), russh::Error> {
        if self.spawn_task_with(channel, exec, None, session.handle())? {
            session.channel_success(channel)
        } else {
            session.channel_failure(channel)
        }
    }

    /// Starts the task; `false`: refused. `stdin`: what an exec command read (its reply
    /// was sent already).
    fn spawn_task_with(
        &mut self,
        channel: ChannelId,
        exec: Option<String>,
        stdin: Option<Vec<u8>>,
        handle: server::Handle,
    ) -> Result<bool, russh::Error> {
        if let Some(hint) = &self.unbound {
            let Some(chan) = self.channels.get_mut(&channel) else {
                return Ok(false);
            };
            let Some(writer) = chan.writer.take() else {
                return Ok(false);
            };
            // A terminal in raw mode needs the carriage return.
            let eol = if chan.pty.is_some() { "\r\n" } else { "\n" };
            let shared = self.shared.clone();
            let msg = format!("packtrack: {hint}{eol}");
            tokio::spawn(async move {
                let _ = write_exec(&writer, String::new(), msg, 1, &shared).await;
            });
            return Ok(true);
        }
        // Everyone but a kiosk has a principal by now.
        if self.principal.is_none() && self.kiosk.is_none() {
            return Ok(false);
        }
        let principal = self.principal.clone();
        let kiosk = self.kiosk.clone();
        let Some(chan) = self.channels.get_mut(&channel) else {
            return Ok(false);
        };
        let Some(writer) = chan.writer.take() else {
            // Only one shell or exec per channel.
            return Ok(false);
        };
        let shared = self.shared.clone();
        let peer = self.peer;
        let method = self.method.clone();
        // Only a write *stall* closes the connection (a client's other channels share the
        // same stalled socket); a client closing its channel early is no reason.
        let kill = self.kill.clone();
        Metrics::inc(&shared.metrics.sessions_active);
        Metrics::inc(&shared.metrics.sessions_total);
        let guard = ActiveGuard(shared.metrics.clone());
        match (exec, principal) {
            (Some(line), Some(principal)) => {
                chan.task = Some(tokio::spawn(async move {
                    let _guard = guard;
                    let started = Instant::now();
                    // Output a command streams (large exports) goes out as it comes, with
                    // the same stall limit as everything else; the rest at the end.
                    let (tx, rx) = mpsc::channel::<Vec<u8>>(4);
                    let stall = shared.limits.write_stall;
                    let w = &writer;
                    let pump = async move {
                        let mut rx = rx;
                        let mut sent = 0usize;
                        while let Some(chunk) = rx.recv().await {
                            sent += chunk.len();
                            match tokio::time::timeout(stall, w.data_bytes(Bytes::from(chunk)))
                                .await
                            {
                                Ok(Ok(())) => {}
                                // Dropping the receiver tells the command the client is gone.
                                _ => return (sent, false),
                            }
                        }
                        (sent, true)
                    };
                    let run = super::exec::run_full(
                        &line,
                        stdin.as_deref(),
                        &principal,
                        &shared.ops,
                        Some(tx),
                    );
                    // A panic in the command (a bug) must still answer the client.
                    let run = contain(run, || {
                        tracing::error!(
                            login = %principal.login(), facility = %principal.slug(), %peer,
                            command = %crate::logging::Clean(line.split_whitespace().next().unwrap_or("")),
                            "exec command panicked"
                        );
                        super::exec::Output {
                            stdout: String::new(),
                            stderr: INTERNAL_ERROR.into(),
                            status: 70,
                        }
                    });
                    let (out, (streamed, alive)) = tokio::join!(run, pump);
                    let bytes = streamed + out.stdout.len() + out.stderr.len();
                    if alive {
                        let _ =
                            write_exec(&writer, out.stdout, out.stderr, out.status, &shared).await;
                    }
                    tracing::info!(
                        login = %principal.login(), facility = %principal.slug(), %peer,
                        auth = %method,
                        command = %crate::logging::Clean(line.split_whitespace().next().unwrap_or("")),
                        duration_ms = started.elapsed().as_millis() as u64, bytes,
                        "exec"
                    );
                }));
            }
            (Some(_), None) => {
                // A kiosk device has no commands: say so, like any user error.
                chan.task = Some(tokio::spawn(async move {
                    let _guard = guard;
                    let msg = "kiosk terminals have no commands; log in as yourself\n";
                    let _ = write_exec(&writer, String::new(), msg.into(), 1, &shared).await;
                }));
            }
            (None, principal) => {
                let pty = chan.pty.clone().unwrap_or(session::Pty {
                    term: "dumb".into(),
                    colorterm: None,
                    cols: 80,
                    rows: 24,
                });
                let pty = session::Pty {
                    colorterm: chan.colorterm.clone(),
                    ..pty
                };
                let (tx, rx) = mpsc::channel(shared.limits.input_queue);
                chan.input = Some(tx);
                let (who, slug, facility) = match (&principal, &kiosk) {
                    (Some(p), _) => (p.login().to_string(), p.slug().to_string(), p.facility()),
                    (None, Some(d)) => (format!("kiosk:{}", d.name), d.slug.clone(), d.facility),
                    (None, None) => return Ok(false),
                };
                let sess = session::Session {
                    theme: chan.theme.clone(),
                    principal,
                    kiosk: kiosk.map(|device| session::KioskSetup {
                        device,
                        auth: shared.auth.clone(),
                        peer: peer.ip(),
                        relock: shared.limits.kiosk_relock,
                    }),
                    pty: pty.clone(),
                    idle: shared.limits.idle,
                    write_stall: shared.limits.write_stall,
                    ops: shared.ops.clone(),
                    live: Some(shared.live.subscribe(facility)),
                    auth_key: method.strip_prefix("publickey ").map(str::to_string),
                    auth_totp: method == "password+totp",
                    recheck: shared.limits.recheck,
                    metrics: shared.metrics.clone(),
                };
                chan.task = Some(tokio::spawn(async move {
                    let _guard = guard;
                    let started = Instant::now();
                    tracing::info!(
                        login = %who, facility = %slug, %peer,
                        auth = %method, term = %crate::logging::Clean(&pty.term), cols = pty.cols, rows = pty.rows,
                        "session start"
                    );
                    // A panic in the session (a bug) still gives the client its terminal
                    // back, a line saying what happened and an exit status.
                    let run = sess.run(writer, rx, shared.shutdown.clone());
                    let (end, bytes) = contain(run, || (session::End::Panicked, 0)).await;
                    if end == session::End::Panicked {
                        tracing::error!(login = %who, facility = %slug, %peer, "session panicked");
                        answer_panic(&handle, channel, true).await;
                    }
                    if end == session::End::WriteStalled {
                        kill.notify_one();
                    }
                    tracing::info!(
                        login = %who, facility = %slug, %peer,
                        auth = %method, term = %crate::logging::Clean(&pty.term), cols = pty.cols, rows = pty.rows,
                        duration_s = started.elapsed().as_secs(), bytes, end = end.as_str(),
                        "session end"
                    );
                }));
            }
        }
        Ok(true)
    }
}

/// What a client is told when its command or session hit a bug (the log has the detail).
const INTERNAL_ERROR: &str =
    "packtrack: internal error (logged); please try again, or tell your administrator\n";

/// Runs `fut`; if it panics, the panic is caught (the process's panic hook has already
/// logged it) and `on_panic` gives the answer instead, so a per-connection task never dies
/// silently and leaves its client waiting for an exit status.
async fn contain<T>(fut: impl std::future::Future<Output = T>, on_panic: impl FnOnce() -> T) -> T {
    use futures_util::FutureExt as _;
    match std::panic::AssertUnwindSafe(fut).catch_unwind().await {
        Ok(v) => v,
        Err(_) => on_panic(),
    }
}

/// Tells a client whose session panicked, through the connection's handle (the session's
/// own writer went down with it): the terminal restored, the message, exit status 70, close.
async fn answer_panic(handle: &server::Handle, channel: ChannelId, pty: bool) {
    let msg = if pty {
        format!(
            "{}\r\n{}",
            crate::term::LEAVE,
            INTERNAL_ERROR.replace('\n', "\r\n")
        )
    } else {
        INTERNAL_ERROR.to_string()
    };
    let send = async {
        let _ = handle
            .extended_data(channel, 1, bytes::Bytes::from(msg))
            .await;
        let _ = handle.exit_status_request(channel, 70).await;
        let _ = handle.eof(channel).await;
        let _ = handle.close(channel).await;
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), send).await;
}

/// Decrements the active-session gauge when a session task ends, however it ends.
struct ActiveGuard(Arc<Metrics>);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        Metrics::dec(&self.0.sessions_active);
    }
}

async fn write_exec(
    w: &ChannelWriteHalf<Msg>,
    stdout: String,
    stderr: String,
    status: u32,
    shared: &Shared,
) -> Result<(), ()> {
    let stall = shared.limits.write_stall;
    let send = async {
        if !stdout.is_empty() {
            w.data_bytes(Bytes::from(stdout)).await.map_err(|_| ())?;
        }
        if !stderr.is_empty() {
            w.extended_data_bytes(1, Bytes::from(stderr))
                .await
                .map_err(|_| ())?;
        }
        w.exit_status(status).await.map_err(|_| ())?;
        w.eof().await.map_err(|_| ())?;
        w.close().await.map_err(|_| ())
    };
    tokio::time::timeout(stall, send).await.map_err(|_| ())?
}

impl Drop for Conn {
    fn drop(&mut self) {
        // The connection is gone: no session task may outlive it.
        for (_, chan) in self.channels.drain() {
            if let Some(t) = chan.task {
                t.abort();
            }
        }
    }
}

impl Handler for Conn {
    type Error = anyhow::Error;

    async fn auth_none(&mut self, _user: &str) -> Result<Auth, Self::Error> {
        Ok(Auth::reject())
    }

    /// The offered-key probe: may this key be tried? Never authenticates.
    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        offer: PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        let user = SshUser::parse(user);
        if user.login == crate::auth::login::KIOSK_LOGIN {
            return Ok(
                match self.shared.auth.device(&user, offer.public_key).await {
                    Ok(_) => Auth::Accept,
                    Err(f) => self.refuse(f),
                },
            );
        }
        match self.shared.auth.key_may_sign(&user, offer.public_key).await {
            Ok(true) => Ok(Auth::Accept),
            Ok(false) => Ok(self.reject()),
            Err(f) => Ok(self.refuse(f)),
        }
    }

    /// Called by russh only after the signature verified: identity is bound here.
    async fn auth_publickey(
        &mut self,
        user: &str,
        key: russh::server::VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        let user = SshUser::parse(user);
        if user.login == crate::auth::login::KIOSK_LOGIN {
            return Ok(match self.shared.auth.device(&user, key.public_key).await {
                Ok(device) => {
                    tracing::info!(device = %device.name, facility = %device.slug,
                        peer = %self.peer, "kiosk device connected");
                    Metrics::inc(&self.shared.metrics.auth_ok_publickey);
                    self.method = format!("device {}", pubkey::fingerprint(key.public_key));
                    self.kiosk = Some(device);
                    self.authed.store(true, Ordering::Release);
                    self.slot.authenticated();
                    Auth::Accept
                }
                Err(f) => {
                    tracing::warn!(peer = %self.peer, reason = f.as_str(), "kiosk device refused");
                    self.refuse(f)
                }
            });
        }
        match self
            .shared
            .auth
            .publickey(&user, key.public_key, self.peer.ip())
            .await
        {
            Ok(p) => {
                Metrics::inc(&self.shared.metrics.auth_ok_publickey);
                let method = format!("publickey {}", pubkey::fingerprint(key.public_key));
                Ok(self.accept(p, method))
            }
            Err(f) if f.is_facility_mistake() => Ok(self.accept_unbound(&user).await),
            Err(f) => Ok(self.refuse(f)),
        }
    }

    async fn auth_keyboard_interactive<'a>(
        &'a mut self,
        user: &str,
        _submethods: &str,
        response: Option<Response<'a>>,
    ) -> Result<Auth, Self::Error> {
        let Some(mut response) = response else {
            self.kbd = Kbd::AwaitPassword;
            return Ok(Self::prompt("Password: "));
        };
        let answer = response.next().unwrap_or_default();
        let answer = String::from_utf8_lossy(&answer).into_owned();
        match std::mem::replace(&mut self.kbd, Kbd::Idle) {
            Kbd::AwaitPassword => {
                // Always ask for the code, right password or not: the reply must not
                // reveal which part was wrong, or whether the login exists.
                self.kbd = Kbd::AwaitCode { password: answer };
                Ok(Self::prompt("Verification code: "))
            }
            Kbd::AwaitCode { password } => {
                let user = SshUser::parse(user);
                match self
                    .shared
                    .auth
                    .password_totp(&user, password, &answer, self.peer.ip())
                    .await
                {
                    Ok(p) => {
                        Metrics::inc(&self.shared.metrics.auth_ok_password);
                        Ok(self.accept(p, "password+totp".into()))
                    }
                    Err(f) if f.is_facility_mistake() => Ok(self.accept_unbound(&user).await),
                    Err(f) => Ok(self.refuse(f)),
                }
            }
            Kbd::Idle => Ok(self.reject()),
        }
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        // Channels the server closed never get `channel_close`: prune finished ones.
        self.channels
            .retain(|_, c| c.task.as_ref().is_none_or(|t| !t.is_finished()));
        let authed = self.principal.is_some() || self.kiosk.is_some() || self.unbound.is_some();
        if !authed || self.channels.len() >= self.shared.limits.max_channels {
            reply
                .reject(russh::ChannelOpenFailure::ResourceShortage)
                .await;
            return Ok(());
        }
        // Input arrives through `data`; an unread read half would stall the connection.
        let (read_half, write_half) = channel.split();
        drop(read_half);
        self.channels.insert(
            write_half.id(),
            Chan {
                writer: Some(write_half),
                pty: None,
                colorterm: None,
                theme: None,
                input: None,
                task: None,
                stdin: None,
            },
        );
        reply.accept().await;
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        term: &str,
        col_width: u32,
        row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        match self.channels.get_mut(&channel) {
            Some(chan) if chan.task.is_none() => {
                chan.pty = Some(session::Pty {
                    term: term.chars().take(64).collect(),
                    colorterm: None,
                    cols: clamp_dim(col_width, 80),
                    rows: clamp_dim(row_height, 24),
                });
                session.channel_success(channel)?;
            }
            _ => session.channel_failure(channel)?,
        }
        Ok(())
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        variable_name: &str,
        variable_value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        // COLORTERM (truecolor detection) and PACKTRACK_THEME (the user's theme choice,
        // `ssh -o SetEnv=PACKTRACK_THEME=light`); nothing else is taken from the client.
        let Some(chan) = self.channels.get_mut(&channel) else {
            session.channel_failure(channel)?;
            return Ok(());
        };
        let value: String = variable_value.chars().take(32).collect();
        match variable_name {
            "COLORTERM" => chan.colorterm = Some(value),
            "PACKTRACK_THEME" if crate::ui::Theme::builtin(&value).is_some() => {
                chan.theme = Some(value);
            }
            _ => {
                session.channel_failure(channel)?;
                return Ok(());
            }
        }
        session.channel_success(channel)?;
        Ok(())
    }

    async fn window_change_request(
        &mut self,
        channel: ChannelId,
        col_width: u32,
        row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        let (cols, rows) = (clamp_dim(col_width, 80), clamp_dim(row_height, 24));
        if let Some(chan) = self.channels.get_mut(&channel) {
            match &chan.input {
                Some(tx) => {
                    let _ = tx.try_send(Input::Resize { cols, rows });
                }
                // Resized before the shell started: the session will start at this size.
                None => {
                    if let Some(pty) = chan.pty.as_mut() {
                        pty.cols = cols;
                        pty.rows = rows;
                    }
                }
            }
        }
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        Ok(self.spawn_task(channel, None, session)?)
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if data.len() > 8192 {
            session.channel_failure(channel)?;
            return Ok(());
        }
        let line = String::from_utf8_lossy(data).into_owned();
        // A command that reads stdin waits for the client's EOF. Only admins may run one,
        // so only they can make the server buffer input (bounded by the import limit);
        // anyone else runs it at once and is refused.
        if super::exec::reads_stdin(&line)
            && self.principal.as_ref().is_some_and(|p| p.may_administer())
        {
            match self.channels.get_mut(&channel) {
                Some(chan) if chan.writer.is_some() && chan.stdin.is_none() => {
                    chan.stdin = Some((line, Vec::new()));
                    session.channel_success(channel)?;
                }
                _ => session.channel_failure(channel)?,
            }
            return Ok(());
        }
        Ok(self.spawn_task(channel, Some(line), session)?)
    }

    async fn data(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some((_, buf)) = self
            .channels
            .get_mut(&channel)
            .and_then(|c| c.stdin.as_mut())
        {
            // One byte over the limit is kept so the import can say the input is too large.
            let room = (crate::config::MAX_IMPORT_BYTES as usize + 1).saturating_sub(buf.len());
            buf.extend_from_slice(&data[..data.len().min(room)]);
            return Ok(());
        }
        if let Some(tx) = self.channels.get(&channel).and_then(|c| c.input.as_ref())
            && let Err(mpsc::error::TrySendError::Full(_)) =
                tx.try_send(Input::Data(Bytes::copy_from_slice(data)))
        {
            // Never block the connection on a busy session: the input queue is bounded
            // and a session that does not drain it loses the excess. Reported at most once
            // a second: a client must not be able to flood the log. (A session that has
            // ended drops its input silently.)
            if self
                .dropped_warned
                .is_none_or(|t| t.elapsed() >= Duration::from_secs(1))
            {
                self.dropped_warned = Some(Instant::now());
                tracing::warn!(peer = %self.peer, "input dropped: session input queue full");
            }
        }
        Ok(())
    }

    async fn channel_eof(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some((line, data)) = self.channels.get_mut(&channel).and_then(|c| c.stdin.take()) {
            if !self.spawn_task_with(channel, Some(line), Some(data), session.handle())? {
                session.close(channel)?;
            }
            return Ok(());
        }
        if let Some(tx) = self.channels.get(&channel).and_then(|c| c.input.as_ref()) {
            let _ = tx.try_send(Input::Eof);
        }
        Ok(())
    }

    async fn channel_close(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(chan) = self.channels.remove(&channel)
            && let Some(t) = chan.task
        {
            t.abort();
        }
        Ok(())
    }
}

/// Terminal dimensions as the client reports them, bounded to something drawable; 0 means
/// the client does not know (no local terminal), so assume the classic size.
fn clamp_dim(v: u32, unknown: u16) -> u16 {
    if v == 0 { unknown } else { v.min(1000) as u16 }
}

#[cfg(test)]
mod tests;
