//! The admin console's Keys, TOTP, Settings and Outbox tabs against a real database: over
//! SSH an admin adds a member's key by paste (the member then logs in with it) and revokes
//! it (refused from then on); a TOTP reset ends the member's password+TOTP sessions;
//! settings round-trip and are audited; a dead notification is retried; and none of it is
//! reachable for operators, viewers, kiosks or other facilities.

use packtrack::auth::totp;
use packtrack::db::Database;
use packtrack::db::settings::FacilitySettings;
use packtrack::domain::{Role, Source};
use packtrack::error::AppError;
use packtrack::ops::Ops;
use serde_json::{Value, json};

use crate::ssh_support::{TestServer, new_key, test_limits, unix_now};
use crate::support::{Staff, at_kiosk, member, staff};

/// xterm's bracketed paste.
fn pasted(text: &str) -> Vec<u8> {
    format!("\x1b[200~{text}\x1b[201~").into_bytes()
}

#[tokio::test]
async fn admin_adds_a_key_by_paste_the_member_logs_in_then_revoked_is_refused() {
    let server = TestServer::start(test_limits()).await;
    server.facility("north", "North Hall").await;
    let boss = server.key_user("boss", "north", Role::Admin).await;
    server.member("ada", "north", Role::Operator).await;
    let ada_key = std::sync::Arc::new(new_key());
    let line = ada_key.public_key().to_openssh().expect("openssh line");

    // Without a key, ada cannot log in.
    let mut c = server.connect().await;
    assert!(!c.pubkey("ada", ada_key.clone()).await.success());

    let admin = server.login_key("boss", &boss).await;
    let mut screen = admin.shell(80, 24).await;
    screen.wait_text("Dashboard").await;
    screen.send(b"a").await;
    // ada's row (the header names boss).
    screen.wait_text("operator").await;
    screen.send(b"\t\t\t").await;
    screen.wait_text("Last used").await;
    screen.send(b"n").await;
    screen.wait_text("Add a key for").await;
    // ada sorts first.
    screen.send(b"\r").await;
    screen.wait_text("New key for ada").await;
    // A malformed paste is refused with the parser's reason.
    screen
        .send(&pasted("ssh-ed25519 AAAA-not-a-key ada@x"))
        .await;
    screen.wait_text("not a key").await;
    screen.send(&pasted(&format!("{line} ada@laptop\n"))).await;
    screen.wait_text("Enter: add").await;
    screen.send(b"\r").await;
    screen.wait_text("key added for ada").await;
    screen.wait_text("ada@laptop").await;
    // Added in this console: it logs in to this facility only, and the tab says so.
    screen.wait_text("this facility").await;

    let mut c = server.connect().await;
    assert!(
        c.pubkey("ada", ada_key.clone()).await.success(),
        "the pasted key logs in"
    );

    // The same key again is a clear duplicate error.
    screen.send(b"n").await;
    screen.wait_text("Add a key for").await;
    screen.send(b"\r").await;
    screen.wait_text("New key for ada").await;
    screen.send(&pasted(&line)).await;
    screen.send(b"\r").await;
    screen.wait_text("already registered for ada").await;
    screen.send(b"\x1b").await;
    screen.wait_text("no key added").await;

    // ada is at work with that key while it is revoked.
    let ada = server.login_key("ada", &ada_key).await;
    let mut ada_screen = ada.shell(80, 24).await;
    ada_screen.wait_text("Dashboard").await;

    // Revoke (ada's key is the first row): asked, then done.
    screen.send(b"x").await;
    screen.wait_text("Enter: revoke").await;
    screen.send(b"\r").await;
    screen
        .wait_text("key of ada revoked, it no longer logs in")
        .await;
    let mut c = server.connect().await;
    assert!(
        !c.pubkey("ada", ada_key.clone()).await.success(),
        "a revoked key is refused"
    );
    // Her open session ends at once.
    ada_screen.wait_closed(crate::ssh_support::STEP).await;
    assert!(
        ada_screen
            .raw_text()
            .contains("your access to this facility was changed by an admin"),
        "{}",
        ada_screen.raw_text()
    );
    // The admin's own session (another key) goes on.
    screen.send(b"\t").await;
    screen.wait_text("Login            Role      TOTP").await;

    // Both changes are in the facility's audit trail with the fingerprint, never the key.
    let owner = server.db.owner_pool().await.expect("owner pool");
    let rows: Vec<(String, String, String, Value)> = sqlx::query_as(
        "SELECT a.action, a.actor, a.target, a.detail FROM audit_log a \
         JOIN facilities f ON f.id = a.facility_id \
         WHERE f.slug = 'north' AND a.action LIKE 'key.%' ORDER BY a.seq",
    )
    .fetch_all(&owner)
    .await
    .expect("audit rows");
    let fp = packtrack::auth::pubkey::parse_line(&line)
        .expect("key")
        .fingerprint;
    let ours: Vec<_> = rows.iter().filter(|r| r.2 == "ada").collect();
    assert_eq!(ours.len(), 2, "{rows:?}");
    assert_eq!(
        (ours[0].0.as_str(), ours[0].1.as_str()),
        ("key.add", "boss")
    );
    assert_eq!(ours[1].0, "key.revoke");
    for r in &ours {
        assert_eq!(r.3["fingerprint"], json!(fp));
        let body = line.split_whitespace().nth(1).expect("base64 part");
        assert!(!r.3.to_string().contains(body), "whole key in the audit");
    }
    owner.close().await;
}

