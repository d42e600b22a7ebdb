//! The operator interface end to end over SSH: scan → choose recipient → commit → seen live
//! by a second session → pickup by code → gone from waiting. Plus the exec commands with
//! their permission checks and facility isolation.

use packtrack::db::packages::{self, NewPackage};
use packtrack::db::recipients::{self, NewRecipient};
use packtrack::db::unscoped::Admin;
use packtrack::domain::{Flags, Note, Role};

use crate::ssh_support::{TestServer, test_limits};

const UPS: &str = "1Z5R89390357567127";
/// xterm's F3 (SS3 R).
const F3: &[u8] = b"\x1bOR";

async fn recipient(server: &TestServer, slug: &str, name: &str, unit: &str) -> i64 {
    let owner = server.db.owner_pool().await.expect("owner pool");
    let admin = Admin::new(&owner);
    let mut tx = admin.tenant(slug).await.expect("tenant");
    recipients::upsert(
        &mut tx,
        &NewRecipient {
            name: name.into(),
            unit: unit.into(),
            email: Some("ada@example.org".into()),
            phone: None,
            aliases: vec![],
        },
    )
    .await
    .expect("recipient");
    tx.commit().await.expect("commit");
    let id: i64 = sqlx::query_scalar("SELECT id FROM recipients WHERE name = $1")
        .bind(name)
        .fetch_one(&owner)
        .await
        .expect("id");
    owner.close().await;
    id
}

/// The 6-digit code after "code " in a status line.
fn code_in(text: &str) -> String {
    let at = text.find("code ").expect("a pickup code on screen") + 5;
    text[at..at + 6].to_string()
}

#[tokio::test]
async fn scan_choose_commit_seen_live_then_picked_up_by_code() {
    let server = TestServer::start(test_limits()).await;
    server.facility("north", "North Hall").await;
    recipient(&server, "north", "Ada Lovelace", "A-101").await;
    let clerk = server.key_user("clerk", "north", Role::Operator).await;
    let sam = server.key_user("sam", "north", Role::Operator).await;

    let a = server.login_key("clerk", &clerk).await;
    let mut screen_a = a.shell(80, 24).await;
    screen_a.wait_text("Dashboard").await;
    let b = server.login_key("sam", &sam).await;
    let mut screen_b = b.shell(80, 24).await;
    screen_b.wait_text("Dashboard").await;
    screen_b.send(b"l").await;
    screen_b.wait_text("Packages · waiting · 0").await;

    // A scanner types the number and a carriage return.
    screen_a.send(b"i").await;
    screen_a.wait_text("Tracking").await;
    screen_a.send(format!("{UPS}\r").as_bytes()).await;
    screen_a.wait_text("check digit ok").await;
    screen_a.wait_text("Who is it for?").await;
    screen_a.send(b"lovel").await;
    screen_a.wait_text("Ada Lovelace").await;
    screen_a.send(b"\r").await;
    screen_a.send(b"Shelf A\r").await;
    screen_a
        .wait_text(&format!("received {UPS} for Ada Lovelace"))
        .await;
    let code = code_in(&screen_a.flat());

    // The other session's list reloads on the notification: no key pressed there.
    screen_b.wait_text(UPS).await;
    screen_b.wait_text("Packages · waiting · 1").await;

    // Hand it over by code from the second terminal.
    screen_b.send(F3).await;
    screen_b.wait_text("pickup code").await;
    screen_b.send(format!("{code}\r").as_bytes()).await;
    screen_b.wait_text(&format!("[x] {UPS}")).await;
    screen_b.wait_text("Ada Lovelace · A-101 · 1 waiting").await;
    // One Enter hands over to the pre-filled resident: no hidden receiver step.
    screen_b.send(b"\r").await;
    screen_b
        .wait_text("handed over 1 package to Ada Lovelace")
        .await;

    let waiting = a.exec("packages list --status waiting --json").await;
    assert_eq!(waiting.status, Some(0), "{}", waiting.stderr);
    assert!(!waiting.stdout.contains(UPS), "{}", waiting.stdout);
    let done = a.exec("packages list --status picked_up --json").await;
    let row: serde_json::Value =
        serde_json::from_str(done.stdout.lines().next().expect("one package")).expect("json");
    assert_eq!(row["tracking"], UPS);
    assert_eq!(row["status"], "picked_up");
    assert_eq!(row["recipient_name"], "Ada Lovelace");
    assert!(row["picked_up_at"].is_string());
}

