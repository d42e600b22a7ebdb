//! Self-service pickup at a kiosk over real SSH: a recipient types their pickup code on the
//! lock screen, sees their waiting packages masked, a staff member confirms with their PIN;
//! the pickup is attributed to the staff member and the device. Wrong codes lock the
//! terminal out of codes.

use std::sync::Arc;
use std::time::Duration;

use packtrack::auth::login::Device;
use packtrack::auth::{password, pubkey};
use packtrack::db::kiosk;
use packtrack::db::packages::{self, NewPackage};
use packtrack::db::recipients::{self, NewRecipient};
use packtrack::db::unscoped::Admin;
use packtrack::domain::Role;
use russh::keys::PrivateKey;

use crate::ssh_support::{Shell, TestServer, new_key, test_limits};

/// A facility `north` with a device (self-service as asked) and `clerk` (operator, PIN
/// 4711). Returns the device key.
pub async fn kiosk_setup(server: &TestServer, self_service: bool) -> Arc<PrivateKey> {
    server.facility("north", "North Hall").await;
    server.member("clerk", "north", Role::Operator).await;
    let key = Arc::new(new_key());
    let owner = server.db.owner_pool().await.expect("owner");
    let admin = Admin::new(&owner);
    let line = key.public_key().to_openssh().expect("line");
    admin
        .add_device(
            "north",
            "Front desk 2",
            &pubkey::parse_line(&line).expect("key"),
        )
        .await
        .expect("device");
    if self_service {
        admin
            .set_self_service("north", "Front desk 2", true)
            .await
            .expect("self-service");
    }
    admin
        .set_pin("clerk", &password::hash("4711".into()).await)
        .await
        .expect("pin");
    owner.close().await;
    key
}

/// `name` with waiting packages `trackings`; returns their pickup codes.
pub async fn waiting(server: &TestServer, name: &str, trackings: &[&str]) -> Vec<String> {
    let owner = server.db.owner_pool().await.expect("owner");
    let admin = Admin::new(&owner);
    let mut tx = admin.tenant("north").await.expect("tenant");
    recipients::upsert(
        &mut tx,
        &NewRecipient {
            name: name.into(),
            unit: "A-101".into(),
            email: None,
            phone: None,
            aliases: vec![],
        },
    )
    .await
    .expect("recipient");
    tx.commit().await.expect("commit");
    let rid: i64 = sqlx::query_scalar("SELECT id FROM recipients WHERE name = $1")
        .bind(name)
        .fetch_one(&owner)
        .await
        .expect("id");
    let mut tx = admin.tenant("north").await.expect("tenant");
    let mut codes = Vec::new();
    for t in trackings {
        let done = packages::intake(
            &mut tx,
            &NewPackage {
                tracking: (*t).into(),
                carrier: Some("ups".into()),
                recipient_id: Some(rid),
                location: "Shelf B".try_into().unwrap(),
                ..NewPackage::default()
            },
        )
        .await
        .expect("intake");
        codes.push(done.package.pickup_code.expect("code"));
    }
    tx.commit().await.expect("commit");
    owner.close().await;
    codes
}

/// A six-digit code that is none of `codes`.
fn wrong(codes: &[String], n: u32) -> String {
    (n..)
        .map(|i| format!("{:06}", (i * 7919 + 13) % 1_000_000))
        .find(|c| !codes.contains(c))
        .expect("a wrong code")
}

#[tokio::test]
async fn self_service_pickup_is_confirmed_by_staff_and_attributed_to_staff_and_device() {
    let server = TestServer::start(test_limits()).await;
    let key = kiosk_setup(&server, true).await;
    let codes = waiting(
        &server,
        "Ada Lovelace",
        &["1Z5R89390357567127", "1Z5R89390357560011"],
    )
    .await;
    let k = server.login_key("kiosk+north", &key).await;
    let mut screen = k.shell(80, 24).await;
    screen.wait_text("type your pickup code").await;

    // A wrong code finds nothing and says so.
    screen
        .send(format!("{}\r", wrong(&codes, 1)).as_bytes())
        .await;
    screen.wait_text("no waiting packages for that code").await;

    // The right code shows both packages, masked: no name, no full tracking number.
    screen.send(format!("{}\r", codes[0]).as_bytes()).await;
    screen.wait_text("2 packages are waiting for you").await;
    let shown = screen.flat();
    assert!(
        shown.contains("…7127") && shown.contains("…0011"),
        "{shown}"
    );
    assert!(
        !shown.contains("Ada") && !shown.contains("1Z5R8939"),
        "{shown}"
    );
    assert!(shown.contains("Shelf B"), "{shown}");

    // A wrong PIN hands nothing over; the staff member's PIN does, and the terminal stays
    // locked.
    screen.send(b"clerk\r0000\r").await;
    screen.wait_text("wrong login or PIN").await;
    screen.send(b"4711\r").await;
    screen.wait_text("2 packages handed over").await;
    screen.wait_text("confirmed by clerk").await;
    screen.wait_text("type your pickup code").await;
    assert!(screen.flat().contains("locked"));

    let owner = server.db.owner_pool().await.expect("owner");
    let rows: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT p.status, u.login, p.picked_up_name FROM packages p \
         LEFT JOIN users u ON u.id = p.picked_up_by ORDER BY p.id",
    )
    .fetch_all(&owner)
    .await
    .expect("packages");
    for r in &rows {
        assert_eq!(r.0, "picked_up");
        assert_eq!(r.1.as_deref(), Some("clerk"));
        assert_eq!(r.2.as_deref(), Some("Ada Lovelace"));
    }
    let events: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT u.login, d.name, e.source FROM package_events e \
         JOIN users u ON u.id = e.actor_id \
         JOIN devices d ON d.facility_id = e.facility_id AND d.id = e.device_id \
         WHERE e.kind = 'picked_up'",
    )
    .fetch_all(&owner)
    .await
    .expect("events");
    assert_eq!(events.len(), 2);
    for (login, device, source) in &events {
        assert_eq!((login.as_str(), device.as_str()), ("clerk", "Front desk 2"));
        assert!(source.starts_with("kiosk Front desk 2"), "{source}");
    }
    let audit: Vec<(String, String)> = sqlx::query_as(
        "SELECT action, actor FROM audit_log WHERE action LIKE 'kiosk.%' \
            OR action = 'device.self_service' ORDER BY seq",
    )
    .fetch_all(&owner)
    .await
    .expect("audit");
    let audit: Vec<(&str, &str)> = audit
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(
        audit,
        vec![
            ("device.self_service", "cli"),
            ("kiosk.pickup_code.wrong", "kiosk:Front desk 2"),
            ("kiosk.pickup_code.lookup", "kiosk:Front desk 2"),
            ("kiosk.self_service.handover", "clerk"),
        ]
    );
    let details: Vec<String> = sqlx::query_scalar("SELECT detail::text FROM audit_log")
        .fetch_all(&owner)
        .await
        .expect("details");
    let detail = details.join(" ");
    for c in &codes {
        assert!(!detail.contains(c.as_str()), "a code in the audit log");
    }
    // The code is spent: the packages are gone.
    screen.send(format!("{}\r", codes[0]).as_bytes()).await;
    screen.wait_text("no waiting packages for that code").await;
}

