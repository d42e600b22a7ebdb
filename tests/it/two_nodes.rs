//! More than one process on one database (issue 17): what one node or the admin CLI changes,
//! every other node's search, screens and settings follow, without a restart.
//!
//! Two in-process servers on one test database are two real nodes for what matters here:
//! each has its own pools, its own LISTEN connection and its own search indexes, and they
//! meet only in PostgreSQL. The CLI case runs the real binary twice (`serve`, then `admin
//! recipients import` beside it). Changes are awaited by polling, never by a clock.

use std::time::{Duration, Instant};

use packtrack::auth::login::Authenticator;
use packtrack::domain::Role;
use packtrack::ops::{Ops, RecipientFields};
use packtrack::ssh::limits::Limits;
use packtrack::ssh::server::{self, ServerHandle};
use serde_json::Value;

use crate::recipients_admin::exec_stdin;
use crate::ssh_support::{Client, STEP, Shell, TestServer, new_key, test_limits};
use crate::support::{Sandbox, member};

const UPS: &str = "1Z5R89390357567127";

/// A second server on the first one's database, with a host key of its own (the contract
/// asks for a shared one behind a load balancer; the tests pin each node's key).
async fn peer(a: &TestServer) -> ServerHandle {
    let app = a.db.app(4).await.expect("app pool");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let auth = Authenticator::new(app, a.secrets.clone());
    server::start(listener, auth, new_key(), a.limits.clone()).expect("second server starts")
}

async fn login(
    node: &ServerHandle,
    user: &str,
    key: &std::sync::Arc<russh::keys::PrivateKey>,
) -> Client {
    let mut c = Client::connect(node.addr, node.host_key.clone()).await;
    assert!(
        c.pubkey(user, key.clone()).await.success(),
        "{user} logs in"
    );
    c
}

/// `recipients search QUERY --json` as (id, name) pairs.
async fn search(c: &Client, query: &str) -> Vec<(i64, String)> {
    let out = c.exec(&format!("recipients search '{query}' --json")).await;
    assert_eq!(out.status, Some(0), "{}", out.stderr);
    out.stdout
        .lines()
        .map(|l| {
            let r: Value = serde_json::from_str(l).expect("json line");
            (
                r["id"].as_i64().expect("id"),
                r["name"].as_str().expect("name").to_string(),
            )
        })
        .collect()
}

