//! Connection limits end to end: per-IP refusal, the pre-authentication deadline, channels
//! per connection, authentication attempts per connection.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use packtrack::domain::Role;
use packtrack::ssh::limits::Limits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::ssh_support::{STEP, TestServer, new_key, read_until_closed, test_limits};

const SLUG: &str = "harbor";
const BANNER: &str = "SSH-2.0-packtrack_";

/// Connects and reads the server's identification line.
async fn raw_with_banner(s: &TestServer) -> TcpStream {
    let mut sock = TcpStream::connect(s.addr()).await.expect("tcp connect");
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while !got.contains(&b'\n') {
        let n = tokio::time::timeout(STEP, sock.read(&mut buf))
            .await
            .expect("banner in time")
            .expect("read banner");
        assert!(n > 0, "closed before the banner");
        got.extend_from_slice(&buf[..n]);
    }
    assert!(
        String::from_utf8_lossy(&got).starts_with(BANNER),
        "{:?}",
        String::from_utf8_lossy(&got)
    );
    sock
}

#[tokio::test]
async fn connections_over_the_per_ip_limit_are_refused() {
    let s = TestServer::start(Limits {
        max_per_ip: 2,
        pre_auth: Duration::from_secs(20),
        ..test_limits()
    })
    .await;
    let first = raw_with_banner(&s).await;
    let _second = raw_with_banner(&s).await;
    assert_eq!(s.handle().connections(), 2);

    // The third is closed before any SSH bytes: a clean EOF, not a hang.
    let mut third = TcpStream::connect(s.addr()).await.expect("tcp connect");
    let (got, _) = read_until_closed(&mut third, STEP).await;
    assert!(got.is_empty(), "refused connection got {got:?}");
    assert_eq!(s.metrics().refused.load(Ordering::Relaxed), 1);
    assert_eq!(s.handle().connections(), 2);

    // A real client is refused too (no banner, no handshake).
    let cfg = Arc::new(russh::client::Config::default());
    let host_key = s.handle().host_key.clone();
    let r = tokio::time::timeout(
        STEP,
        russh::client::connect(cfg, s.addr(), super::ssh_support::Pinned::new(host_key)),
    )
    .await
    .expect("refusal in time");
    assert!(r.is_err(), "an SSH handshake over the limit succeeded");

    // Freeing a slot lets the next one in.
    drop(first);
    s.eventually("the slot to be freed", |h| h.connections() == 1)
        .await;
    let _again = raw_with_banner(&s).await;
    assert_eq!(s.handle().connections(), 2);
}

