//! Issue 13 over real SSH exec: contact data masked for every role (an admin's `--reveal`
//! is audited), no pickup codes for viewers, no control characters stored or printed, and a
//! pickup race that answers every client.

use std::sync::Arc;

use packtrack::db::recipients::{self, NewRecipient};
use packtrack::db::unscoped::Admin;
use packtrack::domain::Role;
use serde_json::Value;

use crate::ssh_support::{TestServer, test_limits};

const UPS: &str = "1Z5R89390357567127";
const EMAIL: &str = "ada@example.org";

/// Bytes no exec output may contain: C0 controls but line feed and tab, DEL, C1 (as UTF-8
/// code points), bidi overrides.
fn assert_no_controls(what: &str, text: &str) {
    for c in text.chars() {
        assert!(
            c == '\n' || c == '\t' || packtrack::domain::text::forbidden(c).is_none(),
            "{what} holds U+{:04X}: {text:?}",
            u32::from(c)
        );
    }
}

async fn recipient(server: &TestServer, name: &str, email: &str) -> i64 {
    let owner = server.db.owner_pool().await.expect("owner pool");
    let mut tx = Admin::new(&owner).tenant("north").await.expect("tenant");
    recipients::upsert(
        &mut tx,
        &NewRecipient {
            name: name.into(),
            unit: "A-101".into(),
            email: Some(email.into()),
            phone: None,
            aliases: vec![],
        },
    )
    .await
    .expect("recipient");
    tx.commit().await.expect("commit");
    let id = sqlx::query_scalar("SELECT id FROM recipients WHERE name = $1")
        .bind(name)
        .fetch_one(&owner)
        .await
        .expect("id");
    owner.close().await;
    id
}

async fn owner_count(server: &TestServer, sql: &'static str) -> i64 {
    let owner = server.db.owner_pool().await.expect("owner pool");
    let n = sqlx::query_scalar(sql)
        .fetch_one(&owner)
        .await
        .expect("count");
    owner.close().await;
    n
}

async fn north() -> TestServer {
    let server = TestServer::start(test_limits()).await;
    server.facility("north", "North Hall").await;
    server
}

#[tokio::test]
async fn viewer_cannot_list_full_emails_over_exec() {
    let server = north().await;
    recipient(&server, "Ada Lovelace", EMAIL).await;
    let vera = server.key_user("vera", "north", Role::Viewer).await;
    let clerk = server.key_user("clerk", "north", Role::Operator).await;
    let boss = server.key_user("boss", "north", Role::Admin).await;

    // Every role gets the address masked, as on the screens; JSON and text alike.
    for (login, key) in [("vera", &vera), ("clerk", &clerk), ("boss", &boss)] {
        let c = server.login_key(login, key).await;
        let json = c.exec("recipients search a --limit 1000 --json").await;
        assert_eq!(json.status, Some(0), "{login}: {}", json.stderr);
        let r: Value = serde_json::from_str(json.stdout.lines().next().expect("a hit")).unwrap();
        assert_eq!(r["email"], "a**@example.org", "{login}");
        let text = c.exec("recipients search a").await;
        assert!(text.stdout.contains("a**@example.org"), "{}", text.stdout);
        assert!(!json.stdout.contains(EMAIL) && !text.stdout.contains(EMAIL));
    }

    // `--reveal` is for admins: a viewer or operator is refused and sees nothing.
    for (login, key) in [("vera", &vera), ("clerk", &clerk)] {
        let c = server.login_key(login, key).await;
        let out = c.exec("recipients search a --json --reveal").await;
        assert_eq!(out.status, Some(1), "{login}");
        assert_eq!(out.stderr, "permission denied\n");
        assert_eq!(out.stdout, "");
    }
    assert_eq!(
        owner_count(
            &server,
            "SELECT count(*) FROM audit_log WHERE action = 'recipient.reveal'"
        )
        .await,
        0
    );

    // An admin's reveal shows the address and leaves an audit row naming who and whom.
    let b = server.login_key("boss", &boss).await;
    let out = b.exec("recipients search a --json --reveal").await;
    assert_eq!(out.status, Some(0), "{}", out.stderr);
    let r: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(r["email"], EMAIL);
    let owner = server.db.owner_pool().await.unwrap();
    let (actor, target, detail): (String, String, Value) = sqlx::query_as(
        "SELECT actor, target, detail FROM audit_log WHERE action = 'recipient.reveal'",
    )
    .fetch_one(&owner)
    .await
    .expect("one reveal row");
    assert_eq!(actor, "boss");
    assert_eq!(target, format!("recipient:{}", r["id"]));
    assert_eq!(detail["for"], "exec search");
}

