//! End-to-end SSH helpers: an in-process server on a fresh test database, and a russh
//! client that logs in with a key or password+TOTP, runs exec commands and reads a PTY
//! screen through a `vt100` parser.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU16;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use packtrack::auth::login::Authenticator;
use packtrack::auth::{password, pubkey, totp};
use packtrack::db::Database;
use packtrack::db::unscoped::Admin;
use packtrack::domain::Role;
use packtrack::metrics::Metrics;
use packtrack::secrets::SecretsKey;
use packtrack::ssh::limits::Limits;
use packtrack::ssh::server::{self, ServerHandle};
use russh::client::{self, AuthResult, KeyboardInteractiveAuthResponse};
use russh::keys::{
    Algorithm, PrivateKey, PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate,
};
use russh::{Channel, ChannelMsg, MethodKind};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use super::support::fresh_db;

/// Upper bound for one step of a test (a login, a screen, a command); never a measurement.
pub const STEP: Duration = Duration::from_secs(10);

/// The sequence that gives the terminal its main screen back (end of `term::LEAVE`).
pub const LEAVE_TAIL: &str = "\x1b[?1049l";

/// Limits that keep the tests fast: short rejection delay and pre-auth deadline.
pub fn test_limits() -> Limits {
    Limits {
        auth_rejection: Duration::from_millis(200),
        pre_auth: Duration::from_secs(2),
        ..Limits::default()
    }
}

