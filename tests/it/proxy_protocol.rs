//! Behind a load balancer (issue 17): a real server with `--proxy-protocol-from`, russh clients
//! behind a tiny in-test proxy that writes a v1 or v2 header and relays; the address in the
//! header is the one the limits and the lockout bookkeeping see. Headers from anyone else,
//! a trusted address without one, and headers with the protocol off are all refused.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use clap::Parser;
use packtrack::auth::login::Authenticator;
use packtrack::db::Database;
use packtrack::db::unscoped::Admin;
use packtrack::domain::Role;
use packtrack::secrets::SecretsKey;
use packtrack::ssh::limits::Limits;
use packtrack::ssh::server::{self, ServerHandle, TrustedProxies};
use russh::keys::PrivateKey;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpSocket, TcpStream};

use super::ssh_support::{Client, STEP, new_key, read_until_closed, test_limits};
use super::support::fresh_db;

const SLUG: &str = "harbor";
const CLIENT_V4: &str = "203.0.113.7:51234";
const CLIENT_V6: &str = "[2001:db8::7]:40000";
const SSH_ID: &[u8] = b"SSH-2.0-OpenSSH_10.0\r\n";

/// A server on 127.0.0.1 whose only trusted proxy (when `trusted`) is 127.0.0.1.
struct Node {
    db: Database,
    handle: ServerHandle,
}

impl Node {
    async fn start(trusted: Option<&str>, limits: Limits) -> Self {
        let db = fresh_db().await;
        let app = db.app(4).await.expect("app pool");
        let auth = Authenticator::new(app, SecretsKey::from_bytes(&[7u8; 32]));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let proxy = trusted.map(|t| t.parse::<TrustedProxies>().expect("trusted list"));
        let handle = server::start_with(listener, auth, new_key(), limits, proxy).expect("server");
        Self { db, handle }
    }

    fn addr(&self) -> SocketAddr {
        self.handle.addr
    }

    async fn key_user(&self, login: &str) -> Arc<PrivateKey> {
        let owner = self.db.owner_pool().await.expect("owner pool");
        let admin = Admin::new(&owner);
        admin
            .create_facility(SLUG, "Harbor")
            .await
            .expect("facility");
        admin
            .add_user(login, login, SLUG, Role::Operator, None)
            .await
            .expect("user");
        let key = new_key();
        let line = key.public_key().to_openssh().expect("openssh line");
        let info = packtrack::auth::pubkey::parse_line(&line).expect("key line");
        admin.add_key(login, &info).await.expect("add key");
        owner.close().await;
        Arc::new(key)
    }

    /// The peer addresses the lockout bookkeeping recorded, oldest first.
    async fn failure_peers(&self) -> Vec<String> {
        let owner = self.db.owner_pool().await.expect("owner pool");
        let peers = sqlx::query_scalar("SELECT peer FROM login_failures ORDER BY id")
            .fetch_all(&owner)
            .await
            .expect("failures");
        owner.close().await;
        peers
    }

    async fn client_via(&self, proxy: SocketAddr) -> Client {
        Client::connect(proxy, self.handle.host_key.clone()).await
    }

    /// A russh handshake through `proxy` fails (in time, without hanging).
    async fn handshake_fails_via(&self, proxy: SocketAddr) {
        let cfg = Arc::new(russh::client::Config::default());
        let pinned = super::ssh_support::Pinned::new(self.handle.host_key.clone());
        let r = tokio::time::timeout(STEP, russh::client::connect(cfg, proxy, pinned))
            .await
            .expect("refusal in time");
        assert!(r.is_err(), "the SSH handshake succeeded");
    }
}

fn v1(client: &str) -> Vec<u8> {
    let client: SocketAddr = client.parse().expect("addr");
    let family = if client.is_ipv4() { "TCP4" } else { "TCP6" };
    let to = if client.is_ipv4() {
        "10.0.0.5"
    } else {
        "2001:db8::1"
    };
    format!(
        "PROXY {family} {} {to} {} 2222\r\n",
        client.ip(),
        client.port()
    )
    .into_bytes()
}

fn v2(command: ppp::v2::Command, client: &str) -> Vec<u8> {
    let from: SocketAddr = client.parse().expect("addr");
    let to: SocketAddr = if from.is_ipv4() {
        "10.0.0.5:2222"
    } else {
        "[2001:db8::1]:2222"
    }
    .parse()
    .expect("addr");
    ppp::v2::Builder::with_addresses(
        ppp::v2::Version::Two as u8 | command as u8,
        ppp::v2::Protocol::Stream,
        (from, to),
    )
    // Cloud load balancers add TLVs (an endpoint id): they must not get in the way.
    .write_tlv(ppp::v2::Type::NoOp, b"vpce-0123456789")
    .expect("tlv")
    .build()
    .expect("v2 header")
}

