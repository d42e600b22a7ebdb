//! Notification delivery against real receivers on 127.0.0.1 started by each test: a
//! minimal SMTP server (enough of RFC 5321 for lettre, no STARTTLS) and a minimal HTTP/1.1
//! server for the SMS API and webhooks, each of which can fail, hang or go away.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Timelike, Utc};
use packtrack::db::Database;
use packtrack::db::packages::Handover;
use packtrack::db::recipients::{self, NewRecipient};
use packtrack::db::unscoped::Admin;
use packtrack::domain::{Principal, Role};
use packtrack::notify::sign;
use packtrack::notify::worker::{self, RunStats, Worker, WorkerConfig};
use packtrack::ops::{IntakeRequest, Ops};
use packtrack::secrets::SecretsKey;
use serde_json::Value;
use sqlx::PgPool;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio::task::AbortHandle;

use crate::support::{fresh_db, member};

const WEBHOOK_SECRET: &[u8] = b"whsec-0123456789abcdef";
const SMS_TOKEN: &str = "sms-token-5550101";
const SMTP_PASSWORD: &str = "smtp-pass-word";
const EMAIL: &str = "ada@example.org";
const PHONE: &str = "+15550101234";

// ---------------------------------------------------------------------------------------
// Receivers
// ---------------------------------------------------------------------------------------

/// A listener on a fixed loopback address that can be closed and opened again.
fn listen(addr: SocketAddr) -> TcpListener {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_reuseaddr(true).expect("SO_REUSEADDR");
    socket.bind(addr).expect("bind receiver");
    socket.listen(128).expect("listen")
}

/// The tasks of a receiver: the accept loop and one per connection, all aborted on stop
/// (which closes their sockets: the next connect is refused).
#[derive(Default)]
struct Tasks(Mutex<Vec<AbortHandle>>);

impl Tasks {
    fn add(&self, h: AbortHandle) {
        self.0.lock().unwrap().push(h);
    }
    fn abort_all(&self) {
        for h in self.0.lock().unwrap().drain(..) {
            h.abort();
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Ok,
    Fail,
    /// Accept, read the request, answer nothing until the mode changes.
    Hang,
}

#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) path: String,
    headers: HashMap<String, String>,
    pub(crate) body: Vec<u8>,
    status: u16,
}

impl Request {
    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(String::as_str)
            .unwrap_or_default()
    }
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

struct HttpState {
    mode: watch::Sender<Mode>,
    requests: Mutex<Vec<Request>>,
    connections: AtomicUsize,
    hanging: AtomicUsize,
    tasks: Tasks,
}

/// A minimal HTTP/1.1 server (keep-alive, Content-Length bodies) that records requests.
pub(crate) struct HttpReceiver {
    addr: SocketAddr,
    state: Arc<HttpState>,
}

impl HttpReceiver {
    pub(crate) async fn start() -> Self {
        let listener = listen("127.0.0.1:0".parse().unwrap());
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(HttpState {
            mode: watch::channel(Mode::Ok).0,
            requests: Mutex::default(),
            connections: AtomicUsize::new(0),
            hanging: AtomicUsize::new(0),
            tasks: Tasks::default(),
        });
        let r = Self { addr, state };
        r.serve(listener);
        r
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn serve(&self, listener: TcpListener) {
        let state = self.state.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                state.connections.fetch_add(1, Ordering::SeqCst);
                let st = state.clone();
                let conn = tokio::spawn(async move {
                    let _ = http_conn(stream, st).await;
                });
                state.tasks.add(conn.abort_handle());
            }
        });
        self.state.tasks.add(accept.abort_handle());
    }

    pub(crate) fn set_mode(&self, mode: Mode) {
        self.state.mode.send_replace(mode);
    }

    /// Closes the port and every open connection; returns once connecting is refused.
    async fn stop(&self) {
        self.state.tasks.abort_all();
        for _ in 0..500 {
            if TcpStream::connect(self.addr).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("receiver on {} did not stop", self.addr);
    }

    /// Listens again on the same port.
    async fn restart(&self) {
        self.stop().await;
        self.serve(listen(self.addr));
    }

    /// Connections accepted so far.
    pub(crate) fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    pub(crate) fn requests(&self) -> Vec<Request> {
        self.state.requests.lock().unwrap().clone()
    }

    /// Requests answered with a 2xx on `path`.
    fn accepted(&self, path: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path && (200..300).contains(&r.status))
            .collect()
    }
}

async fn http_conn(stream: TcpStream, state: Arc<HttpState>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
        let mut headers = HashMap::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).await? == 0 {
                return Ok(());
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        reader.read_exact(&mut body).await?;
        let mut mode_rx = state.mode.subscribe();
        let mut mode = *mode_rx.borrow_and_update();
        if mode == Mode::Hang {
            state.hanging.fetch_add(1, Ordering::SeqCst);
            mode = *mode_rx
                .wait_for(|m| *m != Mode::Hang)
                .await
                .map_err(|_| std::io::Error::other("receiver gone"))?;
            state.hanging.fetch_sub(1, Ordering::SeqCst);
        }
        let (status, answer): (u16, &[u8]) = match mode {
            Mode::Fail => (
                500,
                b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 4\r\n\r\nboom",
            ),
            _ => (200, b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"),
        };
        state.requests.lock().unwrap().push(Request {
            path,
            headers,
            body,
            status,
        });
        reader.get_mut().write_all(answer).await?;
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Mail {
    pub(crate) from: String,
    pub(crate) rcpt: Vec<String>,
    pub(crate) auth: Option<String>,
    pub(crate) data: String,
}

struct SmtpState {
    hang: watch::Sender<bool>,
    mails: Mutex<Vec<Mail>>,
    connections: AtomicUsize,
    hanging: AtomicUsize,
    tasks: Tasks,
}

/// A minimal SMTP server: 220, EHLO (8BITMIME, AUTH PLAIN LOGIN, no STARTTLS), AUTH PLAIN,
/// MAIL, RCPT, DATA, RSET, NOOP, QUIT. With `hang` set it accepts and never greets.
pub(crate) struct SmtpReceiver {
    addr: SocketAddr,
    state: Arc<SmtpState>,
}

impl SmtpReceiver {
    pub(crate) async fn start() -> Self {
        let listener = listen("127.0.0.1:0".parse().unwrap());
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(SmtpState {
            hang: watch::channel(false).0,
            mails: Mutex::default(),
            connections: AtomicUsize::new(0),
            hanging: AtomicUsize::new(0),
            tasks: Tasks::default(),
        });
        let st = state.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                st.connections.fetch_add(1, Ordering::SeqCst);
                let s = st.clone();
                let conn = tokio::spawn(async move {
                    let _ = smtp_conn(stream, s).await;
                });
                st.tasks.add(conn.abort_handle());
            }
        });
        state.tasks.add(accept.abort_handle());
        Self { addr, state }
    }

    pub(crate) fn url(&self) -> String {
        // Plain SMTP (this receiver offers no STARTTLS): only when the URL says so.
        format!("smtp://{}?tls=none", self.addr)
    }

    pub(crate) fn mails(&self) -> Vec<Mail> {
        self.state.mails.lock().unwrap().clone()
    }

    /// Connections accepted so far.
    pub(crate) fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    fn set_hang(&self, hang: bool) {
        self.state.hang.send_replace(hang);
    }
}

impl Drop for SmtpReceiver {
    fn drop(&mut self) {
        self.state.tasks.abort_all();
    }
}

impl Drop for HttpReceiver {
    fn drop(&mut self) {
        self.state.tasks.abort_all();
    }
}

