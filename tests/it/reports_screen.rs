//! The report screens over SSH: `R` opens them; an admin gets all five reports, an operator
//! the daily log and aging; viewing writes no audit row; the dashboard has its sparkline.

use packtrack::domain::Role;

use crate::ssh_support::{TestServer, test_limits};

#[tokio::test]
async fn admins_get_every_report_operators_the_compact_screen() {
    let server = TestServer::start(test_limits()).await;
    server.facility("north", "North Hall").await;
    let boss = server.key_user("boss", "north", Role::Admin).await;
    let clerk = server.key_user("clerk", "north", Role::Operator).await;
    let owner = server.db.owner_pool().await.expect("owner");
    sqlx::query(
        "INSERT INTO packages (facility_id, tracking, carrier, status, received_at, \
             picked_up_at, picked_up_name) \
         SELECT id, 'T' || i, 'ups', 'picked_up', now() - make_interval(hours => i::int), \
                now() - make_interval(hours => i::int) + interval '90 minutes', 'x' \
         FROM facilities, generate_series(1, 30) AS i WHERE slug = 'north'",
    )
    .execute(&owner)
    .await
    .expect("seed");

    let c = server.login_key("boss+north", &boss).await;
    let mut screen = c.shell(80, 24).await;
    screen.wait_text("Received, last 14 days · 30").await;
    screen.send(b"R").await;
    screen.wait_text("Received · 30 in 30 days").await;
    screen.wait_text("Staff").await;
    // Tab to time to pickup: 30 pickups, all after an hour and a half.
    for _ in 0..3 {
        screen.send(b"\t").await;
    }
    screen.wait_text("Picked up  30").await;
    screen.wait_text("Median     1.5h").await;
    // A week instead of a month.
    screen.send(b"\t\t-").await;
    screen.send(b"-").await;
    screen.wait_text("· 7 days ·").await;
    screen.send(b"\x1b").await;
    screen.wait_text("Received, last 14 days").await;

    let c = server.login_key("clerk+north", &clerk).await;
    let mut screen = c.shell(80, 24).await;
    screen.send(b"R").await;
    screen.wait_text("Received · 30 in 30 days").await;
    let shown = screen.flat();
    assert!(shown.contains("Aging"), "{shown}");
    assert!(
        !shown.contains("Staff") && !shown.contains("Carriers"),
        "{shown}"
    );

    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action LIKE 'report.%'")
        .fetch_one(&owner)
        .await
        .expect("audit");
    assert_eq!(n, 0, "viewing is not an export");
}
