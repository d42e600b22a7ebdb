//! Reports end to end over SSH (`reports … [--csv]`) against seeded data with known answers:
//! fixed timestamps around the facility's local midnights (America/New_York, UTC-5 in
//! January), waiting packages at fixed ages for the aging buckets, and a second facility
//! (and a member of both) whose packages must never be counted. `world` is shared with
//! `reports_parcels`.

use std::collections::BTreeMap;

use packtrack::db::unscoped::Admin;
use packtrack::domain::Role;
use packtrack::reports::{self, Cell, Report, Table};

use crate::ssh_support::{Client, ExecOut, TestServer, test_limits};
use crate::support::member;

/// One seeded package. Times are UTC instants; `ago` is an age relative to the database's
/// `now()` (for the aging buckets, which are about "waiting now").
struct Seed {
    tracking: &'static str,
    carrier: Option<&'static str>,
    received: Received,
    by: Option<&'static str>,
    picked: Option<(&'static str, &'static str)>,
    status: &'static str,
}

enum Received {
    At(&'static str),
    Ago(&'static str),
}

fn at(
    tracking: &'static str,
    carrier: Option<&'static str>,
    received: &'static str,
    by: Option<&'static str>,
    picked: Option<(&'static str, &'static str)>,
) -> Seed {
    Seed {
        tracking,
        carrier,
        received: Received::At(received),
        by,
        picked,
        status: if picked.is_some() {
            "picked_up"
        } else {
            "waiting"
        },
    }
}

fn waiting_for(tracking: &'static str, ago: &'static str) -> Seed {
    Seed {
        tracking,
        carrier: Some("ups"),
        received: Received::Ago(ago),
        by: Some("clerk"),
        picked: None,
        status: "waiting",
    }
}

/// Inserts packages as the owner with exactly these timestamps and staff.
async fn seed(server: &TestServer, slug: &str, packages: &[Seed]) {
    let owner = server.db.owner_pool().await.expect("owner pool");
    let facility = Admin::new(&owner)
        .facility_id(slug)
        .await
        .expect("facility")
        .0;
    for p in packages {
        let (at, ago) = match p.received {
            Received::At(t) => (Some(t), None),
            Received::Ago(i) => (None, Some(i)),
        };
        sqlx::query(
            "INSERT INTO packages (facility_id, tracking, carrier, status, received_at, \
                 received_by, picked_up_at, picked_up_by, picked_up_name) \
             VALUES ($1, $2, $3, $4, coalesce($5::timestamptz, now() - $6::interval), \
                 (SELECT id FROM users WHERE login = $7), $8::timestamptz, \
                 (SELECT id FROM users WHERE login = $9), \
                 CASE WHEN $8 IS NOT NULL THEN 'Someone' END)",
        )
        .bind(facility)
        .bind(p.tracking)
        .bind(p.carrier)
        .bind(p.status)
        .bind(at)
        .bind(ago)
        .bind(p.by)
        .bind(p.picked.map(|(t, _)| t))
        .bind(p.picked.map(|(_, by)| by))
        .execute(&owner)
        .await
        .unwrap_or_else(|e| panic!("seed {}: {e}", p.tracking));
    }
    owner.close().await;
}

/// North (America/New_York) and South (UTC), their staff, and the packages. Range
/// 2024-01-10..2024-01-12 in New York is [2024-01-10 05:00Z, 2024-01-13 05:00Z).
pub(crate) async fn world() -> (TestServer, Client) {
    let server = TestServer::start(test_limits()).await;
    server.facility("north", "North Hall").await;
    server.facility("south", "South Hall").await;
    let owner = server.db.owner_pool().await.expect("owner pool");
    sqlx::query("UPDATE facilities SET time_zone = 'America/New_York' WHERE slug = 'north'")
        .execute(&owner)
        .await
        .expect("time zone");
    owner.close().await;
    let boss = server.key_user("boss", "north", Role::Admin).await;
    server.member("clerk", "north", Role::Operator).await;
    server.member("sam", "north", Role::Operator).await;
    // clerk works in both facilities: their south work must not show up in north.
    server.member("clerk", "south", Role::Operator).await;
    server.member("sue", "south", Role::Admin).await;

    seed(
        &server,
        "north",
        &[
            // 01-09 23:30 local: outside; its pickup at 01-10 01:30 local is inside (2 h).
            at(
                "A",
                Some("dhl"),
                "2024-01-10T04:30:00Z",
                Some("clerk"),
                Some(("2024-01-10T06:30:00Z", "sam")),
            ),
            // 01-10 00:30 local, picked up after 12 h.
            at(
                "B",
                Some("ups"),
                "2024-01-10T05:30:00Z",
                Some("clerk"),
                Some(("2024-01-10T17:30:00Z", "clerk")),
            ),
            // 01-10 10:00 local, 24 h.
            at(
                "C",
                Some("ups"),
                "2024-01-10T15:00:00Z",
                Some("clerk"),
                Some(("2024-01-11T15:00:00Z", "sam")),
            ),
            // 03:00 UTC on the 11th is 22:00 on the 10th in New York; picked up 24 h later.
            at(
                "D",
                Some("fedex"),
                "2024-01-11T03:00:00Z",
                Some("sam"),
                Some(("2024-01-12T03:00:00Z", "sam")),
            ),
            // 01-11 local; picked up 01-12 23:00 local (04:00 UTC on the 13th), 36 h.
            at(
                "E",
                Some("usps"),
                "2024-01-11T16:00:00Z",
                Some("sam"),
                Some(("2024-01-13T04:00:00Z", "clerk")),
            ),
            // 01-12 local, no carrier, still waiting (14 days and more by now).
            at("F", None, "2024-01-12T12:00:00Z", Some("clerk"), None),
            // 01-13 01:00 local: outside, and so is its pickup.
            at(
                "G",
                Some("ups"),
                "2024-01-13T06:00:00Z",
                Some("clerk"),
                Some(("2024-01-13T07:00:00Z", "clerk")),
            ),
            // 01-12 local, recorded by the admin CLI (no staff), returned to sender.
            Seed {
                status: "returned",
                ..at("H", Some("ups"), "2024-01-12T20:00:00Z", None, None)
            },
            // Waiting now, one or two per aging bucket.
            waiting_for("W1", "2 hours"),
            waiting_for("W2", "2 days"),
            waiting_for("W3", "50 hours"),
            waiting_for("W4", "5 days"),
            waiting_for("W5", "10 days"),
        ],
    )
    .await;
    // South: busy on the same days (UTC), with its own and clerk's work.
    seed(
        &server,
        "south",
        &[
            at(
                "S1",
                Some("ups"),
                "2024-01-10T12:00:00Z",
                Some("sue"),
                Some(("2024-01-14T16:00:00Z", "sue")),
            ),
            at(
                "S2",
                Some("ups"),
                "2024-01-11T12:00:00Z",
                Some("clerk"),
                Some(("2024-01-11T13:00:00Z", "clerk")),
            ),
            at(
                "S3",
                Some("ontrac"),
                "2024-01-12T12:00:00Z",
                Some("clerk"),
                Some(("2024-01-12T12:30:00Z", "clerk")),
            ),
            at(
                "S4",
                Some("ontrac"),
                "2024-01-12T13:00:00Z",
                Some("clerk"),
                None,
            ),
            waiting_for("SW1", "1 hour"),
            waiting_for("SW2", "20 days"),
        ],
    )
    .await;
    let client = server.login_key("boss", &boss).await;
    (server, client)
}

const RANGE: &str = "--from 2024-01-10 --to 2024-01-12";

pub(crate) async fn ok(c: &Client, cmd: &str) -> ExecOut {
    let out = c.exec(cmd).await;
    assert_eq!(out.status, Some(0), "{cmd}: {}", out.stderr);
    assert_eq!(out.stderr, "", "{cmd}");
    out
}

/// The CSV parsed back: header and rows.
pub(crate) fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header = r
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let rows = r
        .records()
        .map(|rec| rec.expect("record").iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

fn rows(list: &[&[&str]]) -> Vec<Vec<String>> {
    list.iter()
        .map(|r| r.iter().map(|s| s.to_string()).collect())
        .collect()
}

#[tokio::test]
async fn reports_give_the_known_answers_in_the_facility_time_zone() {
    let (server, c) = world().await;

    let (header, daily) = parse_csv(&ok(&c, &format!("reports daily {RANGE} --csv")).await.stdout);
    assert_eq!(header, ["date", "received", "picked_up"]);
    assert_eq!(
        daily,
        rows(&[
            &["2024-01-10", "3", "2"],
            &["2024-01-11", "1", "2"],
            &["2024-01-12", "2", "1"],
        ])
    );

    let (header, carriers) = parse_csv(
        &ok(&c, &format!("reports carriers {RANGE} --csv"))
            .await
            .stdout,
    );
    assert_eq!(header, ["carrier", "received"]);
    assert_eq!(
        carriers,
        rows(&[
            &["ups", "3"],
            &["fedex", "1"],
            &["usps", "1"],
            &["(unknown)", "1"]
        ])
    );

    let (header, pickup) = parse_csv(
        &ok(&c, &format!("reports pickup-time {RANGE} --csv"))
            .await
            .stdout,
    );
    assert_eq!(header, ["picked_up", "median_hours", "p90_hours"]);
    assert_eq!(pickup.len(), 1);
    // Hours waited: 2, 12, 24, 24, 36 → median 24, p90 = 24 + 0.6 × 12 = 31.2.
    assert_eq!(pickup[0][0], "5");
    let median: f64 = pickup[0][1].parse().expect("median");
    let p90: f64 = pickup[0][2].parse().expect("p90");
    assert!((median - 24.0).abs() < 1e-9, "{median}");
    assert!((p90 - 31.2).abs() < 1e-9, "{p90}");

    let (header, staff) = parse_csv(&ok(&c, &format!("reports staff {RANGE} --csv")).await.stdout);
    assert_eq!(header, ["login", "received", "handed_over"]);
    assert_eq!(
        staff,
        rows(&[
            &["clerk", "3", "2"],
            &["sam", "2", "3"],
            &["(none)", "1", "0"]
        ])
    );

    let (header, aging) = parse_csv(&ok(&c, "reports aging --csv").await.stdout);
    assert_eq!(header, ["age", "waiting"]);
    assert_eq!(
        aging,
        rows(&[
            &["<1d", "1"],
            &["1-3d", "2"],
            &["3-7d", "1"],
            &["7-14d", "1"],
            &["14d+", "1"],
        ])
    );

    // Plain text: the same numbers in aligned columns.
    let text = ok(&c, &format!("reports daily {RANGE}")).await.stdout;
    assert_eq!(
        text,
        "date         received  picked_up\n\
         2024-01-10          3          2\n\
         2024-01-11          1          2\n\
         2024-01-12          2          1\n"
    );
    let text = ok(&c, &format!("reports staff {RANGE}")).await.stdout;
    assert_eq!(
        text,
        "login              received  handed_over\n\
         clerk                     3            2\n\
         sam                       2            3\n\
         (none)                    1            0\n"
    );

    // One day only: the New York day of the 10th, not the UTC one.
    let (_, one) = parse_csv(
        &ok(&c, "reports daily --from 2024-01-10 --to 2024-01-10 --csv")
            .await
            .stdout,
    );
    assert_eq!(one, rows(&[&["2024-01-10", "3", "2"]]));

    // No range: the last 30 local days, today included; only the W packages fall in it.
    let (_, recent) = parse_csv(&ok(&c, "reports daily --csv").await.stdout);
    assert_eq!(recent.len(), 30);
    let received: i64 = recent.iter().map(|r| r[1].parse::<i64>().unwrap()).sum();
    assert_eq!(received, 5);

    // A range with nothing picked up: zero and empty percentiles, not an error.
    let (_, none) = parse_csv(
        &ok(
            &c,
            "reports pickup-time --from 2023-06-01 --to 2023-06-30 --csv",
        )
        .await
        .stdout,
    );
    assert_eq!(none, rows(&[&["0", "", ""]]));

    // Every run is in the audit trail, with what it covered.
    let owner = server.db.owner_pool().await.expect("owner");
    let audit: Vec<(String, String, serde_json::Value)> = sqlx::query_as(
        "SELECT action, target, detail FROM audit_log \
         WHERE actor = 'boss' AND action LIKE 'report.%' ORDER BY seq",
    )
    .fetch_all(&owner)
    .await
    .expect("audit");
    let actions: Vec<&str> = audit.iter().map(|(a, _, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "report.daily",
            "report.carriers",
            "report.pickup-time",
            "report.staff",
            "report.aging",
            "report.daily",
            "report.staff",
            "report.daily",
            "report.daily",
            "report.pickup-time",
        ]
    );
    let (_, target, detail) = &audit[0];
    assert_eq!(target, "daily");
    assert_eq!(detail["from"], "2024-01-10");
    assert_eq!(detail["to"], "2024-01-12");
    assert_eq!(detail["time_zone"], "America/New_York");
    assert_eq!(detail["format"], "csv");
    assert_eq!(detail["rows"], 3);
    assert_eq!(audit[5].2["format"], "text");
    owner.close().await;
}

#[tokio::test]
async fn another_facility_sees_only_its_own_packages() {
    let (server, _) = world().await;
    // South's admin, through the library with the same tenant transaction as exec.
    let sue = member(&server.db, "south", "sue", Role::Admin).await;
    let app = server.db.app(2).await.expect("app pool");
    let report = |r: Report| {
        let app = app.clone();
        let sue = sue.clone();
        async move {
            let mut table = Table::default();
            reports::export(
                &app,
                &sue,
                r,
                Some("2024-01-10"),
                Some("2024-01-12"),
                "table",
                &mut table,
            )
            .await
            .expect("report");
            table
        }
    };
    let count = |c: &Cell| c.count().expect("a count");

    let daily = report(Report::Daily).await;
    let per_day: Vec<(i64, i64)> = daily
        .rows
        .iter()
        .map(|r| (count(&r[1]), count(&r[2])))
        .collect();
    assert_eq!(per_day, [(1, 0), (1, 1), (2, 1)]);

    let carriers: BTreeMap<String, i64> = report(Report::Carriers)
        .await
        .rows
        .iter()
        .map(|r| (r[0].to_string(), count(&r[1])))
        .collect();
    assert_eq!(
        carriers,
        BTreeMap::from([("ontrac".to_string(), 2), ("ups".to_string(), 2)])
    );

    // clerk's north work is not south's, and the other way round (checked in the test
    // above: north's clerk is 3 received, 2 handed over).
    let staff: Vec<(String, i64, i64)> = report(Report::Staff)
        .await
        .rows
        .iter()
        .map(|r| (r[0].to_string(), count(&r[1]), count(&r[2])))
        .collect();
    assert_eq!(
        staff,
        [("clerk".to_string(), 3, 2), ("sue".to_string(), 1, 0)]
    );

    let pickup = report(Report::PickupTime).await;
    assert_eq!(pickup.rows[0][0], Cell::Count(2));
    assert_eq!(pickup.rows[0][1], Cell::Hours(Some(0.75)));

    let aging: Vec<i64> = report(Report::Aging)
        .await
        .rows
        .iter()
        .map(|r| count(&r[1]))
        .collect();
    assert_eq!(aging, [1, 0, 0, 0, 2]);
    app.close().await;
}

#[tokio::test]
async fn reports_are_for_admins_and_bad_ranges_are_one_line() {
    let (server, boss) = world().await;
    let clerk_key = server.add_key("clerk").await;
    let vera = server.key_user("vera", "north", Role::Viewer).await;
    for (user, key) in [("clerk+north", &clerk_key), ("vera", &vera)] {
        let c = server.login_key(user, key).await;
        for cmd in [
            "reports daily",
            "reports aging --csv",
            "reports staff --from 2024-01-10 --to 2024-01-12 --csv",
            // The parcel list names recipients: an export like the others.
            "reports parcels --day 2024-01-10 --csv",
            // No hint about valid dates before the role check.
            "reports carriers --from nonsense",
        ] {
            let out = c.exec(cmd).await;
            assert_eq!(out.status, Some(1), "{user}: {cmd}");
            assert_eq!(out.stderr, "permission denied\n", "{user}: {cmd}");
            assert_eq!(out.stdout, "", "{user}: {cmd}");
        }
    }

    for (cmd, expect) in [
        (
            "reports daily --from 2024-02-30",
            "invalid date `2024-02-30`: expected YYYY-MM-DD",
        ),
        (
            "reports carriers --to 12/01/2024 --csv",
            "invalid date `12/01/2024`: expected YYYY-MM-DD",
        ),
        (
            "reports daily --from 2024-01-12 --to 2024-01-10",
            "--from 2024-01-12 is after --to 2024-01-10",
        ),
        (
            "reports staff --from 1990-01-01 --to 2024-01-01",
            "the range has 12419 days; at most 3660",
        ),
    ] {
        let out = boss.exec(cmd).await;
        assert_eq!(out.status, Some(1), "{cmd}");
        assert_eq!(out.stderr, format!("{expect}\n"), "{cmd}");
        assert_eq!(out.stdout, "", "{cmd}");
    }
    let unknown = boss.exec("reports weekly").await;
    assert_eq!(unknown.status, Some(1));
    assert_eq!(unknown.stderr.lines().count(), 1, "{}", unknown.stderr);
    assert!(unknown.stderr.contains("weekly"), "{}", unknown.stderr);

    // Refused and failed runs leave no report entry in the audit trail.
    let owner = server.db.owner_pool().await.expect("owner");
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action LIKE 'report.%'")
        .fetch_one(&owner)
        .await
        .expect("audit");
    assert_eq!(n, 0);
    owner.close().await;
}