#[tokio::test]
async fn totp_reset_ends_the_members_password_totp_sessions_not_their_key_sessions() {
    let server = TestServer::start(test_limits()).await;
    server.facility("north", "North Hall").await;
    let boss = server.key_user("boss", "north", Role::Admin).await;
    let ada = server.password_user("ada", "north", Role::Operator).await;
    let ada_key = server.add_key("ada").await;

    // ada at work twice: with password+TOTP, and with her key.
    let mut c = server.connect().await;
    let (r, _) = c.kbd("ada+north", &ada.password, &ada.code()).await;
    assert!(
        matches!(r, russh::client::KeyboardInteractiveAuthResponse::Success),
        "{r:?}"
    );
    let mut totp_screen = c.shell(80, 24).await;
    totp_screen.wait_text("Dashboard").await;
    let by_key = server.login_key("ada", &ada_key).await;
    let mut key_screen = by_key.shell(80, 24).await;
    key_screen.wait_text("Dashboard").await;

    // The admin resets her TOTP from the console's TOTP tab (ada sorts first).
    let admin = server.login_key("boss", &boss).await;
    let mut screen = admin.shell(80, 24).await;
    screen.wait_text("Dashboard").await;
    screen.send(b"a").await;
    screen.wait_text("operator").await;
    screen.send(b"\t\t\t\t").await;
    screen.wait_text("Login            Role      TOTP").await;
    screen.send(b"x").await;
    screen.wait_text("Reset the TOTP of ada").await;
    screen.send(b"lost phone\r").await;
    screen
        .wait_text("TOTP of ada reset, their password+TOTP sessions ended")
        .await;

    // The session that the reset factor opened ends at once, saying why.
    totp_screen.wait_closed(crate::ssh_support::STEP).await;
    assert!(
        totp_screen
            .raw_text()
            .contains("your access to this facility was changed by an admin"),
        "{}",
        totp_screen.raw_text()
    );
    // Her key session goes on (it still answers keys), and so does the admin's.
    key_screen.send(b"l").await;
    key_screen.wait_text("Packages · waiting · 0").await;
    assert!(!key_screen.closed);
    screen.send(b"\t").await;
    screen.wait_text("Kiosk relock").await;

    // Without TOTP, her password alone no longer logs in.
    let mut c = server.connect().await;
    let (r, _) = c.kbd("ada+north", &ada.password, &ada.code()).await;
    assert!(
        !matches!(r, russh::client::KeyboardInteractiveAuthResponse::Success),
        "{r:?}"
    );

    // The reset is audited with its reason.
    let owner = server.db.owner_pool().await.expect("owner pool");
    let rows: Vec<(String, String, Value)> = sqlx::query_as(
        "SELECT a.actor, a.target, a.detail FROM audit_log a \
         JOIN facilities f ON f.id = a.facility_id \
         WHERE f.slug = 'north' AND a.action = 'totp.reset'",
    )
    .fetch_all(&owner)
    .await
    .expect("audit rows");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!((rows[0].0.as_str(), rows[0].1.as_str()), ("boss", "ada"));
    assert_eq!(rows[0].2["reason"], json!("lost phone"));
    owner.close().await;
}

type World = Staff;

async fn world() -> World {
    staff().await
}

async fn user_id(db: &Database, login: &str) -> i64 {
    let owner = db.owner_pool().await.expect("owner pool");
    let id = sqlx::query_scalar("SELECT id FROM users WHERE login = $1")
        .bind(login)
        .fetch_one(&owner)
        .await
        .expect("user id");
    owner.close().await;
    id
}

