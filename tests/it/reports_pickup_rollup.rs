//! Time to pickup from the rollup (migrations/0010_pickup_rollup.sql): the same numbers as
//! the exact `percentile_cont` statement, bit for bit, for ranges of whole and partial UTC
//! days; kept by the pickup transaction; a rollup that does not add up falls back to the
//! exact statement.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use packtrack::db::packages::{self, Handover};
use packtrack::domain::Role;
use packtrack::reports::{self, Cell, Range, Report, Table};
use sqlx::PgPool;

use crate::support::{fresh_db, member};

type Stat = (i64, Option<f64>, Option<f64>);

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 1, 3, 17, 0).unwrap()
}

/// `n` packages of `slug` received from `t0` every 37 minutes; waits spread from seconds
/// to months, with repeats, one negative (clock skew) and some still waiting.
async fn seed(owner: &PgPool, slug: &str, n: i64) {
    sqlx::query(
        "INSERT INTO packages (facility_id, tracking, status, received_at, picked_up_at, \
             picked_up_name) \
         SELECT f.id, 'R' || i, \
                CASE WHEN i % 11 = 0 THEN 'waiting' ELSE 'picked_up' END, \
                $3 + make_interval(mins => (i * 37)::int), \
                CASE WHEN i % 11 = 0 THEN NULL \
                     WHEN i % 97 = 5 THEN $3 + make_interval(mins => (i * 37)::int) - interval '3 minutes' \
                     WHEN i % 53 = 7 THEN $3 + make_interval(mins => (i * 37)::int) + interval '75 days' \
                     ELSE $3 + make_interval(mins => (i * 37)::int) \
                          + make_interval(secs => ((i * 7919) % 1000) ^ 2 * 0.9 + (i % 4) * 3600) END, \
                CASE WHEN i % 11 <> 0 THEN 'Someone' END \
         FROM facilities f, generate_series(1::bigint, $2) AS i WHERE f.slug = $1",
    )
    .bind(slug)
    .bind(n)
    .bind(t0())
    .execute(owner)
    .await
    .expect("seed");
}

async fn exact(owner: &PgPool, facility: i64, lo: DateTime<Utc>, hi: DateTime<Utc>) -> Stat {
    sqlx::query_as(reports::PICKUP_TIME_SQL)
        .bind(facility)
        .bind(lo.date_naive())
        .bind(hi.date_naive())
        .bind(lo)
        .bind(hi)
        .fetch_one(owner)
        .await
        .expect("exact")
}

async fn rollup_rows(owner: &PgPool) -> Vec<(i64, NaiveDate, i32, i32)> {
    sqlx::query_as(
        "SELECT facility_id, day, bucket, n FROM pickup_wait_rollup WHERE n <> 0 ORDER BY 1, 2, 3",
    )
    .fetch_all(owner)
    .await
    .expect("rollup")
}

