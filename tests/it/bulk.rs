//! Bulk remind / return to sender from the package list, through ops as `packtrack_app`:
//! the custody events, the outbox rows and the audit entry they write, who may not run
//! them, a crafted id list naming another facility's parcel, and the flow over SSH.

use packtrack::db::packages::{self, BulkOutcome, Handover, NewPackage};
use packtrack::db::recipients::{self, NewRecipient};
use packtrack::domain::{Principal, Role};
use packtrack::error::AppError;
use packtrack::ops::{Bulk, Ops};
use serde_json::Value;

use crate::support::{fresh_db, member, superuser};

struct Desk {
    db: packtrack::db::Database,
    ops: Ops,
    clerk: Principal,
    /// Ada's, Grace's, an unmatched one (all waiting), and one of Ada's picked up.
    ada: i64,
    grace: i64,
    unmatched: i64,
    picked_up: i64,
    /// Ada's resident id.
    ada_id: i64,
    /// A waiting parcel of facility "beta", and beta's operator.
    beta_parcel: i64,
    bob: Principal,
}

fn resident(name: &str, unit: &str, email: &str) -> NewRecipient {
    NewRecipient {
        name: name.into(),
        unit: unit.into(),
        email: Some(email.into()),
        phone: None,
        aliases: vec![],
    }
}

