//! Tenant isolation, as the runtime role `packtrack_app`: the RLS wall under the typed scope.
//!
//! The typed API (`TenantTx`) already filters by facility, so most checks here go around it
//! with raw SQL on a `packtrack_app` connection and `app.facility_id` set by hand: what
//! they prove is that the database itself refuses, whatever a query forgets.

use packtrack::db::packages::{self, NewPackage};
use packtrack::db::recipients::{self, NewRecipient};
use packtrack::db::{Database, Db, audit};
use packtrack::domain::{Principal, Role};
use packtrack::error::AppError;
use serde_json::json;
use sqlx::{AssertSqlSafe, Executor};

use crate::support::{fresh_db, member, raw_tx, sql_error, superuser, tenant_tables};

/// SQLSTATE insufficient_privilege: both a missing grant and a row level security
/// violation report it; the message tells them apart.
const DENIED: &str = "42501";
const FK_VIOLATION: &str = "23503";

fn recipient(name: &str, unit: &str) -> NewRecipient {
    NewRecipient {
        name: name.into(),
        unit: unit.into(),
        email: None,
        phone: None,
        aliases: vec![],
    }
}

/// Two facilities, each with a recipient, a waiting package (with its custody event) and
/// audit entries.
struct World {
    db: Database,
    app: Db,
    a: Principal,
    b: Principal,
    a_recipient: i64,
    a_package: i64,
    b_recipient: i64,
    b_package: i64,
}

