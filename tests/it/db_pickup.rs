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
