//! A large export over SSH: streamed in chunks (`reports::Stream`), the same CSV and text as
//! an unstreamed run would give, audited with its row count.

use packtrack::domain::Role;
use packtrack::reports::{self, Report};

use crate::ssh_support::{TestServer, test_limits};

#[tokio::test]
async fn a_ten_year_daily_log_streams_whole_and_is_audited() {
    let server = TestServer::start(test_limits()).await;
    server.facility("north", "North Hall").await;
    let boss = server.key_user("boss", "north", Role::Admin).await;
    let owner = server.db.owner_pool().await.expect("owner");
    // One package received on 2019-06-30 (UTC facility), picked up the next day.
    sqlx::query(
        "INSERT INTO packages (facility_id, tracking, status, received_at, picked_up_at, \
             picked_up_name) \
         SELECT id, 'S1', 'picked_up', '2019-06-30T12:00:00Z', '2019-07-01T09:00:00Z', 'x' \
         FROM facilities WHERE slug = 'north'",
    )
    .execute(&owner)
    .await
    .expect("seed");
    let c = server.login_key("boss+north", &boss).await;

    let out = c
        .exec("reports daily --from 2015-01-01 --to 2024-12-31 --csv")
        .await;
    assert_eq!(out.status, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.len() > 3 * reports::STREAM_CHUNK,
        "{} bytes: more than a few chunks",
        out.stdout.len()
    );
    let mut r = csv::Reader::from_reader(out.stdout.as_bytes());
    let header: Vec<String> = r
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(header, ["date", "received", "picked_up"]);
    let rows: Vec<Vec<String>> = r
        .records()
        .map(|rec| rec.expect("record").iter().map(str::to_string).collect())
        .collect();
    assert_eq!(rows.len(), 3653);
    assert_eq!(rows[0], ["2015-01-01", "0", "0"]);
    assert_eq!(rows[3652], ["2024-12-31", "0", "0"]);
    let day = |d: &str| rows.iter().find(|r| r[0] == d).expect("day").clone();
    assert_eq!(day("2019-06-30"), ["2019-06-30", "1", "0"]);
    assert_eq!(day("2019-07-01"), ["2019-07-01", "0", "1"]);
    // Every date once, in order: no chunk lost, doubled or reordered.
    assert!(rows.windows(2).all(|w| w[0][0] < w[1][0]));

    let text = c
        .exec("reports daily --from 2015-01-01 --to 2024-12-31")
        .await;
    assert_eq!(text.status, Some(0), "{}", text.stderr);
    assert_eq!(text.stdout.lines().count(), 3654);
    let first: Vec<&str> = text
        .stdout
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(first, ["date", "received", "picked_up"]);
    assert!(
        text.stdout.contains("\n2019-06-30          1          0\n"),
        "{}",
        &text.stdout[..200]
    );

    let audit: Vec<serde_json::Value> = sqlx::query_scalar(
        "SELECT detail FROM audit_log WHERE action = 'report.daily' ORDER BY seq",
    )
    .fetch_all(&owner)
    .await
    .expect("audit");
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[0]["rows"], 3653);
    assert_eq!(audit[0]["format"], "csv");
    assert_eq!(audit[1]["format"], "text");
    assert!(audit[0].get("error").is_none());
    assert_eq!(Report::parse("daily"), Some(Report::Daily));
}