async fn smtp_conn(stream: TcpStream, state: Arc<SmtpState>) -> std::io::Result<()> {
    let mut rx = state.hang.subscribe();
    if *rx.borrow_and_update() {
        state.hanging.fetch_add(1, Ordering::SeqCst);
        rx.wait_for(|h| !*h)
            .await
            .map_err(|_| std::io::Error::other("receiver gone"))?;
        state.hanging.fetch_sub(1, Ordering::SeqCst);
    }
    let mut reader = BufReader::new(stream);
    reader
        .get_mut()
        .write_all(b"220 receiver.test ESMTP\r\n")
        .await?;
    let mut mail = Mail {
        from: String::new(),
        rcpt: Vec::new(),
        auth: None,
        data: String::new(),
    };
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_string();
        let upper = cmd.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-receiver.test\r\n250-8BITMIME\r\n250-AUTH PLAIN LOGIN\r\n250 SIZE 10000000\r\n"
        } else if upper.starts_with("HELO") {
            b"250 receiver.test\r\n"
        } else if upper.starts_with("AUTH PLAIN") {
            let mut token = cmd["AUTH PLAIN".len()..].trim().to_string();
            if token.is_empty() {
                reader.get_mut().write_all(b"334 \r\n").await?;
                reader.read_line(&mut token).await?;
            }
            mail.auth = Some(token.trim().to_string());
            b"235 2.7.0 accepted\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            mail.from = cmd[10..].trim().to_string();
            b"250 2.1.0 ok\r\n"
        } else if upper.starts_with("RCPT TO:") {
            mail.rcpt.push(cmd[8..].trim().to_string());
            b"250 2.1.5 ok\r\n"
        } else if upper == "DATA" {
            reader
                .get_mut()
                .write_all(b"354 end with <CRLF>.<CRLF>\r\n")
                .await?;
            let mut data = String::new();
            loop {
                let mut l = String::new();
                if reader.read_line(&mut l).await? == 0 {
                    return Ok(());
                }
                if l == ".\r\n" {
                    break;
                }
                data.push_str(l.strip_prefix('.').unwrap_or(&l));
            }
            mail.data = data;
            state.mails.lock().unwrap().push(mail.clone());
            mail.rcpt.clear();
            b"250 2.0.0 queued\r\n"
        } else if upper == "RSET" || upper == "NOOP" {
            b"250 2.0.0 ok\r\n"
        } else if upper == "QUIT" {
            reader.get_mut().write_all(b"221 2.0.0 bye\r\n").await?;
            return Ok(());
        } else {
            b"502 5.5.2 not implemented\r\n"
        };
        reader.get_mut().write_all(reply).await?;
    }
}

/// Undoes quoted-printable soft line breaks and `=3D` (enough for the assertions).
fn unqp(s: &str) -> String {
    s.replace("=\r\n", "").replace("=3D", "=")
}

