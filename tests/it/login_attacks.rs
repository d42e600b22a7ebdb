//! Attacks on login and lockout (issue 13, items 2–4), over real SSH. Each test is named
//! for what it stops.

use std::net::IpAddr;
use std::time::Duration;

use packtrack::auth::login::Device;
use packtrack::db::kiosk;
use packtrack::domain::Role;
use packtrack::ssh::limits::Limits;
use russh::client::{AuthResult, KeyboardInteractiveAuthResponse as Kbd};
use tokio::net::TcpStream;

use super::kiosk_self_service::{kiosk_setup, waiting};
use super::ssh_support::{Client, TestServer, plain_failure, read_until_closed, test_limits};

const SLUG: &str = "harbor";

async fn server() -> TestServer {
    let s = TestServer::start(test_limits()).await;
    s.facility(SLUG, "Harbor Street Mailroom").await;
    s
}

fn kbd_failed(r: &Kbd) -> bool {
    match r {
        Kbd::Failure {
            remaining_methods,
            partial_success,
        } => plain_failure(remaining_methods, *partial_success),
        _ => false,
    }
}

fn succeeded(r: &AuthResult) -> bool {
    matches!(r, AuthResult::Success)
}

/// Five wrong passwords for `admin` (anyone can type them) used to refuse the owner's own
/// key for 15 minutes, again and again.
#[tokio::test]
async fn password_guesses_for_admin_do_not_lock_out_the_admins_key() {
    let s = server().await;
    let creds = s.password_user("admin", SLUG, Role::Admin).await;
    let key = s.add_key("admin").await;
    let user = format!("admin+{SLUG}");
    for i in 0..6 {
        let mut c = s.connect().await;
        let (r, _) = c.kbd(&user, "a guess", "000000").await;
        assert!(kbd_failed(&r), "guess {i}: {r:?}");
    }
    assert_eq!(s.failures_recorded("admin").await, 5, "locked after five");
    // Password+TOTP is locked, even with the right answers …
    let mut c = s.connect().await;
    let (r, _) = c.kbd(&user, &creds.password, &creds.code()).await;
    assert!(
        kbd_failed(&r),
        "the locked method let the right password in: {r:?}"
    );
    // … the key is not, from the very same address.
    let c = s.login_key(&user, &key).await;
    let out = c.exec("whoami").await;
    assert_eq!(out.stdout, format!("admin {SLUG} admin\n"), "{out:?}");
}

/// One office address (a building behind one NAT) that collected the per-address failure
/// limit keeps its key logins; password logins from other addresses are untouched.
#[tokio::test]
async fn an_address_lock_does_not_block_key_logins_from_the_same_office() {
    let s = server().await;
    let key = s.key_user("clerk", SLUG, Role::Operator).await;
    let creds = s.password_user("night", SLUG, Role::Operator).await;
    s.owner_sql(
        "INSERT INTO login_failures (login, peer, reason) \
         SELECT 'guess' || g, $1, 'wrong password' FROM generate_series(1, 30) g",
        "127.0.0.1",
    )
    .await;
    let c = s.login_key(&format!("clerk+{SLUG}"), &key).await;
    assert_eq!(
        c.exec("whoami").await.stdout,
        format!("clerk {SLUG} operator\n")
    );
    // Password+TOTP from the locked address is refused …
    let mut c = s.connect().await;
    let (r, _) = c
        .kbd(&format!("night+{SLUG}"), &creds.password, &creds.code())
        .await;
    assert!(kbd_failed(&r), "{r:?}");
    // … and works from another one.
    let other: IpAddr = "127.0.0.2".parse().unwrap();
    let mut c = Client::connect_from(s.addr(), s.handle().host_key.clone(), other).await;
    let (r, _) = c
        .kbd(&format!("night+{SLUG}"), &creds.password, &creds.code())
        .await;
    assert!(matches!(r, Kbd::Success), "{r:?}");
}