async fn parcel(
    tx: &mut packtrack::db::TenantTx<'_>,
    tracking: &str,
    recipient: Option<i64>,
) -> i64 {
    packages::intake(
        tx,
        &NewPackage {
            tracking: tracking.into(),
            recipient_id: recipient,
            location: "Shelf A".try_into().unwrap(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .package
    .id
}

/// Facility "alpha" sends email (its residents want it); "beta" has a parcel of its own.
async fn desk() -> Desk {
    let db = fresh_db().await;
    let clerk = member(&db, "alpha", "ann", Role::Operator).await;
    let bob = member(&db, "beta", "bob", Role::Operator).await;
    let owner = db.owner_pool().await.expect("owner pool");
    packtrack::db::unscoped::Admin::new(&owner)
        .set_smtp(
            "alpha",
            "smtp://127.0.0.1:9?tls=none",
            "Alpha Mailroom <mail@alpha.example>",
            None,
            |_| None,
        )
        .await
        .expect("smtp");
    owner.close().await;
    let app = db.app(2).await.expect("app pool");
    let mut tx = app.tenant(&clerk).await.unwrap();
    for (name, unit, email) in [
        ("Ada Lovelace", "A-1", "ada@example.org"),
        ("Grace Hopper", "B-2", "grace@example.org"),
    ] {
        recipients::upsert(&mut tx, &resident(name, unit, email))
            .await
            .unwrap();
    }
    let all = recipients::all(&mut tx).await.unwrap();
    let id_of = |n: &str| all.iter().find(|r| r.name == n).map(|r| r.id).unwrap();
    let (ada_id, grace_id) = (id_of("Ada Lovelace"), id_of("Grace Hopper"));
    let ada = parcel(&mut tx, "1Z999AA10123456784", Some(ada_id)).await;
    let grace = parcel(&mut tx, "986578788855", Some(grace_id)).await;
    let unmatched = parcel(&mut tx, "PT-BULK0001", None).await;
    let picked_up = parcel(&mut tx, "9400100000000000000005", Some(ada_id)).await;
    let handover = Handover {
        receiver: "Ada Lovelace".into(),
        proxy: false,
    };
    packages::pickup(&mut tx, &[picked_up], &handover)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = app.tenant(&bob).await.unwrap();
    let beta_parcel = parcel(&mut tx, "1Z999AA10123456784", None).await;
    tx.commit().await.unwrap();
    Desk {
        ops: Ops::new(app),
        db,
        clerk,
        ada,
        grace,
        unmatched,
        picked_up,
        ada_id,
        beta_parcel,
        bob,
    }
}

/// (facility slug, package, kind, actor login, location) of every custody event but intake.
async fn events(d: &Desk) -> Vec<(String, i64, String, Option<String>, Option<String>)> {
    let mut su = superuser(&d.db).await;
    sqlx::query_as(
        "SELECT f.slug, e.package_id, e.kind, u.login, e.location FROM package_events e \
         JOIN facilities f ON f.id = e.facility_id LEFT JOIN users u ON u.id = e.actor_id \
         WHERE e.kind NOT IN ('received', 'picked_up') ORDER BY e.id",
    )
    .fetch_all(&mut su)
    .await
    .unwrap()
}

/// (facility slug, actor, action, detail) of the bulk audit entries.
async fn audit(d: &Desk) -> Vec<(String, String, String, Value)> {
    let mut su = superuser(&d.db).await;
    sqlx::query_as(
        "SELECT f.slug, a.actor, a.action, a.detail FROM audit_log a \
         JOIN facilities f ON f.id = a.facility_id \
         WHERE a.action LIKE 'packages.bulk%' ORDER BY a.id",
    )
    .fetch_all(&mut su)
    .await
    .unwrap()
}

/// (package, channel, payload) of the reminders queued.
async fn reminders(d: &Desk) -> Vec<(i64, String, Value)> {
    let mut su = superuser(&d.db).await;
    sqlx::query_as(
        "SELECT package_id, channel, payload FROM outbox WHERE event = 'reminder' ORDER BY id",
    )
    .fetch_all(&mut su)
    .await
    .unwrap()
}

/// Every parcel's status, both facilities.
async fn statuses(d: &Desk) -> Vec<(i64, String)> {
    let mut su = superuser(&d.db).await;
    sqlx::query_as("SELECT id, status FROM packages ORDER BY id")
        .fetch_all(&mut su)
        .await
        .unwrap()
}

#[tokio::test]
async fn bulk_remind_queues_the_reminder_per_resident_and_audits_only_counts() {
    let d = desk().await;
    let ids = [d.ada, d.grace, d.unmatched, d.picked_up];
    let out = d.ops.bulk(&d.clerk, Bulk::Remind, &ids).await.unwrap();
    assert_eq!(
        out,
        BulkOutcome {
            done: 2,
            not_waiting: 1,
            unmatched: 1,
            queued: 2,
        }
    );
    // The automatic reminders' event and payload: the template renders it.
    let queued = reminders(&d).await;
    assert_eq!(
        queued
            .iter()
            .map(|(p, c, _)| (*p, c.as_str()))
            .collect::<Vec<_>>(),
        vec![(d.ada, "email"), (d.grace, "email")]
    );
    let (_, _, payload) = &queued[0];
    assert_eq!(payload["event"], "reminder");
    assert_eq!(payload["facility"], "alpha");
    assert_eq!(payload["recipient"]["id"], d.ada_id);
    assert_eq!(payload["recipient"]["email"], "ada@example.org");
    assert_eq!(payload["package"]["tracking"], "1Z999AA10123456784");
    assert!(payload["package"]["pickup_code"].is_string(), "{payload}");
    // One `reminded` event per parcel reminded, by the member (the schedule counts it).
    assert_eq!(
        events(&d).await,
        vec![
            (
                "alpha".into(),
                d.ada,
                "reminded".into(),
                Some("ann".into()),
                None
            ),
            (
                "alpha".into(),
                d.grace,
                "reminded".into(),
                Some("ann".into()),
                None
            ),
        ]
    );
    let entries = audit(&d).await;
    assert_eq!(entries.len(), 1, "{entries:#?}");
    let (slug, actor, action, detail) = &entries[0];
    assert_eq!(
        (slug.as_str(), actor.as_str(), action.as_str()),
        ("alpha", "ann", "packages.bulk_remind")
    );
    assert_eq!(detail["count"], 2);
    assert_eq!(detail["queued"], 2);
    assert_eq!(detail["skipped_not_waiting"], 1);
    assert_eq!(detail["skipped_unmatched"], 1);
    let text = detail.to_string();
    assert!(
        !text.contains("Ada") && !text.contains("example.org") && !text.contains("1Z999"),
        "no PII or tracking in the audit: {text}"
    );
}

#[tokio::test]
async fn bulk_return_returns_waiting_parcels_and_skips_picked_up_ones() {
    let d = desk().await;
    let ids = [d.ada, d.unmatched, d.picked_up, d.ada]; // a repeated id counts once
    let out = d
        .ops
        .bulk(&d.clerk, Bulk::ReturnToSender, &ids)
        .await
        .unwrap();
    assert_eq!((out.done, out.not_waiting, out.queued), (2, 1, 0));
    let st = statuses(&d).await;
    let status = |id: i64| st.iter().find(|(i, _)| *i == id).unwrap().1.clone();
    assert_eq!(status(d.ada), "returned");
    assert_eq!(status(d.unmatched), "returned");
    assert_eq!(status(d.picked_up), "picked_up");
    assert_eq!(status(d.grace), "waiting");
    assert_eq!(
        events(&d).await,
        vec![
            (
                "alpha".into(),
                d.ada,
                "returned".into(),
                Some("ann".into()),
                Some("Shelf A".into())
            ),
            (
                "alpha".into(),
                d.unmatched,
                "returned".into(),
                Some("ann".into()),
                Some("Shelf A".into())
            ),
        ]
    );
    let entries = audit(&d).await;
    assert_eq!(entries.len(), 1, "{entries:#?}");
    assert_eq!(entries[0].2, "packages.bulk_return");
    assert_eq!(entries[0].3["count"], 2);
    assert_eq!(entries[0].3["skipped_not_waiting"], 1);
    // The parcel's detail shows it returned; a second return skips it.
    let (pkg, _) = d.ops.package(&d.clerk, d.ada).await.unwrap();
    assert_eq!(pkg.status, "returned");
    let again = d
        .ops
        .bulk(&d.clerk, Bulk::ReturnToSender, &[d.ada])
        .await
        .unwrap();
    assert_eq!((again.done, again.not_waiting), (0, 1));
}

#[tokio::test]
async fn viewer_cannot_bulk_return_parcels() {
    let d = desk().await;
    let viewer = member(&d.db, "alpha", "vic", Role::Viewer).await;
    for action in [Bulk::ReturnToSender, Bulk::Remind] {
        let err = d
            .ops
            .bulk(&viewer, action, &[d.ada, d.grace])
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::PermissionDenied), "{err:?}");
    }
    assert!(statuses(&d).await.iter().all(|(_, s)| s != "returned"));
    assert!(events(&d).await.is_empty());
    assert!(reminders(&d).await.is_empty());
    assert!(audit(&d).await.is_empty());
}

#[tokio::test]
async fn other_facility_parcel_ids_in_a_bulk_return_are_not_found() {
    let d = desk().await;
    let before = statuses(&d).await;
    // Alpha's clerk names beta's parcel among her own: the whole batch answers as it does
    // for an id that exists nowhere, and nothing of either facility changes.
    for action in [Bulk::ReturnToSender, Bulk::Remind] {
        let crafted = d
            .ops
            .bulk(&d.clerk, action, &[d.ada, d.beta_parcel])
            .await
            .unwrap_err();
        let missing = d
            .ops
            .bulk(&d.clerk, action, &[d.ada, i64::MAX])
            .await
            .unwrap_err();
        assert!(matches!(crafted, AppError::NotFound), "{crafted:?}");
        assert_eq!(crafted.to_string(), missing.to_string());
    }
    assert_eq!(statuses(&d).await, before);
    assert!(events(&d).await.is_empty());
    assert!(reminders(&d).await.is_empty());
    assert!(audit(&d).await.is_empty());
    // Beta's own operator still sees and can return it.
    let out = d
        .ops
        .bulk(&d.bob, Bulk::ReturnToSender, &[d.beta_parcel])
        .await
        .unwrap();
    assert_eq!(out.done, 1);
}

#[tokio::test]
async fn a_bulk_batch_is_bounded_and_not_empty() {
    let d = desk().await;
    let too_many: Vec<i64> = (1..=501).collect();
    let err = d
        .ops
        .bulk(&d.clerk, Bulk::Remind, &too_many)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AppError::Invalid(m) if m.contains("at most 500")),
        "{err:?}"
    );
    let err = d
        .ops
        .bulk(&d.clerk, Bulk::ReturnToSender, &[])
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Invalid(_)), "{err:?}");
    assert!(events(&d).await.is_empty());
}