#[tokio::test]
async fn wrong_codes_lock_the_terminal_out_of_codes() {
    let server = TestServer::start(test_limits()).await;
    let key = kiosk_setup(&server, true).await;
    let codes = waiting(&server, "Grace Hopper", &["986578788855"]).await;
    let k = server.login_key("kiosk+north", &key).await;
    let mut screen = k.shell(80, 24).await;
    screen.wait_text("type your pickup code").await;
    for i in 0..kiosk::CODE_THRESHOLD {
        screen
            .send(format!("{}\r", wrong(&codes, 100 + i as u32 * 31)).as_bytes())
            .await;
        if i + 1 < kiosk::CODE_THRESHOLD {
            screen.wait_text("no waiting packages for that code").await;
            // The next answer must be a new one: clear the status line first.
            esc(&screen).await;
            screen
                .wait_for("status cleared", |s| {
                    !s.flat().contains("no waiting packages")
                })
                .await;
        }
    }
    screen.wait_text("too many wrong pickup codes").await;
    esc(&screen).await;
    screen
        .wait_for("status cleared", |s| !s.flat().contains("too many"))
        .await;
    // Even the right code is refused now.
    screen.send(format!("{}\r", codes[0]).as_bytes()).await;
    screen.wait_text("too many wrong pickup codes").await;
    assert!(!screen.flat().contains("waiting for you"));
    // Staff can still unlock the terminal with their PIN.
    esc(&screen).await;
    screen.send(b"clerk\r4711\r").await;
    screen.wait_text("clerk (operator) at Front desk 2").await;

    let owner = server.db.owner_pool().await.expect("owner");
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'kiosk.pickup_code.lockout'",
    )
    .fetch_one(&owner)
    .await
    .expect("audit");
    assert_eq!(n, 1);
    let waiting: String = sqlx::query_scalar("SELECT status FROM packages")
        .fetch_one(&owner)
        .await
        .expect("status");
    assert_eq!(waiting, "waiting");
}

#[tokio::test]
async fn codes_are_refused_where_self_service_is_off() {
    let server = TestServer::start(test_limits()).await;
    let key = kiosk_setup(&server, false).await;
    let codes = waiting(&server, "Alan Turing", &["986578788855"]).await;
    let app = server.db.app(2).await.expect("app pool");
    let owner = server.db.owner_pool().await.expect("owner");
    let (facility, id): (i64, i64) = sqlx::query_as("SELECT facility_id, id FROM devices")
        .fetch_one(&owner)
        .await
        .expect("device");
    let device = Device {
        facility: packtrack::domain::FacilityId(facility),
        slug: "north".into(),
        facility_name: "North Hall".into(),
        id,
        name: "Front desk 2".into(),
        self_service: false,
    };
    let e = kiosk::lookup_code(&app, &device, "127.0.0.1", &codes[0])
        .await
        .expect_err("not a self-service terminal");
    assert!(e.to_string().contains("not enabled"), "{e}");
    // Its lock screen offers no pickup code; turned on, the next lock shows it.
    let k = server.login_key("kiosk+north", &key).await;
    let mut screen = k.shell(80, 24).await;
    screen.wait_text("Login:").await;
    assert!(!screen.flat().contains("pickup code"));
    Admin::new(&owner)
        .set_self_service("north", "Front desk 2", true)
        .await
        .expect("on");
    screen.send(b"clerk\r4711\r").await;
    screen.wait_text("clerk (operator) at Front desk 2").await;
    screen.send(b"\x0c").await;
    screen.wait_text("type your pickup code").await;
    let found = kiosk::lookup_code(&app, &device, "127.0.0.1", &codes[0])
        .await
        .expect("found");
    assert_eq!(found.packages.len(), 1);
    assert_eq!(found.packages[0].tracking, "…8855");
    // Switching an unknown device says which name was not found.
    let err = Admin::new(&owner)
        .set_self_service("north", "no such device", true)
        .await
        .expect_err("unknown device");
    assert!(err.to_string().contains("no device named"), "{err}");
}

/// Esc on its own: followed at once by a letter it would read as Alt+letter.
async fn esc(screen: &Shell) {
    screen.send(b"\x1b").await;
    tokio::time::sleep(Duration::from_millis(120)).await;
}