/// xterm's Ctrl-P.
const CTRL_P: &[u8] = b"\x10";

#[tokio::test]
async fn a_damaged_parcel_goes_to_a_proxy_with_one_confirm() {
    let server = TestServer::start(test_limits()).await;
    server.facility("north", "North Hall").await;
    let ada = recipient(&server, "north", "Ada Lovelace", "A-101").await;
    let clerk = server.key_user("clerk", "north", Role::Operator).await;
    let owner = server.db.owner_pool().await.expect("owner pool");
    let mut tx = Admin::new(&owner).tenant("north").await.expect("tenant");
    let done = packages::intake(
        &mut tx,
        &NewPackage {
            tracking: UPS.into(),
            carrier: Some("ups".into()),
            recipient_id: Some(ada),
            flags: Flags {
                perishable: true,
                damaged: true,
                ..Flags::default()
            },
            note: Note::new("box crushed").expect("note"),
            ..NewPackage::default()
        },
    )
    .await
    .expect("intake");
    tx.commit().await.expect("commit");
    let code = done.package.pickup_code.expect("code");

    let c = server.login_key("clerk", &clerk).await;
    let mut screen = c.shell(80, 24).await;
    screen.wait_text("Dashboard").await;
    screen.send(F3).await;
    screen.wait_text("pickup code").await;
    // The code at scanner speed, then the list says whose parcels and how they are.
    screen.send(format!("{code}\r").as_bytes()).await;
    screen.wait_text("Ada Lovelace · A-101 · 1 waiting").await;
    screen.wait_text("PERISHABLE DAMAGED · box crushed").await;
    // A proxy from the list: the name field opens for their name.
    screen.send(CTRL_P).await;
    screen.wait_text("proxy for Ada Lovelace").await;
    // Typed, then Enter on its own (a run of 8+ keys and Enter at once reads as a scan).
    screen.send(b"Bob Smith").await;
    screen.wait_text("Receiver   Bob Smith").await;
    screen.send(b"\r").await;
    screen.wait_text("1 DAMAGED").await;
    screen.send(b"y").await;
    screen
        .wait_text("handed over 1 package to Bob Smith (proxy)")
        .await;
    let proxy: Option<String> = sqlx::query_scalar("SELECT proxy_name FROM packages")
        .fetch_one(&owner)
        .await
        .expect("row");
    assert_eq!(proxy.as_deref(), Some("Bob Smith"));
    owner.close().await;
}

