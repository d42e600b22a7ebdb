//! Packages and recipients through the typed tenant API, as `packtrack_app`.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use packtrack::db::packages::{self, Intake, NewPackage};
use packtrack::db::recipients::{self, NewRecipient, Upserted};
use packtrack::db::{Database, Db};
use packtrack::domain::{Principal, Role};
use packtrack::error::AppError;
use tokio::sync::Barrier;

use crate::support::{fresh_db, member, raw_tx, sql_error, superuser};

const TRACKING: &str = "1Z999AA10123456784";

fn scan(tracking: &str) -> NewPackage {
    NewPackage {
        tracking: tracking.into(),
        carrier: Some("ups".into()),
        location: "shelf A".try_into().unwrap(),
        ..Default::default()
    }
}

async fn intake_and_commit(app: &Db, p: &Principal, new: &NewPackage) -> Intake {
    let mut tx = app.tenant(p).await.unwrap();
    let res = packages::intake(&mut tx, new).await.unwrap();
    tx.commit().await.unwrap();
    res
}

/// Packages and 'received' events with this tracking number, counted behind RLS.
async fn rows_for(db: &Database, tracking: &str) -> (i64, i64) {
    let mut su = superuser(db).await;
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM packages WHERE tracking = $1), \
                (SELECT count(*) FROM package_events e JOIN packages p \
                   ON p.facility_id = e.facility_id AND p.id = e.package_id \
                 WHERE p.tracking = $1 AND e.kind = 'received')",
    )
    .bind(tracking)
    .fetch_one(&mut su)
    .await
    .unwrap()
}

/// Several terminals scan the same parcel at once, each in its own transaction on its own
/// connection: one package, one custody event, and every scan answers with that package.
#[tokio::test]
async fn concurrent_scans_of_one_tracking_number_make_one_package() {
    const SCANS: usize = 6;
    let db = fresh_db().await;
    let p = member(&db, "alpha", "ann", Role::Operator).await;
    let app = db.app(SCANS as u32).await.unwrap();
    let barrier = Arc::new(Barrier::new(SCANS));
    let tasks: Vec<_> = (0..SCANS)
        .map(|_| {
            let (app, p, barrier) = (app.clone(), p.clone(), barrier.clone());
            tokio::spawn(async move {
                let mut tx = app.tenant(&p).await.unwrap();
                barrier.wait().await;
                let res = packages::intake(&mut tx, &scan(TRACKING)).await.unwrap();
                tx.commit().await.unwrap();
                res
            })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.expect("scan task"));
    }
    let created = results.iter().filter(|r| r.created).count();
    assert_eq!(
        created, 1,
        "exactly one scan creates the package: {results:#?}"
    );
    let first = &results[0].package;
    for r in &results {
        assert_eq!(
            r.package.id, first.id,
            "every scan answers with the same package"
        );
        assert_eq!(r.package.pickup_code, first.pickup_code);
    }
    assert_eq!(rows_for(&db, TRACKING).await, (1, 1));
}

