//! Shared helpers for the integration tests.

use packtrack::db::Database;
use packtrack::db::testing::TestCluster;
use packtrack::db::unscoped::Admin;
use packtrack::domain::{Principal, Role, Source};

/// A fresh, migrated database of the shared test cluster.
pub async fn fresh_db() -> Database {
    TestCluster::shared().fresh_database().await
}

/// Creates a facility with one member of `role` and returns that member's principal,
/// resolved through the same path a login uses.
pub async fn member(db: &Database, slug: &str, login: &str, role: Role) -> Principal {
    let owner = db.owner_pool().await.expect("owner pool");
    let admin = Admin::new(&owner);
    if admin.facility_id(slug).await.is_err() {
        admin
            .create_facility(slug, &format!("Facility {slug}"))
            .await
            .expect("facility");
    }
    admin
        .add_user(login, login, slug, role, None)
        .await
        .expect("user");
    owner.close().await;
    let app = db.app(2).await.expect("app pool");
    let user = app
        .unscoped()
        .user(login)
        .await
        .expect("lookup")
        .expect("user exists");
    let p = app
        .unscoped()
        .principal(&user, Some(slug), Source::Cli)
        .await
        .expect("resolve")
        .expect("membership");
    app.close().await;
    p
}