#[tokio::test]
async fn rollup_percentiles_equal_the_exact_sort_and_follow_pickups() {
    let db = fresh_db().await;
    let boss = member(&db, "north", "boss", Role::Admin).await;
    let _other = member(&db, "south", "sue", Role::Admin).await;
    let owner = db.owner_pool().await.expect("owner");
    sqlx::query("UPDATE facilities SET time_zone = 'America/New_York' WHERE slug = 'north'")
        .execute(&owner)
        .await
        .expect("tz");
    seed(&owner, "north", 3000).await;
    seed(&owner, "south", 800).await;
    let rows: i64 = sqlx::query_scalar("SELECT rebuild_pickup_wait_rollup()")
        .fetch_one(&owner)
        .await
        .expect("rebuild");
    assert!(rows > 100, "{rows}");
    let facility = boss.facility().0;
    let app = db.app(2).await.expect("app");

    let ranges = [
        // Whole local days (New York midnights are 05:00Z): partial UTC days at both ends.
        (t0().date_naive(), t0().date_naive() + Duration::days(29)),
        (
            t0().date_naive() + Duration::days(3),
            t0().date_naive() + Duration::days(3),
        ),
        (
            t0().date_naive() - Duration::days(10),
            t0().date_naive() + Duration::days(200),
        ),
        (
            t0().date_naive() + Duration::days(40),
            t0().date_naive() + Duration::days(41),
        ),
        // Nothing picked up.
        (
            t0().date_naive() - Duration::days(60),
            t0().date_naive() - Duration::days(50),
        ),
    ];
    let check = |label: &'static str| {
        let app = app.clone();
        let owner = owner.clone();
        let boss = boss.clone();
        async move {
            for (from, to) in ranges {
                let mut tx = app.tenant(&boss).await.expect("tx");
                let (lo, hi) = reports::bounds(&mut tx, Range { from, to })
                    .await
                    .expect("bounds");
                let fast = reports::pickup_time_fast(&mut tx, lo, hi)
                    .await
                    .expect("fast");
                tx.commit().await.expect("commit");
                let want = exact(&owner, facility, lo, hi).await;
                assert_eq!(fast, Some(want), "{label}: {from}..{to}");
            }
            // Raw instants too: a range inside one UTC day, and one of whole UTC days.
            for (lo, hi) in [
                (t0() + Duration::hours(30), t0() + Duration::hours(31)),
                (
                    Utc.with_ymd_and_hms(2024, 3, 5, 0, 0, 0).unwrap(),
                    Utc.with_ymd_and_hms(2024, 3, 25, 0, 0, 0).unwrap(),
                ),
            ] {
                let mut tx = app.tenant(&boss).await.expect("tx");
                let fast = reports::pickup_time_fast(&mut tx, lo, hi)
                    .await
                    .expect("fast");
                tx.commit().await.expect("commit");
                assert_eq!(fast, Some(exact(&owner, facility, lo, hi).await), "{label}");
            }
        }
    };
    check("rebuilt").await;
    let wide = exact(
        &owner,
        facility,
        t0() - Duration::days(1),
        t0() + Duration::days(400),
    )
    .await;
    assert!(
        wide.0 > 2000 && wide.1.is_some() && wide.2 > wide.1,
        "{wide:?}"
    );

    // Real pickups keep the rollup: it equals a recount afterwards.
    let waiting: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM packages WHERE status = 'waiting' AND facility_id = $1 ORDER BY id \
         LIMIT 40",
    )
    .bind(facility)
    .fetch_all(&owner)
    .await
    .expect("waiting");
    for chunk in waiting.chunks(7) {
        let mut tx = app.tenant(&boss).await.expect("tx");
        packages::pickup(
            &mut tx,
            chunk,
            &Handover {
                receiver: "Someone".into(),
                proxy: false,
            },
        )
        .await
        .expect("pickup");
        tx.commit().await.expect("commit");
    }
    let kept = rollup_rows(&owner).await;
    sqlx::query("SELECT rebuild_pickup_wait_rollup()")
        .execute(&owner)
        .await
        .expect("rebuild");
    assert_eq!(
        kept,
        rollup_rows(&owner).await,
        "the triggers kept the rollup"
    );
    let mut tx = app.tenant(&boss).await.expect("tx");
    let (_, today) = reports::facility_today(&mut tx).await.expect("today");
    let (lo, hi) = reports::bounds(
        &mut tx,
        Range {
            from: today,
            to: today,
        },
    )
    .await
    .expect("bounds");
    let fast = reports::pickup_time_fast(&mut tx, lo, hi)
        .await
        .expect("fast");
    tx.commit().await.expect("commit");
    assert_eq!(fast.map(|f| f.0), Some(40));
    check("after pickups").await;

    // A picked-up package inserted directly is counted by the insert trigger.
    sqlx::query(
        "INSERT INTO packages (facility_id, tracking, status, received_at, picked_up_at, \
             picked_up_name) VALUES ($1, 'LATE', 'picked_up', $2, $3, 'x')",
    )
    .bind(facility)
    .bind(t0() + Duration::days(2))
    .bind(t0() + Duration::days(3))
    .execute(&owner)
    .await
    .expect("insert");
    check("after an insert").await;

    // A rollup that no longer matches the packages (edited behind the triggers' back):
    // the fast path says so, and the report still has the exact numbers.
    sqlx::query("UPDATE pickup_wait_rollup SET n = n + 1")
        .execute(&owner)
        .await
        .expect("corrupt");
    let (from, to) = ranges[0];
    let mut tx = app.tenant(&boss).await.expect("tx");
    let (lo, hi) = reports::bounds(&mut tx, Range { from, to })
        .await
        .expect("bounds");
    assert_eq!(
        reports::pickup_time_fast(&mut tx, lo, hi)
            .await
            .expect("fast"),
        None
    );
    let mut table = Table::default();
    reports::run(&mut tx, Report::PickupTime, Range { from, to }, &mut table)
        .await
        .expect("run");
    tx.commit().await.expect("commit");
    let (n, m, p) = exact(&owner, facility, lo, hi).await;
    assert_eq!(
        table.rows,
        vec![vec![Cell::Count(n), Cell::Hours(m), Cell::Hours(p)]]
    );
    // Recounted, the fast path is back.
    sqlx::query("SELECT rebuild_pickup_wait_rollup()")
        .execute(&owner)
        .await
        .expect("rebuild");
    check("rebuilt again").await;
}

#[test]
fn bucket_bounds_cover_every_wait_once() {
    let mut last = f64::NEG_INFINITY;
    for b in 0..=222 {
        let (lo, hi) = reports::wait_bucket_bounds(b);
        if (48..=221).contains(&b) || b < 48 || b == 222 {
            assert_eq!(lo, last, "bucket {b} starts where {} ended", b - 1);
            assert!(hi > lo);
            last = hi;
        }
        if b == 47 {
            assert_eq!(hi, 48.0 * 3600.0);
        }
    }
    assert_eq!(last, f64::INFINITY);
}
