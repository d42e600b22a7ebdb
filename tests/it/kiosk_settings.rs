//! Kiosk settings per facility over real SSH: the relock time (`kiosk_relock_secs`) and
//! PIN + TOTP unlock (`kiosk_pin_totp`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use packtrack::domain::Role;
use russh::keys::PrivateKey;

use crate::ssh_support::{Creds, Shell, TestServer, test_limits};

/// `north` with a device and `clerk` (operator, PIN 4711, TOTP enrolled).
async fn setup(server: &TestServer, settings: &'static str) -> (Arc<PrivateKey>, Creds) {
    server.facility("north", "North Hall").await;
    let creds = server.password_user("clerk", "north", Role::Operator).await;
    let key = server.kiosk_device("north", "Front desk 2", "clerk").await;
    set(server, settings).await;
    (key, creds)
}

async fn set(server: &TestServer, settings: &'static str) {
    let owner = server.db.owner_pool().await.expect("owner");
    sqlx::query("UPDATE facilities SET settings = settings || $1::jsonb WHERE slug = 'north'")
        .bind(settings)
        .execute(&owner)
        .await
        .expect("settings");
    owner.close().await;
}

#[tokio::test]
async fn kiosk_relocks_after_the_facility_idle_time() {
    let server = TestServer::start(test_limits()).await;
    let (key, _) = setup(&server, r#"{"kiosk_relock_secs": 5}"#).await;
    let k = server.login_key("kiosk+north", &key).await;
    let mut screen = k.shell(80, 24).await;
    screen.wait_text("Login:").await;
    screen.send(b"clerk\r4711\r").await;
    screen.wait_text("clerk (operator) at Front desk 2").await;
    let unlocked = Instant::now();
    // The server-wide default is two minutes; the facility says five seconds.
    screen.wait_text("Login:").await;
    let after = unlocked.elapsed();
    assert!(screen.flat().contains("locked"));
    assert!(
        after >= Duration::from_millis(4500),
        "locked too early: {after:?}"
    );
    // Input keeps it unlocked: typing within the idle time restarts the clock.
    screen.send(b"clerk\r4711\r").await;
    screen.wait_text("clerk (operator) at Front desk 2").await;
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_secs(2)).await;
        screen.send(b"?").await; // help overlay on and off
        screen.send(b"x").await;
    }
    assert!(
        screen.flat().contains("at Front desk 2"),
        "{}",
        screen.text()
    );
    // The setting is read again at every unlock: a minute now.
    screen.send(b"\x0c").await;
    screen.wait_text("Login:").await;
    set(&server, r#"{"kiosk_relock_secs": 60}"#).await;
    screen.send(b"clerk\r4711\r").await;
    screen.wait_text("clerk (operator) at Front desk 2").await;
    tokio::time::sleep(Duration::from_secs(7)).await;
    // Drain what arrived meanwhile, then look: still unlocked.
    screen.send(b"?").await;
    screen.wait_text("Keys: Dashboard").await;
    assert!(
        screen.flat().contains("at Front desk 2"),
        "{}",
        screen.text()
    );
}

#[tokio::test]
async fn pin_and_totp_unlock_and_pin_alone_is_refused() {
    let server = TestServer::start(test_limits()).await;
    let (key, creds) = setup(&server, r#"{"kiosk_pin_totp": false}"#).await;
    let k = server.login_key("kiosk+north", &key).await;
    let mut screen = k.shell(80, 24).await;
    screen.wait_text("Login:").await;
    assert!(!screen.flat().contains("Code:"));
    // Let the session read the settings as they are, then switch TOTP on behind its back:
    // a PIN alone is refused by the server, and the screen asks for the code from now on.
    tokio::time::sleep(Duration::from_millis(800)).await;
    set(&server, r#"{"kiosk_pin_totp": true}"#).await;
    screen.send(b"clerk\r4711\r").await;
    screen.wait_text("asks for your authenticator code").await;
    screen.wait_text("Code:").await;
    assert!(screen.flat().contains("locked"));

    // PIN and a wrong code: refused, and the message does not say which was wrong.
    esc(&screen).await;
    screen.send(b"clerk\r4711\r").await;
    screen
        .send(format!("{}\r", creds.wrong_code()).as_bytes())
        .await;
    screen.wait_text("wrong login, PIN or code").await;
    // A wrong PIN with the right code looks the same (and does not spend the code).
    let code = creds.code();
    esc(&screen).await;
    screen.send(b"clerk\r0000\r").await;
    screen.send(format!("{code}\r").as_bytes()).await;
    screen
        .wait_for("a second refusal", |s| {
            s.raw_text().matches("wrong login, PIN or code").count() >= 2
        })
        .await;
    // PIN and code: unlocked.
    esc(&screen).await;
    screen.send(b"clerk\r4711\r").await;
    screen.send(format!("{code}\r").as_bytes()).await;
    screen.wait_text("clerk (operator) at Front desk 2").await;
    // The same code never works twice.
    screen.send(b"\x0c").await;
    screen.wait_text("Code:").await;
    screen.send(b"clerk\r4711\r").await;
    screen.send(format!("{code}\r").as_bytes()).await;
    screen.wait_text("wrong login, PIN or code").await;
    assert!(screen.flat().contains("locked"));
    // Counted per staff member in the kiosk's own counters, never under the SSH login
    // lockout; the code typed twice is an honest mistake and does not count.
    let owner = server.db.owner_pool().await.expect("owner");
    let kiosk_pins: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM guess_failures g JOIN users u ON u.id = g.user_id \
         WHERE u.login = 'clerk' AND g.kind = 'kiosk_pin'",
    )
    .fetch_one(&owner)
    .await
    .expect("failures");
    assert_eq!(kiosk_pins, 2, "a wrong code and a wrong PIN");
    let ssh: i64 = sqlx::query_scalar("SELECT count(*) FROM login_failures")
        .fetch_one(&owner)
        .await
        .expect("failures");
    assert_eq!(ssh, 0);
}

/// Esc on its own: followed at once by a letter it would read as Alt+letter.
async fn esc(screen: &Shell) {
    screen.send(b"\x1b").await;
    tokio::time::sleep(Duration::from_millis(120)).await;
}