fn base64(input: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Fixture: a facility with one recipient, integrations pointing at the receivers
// ---------------------------------------------------------------------------------------

struct Fixture {
    _db: Database,
    owner: PgPool,
    keys: SecretsKey,
    ops: Ops,
    clerk: Principal,
    recipient: i64,
}

impl Fixture {
    async fn new() -> Self {
        let db = fresh_db().await;
        let clerk = member(&db, "north", "clerk", Role::Operator).await;
        let owner = db.owner_pool().await.expect("owner pool");
        let mut tx = Admin::new(&owner).tenant("north").await.expect("tenant");
        recipients::upsert(
            &mut tx,
            &NewRecipient {
                name: "Ada Lovelace".into(),
                unit: "A-101".into(),
                email: Some(EMAIL.into()),
                phone: Some(PHONE.into()),
                aliases: vec![],
            },
        )
        .await
        .expect("recipient");
        tx.commit().await.expect("commit");
        let recipient: i64 = sqlx::query_scalar(
            "UPDATE recipients SET notify_sms = true WHERE name = 'Ada Lovelace' RETURNING id",
        )
        .fetch_one(&owner)
        .await
        .unwrap();
        let ops = Ops::new(db.app(4).await.expect("app pool"));
        Self {
            _db: db,
            owner,
            keys: SecretsKey::from_bytes(&[7u8; 32]),
            ops,
            clerk,
            recipient,
        }
    }

    fn seal(&self, facility: packtrack::domain::FacilityId, secret: &[u8]) -> Vec<u8> {
        self.keys.seal(&format!("facility:{}", facility.0), secret)
    }

    /// SMTP with a user name and a sealed password.
    async fn smtp(&self, url: &str) {
        Admin::new(&self.owner)
            .set_smtp(
                "north",
                url,
                "North Mailroom <mail@north.example>",
                Some("mailer"),
                |f| Some(self.seal(f, SMTP_PASSWORD.as_bytes())),
            )
            .await
            .expect("smtp set");
    }

    async fn webhook(&self, url: &str) -> i64 {
        Admin::new(&self.owner)
            .add_webhook("north", url, false, |f| self.seal(f, WEBHOOK_SECRET))
            .await
            .expect("webhook add")
    }

    /// The SMS API with a sealed token, as `admin sms set --token-stdin` configures it.
    async fn sms(&self, url: &str) {
        Admin::new(&self.owner)
            .set_sms("north", url, url, |f| {
                Some(self.seal(f, SMS_TOKEN.as_bytes()))
            })
            .await
            .expect("sms set");
    }

    async fn intake(&self, tracking: &str) -> packtrack::db::packages::Package {
        self.ops
            .intake(
                &self.clerk,
                &IntakeRequest {
                    tracking: tracking.into(),
                    recipient_id: Some(self.recipient),
                    location: "Shelf B".into(),
                    ..Default::default()
                },
            )
            .await
            .expect("intake")
            .package
    }

    async fn rows(&self) -> Vec<OutboxRow> {
        sqlx::query_as(
            "SELECT id, delivery_id::text AS delivery_id, channel, event, status, attempts, \
                    next_attempt_at, last_error, delivered_at, now() AS db_now \
             FROM outbox ORDER BY id",
        )
        .fetch_all(&self.owner)
        .await
        .unwrap()
    }

    async fn row(&self) -> OutboxRow {
        let rows = self.rows().await;
        assert_eq!(rows.len(), 1, "{rows:#?}");
        rows.into_iter().next().unwrap()
    }

    async fn db_now(&self) -> DateTime<Utc> {
        sqlx::query_scalar("SELECT now()")
            .fetch_one(&self.owner)
            .await
            .unwrap()
    }

    /// Makes every pending row due now (instead of sleeping through the backoff).
    async fn make_due(&self) {
        sqlx::query("UPDATE outbox SET next_attempt_at = now() WHERE status = 'pending'")
            .execute(&self.owner)
            .await
            .unwrap();
    }

    async fn run(&self, cfg: &WorkerConfig) -> RunStats {
        worker::run_once(&self.owner, &self.keys, cfg)
            .await
            .expect("worker round")
    }

    async fn integration(&self, kind: &str) -> IntegrationRow {
        sqlx::query_as(
            "SELECT last_error, last_error_at, last_success_at FROM integrations \
             WHERE kind = $1 ORDER BY id LIMIT 1",
        )
        .bind(kind)
        .fetch_one(&self.owner)
        .await
        .unwrap()
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct OutboxRow {
    #[allow(dead_code)]
    id: i64,
    delivery_id: String,
    channel: String,
    event: String,
    status: String,
    attempts: i32,
    next_attempt_at: DateTime<Utc>,
    last_error: Option<String>,
    delivered_at: Option<DateTime<Utc>>,
    db_now: DateTime<Utc>,
}

#[derive(Debug, sqlx::FromRow)]
struct IntegrationRow {
    last_error: Option<String>,
    last_error_at: Option<DateTime<Utc>>,
    last_success_at: Option<DateTime<Utc>>,
}

/// Quick retries, and the receivers' loopback allowed (as `serve
/// --notify-allow-private 127.0.0.0/8` would): by default nothing non-public is reached.
fn quick() -> WorkerConfig {
    WorkerConfig {
        base_backoff: Duration::from_millis(10),
        delivery_timeout: Duration::from_secs(20),
        egress: loopback(),
        ..WorkerConfig::default()
    }
}

fn loopback() -> packtrack::notify::egress::Egress {
    packtrack::notify::egress::Egress::allowing("127.0.0.0/8".parse().unwrap())
}

/// Polls `check` every 20 ms; panics with `what` after 30 s (a hang guard, not a timing
/// assertion).
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..1500 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for: {what}");
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

/// Intake queues one row per channel; one round delivers each exactly once: an e-mail with
/// plain-text and HTML parts (authenticated with the opened secret), an SMS with the bearer
/// token, a signed webhook without contact details. A second round sends nothing.
#[tokio::test]
async fn intake_notifications_are_delivered_once_on_every_channel() {
    let fx = Fixture::new().await;
    let smtp = SmtpReceiver::start().await;
    let http = HttpReceiver::start().await;
    fx.smtp(&smtp.url()).await;
    fx.sms(&http.url("/sms")).await;
    fx.webhook(&http.url("/hook")).await;

    let pkg = fx.intake("1Z999AA10123456784").await;
    let code = pkg.pickup_code.clone().expect("pickup code");
    let rows = fx.rows().await;
    assert_eq!(rows.len(), 3, "{rows:#?}");
    assert!(
        rows.iter()
            .all(|r| r.status == "pending" && r.event == "intake")
    );
    assert!(smtp.mails().is_empty() && http.requests().is_empty());

    let stats = fx.run(&quick()).await;
    assert_eq!((stats.claimed, stats.delivered), (3, 3), "{stats:?}");

    // E-mail.
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1, "{mails:#?}");
    let mail = &mails[0];
    assert_eq!(mail.from, "<mail@north.example>");
    assert_eq!(mail.rcpt, vec![format!("<{EMAIL}>")]);
    assert_eq!(
        mail.auth.as_deref(),
        Some(base64(format!("\0mailer\0{SMTP_PASSWORD}").as_bytes()).as_str()),
        "AUTH PLAIN with the user name and the opened password"
    );
    let data = &unqp(&mail.data);
    assert!(
        data.contains("Subject: A parcel is waiting for you"),
        "{data}"
    );
    let to = data
        .lines()
        .find(|l| l.starts_with("To: "))
        .expect("To header");
    assert!(
        to.contains("Ada Lovelace") && to.contains("<ada@example.org>"),
        "{to}"
    );
    assert!(data.contains("multipart/alternative"), "{data}");
    assert!(data.contains("Content-Type: text/plain"), "{data}");
    assert!(data.contains("Content-Type: text/html"), "{data}");
    assert!(
        data.matches(code.as_str()).count() >= 2,
        "code in both parts: {data}"
    );
    assert!(data.contains("UPS") && data.contains("Shelf B"), "{data}");
    let email_row = rows.iter().find(|r| r.channel == "email").unwrap();
    assert!(
        data.contains(&format!(
            "Message-ID: <{}@north.example>",
            email_row.delivery_id
        )),
        "{data}"
    );

    // SMS.
    let sms = http.accepted("/sms");
    assert_eq!(sms.len(), 1);
    assert_eq!(
        sms[0].header("authorization"),
        format!("Bearer {SMS_TOKEN}")
    );
    let body = sms[0].json();
    assert_eq!(body["to"], PHONE);
    let text = body["message"].as_str().unwrap();
    assert!(text.contains(&code) && text.contains("UPS"), "{text}");

    // Webhook.
    let hooks = http.accepted("/hook");
    assert_eq!(hooks.len(), 1);
    let hook = &hooks[0];
    let hook_row = rows.iter().find(|r| r.channel == "webhook").unwrap();
    assert_eq!(hook.header("x-packtrack-delivery"), hook_row.delivery_id);
    assert!(hook.header("content-type").starts_with("application/json"));
    let ts = hook.header("x-packtrack-timestamp");
    let now = Utc::now().timestamp();
    sign::verify(
        WEBHOOK_SECRET,
        ts,
        &hook.body,
        hook.header("x-packtrack-signature"),
        now,
    )
    .expect("signature verifies");
    let body = hook.json();
    assert_eq!(body["delivery_id"], hook_row.delivery_id.as_str());
    assert_eq!(body["event"], "intake");
    assert_eq!(body["facility"], "north");
    assert_eq!(body["package"]["id"], pkg.id);
    assert_eq!(body["package"]["tracking"], "1Z999AA10123456784");
    assert_eq!(body["recipient"]["id"], fx.recipient);
    assert_eq!(body["recipient"]["name"], "Ada Lovelace");
    assert_eq!(body["recipient"]["unit"], "A-101");
    let raw = String::from_utf8(hook.body.clone()).unwrap();
    assert!(!raw.contains(EMAIL) && !raw.contains(PHONE), "{raw}");

    for r in fx.rows().await {
        assert_eq!(r.status, "delivered", "{r:?}");
        assert_eq!(r.attempts, 1);
        assert!(r.delivered_at.is_some() && r.last_error.is_none());
    }
    for kind in ["smtp", "sms", "webhook"] {
        let i = fx.integration(kind).await;
        assert!(
            i.last_success_at.is_some() && i.last_error.is_none(),
            "{kind}: {i:?}"
        );
    }

    // Nothing is sent twice.
    let again = fx.run(&quick()).await;
    assert_eq!(again.claimed, 0);
    assert_eq!(smtp.mails().len(), 1);
    assert_eq!(http.requests().len(), 2);

    // Pickup: a receipt on every channel.
    fx.ops
        .pickup(
            &fx.clerk,
            &[pkg.id],
            &Handover {
                receiver: "Ada Lovelace".into(),
                proxy: false,
            },
        )
        .await
        .expect("pickup");
    let stats = fx.run(&quick()).await;
    assert_eq!(stats.delivered, 3, "{stats:?}");
    let mails = smtp.mails();
    assert_eq!(mails.len(), 2);
    assert!(mails[1].data.contains("Subject: Your parcel was picked up"));
    let hooks = http.accepted("/hook");
    assert_eq!(hooks[1].json()["event"], "pickup");
    assert_eq!(hooks[1].json()["package"]["status"], "picked_up");
}

/// Receiver down: the attempt counts, the row moves out with exponential backoff (with
/// jitter, between half and all of `base · 2^(n-1)`), the error is kept on the row and the
/// integration; once the receiver answers 2xx the row is delivered, with the same delivery
/// id on every attempt.
#[tokio::test]
async fn receiver_down_is_retried_with_backoff_and_delivered_when_back() {
    let fx = Fixture::new().await;
    let http = HttpReceiver::start().await;
    fx.webhook(&http.url("/hook")).await;
    http.stop().await;
    fx.intake("TBA000000000101").await;
    let cfg = WorkerConfig {
        base_backoff: Duration::from_secs(40),
        ..quick()
    };

    let before = fx.db_now().await;
    let stats = fx.run(&cfg).await;
    assert_eq!((stats.claimed, stats.retried), (1, 1), "{stats:?}");
    let r = fx.row().await;
    assert_eq!((r.status.as_str(), r.attempts), ("pending", 1));
    assert!(
        r.next_attempt_at >= before + chrono::Duration::seconds(20),
        "{r:?}"
    );
    assert!(
        r.next_attempt_at <= r.db_now + chrono::Duration::seconds(40),
        "{r:?}"
    );
    let err = r.last_error.clone().unwrap_or_default();
    assert!(err.contains("cannot connect"), "{err}");
    let i = fx.integration("webhook").await;
    assert_eq!(i.last_error.as_deref(), Some(err.as_str()));
    assert!(i.last_error_at.is_some() && i.last_success_at.is_none());

    // Not due yet: a round leaves it alone.
    assert_eq!(fx.run(&cfg).await.claimed, 0);

    // Second failure: twice the delay.
    fx.make_due().await;
    let before = fx.db_now().await;
    fx.run(&cfg).await;
    let r = fx.row().await;
    assert_eq!((r.status.as_str(), r.attempts), ("pending", 2));
    assert!(
        r.next_attempt_at >= before + chrono::Duration::seconds(40),
        "{r:?}"
    );
    assert!(
        r.next_attempt_at <= r.db_now + chrono::Duration::seconds(80),
        "{r:?}"
    );

    // Back, but failing.
    http.restart().await;
    http.set_mode(Mode::Fail);
    fx.make_due().await;
    fx.run(&cfg).await;
    let r = fx.row().await;
    assert_eq!((r.status.as_str(), r.attempts), ("pending", 3));
    assert!(
        r.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("HTTP 500"),
        "{r:?}"
    );

    // Healthy.
    http.set_mode(Mode::Ok);
    fx.make_due().await;
    let stats = fx.run(&cfg).await;
    assert_eq!(stats.delivered, 1, "{stats:?}");
    let r = fx.row().await;
    assert_eq!((r.status.as_str(), r.attempts), ("delivered", 4));
    let reqs = http.requests();
    assert_eq!(reqs.len(), 2, "one 500, one 200");
    assert!(
        reqs.iter()
            .all(|q| q.header("x-packtrack-delivery") == r.delivery_id)
    );
    assert_eq!(http.accepted("/hook").len(), 1);
    let i = fx.integration("webhook").await;
    assert!(i.last_success_at.is_some());
}

/// With a receiver down every queued row fails, and every intake reads the integration:
/// its last error is rewritten only when it changes or a second has passed, not once per
/// failed row.
#[tokio::test]
async fn the_integrations_last_error_is_not_rewritten_for_every_failed_row() {
    let fx = Fixture::new().await;
    let http = HttpReceiver::start().await;
    fx.webhook(&http.url("/hook")).await;
    http.stop().await;
    for n in 0..3 {
        fx.intake(&format!("TBA00000000020{n}")).await;
    }
    let stats = fx.run(&quick()).await;
    assert_eq!(stats.retried, 3, "{stats:?}");
    let first = fx.integration("webhook").await;
    let err = first.last_error.clone().unwrap_or_default();
    assert!(err.contains("cannot connect"), "{err}");

    // As if that error had been written a moment ago (an hour ahead: no race with the
    // clock); the same error again leaves the row alone.
    sqlx::query("UPDATE integrations SET last_error_at = now() + interval '1 hour'")
        .execute(&fx.owner)
        .await
        .unwrap();
    let version = || async {
        sqlx::query_scalar::<_, String>("SELECT xmin::text FROM integrations")
            .fetch_one(&fx.owner)
            .await
            .unwrap()
    };
    let before = version().await;
    fx.make_due().await;
    assert_eq!(fx.run(&quick()).await.retried, 3);
    assert_eq!(version().await, before, "rewritten for the same error");
    let rows = fx.rows().await;
    assert!(
        rows.iter()
            .all(|r| r.attempts == 2 && r.last_error.as_deref() == Some(err.as_str()))
    );

    // A different error is written at once.
    http.restart().await;
    http.set_mode(Mode::Fail);
    fx.make_due().await;
    assert_eq!(fx.run(&quick()).await.retried, 3);
    let i = fx.integration("webhook").await;
    assert!(
        i.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("HTTP 500"),
        "{:?}",
        i.last_error
    );
    assert!(i.last_error_at.expect("set") < fx.db_now().await + chrono::Duration::minutes(1));
}

/// A receiver that keeps failing is paused for this worker: after its first failures its
/// rows stay out of the claims (no request, no attempt counted), while another
/// integration's rows go on being delivered.
#[tokio::test]
async fn a_failing_integration_is_paused_while_others_are_delivered() {
    let fx = Fixture::new().await;
    let bad = HttpReceiver::start().await;
    let good = HttpReceiver::start().await;
    bad.set_mode(Mode::Fail);
    let bad_id = fx.webhook(&bad.url("/hook")).await;
    fx.webhook(&good.url("/hook")).await;
    for n in 0..5 {
        fx.intake(&format!("TBA00000000030{n}")).await;
    }
    // Long backoffs: nothing runs out during the test.
    let cfg = WorkerConfig {
        base_backoff: Duration::from_secs(600),
        ..quick()
    };
    let mut w = Worker::new(fx.owner.clone(), fx.keys.clone(), cfg).expect("worker");
    let s = w.run_once().await.expect("round");
    assert_eq!((s.claimed, s.delivered, s.retried), (10, 5, 5), "{s:?}");
    assert_eq!(bad.requests().len(), 5);
    assert_eq!(w.paused(), vec![bad_id]);

    // Due again, but paused: left alone.
    fx.make_due().await;
    for _ in 0..3 {
        let s = w.run_once().await.expect("round");
        assert_eq!(s.claimed, 0, "{s:?}");
    }
    assert_eq!(bad.requests().len(), 5, "the paused receiver was contacted");
    let rows = fx.rows().await;
    assert!(
        rows.iter()
            .filter(|r| r.status == "pending")
            .all(|r| r.attempts == 1),
        "{rows:#?}"
    );

    // New parcels: the healthy webhook's rows go out, the paused one's wait.
    fx.intake("TBA000000000310").await;
    let s = w.run_once().await.expect("round");
    assert_eq!((s.claimed, s.delivered), (1, 1), "{s:?}");
    assert_eq!(good.accepted("/hook").len(), 6);

    // Another worker (another server) has its own view: it tries, and succeeds once the
    // receiver is back; its rows are then delivered.
    bad.set_mode(Mode::Ok);
    let s = fx.run(&quick()).await;
    assert_eq!(s.delivered, 6, "{s:?}");
}

/// After `max_attempts` failures a row is dead and never tried again; an e-mail to an SMTP
/// server that is not there dies the same way.
#[tokio::test]
async fn dead_lettered_after_max_attempts() {
    let fx = Fixture::new().await;
    let http = HttpReceiver::start().await;
    http.set_mode(Mode::Fail);
    fx.webhook(&http.url("/hook")).await;
    // A port with nothing listening: bind one, note it, close it.
    let closed = {
        let l = listen("127.0.0.1:0".parse().unwrap());
        l.local_addr().unwrap()
    };
    fx.smtp(&format!("smtp://{closed}?tls=none")).await;
    fx.intake("TBA000000000201").await;
    let cfg = WorkerConfig {
        max_attempts: 3,
        ..quick()
    };
    for round in 1..=3 {
        fx.make_due().await;
        let stats = fx.run(&cfg).await;
        assert_eq!(stats.claimed, 2, "round {round}: {stats:?}");
        if round < 3 {
            assert_eq!(stats.retried, 2, "round {round}: {stats:?}");
        } else {
            assert_eq!(stats.dead, 2, "round {round}: {stats:?}");
        }
    }
    for r in fx.rows().await {
        assert_eq!((r.status.as_str(), r.attempts), ("dead", 3), "{r:?}");
        assert!(r.last_error.is_some() && r.delivered_at.is_none());
    }
    assert_eq!(http.requests().len(), 3);
    fx.make_due().await;
    assert_eq!(fx.run(&cfg).await.claimed, 0);
    assert_eq!(http.requests().len(), 3);
    assert!(fx.integration("smtp").await.last_error.is_some());
}

/// Two workers (as on two servers) drain the same 100 rows concurrently: every delivery id
/// reaches the receivers exactly once.
#[tokio::test]
async fn two_workers_never_deliver_a_row_twice() {
    const PACKAGES: usize = 50;
    let fx = Fixture::new().await;
    let smtp = SmtpReceiver::start().await;
    let http = HttpReceiver::start().await;
    fx.smtp(&smtp.url()).await;
    fx.webhook(&http.url("/hook")).await;
    for i in 0..PACKAGES {
        fx.intake(&format!("TBA{:012}", 300 + i)).await;
    }
    let rows = fx.rows().await;
    assert_eq!(rows.len(), 2 * PACKAGES);

    let cfg = WorkerConfig {
        batch: 2,
        ..quick()
    };
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let tasks: Vec<_> = (0..2)
        .map(|_| {
            let (owner, keys, cfg, barrier) = (
                fx.owner.clone(),
                fx.keys.clone(),
                cfg.clone(),
                barrier.clone(),
            );
            tokio::spawn(async move {
                let mut w = Worker::new(owner, keys, cfg).expect("worker");
                barrier.wait().await;
                let mut total = RunStats::default();
                loop {
                    let s = w.run_once().await.expect("round");
                    if s.claimed == 0 {
                        return total;
                    }
                    total.claimed += s.claimed;
                    total.delivered += s.delivered;
                    total.lost += s.lost;
                }
            })
        })
        .collect();
    let mut totals = Vec::new();
    for t in tasks {
        totals.push(t.await.expect("worker task"));
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    for r in http.requests() {
        *seen
            .entry(r.header("x-packtrack-delivery").to_string())
            .or_default() += 1;
    }
    for m in smtp.mails() {
        let id = m
            .data
            .lines()
            .find_map(|l| l.strip_prefix("Message-ID: <"))
            .and_then(|l| l.split('@').next())
            .expect("Message-ID")
            .to_string();
        *seen.entry(id).or_default() += 1;
    }
    assert_eq!(seen.len(), 2 * PACKAGES, "every row delivered");
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    for r in &rows {
        assert_eq!(seen.get(&r.delivery_id), Some(&1), "{r:?}");
    }
    let claimed: u64 = totals.iter().map(|t| t.claimed).sum();
    let delivered: u64 = totals.iter().map(|t| t.delivered).sum();
    assert_eq!(claimed, 2 * PACKAGES as u64, "{totals:?}");
    assert_eq!(delivered, 2 * PACKAGES as u64, "{totals:?}");
    assert!(
        fx.rows()
            .await
            .iter()
            .all(|r| r.status == "delivered" && r.attempts == 1)
    );
}

/// The claim skips rows another worker is claiming at that moment (rows it holds locked)
/// instead of waiting for them or taking them too; they are left for a later round.
#[tokio::test]
async fn a_claim_skips_rows_another_worker_holds() {
    let fx = Fixture::new().await;
    let http = HttpReceiver::start().await;
    fx.webhook(&http.url("/hook")).await;
    for i in 0..10 {
        fx.intake(&format!("TBA{:012}", 380 + i)).await;
    }
    let mut other = fx.owner.begin().await.unwrap();
    let held: Vec<String> =
        sqlx::query_scalar("SELECT delivery_id::text FROM outbox ORDER BY id LIMIT 4 FOR UPDATE")
            .fetch_all(&mut *other)
            .await
            .unwrap();
    let stats = tokio::time::timeout(Duration::from_secs(60), fx.run(&quick()))
        .await
        .expect("the worker waited for rows another worker holds");
    assert_eq!((stats.claimed, stats.delivered), (6, 6), "{stats:?}");
    let sent: Vec<String> = http
        .requests()
        .iter()
        .map(|r| r.header("x-packtrack-delivery").to_string())
        .collect();
    assert!(
        sent.iter().all(|id| !held.contains(id)),
        "{sent:?} {held:?}"
    );
    other.rollback().await.unwrap();
    let stats = fx.run(&quick()).await;
    assert_eq!((stats.claimed, stats.delivered), (4, 4), "{stats:?}");
    assert_eq!(http.requests().len(), 10);
}

/// What a receiver checks: the signature over timestamp and body under the shared secret;
/// a changed body, a wrong secret, an old (replayed) or far-future timestamp fail.
#[tokio::test]
async fn webhook_signature_verifies_and_rejects_changes_and_replays() {
    let fx = Fixture::new().await;
    let http = HttpReceiver::start().await;
    fx.webhook(&http.url("/hook")).await;
    fx.intake("TBA000000000401").await;
    fx.run(&quick()).await;
    let hooks = http.accepted("/hook");
    assert_eq!(hooks.len(), 1);
    let h = &hooks[0];
    let (ts, sig) = (
        h.header("x-packtrack-timestamp"),
        h.header("x-packtrack-signature"),
    );
    let sent: i64 = ts.parse().expect("unix seconds");
    assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64, "{sig}");
    assert_eq!(sign::verify(WEBHOOK_SECRET, ts, &h.body, sig, sent), Ok(()));
    assert_eq!(
        sign::verify(WEBHOOK_SECRET, ts, &h.body, sig, sent + 299),
        Ok(())
    );

    let mut changed = h.body.clone();
    let at = changed.iter().position(|b| *b == b'"').unwrap();
    changed.insert(at, b' ');
    assert_eq!(
        sign::verify(WEBHOOK_SECRET, ts, &changed, sig, sent),
        Err("signature does not match")
    );
    let tampered = String::from_utf8(h.body.clone())
        .unwrap()
        .replace("TBA000000000401", "TBA000000000402");
    assert!(sign::verify(WEBHOOK_SECRET, ts, tampered.as_bytes(), sig, sent).is_err());
    assert_eq!(
        sign::verify(b"not-the-secret-at-all", ts, &h.body, sig, sent),
        Err("signature does not match")
    );
    // The same request replayed six minutes later.
    assert_eq!(
        sign::verify(WEBHOOK_SECRET, ts, &h.body, sig, sent + 360),
        Err("timestamp too old (replay?)")
    );
    // A replay with a fresh timestamp header does not match the signature.
    let fresh = (sent + 360).to_string();
    assert!(sign::verify(WEBHOOK_SECRET, &fresh, &h.body, sig, sent + 360).is_err());
    // A correctly signed but old or future timestamp.
    let old = sign::sign(WEBHOOK_SECRET, sent - 600, &h.body);
    assert!(
        sign::verify(
            WEBHOOK_SECRET,
            &(sent - 600).to_string(),
            &h.body,
            &old,
            sent
        )
        .is_err()
    );
    let future = sign::sign(WEBHOOK_SECRET, sent + 600, &h.body);
    assert_eq!(
        sign::verify(
            WEBHOOK_SECRET,
            &(sent + 600).to_string(),
            &h.body,
            &future,
            sent
        ),
        Err("timestamp in the future")
    );
}

/// With the SMTP server and the webhook receiver accepting connections but never
/// answering, and the worker stuck delivering to them, intakes still complete: they only
/// write outbox rows and open no connection. When the receivers recover, everything goes out.
#[tokio::test]
async fn intake_does_not_wait_for_hanging_receivers() {
    let fx = Fixture::new().await;
    let smtp = SmtpReceiver::start().await;
    let http = HttpReceiver::start().await;
    fx.smtp(&smtp.url()).await;
    fx.webhook(&http.url("/hook")).await;
    smtp.set_hang(true);
    http.set_mode(Mode::Hang);

    let cfg = WorkerConfig {
        poll: Duration::from_millis(20),
        delivery_timeout: Duration::from_secs(600),
        lease: Duration::from_secs(1200),
        ..quick()
    };
    let (stop, stopped) = watch::channel(false);
    let worker = tokio::spawn(worker::run(
        fx.owner.clone(),
        fx.keys.clone(),
        cfg.clone(),
        stopped,
    ));

    fx.intake("TBA000000000501").await;
    eventually("the worker hangs on both receivers", || {
        smtp.state.hanging.load(Ordering::SeqCst) == 1
            && http.state.hanging.load(Ordering::SeqCst) == 1
    })
    .await;
    let connections = (
        smtp.state.connections.load(Ordering::SeqCst),
        http.state.connections.load(Ordering::SeqCst),
    );

    for i in 0..10 {
        let tracking = format!("TBA{:012}", 510 + i);
        tokio::time::timeout(Duration::from_secs(60), fx.intake(&tracking))
            .await
            .expect("intake blocked while receivers hang");
    }
    // Both deliveries still hang, and intake opened no connection of its own.
    assert_eq!(smtp.state.hanging.load(Ordering::SeqCst), 1);
    assert_eq!(http.state.hanging.load(Ordering::SeqCst), 1);
    assert_eq!(
        (
            smtp.state.connections.load(Ordering::SeqCst),
            http.state.connections.load(Ordering::SeqCst),
        ),
        connections
    );
    let rows = fx.rows().await;
    assert_eq!(rows.len(), 22);
    assert!(rows.iter().all(|r| r.status == "pending"));
    assert_eq!(
        rows.iter().filter(|r| r.attempts == 1).count(),
        2,
        "{rows:#?}"
    );

    // Recovery: the hanging deliveries complete, the rest follow.
    smtp.set_hang(false);
    http.set_mode(Mode::Ok);
    for _ in 0..1500 {
        let pending: i64 =
            sqlx::query_scalar("SELECT count(*) FROM outbox WHERE status <> 'delivered'")
                .fetch_one(&fx.owner)
                .await
                .unwrap();
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send_replace(true);
    tokio::time::timeout(Duration::from_secs(60), worker)
        .await
        .expect("worker stops on shutdown")
        .expect("worker task");
    assert!(fx.rows().await.iter().all(|r| r.status == "delivered"));
    assert_eq!(smtp.mails().len(), 11);
    assert_eq!(http.accepted("/hook").len(), 11);
}

/// Inside the recipient's quiet hours e-mail and SMS wait until the quiet hours end,
/// without using up an attempt; webhooks are not held back.
#[tokio::test]
async fn quiet_hours_postpone_email_and_sms_without_an_attempt() {
    let fx = Fixture::new().await;
    let smtp = SmtpReceiver::start().await;
    let http = HttpReceiver::start().await;
    fx.smtp(&smtp.url()).await;
    fx.sms(&http.url("/sms")).await;
    fx.webhook(&http.url("/hook")).await;
    // A window from an hour ago to two hours ahead (UTC) holds now, whatever the minute.
    let h = fx.db_now().await.hour() as i16;
    let (start, end) = ((h + 23) % 24, (h + 2) % 24);
    sqlx::query("UPDATE recipients SET quiet_start = $1, quiet_end = $2")
        .bind(start)
        .bind(end)
        .execute(&fx.owner)
        .await
        .unwrap();
    fx.intake("TBA000000000601").await;

    let stats = fx.run(&quick()).await;
    assert_eq!(
        (stats.claimed, stats.postponed, stats.delivered),
        (3, 2, 1),
        "{stats:?}"
    );
    assert!(smtp.mails().is_empty());
    assert!(http.accepted("/sms").is_empty());
    assert_eq!(http.accepted("/hook").len(), 1);
    for r in fx.rows().await.iter().filter(|r| r.channel != "webhook") {
        assert_eq!((r.status.as_str(), r.attempts), ("pending", 0), "{r:?}");
        assert_eq!(r.next_attempt_at.hour() as i16, end, "{r:?}");
        assert_eq!(r.next_attempt_at.minute(), 0);
        assert!(r.next_attempt_at > r.db_now, "{r:?}");
    }
    assert_eq!(fx.run(&quick()).await.claimed, 0, "not due before the end");

    // Quiet hours over (the recipient changed them; the queued rows keep theirs, so
    // move the clock instead): delivered on the first attempt.
    sqlx::query(
        "UPDATE outbox SET next_attempt_at = now(), \
             payload = jsonb_set(payload, '{recipient,quiet_start}', 'null') \
         WHERE status = 'pending'",
    )
    .execute(&fx.owner)
    .await
    .unwrap();
    let stats = fx.run(&quick()).await;
    assert_eq!(stats.delivered, 2, "{stats:?}");
    assert!(fx.rows().await.iter().all(|r| r.attempts == 1));
}

/// Parcels waiting past the facility's `reminder_days` get one reminder per channel the
/// recipient wants (not webhooks) and a `reminded` custody event — once.
#[tokio::test]
async fn reminders_are_queued_once_for_parcels_waiting_too_long() {
    let fx = Fixture::new().await;
    let smtp = SmtpReceiver::start().await;
    let http = HttpReceiver::start().await;
    fx.smtp(&smtp.url()).await;
    fx.sms(&http.url("/sms")).await;
    fx.webhook(&http.url("/hook")).await;
    let old = fx.intake("TBA000000000701").await;
    let fresh = fx.intake("TBA000000000702").await;
    fx.run(&quick()).await;
    assert_eq!(smtp.mails().len(), 2);
    sqlx::query("UPDATE packages SET received_at = now() - interval '4 days' WHERE id = $1")
        .bind(old.id)
        .execute(&fx.owner)
        .await
        .unwrap();
    sqlx::query("UPDATE packages SET received_at = now() - interval '2 days' WHERE id = $1")
        .bind(fresh.id)
        .execute(&fx.owner)
        .await
        .unwrap();

    let stats = fx.run(&quick()).await;
    assert_eq!(stats.reminded, 1, "{stats:?}");
    assert_eq!(stats.delivered, 2, "e-mail and SMS: {stats:?}");
    let reminders: Vec<_> = fx
        .rows()
        .await
        .into_iter()
        .filter(|r| r.event == "reminder")
        .collect();
    let mut channels: Vec<_> = reminders.iter().map(|r| r.channel.as_str()).collect();
    channels.sort();
    assert_eq!(channels, ["email", "sms"]);
    let mails = smtp.mails();
    assert_eq!(mails.len(), 3);
    assert!(
        mails[2]
            .data
            .contains("Subject: Reminder: a parcel is still waiting for you")
    );
    assert!(unqp(&mails[2].data).contains(old.pickup_code.as_deref().unwrap()));
    let sms = http.accepted("/sms");
    assert!(
        sms.last().unwrap().json()["message"]
            .as_str()
            .unwrap()
            .contains("reminder")
    );
    let events: Vec<(i64, String)> =
        sqlx::query_as("SELECT package_id, source FROM package_events WHERE kind = 'reminded'")
            .fetch_all(&fx.owner)
            .await
            .unwrap();
    assert_eq!(events, vec![(old.id, "notify".to_string())]);

    // Once only; and a facility asking for 1 day reminds the other parcel.
    assert_eq!(fx.run(&quick()).await.reminded, 0);
    sqlx::query("UPDATE facilities SET settings = settings || '{\"reminder_days\": 1}'")
        .execute(&fx.owner)
        .await
        .unwrap();
    assert_eq!(fx.run(&quick()).await.reminded, 1);
    assert_eq!(fx.run(&quick()).await.reminded, 0);
    // 0 turns them off.
    sqlx::query("UPDATE facilities SET settings = settings || '{\"reminder_days\": 0}'")
        .execute(&fx.owner)
        .await
        .unwrap();
    sqlx::query("DELETE FROM package_events WHERE kind = 'reminded'")
        .execute(&fx.owner)
        .await
        .unwrap();
    assert_eq!(fx.run(&quick()).await.reminded, 0);
}

/// Settled rows older than the facility's retention are deleted; pending ones never are.
#[tokio::test]
async fn settled_rows_are_pruned_after_the_retention_period() {
    let fx = Fixture::new().await;
    let http = HttpReceiver::start().await;
    fx.webhook(&http.url("/hook")).await;
    for i in 0..3 {
        fx.intake(&format!("TBA{:012}", 800 + i)).await;
    }
    fx.run(&quick()).await;
    let rows = fx.rows().await;
    // One delivered 40 days ago, one dead 40 days ago, one pending from 40 days ago.
    sqlx::query("UPDATE outbox SET created_at = now() - interval '40 days'")
        .execute(&fx.owner)
        .await
        .unwrap();
    sqlx::query("UPDATE outbox SET status = 'dead' WHERE id = $1")
        .bind(rows[1].id)
        .execute(&fx.owner)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE outbox SET status = 'pending', next_attempt_at = now() + interval '1 day' \
         WHERE id = $1",
    )
    .bind(rows[2].id)
    .execute(&fx.owner)
    .await
    .unwrap();

    sqlx::query("UPDATE facilities SET settings = '{\"notification_retention_days\": 60}'")
        .execute(&fx.owner)
        .await
        .unwrap();
    assert_eq!(fx.run(&quick()).await.pruned, 0, "kept for 60 days");
    sqlx::query("UPDATE facilities SET settings = '{}'")
        .execute(&fx.owner)
        .await
        .unwrap();
    assert_eq!(fx.run(&quick()).await.pruned, 2, "default 30 days");
    let left = fx.rows().await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].status, "pending");
}