/// Over SSH as a clerk would: the overdue list, Space and `*` mark, `t` asks once, `y`
/// returns both, and the list empties.
#[tokio::test]
async fn overdue_parcels_are_marked_and_returned_over_ssh() {
    use crate::ssh_support::{TestServer, test_limits};
    use packtrack::db::unscoped::Admin;

    let server = TestServer::start(test_limits()).await;
    server.facility("north", "North Hall").await;
    let clerk = server.key_user("clerk", "north", Role::Operator).await;
    let owner = server.db.owner_pool().await.expect("owner pool");
    let mut tx = Admin::new(&owner).tenant("north").await.expect("tenant");
    parcel(&mut tx, "1Z999AA10123456784", None).await;
    parcel(&mut tx, "986578788855", None).await;
    tx.commit().await.expect("commit");
    sqlx::query("UPDATE packages SET received_at = now() - interval '10 days'")
        .execute(&owner)
        .await
        .expect("age them");

    let c = server.login_key("clerk", &clerk).await;
    let mut screen = c.shell(80, 24).await;
    screen.wait_text("Dashboard").await;
    screen.send(b"l").await;
    screen.wait_text("Packages · waiting · 2").await;
    screen.send(b"o").await;
    screen.wait_text("overdue, oldest first · 2").await;
    screen.send(b" ").await;
    screen.wait_text("· 1 marked").await;
    screen.send(b"*").await;
    screen.wait_text("· 2 marked").await;
    screen.send(b"t").await;
    screen
        .wait_text("Return 2 parcels to sender (no undo on this screen)? y/n")
        .await;
    screen.send(b"y").await;
    screen.wait_text("clerk returned 2 parcels to sender").await;
    screen.wait_text("overdue, oldest first · 0").await;
    let returned: i64 =
        sqlx::query_scalar("SELECT count(*) FROM packages WHERE status = 'returned'")
            .fetch_one(&owner)
            .await
            .expect("count");
    assert_eq!(returned, 2);
    owner.close().await;
}