async fn audit(db: &Database, slug: &str, action: &str) -> Vec<(String, String, Value)> {
    let owner = db.owner_pool().await.expect("owner pool");
    let rows = sqlx::query_as(
        "SELECT a.actor, a.target, a.detail FROM audit_log a \
         JOIN facilities f ON f.id = a.facility_id \
         WHERE f.slug = $1 AND a.action = $2 ORDER BY a.seq",
    )
    .bind(slug)
    .bind(action)
    .fetch_all(&owner)
    .await
    .expect("audit");
    owner.close().await;
    rows
}

#[tokio::test]
async fn settings_are_saved_read_back_and_audited() {
    let w = world().await;
    let before = w.ops.facility_settings(&w.admin).await.expect("load");
    assert_eq!(before.overdue_days, 3);
    assert_eq!(before.reminders, vec![3]);
    assert_eq!(before.kiosk_relock_minutes, 2);
    assert_eq!(before.email, None);

    let after = FacilitySettings {
        name: "North Hall Mailroom".into(),
        time_zone: "Europe/Berlin".into(),
        overdue_days: 5,
        reminders: vec![3, 7],
        retention_days: 14,
        kiosk_relock_minutes: 5,
        kiosk_pin_totp: true,
        ..before.clone()
    };
    let changed = w
        .ops
        .save_facility_settings(&w.admin, &before, &after)
        .await
        .expect("save");
    assert_eq!(
        changed,
        vec![
            "name",
            "time_zone",
            "overdue_days",
            "reminder_days",
            "notification_retention_days",
            "kiosk_relock_secs",
            "kiosk_pin_totp"
        ]
    );
    assert_eq!(
        w.ops.facility_settings(&w.admin).await.expect("reload"),
        after
    );
    // Stored under the keys their readers use.
    let owner = w.db.owner_pool().await.expect("owner pool");
    let (name, tz, doc): (String, String, Value) =
        sqlx::query_as("SELECT name, time_zone, settings FROM facilities WHERE slug = 'north'")
            .fetch_one(&owner)
            .await
            .expect("facility");
    owner.close().await;
    assert_eq!(
        (name.as_str(), tz.as_str()),
        ("North Hall Mailroom", "Europe/Berlin")
    );
    assert_eq!(doc["overdue_days"], json!(5));
    assert_eq!(doc["reminder_days"], json!(3));
    assert_eq!(doc["reminder_schedule"], json!([3, 7]));
    assert_eq!(doc["notification_retention_days"], json!(14));
    assert_eq!(doc["kiosk_relock_secs"], json!(300));
    assert_eq!(doc["kiosk_pin_totp"], json!(true));
    // The dashboard follows the new overdue setting.
    assert_eq!(
        w.ops.stats(&w.operator).await.expect("stats").overdue_days,
        5
    );

    // One audit row, listing the changed keys.
    let rows = audit(&w.db, "north", "facility.settings").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].0, "boss");
    assert_eq!(rows[0].2["changed"], json!(changed));

    // Nothing changed: nothing written, no audit row.
    let again = w
        .ops
        .save_facility_settings(&w.admin, &after, &after)
        .await
        .expect("no-op");
    assert!(again.is_empty());
    assert_eq!(audit(&w.db, "north", "facility.settings").await.len(), 1);

    // Specific errors; nothing saved.
    let bad_tz = FacilitySettings {
        time_zone: "Mars/Olympus".into(),
        ..after.clone()
    };
    let e = w
        .ops
        .save_facility_settings(&w.admin, &after, &bad_tz)
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("`Mars/Olympus` is not a known time zone"),
        "{e}"
    );
    let bad_days = FacilitySettings {
        overdue_days: 61,
        ..after.clone()
    };
    let e = w
        .ops
        .save_facility_settings(&w.admin, &after, &bad_days)
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), "overdue days: 61 is out of range 1–60");
    let no_sms = FacilitySettings {
        sms: Some(true),
        ..after.clone()
    };
    let e = w
        .ops
        .save_facility_settings(&w.admin, &after, &no_sms)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no sms integration"), "{e}");
    assert_eq!(
        w.ops.facility_settings(&w.admin).await.expect("reload"),
        after
    );

    // Only the changed keys are written: a concurrent change of another key survives.
    let owner = w.db.owner_pool().await.expect("owner pool");
    sqlx::query(
        "UPDATE facilities SET settings = settings || '{\"overdue_days\": 9}' WHERE slug = 'north'",
    )
    .execute(&owner)
    .await
    .expect("concurrent change");
    owner.close().await;
    let just_pin = FacilitySettings {
        kiosk_pin_totp: false,
        ..after.clone()
    };
    w.ops
        .save_facility_settings(&w.admin, &after, &just_pin)
        .await
        .expect("save one key");
    let now = w.ops.facility_settings(&w.admin).await.expect("reload");
    assert_eq!(now.overdue_days, 9);
    assert!(!now.kiosk_pin_totp);
    // The other facility is untouched.
    let south = w.ops.facility_settings(&w.stranger).await.expect("south");
    assert_eq!(south.overdue_days, 3);
    assert_eq!(south.time_zone, "UTC");
}