async fn world() -> World {
    let db = fresh_db().await;
    let a = member(&db, "alpha", "ann", Role::Operator).await;
    let b = member(&db, "beta", "bob", Role::Operator).await;
    let app = db.app(4).await.expect("app pool");
    // Rows in every tenant table: a webhook (so intake queues an outbox row) and a kiosk
    // device per facility, before the parcels.
    let owner = db.owner_pool().await.expect("owner pool");
    let admin = packtrack::db::unscoped::Admin::new(&owner);
    for slug in ["alpha", "beta"] {
        admin
            .add_webhook(slug, "http://127.0.0.1:9/hook", false, |_| vec![0; 32])
            .await
            .expect("webhook");
        let line = crate::ssh_support::new_key()
            .public_key()
            .to_openssh()
            .expect("key line");
        let key = packtrack::auth::pubkey::parse_line(&line).expect("key");
        admin
            .add_device(slug, "Front desk", &key)
            .await
            .expect("device");
        // A wrong kiosk PIN per facility (guess_failures).
        sqlx::query(
            "INSERT INTO guess_failures (facility_id, kind, device_id) \
             SELECT facility_id, 'kiosk_pin', id FROM devices \
             WHERE facility_id = (SELECT id FROM facilities WHERE slug = $1)",
        )
        .bind(slug)
        .execute(&owner)
        .await
        .expect("guess failure");
    }
    owner.close().await;
    let (a_recipient, a_package) =
        seed(&app, &a, "Alpha Resident", "A1", "1Z5R89390357567127").await;
    let (b_recipient, b_package) =
        seed(&app, &b, "Beta Resident", "B1", "9400111899223100012345").await;
    // A pickup per facility (its wait goes into pickup_wait_rollup).
    for (p, tracking) in [(&a, "986578788855"), (&b, "1Z999AA10123456784")] {
        let mut tx = app.tenant(p).await.unwrap();
        let id = packages::intake(
            &mut tx,
            &NewPackage {
                tracking: tracking.into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .package
        .id;
        packages::pickup(
            &mut tx,
            &[id],
            &packages::Handover {
                receiver: "Someone".into(),
                proxy: false,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    // A kiosk PIN set in each facility's console (member_pins).
    for p in [&a, &b] {
        let mut tx = app.tenant(p).await.unwrap();
        packtrack::db::keys_admin::set_pin(&mut tx, p.user().0, "$argon2id$not-a-real-hash")
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    World {
        db,
        app,
        a,
        b,
        a_recipient,
        a_package,
        b_recipient,
        b_package,
    }
}

async fn seed(app: &Db, p: &Principal, name: &str, unit: &str, tracking: &str) -> (i64, i64) {
    let mut tx = app.tenant(p).await.unwrap();
    recipients::upsert(&mut tx, &recipient(name, unit))
        .await
        .unwrap();
    let rid = recipients::all(&mut tx).await.unwrap()[0].id;
    let pkg = packages::intake(
        &mut tx,
        &NewPackage {
            tracking: tracking.into(),
            recipient_id: Some(rid),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .package
    .id;
    audit::record(&mut tx, "test.seed", tracking, json!({}))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    (rid, pkg)
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

/// A `SELECT` with no facility filter at all, in every tenant table, returns only the
/// scoped facility's rows — and it does see its own, so the zero is not an accident.
#[tokio::test]
async fn select_without_filter_sees_only_the_scoped_facility() {
    let w = world().await;
    let mut su = superuser(&w.db).await;
    let tables = tenant_tables(&mut su).await;
    assert!(tables.len() >= 6, "tenant tables: {tables:?}");

    let a = w.a.facility().0;
    let mut tx = raw_tx(w.app.pool(), Some(w.a.facility())).await;
    for t in &tables {
        let (own, foreign): (i64, i64) = sqlx::query_as(AssertSqlSafe(format!(
            "SELECT count(*) FILTER (WHERE facility_id = $1), \
                    count(*) FILTER (WHERE facility_id IS DISTINCT FROM $1) FROM \"{t}\""
        )))
        .bind(a)
        .fetch_one(&mut *tx)
        .await
        .unwrap_or_else(|e| panic!("SELECT from {t} as packtrack_app: {e}"));
        assert_eq!(foreign, 0, "{t}: rows of another facility are visible");
        assert!(
            own > 0,
            "{t}: the scoped facility's own rows should be visible"
        );
    }
    // Asked for by id, B's rows are simply not there.
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM packages WHERE id = $1")
        .bind(w.b_package)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(n, 0);
    tx.rollback().await.unwrap();
}

/// With `app.facility_id` unset (or empty) every tenant table is empty, and nothing can be
/// written.
#[tokio::test]
async fn no_facility_set_sees_no_rows_in_any_tenant_table() {
    let w = world().await;
    let mut su = superuser(&w.db).await;
    let tables = tenant_tables(&mut su).await;
    for setting in [None, Some("")] {
        let mut tx = raw_tx(w.app.pool(), None).await;
        if let Some(value) = setting {
            sqlx::query("SELECT set_config('app.facility_id', $1, true)")
                .bind(value)
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        for t in &tables {
            let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT count(*) FROM \"{t}\"")))
                .fetch_one(&mut *tx)
                .await
                .unwrap_or_else(|e| panic!("SELECT from {t} as packtrack_app: {e}"));
            assert_eq!(n, 0, "{t} with app.facility_id = {setting:?}");
        }
        tx.rollback().await.unwrap();
    }
    // Writing without a facility fails the policy, whatever facility_id the row names.
    let mut tx = raw_tx(w.app.pool(), None).await;
    let (code, msg) = sql_error(
        sqlx::query("INSERT INTO recipients (facility_id, name) VALUES ($1, 'Nobody')")
            .bind(w.a.facility().0)
            .execute(&mut *tx)
            .await,
    );
    assert_eq!(code, DENIED, "{msg}");
    assert!(msg.contains("row-level security"), "{msg}");
}

/// UPDATE aimed at another facility's rows matches nothing and leaves them as they were;
/// an UPDATE that would move a row into another facility fails the policy's WITH CHECK.
#[tokio::test]
async fn update_of_other_facility_rows_affects_nothing() {
    let w = world().await;
    let mut tx = raw_tx(w.app.pool(), Some(w.a.facility())).await;
    let n = sqlx::query("UPDATE recipients SET name = 'Hijacked' WHERE id = $1")
        .bind(w.b_recipient)
        .execute(&mut *tx)
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(n, 0, "UPDATE of B's recipient");
    let n = sqlx::query("UPDATE packages SET location = 'gone', note = 'x'")
        .execute(&mut *tx)
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(
        n, 2,
        "an unfiltered UPDATE touches only A's two packages (one waiting, one picked up)"
    );

    // Moving A's own row into B is refused.
    let (code, msg) = sql_error(
        sqlx::query("UPDATE recipients SET facility_id = $1 WHERE id = $2")
            .bind(w.b.facility().0)
            .bind(w.a_recipient)
            .execute(&mut *tx)
            .await,
    );
    assert_eq!(code, DENIED, "{msg}");
    assert!(msg.contains("row-level security"), "{msg}");
    drop(tx);

    // B's rows, seen from behind RLS, are untouched.
    let mut su = superuser(&w.db).await;
    let name: String = sqlx::query_scalar("SELECT name FROM recipients WHERE id = $1")
        .bind(w.b_recipient)
        .fetch_one(&mut su)
        .await
        .unwrap();
    assert_eq!(name, "Beta Resident");
}

/// The runtime role has no DELETE on tenant tables at all; and the policy itself covers
/// DELETE too, shown with a probe role that does hold the privilege.
#[tokio::test]
async fn delete_is_denied_and_the_policy_covers_delete() {
    let w = world().await;
    let a = w.a.facility();
    for t in ["recipients", "packages", "facilities", "memberships"] {
        let mut tx = raw_tx(w.app.pool(), Some(a)).await;
        let (code, msg) = sql_error(
            sqlx::query(AssertSqlSafe(format!("DELETE FROM \"{t}\"")))
                .execute(&mut *tx)
                .await,
        );
        assert_eq!(code, DENIED, "DELETE FROM {t}: {msg}");
        assert!(msg.contains("permission denied"), "{msg}");
    }

    // A role with SELECT and DELETE but without BYPASSRLS: the policy alone decides.
    let mut su = superuser(&w.db).await;
    su.execute(
        "DO $$ BEGIN \
             IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pt_rls_probe') THEN \
                 CREATE ROLE pt_rls_probe NOLOGIN NOSUPERUSER NOBYPASSRLS; \
             END IF; \
         END $$; \
         GRANT USAGE ON SCHEMA public TO pt_rls_probe; \
         GRANT SELECT, DELETE ON package_events, audit_log TO pt_rls_probe;",
    )
    .await
    .unwrap();
    let mut tx = sqlx::Connection::begin(&mut su).await.unwrap();
    sqlx::query("SET LOCAL ROLE pt_rls_probe")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("SELECT set_config('app.facility_id', $1, true)")
        .bind(a.0.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    let foreign = sqlx::query("DELETE FROM package_events WHERE package_id = $1")
        .bind(w.b_package)
        .execute(&mut *tx)
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(foreign, 0, "DELETE of B's events with A set");
    let foreign = sqlx::query("DELETE FROM audit_log WHERE facility_id = $1")
        .bind(w.b.facility().0)
        .execute(&mut *tx)
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(foreign, 0, "DELETE of B's audit rows with A set");
    let own = sqlx::query("DELETE FROM package_events WHERE package_id = $1")
        .bind(w.a_package)
        .execute(&mut *tx)
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(
        own, 1,
        "the probe can delete A's own event: the zero above is the policy"
    );
    tx.rollback().await.unwrap();
}

/// INSERT naming another facility fails the policy's WITH CHECK, in every table the
/// runtime role may insert into.
#[tokio::test]
async fn insert_with_other_facility_id_fails_the_policy() {
    let w = world().await;
    let b = w.b.facility().0;
    let attempts: [(&str, sqlx::query::Query<'_, sqlx::Postgres, _>); 4] = [
        (
            "recipients",
            sqlx::query("INSERT INTO recipients (facility_id, name) VALUES ($1, 'Mallory')")
                .bind(b),
        ),
        (
            "packages",
            sqlx::query("INSERT INTO packages (facility_id, tracking) VALUES ($1, 'TBA123')")
                .bind(b),
        ),
        (
            "package_events",
            sqlx::query(
                "INSERT INTO package_events (facility_id, package_id, kind) \
                 VALUES ($1, $2, 'moved')",
            )
            .bind(b)
            .bind(w.b_package),
        ),
        (
            "audit_log",
            sqlx::query("INSERT INTO audit_log (facility_id, actor, action) VALUES ($1, 'x', 'y')")
                .bind(b),
        ),
    ];
    for (table, query) in attempts {
        let mut tx = raw_tx(w.app.pool(), Some(w.a.facility())).await;
        let (code, msg) = sql_error(query.execute(&mut *tx).await);
        assert_eq!(code, DENIED, "INSERT into {table}: {msg}");
        assert!(
            msg.contains("row-level security") && msg.contains(table),
            "INSERT into {table}: {msg}"
        );
    }
    // The same insert for the scoped facility works: the refusal is about the facility.
    let mut tx = raw_tx(w.app.pool(), Some(w.a.facility())).await;
    sqlx::query("INSERT INTO recipients (facility_id, name) VALUES ($1, 'Mallory')")
        .bind(w.a.facility().0)
        .execute(&mut *tx)
        .await
        .expect("insert for the scoped facility");
    tx.rollback().await.unwrap();
}

/// A package can never point at another facility's recipient: the typed API answers "not
/// found", and the composite foreign key refuses a raw insert.
#[tokio::test]
async fn package_cannot_reference_another_facilitys_recipient() {
    let w = world().await;

    let mut tx = w.app.tenant(&w.a).await.unwrap();
    let res = packages::intake(
        &mut tx,
        &NewPackage {
            tracking: "1Z5R89390357567128".into(),
            recipient_id: Some(w.b_recipient),
            ..Default::default()
        },
    )
    .await;
    assert!(matches!(res, Err(AppError::NotFound)), "{res:?}");
    // Exactly like an id that does not exist anywhere.
    let res = packages::intake(
        &mut tx,
        &NewPackage {
            tracking: "1Z5R89390357567128".into(),
            recipient_id: Some(i64::MAX),
            ..Default::default()
        },
    )
    .await;
    assert!(matches!(res, Err(AppError::NotFound)), "{res:?}");
    tx.rollback().await.unwrap();

    // Raw: A's row pointing at B's recipient id — no such (facility, id) pair.
    let mut tx = raw_tx(w.app.pool(), Some(w.a.facility())).await;
    let (code, msg) = sql_error(
        sqlx::query(
            "INSERT INTO packages (facility_id, tracking, recipient_id) VALUES ($1, 'X1', $2)",
        )
        .bind(w.a.facility().0)
        .bind(w.b_recipient)
        .execute(&mut *tx)
        .await,
    );
    assert_eq!(code, FK_VIOLATION, "{msg}");
    drop(tx);
    // Raw: a row in B's name pointing at B's recipient — the policy stops it first.
    let mut tx = raw_tx(w.app.pool(), Some(w.a.facility())).await;
    let (code, msg) = sql_error(
        sqlx::query(
            "INSERT INTO packages (facility_id, tracking, recipient_id) VALUES ($1, 'X1', $2)",
        )
        .bind(w.b.facility().0)
        .bind(w.b_recipient)
        .execute(&mut *tx)
        .await,
    );
    assert_eq!(code, DENIED, "{msg}");
    drop(tx);
    // Raw: A's custody event for B's package.
    let mut tx = raw_tx(w.app.pool(), Some(w.a.facility())).await;
    let (code, msg) = sql_error(
        sqlx::query(
            "INSERT INTO package_events (facility_id, package_id, kind) VALUES ($1, $2, 'moved')",
        )
        .bind(w.a.facility().0)
        .bind(w.b_package)
        .execute(&mut *tx)
        .await,
    );
    assert_eq!(code, FK_VIOLATION, "{msg}");
    // Pointing a package of A's at B's recipient by UPDATE fails the same way.
    let (code, msg) = sql_error(
        sqlx::query("UPDATE packages SET recipient_id = $1 WHERE id = $2")
            .bind(w.b_recipient)
            .bind(w.a_package)
            .execute(&mut *raw_tx(w.app.pool(), Some(w.a.facility())).await)
            .await,
    );
    assert_eq!(code, FK_VIOLATION, "{msg}");
}

/// The custody chain and the audit trail are append-only for the runtime role: no UPDATE,
/// DELETE or TRUNCATE, even on the scoped facility's own rows.
#[tokio::test]
async fn audit_log_and_package_events_are_append_only_for_the_app() {
    let w = world().await;
    let statements = [
        "UPDATE audit_log SET action = 'forged'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "UPDATE package_events SET kind = 'lost'",
        "DELETE FROM package_events",
        "TRUNCATE package_events",
    ];
    for sql in statements {
        let mut tx = raw_tx(w.app.pool(), Some(w.a.facility())).await;
        let (code, msg) = sql_error(sqlx::query(sql).execute(&mut *tx).await);
        assert_eq!(code, DENIED, "{sql}: {msg}");
        assert!(msg.contains("permission denied"), "{sql}: {msg}");
    }
    // Appending still works (and is what the app does on every action).
    let mut tx = w.app.tenant(&w.a).await.unwrap();
    audit::record(&mut tx, "test.append", "x", json!({}))
        .await
        .expect("append as packtrack_app");
    tx.commit().await.unwrap();
}

/// `app.facility_id` is transaction-local: a pooled connection never carries one
/// facility's scope into the next borrower's work.
#[tokio::test]
async fn tenant_scope_ends_with_the_transaction() {
    let w = world().await;
    // One connection, so the next query certainly reuses the scoped one.
    let app = w.db.app(1).await.unwrap();
    for commit in [true, false] {
        let mut tx = app.tenant(&w.a).await.unwrap();
        assert_eq!(recipients::count(&mut tx).await.unwrap(), 1);
        if commit {
            tx.commit().await.unwrap();
        } else {
            tx.rollback().await.unwrap();
        }
        let setting: Option<String> =
            sqlx::query_scalar("SELECT current_setting('app.facility_id', true)")
                .fetch_one(app.pool())
                .await
                .unwrap();
        assert!(
            setting.as_deref().unwrap_or("").is_empty(),
            "scope leaked after {}: {setting:?}",
            if commit { "commit" } else { "rollback" }
        );
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM recipients")
            .fetch_one(app.pool())
            .await
            .unwrap();
        assert_eq!(n, 0);
    }
    // Dropping a tenant transaction without commit rolls back and unscopes too.
    {
        let mut tx = app.tenant(&w.b).await.unwrap();
        assert_eq!(recipients::count(&mut tx).await.unwrap(), 1);
    }
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM packages")
        .fetch_one(app.pool())
        .await
        .unwrap();
    assert_eq!(n, 0);
    app.close().await;
}