#[tokio::test]
async fn viewer_does_not_see_pickup_codes_over_exec() {
    let server = north().await;
    let ada = recipient(&server, "Ada Lovelace", EMAIL).await;
    let vera = server.key_user("vera", "north", Role::Viewer).await;
    let clerk = server.key_user("clerk", "north", Role::Operator).await;
    let c = server.login_key("clerk", &clerk).await;
    let intake = c
        .exec(&format!(
            "packages intake --tracking {UPS} --recipient {ada} --json"
        ))
        .await;
    assert_eq!(intake.status, Some(0), "{}", intake.stderr);
    let code = serde_json::from_str::<Value>(intake.stdout.trim()).unwrap()["pickup_code"]
        .as_str()
        .expect("the clerk sees the code")
        .to_string();

    let v = server.login_key("vera", &vera).await;
    let json = v.exec("packages list --json").await;
    assert_eq!(json.status, Some(0), "{}", json.stderr);
    let row: Value = serde_json::from_str(json.stdout.trim()).unwrap();
    assert_eq!(row["tracking"], UPS);
    assert!(row["pickup_code"].is_null(), "{row}");
    let text = v.exec("packages list").await;
    assert!(text.stdout.contains(UPS));
    assert!(!text.stdout.contains(&code), "{}", text.stdout);
    // Probing a code tells a viewer nothing: refused before the lookup.
    let probe = v.exec("packages pickup --code 000000").await;
    assert_eq!(probe.stderr, "permission denied\n");
    // The clerk still sees it.
    let listed = c.exec("packages list").await;
    assert!(listed.stdout.contains(&code));
}

#[tokio::test]
async fn terminal_escape_in_location_is_rejected_at_intake() {
    let server = north().await;
    let ada = recipient(&server, "Ada Lovelace", EMAIL).await;
    let clerk = server.key_user("clerk", "north", Role::Operator).await;
    let c = server.login_key("clerk", &clerk).await;
    for location in [
        "Shelf \x1b]0;owned\x07\x1b[2J",
        "Shelf \u{9b}2J",
        "\u{202e}A-21",
    ] {
        let out = c
            .exec(&format!(
                "packages intake --tracking {UPS} --recipient {ada} --location '{location}'"
            ))
            .await;
        assert_eq!(out.status, Some(1), "{location:?}: {}", out.stdout);
        assert!(
            out.stderr.starts_with("location contains "),
            "{:?}",
            out.stderr
        );
        assert_eq!(out.stderr.lines().count(), 1);
        assert_no_controls("stderr", &out.stderr);
    }
    assert_eq!(
        owner_count(&server, "SELECT count(*) FROM packages").await,
        0
    );
    // A clean location still works.
    let ok = c
        .exec(&format!(
            "packages intake --tracking {UPS} --recipient {ada} --location 'Shelf B-3'"
        ))
        .await;
    assert_eq!(ok.status, Some(0), "{}", ok.stderr);
}