#[tokio::test]
async fn channel_switches_follow_integrations() {
    let w = world().await;
    let owner = w.db.owner_pool().await.expect("owner pool");
    let admin = packtrack::db::unscoped::Admin::new(&owner);
    admin
        .set_smtp(
            "north",
            "smtp://127.0.0.1:2525",
            "mail@north.example",
            None,
            |_| None,
        )
        .await
        .expect("smtp");
    let before = w.ops.facility_settings(&w.admin).await.expect("load");
    assert_eq!(before.email, Some(true));
    let off = FacilitySettings {
        email: Some(false),
        ..before.clone()
    };
    assert_eq!(
        w.ops
            .save_facility_settings(&w.admin, &before, &off)
            .await
            .expect("save"),
        vec!["email_enabled"]
    );
    let enabled: bool = sqlx::query_scalar("SELECT enabled FROM integrations WHERE kind = 'smtp'")
        .fetch_one(&owner)
        .await
        .expect("integration");
    assert!(!enabled);
    owner.close().await;
    let rows = audit(&w.db, "north", "facility.settings").await;
    assert_eq!(rows[0].2["values"]["email_enabled"], json!(false));
}

/// A dead e-mail notification, inserted behind the application's back.
async fn dead_row(db: &Database, slug: &str) -> i64 {
    let owner = db.owner_pool().await.expect("owner pool");
    let id = sqlx::query_scalar(
        "INSERT INTO outbox (facility_id, channel, event, payload, status, attempts, last_error) \
         SELECT id, 'email', 'intake', $2, 'dead', 8, \
                '550 mailbox ada@example.org unavailable (Ada Lovelace)' \
         FROM facilities WHERE slug = $1 RETURNING id",
    )
    .bind(slug)
    .bind(json!({"recipient": {"name": "Ada Lovelace", "email": "ada@example.org"}}))
    .fetch_one(&owner)
    .await
    .expect("dead row");
    owner.close().await;
    id
}

#[tokio::test]
async fn outbox_shows_failures_masked_and_retry_resets_a_dead_row() {
    let w = world().await;
    let id = dead_row(&w.db, "north").await;
    let view = w.ops.outbox(&w.admin).await.expect("outbox");
    assert_eq!(view.total().dead, 1);
    assert_eq!(view.channels[0].channel, "email");
    let row = &view.failed[0];
    assert_eq!((row.id, row.attempts, row.status.as_str()), (id, 8, "dead"));
    assert_eq!(row.recipient, "a**@example.org");
    assert!(
        !row.last_error.contains("ada@") && !row.last_error.contains("Lovelace"),
        "{}",
        row.last_error
    );
    // Another facility sees none of it and cannot retry it.
    assert!(
        w.ops
            .outbox(&w.stranger)
            .await
            .expect("south")
            .failed
            .is_empty()
    );
    assert!(matches!(
        w.ops.retry_notification(&w.stranger, id).await,
        Err(AppError::NotFound)
    ));

    w.ops.retry_notification(&w.admin, id).await.expect("retry");
    let owner = w.db.owner_pool().await.expect("owner pool");
    let (status, attempts, due, last_error): (String, i32, bool, Option<String>) = sqlx::query_as(
        "SELECT status, attempts, next_attempt_at <= now(), last_error FROM outbox WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&owner)
    .await
    .expect("row");
    owner.close().await;
    assert_eq!((status.as_str(), attempts, due), ("pending", 0, true));
    assert_eq!(last_error, None);
    let rows = audit(&w.db, "north", "outbox.retry").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].1, format!("notification #{id}"));
    assert_eq!(rows[0].2["was"], json!("dead"));
    assert_eq!(rows[0].2["attempts"], json!(8));
    // A pending row that has not failed is not "retried".
    let e = w.ops.retry_notification(&w.admin, id).await.unwrap_err();
    assert!(e.to_string().contains("has not failed"), "{e}");
}