/// The interleaving that matters, made deterministic: the second scan's insert blocks on
/// the first one's uncommitted row. If the first commits, the second returns that package;
/// if it rolls back, the second creates its own.
#[tokio::test]
async fn a_scan_blocked_behind_an_uncommitted_intake_resolves_correctly() {
    let db = fresh_db().await;
    let p = member(&db, "alpha", "ann", Role::Operator).await;
    let app = db.app(4).await.unwrap();
    let mut su = superuser(&db).await;

    for first_commits in [true, false] {
        let tracking = if first_commits {
            "TBA000000000001"
        } else {
            "TBA000000000002"
        };
        let mut first = app.tenant(&p).await.unwrap();
        let mine = packages::intake(&mut first, &scan(tracking)).await.unwrap();
        assert!(mine.created);

        let second = {
            let (app, p) = (app.clone(), p.clone());
            tokio::spawn(async move { intake_and_commit(&app, &p, &scan(tracking)).await })
        };
        // Wait until the second scan is actually waiting on the first one's row lock.
        let mut waited = 0;
        loop {
            let blocked: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE datname = current_database() AND usename = 'packtrack_app' \
                   AND wait_event_type = 'Lock'",
            )
            .fetch_one(&mut su)
            .await
            .unwrap();
            if blocked > 0 {
                break;
            }
            assert!(!second.is_finished(), "the second scan did not block");
            waited += 1;
            assert!(waited < 2000, "the second scan never blocked on the first");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        if first_commits {
            first.commit().await.unwrap();
        } else {
            first.rollback().await.unwrap();
        }
        let theirs = second.await.expect("second scan");
        if first_commits {
            assert!(!theirs.created, "the re-scan must not create a duplicate");
            assert_eq!(theirs.package.id, mine.package.id);
        } else {
            assert!(
                theirs.created,
                "the first scan rolled back; the second is the package"
            );
            assert_ne!(theirs.package.id, mine.package.id);
        }
        assert_eq!(rows_for(&db, tracking).await, (1, 1), "{tracking}");
    }
}

/// A re-scan after commit returns the waiting package; once it is picked up, the same
/// tracking number makes a new package (a parcel can come back).
#[tokio::test]
async fn rescan_returns_the_waiting_package_until_it_is_picked_up() {
    let db = fresh_db().await;
    let p = member(&db, "alpha", "ann", Role::Operator).await;
    let app = db.app(2).await.unwrap();
    let one = intake_and_commit(&app, &p, &scan(TRACKING)).await;
    let again = intake_and_commit(&app, &p, &scan(TRACKING)).await;
    assert!(one.created && !again.created);
    assert_eq!(one.package, again.package);

    let mut tx = raw_tx(app.pool(), Some(p.facility())).await;
    sqlx::query("UPDATE packages SET status = 'picked_up', picked_up_at = now() WHERE id = $1")
        .bind(one.package.id)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let returned = intake_and_commit(&app, &p, &scan(TRACKING)).await;
    assert!(returned.created);
    assert_ne!(returned.package.id, one.package.id);
}

/// Pickup codes: six digits, distinct among the waiting packages of a facility (enforced
/// by a unique index, not just by luck); a picked-up package frees its code.
#[tokio::test]
async fn pickup_codes_are_six_digits_and_unique_among_waiting_packages() {
    let db = fresh_db().await;
    let p = member(&db, "alpha", "ann", Role::Operator).await;
    let app = db.app(2).await.unwrap();
    let mut tx = app.tenant(&p).await.unwrap();
    let mut codes = HashSet::new();
    let mut ids = Vec::new();
    for i in 0..200 {
        let res = packages::intake(&mut tx, &scan(&format!("TBA{i:012}")))
            .await
            .unwrap();
        assert!(res.created);
        let code = res
            .package
            .pickup_code
            .expect("a waiting package has a pickup code");
        assert!(
            code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()),
            "pickup code {code:?}"
        );
        assert!(
            codes.insert(code.clone()),
            "pickup code {code} issued twice"
        );
        ids.push((res.package.id, code));
    }
    tx.commit().await.unwrap();
    assert_eq!(codes.len(), 200);

    // The database refuses a second waiting package with a code already waiting.
    let (taken_id, taken) = ids[0].clone();
    let mut tx = raw_tx(app.pool(), Some(p.facility())).await;
    let (code, msg) = sql_error(
        sqlx::query(
            "INSERT INTO packages (facility_id, tracking, pickup_code) VALUES ($1, 'DUP1', $2)",
        )
        .bind(p.facility().0)
        .bind(&taken)
        .execute(&mut *tx)
        .await,
    );
    assert_eq!(code, "23505", "{msg}");
    drop(tx);
    // Once that package is picked up, its code may be issued again.
    let mut tx = raw_tx(app.pool(), Some(p.facility())).await;
    sqlx::query("UPDATE packages SET status = 'picked_up', picked_up_at = now() WHERE id = $1")
        .bind(taken_id)
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO packages (facility_id, tracking, pickup_code) VALUES ($1, 'DUP1', $2)",
    )
    .bind(p.facility().0)
    .bind(&taken)
    .execute(&mut *tx)
    .await
    .expect("a picked-up package's code is free again");
    tx.rollback().await.unwrap();
}