/// A disabled integration's queued rows are dead-lettered at once (an admin can retry
/// them), without contacting anyone.
#[tokio::test]
async fn a_disabled_integration_dead_letters_its_rows() {
    let fx = Fixture::new().await;
    let http = HttpReceiver::start().await;
    fx.webhook(&http.url("/hook")).await;
    fx.intake("TBA000000000901").await;
    sqlx::query("UPDATE integrations SET enabled = false")
        .execute(&fx.owner)
        .await
        .unwrap();
    let stats = fx.run(&quick()).await;
    assert_eq!(stats.dead, 1, "{stats:?}");
    let r = fx.row().await;
    assert_eq!(r.status, "dead");
    assert_eq!(r.last_error.as_deref(), Some("the integration is disabled"));
    assert!(http.requests().is_empty());
}

/// Runs `packtrack --keys-dir KEYS admin ARGS` against the fixture's database (as the
/// owner, through `DATABASE_URL`), feeding `stdin`; returns (success, stdout, stderr).
async fn cli(
    db: &Database,
    keys: &std::path::Path,
    args: &[&str],
    stdin: &str,
) -> (bool, String, String) {
    use std::process::Stdio;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_packtrack"))
        .arg("--data-dir")
        .arg(keys.join("unused-data"))
        .arg("--keys-dir")
        .arg(keys)
        .arg("admin")
        .args(args)
        .env("DATABASE_URL", db.owner_url())
        .env_remove("PACKTRACK_DATA_DIR")
        .env_remove("PACKTRACK_KEYS_DIR")
        .env("RUST_LOG", "debug")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn packtrack");
    let mut pipe = child.stdin.take().expect("stdin");
    pipe.write_all(stdin.as_bytes()).await.expect("write stdin");
    drop(pipe);
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("packtrack admin did not finish")
        .expect("wait for packtrack");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `admin sms set` configures the SMS API: the token sealed under the keys dir's key (the
/// worker opens it and sends it as a bearer token), never printed, logged or audited; the
/// URL's query (where providers put keys) stays out of the output and the audit row; a
/// second `set` replaces the first; a URL that is not http(s) is refused.
#[tokio::test]
async fn admin_sms_set_configures_the_sms_api_with_a_sealed_token() {
    let fx = Fixture::new().await;
    let http = HttpReceiver::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let keys_dir = dir.path().join("keys");
    let url = http.url("/sms?account=acme-77");

    let (ok, stdout, stderr) = cli(
        &fx._db,
        &keys_dir,
        &[
            "sms",
            "set",
            "--facility",
            "north",
            "--url",
            &url,
            "--token-stdin",
        ],
        &format!("{SMS_TOKEN}\n"),
    )
    .await;
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("sms for north"), "{stdout}");
    assert!(stdout.contains("token sealed"), "{stdout}");
    for text in [&stdout, &stderr] {
        assert!(!text.contains(SMS_TOKEN), "token shown: {text}");
        assert!(!text.contains("acme-77"), "query shown: {text}");
    }
    let sealed: Vec<u8> = sqlx::query_scalar("SELECT secret FROM integrations WHERE kind = 'sms'")
        .fetch_one(&fx.owner)
        .await
        .unwrap();
    assert!(
        !sealed
            .windows(SMS_TOKEN.len())
            .any(|w| w == SMS_TOKEN.as_bytes()),
        "stored in the clear"
    );

    // The worker, with the keys dir's key, delivers with the token.
    let keys = SecretsKey::load_or_create(&keys_dir).expect("secrets key");
    let pkg = fx.intake("1Z999AA10123456784").await;
    let code = pkg.pickup_code.clone().expect("pickup code");
    let stats = worker::run_once(&fx.owner, &keys, &quick())
        .await
        .expect("worker round");
    assert_eq!((stats.claimed, stats.delivered), (1, 1), "{stats:?}");
    let sms = http.accepted("/sms?account=acme-77");
    assert_eq!(sms.len(), 1, "{:?}", http.requests());
    assert_eq!(
        sms[0].header("authorization"),
        format!("Bearer {SMS_TOKEN}")
    );
    assert_eq!(sms[0].json()["to"], PHONE);
    assert!(sms[0].json()["message"].as_str().unwrap().contains(&code));

    // Audited without the token or the query.
    let audit: Vec<(String, String, Value)> = sqlx::query_as(
        "SELECT action, target, detail FROM audit_log WHERE action = 'integration.sms.set'",
    )
    .fetch_all(&fx.owner)
    .await
    .unwrap();
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert!(audit[0].1.contains("/sms"), "{audit:?}");
    assert!(!audit[0].1.contains("acme-77"), "{audit:?}");
    assert_eq!(audit[0].2["token_set"], true);
    assert!(!format!("{audit:?}").contains(SMS_TOKEN));

    // Replaced, now without a token: no Authorization header.
    let plain = http.url("/v2/sms");
    let (ok, stdout, stderr) = cli(
        &fx._db,
        &keys_dir,
        &["sms", "set", "--facility", "north", "--url", &plain],
        "",
    )
    .await;
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("no token"), "{stdout}");
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM integrations WHERE kind = 'sms'")
        .fetch_one(&fx.owner)
        .await
        .unwrap();
    assert_eq!(n, 1, "one SMS configuration per facility");
    fx.intake("1Z999AA10123456792").await;
    let stats = worker::run_once(&fx.owner, &keys, &quick())
        .await
        .expect("worker round");
    assert_eq!(stats.delivered, 1, "{stats:?}");
    let v2 = http.accepted("/v2/sms");
    assert_eq!(v2.len(), 1);
    assert_eq!(v2[0].header("authorization"), "");

    // Refused: not http(s), an unknown facility, an empty token.
    for (args, stdin, why) in [
        (
            vec!["--facility", "north", "--url", "ftp://127.0.0.1/sms"],
            "",
            "http",
        ),
        (
            vec!["--facility", "nowhere", "--url", plain.as_str()],
            "",
            "nowhere",
        ),
        (
            vec![
                "--facility",
                "north",
                "--url",
                plain.as_str(),
                "--token-stdin",
            ],
            "\n",
            "no token",
        ),
    ] {
        let mut all = vec!["sms", "set"];
        all.extend(args);
        let (ok, stdout, stderr) = cli(&fx._db, &keys_dir, &all, stdin).await;
        assert!(!ok, "{all:?} accepted: {stdout}");
        assert!(stderr.contains(why), "{all:?}: {stderr}");
    }
}