/// A person who proved who they are but named no facility (and has two), or one they are
/// not in, is told which logins work; none of it counts as a failed login. Nor does a
/// verification code typed twice within its step.
#[tokio::test]
async fn honest_mistakes_are_explained_and_never_count_towards_lockout() {
    let s = server().await;
    s.facility("north", "North Hall").await;
    let creds = s.password_user("dave", SLUG, Role::Operator).await;
    s.member("dave", "north", Role::Viewer).await;
    let key = s.add_key("dave").await;

    for (user, hint) in [
        (
            "dave",
            "dave belongs to several facilities; log in as dave+harbor or dave+north",
        ),
        (
            "dave+south",
            "dave is not a member of that facility; log in as dave+harbor or dave+north",
        ),
    ] {
        let mut c = s.connect().await;
        let r = c.pubkey(user, key.clone()).await;
        assert!(succeeded(&r), "{user}: {r:?}");
        let out = c.exec("whoami").await;
        assert_eq!(out.stdout, "", "{user} got a session: {out:?}");
        assert_eq!(out.stderr, format!("packtrack: {hint}\n"), "{user}");
        assert_eq!(out.status, Some(1));
    }

    // The same with password+TOTP; the code is not spent on the hint …
    let code = creds.code();
    let mut c = s.connect().await;
    let (r, _) = c.kbd("dave", &creds.password, &code).await;
    assert!(matches!(r, Kbd::Success), "{r:?}");
    let out = c.exec("whoami").await;
    assert!(
        out.stderr.contains("log in as dave+harbor or dave+north"),
        "{out:?}"
    );
    // … so it logs in with the facility named.
    let mut c = s.connect().await;
    let (r, _) = c.kbd(&format!("dave+{SLUG}"), &creds.password, &code).await;
    assert!(matches!(r, Kbd::Success), "{r:?}");
    // Typed again within its step: refused, but not a guess.
    let mut c = s.connect().await;
    let (r, _) = c.kbd(&format!("dave+{SLUG}"), &creds.password, &code).await;
    assert!(kbd_failed(&r), "a code was accepted twice: {r:?}");

    assert_eq!(
        s.failures_recorded("dave").await,
        0,
        "honest mistakes counted"
    );
}

/// `pickup-code:device:N` was the name under which a kiosk's wrong pickup codes were
/// counted: five keyboard-interactive attempts with that user name locked self-service
/// pickup on the device for everyone.
#[tokio::test]
async fn ssh_login_names_cannot_lock_a_kiosks_self_service_pickup() {
    let s = TestServer::start(test_limits()).await;
    let _key = kiosk_setup(&s, true).await;
    let codes = waiting(&s, "Ada Lovelace", &["1Z5R89390357567127"]).await;
    let owner = s.db.owner_pool().await.expect("owner");
    let (facility, id): (i64, i64) = sqlx::query_as("SELECT facility_id, id FROM devices")
        .fetch_one(&owner)
        .await
        .expect("device");
    for user in [
        format!("pickup-code:device:{id}"),
        format!("pickup-code:device:{id}+north"),
        "kiosk+north".to_string(),
    ] {
        for _ in 0..3 {
            let mut c = s.connect().await;
            let (r, _) = c.kbd(&user, "x", "123456").await;
            assert!(kbd_failed(&r), "{user}: {r:?}");
        }
    }
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM login_failures")
        .fetch_one(&owner)
        .await
        .expect("count");
    assert_eq!(stored, 0, "names that cannot be a login were counted");
    let device = Device {
        facility: packtrack::domain::FacilityId(facility),
        slug: "north".into(),
        facility_name: "North Hall".into(),
        id,
        name: "Front desk 2".into(),
        self_service: true,
    };
    let app = s.db.app(2).await.expect("app pool");
    let found = kiosk::lookup_code(&app, &device, "127.0.0.1", &codes[0])
        .await
        .expect("self-service pickup still works");
    assert_eq!(found.packages.len(), 1);
}

