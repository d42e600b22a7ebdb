//! Bulk remind and bulk return to sender of a full batch (`BULK_MAX`, 500 parcels) in a
//! facility of 100,000 packages: what the clerk waits for after answering "y".
//!
//! ```text
//! cargo run --release --example bulk_bench             # 100,000 packages, 15 runs
//! BULK_ROWS=1000000 BULK_RUNS=5 cargo run --release --example bulk_bench
//! ```
//!
//! A fresh test database (TestCluster): facility `big` with email configured, 2,000
//! residents with an address and BULK_ROWS picked-up packages as history. Each run adds 500
//! waiting parcels of distinct residents (untimed), then times `Ops::bulk` as an operator on
//! the `packtrack_app` pool (row level security on), the way the interface runs it: remind
//! (500 `reminded` events, 500 outbox rows, one audit entry) and then return to sender (500
//! status changes and `returned` events, one audit entry). One warm-up run; median, min and
//! max. Plain `Instant` timing; prints, never asserts on time.

use std::time::{Duration, Instant};

use packtrack::benchkit::median;
use packtrack::db::testing::TestCluster;
use packtrack::db::unscoped::Admin;
use packtrack::domain::limits::BULK_MAX;
use packtrack::domain::{Role, Source};
use packtrack::ops::{Bulk, Ops};
use sqlx::postgres::PgPool;

fn main() {
    let rows: i64 = packtrack::benchkit::env_num("BULK_ROWS", 100_000);
    let runs: usize = packtrack::benchkit::env_num("BULK_RUNS", 15);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        let db = TestCluster::shared().fresh_database().await;
        let owner = db.owner_pool().await.expect("owner pool");
        let admin = Admin::new(&owner);
        admin
            .create_facility("big", "Bench facility")
            .await
            .expect("facility");
        admin
            .add_user("clerk", "clerk", "big", Role::Operator, None)
            .await
            .expect("operator");
        admin
            .set_smtp(
                "big",
                "smtp://127.0.0.1:9?tls=none",
                "Bench <mail@bench.example>",
                None,
                |_| None,
            )
            .await
            .expect("smtp");
        seed(&owner, rows).await;
        let ssh = Source::Ssh {
            peer: "127.0.0.1:50000".into(),
        };
        let clerk = packtrack::db::testing::principal(&db, "clerk", "big", ssh).await;
        let app = db.app(2).await.expect("app pool");
        let ops = Ops::new(app.clone());
        let (mut remind, mut ret) = (Vec::new(), Vec::new());
        for run in 0..=runs {
            let ids = batch(&owner, run).await;
            let t = Instant::now();
            let r = ops.bulk(&clerk, Bulk::Remind, &ids).await.expect("remind");
            let took = t.elapsed();
            assert_eq!((r.done, r.queued), (ids.len() as u64, ids.len() as u64));
            let t = Instant::now();
            let b = ops
                .bulk(&clerk, Bulk::ReturnToSender, &ids)
                .await
                .expect("return");
            let took_ret = t.elapsed();
            assert_eq!(b.done, ids.len() as u64);
            if run > 0 {
                remind.push(took);
                ret.push(took_ret);
            }
        }
        println!("{rows} packages of history, {runs} runs of {BULK_MAX} parcels");
        println!("{:<36} {:>9} {:>9} {:>9}", "", "median", "min", "max");
        report("bulk remind (events, outbox, audit)", &remind);
        report("bulk return to sender (events, audit)", &ret);
        app.close().await;
        owner.close().await;
    });
}

/// 2,000 residents with an address and `n` picked-up packages of theirs.
async fn seed(owner: &PgPool, n: i64) {
    sqlx::query(
        "INSERT INTO recipients (facility_id, name, unit, email) \
         SELECT f.id, 'Resident ' || i, 'U-' || i, 'r' || i || '@bench.example' \
         FROM facilities f, generate_series(1, 2000) AS i WHERE f.slug = 'big'",
    )
    .execute(owner)
    .await
    .expect("recipients");
    sqlx::query(
        "INSERT INTO packages (facility_id, tracking, carrier, status, received_at, \
             recipient_id, picked_up_at, picked_up_name) \
         SELECT f.id, 'H' || i, 'ups', 'picked_up', now() - make_interval(hours => (i % 8760)::int), \
                (SELECT min(id) FROM recipients WHERE facility_id = f.id) + i % 2000, \
                now() - make_interval(hours => (i % 8760)::int) + interval '1 day', 'Resident' \
         FROM facilities f, generate_series(1::bigint, $1) AS i WHERE f.slug = 'big'",
    )
    .bind(n)
    .execute(owner)
    .await
    .expect("history");
    sqlx::raw_sql("VACUUM (ANALYZE) packages, recipients")
        .execute(owner)
        .await
        .expect("vacuum");
}

/// `BULK_MAX` waiting parcels of distinct residents, received ten days ago.
async fn batch(owner: &PgPool, run: usize) -> Vec<i64> {
    sqlx::query_scalar(
        "INSERT INTO packages (facility_id, tracking, carrier, status, received_at, recipient_id, \
             location) \
         SELECT f.id, 'R' || $1 || '-' || i, 'ups', 'waiting', now() - interval '10 days', \
                (SELECT min(id) FROM recipients WHERE facility_id = f.id) + i, 'Shelf A' \
         FROM facilities f, generate_series(0, $2 - 1) AS i WHERE f.slug = 'big' \
         RETURNING id",
    )
    .bind(run as i64)
    .bind(BULK_MAX as i64)
    .fetch_all(owner)
    .await
    .expect("batch")
}

fn report(label: &str, samples: &[Duration]) {
    println!(
        "{label:<36} {:>9} {:>9} {:>9}",
        fmt(median(samples)),
        fmt(*samples.iter().min().expect("samples")),
        fmt(*samples.iter().max().expect("samples")),
    );
}

fn fmt(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}
