//! Pickup is all or nothing, and notifications are queued with the change they describe.

use packtrack::db::packages::{self, Handover, NewPackage};
use packtrack::db::unscoped::Admin;
use packtrack::domain::Role;
use packtrack::error::AppError;
use packtrack::ops::{IntakeRequest, Ops};

use crate::support::{fresh_db, member};

fn handover() -> Handover {
    Handover {
        receiver: "Ada Lovelace".into(),
        proxy: false,
    }
}

#[tokio::test]
async fn a_pickup_with_one_bad_package_changes_nothing() {
    let db = fresh_db().await;
    let p = member(&db, "alpha", "ann", Role::Operator).await;
    let q = member(&db, "beta", "bob", Role::Operator).await;
    let app = db.app(2).await.unwrap();
    let mut ids = vec![];
    let mut tx = app.tenant(&p).await.unwrap();
    for t in ["1Z5R89390357567127", "986578788855"] {
        let new = NewPackage {
            tracking: t.into(),
            ..Default::default()
        };
        ids.push(packages::intake(&mut tx, &new).await.unwrap().package.id);
    }
    tx.commit().await.unwrap();
    // Another facility's package in the same pickup: not found, and nothing happens.
    let mut tx = app.tenant(&q).await.unwrap();
    let other = packages::intake(
        &mut tx,
        &NewPackage {
            tracking: "9400100000000000000005".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .package
    .id;
    tx.commit().await.unwrap();

    let mut tx = app.tenant(&p).await.unwrap();
    let err = packages::pickup(&mut tx, &[ids[0], other], &handover())
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::NotFound), "{err:?}");
    tx.rollback().await.unwrap();

    // One already picked up: conflict, the other stays waiting.
    let mut tx = app.tenant(&p).await.unwrap();
    packages::pickup(&mut tx, &[ids[1]], &handover())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = app.tenant(&p).await.unwrap();
    let err = packages::pickup(&mut tx, &[ids[0], ids[1]], &handover())
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Conflict(_)), "{err:?}");
    tx.rollback().await.unwrap();
    let mut tx = app.tenant(&p).await.unwrap();
    let first = packages::get(&mut tx, ids[0]).await.unwrap();
    assert_eq!(first.status, "waiting");
    assert!(first.picked_up_at.is_none());
    // A nameless pickup is refused.
    let err = packages::pickup(
        &mut tx,
        &[ids[0]],
        &Handover {
            receiver: "  ".into(),
            proxy: false,
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AppError::Invalid(_)));
}

#[tokio::test]
async fn intake_queues_notifications_in_its_own_transaction() {
    let db = fresh_db().await;
    let p = member(&db, "alpha", "ann", Role::Operator).await;
    let owner = db.owner_pool().await.unwrap();
    let admin = Admin::new(&owner);
    admin
        .add_webhook("alpha", "http://127.0.0.1:9/hook", false, |_| vec![1, 2, 3])
        .await
        .unwrap();
    let ops = Ops::new(db.app(2).await.unwrap());
    let viewer = member(&db, "alpha", "vic", Role::Viewer).await;
    let denied = ops
        .intake(
            &viewer,
            &IntakeRequest {
                tracking: "986578788855".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(denied, AppError::PermissionDenied));
    ops.intake(
        &p,
        &IntakeRequest {
            tracking: "1Z5R89390357567127".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let queued: Vec<(String, String)> =
        sqlx::query_as("SELECT channel, event FROM outbox ORDER BY id")
            .fetch_all(&owner)
            .await
            .unwrap();
    assert_eq!(queued, vec![("webhook".to_string(), "intake".to_string())]);
}

/// The pickup list carries what the desk shows: the unit, each parcel's flags and note; a
/// proxy handover is recorded as one.
#[tokio::test]
async fn the_pickup_list_has_unit_flags_and_note_and_a_proxy_is_recorded() {
    use packtrack::db::recipients::{self, NewRecipient};
    use packtrack::domain::Flags;
    let db = fresh_db().await;
    let p = member(&db, "alpha", "ann", Role::Operator).await;
    let owner = db.owner_pool().await.unwrap();
    let admin = Admin::new(&owner);
    let mut tx = admin.tenant("alpha").await.unwrap();
    recipients::upsert(
        &mut tx,
        &NewRecipient {
            name: "Ada Lovelace".into(),
            unit: "A-101".into(),
            email: None,
            phone: None,
            aliases: vec![],
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let ada: i64 = sqlx::query_scalar("SELECT id FROM recipients WHERE name = 'Ada Lovelace'")
        .fetch_one(&owner)
        .await
        .unwrap();
    let ops = Ops::new(db.app(2).await.unwrap());
    let flags = Flags {
        perishable: true,
        damaged: true,
        ..Flags::default()
    };
    let first = ops
        .intake(
            &p,
            &IntakeRequest {
                tracking: "1Z5R89390357567127".into(),
                recipient_id: Some(ada),
                flags,
                note: "box crushed".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    ops.intake(
        &p,
        &IntakeRequest {
            tracking: "986578788855".into(),
            recipient_id: Some(ada),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let code = first.package.pickup_code.clone().unwrap();
    let list = ops.find_for_pickup(&p, &code).await.unwrap();
    assert_eq!(list.len(), 2);
    assert!(
        list.iter()
            .all(|x| x.recipient_unit.as_deref() == Some("A-101"))
    );
    let h = list[0].handling.as_ref().expect("flags and note loaded");
    assert_eq!(h.flags, flags);
    assert_eq!(h.note.as_str(), "box crushed");
    assert_eq!(
        list[1].handling.as_ref().map(|h| h.flags),
        Some(Flags::default())
    );
    let by_recipient = ops.waiting_for(&p, ada).await.unwrap();
    assert!(by_recipient.iter().all(|x| x.handling.is_some()));

    let ids: Vec<i64> = list.iter().map(|x| x.id).collect();
    ops.pickup(
        &p,
        &ids,
        &Handover {
            receiver: "Bob Smith".into(),
            proxy: true,
        },
    )
    .await
    .unwrap();
    let proxies: Vec<Option<String>> =
        sqlx::query_scalar("SELECT proxy_name FROM packages ORDER BY id")
            .fetch_all(&owner)
            .await
            .unwrap();
    assert_eq!(proxies, vec![Some("Bob Smith".to_string()); 2]);
    let (_, events) = ops.package(&p, ids[0]).await.unwrap();
    let handed = events.iter().find(|e| e.kind == "picked_up").unwrap();
    assert_eq!(handed.detail["receiver"], "Bob Smith");
    assert_eq!(handed.detail["proxy"], true);
}