/// Upserting a recipient is idempotent on (name, unit), case-insensitively; a real change
/// is reported as an update, a deactivated recipient comes back active.
#[tokio::test]
async fn recipient_upsert_is_idempotent() {
    let db = fresh_db().await;
    let p = member(&db, "alpha", "ann", Role::Admin).await;
    let app = db.app(2).await.unwrap();
    let mut r = NewRecipient {
        name: "Ada Lovelace".into(),
        unit: "12B".into(),
        email: Some("ada@example.org".into()),
        phone: None,
        aliases: vec!["Ada".into()],
    };
    let mut tx = app.tenant(&p).await.unwrap();
    assert_eq!(
        recipients::upsert(&mut tx, &r).await.unwrap(),
        Upserted::Added
    );
    assert_eq!(
        recipients::upsert(&mut tx, &r).await.unwrap(),
        Upserted::Unchanged
    );
    let shouted = NewRecipient {
        name: "ADA LOVELACE".into(),
        unit: "12b".into(),
        ..r.clone()
    };
    assert_eq!(
        recipients::upsert(&mut tx, &shouted).await.unwrap(),
        Upserted::Unchanged,
        "name and unit match case-insensitively"
    );
    r.email = Some("ada@lovelace.example".into());
    assert_eq!(
        recipients::upsert(&mut tx, &r).await.unwrap(),
        Upserted::Updated
    );
    assert_eq!(
        recipients::upsert(&mut tx, &r).await.unwrap(),
        Upserted::Unchanged
    );
    tx.commit().await.unwrap();

    let mut tx = raw_tx(app.pool(), Some(p.facility())).await;
    sqlx::query("UPDATE recipients SET active = false")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = app.tenant(&p).await.unwrap();
    assert_eq!(
        recipients::upsert(&mut tx, &r).await.unwrap(),
        Upserted::Updated
    );
    let all = recipients::all(&mut tx).await.unwrap();
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].email.as_deref(), Some("ada@lovelace.example"));
    assert!(all[0].active);
    assert_eq!(all[0].name, "Ada Lovelace", "the stored spelling is kept");
    tx.commit().await.unwrap();
}

/// Another facility's recipient and package ids answer exactly like ids that do not exist.
#[tokio::test]
async fn cross_facility_ids_are_not_found() {
    let db = fresh_db().await;
    let a = member(&db, "alpha", "ann", Role::Operator).await;
    let b = member(&db, "beta", "bob", Role::Operator).await;
    let app = db.app(2).await.unwrap();

    let mut tx = app.tenant(&b).await.unwrap();
    let r = NewRecipient {
        name: "Beta Resident".into(),
        unit: "B1".into(),
        email: None,
        phone: None,
        aliases: vec![],
    };
    recipients::upsert(&mut tx, &r).await.unwrap();
    let b_recipient = recipients::all(&mut tx).await.unwrap()[0].id;
    let b_package = packages::intake(
        &mut tx,
        &NewPackage {
            recipient_id: Some(b_recipient),
            ..scan(TRACKING)
        },
    )
    .await
    .unwrap()
    .package;
    // Seen from B, both exist.
    assert_eq!(
        recipients::get(&mut tx, b_recipient).await.unwrap().name,
        "Beta Resident"
    );
    assert_eq!(b_package.recipient_name.as_deref(), Some("Beta Resident"));
    tx.commit().await.unwrap();

    let mut tx = app.tenant(&a).await.unwrap();
    for id in [b_recipient, -1, i64::MAX] {
        let res = recipients::get(&mut tx, id).await;
        assert!(
            matches!(res, Err(AppError::NotFound)),
            "recipient {id}: {res:?}"
        );
    }
    for id in [b_package.id, -1, i64::MAX] {
        let res = packages::get(&mut tx, id).await;
        assert!(
            matches!(res, Err(AppError::NotFound)),
            "package {id}: {res:?}"
        );
    }
    let res = packages::intake(
        &mut tx,
        &NewPackage {
            recipient_id: Some(b_recipient),
            ..scan("TBA999999999999")
        },
    )
    .await;
    assert!(matches!(res, Err(AppError::NotFound)), "{res:?}");
    assert!(recipients::all(&mut tx).await.unwrap().is_empty());
    assert!(packages::list(&mut tx, None, 100).await.unwrap().is_empty());
    assert!(
        packages::find_waiting(&mut tx, TRACKING)
            .await
            .unwrap()
            .is_none()
    );
    // The same tracking number may wait in A independently of B.
    let mine = packages::intake(&mut tx, &scan(TRACKING)).await.unwrap();
    assert!(
        mine.created,
        "B's waiting package must not satisfy A's scan"
    );
    tx.commit().await.unwrap();
}

