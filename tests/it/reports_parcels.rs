//! The day's parcels against real PostgreSQL: the Reports screen's list (a page and exact
//! totals from one statement), `reports parcels` (the same rows as CSV, audited), the
//! screen's audited export request, and another facility's parcels never in either.
//! Data: `reports::world` (New York; 2024-01-10 local is [05:00Z on the 10th, 05:00Z on
//! the 11th)).

use chrono::NaiveDate;
use packtrack::domain::Role;
use packtrack::error::AppError;
use packtrack::reports::{self, DAY_PAGE, DayTotals};

use crate::reports::{ok, parse_csv, world};
use crate::ssh_support::TestServer;
use crate::support::member;

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

/// A recipient for B, a proxy for A (as the pickup screen records one).
async fn names(server: &TestServer) {
    let owner = server.db.owner_pool().await.expect("owner");
    sqlx::query(
        "WITH r AS (INSERT INTO recipients (facility_id, name, unit) \
             SELECT id, 'Ada Lovelace', 'A-101' FROM facilities WHERE slug = 'north' \
             RETURNING facility_id, id) \
         UPDATE packages p SET recipient_id = r.id FROM r \
         WHERE p.facility_id = r.facility_id AND p.tracking = 'B'",
    )
    .execute(&owner)
    .await
    .expect("recipient");
    sqlx::query(
        "UPDATE packages SET picked_up_name = 'Joan Clarke', proxy_name = 'Joan Clarke' \
         WHERE tracking = 'A'",
    )
    .execute(&owner)
    .await
    .expect("proxy");
    // A collector's name that a spreadsheet would run as a formula.
    sqlx::query(
        "UPDATE packages SET picked_up_name = '=HYPERLINK(\"http://evil.example\",\"x\")' \
         WHERE tracking = 'C'",
    )
    .execute(&owner)
    .await
    .expect("formula");
    owner.close().await;
}

#[tokio::test]
async fn the_day_lists_its_parcels_with_the_daily_logs_totals() {
    let (server, c) = world().await;
    names(&server).await;
    let boss = member(&server.db, "north", "boss", Role::Admin).await;
    let app = server.db.app(2).await.expect("app pool");
    let page = reports::day_page(&app, &boss, Some(day("2024-01-10")), 0)
        .await
        .expect("page");
    // A came in the evening before and was collected on the 10th; B, C and D came in on
    // the 10th (D at 22:00 local, 03:00 UTC on the 11th). The daily log says 3 and 2.
    assert_eq!(
        page.totals,
        DayTotals {
            listed: 4,
            received: 3,
            picked_up: 2,
            waiting: 0
        }
    );
    assert_eq!(page.time_zone, "America/New_York");
    let tracking: Vec<&str> = page.rows.iter().map(|r| r.tracking.as_str()).collect();
    assert_eq!(
        tracking,
        ["B", "A", "C", "D"],
        "in the order things happened"
    );
    let a = &page.rows[1];
    assert_eq!(a.collected_by.as_deref(), Some("Joan Clarke"));
    assert!(a.proxy);
    assert_eq!(a.handed_over_by.as_deref(), Some("sam"));
    let b = &page.rows[0];
    assert_eq!(
        (b.recipient.as_deref(), b.unit.as_deref()),
        (Some("Ada Lovelace"), Some("A-101"))
    );
    assert!(!b.proxy);

    // The CSV of that day: the same parcels in the same order, times local.
    let out = ok(&c, "reports parcels --day 2024-01-10 --csv").await;
    let (header, rows) = parse_csv(&out.stdout);
    assert_eq!(
        header,
        [
            "received_at",
            "tracking",
            "carrier",
            "recipient",
            "unit",
            "status",
            "location",
            "picked_up_at",
            "collected_by",
            "proxy",
            "received_by",
            "handed_over_by"
        ]
    );
    let tracking: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(tracking, ["B", "A", "C", "D"]);
    assert_eq!(
        rows[0],
        [
            "2024-01-10 00:30",
            "B",
            "ups",
            "Ada Lovelace",
            "A-101",
            "picked_up",
            "",
            "2024-01-10 12:30",
            "Someone",
            "no",
            "clerk",
            "clerk"
        ]
    );
    assert_eq!(rows[1][0], "2024-01-09 23:30");
    assert_eq!(rows[1][3], "(unmatched)");
    assert_eq!(
        (rows[1][8].as_str(), rows[1][9].as_str()),
        ("Joan Clarke", "yes")
    );
    // Neutralised as every report's text cells are (reports::CsvSink).
    assert_eq!(rows[2][8], "'=HYPERLINK(\"http://evil.example\",\"x\")");
    // D: the evening of the 10th in New York.
    assert_eq!(rows[3][0], "2024-01-10 22:00");
    // `--day` is `--from D --to D`; text output lines up the same rows.
    let text = ok(&c, "reports parcels --from 2024-01-10 --to 2024-01-10").await;
    assert_eq!(text.stdout.lines().count(), 5, "{}", text.stdout);
    let both = c
        .exec("reports parcels --day 2024-01-10 --from 2024-01-09")
        .await;
    assert_eq!(both.status, Some(1), "{both:?}");

    // A day with nothing: totals zero, no rows, not an error.
    let empty = reports::day_page(&app, &boss, Some(day("2023-06-01")), 0)
        .await
        .expect("empty day");
    assert_eq!((empty.totals, empty.rows.len()), (DayTotals::default(), 0));
    app.close().await;
}

