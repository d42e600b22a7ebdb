//! The Reports screen's day list and the exact totals of cut lists, measured over a
//! facility of 100,000 packages (and a second one of 20,000 beside it): issue 16's "a day
//! with 2,000 parcels must render quickly; measure the query at 100k packages".
//!
//! ```text
//! cargo run --release --example reports_day            # 100,000 packages
//! DAY_ROWS=1000000 cargo run --release --example reports_day
//! ```
//!
//! A fresh test database (TestCluster), seeded by the owner with one INSERT … SELECT
//! generate_series per facility: packages received evenly over the last 365 days (about 274
//! a day at 100k; 3% returned, 1% lost, the rest picked up 15 minutes to about 14 days later
//! when that is in the past), plus 2,000 parcels received the day before yesterday (local)
//! in one facility, two in three picked up. Then VACUUM ANALYZE as autovacuum would. Each
//! measurement runs the way the server runs it, as an admin on the `packtrack_app` pool (row
//! level security on): one warm-up and DAY_RUNS timed runs (default 15), median, min and
//! max. Last, EXPLAIN (ANALYZE, BUFFERS) of the busy day's first page. Plain `Instant`
//! timing; prints, never asserts on time.

use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use packtrack::benchkit::median;
use packtrack::db::Database;
use packtrack::db::testing::TestCluster;
use packtrack::db::unscoped::Admin;
use packtrack::domain::{Principal, Role, Source};
use packtrack::ops::Ops;
use packtrack::reports::{self, CsvSink, DAY_PAGE, Report};
use sqlx::AssertSqlSafe;
use sqlx::postgres::PgPool;

fn main() {
    let rows: i64 = packtrack::benchkit::env_num("DAY_ROWS", 100_000);
    let runs: usize = packtrack::benchkit::env_num("DAY_RUNS", 15);
    let tc = TestCluster::shared();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        let db = tc.fresh_database().await;
        let owner = db.owner_pool().await.expect("owner pool");
        let boss = setup(&db, &owner).await;
        let t = Instant::now();
        seed(&owner, "big", rows).await;
        seed(&owner, "other", rows / 5).await;
        let busy = busy_day(&owner).await;
        sqlx::raw_sql("VACUUM (ANALYZE) packages, recipients")
            .execute(&owner)
            .await
            .expect("vacuum");
        let counts: Vec<(String, i64)> = sqlx::query_as(
            "SELECT f.slug, count(*) FROM packages p JOIN facilities f ON f.id = p.facility_id \
             GROUP BY 1 ORDER BY 1",
        )
        .fetch_all(&owner)
        .await
        .expect("counts");
        println!("seeded {counts:?} in {}", fmt(t.elapsed()));

        let app = db.app(2).await.expect("app pool");
        let ops = Ops::new(app.clone());
        let typical = busy - chrono::Duration::days(5);
        println!(
            "\n{:<44} {:>7} {:>9} {:>9} {:>9}",
            "measurement", "rows", "median", "min", "max"
        );
        for (label, day, offset) in [
            ("day page, typical day, first page", typical, 0),
            ("day page, 2,000-parcel day, first page", busy, 0),
            ("day page, 2,000-parcel day, last page", busy, 10 * DAY_PAGE),
        ] {
            let (samples, n) = time(runs, async || {
                let page = reports::day_page(&app, &boss, Some(day), offset)
                    .await
                    .expect("page");
                (page.rows.len(), page.totals.listed)
            })
            .await;
            report(&format!("{label} (of {})", n.1), n.0, &samples);
        }
        let busy_s = busy.to_string();
        let (samples, n) = time(runs, async || {
            let mut sink = CsvSink::new(std::io::sink());
            let s = reports::export(
                &app,
                &boss,
                Report::Parcels,
                Some(&busy_s),
                Some(&busy_s),
                "csv",
                &mut sink,
            )
            .await
            .expect("export");
            (usize::try_from(s.rows).unwrap_or(0), 0)
        })
        .await;
        report("reports parcels --day (busy) --csv, audited", n.0, &samples);
        for status in [None, Some("waiting")] {
            let (samples, n) = time(runs, async || {
                let (list, _) = ops
                    .list_packages_counted(&boss, status, 500)
                    .await
                    .expect("list");
                (list.len(), 0)
            })
            .await;
            let (_, total) = ops
                .list_packages_counted(&boss, status, 500)
                .await
                .expect("list");
            report(
                &format!("packages list {status:?}, with total {total:?}"),
                n.0,
                &samples,
            );
            let (samples, n) = time(runs, async || {
                (
                    ops.list_packages(&boss, status, 500)
                        .await
                        .expect("list")
                        .len(),
                    0,
                )
            })
            .await;
            report(
                &format!("packages list {status:?}, no count"),
                n.0,
                &samples,
            );
        }
        println!("\nEXPLAIN (ANALYZE, BUFFERS), the 2,000-parcel day's first page:\n");
        for line in explain(app.pool(), &owner, busy).await {
            println!("{line}");
        }
        app.close().await;
        owner.close().await;
    });
}

/// One warm-up, then `runs` timed runs; the last run's (rows, extra).
async fn time<F>(runs: usize, mut f: F) -> (Vec<Duration>, (usize, i64))
where
    F: AsyncFnMut() -> (usize, i64),
{
    let mut out = (0, 0);
    let _ = f().await;
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        out = f().await;
        samples.push(t.elapsed());
    }
    (samples, out)
}

fn report(label: &str, rows: usize, samples: &[Duration]) {
    println!(
        "{label:<44} {rows:>7} {:>9} {:>9} {:>9}",
        fmt(median(samples)),
        fmt(*samples.iter().min().expect("samples")),
        fmt(*samples.iter().max().expect("samples")),
    );
}