/// PostgreSQL ended every pooled connection (a restart, an administrator's
/// `pg_terminate_backend`): the next transactions get working connections instead of
/// errors, without the pool pinging every connection it lends.
#[tokio::test]
async fn transactions_survive_pooled_connections_being_terminated() {
    let db = fresh_db().await;
    let p = member(&db, "alpha", "ann", Role::Operator).await;
    let app = db.app(3).await.unwrap();
    // Fill the pool: three transactions open at once.
    let txs = futures_util::future::join_all((0..3).map(|_| app.tenant(&p))).await;
    for tx in txs {
        tx.unwrap().commit().await.unwrap();
    }
    assert!(app.pool().size() >= 2, "connections are pooled");

    let mut su = superuser(&db).await;
    let killed: i64 = sqlx::query_scalar(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid() \
           AND backend_type = 'client backend'",
    )
    .fetch_one(&mut su)
    .await
    .unwrap();
    assert!(killed >= 2, "terminated {killed} backends");
    for _ in 0..100 {
        let left: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
               AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
        )
        .fetch_one(&mut su)
        .await
        .unwrap();
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // At once (the pool's idle-ping threshold has not passed): every stale connection is
    // met by BEGIN, dropped, and replaced.
    for i in 0..4 {
        let res = intake_and_commit(&app, &p, &scan(&format!("PT-RESTART-{i}"))).await;
        assert!(res.created);
    }
    assert_eq!(rows_for(&db, "PT-RESTART-3").await, (1, 1));
}