/// A one-purpose load balancer on 127.0.0.1: every connection it accepts is relayed to
/// `server` from `source`, after `header`.
async fn proxy(server: SocketAddr, source: IpAddr, header: Vec<u8>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
    let addr = listener.local_addr().expect("proxy addr");
    tokio::spawn(async move {
        while let Ok((mut down, _)) = listener.accept().await {
            let header = header.clone();
            tokio::spawn(async move {
                let mut up = connect_from(server, source).await;
                if up.write_all(&header).await.is_ok() {
                    let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
                }
            });
        }
    });
    addr
}

async fn connect_from(server: SocketAddr, source: IpAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::new(source, 0))
        .expect("bind source");
    socket.connect(server).await.expect("tcp connect")
}

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// Another loopback address, not in the trusted list.
const STRANGER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

#[tokio::test]
async fn clients_behind_the_proxy_log_in_with_v1_and_v2_headers() {
    let node = Node::start(Some("10.0.0.0/8,127.0.0.1"), test_limits()).await;
    let key = node.key_user("alice").await;
    for header in [
        v1(CLIENT_V4),
        v1(CLIENT_V6),
        v2(ppp::v2::Command::Proxy, CLIENT_V4),
        v2(ppp::v2::Command::Proxy, CLIENT_V6),
        // The balancer's own health check: accepted, as the proxy's own connection.
        v2(ppp::v2::Command::Local, CLIENT_V4),
        b"PROXY UNKNOWN\r\n".to_vec(),
    ] {
        let via = proxy(node.addr(), LOCALHOST, header.clone()).await;
        let mut c = node.client_via(via).await;
        let r = c.pubkey(&format!("alice+{SLUG}"), key.clone()).await;
        assert!(
            r.success(),
            "login behind {:?}",
            String::from_utf8_lossy(&header)
        );
        let out = c.exec("whoami").await;
        assert_eq!(out.stdout.trim(), "alice harbor operator");
    }
}

/// The lockout bookkeeping (and the log line beside it) names the client, not the proxy.
#[tokio::test]
async fn failed_logins_count_against_the_address_in_the_header() {
    let node = Node::start(Some("127.0.0.1"), test_limits()).await;
    for header in [v1(CLIENT_V4), v2(ppp::v2::Command::Proxy, CLIENT_V6)] {
        let via = proxy(node.addr(), LOCALHOST, header).await;
        let mut c = node.client_via(via).await;
        let (resp, _) = c.kbd("ghost", "not the password", "123456").await;
        assert!(
            matches!(
                resp,
                russh::client::KeyboardInteractiveAuthResponse::Failure { .. }
            ),
            "{resp:?}"
        );
    }
    assert_eq!(node.failure_peers().await, ["203.0.113.7", "2001:db8::7"]);
}

/// The per-address cap on unauthenticated connections counts the client the header names:
/// two clients behind one balancer do not share it, one client cannot exceed it.
#[tokio::test]
async fn the_per_address_startup_cap_counts_the_address_in_the_header() {
    let node = Node::start(
        Some("127.0.0.1"),
        Limits {
            max_startups_per_ip: 1,
            pre_auth: Duration::from_secs(20),
            ..test_limits()
        },
    )
    .await;
    let held = header_then_banner(&node, &v1(CLIENT_V4)).await;
    assert!(held.is_some(), "the first connection got no banner");
    assert_eq!(node.handle.connections(), 1);
    // The same client again, through the other header version: over its cap.
    let refused = header_then_banner(&node, &v2(ppp::v2::Command::Proxy, CLIENT_V4)).await;
    assert!(
        refused.is_none(),
        "the client's second connection was let in"
    );
    assert_eq!(node.handle.metrics.refused.load(Ordering::Relaxed), 1);
    // Another client behind the same balancer is not affected.
    let other = header_then_banner(&node, &v1("198.51.100.9:1000")).await;
    assert!(other.is_some(), "another client was refused");
    assert_eq!(node.handle.connections(), 2);
}