/// Silent or slow clients are closed at the pre-authentication deadline, counted from
/// the TCP connection, and give their slot back.
#[tokio::test]
async fn silent_connections_are_closed_at_the_pre_auth_deadline() {
    let limits = test_limits();
    let deadline = limits.pre_auth;
    let s = TestServer::start(limits).await;
    s.facility(SLUG, "Harbor Street Mailroom").await;
    let key = s.key_user("clerk", SLUG, Role::Operator).await;
    // Generous: the server may spend a moment on a polite disconnect first.
    let limit = deadline + Duration::from_secs(3);

    let addr = s.addr();
    let host_key = s.handle().host_key.clone();

    // Sends nothing at all.
    let silent = async {
        let t = Instant::now();
        let mut sock = TcpStream::connect(addr).await.expect("connect");
        let (got, end) = read_until_closed(&mut sock, limit).await;
        assert!(String::from_utf8_lossy(&got).starts_with(BANNER));
        end - t
    };
    // Sends its identification, then nothing (stuck in key exchange).
    let banner_only = async {
        let t = Instant::now();
        let mut sock = TcpStream::connect(addr).await.expect("connect");
        sock.write_all(b"SSH-2.0-OpenSSH_9.2\r\n")
            .await
            .expect("write");
        let (_, end) = read_until_closed(&mut sock, limit).await;
        end - t
    };
    // Dawdles over its identification: the deadline is not restarted by it.
    let slow_banner = async {
        let t = Instant::now();
        let mut sock = TcpStream::connect(addr).await.expect("connect");
        tokio::time::sleep(deadline - Duration::from_millis(300)).await;
        let _ = sock.write_all(b"SSH-2.0-OpenSSH_9.2\r\n").await;
        let (_, end) = read_until_closed(&mut sock, limit).await;
        end - t
    };
    // Completes the handshake but never authenticates (and then fails once).
    let no_auth = async {
        let t = Instant::now();
        let mut c = super::ssh_support::Client::connect(addr, host_key).await;
        assert!(!c.pubkey("clerk", Arc::new(new_key())).await.success());
        while !c.handle.is_closed() {
            assert!(
                t.elapsed() < limit,
                "unauthenticated client still connected"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        t.elapsed()
    };
    // Authenticated in time: the deadline does not apply.
    let authed = async {
        let c = s.login_key(&format!("clerk+{SLUG}"), &key).await;
        tokio::time::sleep(limit).await;
        assert!(!c.handle.is_closed(), "an authenticated client was cut off");
        assert_eq!(c.exec("whoami").await.status, Some(0));
        c.handle
            .disconnect(russh::Disconnect::ByApplication, "done", "en")
            .await
            .expect("disconnect");
    };
    let (silent, banner_only, slow_banner, no_auth, ()) =
        tokio::join!(silent, banner_only, slow_banner, no_auth, authed);
    println!(
        "closed after: silent {silent:?}, banner only {banner_only:?}, \
         slow banner {slow_banner:?}, no auth {no_auth:?}"
    );
    for (what, t) in [
        ("silent", silent),
        ("banner only", banner_only),
        ("slow banner", slow_banner),
        ("no auth", no_auth),
    ] {
        assert!(
            t >= deadline - Duration::from_millis(100),
            "{what}: closed after {t:?}, before the deadline"
        );
        assert!(t < limit, "{what}: closed after {t:?}");
    }
    // Every slot is back (the authenticated client was dropped by now too).
    s.eventually("all slots freed", |h| h.connections() == 0)
        .await;
}

#[tokio::test]
async fn channels_per_connection_are_limited() {
    let s = TestServer::start(Limits {
        max_channels: 2,
        ..test_limits()
    })
    .await;
    s.facility(SLUG, "Harbor Street Mailroom").await;
    let key = s.key_user("clerk", SLUG, Role::Operator).await;
    let c = s.login_key(&format!("clerk+{SLUG}"), &key).await;

    let first = c
        .handle
        .channel_open_session()
        .await
        .expect("first channel");
    let _second = c
        .handle
        .channel_open_session()
        .await
        .expect("second channel");
    let third = tokio::time::timeout(STEP, c.handle.channel_open_session())
        .await
        .expect("answer in time");
    assert!(third.is_err(), "a third channel was opened");

    // A finished command frees its channel.
    first.exec(true, "whoami").await.expect("exec");
    let mut first = first;
    tokio::time::timeout(STEP, async { while first.wait().await.is_some() {} })
        .await
        .expect("command finishes");
    let out = c.exec("whoami").await;
    assert_eq!(out.stdout, format!("clerk {SLUG} operator\n"));
}

#[tokio::test]
async fn authentication_attempts_per_connection_are_limited() {
    // Six rejections take over a second; keep the pre-auth deadline out of the way.
    let limits = Limits {
        pre_auth: Duration::from_secs(20),
        ..test_limits()
    };
    let max = limits.max_auth_attempts;
    let s = TestServer::start(limits).await;
    s.facility(SLUG, "Harbor Street Mailroom").await;
    let key = s.key_user("clerk", SLUG, Role::Operator).await;
    let user = format!("clerk+{SLUG}");

    let mut c = s.connect().await;
    for i in 0..max {
        let r = c.pubkey(&user, Arc::new(new_key())).await;
        assert!(!r.success(), "attempt {i}");
    }
    // The next attempt, even with the right key, ends the connection.
    let hash = None;
    let r = tokio::time::timeout(
        STEP,
        c.handle.authenticate_publickey(
            &user,
            russh::keys::PrivateKeyWithHashAlg::new(key.clone(), hash),
        ),
    )
    .await
    .expect("answer in time");
    assert!(
        !matches!(r, Ok(ref a) if a.success()),
        "logged in after {max} failures: {r:?}"
    );
    s.eventually("the connection to be closed", |h| h.connections() == 0)
        .await;
    // Key probes are not password guesses: the login is not locked.
    let c = s.login_key(&user, &key).await;
    assert_eq!(c.exec("whoami").await.status, Some(0));
}