/// The clerk's stored TOTP secret and last accepted step.
async fn stored(db: &Database) -> (Option<Vec<u8>>, Option<i64>) {
    let owner = db.owner_pool().await.expect("owner pool");
    let v = sqlx::query_as("SELECT totp_secret, totp_last_step FROM users WHERE login = 'clerk'")
        .fetch_one(&owner)
        .await
        .expect("user");
    owner.close().await;
    v
}

#[tokio::test]
async fn totp_enrollment_needs_a_valid_first_code_and_reset_needs_a_reason() {
    let w = world().await;
    let clerk = user_id(&w.db, "clerk").await;
    let e = w.ops.totp_begin(&w.admin, clerk).await.expect("begin");
    assert_eq!(e.account, "clerk@north");
    assert!(e.qr.is_some());
    let secret = totp_rs::Secret::Encoded(e.manual.clone())
        .to_bytes()
        .expect("base32");
    // Not stored before the confirmation; a wrong code stores nothing.
    assert_eq!(stored(&w.db).await, (None, None));
    let now = unix_now();
    let valid: Vec<String> = [now - 30, now, now + 30]
        .iter()
        .map(|t| totp::code_at(&secret, *t))
        .collect();
    let wrong = (0..1000)
        .map(|n| format!("{:06}", n * 997))
        .find(|c| !valid.contains(c))
        .expect("a wrong code");
    let err = w
        .ops
        .totp_confirm(&w.admin, clerk, &e.sealed, &wrong)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not valid now"), "{err}");
    assert_eq!(stored(&w.db).await, (None, None));
    // The sealed secret is bound to its user: it cannot be confirmed for another one.
    let viewer = user_id(&w.db, "vera").await;
    assert!(
        w.ops
            .totp_confirm(&w.admin, viewer, &e.sealed, &totp::code_at(&secret, now))
            .await
            .is_err()
    );
    w.ops
        .totp_confirm(
            &w.admin,
            clerk,
            &e.sealed,
            &totp::code_at(&secret, unix_now()),
        )
        .await
        .expect("confirm");
    let (sealed, step) = stored(&w.db).await;
    let opened = w
        .secrets
        .open(&format!("user:{clerk}"), &sealed.expect("sealed secret"))
        .expect("opens");
    assert_eq!(opened, secret);
    assert!(
        step.is_some(),
        "the confirming code cannot be replayed at login"
    );
    let rows = audit(&w.db, "north", "totp.enroll").await;
    assert_eq!((rows[0].0.as_str(), rows[0].1.as_str()), ("boss", "clerk"));
    assert!(!rows[0].2.to_string().contains(&e.manual));

    // Reset: a reason is required, not for yourself, then done and audited.
    let e = w.ops.totp_reset(&w.admin, clerk, "  ").await.unwrap_err();
    assert!(e.to_string().contains("reason is required"), "{e}");
    let me = user_id(&w.db, "boss").await;
    assert!(w.ops.totp_reset(&w.admin, me, "test").await.is_err());
    w.ops
        .totp_reset(&w.admin, clerk, "lost phone")
        .await
        .expect("reset");
    assert_eq!(stored(&w.db).await, (None, None));
    let rows = audit(&w.db, "north", "totp.reset").await;
    assert_eq!(rows[0].2["reason"], json!("lost phone"));
    let e = w
        .ops
        .totp_reset(&w.admin, clerk, "again")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no TOTP"), "{e}");
}

#[tokio::test]
async fn members_of_other_facilities_are_out_of_reach() {
    let w = world().await;
    let other = user_id(&w.db, "other").await;
    let key = new_key().public_key().to_openssh().expect("line");
    let e = w
        .ops
        .add_member_key(&w.admin, other, &key)
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("not a member of this facility"),
        "{e}"
    );
    assert!(w.ops.totp_begin(&w.admin, other).await.is_err());
    assert!(w.ops.totp_reset(&w.admin, other, "x").await.is_err());
    // south's admin registers a key for their member; north's admin cannot revoke it.
    w.ops
        .add_member_key(&w.stranger, other, &key)
        .await
        .expect("own member");
    let south_keys = w.ops.member_keys(&w.stranger).await.expect("keys");
    assert_eq!(south_keys.len(), 1);
    assert!(w.ops.member_keys(&w.admin).await.expect("north").is_empty());
    let e = w
        .ops
        .revoke_member_key(&w.admin, south_keys[0].id)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("not a key of this facility"), "{e}");
    // A malformed line gets the CLI parser's message.
    let e = w
        .ops
        .add_member_key(&w.stranger, other, "ssh-ed25519 garbage")
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("not a valid OpenSSH public key line"),
        "{e}"
    );
}