/// Polls `search` until `cond` holds on its answer (a few seconds at most: the budget is
/// one second, the margin is for a loaded machine).
async fn search_until(
    c: &Client,
    query: &str,
    what: &str,
    cond: impl Fn(&[(i64, String)]) -> bool,
) -> Vec<(i64, String)> {
    let deadline = Instant::now() + STEP;
    loop {
        let found = search(c, query).await;
        if cond(&found) {
            return found;
        }
        assert!(Instant::now() < deadline, "{what}: still {found:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn recipient_import_edit_and_deactivate_on_a_reach_search_on_b() {
    let a = TestServer::start(test_limits()).await;
    let boss_p = member(&a.db, "north", "boss", Role::Admin).await;
    let boss = a.add_key("boss").await;
    let clerk = a.key_user("clerk", "north", Role::Operator).await;
    let b = peer(&a).await;
    let on_a = a.login_key("boss", &boss).await;
    let on_b = login(&b, "clerk", &clerk).await;

    // B builds its index now, before anything changes.
    assert!(search(&on_b, "quist").await.is_empty());
    assert!(search(&on_a, "quist").await.is_empty());

    // An import over SSH on A.
    let done = exec_stdin(
        &on_a,
        "recipients import",
        b"name,unit,email,phone,aliases\nZelda Quist,B-7,,,\n",
    )
    .await;
    assert_eq!(done.status, Some(0), "{}", done.stderr);
    let found = search_until(&on_b, "quist", "the import on B", |f| f.len() == 1).await;
    let id = found[0].0;

    // An edit, through the operations A's admin console runs (it has no exec command).
    let ops_a = Ops::new(a.db.app(2).await.expect("app pool"));
    let mut fields = RecipientFields::of(&ops_a.recipient(&boss_p, id).await.unwrap());
    fields.name = "Zelda Marsh".into();
    ops_a.update_recipient(&boss_p, id, &fields).await.unwrap();
    search_until(&on_b, "marsh", "the rename on B", |f| {
        f == [(id, "Zelda Marsh".into())]
    })
    .await;
    search_until(&on_b, "quist", "the old name gone on B", <[_]>::is_empty).await;

    // Deactivated: no longer offered for intake on B.
    ops_a
        .set_recipient_active(&boss_p, id, false)
        .await
        .unwrap();
    search_until(&on_b, "marsh", "the deactivation on B", <[_]>::is_empty).await;
    // A saw its own changes as well.
    assert!(search(&on_a, "marsh").await.is_empty());

    // A bulk import: B reloads the rows the notifications list (up to 10,000 per
    // transaction) in one query and one pass over its index.
    let mut csv = String::from("name,unit,email,phone,aliases\n");
    for i in 0..1050 {
        csv.push_str(&format!("Bulk Tenant{i:04},D-{i},,,\n"));
    }
    let done = exec_stdin(&on_a, "recipients import", csv.as_bytes()).await;
    assert_eq!(done.status, Some(0), "{}", done.stderr);
    search_until(&on_b, "tenant1049", "the bulk import on B", |f| {
        f.iter().any(|(_, n)| n == "Bulk Tenant1049")
    })
    .await;

    // More rows than notifications list: B rebuilds beside the index in use, which keeps
    // answering (without the new rows) until the new one replaces it.
    let mut csv = String::from("name,unit,email,phone,aliases\n");
    for i in 0..10_050 {
        csv.push_str(&format!("Mass Lodger{i:05},E-{i},,,\n"));
    }
    let done = exec_stdin(&on_a, "recipients import", csv.as_bytes()).await;
    assert_eq!(done.status, Some(0), "{}", done.stderr);
    search_until(&on_b, "lodger10049", "the larger import on B", |f| {
        f.iter().any(|(_, n)| n == "Mass Lodger10049")
    })
    .await;
    assert_eq!(
        search(&on_b, "tenant1049").await.len(),
        1,
        "kept across the rebuild"
    );
}

#[tokio::test]
async fn intake_on_a_is_live_on_b_open_screen() {
    let a = TestServer::start(test_limits()).await;
    a.facility("north", "North Hall").await;
    let boss = a.key_user("boss", "north", Role::Admin).await;
    let clerk = a.key_user("clerk", "north", Role::Operator).await;
    let b = peer(&a).await;
    let on_a = a.login_key("boss", &boss).await;
    let done = exec_stdin(
        &on_a,
        "recipients import",
        b"name,unit,email,phone,aliases\nAda Lovelace,A-101,,,\n",
    )
    .await;
    assert_eq!(done.status, Some(0), "{}", done.stderr);
    let on_b = login(&b, "clerk", &clerk).await;
    let mut screen = on_b.shell(80, 24).await;
    screen.wait_text("Dashboard").await;
    screen.send(b"l").await;
    screen.wait_text("Packages · waiting · 0").await;

    let ada = search_until(&on_a, "lovelace", "Ada on A", |f| f.len() == 1).await[0].0;
    let intake = on_a
        .exec(&format!(
            "packages intake --tracking {UPS} --recipient {ada}"
        ))
        .await;
    assert_eq!(intake.status, Some(0), "{}", intake.stderr);
    // No key pressed on B: its list reloads on A's notification.
    screen.wait_text(UPS).await;
    screen.wait_text("Packages · waiting · 1").await;
}

#[tokio::test]
async fn settings_saved_on_a_apply_on_b_kiosk() {
    let a = TestServer::start(test_limits()).await;
    let boss = member(&a.db, "north", "boss", Role::Admin).await;
    a.password_user("clerk", "north", Role::Operator).await;
    let device = a.kiosk_device("north", "Front desk", "clerk").await;
    let b = peer(&a).await;
    let kiosk = login(&b, "kiosk+north", &device).await;
    let mut screen = kiosk.shell(80, 24).await;
    screen.wait_text("Login:").await;
    assert!(!screen.flat().contains("Code:"));

    // A's admin console saves "PIN + authenticator code" (the operations it runs).
    let ops_a = Ops::new(a.db.app(2).await.expect("app pool"));
    let before = ops_a.facility_settings(&boss).await.unwrap();
    let after = packtrack::db::settings::FacilitySettings {
        kiosk_pin_totp: true,
        ..before.clone()
    };
    let changed = ops_a
        .save_facility_settings(&boss, &before, &after)
        .await
        .unwrap();
    assert_eq!(changed, ["kiosk_pin_totp"]);

    // B reads settings at each unlock, never from a cache: a PIN alone is refused now.
    screen.send(b"clerk\r4711\r").await;
    screen.wait_text("asks for your authenticator code").await;
    screen.wait_text("Code:").await;
}

/// The README's way to load residents, while the server runs: the running server's search
/// finds them without a restart.
#[tokio::test]
async fn cli_import_is_found_by_the_running_server() {
    let s = Sandbox::new();
    let (home, key) = s.home_with_key();
    let mut served = s.serve_from(&home, &["--demo"]);
    let mut c = Client::connect(served.addr, s.host_key()).await;
    assert!(c.pubkey("clerk+demo", key).await.success());
    // The server's index is built before the import.
    assert!(search(&c, "quistorp").await.is_empty());

    let csv = s.path().join("residents.csv");
    std::fs::write(
        &csv,
        "name,unit,email,phone,aliases\nGreta Quistorp,C-12,,,\n",
    )
    .unwrap();
    let run = s.ok(
        &[
            "admin",
            "recipients",
            "import",
            "--facility",
            "demo",
            csv.to_str().unwrap(),
        ],
        None,
    );
    assert!(run.stdout.contains("added"), "{run:?}");
    let found = search_until(&c, "quistorp", "the CLI import in serve's search", |f| {
        f.len() == 1
    })
    .await;
    assert_eq!(found[0].1, "Greta Quistorp");
    drop(c);
    served.terminate_ok("after the import");
}

/// Limits whose periodic access re-check is an hour away: within a test, only the
/// database's notification can end a session.
fn notify_only() -> Limits {
    Limits {
        recheck: Duration::from_secs(3600),
        ..test_limits()
    }
}

/// Returns once B's listener hears north: an intake on A (by `on_a`, an admin of north)
/// appears on `screen`, a session on B, without a key pressed. A notification for north sent
/// after this reaches B.
async fn b_hears_north(on_a: &Client, screen: &mut Shell) {
    screen.wait_text("Dashboard").await;
    screen.send(b"l").await;
    screen.wait_text("Packages · waiting · 0").await;
    let done = exec_stdin(
        on_a,
        "recipients import",
        b"name,unit,email,phone,aliases\nPia Probe,P-1,,,\n",
    )
    .await;
    assert_eq!(done.status, Some(0), "{}", done.stderr);
    let pia = search_until(on_a, "probe", "Pia on A", |f| f.len() == 1).await[0].0;
    let intake = on_a
        .exec(&format!(
            "packages intake --tracking {UPS} --recipient {pia}"
        ))
        .await;
    assert_eq!(intake.status, Some(0), "{}", intake.stderr);
    screen.wait_text(UPS).await;
}

/// The attack: a stolen key stays usable on another node. The key is revoked in node A's
/// admin console while its holder's session runs on node B; B hears the `member`
/// notification the revoke sends (through PostgreSQL, in every facility the person belongs
/// to), re-reads the access, finds the key revoked and ends the session. B's periodic re-check
/// is an hour away, so nothing else could have ended it.
#[tokio::test]
async fn revoked_key_session_on_another_node_is_ended() {
    let a = TestServer::start(notify_only()).await;
    let boss_p = member(&a.db, "north", "boss", Role::Admin).await;
    let boss = a.add_key("boss").await;
    let ada = a.key_user("ada", "north", Role::Operator).await;
    let b = peer(&a).await;
    let on_a = a.login_key("boss", &boss).await;
    let on_b = login(&b, "ada", &ada).await;
    let mut screen = on_b.shell(80, 24).await;
    b_hears_north(&on_a, &mut screen).await;

    // A's admin console revokes the key (the operations it runs).
    let ops_a = Ops::new(a.db.app(2).await.expect("app pool"));
    let keys = ops_a.member_keys(&boss_p).await.expect("keys");
    let row = keys.iter().find(|k| k.login == "ada").expect("ada's key");
    let revoked = Instant::now();
    ops_a
        .revoke_member_key(&boss_p, row.id)
        .await
        .expect("revoked by north's admin");
    screen.wait_closed(STEP).await;
    // Printed, not asserted (no test asserts wall-clock time): the budget is about 1 s.
    eprintln!(
        "session on B ended {:?} after the revoke on A",
        revoked.elapsed()
    );
    assert!(
        screen
            .raw_text()
            .contains("your access to this facility was changed by an admin"),
        "{}",
        screen.raw_text()
    );
    // Nor does the key open a new session on B.
    let mut again = Client::connect(b.addr, b.host_key.clone()).await;
    assert!(
        !again.pubkey("ada", ada).await.success(),
        "revoked key refused"
    );
}

/// The attack: a stolen kiosk terminal stays in service on another node. It is quarantined
/// with `admin device quarantine` (the admin CLI, on A's host) while its session runs on node
/// B; B hears the `device` notification and takes the terminal out of service, with the
/// periodic re-check an hour away.
#[tokio::test]
async fn quarantined_kiosk_session_on_another_node_is_ended() {
    let a = TestServer::start(notify_only()).await;
    member(&a.db, "north", "boss", Role::Admin).await;
    let boss = a.add_key("boss").await;
    let clerk = a.key_user("clerk", "north", Role::Operator).await;
    a.password_user("desk", "north", Role::Operator).await;
    let device = a.kiosk_device("north", "Front desk", "desk").await;
    let b = peer(&a).await;
    let kiosk = login(&b, "kiosk+north", &device).await;
    let mut terminal = kiosk.shell(80, 24).await;
    terminal.wait_text("Login:").await;
    // The kiosk and this clerk's session on B share B's channel for north.
    let on_a = a.login_key("boss", &boss).await;
    let watcher = login(&b, "clerk", &clerk).await;
    let mut screen = watcher.shell(80, 24).await;
    b_hears_north(&on_a, &mut screen).await;

    let owner = a.db.owner_pool().await.expect("owner pool");
    let quarantined = Instant::now();
    packtrack::db::unscoped::Admin::new(&owner)
        .quarantine_device("north", "Front desk", Some("stolen"))
        .await
        .expect("quarantine");
    terminal.wait_closed(STEP).await;
    eprintln!(
        "kiosk session on B ended {:?} after the quarantine on A",
        quarantined.elapsed()
    );
    assert!(
        terminal
            .raw_text()
            .contains("this terminal was taken out of service by an admin"),
        "{}",
        terminal.raw_text()
    );
    owner.close().await;
}

/// The contract between migration 0018's trigger and the nodes (`INDEX_UPDATE_MAX`): a
/// transaction's changes to up to 10,000 of a facility's recipients are announced as their
/// ids, at most 100 per notification; one row more and the payload is the bare facility
/// (the nodes rebuild).
#[tokio::test]
async fn bulk_changes_are_listed_up_to_ten_thousand_rows() {
    let db = crate::support::fresh_db().await;
    member(&db, "north", "boss", Role::Admin).await;
    let owner = db.owner_pool().await.expect("owner pool");
    let north = packtrack::db::unscoped::Admin::new(&owner)
        .facility_id("north")
        .await
        .expect("north");
    let mut listener = sqlx::postgres::PgListener::connect_with(&owner)
        .await
        .expect("listener");
    listener
        .listen(packtrack::live::CACHE_CHANNEL)
        .await
        .expect("listen");
    for (rows, prefix) in [(10_000i64, "Listed"), (10_001, "Bare")] {
        sqlx::query(
            "INSERT INTO recipients (facility_id, name, unit) \
             SELECT $1, $3 || ' ' || g, 'U-1' FROM generate_series(1, $2::bigint) g",
        )
        .bind(north.0)
        .bind(rows)
        .bind(prefix)
        .execute(&owner)
        .await
        .expect("insert");
        // Delivered in commit order: everything the insert announced comes before this.
        sqlx::query("SELECT pg_notify($1, 'end')")
            .bind(packtrack::live::CACHE_CHANNEL)
            .execute(&owner)
            .await
            .expect("marker");
        let mut payloads = Vec::new();
        loop {
            let n = tokio::time::timeout(STEP, listener.recv())
                .await
                .expect("notifications arrive")
                .expect("notification");
            if n.payload() == "end" {
                break;
            }
            payloads.push(n.payload().to_string());
        }
        if rows <= 10_000 {
            let mut ids = 0;
            for p in &payloads {
                match packtrack::live::CacheEvent::parse(p) {
                    Some(packtrack::live::CacheEvent::Recipients {
                        facility,
                        ids: Some(list),
                    }) if facility == north && list.len() <= 100 => ids += list.len(),
                    other => panic!("{p}: {other:?}"),
                }
            }
            assert_eq!((ids, payloads.len()), (10_000, 100));
        } else {
            assert_eq!(payloads, [format!("recipients:{}", north.0)]);
        }
    }
    // The listener holds one of the pool's connections, which `close` would wait for.
    drop(listener);
    owner.close().await;
}