/// Writes `header` from 127.0.0.1 and waits for the server's identification: `Some` with the
/// open stream, or `None` when the server closed without one.
async fn header_then_banner(node: &Node, header: &[u8]) -> Option<TcpStream> {
    use tokio::io::AsyncReadExt;
    let mut s = connect_from(node.addr(), LOCALHOST).await;
    s.write_all(header).await.expect("write header");
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while !got.contains(&b'\n') {
        let n = tokio::time::timeout(STEP, s.read(&mut buf))
            .await
            .expect("an answer in time")
            .unwrap_or(0);
        if n == 0 {
            return None;
        }
        got.extend_from_slice(&buf[..n]);
    }
    assert!(got.starts_with(b"SSH-2.0-packtrack_"), "{got:?}");
    Some(s)
}

#[tokio::test]
async fn untrusted_peer_cannot_spoof_its_address_with_a_proxy_header() {
    let node = Node::start(Some("127.0.0.1"), test_limits()).await;
    let key = node.key_user("alice").await;
    for header in [v1(CLIENT_V4), v2(ppp::v2::Command::Proxy, CLIENT_V4)] {
        // A real client behind a relay the server does not trust.
        let via = proxy(node.addr(), STRANGER, header.clone()).await;
        node.handshake_fails_via(via).await;
        // On the wire: cut after the header, however it is split.
        let mut s = connect_from(node.addr(), STRANGER).await;
        let (first, rest) = header.split_at(3);
        s.write_all(first).await.expect("write");
        tokio::time::sleep(Duration::from_millis(50)).await;
        s.write_all(rest).await.expect("write");
        let _ = s.write_all(SSH_ID).await;
        // Closed (read_until_closed fails the test otherwise).
        read_until_closed(&mut s, STEP).await;
    }
    let deadline = tokio::time::Instant::now() + STEP;
    while node.handle.connections() > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "refused connections linger"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The same peer without a header is an ordinary client.
    let mut c = Client::connect_from(node.addr(), node.handle.host_key.clone(), STRANGER).await;
    assert!(c.pubkey(&format!("alice+{SLUG}"), key).await.success());
    assert!(node.failure_peers().await.is_empty());
}

#[tokio::test]
async fn a_direct_connection_from_a_trusted_address_without_a_header_is_refused() {
    let node = Node::start(Some("127.0.0.1"), test_limits()).await;
    node.key_user("alice").await;
    // Straight to the node, skipping the balancer: SSH bytes where the header should be.
    let cfg = Arc::new(russh::client::Config::default());
    let pinned = super::ssh_support::Pinned::new(node.handle.host_key.clone());
    let r = tokio::time::timeout(STEP, russh::client::connect(cfg, node.addr(), pinned))
        .await
        .expect("refusal in time");
    assert!(r.is_err(), "a headerless connection got an SSH session");
    // Nothing at all, not even the identification line: refused before any SSH byte.
    let mut s = connect_from(node.addr(), LOCALHOST).await;
    s.write_all(SSH_ID).await.expect("write");
    let (got, _) = read_until_closed(&mut s, STEP).await;
    assert!(got.is_empty(), "got {got:?}");
    // A malformed header is no better.
    let mut s = connect_from(node.addr(), LOCALHOST).await;
    s.write_all(b"PROXY TCP4 203.0.113.7 oops\r\n")
        .await
        .expect("write");
    let (got, _) = read_until_closed(&mut s, STEP).await;
    assert!(got.is_empty(), "got {got:?}");
    assert_eq!(node.handle.metrics.refused.load(Ordering::Relaxed), 3);
}

#[tokio::test]
async fn with_the_protocol_off_a_header_is_just_garbage() {
    let node = Node::start(None, test_limits()).await;
    for header in [v1(CLIENT_V4), v2(ppp::v2::Command::Proxy, CLIENT_V4)] {
        let via = proxy(node.addr(), LOCALHOST, header).await;
        node.handshake_fails_via(via).await;
    }
    assert!(node.failure_peers().await.is_empty());
}

#[test]
fn serve_takes_a_list_of_trusted_proxies() {
    let ok = packtrack::cli::Cli::try_parse_from([
        "packtrack",
        "serve",
        "--proxy-protocol-from",
        "10.0.0.0/8,127.0.0.1,fd00::/8",
    ]);
    assert!(ok.is_ok(), "{:?}", ok.err());
    for bad in ["10.0.0.0/33", "lb.example.org", ""] {
        let r = packtrack::cli::Cli::try_parse_from([
            "packtrack",
            "serve",
            "--proxy-protocol-from",
            bad,
        ]);
        assert!(r.is_err(), "{bad:?} accepted");
    }
}