/// TOTP and keys from the admin CLI open every facility a user belongs to: north's admin may
/// not reset the TOTP of, or revoke an all-facilities key of, a member who is also in south
/// (where north's admin has no say), and may once they administer south too. Adding a key is
/// fine: it is valid in north only.
#[tokio::test]
async fn a_member_of_a_facility_the_admin_does_not_administer_is_refused() {
    let w = world().await;
    // `other` is south's admin and, from now on, also an operator in north.
    member(&w.db, "north", "other", Role::Operator).await;
    let other = user_id(&w.db, "other").await;
    let key = new_key().public_key().to_openssh().expect("line");
    let refused = |e: AppError| {
        let text = e.to_string();
        assert!(
            text.contains("other also belongs to a facility you do not administer"),
            "{text}"
        );
    };
    refused(
        w.ops
            .totp_reset(&w.admin, other, "lost phone")
            .await
            .unwrap_err(),
    );
    // A key from north's console is north's alone: added, listed as this facility's, and
    // south's console does not see it.
    w.ops
        .add_member_key(&w.admin, other, &key)
        .await
        .expect("a key valid in north only");
    let north = w.ops.member_keys(&w.admin).await.expect("keys");
    assert_eq!(north.len(), 1);
    assert!(!north[0].all_facilities);
    assert!(
        w.ops
            .member_keys(&w.stranger)
            .await
            .expect("south")
            .is_empty(),
        "south lists north's key"
    );
    w.ops
        .revoke_member_key(&w.admin, north[0].id)
        .await
        .expect("north revokes its own key");
    // The admin CLI on the server registers a key for every facility; north's admin
    // cannot revoke that one.
    let cli_key = new_key().public_key().to_openssh().expect("line");
    let owner = w.db.owner_pool().await.expect("owner pool");
    packtrack::db::unscoped::Admin::new(&owner)
        .add_key(
            "other",
            &packtrack::auth::pubkey::parse_line(&cli_key).expect("key"),
        )
        .await
        .expect("the CLI registers it");
    owner.close().await;
    let keys = w.ops.member_keys(&w.admin).await.expect("keys");
    let row = keys
        .iter()
        .find(|k| k.all_facilities)
        .expect("the CLI's key");
    refused(w.ops.revoke_member_key(&w.admin, row.id).await.unwrap_err());
    // Once north's admin also administers south, they may.
    member(&w.db, "south", "boss", Role::Admin).await;
    w.ops
        .revoke_member_key(&w.admin, row.id)
        .await
        .expect("admin of both facilities");
}

/// The kiosk PIN is set from the console: argon2id, audited without the PIN, 6 to 12
/// digits and not a first guess, admins only, and valid at this facility's kiosks only (so also for a member of
/// a facility the admin does not administer).
#[tokio::test]
async fn an_admin_sets_a_members_kiosk_pin() {
    let w = world().await;
    let clerk = user_id(&w.db, "clerk").await;
    let e = w
        .ops
        .set_member_pin(&w.admin, clerk, "47a1")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("6 to 12 digits"), "{e}");
    let e = w
        .ops
        .set_member_pin(&w.admin, clerk, "123456")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("too easy to guess"), "{e}");
    let e = w
        .ops
        .set_member_pin(&w.operator, clerk, "471193")
        .await
        .unwrap_err();
    assert!(matches!(e, AppError::PermissionDenied), "{e:?}");
    w.ops
        .set_member_pin(&w.admin, clerk, "471193")
        .await
        .expect("admin sets the PIN");
    let owner = w.db.owner_pool().await.expect("owner pool");
    let (person, hash): (Option<String>, String) = sqlx::query_as(
        "SELECT u.pin_hash, p.pin_hash FROM users u \
         JOIN member_pins p ON p.user_id = u.id \
         JOIN facilities f ON f.id = p.facility_id AND f.slug = 'north' \
         WHERE u.login = 'clerk'",
    )
    .fetch_one(&owner)
    .await
    .unwrap();
    owner.close().await;
    assert_eq!(person, None, "not the person's all-facilities PIN");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(
        packtrack::auth::password::verify("471193".into(), Some(hash.clone())).await == Ok(true)
    );
    assert!(packtrack::auth::password::verify("471194".into(), Some(hash)).await == Ok(false));
    let rows = audit(&w.db, "north", "pin.set").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(!format!("{rows:?}").contains("471193"), "{rows:?}");
    // A member of south as well: the PIN opens north's kiosks only, and only north audits it.
    member(&w.db, "north", "other", Role::Operator).await;
    let other = user_id(&w.db, "other").await;
    w.ops
        .set_member_pin(&w.admin, other, "471193")
        .await
        .expect("a PIN for north's kiosks");
    assert_eq!(audit(&w.db, "north", "pin.set").await.len(), 2);
    assert!(audit(&w.db, "south", "pin.set").await.is_empty());
}