#[tokio::test]
async fn exec_output_escapes_control_characters_from_old_rows() {
    let server = north().await;
    let ada = recipient(&server, "Ada Lovelace", EMAIL).await;
    let clerk = server.key_user("clerk", "north", Role::Operator).await;
    // A row stored before intake refused such text (or behind the application's back).
    let evil = "Shelf \x1b]0;owned\x07\x1b[2J\u{9b}1m\r\x7f\u{202e}";
    let owner = server.db.owner_pool().await.unwrap();
    sqlx::query(
        "INSERT INTO packages (facility_id, tracking, recipient_id, location, pickup_code) \
         SELECT id, $1, $2, $3, '123456' FROM facilities WHERE slug = 'north'",
    )
    .bind(UPS)
    .bind(ada)
    .bind(evil)
    .execute(&owner)
    .await
    .expect("raw row");
    sqlx::query("UPDATE recipients SET name = $1 WHERE id = $2")
        .bind("Ada \x1b[31mLovelace\x07")
        .bind(ada)
        .execute(&owner)
        .await
        .unwrap();
    owner.close().await;

    let c = server.login_key("clerk", &clerk).await;
    let text = c.exec("packages list").await;
    assert_eq!(text.status, Some(0), "{}", text.stderr);
    assert!(text.stdout.contains(UPS));
    assert_no_controls("packages list", &text.stdout);
    assert!(
        text.stdout.contains("Shelf \\u001b]0;owned\\u0007"),
        "{}",
        text.stdout
    );

    // JSON stays JSON and still says exactly what is stored.
    let json = c.exec("packages list --json").await;
    assert_no_controls("packages list --json", &json.stdout);
    let row: Value = serde_json::from_str(json.stdout.trim()).expect("valid json");
    assert_eq!(row["location"], evil);

    let found = c.exec("recipients search lovelace").await;
    assert!(found.stdout.contains(&ada.to_string()), "{}", found.stdout);
    assert_no_controls("recipients search", &found.stdout);

    // An error quoting the user's own argument is escaped as well.
    let bad = c.exec("packages list --status '\x1b[2Jwaiting'").await;
    assert_eq!(bad.status, Some(1));
    assert_no_controls("stderr", &bad.stderr);
    assert!(bad.stderr.contains("\\u001b[2J"), "{:?}", bad.stderr);
}

#[tokio::test]
async fn concurrent_pickup_of_one_code_answers_every_client() {
    let server = north().await;
    let ada = recipient(&server, "Ada Lovelace", EMAIL).await;
    let clerk = server.key_user("clerk", "north", Role::Operator).await;
    let c = server.login_key("clerk", &clerk).await;
    // Other waiting parcels of the same recipient: a pickup by code takes only its own.
    for t in ["986578788855", UPS] {
        let out = c
            .exec(&format!(
                "packages intake --tracking {t} --recipient {ada} --json"
            ))
            .await;
        assert_eq!(out.status, Some(0), "{}", out.stderr);
    }
    let list = c.exec("packages list --json").await;
    let code = list
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|p| p["tracking"] == UPS)
        .and_then(|p| p["pickup_code"].as_str().map(String::from))
        .expect("code");

    // 16 clients, each logged in, then all at once.
    let mut clients = Vec::new();
    for _ in 0..16 {
        clients.push(server.login_key("clerk", &clerk).await);
    }
    let start = Arc::new(tokio::sync::Barrier::new(clients.len()));
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|client| {
            let start = start.clone();
            let cmd = format!("packages pickup --code {code} --json");
            tokio::spawn(async move {
                start.wait().await;
                client.exec(&cmd).await
            })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        let out = t.await.expect("client task");
        match out.status {
            Some(0) => {
                ok += 1;
                let p: Value = serde_json::from_str(out.stdout.trim()).expect("json");
                assert_eq!(p["tracking"], UPS);
            }
            Some(1) => assert_eq!(out.stderr, "not found\n"),
            other => panic!("no answer ({other:?}): {out:?}"),
        }
    }
    assert_eq!(ok, 1, "exactly one client hands the parcel over");
    let waiting = c.exec("packages list --status waiting --json").await;
    assert_eq!(waiting.stdout.lines().count(), 1, "{}", waiting.stdout);
    assert!(waiting.stdout.contains("986578788855"));
}

