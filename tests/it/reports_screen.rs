//! The report screens over SSH: `R` opens them; an admin gets all five reports, an operator
//! the daily log, the parcels and aging; viewing writes no audit row; the dashboard has its
//! sparkline; the Parcels tab lists a day and (admins) shows the line that exports it.

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
    // Tab to time to pickup (past the parcels and aging and carriers): 30 pickups, all
    // after an hour and a half.
    for _ in 0..4 {
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

/// The Parcels tab over SSH: today's parcels with their totals, a parcel's detail and back,
/// and the export: the line to run, and the request in the audit trail (admins; an
/// operator is told no, and the server records nothing for them).
#[tokio::test]
async fn the_parcels_tab_lists_today_and_export_shows_the_line_to_run() {
    let server = TestServer::start(test_limits()).await;
    server.facility("north", "North Hall").await;
    let boss = server.key_user("boss", "north", Role::Admin).await;
    let clerk = server.key_user("clerk", "north", Role::Operator).await;
    let owner = server.db.owner_pool().await.expect("owner");
    // Three today (received now: the facility's today, UTC), one collected by a proxy.
    sqlx::query(
        "INSERT INTO packages (facility_id, tracking, carrier, status, received_at, \
             picked_up_at, picked_up_name, proxy_name) \
         SELECT id, t, 'ups', s, now(), CASE WHEN s = 'picked_up' THEN now() END, \
                CASE WHEN s = 'picked_up' THEN 'Joan Clarke' END, \
                CASE WHEN s = 'picked_up' THEN 'Joan Clarke' END \
         FROM facilities, (VALUES ('1Z5R89390357567127', 'waiting'), \
                                  ('9400100000000000000005', 'picked_up'), \
                                  ('986578788855', 'waiting')) AS v(t, s) \
         WHERE slug = 'north'",
    )
    .execute(&owner)
    .await
    .expect("seed");

    let c = server.login_key("clerk+north", &clerk).await;
    let mut screen = c.shell(80, 24).await;
    screen.send(b"R").await;
    screen.wait_text("Received · 3 in 30 days").await;
    screen.send(b"\t").await;
    screen.wait_text("Parcels of").await;
    screen
        .wait_text("received 3 · picked up 1 · 2 still waiting")
        .await;
    screen.wait_text("Joan Clarke (proxy)").await;
    screen.wait_text("1–3 of 3").await;
    screen.send(b"e").await;
    screen.wait_text("permission denied").await;
    // Enter opens the selected parcel; Esc comes back to the list.
    screen.send(b"\r").await;
    screen.wait_text("Custody").await;
    screen.send(b"\x1b").await;
    screen.wait_text("Parcels of").await;

    let c = server.login_key("boss+north", &boss).await;
    let mut screen = c.shell(80, 24).await;
    screen.send(b"R").await;
    screen.wait_text("Received · 3 in 30 days").await;
    screen.send(b"\t").await;
    screen.wait_text("1–3 of 3").await;
    screen.send(b"e").await;
    screen
        .wait_text("3 parcels · recorded in the audit log")
        .await;
    screen
        .wait_text("ssh boss+north@HOST reports parcels --day")
        .await;

    let audit: Vec<(String, String)> = sqlx::query_as(
        "SELECT actor, action FROM audit_log WHERE action LIKE 'report.%' ORDER BY seq",
    )
    .fetch_all(&owner)
    .await
    .expect("audit");
    assert_eq!(
        audit,
        [("boss".to_string(), "report.export_requested".to_string())],
        "viewing is not an export; the operator's refused `e` left nothing"
    );
    owner.close().await;
}