#[tokio::test]
async fn exec_commands_follow_the_contract_and_the_roles() {
    let server = TestServer::start(test_limits()).await;
    server.facility("north", "North Hall").await;
    server.facility("south", "South Hall").await;
    let ada = recipient(&server, "north", "Ada Lovelace", "A-101").await;
    let other = recipient(&server, "south", "Grace Hopper", "S-1").await;
    let clerk = server.key_user("clerk", "north", Role::Operator).await;
    let viewer = server.key_user("vera", "north", Role::Viewer).await;
    let c = server.login_key("clerk", &clerk).await;

    let found = c.exec("recipients search lovelace --json").await;
    assert_eq!(found.status, Some(0), "{}", found.stderr);
    let r: serde_json::Value =
        serde_json::from_str(found.stdout.lines().next().expect("a hit")).expect("json");
    assert_eq!(r["id"], ada);
    assert_eq!(r["name"], "Ada Lovelace");
    assert_eq!(r["unit"], "A-101");
    assert!(r["score"].is_u64());
    // Another facility's recipients are not found.
    let none = c.exec("recipients search hopper --json").await;
    assert_eq!(none.stdout, "");

    let intake = c
        .exec(&format!(
            "packages intake --tracking '{UPS}' --recipient {ada} --location 'Shelf A' --json"
        ))
        .await;
    assert_eq!(intake.status, Some(0), "{}", intake.stderr);
    let p: serde_json::Value = serde_json::from_str(intake.stdout.trim()).expect("json");
    for field in [
        "id",
        "tracking",
        "carrier",
        "recipient_id",
        "recipient_name",
        "status",
        "location",
        "pickup_code",
        "received_at",
        "picked_up_at",
    ] {
        assert!(p.get(field).is_some(), "missing {field}: {p}");
    }
    assert_eq!(p["carrier"], "ups");
    assert_eq!(p["status"], "waiting");
    // The same number again returns the same package: exit 0, no duplicate.
    let again = c
        .exec(&format!(
            "packages intake --tracking {UPS} --recipient {ada} --json"
        ))
        .await;
    assert_eq!(again.status, Some(0));
    let p2: serde_json::Value = serde_json::from_str(again.stdout.trim()).expect("json");
    assert_eq!(p2["id"], p["id"]);

    // A recipient of another facility answers "not found".
    let cross = c
        .exec(&format!(
            "packages intake --tracking 986578788855 --recipient {other}"
        ))
        .await;
    assert_eq!(cross.status, Some(1));
    assert_eq!(cross.stderr, "not found\n");

    // Viewers may look but not record or hand over.
    let v = server.login_key("vera", &viewer).await;
    let denied = v
        .exec(&format!(
            "packages intake --tracking 986578788855 --recipient {ada}"
        ))
        .await;
    assert_eq!(denied.status, Some(1));
    assert_eq!(denied.stderr, "permission denied\n");
    let code = p["pickup_code"].as_str().expect("code").to_string();
    let denied = v.exec(&format!("packages pickup --code {code}")).await;
    assert_eq!(denied.status, Some(1));
    assert_eq!(denied.stderr, "permission denied\n");
    let listed = v.exec("packages list --json").await;
    assert_eq!(listed.status, Some(0));
    assert!(listed.stdout.contains(UPS));

    let picked = c
        .exec(&format!("packages pickup --code {code} --json"))
        .await;
    assert_eq!(picked.status, Some(0), "{}", picked.stderr);
    let done: serde_json::Value = serde_json::from_str(picked.stdout.trim()).expect("json");
    assert_eq!(done["status"], "picked_up");
    let twice = c.exec(&format!("packages pickup --code {code}")).await;
    assert_eq!(twice.status, Some(1));

    let bad = c.exec("packages list --status shipped").await;
    assert_eq!(bad.status, Some(1));
    assert!(bad.stderr.contains("unknown status"), "{}", bad.stderr);
    assert_eq!(bad.stderr.lines().count(), 1);
}

#[tokio::test]
async fn an_admin_change_reaches_the_members_open_session_at_once() {
    let server = TestServer::start(test_limits()).await;
    server.facility("north", "North Hall").await;
    let boss = server.key_user("boss", "north", Role::Admin).await;
    let clerk = server.key_user("clerk", "north", Role::Operator).await;

    let c = server.login_key("clerk", &clerk).await;
    let mut clerk_screen = c.shell(80, 24).await;
    clerk_screen.wait_text("clerk (operator)").await;

    let b = server.login_key("boss", &boss).await;
    let mut admin_screen = b.shell(80, 24).await;
    admin_screen.wait_text("Dashboard").await;
    admin_screen.send(b"a").await;
    admin_screen.wait_text("Members").await;
    admin_screen.wait_text("clerk").await;
    // Rows are by login: boss, clerk. Move to clerk and demote to viewer (operator → admin
    // → viewer: r twice).
    admin_screen.send(b"\x1b[B").await;
    admin_screen.send(b"r").await;
    admin_screen
        .wait_for("clerk shown as admin", |s| {
            s.flat().contains("clerk            admin")
        })
        .await;
    admin_screen.send(b"r").await;
    admin_screen
        .wait_for("clerk shown as viewer", |s| {
            s.flat().contains("clerk            viewer")
        })
        .await;
    clerk_screen.wait_text("clerk (viewer)").await;
    // The demoted clerk can no longer record parcels.
    clerk_screen.send(b"i").await;
    clerk_screen.wait_text("permission denied").await;

    // Disabling the membership ends the open session and refuses the next login.
    admin_screen.send(b"d").await;
    clerk_screen
        .wait_closed(std::time::Duration::from_secs(10))
        .await;
    assert!(
        String::from_utf8_lossy(&clerk_screen.raw).contains("changed by an admin"),
        "the session says why it ended"
    );
    let mut again = server.connect().await;
    assert!(!again.pubkey("clerk", clerk.clone()).await.success());

    // Every change is in the facility's audit trail.
    let owner = server.db.owner_pool().await.expect("owner");
    let actions: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit_log WHERE actor = 'boss' ORDER BY seq")
            .fetch_all(&owner)
            .await
            .expect("audit");
    assert_eq!(
        actions,
        vec!["membership.role", "membership.role", "membership.disable"]
    );
}

