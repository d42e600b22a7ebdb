//! Issue 7's budget, measured: every report over one facility with 1 million packages
//! (and a second facility of 200,000 beside it) under 500 ms.
//!
//! `cargo bench --bench reports`
//!
//! A fresh test database (TestCluster), seeded by the owner with one INSERT … SELECT
//! generate_series per facility (deterministic: every value is arithmetic on the row number),
//! then VACUUM ANALYZE as autovacuum would. Each report runs the way `ssh HOST reports NAME
//! --csv` runs it — `reports::export` as an admin on the `packtrack_app` pool (row level
//! security on), CSV rows streamed into a discarding writer, the audit row and the commit
//! included — for the default range (last 30 days) and for 365 days (every package): one
//! warm-up and BENCH_RUNS timed runs (default 7); the median is compared with the budget.
//! Then the EXPLAIN (ANALYZE, BUFFERS) of each statement, run the same way (BENCH_EXPLAIN=0
//! skips it).
//!
//! BENCH_WITHOUT_INDEXES=1 drops the indexes of migrations/0006_reports.sql first, to show
//! what they are for (one run each, no warm-up; a report that hits the 30 s statement
//! timeout says so). BENCH_ROWS changes the size. Plain `Instant` timing; prints, never
//! asserts on time.

use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use packtrack::benchkit::median;
use packtrack::db::testing::TestCluster;
use packtrack::db::unscoped::Admin;
use packtrack::db::{Database, Db};
use packtrack::domain::{Principal, Role, Source};
use packtrack::reports::{self, CsvSink, Report};
use sqlx::AssertSqlSafe;
use sqlx::postgres::PgPool;

const BUDGET: Duration = Duration::from_millis(500);
const STAFF: [&str; 6] = ["ana", "ben", "cho", "dev", "eli", "fay"];