// ---------------------------------------------------------------------------------------
// Issue 13: what receivers get, and what they can make the worker do
// ---------------------------------------------------------------------------------------

/// Pickup codes are bearer secrets: a webhook added without `--include-pickup-code` (the
/// default, and every webhook added before the option existed) gets `pickup_code: null`;
/// one added with it gets the code.
#[tokio::test]
async fn webhook_without_the_option_never_receives_pickup_codes() {
    let fx = Fixture::new().await;
    let http = HttpReceiver::start().await;
    fx.webhook(&http.url("/plain")).await;
    packtrack::db::unscoped::Admin::new(&fx.owner)
        .add_webhook("north", &http.url("/coded"), true, |f| {
            fx.seal(f, WEBHOOK_SECRET)
        })
        .await
        .expect("webhook with codes");
    let pkg = fx.intake("1Z999AA10123456784").await;
    let code = pkg.pickup_code.clone().expect("code");
    let stats = fx.run(&quick()).await;
    assert_eq!(stats.delivered, 2, "{stats:?}");
    let plain = http.accepted("/plain");
    assert_eq!(plain[0].json()["package"]["tracking"], "1Z999AA10123456784");
    assert!(plain[0].json()["package"]["pickup_code"].is_null());
    assert!(!String::from_utf8_lossy(&plain[0].body).contains(&code));
    assert_eq!(
        http.accepted("/coded")[0].json()["package"]["pickup_code"],
        code
    );
    let detail: Value = sqlx::query_scalar(
        "SELECT detail FROM audit_log WHERE action = 'integration.webhook.add' ORDER BY seq DESC \
         LIMIT 1",
    )
    .fetch_one(&fx.owner)
    .await
    .unwrap();
    assert_eq!(detail["include_pickup_code"], true);
}

