//! Issue 16 item 4 over the real server and database: a misspelled name is suggested ("did
//! you mean …?") and choosable with Enter; an unknown recipient (Ctrl-U) keeps the typed name
//! with the parcel, cleaned and bounded, visible to its facility only; the database refuses
//! control characters in it (the second wall).

use packtrack::db::packages::{self, ListQuery, NewPackage};
use packtrack::db::recipients::{self, NewRecipient};
use packtrack::db::unscoped::Admin;
use packtrack::domain::{AddressedTo, Role};
use packtrack::ops::{IntakeRequest, Ops};

use crate::ssh_support::{TestServer, test_limits};
use crate::support::{fresh_db, member};

const UPS: &str = "1Z5R89390357567127";
/// xterm's F4 (SS3 S): the package list.
const F4: &[u8] = b"\x1bOS";

async fn residents(server: &TestServer, slug: &str, names: &[(&str, &str)]) {
    let owner = server.db.owner_pool().await.expect("owner pool");
    let mut tx = Admin::new(&owner).tenant(slug).await.expect("tenant");
    for (name, unit) in names {
        let r = NewRecipient {
            name: (*name).into(),
            unit: (*unit).into(),
            email: None,
            phone: None,
            aliases: vec![],
        };
        recipients::upsert(&mut tx, &r).await.expect("recipient");
    }
    tx.commit().await.expect("commit");
    owner.close().await;
}

#[tokio::test]
async fn a_misspelling_is_suggested_and_an_unknown_name_stays_with_the_parcel() {
    let server = TestServer::start(test_limits()).await;
    server.facility("north", "North Hall").await;
    residents(
        &server,
        "north",
        &[
            ("Aria Kowalski", "C-307"),
            ("Ada Lovelace", "A-101"),
            ("Ben Nowak", "B-12"),
        ],
    )
    .await;
    let clerk = server.key_user("clerk", "north", Role::Operator).await;
    let client = server.login_key("clerk", &clerk).await;
    let mut screen = client.shell(80, 24).await;
    screen.wait_text("Dashboard").await;

    // Tried as a new clerk would: the name as heard, misspelled.
    screen.send(b"i").await;
    screen.wait_text("Tracking").await;
    screen.send(format!("{UPS}\r").as_bytes()).await;
    screen.wait_text("Who is it for?").await;
    screen.send(b"kowalsky").await;
    screen.wait_text("did you mean?").await;
    let shown = screen.text();
    let row = shown
        .lines()
        .find(|l| l.contains("Aria Kowalski"))
        .unwrap_or_else(|| panic!("no suggestion row:\n{shown}"));
    assert!(
        row.contains("C-307") && row.contains("did you mean?"),
        "{row}"
    );
    assert!(!shown.contains("Ben Nowak"), "{shown}");
    // Enter takes the suggestion like any hit.
    screen.send(b"\r").await;
    screen.send(b"Shelf A\r").await;
    screen
        .wait_text(&format!("received {UPS} for Aria Kowalski"))
        .await;

    // A parcel for someone not on the roster: Ctrl-N (no number), the name, Ctrl-U.
    screen.send(b"\x0e").await;
    screen.wait_text("Who is it for?").await;
    screen.send(b"Zed Quux").await;
    screen.wait_text("no matches").await;
    screen.send(b"\x15").await;
    screen.wait_text("addressed to “Zed Quux”").await;
    screen.send(b"\r").await;
    screen.wait_text("for “Zed Quux” (unmatched)").await;

    // The unmatched list shows whom it was for, so someone can match it later.
    screen.send(b"\x1b").await;
    screen.wait_text("Dashboard").await;
    screen.send(F4).await;
    screen.wait_text("Packages").await;
    screen.send(b"su").await;
    screen.wait_text("Packages · unmatched · 1").await;
    screen.wait_text("?Zed Quux").await;

    let owner = server.db.owner_pool().await.expect("owner pool");
    let kept: Vec<(Option<i64>, Option<String>)> =
        sqlx::query_as("SELECT recipient_id, addressed_to FROM packages ORDER BY id")
            .fetch_all(&owner)
            .await
            .expect("rows");
    assert_eq!(kept.len(), 2);
    assert!(kept[0].0.is_some() && kept[0].1.is_none(), "{kept:?}");
    assert_eq!(kept[1], (None, Some("Zed Quux".into())));
    // Not a contract field: the exec JSON is unchanged.
    let list = client.exec("packages list --status waiting --json").await;
    assert!(!list.stdout.contains("Zed"), "{}", list.stdout);
}