#[tokio::test]
async fn daily_report_never_lists_another_facilitys_parcels() {
    let (server, c) = world().await;
    let app = server.db.app(2).await.expect("app pool");
    // South (UTC) had S1 come in on the 10th; north's list and CSV of that day never show
    // it, and south's never shows north's four.
    let sue = member(&server.db, "south", "sue", Role::Admin).await;
    let south = reports::day_page(&app, &sue, Some(day("2024-01-10")), 0)
        .await
        .expect("south");
    let tracking: Vec<&str> = south.rows.iter().map(|r| r.tracking.as_str()).collect();
    assert_eq!(tracking, ["S1"]);
    assert_eq!(south.totals.listed, 1);
    // clerk works in both: bound to north, north's parcels only.
    let clerk = member(&server.db, "north", "clerk", Role::Operator).await;
    let north = reports::day_page(&app, &clerk, Some(day("2024-01-10")), 0)
        .await
        .expect("north");
    assert!(north.rows.iter().all(|r| !r.tracking.starts_with('S')));
    assert_eq!(north.totals.listed, 4);
    let out = ok(
        &c,
        "reports parcels --from 2024-01-10 --to 2024-01-12 --csv",
    )
    .await;
    let (_, rows) = parse_csv(&out.stdout);
    let tracking: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(
        tracking,
        ["B", "A", "C", "D", "E", "F", "H"],
        "north's only"
    );
    // Every role sees the day (the daily log is everyone's); a viewer too.
    let vera = member(&server.db, "north", "vera", Role::Viewer).await;
    let seen = reports::day_page(&app, &vera, Some(day("2024-01-10")), 0)
        .await
        .expect("viewer");
    assert_eq!(seen.totals.listed, 4);
    app.close().await;
}

#[tokio::test]
async fn a_busy_day_comes_a_page_at_a_time_with_the_whole_days_totals() {
    let server = TestServer::start(crate::ssh_support::test_limits()).await;
    server.facility("north", "North Hall").await;
    let boss = member(&server.db, "north", "boss", Role::Admin).await;
    let owner = server.db.owner_pool().await.expect("owner");
    // 450 parcels received on 2024-03-05 (UTC), a minute apart; every third picked up.
    sqlx::query(
        "INSERT INTO packages (facility_id, tracking, status, received_at, picked_up_at, \
             picked_up_name) \
         SELECT f.id, 'P' || lpad(i::text, 4, '0'), \
                CASE WHEN i % 3 = 0 THEN 'picked_up' ELSE 'waiting' END, \
                timestamptz '2024-03-05 00:00Z' + make_interval(mins => i), \
                CASE WHEN i % 3 = 0 THEN timestamptz '2024-03-05 00:00Z' \
                     + make_interval(mins => i + 30) END, \
                CASE WHEN i % 3 = 0 THEN 'Someone' END \
         FROM facilities f, generate_series(0, 449) AS i WHERE f.slug = 'north'",
    )
    .execute(&owner)
    .await
    .expect("seed");
    owner.close().await;
    let app = server.db.app(2).await.expect("app pool");
    let d = Some(day("2024-03-05"));
    let mut seen = Vec::new();
    for offset in [0, DAY_PAGE, 2 * DAY_PAGE] {
        let page = reports::day_page(&app, &boss, d, offset)
            .await
            .expect("page");
        assert_eq!(page.offset, offset);
        assert_eq!(
            page.totals,
            DayTotals {
                listed: 450,
                received: 450,
                picked_up: 150,
                waiting: 300
            }
        );
        seen.extend(page.rows.into_iter().map(|r| r.tracking));
    }
    let want: Vec<String> = (0..450).map(|i| format!("P{i:04}")).collect();
    assert_eq!(seen, want, "every parcel once, in order");
    // Past the end (the day shrank meanwhile): the last page instead of nothing.
    let page = reports::day_page(&app, &boss, d, 5000).await.expect("page");
    assert_eq!((page.offset, page.rows.len()), (2 * DAY_PAGE, 50));
    // A day more than ten years away is refused in words.
    let far = reports::day_page(&app, &boss, Some(day("1990-01-01")), 0).await;
    assert!(matches!(far, Err(AppError::Invalid(_))), "{far:?}");
    app.close().await;
}

#[tokio::test]
async fn the_screens_export_request_is_audited_for_admins_only_without_names() {
    let (server, _) = world().await;
    names(&server).await;
    let app = server.db.app(2).await.expect("app pool");
    let clerk = member(&server.db, "north", "clerk", Role::Operator).await;
    let refused = reports::request_day_export(&app, &clerk, day("2024-01-10")).await;
    assert!(
        matches!(refused, Err(AppError::PermissionDenied)),
        "{refused:?}"
    );
    let boss = member(&server.db, "north", "boss", Role::Admin).await;
    let x = reports::request_day_export(&app, &boss, day("2024-01-10"))
        .await
        .expect("export request");
    assert_eq!(x.rows, 4);
    let owner = server.db.owner_pool().await.expect("owner");
    let audit: Vec<(String, String, String, serde_json::Value)> = sqlx::query_as(
        "SELECT actor, action, target, detail FROM audit_log \
         WHERE action LIKE 'report.%' ORDER BY seq",
    )
    .fetch_all(&owner)
    .await
    .expect("audit");
    assert_eq!(
        audit.len(),
        1,
        "the refused request left nothing: {audit:?}"
    );
    let (actor, action, target, detail) = &audit[0];
    assert_eq!(
        (actor.as_str(), action.as_str(), target.as_str()),
        ("boss", "report.export_requested", "parcels")
    );
    assert_eq!(
        detail,
        &serde_json::json!({ "from": "2024-01-10", "to": "2024-01-10",
            "time_zone": "America/New_York", "format": "csv", "rows": 4, "via": "screen" })
    );
    // No names, no tracking numbers in the trail.
    let text = detail.to_string();
    for pii in ["Ada", "Lovelace", "Joan", "Someone", "A-101"] {
        assert!(!text.contains(pii), "{text}");
    }
    owner.close().await;
    app.close().await;
}