/// `smtp://HOST` means STARTTLS, required: a server that does not offer it (as this one;
/// or a network that strips the offer) gets no mail and no password, instead of both in
/// clear text as before (opportunistic for local servers and for servers without a login).
#[tokio::test]
async fn smtp_server_without_starttls_gets_no_mail_in_clear() {
    let fx = Fixture::new().await;
    let smtp = SmtpReceiver::start().await;
    fx.smtp(&format!("smtp://{}", smtp.addr)).await;
    fx.intake("1Z999AA10123456784").await;
    let stats = fx.run(&quick()).await;
    assert_eq!(stats.delivered, 0, "{stats:?}");
    assert!(smtp.mails().is_empty(), "{:?}", smtp.mails());
    let row = fx.row().await;
    assert_eq!(row.status, "pending");
    assert!(row.last_error.is_some());
}

/// `admin smtp set` checks the TLS rules up front: an unknown option is not read as plain,
/// and a password never goes in clear text to a server off this machine.
#[tokio::test]
async fn admin_smtp_set_refuses_plain_smtp_with_a_password_over_a_network() {
    let fx = Fixture::new().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let keys_dir = dir.path().join("keys");
    let set = |url: &'static str| {
        let keys_dir = keys_dir.clone();
        let db = &fx._db;
        async move {
            cli(
                db,
                &keys_dir,
                &[
                    "smtp",
                    "set",
                    "--facility",
                    "north",
                    "--url",
                    url,
                    "--from",
                    "mail@north.example",
                    "--password-stdin",
                ],
                "pw-0123456789\n",
            )
            .await
        }
    };
    let (ok, _, stderr) = set("smtp://10.0.0.1:25?tls=none").await;
    assert!(!ok && stderr.contains("tls=none"), "{stderr}");
    let (ok, _, stderr) = set("smtp://mail.example.org?tls=off").await;
    assert!(!ok && stderr.contains("tls=none"), "{stderr}");
    let (ok, _, stderr) = set("smtp://127.0.0.1:2525?tls=none").await;
    assert!(ok, "{stderr}");
}

