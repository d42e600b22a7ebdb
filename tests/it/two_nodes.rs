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
use packtrack::ssh::server::{self, ServerHandle};
use serde_json::Value;

use crate::recipients_admin::exec_stdin;
use crate::ssh_support::{Client, STEP, TestServer, new_key, test_limits};
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

    // More rows than notifications list (1000 per transaction): B rebuilds instead.
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