/// Facilities `big` (America/New_York) and `other`, the admin `boss` of `big`.
async fn setup(db: &Database, owner: &PgPool) -> Principal {
    let admin = Admin::new(owner);
    for slug in ["big", "other"] {
        admin
            .create_facility(slug, "Bench facility")
            .await
            .expect("facility");
    }
    sqlx::query("UPDATE facilities SET time_zone = 'America/New_York' WHERE slug = 'big'")
        .execute(owner)
        .await
        .expect("time zone");
    admin
        .add_user("boss", "boss", "big", Role::Admin, None)
        .await
        .expect("admin");
    let ssh = Source::Ssh {
        peer: "127.0.0.1:50000".into(),
    };
    packtrack::db::testing::principal(db, "boss", "big", ssh).await
}

/// `n` packages received evenly over the last 365 days, each with a recipient (one of
/// 2,000), as in `benches/reports.rs` (without staff).
async fn seed(owner: &PgPool, slug: &str, n: i64) {
    sqlx::query(
        "INSERT INTO recipients (facility_id, name, unit) \
         SELECT f.id, 'Resident ' || i, 'U-' || i FROM facilities f, \
                generate_series(1, 2000) AS i WHERE f.slug = $1",
    )
    .bind(slug)
    .execute(owner)
    .await
    .expect("recipients");
    sqlx::query(
        "INSERT INTO packages (facility_id, tracking, carrier, status, received_at, \
             recipient_id, picked_up_at, picked_up_name) \
         SELECT f.id, 'B' || s.i, 'ups', \
                CASE WHEN s.r1 < 30 THEN 'returned' WHEN s.r1 < 40 THEN 'lost' \
                     WHEN s.r1 < 70 OR s.done > now() THEN 'waiting' ELSE 'picked_up' END, \
                s.recv, (SELECT min(id) FROM recipients WHERE facility_id = f.id) + s.i % 2000, \
                CASE WHEN s.r1 >= 70 AND s.done <= now() THEN s.done END, \
                CASE WHEN s.r1 >= 70 AND s.done <= now() THEN 'Recipient' END \
         FROM facilities f, \
              LATERAL (SELECT g.i, g.r1, g.recv, \
                              g.recv + make_interval(secs => 900 + (g.r2 * g.r2) * 1.2) AS done \
                       FROM (SELECT i, (i * 7919) % 1000 AS r1, (i * 104729) % 1000 AS r2, \
                                    now() - make_interval(secs => i * 31536000.0 / $2) AS recv \
                             FROM generate_series(1::bigint, $2) AS i) g) s \
         WHERE f.slug = $1",
    )
    .bind(slug)
    .bind(n)
    .execute(owner)
    .await
    .expect("seed");
}

/// 2,000 more parcels in `big` on the day before yesterday (local), 20 seconds apart from
/// 08:00; two in three picked up an hour later. Returns the day.
async fn busy_day(owner: &PgPool) -> NaiveDate {
    let day: NaiveDate = sqlx::query_scalar(
        "SELECT (now() AT TIME ZONE time_zone)::date - 2 FROM facilities WHERE slug = 'big'",
    )
    .fetch_one(owner)
    .await
    .expect("day");
    sqlx::query(
        "INSERT INTO packages (facility_id, tracking, carrier, status, received_at, \
             recipient_id, picked_up_at, picked_up_name, proxy_name) \
         SELECT f.id, 'D' || i, 'usps', \
                CASE WHEN i % 3 = 0 THEN 'waiting' ELSE 'picked_up' END, \
                ($1::date + time '08:00') AT TIME ZONE f.time_zone \
                    + make_interval(secs => i * 20), \
                (SELECT min(id) FROM recipients WHERE facility_id = f.id) + i % 2000, \
                CASE WHEN i % 3 <> 0 THEN ($1::date + time '09:00') AT TIME ZONE f.time_zone \
                    + make_interval(secs => i * 20) END, \
                CASE WHEN i % 3 <> 0 THEN 'Recipient' END, \
                CASE WHEN i % 30 = 1 THEN 'Recipient' END \
         FROM facilities f, generate_series(1, 2000) AS i WHERE f.slug = 'big'",
    )
    .bind(day)
    .execute(owner)
    .await
    .expect("busy day");
    day
}

/// EXPLAIN (ANALYZE, BUFFERS) of the day list's statement as `packtrack_app`, scoped the
/// way a tenant transaction is, with the reports' settings.
async fn explain(pool: &PgPool, owner: &PgPool, day: NaiveDate) -> Vec<String> {
    let facility = Admin::new(owner).facility_id("big").await.expect("big").0;
    let mut tx = pool.begin().await.expect("begin");
    sqlx::query("SELECT set_config('app.facility_id', $1, true)")
        .bind(facility.to_string())
        .execute(&mut *tx)
        .await
        .expect("scope");
    sqlx::query(reports::SETTINGS_SQL)
        .execute(&mut *tx)
        .await
        .expect("settings");
    let (lo, hi): (DateTime<Utc>, DateTime<Utc>) = sqlx::query_as(reports::BOUNDS_SQL)
        .bind(facility)
        .bind(day)
        .bind(day)
        .fetch_one(&mut *tx)
        .await
        .expect("bounds");
    let sql = format!("EXPLAIN (ANALYZE, BUFFERS) {}", reports::DAY_PAGE_SQL);
    let lines: Vec<String> = sqlx::query_scalar(AssertSqlSafe(sql))
        .bind(facility)
        .bind(day)
        .bind(day)
        .bind(lo)
        .bind(hi)
        .bind(DAY_PAGE)
        .bind(0_i64)
        .fetch_all(&mut *tx)
        .await
        .expect("explain");
    tx.rollback().await.expect("rollback");
    lines
}

fn fmt(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}
