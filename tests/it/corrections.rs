//! Correcting a waiting parcel (recipient, flags, note) through ops, as `packtrack_app`: the
//! notices it queues, the custody event it writes, and who may not do it.

use packtrack::db::packages::{self, Edit, NewPackage};
use packtrack::db::recipients::{self, NewRecipient};
use packtrack::domain::{Flags, Note, Principal, Role};
use packtrack::error::AppError;
use packtrack::ops::Ops;
use serde_json::Value;

use crate::support::{fresh_db, member, superuser};

struct Desk {
    db: packtrack::db::Database,
    ops: Ops,
    clerk: Principal,
    /// Recipients "Ada Wrong" (the parcel's) and "Grace Right".
    wrong: i64,
    right: i64,
    parcel: i64,
    /// The pickup code the wrong recipient was sent.
    code: String,
}

fn resident(name: &str, unit: &str) -> NewRecipient {
    NewRecipient {
        name: name.into(),
        unit: unit.into(),
        email: None,
        phone: None,
        aliases: vec![],
    }
}

/// Facility "alpha" with a webhook (it gets every notice), two residents and a parcel logged
/// to the wrong one.
async fn desk() -> Desk {
    let db = fresh_db().await;
    let clerk = member(&db, "alpha", "ann", Role::Operator).await;
    let owner = db.owner_pool().await.expect("owner pool");
    packtrack::db::unscoped::Admin::new(&owner)
        .add_webhook("alpha", "http://127.0.0.1:9/hook", false, |_| vec![0; 32])
        .await
        .expect("webhook");
    owner.close().await;
    let app = db.app(2).await.expect("app pool");
    let mut tx = app.tenant(&clerk).await.unwrap();
    for (name, unit) in [("Ada Wrong", "A-1"), ("Grace Right", "B-2")] {
        recipients::upsert(&mut tx, &resident(name, unit))
            .await
            .unwrap();
    }
    let all = recipients::all(&mut tx).await.unwrap();
    let id_of = |n: &str| all.iter().find(|r| r.name == n).map(|r| r.id).unwrap();
    let (wrong, right) = (id_of("Ada Wrong"), id_of("Grace Right"));
    let pkg = packages::intake(
        &mut tx,
        &NewPackage {
            tracking: "1Z999AA10123456784".into(),
            carrier: Some("ups".into()),
            recipient_id: Some(wrong),
            location: "Shelf A".try_into().unwrap(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .package;
    tx.commit().await.unwrap();
    Desk {
        ops: Ops::new(app),
        db,
        clerk,
        wrong,
        right,
        parcel: pkg.id,
        code: pkg.pickup_code.unwrap(),
    }
}

fn to(recipient: i64) -> Edit {
    Edit {
        recipient_id: Some(recipient),
        ..Edit::default()
    }
}

/// Outbox rows after the intake's: (event, recipient id in the payload, payload).
async fn notices(d: &Desk) -> Vec<(String, Option<i64>, Value)> {
    let mut su = superuser(&d.db).await;
    let rows: Vec<(String, Value)> =
        sqlx::query_as("SELECT event, payload FROM outbox WHERE event <> 'intake' ORDER BY id")
            .fetch_all(&mut su)
            .await
            .unwrap();
    rows.into_iter()
        .map(|(e, p)| {
            let r = p["recipient"]["id"].as_i64();
            (e, r, p)
        })
        .collect()
}

async fn updated_events(d: &Desk) -> Vec<(Option<String>, Value)> {
    let mut su = superuser(&d.db).await;
    sqlx::query_as(
        "SELECT u.login, e.detail FROM package_events e LEFT JOIN users u ON u.id = e.actor_id \
         WHERE e.package_id = $1 AND e.kind = 'updated' ORDER BY e.id",
    )
    .bind(d.parcel)
    .fetch_all(&mut su)
    .await
    .unwrap()
}

#[tokio::test]
async fn reassign_notifies_both_residents_and_records_who_changed_what() {
    let d = desk().await;
    let pkg = d
        .ops
        .correct(&d.clerk, d.parcel, &to(d.right))
        .await
        .unwrap();
    assert_eq!(pkg.recipient_id, Some(d.right));
    assert_eq!(pkg.recipient_name.as_deref(), Some("Grace Right"));
    // The wrong resident was sent the old code: it no longer opens the parcel.
    let new_code = pkg.pickup_code.clone().unwrap();
    assert_ne!(new_code, d.code);
    let err = d.ops.find_for_pickup(&d.clerk, &d.code).await.unwrap_err();
    assert!(matches!(err, AppError::NotFound), "{err:?}");

    let n = notices(&d).await;
    assert_eq!(n.len(), 2, "{n:#?}");
    let (event, who, payload) = &n[0];
    assert_eq!((event.as_str(), *who), ("reassigned", Some(d.right)));
    assert_eq!(payload["package"]["pickup_code"], new_code.as_str());
    let (event, who, payload) = &n[1];
    assert_eq!((event.as_str(), *who), ("disregard", Some(d.wrong)));
    // The disregard notice carries neither where the parcel is nor a code.
    assert!(payload["package"].get("pickup_code").is_none(), "{payload}");
    assert!(payload["package"].get("location").is_none(), "{payload}");
    assert!(!payload.to_string().contains(&new_code));

    let events = updated_events(&d).await;
    assert_eq!(events.len(), 1, "{events:#?}");
    let (actor, detail) = &events[0];
    assert_eq!(actor.as_deref(), Some("ann"));
    assert_eq!(detail["changes"]["recipient_id"]["from"], d.wrong);
    assert_eq!(detail["changes"]["recipient_id"]["to"], d.right);
    // Residents by id only: no names in the custody chain.
    assert!(!detail.to_string().contains("Grace"), "{detail}");
}

#[tokio::test]
async fn flags_and_note_change_without_notices() {
    let d = desk().await;
    let edit = Edit {
        flags: Some(Flags {
            damaged: true,
            ..Flags::default()
        }),
        note: Some(Note::new("box crushed").unwrap()),
        ..Edit::default()
    };
    d.ops.correct(&d.clerk, d.parcel, &edit).await.unwrap();
    let (pkg, _) = d.ops.package(&d.clerk, d.parcel).await.unwrap();
    let h = pkg.handling.unwrap();
    assert!(h.flags.damaged && !h.flags.perishable);
    assert_eq!(h.note.as_str(), "box crushed");
    assert!(notices(&d).await.is_empty());
    let events = updated_events(&d).await;
    assert_eq!(events[0].1["changes"]["flags"]["to"], "damaged");
    assert_eq!(events[0].1["changes"]["note"], "changed");
    // The same edit again changes nothing, and says so.
    let err = d.ops.correct(&d.clerk, d.parcel, &edit).await.unwrap_err();
    assert!(
        matches!(&err, AppError::Invalid(m) if m == "nothing to change"),
        "{err:?}"
    );
}

#[tokio::test]
async fn viewer_cannot_reassign_a_parcel() {
    let d = desk().await;
    let viewer = member(&d.db, "alpha", "vic", Role::Viewer).await;
    let err = d
        .ops
        .correct(&viewer, d.parcel, &to(d.right))
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::PermissionDenied), "{err:?}");
    assert!(notices(&d).await.is_empty());
    assert!(updated_events(&d).await.is_empty());
}

#[tokio::test]
async fn other_facility_parcel_reassign_is_not_found() {
    let d = desk().await;
    let bob = member(&d.db, "beta", "bob", Role::Operator).await;
    // Bob's facility has a resident of its own, the target of his attempt.
    let mut tx = d.ops.db().tenant(&bob).await.unwrap();
    recipients::upsert(&mut tx, &resident("Beta Resident", "C-3"))
        .await
        .unwrap();
    let beta_resident = recipients::all(&mut tx).await.unwrap()[0].id;
    tx.commit().await.unwrap();
    let theirs = d.ops.correct(&bob, d.parcel, &to(beta_resident)).await;
    let missing = d.ops.correct(&bob, i64::MAX, &to(beta_resident)).await;
    assert!(matches!(theirs, Err(AppError::NotFound)), "{theirs:?}");
    assert!(matches!(missing, Err(AppError::NotFound)), "{missing:?}");
    // And alpha's clerk cannot hand the parcel to beta's resident.
    let err = d.ops.correct(&d.clerk, d.parcel, &to(beta_resident)).await;
    assert!(matches!(err, Err(AppError::NotFound)), "{err:?}");
    assert!(notices(&d).await.is_empty());
    assert!(updated_events(&d).await.is_empty());
}

#[tokio::test]
async fn a_picked_up_parcel_cannot_be_corrected() {
    let d = desk().await;
    d.ops
        .pickup_by_code(&d.clerk, &d.code, Some("Ada Wrong".into()))
        .await
        .unwrap();
    let err = d
        .ops
        .correct(&d.clerk, d.parcel, &to(d.right))
        .await
        .unwrap_err();
    let AppError::Conflict(msg) = &err else {
        panic!("{err:?}");
    };
    assert_eq!(
        msg,
        &format!(
            "package {} is picked up: only a waiting parcel can be corrected",
            d.parcel
        )
    );
}

/// Over SSH at 80x24: a parcel logged to the wrong resident is reassigned from its detail
/// through the recipient search, then flagged damaged with F8.
#[tokio::test]
async fn a_clerk_reassigns_and_flags_a_parcel_over_ssh() {
    use crate::ssh_support::{TestServer, test_limits};
    const UPS: &str = "1Z5R89390357567127";
    let server = TestServer::start(test_limits()).await;
    server.facility("north", "North Hall").await;
    let owner = server.db.owner_pool().await.expect("owner pool");
    let admin = packtrack::db::unscoped::Admin::new(&owner);
    let mut tx = admin.tenant("north").await.expect("tenant");
    for (name, unit) in [("Ada Lovelace", "A-101"), ("Grace Hopper", "B-202")] {
        recipients::upsert(&mut tx, &resident(name, unit))
            .await
            .expect("recipient");
    }
    tx.commit().await.expect("commit");
    let ada: i64 = sqlx::query_scalar("SELECT id FROM recipients WHERE name = 'Ada Lovelace'")
        .fetch_one(&owner)
        .await
        .expect("id");
    owner.close().await;
    let clerk = server.key_user("clerk", "north", Role::Operator).await;
    let session = server.login_key("clerk", &clerk).await;
    let out = session
        .exec(&format!(
            "packages intake --tracking {UPS} --recipient {ada}"
        ))
        .await;
    assert_eq!(out.status, Some(0), "{}", out.stderr);

    let mut screen = session.shell(80, 24).await;
    screen.wait_text("Dashboard").await;
    screen.send(b"l").await;
    screen.wait_text("Packages · waiting · 1").await;
    screen.send(b"\r").await;
    screen.wait_text("Recipient  Ada Lovelace").await;
    screen.send(b"e").await;
    screen.wait_text("Reassign to another recipient").await;
    screen.send(b"hopp").await;
    // Both residents are listed before the search answers: wait for the cursor on the match
    // (a fast Enter takes the row under the cursor, as it always has).
    screen.wait_text("▶ Grace Hopper").await;
    screen.send(b"\r").await;
    screen.wait_text("reassigned to Grace Hopper").await;
    screen.wait_text("Recipient  Grace Hopper").await;
    // xterm's F8.
    screen.send(b"f").await;
    screen.wait_text("Change the flags").await;
    screen.send(b"\x1b[19~\r").await;
    screen.wait_text("flags changed").await;
    screen.wait_text("Flags      damaged").await;
    screen.wait_text("updated    clerk").await;
}