/// A key opens every facility of its owner, so revoking it ends their sessions in each of
/// them: the admin (of both) revokes in north, the member's session in south ends too.
#[tokio::test]
async fn a_revoked_key_ends_the_members_sessions_in_every_facility() {
    let server = TestServer::start(test_limits()).await;
    server.facility("north", "North Hall").await;
    server.facility("south", "South Hall").await;
    server.key_user("boss", "north", Role::Admin).await;
    server.member("boss", "south", Role::Admin).await;
    server.member("ada", "north", Role::Operator).await;
    server.member("ada", "south", Role::Operator).await;
    let ada_key = server.add_key("ada").await;
    let ada = server.login_key("ada+south", &ada_key).await;
    let mut ada_screen = ada.shell(80, 24).await;
    ada_screen.wait_text("South Hall").await;

    // boss, working in north (in process, as the console's effect runs it).
    let app = server.db.app(2).await.expect("app pool");
    let user = app
        .unscoped()
        .user("boss")
        .await
        .expect("lookup")
        .expect("boss");
    let boss = app
        .unscoped()
        .principal(
            &user,
            Some("north"),
            Source::Ssh {
                peer: "127.0.0.1:50000".into(),
            },
        )
        .await
        .expect("lookup")
        .expect("boss is north's admin");
    let ops = Ops::new(app);
    let keys = ops.member_keys(&boss).await.expect("keys");
    let row = keys.iter().find(|k| k.login == "ada").expect("ada's key");
    ops.revoke_member_key(&boss, row.id)
        .await
        .expect("revoked by an admin of both facilities");
    ada_screen.wait_closed(crate::ssh_support::STEP).await;
    assert!(
        ada_screen
            .raw_text()
            .contains("your access to this facility was changed by an admin"),
        "{}",
        ada_screen.raw_text()
    );
}

#[tokio::test]
async fn operators_viewers_and_kiosks_are_denied_every_admin_tab_operation() {
    let w = world().await;
    let clerk = user_id(&w.db, "clerk").await;
    let id = dead_row(&w.db, "north").await;
    let s = w.ops.facility_settings(&w.admin).await.expect("load");
    let changed = FacilitySettings {
        overdue_days: 7,
        ..s.clone()
    };
    // An admin working at a kiosk is refused too.
    let at_kiosk = at_kiosk(&w.db, "boss", "north").await;
    for p in [&w.operator, &w.viewer, &at_kiosk] {
        let denied = |r: Result<(), AppError>| matches!(r, Err(AppError::PermissionDenied));
        let key = new_key().public_key().to_openssh().expect("line");
        assert!(denied(w.ops.member_keys(p).await.map(|_| ())));
        assert!(denied(
            w.ops.add_member_key(p, clerk, &key).await.map(|_| ())
        ));
        assert!(denied(w.ops.revoke_member_key(p, 1).await.map(|_| ())));
        assert!(denied(w.ops.totp_begin(p, clerk).await.map(|_| ())));
        assert!(denied(
            w.ops.totp_confirm(p, clerk, &[0; 40], "123456").await
        ));
        assert!(denied(w.ops.totp_reset(p, clerk, "reason").await));
        assert!(denied(w.ops.facility_settings(p).await.map(|_| ())));
        assert!(denied(
            w.ops
                .save_facility_settings(p, &s, &changed)
                .await
                .map(|_| ())
        ));
        assert!(denied(w.ops.outbox(p).await.map(|_| ())));
        assert!(denied(w.ops.retry_notification(p, id).await));
        // The Members, Audit and Security tabs, and the report export, in `ops` too (an
        // admin at a kiosk was refused only by the interface).
        assert!(denied(w.ops.members(p).await.map(|_| ())));
        assert!(denied(
            w.ops.update_member(p, clerk, Some(Role::Admin), None).await
        ));
        assert!(denied(w.ops.audit(p, "").await.map(|_| ())));
        assert!(denied(w.ops.scorecard(p).await.map(|_| ())));
        let mut sink = packtrack::reports::CsvSink::new(Vec::new());
        assert!(denied(
            packtrack::reports::export(
                w.ops.db(),
                p,
                packtrack::reports::Report::Daily,
                None,
                None,
                "csv",
                &mut sink,
            )
            .await
            .map(|_| ())
        ));
    }
    // Nothing happened.
    assert_eq!(w.ops.facility_settings(&w.admin).await.expect("load"), s);
    assert!(w.ops.member_keys(&w.admin).await.expect("keys").is_empty());
    assert_eq!(
        w.ops.outbox(&w.admin).await.expect("outbox").total().dead,
        1
    );
}