/// Unauthenticated connections are capped per address before any SSH bytes (OpenSSH's
/// PerSourceMaxStartups); they used to be allowed up to 1,100 per address. Another
/// address, and authenticated connections, are not affected.
#[tokio::test]
async fn one_address_cannot_hold_many_unauthenticated_connections() {
    let s = TestServer::start(Limits {
        max_startups_per_ip: 3,
        pre_auth: Duration::from_secs(20),
        ..test_limits()
    })
    .await;
    s.facility(SLUG, "Harbor Street Mailroom").await;
    let key = s.key_user("clerk", SLUG, Role::Operator).await;
    // One authenticated connection from 127.0.0.1 first: it does not count.
    let authed = s.login_key(&format!("clerk+{SLUG}"), &key).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut t = TcpStream::connect(s.addr()).await.expect("connect");
        let mut banner = [0u8; 8];
        tokio::io::AsyncReadExt::read_exact(&mut t, &mut banner)
            .await
            .expect("the server greets");
        assert_eq!(&banner, b"SSH-2.0-");
        held.push(t);
    }
    let mut fourth = TcpStream::connect(s.addr()).await.expect("connect");
    let (bytes, _) = read_until_closed(&mut fourth, Duration::from_secs(5)).await;
    assert!(
        bytes.is_empty(),
        "the fourth got {:?}",
        String::from_utf8_lossy(&bytes)
    );
    // A second office logs in meanwhile, and so does the first office's authenticated one.
    let other: IpAddr = "127.0.0.2".parse().unwrap();
    let mut c = Client::connect_from(s.addr(), s.handle().host_key.clone(), other).await;
    assert!(succeeded(
        &c.pubkey(&format!("clerk+{SLUG}"), key.clone()).await
    ));
    assert_eq!(
        authed.exec("whoami").await.stdout,
        format!("clerk {SLUG} operator\n")
    );
    drop(held);
}

/// A query that slipped past the application (an injection, a bug) as the runtime role
/// could read every password, TOTP and PIN hash with one SELECT. Now it gets one login's
/// credentials at a time, through the SECURITY DEFINER function only.
#[tokio::test]
async fn runtime_role_cannot_select_credential_hashes() {
    let s = server().await;
    let _ = s.password_user("clerk", SLUG, Role::Operator).await;
    let app = s.db.app(1).await.expect("app pool");
    for column in ["password_hash", "totp_secret", "pin_hash", "*"] {
        let err = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {column} FROM users")))
            .fetch_all(app.pool())
            .await
            .expect_err(column);
        assert!(
            err.to_string().contains("permission denied"),
            "{column}: {err}"
        );
    }
    // What the app needs is still there.
    let (has_password, has_totp): (bool, bool) =
        sqlx::query_as("SELECT has_password, has_totp FROM users WHERE login = 'clerk'")
            .fetch_one(app.pool())
            .await
            .expect("flags");
    assert!(has_password && has_totp);
    let user = app
        .unscoped()
        .user("clerk")
        .await
        .expect("login_user")
        .expect("clerk");
    assert!(user.password_hash.is_some());
}

/// A pickup code is a bearer secret of six digits. Over exec a user could try codes
/// without limit; now a user gets ten wrong codes per 15 minutes (the kiosk gets five per
/// device), and one user's guessing does not block the others.
#[tokio::test]
async fn pickup_code_guessing_over_exec_is_rate_limited_per_user() {
    let s = TestServer::start(test_limits()).await;
    let _ = kiosk_setup(&s, false).await;
    let codes = waiting(&s, "Ada Lovelace", &["1Z5R89390357567127"]).await;
    let guesser = s.add_key("clerk").await;
    let other = s.key_user("night", "north", Role::Operator).await;
    let c = s.login_key("clerk+north", &guesser).await;
    let mut tried = 0;
    for n in 0.. {
        let code = format!("{:06}", (n * 7919 + 13) % 1_000_000);
        if codes.contains(&code) {
            continue;
        }
        let out = c.exec(&format!("packages pickup --code {code}")).await;
        assert_eq!(out.status, Some(1), "{out:?}");
        tried += 1;
        if tried == 10 {
            break;
        }
    }
    // The right code no longer works for the guesser …
    let out = c
        .exec(&format!("packages pickup --code {}", codes[0]))
        .await;
    assert_eq!(out.status, Some(1), "{out:?}");
    assert!(
        out.stderr.contains("too many wrong pickup codes"),
        "{out:?}"
    );
    // … and does for a colleague.
    let c = s.login_key("night+north", &other).await;
    let out = c
        .exec(&format!("packages pickup --code {}", codes[0]))
        .await;
    assert_eq!(out.status, Some(0), "{out:?}");
}