pub fn new_key() -> PrivateKey {
    PrivateKey::random(&mut russh::keys::key::safe_rng(), Algorithm::Ed25519).expect("ed25519 key")
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// A password user's credentials.
pub struct Creds {
    pub password: String,
    pub totp_secret: Vec<u8>,
}

impl Creds {
    /// The code an authenticator app shows now.
    pub fn code(&self) -> String {
        totp::code_at(&self.totp_secret, unix_now())
    }

    /// A well-formed code that is valid for none of the accepted time steps.
    pub fn wrong_code(&self) -> String {
        let now = unix_now();
        let valid: Vec<String> = [now - 60, now - 30, now, now + 30, now + 60]
            .iter()
            .map(|&t| totp::code_at(&self.totp_secret, t))
            .collect();
        (0..1_000_000u32)
            .map(|n| format!("{:06}", (n * 7919 + 123_457) % 1_000_000))
            .find(|c| !valid.contains(c))
            .expect("some code is wrong")
    }
}

/// An in-process server on 127.0.0.1:0 against a fresh test database.
pub struct TestServer {
    pub db: Database,
    pub secrets: SecretsKey,
    pub limits: Limits,
    handle: Option<ServerHandle>,
}

impl TestServer {
    pub async fn start(limits: Limits) -> Self {
        let db = fresh_db().await;
        let secrets = SecretsKey::from_bytes(&[7u8; 32]);
        let app = db.app(4).await.expect("app pool");
        let auth = Authenticator::new(app, secrets.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let handle =
            server::start(listener, auth, new_key(), limits.clone()).expect("server starts");
        Self {
            db,
            secrets,
            limits,
            handle: Some(handle),
        }
    }

    pub fn handle(&self) -> &ServerHandle {
        self.handle.as_ref().expect("server still running")
    }

    /// The handle, to shut the server down (which consumes it).
    pub fn take_handle(&mut self) -> ServerHandle {
        self.handle.take().expect("server still running")
    }

    pub fn addr(&self) -> SocketAddr {
        self.handle().addr
    }

    pub fn metrics(&self) -> &Metrics {
        &self.handle().metrics
    }

    pub async fn facility(&self, slug: &str, name: &str) {
        let owner = self.db.owner_pool().await.expect("owner pool");
        Admin::new(&owner)
            .create_facility(slug, name)
            .await
            .expect("create facility");
        owner.close().await;
    }

    /// Adds `login` (created when new) as `role` of `slug`, without a password.
    pub async fn member(&self, login: &str, slug: &str, role: Role) {
        let owner = self.db.owner_pool().await.expect("owner pool");
        Admin::new(&owner)
            .add_user(login, login, slug, role, None)
            .await
            .expect("add user");
        owner.close().await;
    }

    /// Registers a new kiosk device named `name` in `slug` and sets `pin_login`'s kiosk PIN
    /// to 4711; returns the device's private key.
    pub async fn kiosk_device(&self, slug: &str, name: &str, pin_login: &str) -> Arc<PrivateKey> {
        let key = Arc::new(new_key());
        let owner = self.db.owner_pool().await.expect("owner pool");
        let admin = Admin::new(&owner);
        let line = key.public_key().to_openssh().expect("line");
        admin
            .add_device(slug, name, &pubkey::parse_line(&line).expect("key"))
            .await
            .expect("device");
        admin
            .set_pin(pin_login, &password::hash("4711".into()).await)
            .await
            .expect("pin");
        owner.close().await;
        key
    }

    /// Registers a new Ed25519 key for `login` and returns its private half.
    pub async fn add_key(&self, login: &str) -> Arc<PrivateKey> {
        let key = new_key();
        let line = key.public_key().to_openssh().expect("openssh line");
        self.register_key_line(login, &line).await;
        Arc::new(key)
    }

    pub async fn register_key_line(&self, login: &str, line: &str) {
        let info = pubkey::parse_line(line).expect("valid key line");
        let owner = self.db.owner_pool().await.expect("owner pool");
        Admin::new(&owner)
            .add_key(login, &info)
            .await
            .expect("add key");
        owner.close().await;
    }

    /// A member of `slug` with one registered key.
    pub async fn key_user(&self, login: &str, slug: &str, role: Role) -> Arc<PrivateKey> {
        self.member(login, slug, role).await;
        self.add_key(login).await
    }

    /// A member of `slug` with a password and an enrolled TOTP secret.
    pub async fn password_user(&self, login: &str, slug: &str, role: Role) -> Creds {
        let creds = Creds {
            password: format!("{login}-correct horse battery"),
            totp_secret: totp::new_secret(),
        };
        let hash = password::hash(creds.password.clone()).await;
        let owner = self.db.owner_pool().await.expect("owner pool");
        let admin = Admin::new(&owner);
        admin
            .add_user(login, login, slug, role, Some(hash))
            .await
            .expect("add user");
        let secret = creds.totp_secret.clone();
        let secrets = self.secrets.clone();
        admin
            .set_totp(login, |uid| {
                secrets.seal(&format!("user:{}", uid.0), &secret)
            })
            .await
            .expect("set totp");
        owner.close().await;
        creds
    }

    /// One SQL statement as the owner (behind the application's back).
    pub async fn owner_sql(&self, sql: &'static str, login: &str) {
        let owner = self.db.owner_pool().await.expect("owner pool");
        sqlx::query(sql)
            .bind(login)
            .execute(&owner)
            .await
            .expect("owner sql");
        owner.close().await;
    }

    /// Failed logins recorded for `login` (lockout bookkeeping).
    pub async fn failures_recorded(&self, login: &str) -> i64 {
        let owner = self.db.owner_pool().await.expect("owner pool");
        let n = sqlx::query_scalar("SELECT count(*) FROM login_failures WHERE login = $1")
            .bind(login)
            .fetch_one(&owner)
            .await
            .expect("count failures");
        owner.close().await;
        n
    }

    pub async fn connect(&self) -> Client {
        Client::connect(self.addr(), self.handle().host_key.clone()).await
    }

    /// A connected client logged in with `key` as `user`, or a panic.
    pub async fn login_key(&self, user: &str, key: &Arc<PrivateKey>) -> Client {
        let mut c = self.connect().await;
        let r = c.pubkey(user, key.clone()).await;
        assert!(r.success(), "key login as {user} failed: {r:?}");
        c
    }

    /// Waits until `cond` holds (polling), or panics with `what`.
    pub async fn eventually(&self, what: &str, cond: impl Fn(&ServerHandle) -> bool) {
        let deadline = Instant::now() + STEP;
        while !cond(self.handle()) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The client side handler: accepts exactly the server's host key.
pub struct Pinned {
    host_key: PublicKey,
}

impl Pinned {
    pub fn new(host_key: PublicKey) -> Self {
        Self { host_key }
    }
}

impl client::Handler for Pinned {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        server_public_key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(match server_public_key {
            PublicKeyOrCertificate::PublicKey { key, .. } => {
                key.key_data() == self.host_key.key_data()
            }
            PublicKeyOrCertificate::Certificate(_) => false,
        })
    }
}

/// What an exec command produced.
#[derive(Debug, Default)]
pub struct ExecOut {
    pub stdout: String,
    pub stderr: String,
    pub status: Option<u32>,
}

/// A russh client connection.
pub struct Client {
    pub handle: client::Handle<Pinned>,
}

impl Client {
    pub async fn connect(addr: SocketAddr, host_key: PublicKey) -> Self {
        let config = Arc::new(client::Config {
            inactivity_timeout: Some(Duration::from_secs(60)),
            ..Default::default()
        });
        let handle = tokio::time::timeout(STEP, client::connect(config, addr, Pinned { host_key }))
            .await
            .expect("connect timed out")
            .expect("ssh handshake");
        Self { handle }
    }

    /// Like [`Client::connect`], from another loopback source address (`127.0.0.2` …), as a
    /// second office would connect.
    pub async fn connect_from(addr: SocketAddr, host_key: PublicKey, source: IpAddr) -> Self {
        let config = Arc::new(client::Config {
            inactivity_timeout: Some(Duration::from_secs(60)),
            ..Default::default()
        });
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket
            .bind(SocketAddr::new(source, 0))
            .expect("bind source address");
        let stream = socket.connect(addr).await.expect("tcp connect");
        let handle = tokio::time::timeout(
            STEP,
            client::connect_stream(config, stream, Pinned { host_key }),
        )
        .await
        .expect("connect timed out")
        .expect("ssh handshake");
        Self { handle }
    }

    /// Publickey authentication with a signature (russh probes, then signs on PK_OK).
    pub async fn pubkey(&mut self, user: &str, key: Arc<PrivateKey>) -> AuthResult {
        let hash = self
            .handle
            .best_supported_rsa_hash()
            .await
            .expect("rsa hash query")
            .flatten();
        tokio::time::timeout(
            STEP,
            self.handle
                .authenticate_publickey(user, PrivateKeyWithHashAlg::new(key, hash)),
        )
        .await
        .expect("publickey auth timed out")
        .expect("publickey auth")
    }

    /// Keyboard-interactive: answers `Password: ` and `Verification code: `. Returns the
    /// final reply and the prompts seen, as (text, echo).
    pub async fn kbd(
        &mut self,
        user: &str,
        password: &str,
        code: &str,
    ) -> (KeyboardInteractiveAuthResponse, Vec<(String, bool)>) {
        tokio::time::timeout(STEP, self.kbd_inner(user, password, code))
            .await
            .expect("keyboard-interactive timed out")
    }

    async fn kbd_inner(
        &mut self,
        user: &str,
        password: &str,
        code: &str,
    ) -> (KeyboardInteractiveAuthResponse, Vec<(String, bool)>) {
        let mut seen = Vec::new();
        let mut resp = self
            .handle
            .authenticate_keyboard_interactive_start(user, None)
            .await
            .expect("keyboard-interactive start");
        for _ in 0..5 {
            let KeyboardInteractiveAuthResponse::InfoRequest { ref prompts, .. } = resp else {
                return (resp, seen);
            };
            let answers = prompts
                .iter()
                .map(|p| {
                    seen.push((p.prompt.clone(), p.echo));
                    match p.prompt.as_str() {
                        "Password: " => password.to_string(),
                        "Verification code: " => code.to_string(),
                        other => panic!("unexpected prompt {other:?}"),
                    }
                })
                .collect();
            resp = self
                .handle
                .authenticate_keyboard_interactive_respond(answers)
                .await
                .expect("keyboard-interactive respond");
        }
        panic!("too many keyboard-interactive rounds: {seen:?}")
    }

    /// Runs one exec command and collects its output until the server closes the channel.
    pub async fn exec(&self, command: &str) -> ExecOut {
        let mut ch = self
            .handle
            .channel_open_session()
            .await
            .expect("open session channel");
        ch.exec(true, command).await.expect("exec request");
        let mut out = ExecOut::default();
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        tokio::time::timeout(STEP, async {
            while let Some(msg) = ch.wait().await {
                match msg {
                    ChannelMsg::Data { data } => stdout.extend_from_slice(&data),
                    ChannelMsg::ExtendedData { data, ext: 1 } => stderr.extend_from_slice(&data),
                    ChannelMsg::ExitStatus { exit_status } => out.status = Some(exit_status),
                    _ => {}
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("exec {command:?} did not finish"));
        out.stdout = String::from_utf8(stdout).expect("utf-8 stdout");
        out.stderr = String::from_utf8(stderr).expect("utf-8 stderr");
        out
    }

    /// A shell request without a PTY (`ssh -T host`): what came back, as for an exec.
    pub async fn shell_without_pty(&self) -> ExecOut {
        let mut ch = self
            .handle
            .channel_open_session()
            .await
            .expect("open session channel");
        ch.request_shell(true).await.expect("shell request");
        let mut out = ExecOut::default();
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        tokio::time::timeout(STEP, async {
            while let Some(msg) = ch.wait().await {
                match msg {
                    ChannelMsg::Data { data } => stdout.extend_from_slice(&data),
                    ChannelMsg::ExtendedData { data, ext: 1 } => stderr.extend_from_slice(&data),
                    ChannelMsg::ExitStatus { exit_status } => out.status = Some(exit_status),
                    _ => {}
                }
            }
        })
        .await
        .expect("a shell without a PTY did not end");
        out.stdout = String::from_utf8(stdout).expect("utf-8 stdout");
        out.stderr = String::from_utf8(stderr).expect("utf-8 stderr");
        out
    }

    /// Opens a channel with a PTY of `cols`×`rows` and starts the shell.
    pub async fn shell(&self, cols: u16, rows: u16) -> Shell {
        let ch = self
            .handle
            .channel_open_session()
            .await
            .expect("open session channel");
        ch.request_pty(true, "xterm-256color", cols.into(), rows.into(), 0, 0, &[])
            .await
            .expect("pty request");
        ch.request_shell(true).await.expect("shell request");
        Shell {
            ch,
            parser: vt100::Parser::new(nz(rows), nz(cols), 0),
            raw: Vec::new(),
            exit: None,
            closed: false,
        }
    }
}

fn nz(v: u16) -> NonZeroU16 {
    NonZeroU16::new(v).expect("non-zero terminal size")
}

/// A PTY session seen through a terminal emulator.
pub struct Shell {
    ch: Channel<client::Msg>,
    pub parser: vt100::Parser,
    /// Every byte the server sent, in order.
    pub raw: Vec<u8>,
    pub exit: Option<u32>,
    /// The server closed the channel.
    pub closed: bool,
}

impl Shell {
    pub fn screen(&self) -> &vt100::Screen {
        self.parser.screen()
    }

    /// The screen's rows, joined with newlines.
    pub fn text(&self) -> String {
        self.screen().contents()
    }

    /// The screen's rows joined with spaces: text that wraps still reads as words.
    pub fn flat(&self) -> String {
        let cols = self.screen().size().1.get();
        self.screen().rows(0, cols).collect::<Vec<_>>().join(" ")
    }

    pub fn cell(&self, row: u16, col: u16) -> String {
        self.screen()
            .cell(row, col)
            .map(|c| c.contents().to_string())
            .unwrap_or_default()
    }

    pub fn raw_text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }

    fn apply(&mut self, msg: ChannelMsg) {
        match msg {
            ChannelMsg::Data { data } => {
                self.raw.extend_from_slice(&data);
                self.parser.process(&data);
            }
            ChannelMsg::ExitStatus { exit_status } => self.exit = Some(exit_status),
            _ => {}
        }
    }

    /// Reads output until `cond` holds; panics (showing the screen) after [`STEP`].
    pub async fn wait_for(&mut self, what: &str, cond: impl Fn(&Shell) -> bool) {
        let deadline = tokio::time::Instant::now() + STEP;
        while !cond(self) {
            if self.closed {
                panic!(
                    "channel closed while waiting for {what}; screen:\n{}",
                    self.text()
                );
            }
            match tokio::time::timeout_at(deadline, self.ch.wait()).await {
                Ok(Some(msg)) => self.apply(msg),
                Ok(None) => self.closed = true,
                Err(_) => panic!("timed out waiting for {what}; screen:\n{}", self.text()),
            }
        }
    }

    /// Waits for the screen to contain `text`.
    pub async fn wait_text(&mut self, text: &str) {
        let t = text.to_string();
        self.wait_for(&format!("{text:?} on screen"), move |s| {
            s.flat().contains(&t)
        })
        .await;
    }

    /// Reads until the server closes the channel; panics when that takes longer than
    /// `limit`.
    pub async fn wait_closed(&mut self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while !self.closed {
            match tokio::time::timeout_at(deadline, self.ch.wait()).await {
                Ok(Some(msg)) => self.apply(msg),
                Ok(None) => self.closed = true,
                Err(_) => panic!(
                    "channel still open after {limit:?}; screen:\n{}",
                    self.text()
                ),
            }
        }
    }

    pub async fn send(&self, bytes: &[u8]) {
        self.ch.data(bytes).await.expect("send input");
    }

    /// Resizes the client terminal: the emulator and the server's view.
    pub async fn resize(&mut self, cols: u16, rows: u16) {
        self.parser.set_size(nz(rows), nz(cols));
        self.ch
            .window_change(cols.into(), rows.into(), 0, 0)
            .await
            .expect("window change");
    }

    pub async fn eof(&self) {
        self.ch.eof().await.expect("send eof");
    }
}

/// Whether a failed authentication looks like every other failure: not partial, and
/// offering exactly publickey and keyboard-interactive.
pub fn plain_failure(methods: &russh::MethodSet, partial: bool) -> bool {
    !partial && methods[..] == [MethodKind::PublicKey, MethodKind::KeyboardInteractive]
}

/// Reads from a raw TCP connection until EOF (or reset); returns the bytes and when the
/// connection ended. Panics when it is still open after `limit`.
pub async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (Vec<u8>, Instant) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (got, Instant::now()),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => panic!(
                "connection still open after {limit:?}; received {:?}",
                String::from_utf8_lossy(&got)
            ),
        }
    }
}