/// An SMS or webhook endpoint answering an error with an endless body: the worker reads
/// 64 KiB of it, drops the connection and records a short error (before: it read the whole
/// body into memory until the delivery timeout).
#[tokio::test]
async fn endless_http_error_body_is_read_only_to_64_kib() {
    const TOTAL: usize = 256 * 1024 * 1024;
    let fx = Fixture::new().await;
    let listener = listen("127.0.0.1:0".parse().unwrap());
    let addr = listener.local_addr().unwrap();
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut reader = BufReader::new(stream);
        let mut len = 0usize;
        loop {
            let mut h = String::new();
            reader.read_line(&mut h).await.unwrap();
            if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
            if h.trim_end().is_empty() {
                break;
            }
        }
        let mut body = vec![0; len];
        reader.read_exact(&mut body).await.unwrap();
        let mut stream = reader.into_inner();
        let head = format!("HTTP/1.1 500 Internal Server Error\r\ncontent-length: {TOTAL}\r\n\r\n");
        stream.write_all(head.as_bytes()).await.unwrap();
        let chunk = vec![b'x'; 64 * 1024];
        while counter.load(Ordering::SeqCst) < TOTAL {
            if stream.write_all(&chunk).await.is_err() {
                return;
            }
            counter.fetch_add(chunk.len(), Ordering::SeqCst);
        }
    });
    fx.webhook(&format!("http://{addr}/hook")).await;
    fx.intake("1Z999AA10123456784").await;
    let stats = fx.run(&quick()).await;
    assert_eq!(stats.delivered, 0, "{stats:?}");
    let row = fx.row().await;
    let error = row.last_error.expect("error kept");
    assert!(error.starts_with("HTTP 500"), "{error}");
    assert!(error.chars().count() <= 301, "{error}");
    server.await.unwrap();
    // The worker hung up long before the end (what is sent counts the kernel's buffers).
    let sent = sent.load(Ordering::SeqCst);
    assert!(sent < TOTAL / 4, "the whole body was read: {sent} bytes");
}
