//! Tenant isolation, as the runtime role `packtrack_app`: the RLS wall under the typed scope.

use packtrack::db::packages::{self, NewPackage};
use packtrack::db::recipients::{self, NewRecipient};
use packtrack::domain::Role;
use packtrack::error::AppError;

use crate::support::{fresh_db, member};

fn recipient(name: &str, unit: &str) -> NewRecipient {
    NewRecipient {
        name: name.into(),
        unit: unit.into(),
        email: None,
        phone: None,
        aliases: vec![],
    }
}

#[tokio::test]
async fn other_facility_rows_are_invisible_and_untouchable() {
    let db = fresh_db().await;
    let a = member(&db, "alpha", "ann", Role::Operator).await;
    let b = member(&db, "beta", "bob", Role::Operator).await;
    let app = db.app(4).await.unwrap();

    let mut tx = app.tenant(&b).await.unwrap();
    recipients::upsert(&mut tx, &recipient("Beta Resident", "B1"))
        .await
        .unwrap();
    let b_pkg = packages::intake(
        &mut tx,
        &NewPackage {
            tracking: "1Z5R89390357567127".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .package;
    tx.commit().await.unwrap();

    let mut tx = app.tenant(&a).await.unwrap();
    // SELECT: nothing of B's, even when asked for everything.
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM recipients")
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(n, 0, "no facility set: no rows");
    assert_eq!(recipients::count(&mut tx).await.unwrap(), 0);
    assert!(matches!(
        packages::get(&mut tx, b_pkg.id).await,
        Err(AppError::NotFound)
    ));
    tx.commit().await.unwrap();
}