#[tokio::test]
async fn the_typed_name_is_cleaned_and_seen_by_its_facility_only() {
    let db = fresh_db().await;
    let ann = member(&db, "alpha", "ann", Role::Operator).await;
    let bob = member(&db, "beta", "bob", Role::Operator).await;
    let ops = Ops::new(db.app(4).await.unwrap());
    let typed = "  Zed\t\u{1b}[2J Quux \u{202e}";
    let done = ops
        .intake(
            &ann,
            &IntakeRequest {
                tracking: UPS.into(),
                addressed_to: typed.into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(done.package.addressed_to.as_deref(), Some("Zed [2J Quux"));
    let find = async |p, search: &str| {
        let q = ListQuery {
            status: Some("unmatched"),
            search,
            oldest_first: false,
            limit: 10,
        };
        ops.find_packages(p, &q).await.unwrap()
    };
    let found = find(&ann, "quux").await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].addressed_to.as_deref(), Some("Zed [2J Quux"));
    // Another facility's unmatched parcel answers like none at all.
    assert!(find(&bob, "quux").await.is_empty());
    assert!(find(&bob, "").await.is_empty());
    assert!(ops.package(&bob, done.package.id).await.is_err());
    let (detail, _) = ops.package(&ann, done.package.id).await.unwrap();
    assert_eq!(detail.addressed_to.as_deref(), Some("Zed [2J Quux"));
    // With a recipient chosen, a typed name is not kept.
    let mut tx = db.app(1).await.unwrap().tenant(&ann).await.unwrap();
    let r = NewRecipient {
        name: "Ada Lovelace".into(),
        unit: "A-101".into(),
        email: None,
        phone: None,
        aliases: vec![],
    };
    recipients::upsert(&mut tx, &r).await.unwrap();
    let ada = recipients::all(&mut tx).await.unwrap()[0].id;
    tx.commit().await.unwrap();
    let matched = ops
        .intake(
            &ann,
            &IntakeRequest {
                tracking: "1Z999AA10123456784".into(),
                recipient_id: Some(ada),
                addressed_to: "Zed Quux".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(matched.package.addressed_to, None);
}

/// A name written past the application (another client, a script, a future bug) still cannot
/// carry an escape sequence to every terminal that lists the parcel, nor grow without bound.
#[tokio::test]
async fn an_escape_sequence_in_the_addressed_to_name_is_refused_by_the_database() {
    let db = fresh_db().await;
    let ann = member(&db, "alpha", "ann", Role::Operator).await;
    let app = db.app(1).await.unwrap();
    for (tracking, raw, ok) in [
        (
            "1Z999AA10123456784",
            "Zed\u{1b}]0;owned\u{7}".to_string(),
            false,
        ),
        ("1Z5R89390357567127", "Zed\u{9b}2J".to_string(), false),
        ("1ZA81A760399999996", "x".repeat(81), false),
        // The same row with a clean name of the longest length is stored.
        ("1ZA81A760399999996", "x".repeat(80), true),
    ] {
        let mut tx = app.tenant(&ann).await.unwrap();
        let new = NewPackage {
            tracking: tracking.into(),
            addressed_to: Some(AddressedTo::stored(raw)),
            ..Default::default()
        };
        let res = packages::intake(&mut tx, &new).await;
        assert_eq!(res.is_ok(), ok, "{tracking}: {res:?}");
    }
}