/// The dashboard's "received today" is the facility's local day: with the facility at
/// UTC+14, a parcel one minute before its local midnight is yesterday's, one minute after
/// is today's, whatever the server's clock says.
#[tokio::test]
async fn dashboard_today_is_the_facility_local_day() {
    let db = fresh_db().await;
    let p = member(&db, "alpha", "ann", Role::Operator).await;
    let app = db.app(2).await.unwrap();
    let before = intake_and_commit(&app, &p, &scan("PT-TZ-BEFORE"))
        .await
        .package;
    let after = intake_and_commit(&app, &p, &scan("PT-TZ-AFTER"))
        .await
        .package;
    let mut su = superuser(&db).await;
    sqlx::query("UPDATE facilities SET time_zone = 'Pacific/Kiritimati' WHERE slug = 'alpha'")
        .execute(&mut su)
        .await
        .unwrap();
    for (id, minutes) in [(before.id, -1), (after.id, 1)] {
        sqlx::query(
            "UPDATE packages SET received_at = \
                 (date_trunc('day', now() AT TIME ZONE 'Pacific/Kiritimati') \
                     AT TIME ZONE 'Pacific/Kiritimati') + make_interval(mins => $2) \
             WHERE id = $1",
        )
        .bind(id)
        .bind(minutes)
        .execute(&mut su)
        .await
        .unwrap();
    }
    let mut tx = app.tenant(&p).await.unwrap();
    let s = packages::stats(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(s.time_zone, "Pacific/Kiritimati");
    assert_eq!((s.waiting, s.received_today), (2, 1), "{s:?}");
}

/// The package list's search: by unit with or without its punctuation, across statuses,
/// `%` as plain text, oldest first on request; another facility's parcels never show.
#[tokio::test]
async fn the_list_finds_by_unit_across_statuses_within_the_facility() {
    let db = fresh_db().await;
    let ann = member(&db, "alpha", "ann", Role::Operator).await;
    let bob = member(&db, "beta", "bob", Role::Operator).await;
    let app = db.app(2).await.unwrap();
    let mut ids = Vec::new();
    for (p, slug, unit, tracking) in [
        (&ann, "alpha", "A-101", "1Z5R89390357567127"),
        (&ann, "alpha", "B-204", "986578788855"),
        (&bob, "beta", "A-101", "9400100000000000000005"),
    ] {
        let mut tx = app.tenant(p).await.unwrap();
        let r = NewRecipient {
            name: "Abigail Lee".into(),
            unit: unit.into(),
            email: None,
            phone: None,
            aliases: vec![],
        };
        recipients::upsert(&mut tx, &r).await.unwrap();
        tx.commit().await.unwrap();
        let mut su = superuser(&db).await;
        let rid: i64 = sqlx::query_scalar(
            "SELECT r.id FROM recipients r JOIN facilities f ON f.id = r.facility_id \
             WHERE f.slug = $1 AND r.unit = $2",
        )
        .bind(slug)
        .bind(unit)
        .fetch_one(&mut su)
        .await
        .unwrap();
        let new = NewPackage {
            recipient_id: Some(rid),
            ..scan(tracking)
        };
        ids.push(intake_and_commit(&app, p, &new).await.package.id);
    }
    // A second parcel for A-101 in alpha, handed over.
    let mut su = superuser(&db).await;
    let rid: i64 = sqlx::query_scalar("SELECT recipient_id FROM packages WHERE id = $1")
        .bind(ids[0])
        .fetch_one(&mut su)
        .await
        .unwrap();
    let later = NewPackage {
        recipient_id: Some(rid),
        ..scan("1Z999AA10123456784")
    };
    let done = intake_and_commit(&app, &ann, &later).await.package.id;
    let mut tx = app.tenant(&ann).await.unwrap();
    let handover = packages::Handover {
        receiver: "Abigail Lee".into(),
        proxy: false,
    };
    packages::pickup(&mut tx, &[done], &handover).await.unwrap();
    tx.commit().await.unwrap();

    let find = async |search: &str, status: Option<&str>, oldest_first: bool| {
        let mut tx = app.tenant(&ann).await.unwrap();
        let q = packages::ListQuery {
            status,
            search,
            oldest_first,
            limit: 100,
        };
        let rows = packages::find(&mut tx, &q).await.unwrap();
        tx.commit().await.unwrap();
        rows.into_iter().map(|p| p.id).collect::<Vec<_>>()
    };
    // Newest first, both statuses; beta's A-101 is not there.
    assert_eq!(find("a101", None, false).await, vec![done, ids[0]]);
    assert_eq!(find("A-101", None, false).await, vec![done, ids[0]]);
    assert_eq!(find(" a-1 ", None, false).await, vec![done, ids[0]]);
    assert_eq!(find("a101", None, true).await, vec![ids[0], done]);
    assert_eq!(find("a101", Some("waiting"), false).await, vec![ids[0]]);
    assert_eq!(find("lee", None, false).await.len(), 3);
    assert_eq!(find("%", None, false).await, Vec::<i64>::new());
    assert!(!find("", None, false).await.contains(&ids[2]));
    let rows = {
        let mut tx = app.tenant(&ann).await.unwrap();
        let rows = packages::list(&mut tx, Some("waiting"), 10).await.unwrap();
        tx.commit().await.unwrap();
        rows
    };
    assert!(rows.iter().all(|p| p.recipient_unit.is_some()), "{rows:?}");
}
