//! Cut lists state their total (issue 16: "caps are stated"): `packages list` counts the
//! matches in the same statement as its rows, exactly up to `COUNT_CAP` and "more than" it
//! beyond; `recipients search` counts every recipient the query matches. Only the facility's
//! own rows count.

use packtrack::db::packages::COUNT_CAP;
use packtrack::domain::Role;

use crate::ssh_support::{TestServer, test_limits};

/// `n` packages in a facility, as the owner in one statement (`status` for all of them).
async fn packages(server: &TestServer, slug: &str, n: i64, status: &str) {
    let owner = server.db.owner_pool().await.expect("owner");
    sqlx::query(
        "INSERT INTO packages (facility_id, tracking, status, received_at, picked_up_at) \
         SELECT f.id, $2 || i, $3, now() - make_interval(mins => i::int), \
                CASE WHEN $3 = 'picked_up' THEN now() END \
         FROM facilities f, generate_series(1, $4::bigint) AS i WHERE f.slug = $1",
    )
    .bind(slug)
    .bind(format!("{}-{status}-", slug.to_uppercase()))
    .bind(status)
    .bind(n)
    .execute(&owner)
    .await
    .expect("seed");
    owner.close().await;
}

#[tokio::test]
async fn cut_lists_say_how_many_there_are_in_all() {
    let server = TestServer::start(test_limits()).await;
    server.facility("north", "North Hall").await;
    server.facility("south", "South Hall").await;
    let boss = server.key_user("boss", "north", Role::Admin).await;
    packages(&server, "north", 7, "waiting").await;
    packages(&server, "north", 5, "picked_up").await;
    // Another facility's packages are never in the count.
    packages(&server, "south", 40, "waiting").await;
    let c = server.login_key("boss", &boss).await;

    let out = c.exec("packages list --limit 3").await;
    assert_eq!(out.status, Some(0), "{out:?}");
    assert_eq!(out.stdout.lines().count(), 3);
    assert_eq!(
        out.stderr,
        "showing 3 of 12; use --limit N (at most 5000)\n"
    );
    let out = c
        .exec("packages list --status waiting --limit 2 --json")
        .await;
    assert_eq!(out.stderr, "showing 2 of 7; use --limit N (at most 5000)\n");
    let out = c.exec("packages list --status picked_up --limit 5").await;
    assert_eq!((out.stdout.lines().count(), out.stderr.as_str()), (5, ""));

    let owner = server.db.owner_pool().await.expect("owner");
    sqlx::query(
        "INSERT INTO recipients (facility_id, name, unit) \
         SELECT f.id, 'Smith ' || i, 'A-' || i FROM facilities f, generate_series(1, 9) AS i \
         WHERE f.slug = 'north' \
         UNION ALL \
         SELECT f.id, 'Smith ' || i, 'S-' || i FROM facilities f, generate_series(1, 30) AS i \
         WHERE f.slug = 'south'",
    )
    .execute(&owner)
    .await
    .expect("recipients");
    owner.close().await;
    let out = c.exec("recipients search smith --limit 4").await;
    assert_eq!(out.status, Some(0), "{out:?}");
    assert_eq!(out.stdout.lines().count(), 4);
    assert_eq!(out.stderr, "showing 4 of 9; use --limit N (at most 1000)\n");
    let out = c.exec("recipients search smith").await;
    assert_eq!((out.stdout.lines().count(), out.stderr.as_str()), (9, ""));
}

/// Past the cap the count stops: the line says "more than", and the query stays cheap.
#[tokio::test]
async fn a_huge_list_says_more_than_the_cap() {
    let server = TestServer::start(test_limits()).await;
    server.facility("north", "North Hall").await;
    let boss = server.key_user("boss", "north", Role::Admin).await;
    packages(&server, "north", COUNT_CAP + 1, "waiting").await;
    let c = server.login_key("boss", &boss).await;
    let out = c.exec("packages list --limit 1").await;
    assert_eq!(
        out.stderr,
        format!("showing 1 of more than {COUNT_CAP}; use --limit N (at most 5000)\n")
    );
    let out = c.exec("packages list --limit 5000").await;
    assert_eq!(out.stdout.lines().count(), 5000);
    assert_eq!(
        out.stderr,
        format!(
            "showing 5000 of more than {COUNT_CAP}, the most one command shows: \
             narrow with --status\n"
        )
    );
}