/// Before logging in, anyone could write whole log lines (and terminal escapes for whoever
/// reads the log) through the SSH user name of a failed login. Checked on the real
/// server's log output.
#[tokio::test]
async fn ssh_user_name_cannot_forge_a_log_line() {
    let sandbox = crate::support::Sandbox::new();
    let mut served = sandbox.serve(&[]);
    let mut c = Client::connect(served.addr, sandbox.host_key()).await;
    let forged = "x\n2099-01-01T00:00:00Z  INFO login succeeded login=admin \
                  method=publickey\x1b]0;owned\x07\x1b[2J";
    let (r, _) = c.kbd(forged, "pw", "123456").await;
    assert!(kbd_failed(&r));
    drop(c);
    served.terminate_ok("after the forged name");
    let log = served.log_lines();
    let all = log.join("\n");
    assert!(all.contains("login failed"), "{all}");
    assert!(
        !log.iter().any(|l| l.starts_with("2099-01-01")),
        "a forged line: {all}"
    );
    assert!(!all.contains('\x1b') && !all.contains('\x07'), "{all:?}");
}

/// A database that cannot answer made every login look like a wrong key ("Permission
/// denied") and was counted like a guess. Now the client is disconnected with "service
/// temporarily unavailable", the failure is not counted, and the metric says why.
#[tokio::test]
async fn database_error_during_login_is_unavailable_not_a_wrong_key() {
    let s = server().await;
    let key = s.key_user("clerk", SLUG, Role::Operator).await;
    let creds = s.password_user("night", SLUG, Role::Operator).await;
    // The login path's reads fail from now on (as during an outage).
    s.owner_sql(
        "REVOKE EXECUTE ON FUNCTION login_user(text) FROM packtrack_app",
        "",
    )
    .await;
    let mut c = s.connect().await;
    let hash = c.handle.best_supported_rsa_hash().await.unwrap().flatten();
    let r = tokio::time::timeout(
        Duration::from_secs(10),
        c.handle.authenticate_publickey(
            format!("clerk+{SLUG}"),
            russh::keys::PrivateKeyWithHashAlg::new(key.clone(), hash),
        ),
    )
    .await
    .expect("an answer");
    assert!(!matches!(r, Ok(AuthResult::Success)), "{r:?}");
    let mut c2 = s.connect().await;
    let r = tokio::time::timeout(
        Duration::from_secs(10),
        c2.handle
            .authenticate_keyboard_interactive_start(format!("night+{SLUG}"), None),
    )
    .await
    .expect("an answer");
    if let Ok(Kbd::InfoRequest { .. }) = r {
        let r = c2
            .handle
            .authenticate_keyboard_interactive_respond(vec![creds.password.clone()])
            .await;
        if let Ok(Kbd::InfoRequest { .. }) = r {
            let _ = c2
                .handle
                .authenticate_keyboard_interactive_respond(vec![creds.code()])
                .await;
        }
    }
    for (what, client) in [("key", &c), ("password", &c2)] {
        let t = std::time::Instant::now();
        while !client.handle.is_closed() {
            assert!(t.elapsed() < Duration::from_secs(10), "{what}: still open");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let m = s.metrics();
    assert_eq!(
        m.auth_unavailable
            .load(std::sync::atomic::Ordering::Relaxed),
        2
    );
    assert_eq!(m.auth_failed.load(std::sync::atomic::Ordering::Relaxed), 0);
    assert_eq!(s.failures_recorded("clerk").await, 0);
    assert_eq!(s.failures_recorded("night").await, 0);
}
