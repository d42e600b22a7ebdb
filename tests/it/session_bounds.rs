//! Issue 13, items 5 and 8 over real SSH: one session cannot burn the server (its effects
//! are bounded, coalesced and end with it), and revocation is certain (a periodic re-check
//! of every session's access, after a lost notification too, failing closed).

use std::sync::atomic::Ordering;
use std::time::Duration;

use packtrack::domain::Role;
use packtrack::effects::runner::IN_FLIGHT;
use sqlx::{Connection, Executor, PgConnection};

use crate::ssh_support::{STEP, TestServer, test_limits};
use crate::support::superuser;

/// A re-check interval short enough for a test to wait for.
const SHORT: Duration = Duration::from_millis(200);

async fn su(server: &TestServer) -> PgConnection {
    superuser(&server.db).await
}

/// Holds the `recipients` table locked (as the superuser, in an open transaction) so that
/// anything that reads it waits: effects stay in flight for as long as the test wants.
async fn lock_recipients(server: &TestServer) -> PgConnection {
    let mut conn = su(server).await;
    conn.execute("BEGIN").await.expect("begin");
    conn.execute("LOCK TABLE recipients IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("lock recipients");
    conn
}

async fn unlock(mut conn: PgConnection) {
    conn.execute("COMMIT").await.expect("commit");
    conn.close().await.expect("close");
}

fn in_flight(server: &TestServer) -> u64 {
    server.metrics().effects_in_flight.load(Ordering::Relaxed)
}

fn started(server: &TestServer) -> u64 {
    server.metrics().effects_started.load(Ordering::Relaxed)
}

async fn add_recipient(server: &TestServer, slug: &str, name: &str) {
    let mut conn = su(server).await;
    sqlx::query(
        "INSERT INTO recipients (facility_id, name, unit) \
         SELECT id, $2, 'A-101' FROM facilities WHERE slug = $1",
    )
    .bind(slug)
    .bind(name)
    .execute(&mut conn)
    .await
    .expect("insert recipient");
    conn.close().await.expect("close");
}

/// `a⌫` thousands of times in one burst on the recipients screen used to spawn one task
/// per keystroke (here all of them waiting for the index, which the lock holds back):
/// now one search runs and only the latest query waits.
#[tokio::test]
async fn search_flood_does_not_spawn_unbounded_tasks() {
    let server = TestServer::start(test_limits()).await;
    server.facility("north", "North Hall").await;
    add_recipient(&server, "north", "Ada Lovelace").await;
    let key = server.key_user("vic", "north", Role::Viewer).await;
    let c = server.login_key("vic", &key).await;
    let mut s = c.shell(80, 24).await;
    s.wait_text("Dashboard").await;

    let lock = lock_recipients(&server).await;
    let before = started(&server);
    s.send(b"r").await;
    s.wait_text("Recipients").await;
    let mut burst = b"a\x7f".repeat(5000);
    burst.extend_from_slice(b"zq");
    s.send(&burst).await;
    // Every key was handled once the field shows the last one.
    s.wait_text("zq").await;
    let running = in_flight(&server);
    let spawned = started(&server) - before;
    assert!(
        running <= IN_FLIGHT as u64,
        "{running} effect tasks in flight for one session (cap {IN_FLIGHT})"
    );
    assert!(
        spawned <= 4,
        "{spawned} effect tasks started for 10,002 keystrokes: searches are not coalesced"
    );

    // The session still answers, and the latest query wins once the index is built.
    unlock(lock).await;
    s.send(b"\x15ada").await; // Ctrl-U, then a new query
    s.wait_text("Ada Lovelace").await;
    server
        .eventually("no effect task left", |h| {
            h.metrics.effects_in_flight.load(Ordering::Relaxed) == 0
        })
        .await;
}

/// A client that disconnects while its queries wait used to leave their tasks running
/// (and holding database connections): everything a session spawned ends with it.
#[tokio::test]
async fn session_tasks_end_when_client_disconnects() {
    let server = TestServer::start(test_limits()).await;
    server.facility("north", "North Hall").await;
    let key = server.key_user("vic", "north", Role::Viewer).await;
    let c = server.login_key("vic", &key).await;
    let mut s = c.shell(80, 24).await;
    s.wait_text("Dashboard").await;

    let lock = lock_recipients(&server).await;
    s.send(b"r").await;
    s.wait_text("Recipients").await;
    s.send(b"ada").await;
    server
        .eventually("the search waiting for the lock", |h| {
            h.metrics.effects_in_flight.load(Ordering::Relaxed) >= 1
        })
        .await;

    c.handle
        .disconnect(russh::Disconnect::ByApplication, "bye", "en")
        .await
        .expect("disconnect");
    drop(s);
    drop(c);
    // The lock is still held: only aborting the tasks can end them.
    server
        .eventually("the session's tasks ended with it", |h| {
            h.metrics.effects_in_flight.load(Ordering::Relaxed) == 0
                && h.metrics.sessions_active.load(Ordering::Relaxed) == 0
        })
        .await;
    unlock(lock).await;
}

/// A key revoked behind the server's back (no NOTIFY: a lost notification) used to leave
/// the session open for as long as it lasted; the periodic re-check ends it.
#[tokio::test]
async fn revoked_key_session_ends_even_when_notify_is_lost() {
    let server = TestServer::start(tokio_limits(SHORT)).await;
    server.facility("north", "North Hall").await;
    let key = server.key_user("ada", "north", Role::Operator).await;
    let c = server.login_key("ada", &key).await;
    let mut s = c.shell(80, 24).await;
    s.wait_text("Dashboard").await;

    server
        .owner_sql(
            "UPDATE ssh_keys SET disabled_at = now() \
             WHERE user_id = (SELECT id FROM users WHERE login = $1)",
            "ada",
        )
        .await;
    s.wait_closed(STEP).await;
    assert!(
        s.raw_text()
            .contains("your access to this facility was changed by an admin"),
        "{}",
        s.raw_text()
    );
}

/// A database error during the re-check used to keep the old principal (fail open); now
/// the session ends with a clear line.
#[tokio::test]
async fn recheck_error_fails_closed() {
    let server = TestServer::start(tokio_limits(SHORT)).await;
    server.facility("north", "North Hall").await;
    let key = server.key_user("ada", "north", Role::Operator).await;
    let c = server.login_key("ada", &key).await;
    let mut s = c.shell(80, 24).await;
    s.wait_text("Dashboard").await;

    // Every read of the users table fails from now on.
    let mut conn = su(&server).await;
    conn.execute("ALTER TABLE users RENAME TO users_gone")
        .await
        .expect("rename users");
    s.wait_closed(STEP).await;
    assert!(
        s.raw_text()
            .contains("your access could not be confirmed; log in again"),
        "{}",
        s.raw_text()
    );
    assert_eq!(server.metrics().recheck_failed.load(Ordering::Relaxed), 1);
    conn.execute("ALTER TABLE users_gone RENAME TO users")
        .await
        .expect("rename back");
    conn.close().await.expect("close");
}

/// Notifications sent while the server's LISTEN connection is down are lost: after it
/// reconnects every session re-checks at once (not only at the next periodic re-check).
#[tokio::test]
async fn revoked_key_session_ends_when_the_live_listener_reconnects() {
    let server = TestServer::start(tokio_limits(Duration::from_secs(3600))).await;
    server.facility("north", "North Hall").await;
    let key = server.key_user("ada", "north", Role::Operator).await;
    let c = server.login_key("ada", &key).await;
    let mut s = c.shell(80, 24).await;
    s.wait_text("Dashboard").await;

    server
        .owner_sql(
            "UPDATE ssh_keys SET disabled_at = now() \
             WHERE user_id = (SELECT id FROM users WHERE login = $1)",
            "ada",
        )
        .await;
    // Cut the listener's connection (it last ran LISTEN on the facility's channel).
    let mut conn = su(&server).await;
    let cut: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .fetch_all(&mut conn)
    .await
    .expect("terminate the listener");
    assert_eq!(cut, vec![true], "one listener connection");
    conn.close().await.expect("close");

    s.wait_closed(STEP).await;
    assert!(
        s.raw_text()
            .contains("your access to this facility was changed by an admin"),
        "{}",
        s.raw_text()
    );
}

/// A kiosk quarantined behind the server's back (no NOTIFY) is taken out of service by
/// the periodic re-check.
#[tokio::test]
async fn quarantined_kiosk_session_ends_even_when_notify_is_lost() {
    let server = TestServer::start(tokio_limits(SHORT)).await;
    server.facility("north", "North Hall").await;
    let device_key = crate::ssh_support::new_key();
    let line = device_key.public_key().to_openssh().expect("openssh line");
    let info = packtrack::auth::pubkey::parse_line(&line).expect("key line");
    let owner = server.db.owner_pool().await.expect("owner pool");
    packtrack::db::unscoped::Admin::new(&owner)
        .add_device("north", "desk-1", &info)
        .await
        .expect("add device");
    owner.close().await;
    let mut c = server.connect().await;
    let r = c
        .pubkey("kiosk+north", std::sync::Arc::new(device_key))
        .await;
    assert!(r.success(), "kiosk login: {r:?}");
    let mut s = c.shell(80, 24).await;
    s.wait_text("Login:").await;

    let mut conn = su(&server).await;
    conn.execute("UPDATE devices SET quarantined_at = now(), quarantine_reason = 'stolen'")
        .await
        .expect("quarantine behind the server's back");
    conn.close().await.expect("close");
    s.wait_closed(STEP).await;
    assert!(
        s.raw_text()
            .contains("this terminal was taken out of service by an admin"),
        "{}",
        s.raw_text()
    );
}

fn tokio_limits(recheck: Duration) -> packtrack::ssh::limits::Limits {
    packtrack::ssh::limits::Limits {
        recheck,
        ..test_limits()
    }
}