fn main() {
    let rows: i64 = packtrack::benchkit::env_num("BENCH_ROWS", 1_000_000);
    let without = std::env::var("BENCH_WITHOUT_INDEXES").is_ok_and(|v| v == "1");
    let runs: usize = packtrack::benchkit::env_num("BENCH_RUNS", if without { 1 } else { 7 });
    let total = Instant::now();
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
        // One bulk insert per facility without the rollup's row trigger (a million trigger
        // calls); the rollup is recounted below, as the migration does for existing data.
        sqlx::raw_sql("ALTER TABLE packages DISABLE TRIGGER pickup_wait_rollup_insert")
            .execute(&owner)
            .await
            .expect("disable trigger");
        seed(&owner, "big", rows).await;
        seed(&owner, "other", rows / 5).await;
        sqlx::raw_sql("ALTER TABLE packages ENABLE TRIGGER pickup_wait_rollup_insert")
            .execute(&owner)
            .await
            .expect("enable trigger");
        let seeded = t.elapsed();
        if without {
            sqlx::raw_sql(
                "DROP INDEX packages_received_range; DROP INDEX packages_picked_up_range;",
            )
            .execute(&owner)
            .await
            .expect("drop the 0006 indexes");
        }
        // The seed ran without the rollup's insert trigger: count the pickups into it.
        let t = Instant::now();
        let rollup_rows: i64 = sqlx::query_scalar("SELECT rebuild_pickup_wait_rollup()")
            .fetch_one(&owner)
            .await
            .expect("rollup");
        println!(
            "pickup wait rollup: {rollup_rows} rows, rebuilt in {}",
            fmt(t.elapsed())
        );
        let t = Instant::now();
        sqlx::raw_sql("VACUUM (ANALYZE) packages, pickup_wait_rollup")
            .execute(&owner)
            .await
            .expect("vacuum");
        let vacuumed = t.elapsed();
        describe(&owner).await;
        println!(
            "seeded {} + {} packages in {} (VACUUM ANALYZE {}){}\n",
            rows,
            rows / 5,
            fmt(seeded),
            fmt(vacuumed),
            if without {
                "; WITHOUT the 0006 indexes"
            } else {
                ""
            }
        );

        let app = db.app(2).await.expect("app pool");
        let today = local_today(&owner).await;
        let year = (today - chrono::Duration::days(364)).to_string();
        let today_s = today.to_string();
        let ranges: [(&str, Option<&str>); 2] = [("last 30 days", None), ("365 days", Some(&year))];
        println!(
            "{:<12} {:<13} {:>6} {:>9} {:>9} {:>9}  budget",
            "report", "range", "rows", "median", "min", "max"
        );
        let mut over = 0;
        for report in Report::ALL {
            for (label, from) in ranges {
                if !report.uses_range() && from.is_some() {
                    continue;
                }
                let to = from.map(|_| today_s.as_str());
                let range = if report.uses_range() {
                    label
                } else {
                    "waiting now"
                };
                let (samples, n) = match time(&app, &boss, report, from, to, runs).await {
                    Ok(r) => r,
                    Err(e) => {
                        over += 1;
                        println!("{:<12} {range:<13} failed: {e}", report.name());
                        continue;
                    }
                };
                let med = median(&samples);
                let ok = med < BUDGET;
                over += usize::from(!ok);
                println!(
                    "{:<12} {:<13} {:>6} {:>9} {:>9} {:>9}  {}",
                    report.name(),
                    range,
                    n,
                    fmt(med),
                    fmt(*samples.iter().min().expect("samples")),
                    fmt(*samples.iter().max().expect("samples")),
                    if ok { "ok" } else { "OVER" }
                );
            }
        }
        // The statement the rollup replaces, on the same data: one sort of every wait.
        let facility = Admin::new(&owner).facility_id("big").await.expect("big").0;
        for (label, from) in ranges {
            let from = from.map_or(today - chrono::Duration::days(29), |f| {
                f.parse::<NaiveDate>().expect("date")
            });
            let range = reports::Range { from, to: today };
            let samples = time_exact_pickup(app.pool(), facility, range, runs).await;
            println!(
                "{:<12} {:<13} {:>6} {:>9} {:>9} {:>9}  (exact sort, before 0009)",
                "pickup-time",
                label,
                1,
                fmt(median(&samples)),
                fmt(*samples.iter().min().expect("samples")),
                fmt(*samples.iter().max().expect("samples")),
            );
        }
        println!(
            "\n{} of {} runs over the {} budget (median of {runs})",
            over,
            Report::ALL.len() * 2 - 1,
            fmt(BUDGET)
        );

        if std::env::var("BENCH_EXPLAIN").map_or(true, |v| v != "0") {
            let facility = Admin::new(&owner).facility_id("big").await.expect("big").0;
            for report in Report::ALL {
                for (label, from) in ranges {
                    if !report.uses_range() && from.is_some() {
                        continue;
                    }
                    let from = from.map(|f| f.parse::<NaiveDate>().expect("date"));
                    let range = reports::Range {
                        from: from.unwrap_or(today - chrono::Duration::days(29)),
                        to: today,
                    };
                    let title = if report.uses_range() {
                        label
                    } else {
                        "waiting now"
                    };
                    println!("\n### {} ({title})\n", report.name());
                    println!("```");
                    for line in explain(app.pool(), facility, report, range).await {
                        println!("{line}");
                    }
                    println!("```");
                    if report == Report::PickupTime {
                        println!("\nthe rollup's statements (the above is the fallback):\n");
                        println!("```");
                        for line in explain_rollup(app.pool(), facility, range).await {
                            println!("{line}");
                        }
                        println!("```");
                    }
                }
            }
        }
        app.close().await;
        owner.close().await;
    });
    print_machine();
    println!("bench wall time: {}", fmt(total.elapsed()));
}