/// xterm's down arrow.
const DOWN: &[u8] = b"\x1b[B";

#[tokio::test]
async fn an_authorised_proxy_is_kept_on_the_resident_and_picked_at_pickup() {
    let server = TestServer::start(test_limits()).await;
    server.facility("north", "North Hall").await;
    let ada = recipient(&server, "north", "Ada Lovelace", "A-101").await;
    let clerk = server.key_user("clerk", "north", Role::Operator).await;
    let owner = server.db.owner_pool().await.expect("owner pool");
    let mut tx = Admin::new(&owner).tenant("north").await.expect("tenant");
    let mut code = String::new();
    for tracking in [UPS, "986578788855"] {
        let done = packages::intake(
            &mut tx,
            &NewPackage {
                tracking: tracking.into(),
                recipient_id: Some(ada),
                ..NewPackage::default()
            },
        )
        .await
        .expect("intake");
        code = done.package.pickup_code.expect("code");
    }
    tx.commit().await.expect("commit");

    let c = server.login_key("clerk", &clerk).await;
    let mut screen = c.shell(80, 24).await;
    screen.wait_text("Dashboard").await;
    // On the recipients screen, as a new operator would: find Ada, Ctrl-P, type, Enter.
    screen.send(b"r").await;
    screen.wait_text("Recipients").await;
    screen.send(b"lovel").await;
    screen.wait_text("Ada Lovelace").await;
    screen.send(CTRL_P).await;
    screen
        .wait_text("Authorised proxies of Ada Lovelace (A-101)")
        .await;
    screen.wait_text("none yet").await;
    screen.send(b"Sam Lee (partner)").await;
    screen.wait_text("Add        Sam Lee (partner)").await;
    screen.send(b"\r").await;
    screen.wait_text("authorised proxies saved").await;
    screen.wait_text("> Sam Lee (partner)").await;
    screen.send(b"\x1b").await;
    screen.wait_text("^P proxies").await;

    // Pickup: Ctrl-P offers the list; a scan meanwhile ticks its parcel, never types.
    screen.send(F3).await;
    screen.wait_text("pickup code").await;
    screen.send(format!("{code}\r").as_bytes()).await;
    screen.wait_text("Ada Lovelace · A-101 · 2 waiting").await;
    screen.send(CTRL_P).await;
    screen.wait_text("Authorised proxies:").await;
    screen.send(b"986578788855\r").await;
    screen.wait_text("986578788855 ticked").await;
    assert!(
        !screen
            .text()
            .lines()
            .any(|l| l.contains("Receiver") && l.contains("986578788855")),
        "a scan typed into the receiver: {}",
        screen.text()
    );
    screen.send(DOWN).await;
    screen.wait_text("(authorised proxy)").await;
    screen.send(b"\r").await;
    screen
        .wait_text("handed over 2 packages to Sam Lee (partner) (authorised proxy)")
        .await;
    let detail: Vec<serde_json::Value> = sqlx::query_scalar(
        "SELECT detail FROM package_events WHERE kind = 'picked_up' ORDER BY package_id",
    )
    .fetch_all(&owner)
    .await
    .expect("events");
    assert_eq!(detail.len(), 2);
    for d in detail {
        assert_eq!(d["receiver"], "Sam Lee (partner)");
        assert_eq!(d["authorised"], true, "{d}");
    }
    owner.close().await;
}