/// Recipient fields (form and CSV import share the rules) and the facility name refuse
/// control characters and bidi overrides, naming the field and never quoting the text.
#[tokio::test]
async fn bidi_override_or_escape_in_recipient_and_settings_is_rejected() {
    use packtrack::ops::{Ops, RecipientFields};
    let db = crate::support::fresh_db().await;
    let boss = crate::support::member(&db, "north", "boss", Role::Admin).await;
    let ops = Ops::new(db.app(2).await.expect("app pool"));

    // U+202E shows "Alice" reversed: "ecilA" is stored, "Alice" is what people read.
    let err = ops
        .create_recipient(
            &boss,
            &RecipientFields {
                name: "\u{202e}ecilA".into(),
                unit: "A-1".into(),
                ..Default::default()
            },
        )
        .await
        .expect_err("bidi override refused");
    assert!(
        err.to_string()
            .starts_with("name contains a bidirectional override"),
        "{err}"
    );

    let csv = b"name,unit,email,phone,aliases\nAda,\x1b[2J,,,\nGrace,B-2,,,\n";
    let plan = ops.plan_import(&boss, csv).await.expect("plan");
    assert_eq!(plan.rows.len(), 1);
    assert_eq!(plan.rejected.len(), 1, "{:?}", plan.rejected);
    let reason = &plan.rejected[0].reason;
    assert!(
        reason.contains("unit contains a control character"),
        "{reason}"
    );
    assert_no_controls("import reason", reason);

    let before = ops.facility_settings(&boss).await.expect("settings");
    let mut after = before.clone();
    after.name = "North \x1b]0;owned\x07".into();
    let err = ops
        .save_facility_settings(&boss, &before, &after)
        .await
        .expect_err("escape in the facility name refused");
    assert!(
        err.to_string()
            .starts_with("name contains a control character"),
        "{err}"
    );
}

/// Issue 16 item 10 over real SSH exec: every refusal names what is wrong, lists say when
/// they were cut, and an oversized or NUL-holding command line gets a message.
#[tokio::test]
async fn exec_errors_name_what_is_wrong() {
    let server = north().await;
    let ada = recipient(&server, "Ada Lovelace", EMAIL).await;
    let key = server.key_user("clerk", "north", Role::Operator).await;
    let c = server.login_key("clerk", &key).await;

    let refused = async |line: &str| {
        let out = c.exec(line).await;
        assert_eq!(out.status, Some(1), "{line}: {out:?}");
        assert_eq!(out.stderr.lines().count(), 1, "{line}: {out:?}");
        assert_eq!(out.stdout, "", "{line}");
        out.stderr
    };
    let e = refused("packages intake --recipient 1").await;
    assert!(e.contains("--tracking"), "{e}");
    for line in [
        "packages list --limit -1",
        "packages list --limit 0",
        "recipients search ada --limit -1",
        "packages pickup --id -3",
    ] {
        let e = refused(line).await;
        assert!(e.contains("must be positive"), "{line}: {e}");
    }
    let e = refused("packages list --limit 100000").await;
    assert!(e.contains("at most 5000"), "{e}");
    let e = refused("whoami\0").await;
    assert!(e.contains("NUL"), "{e}");
    let long = format!("recipients search {}", "a".repeat(9000));
    let e = refused(&long).await;
    assert!(e.contains("8 KiB") && e.contains("9018 bytes"), "{e}");

    // A list cut at its limit says so on stderr; stdout keeps only rows.
    for tracking in [UPS, "1Z999AA10123456784"] {
        let out = c
            .exec(&format!(
                "packages intake --tracking {tracking} --recipient {ada}"
            ))
            .await;
        assert_eq!(out.status, Some(0), "{out:?}");
    }
    let out = c.exec("packages list --limit 1 --json").await;
    assert_eq!(out.status, Some(0), "{out:?}");
    assert_eq!(out.stdout.lines().count(), 1, "{out:?}");
    assert_eq!(out.stderr, "showing 1 of 2; use --limit N (at most 5000)\n");
    let all = c.exec("packages list").await;
    assert_eq!((all.stdout.lines().count(), all.stderr.as_str()), (2, ""));
    let help = c.exec("help").await;
    assert!(help.stdout.contains("unmatched"), "{}", help.stdout);
    assert!(help.stdout.contains("default 500"), "{}", help.stdout);
}