#[tokio::test]
async fn an_operator_session_cannot_open_the_admin_tabs() {
    let server = TestServer::start(test_limits()).await;
    server.facility("north", "North Hall").await;
    let clerk = server.key_user("clerk", "north", Role::Operator).await;
    let c = server.login_key("clerk", &clerk).await;
    let mut screen = c.shell(80, 24).await;
    screen.wait_text("Dashboard").await;
    screen.send(b"a").await;
    screen
        .wait_text("permission denied: the admin console is for admins")
        .await;
    // Tab and the tabs' keys do nothing here.
    screen.send(b"\tnxt").await;
    screen.send(b"\x1b[21~").await; // F10
    screen.wait_text("permission denied").await;
    assert!(!screen.flat().contains("Settings"), "{}", screen.text());
    assert!(!screen.flat().contains("Outbox"), "{}", screen.text());
}

/// A reminder schedule saved in the settings tab (`3,7` style) is what the notification
/// worker follows: one reminder per step, each once.
#[tokio::test]
async fn the_worker_follows_the_saved_reminder_schedule() {
    use packtrack::db::recipients::{self, NewRecipient};
    use packtrack::notify::worker::{Worker, WorkerConfig};

    let w = world().await;
    let owner = w.db.owner_pool().await.expect("owner pool");
    let admin = packtrack::db::unscoped::Admin::new(&owner);
    let mut tx = admin.tenant("north").await.expect("tenant");
    recipients::upsert(
        &mut tx,
        &NewRecipient {
            name: "Ada Lovelace".into(),
            unit: "A-101".into(),
            email: Some("ada@example.org".into()),
            phone: None,
            aliases: vec![],
        },
    )
    .await
    .expect("recipient");
    tx.commit().await.expect("commit");
    let rid: i64 = sqlx::query_scalar("SELECT id FROM recipients WHERE name = 'Ada Lovelace'")
        .fetch_one(&owner)
        .await
        .expect("recipient id");
    let parcel = w
        .ops
        .intake(
            &w.operator,
            &packtrack::ops::IntakeRequest {
                tracking: "TBA000000000801".into(),
                recipient_id: Some(rid),
                location: "Shelf A".into(),
                ..Default::default()
            },
        )
        .await
        .expect("intake")
        .package;
    let before = w.ops.facility_settings(&w.admin).await.expect("load");
    let after = FacilitySettings {
        reminders: vec![1, 3],
        ..before.clone()
    };
    w.ops
        .save_facility_settings(&w.admin, &before, &after)
        .await
        .expect("save");
    let worker =
        Worker::new(owner.clone(), w.secrets.clone(), WorkerConfig::default()).expect("worker");
    let age = |days: i32| {
        sqlx::query(
            "UPDATE packages SET received_at = now() - make_interval(days => $2) WHERE id = $1",
        )
        .bind(parcel.id)
        .bind(days)
        .execute(&owner)
    };
    age(0).await.expect("age");
    assert_eq!(worker.remind().await.expect("remind").0, 0, "not due yet");
    age(2).await.expect("age");
    assert_eq!(
        worker.remind().await.expect("remind").0,
        1,
        "first reminder"
    );
    assert_eq!(worker.remind().await.expect("remind").0, 0, "once");
    age(4).await.expect("age");
    assert_eq!(
        worker.remind().await.expect("remind").0,
        1,
        "second reminder"
    );
    age(40).await.expect("age");
    assert_eq!(
        worker.remind().await.expect("remind").0,
        0,
        "the schedule is done"
    );
    // None: reminders off.
    let off = FacilitySettings {
        reminders: vec![],
        ..after.clone()
    };
    w.ops
        .save_facility_settings(&w.admin, &after, &off)
        .await
        .expect("save");
    sqlx::query("DELETE FROM package_events WHERE kind = 'reminded'")
        .execute(&owner)
        .await
        .expect("forget reminders");
    assert_eq!(worker.remind().await.expect("remind").0, 0, "off");
    owner.close().await;
}