/// Facilities `big` (America/New_York) and `other`, six staff in both, the admin `boss`.
async fn setup(db: &Database, owner: &PgPool) -> Principal {
    let admin = Admin::new(owner);
    for slug in ["big", "other"] {
        admin
            .create_facility(slug, "Bench facility")
            .await
            .expect("facility");
        for login in STAFF {
            admin
                .add_user(login, login, slug, Role::Operator, None)
                .await
                .expect("staff");
        }
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

/// `n` packages received over the last 365 days (evenly, newest first), one INSERT.
/// Per row, from its number i: carrier (40% ups, 25% usps, 15% fedex, 8% amazon, 5% dhl,
/// 3% ontrac, 2% lasership, 2% none), staff round robin, 3% returned, 1% lost, 3% left
/// waiting; the rest picked up 15 minutes to ~14 days after intake (skewed short) when that
/// is in the past, otherwise still waiting.
async fn seed(owner: &PgPool, slug: &str, n: i64) {
    sqlx::query(
        "INSERT INTO packages (facility_id, tracking, carrier, status, received_at, received_by, \
             picked_up_at, picked_up_by, picked_up_name) \
         SELECT f.id, 'B' || s.i, \
                CASE WHEN s.r3 < 400 THEN 'ups' WHEN s.r3 < 650 THEN 'usps' \
                     WHEN s.r3 < 800 THEN 'fedex' WHEN s.r3 < 880 THEN 'amazon' \
                     WHEN s.r3 < 930 THEN 'dhl' WHEN s.r3 < 960 THEN 'ontrac' \
                     WHEN s.r3 < 980 THEN 'lasership' END, \
                CASE WHEN s.r1 < 30 THEN 'returned' WHEN s.r1 < 40 THEN 'lost' \
                     WHEN s.r1 < 70 OR s.done > now() THEN 'waiting' ELSE 'picked_up' END, \
                s.recv, staff[(1 + s.i % 6)::int], \
                CASE WHEN s.r1 >= 70 AND s.done <= now() THEN s.done END, \
                CASE WHEN s.r1 >= 70 AND s.done <= now() THEN staff[(1 + (s.i / 7) % 6)::int] END, \
                CASE WHEN s.r1 >= 70 AND s.done <= now() THEN 'Recipient' END \
         FROM facilities f, \
              (SELECT array_agg(id ORDER BY login) FROM users WHERE login = ANY($3)) AS u(staff), \
              LATERAL (SELECT g.i, g.r1, g.r3, g.recv, \
                              g.recv + make_interval(secs => 900 + (g.r2 * g.r2) * 1.2) AS done \
                       FROM (SELECT i, (i * 7919) % 1000 AS r1, (i * 104729) % 1000 AS r2, \
                                    (i * 15485863) % 1000 AS r3, \
                                    now() - make_interval(secs => i * 31536000.0 / $2) AS recv \
                             FROM generate_series(1::bigint, $2) AS i) g) s \
         WHERE f.slug = $1",
    )
    .bind(slug)
    .bind(n)
    .bind(STAFF.as_slice())
    .execute(owner)
    .await
    .expect("seed");
}

/// What the data looks like, as counts.
async fn describe(owner: &PgPool) {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT f.slug, p.status, count(*) FROM packages p JOIN facilities f \
         ON f.id = p.facility_id GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .fetch_all(owner)
    .await
    .expect("describe");
    for (slug, status, n) in rows {
        println!("  {slug:<6} {status:<10} {n:>8}");
    }
    let sizes: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.relname::text, pg_size_pretty(pg_relation_size(c.oid)) FROM pg_class c \
         JOIN pg_index i ON i.indexrelid = c.oid \
         WHERE i.indrelid = 'packages'::regclass ORDER BY 1",
    )
    .fetch_all(owner)
    .await
    .expect("index sizes");
    let table: String = sqlx::query_scalar("SELECT pg_size_pretty(pg_relation_size('packages'))")
        .fetch_one(owner)
        .await
        .expect("table size");
    let (pages, visible): (i32, i32) =
        sqlx::query_as("SELECT relpages, relallvisible FROM pg_class WHERE relname = 'packages'")
            .fetch_one(owner)
            .await
            .expect("relallvisible");
    println!("  table packages: {table}, {pages} pages, {visible} all-visible");
    for (name, size) in sizes {
        println!("  index {name:<28} {size}");
    }
}

async fn local_today(owner: &PgPool) -> NaiveDate {
    sqlx::query_scalar(
        "SELECT (now() AT TIME ZONE time_zone)::date FROM facilities WHERE slug = 'big'",
    )
    .fetch_one(owner)
    .await
    .expect("today")
}

/// One warm-up, then `runs` timed runs of the full export path. Returns the samples and
/// the number of rows the report had.
async fn time(
    app: &Db,
    boss: &Principal,
    report: Report,
    from: Option<&str>,
    to: Option<&str>,
    runs: usize,
) -> Result<(Vec<Duration>, u64), String> {
    let mut samples = Vec::with_capacity(runs);
    let mut n = 0;
    let warm_up = usize::from(runs > 1);
    for i in 0..runs + warm_up {
        let mut sink = CsvSink::new(std::io::sink());
        let t = Instant::now();
        let s = reports::export(app, boss, report, from, to, "csv", &mut sink)
            .await
            .map_err(|e| e.to_string())?;
        let d = t.elapsed();
        if i >= warm_up {
            samples.push(d);
        }
        n = s.rows;
    }
    Ok((samples, n))
}

/// EXPLAIN (ANALYZE, BUFFERS) of a report's statement as `packtrack_app`, in a transaction
/// scoped the way a tenant transaction is, with the settings `reports::export` uses.
async fn explain(
    pool: &PgPool,
    facility: i64,
    report: Report,
    range: reports::Range,
) -> Vec<String> {
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
        .bind(range.from)
        .bind(range.to)
        .fetch_one(&mut *tx)
        .await
        .expect("bounds");
    let sql = format!("EXPLAIN (ANALYZE, BUFFERS) {}", report.sql());
    let lines: Vec<String> = sqlx::query_scalar(AssertSqlSafe(sql))
        .bind(facility)
        .bind(range.from)
        .bind(range.to)
        .bind(lo)
        .bind(hi)
        .fetch_all(&mut *tx)
        .await
        .unwrap_or_else(|e| vec![format!("failed: {e}")]);
    tx.rollback().await.expect("rollback");
    lines
}

/// A tenant-scoped transaction on the runtime pool with the report settings, and the
/// range's bounds.
async fn scoped(
    pool: &PgPool,
    facility: i64,
    range: reports::Range,
) -> (
    sqlx::Transaction<'static, sqlx::Postgres>,
    DateTime<Utc>,
    DateTime<Utc>,
) {
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
        .bind(range.from)
        .bind(range.to)
        .fetch_one(&mut *tx)
        .await
        .expect("bounds");
    (tx, lo, hi)
}

/// The exact `percentile_cont` statement alone (what `pickup-time` ran before the rollup).
async fn time_exact_pickup(
    pool: &PgPool,
    facility: i64,
    range: reports::Range,
    runs: usize,
) -> Vec<Duration> {
    let mut samples = Vec::with_capacity(runs);
    for i in 0..=runs {
        let (mut tx, lo, hi) = scoped(pool, facility, range).await;
        let t = Instant::now();
        let _: (i64, Option<f64>, Option<f64>) = sqlx::query_as(reports::PICKUP_TIME_SQL)
            .bind(facility)
            .bind(range.from)
            .bind(range.to)
            .bind(lo)
            .bind(hi)
            .fetch_one(&mut *tx)
            .await
            .expect("exact pickup time");
        if i > 0 {
            samples.push(t.elapsed());
        }
        tx.rollback().await.expect("rollback");
    }
    samples
}

/// EXPLAIN of the rollup path: the histogram and the read of one bucket's waits (the
/// median's).
async fn explain_rollup(pool: &PgPool, facility: i64, range: reports::Range) -> Vec<String> {
    let (mut tx, lo, hi) = scoped(pool, facility, range).await;
    let midnight = |d: NaiveDate| d.and_time(chrono::NaiveTime::MIN).and_utc();
    let d1 = if lo == midnight(lo.date_naive()) {
        lo.date_naive()
    } else {
        lo.date_naive() + chrono::Duration::days(1)
    };
    let d2 = hi.date_naive();
    let mut out = Vec::new();
    let hist = format!(
        "EXPLAIN (ANALYZE, BUFFERS) {}",
        reports::PICKUP_HISTOGRAM_SQL
    );
    out.push("-- histogram".to_string());
    out.extend(
        sqlx::query_scalar::<_, String>(AssertSqlSafe(hist))
            .bind(facility)
            .bind(d1)
            .bind(d2)
            .bind(lo)
            .bind(midnight(d1))
            .bind(midnight(d2))
            .bind(hi)
            .fetch_all(&mut *tx)
            .await
            .unwrap_or_else(|e| vec![format!("failed: {e}")]),
    );
    let median_bucket: i32 = sqlx::query_scalar(
        "SELECT pickup_wait_bucket(percentile_disc(0.5) WITHIN GROUP (ORDER BY wait_secs))          FROM packages WHERE facility_id = $1 AND picked_up_at >= $2 AND picked_up_at < $3",
    )
    .bind(facility)
    .bind(lo)
    .bind(hi)
    .fetch_one(&mut *tx)
    .await
    .unwrap_or(0);
    let (blo, bhi) = reports::wait_bucket_bounds(median_bucket);
    let bucket = format!("EXPLAIN (ANALYZE, BUFFERS) {}", reports::PICKUP_BUCKET_SQL);
    out.push(format!("-- bucket {median_bucket} (the median's)"));
    out.extend(
        sqlx::query_scalar::<_, String>(AssertSqlSafe(bucket))
            .bind(facility)
            .bind(lo)
            .bind(hi)
            .bind(blo - 1.0)
            .bind(bhi + 1.0)
            .bind(median_bucket)
            .fetch_all(&mut *tx)
            .await
            .unwrap_or_else(|e| vec![format!("failed: {e}")]),
    );
    tx.rollback().await.expect("rollback");
    out
}

fn fmt(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        format!("{:.2} s", d.as_secs_f64())
    } else {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    }
}

fn print_machine() {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "\nmachine: {model}, {cpus} CPUs; loadavg {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
}
