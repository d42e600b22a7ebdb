//! Kiosk terminals end to end: a device key gets the lock screen, a PIN unlocks it, actions
//! carry staff and device, Ctrl-L locks, quarantine ends the session and refuses the key.

use packtrack::db::unscoped::Admin;
use packtrack::domain::Role;

use crate::ssh_support::{TestServer, new_key, test_limits};

const UPS: &str = "1Z5R89390357567127";

#[tokio::test]
async fn device_key_lock_screen_pin_unlock_attribution_and_quarantine() {
    let server = TestServer::start(test_limits()).await;
    server.facility("north", "North Hall").await;
    server.member("clerk", "north", Role::Admin).await;
    let device_key = server.kiosk_device("north", "Front desk 2", "clerk").await;
    let owner = server.db.owner_pool().await.expect("owner");
    let admin = Admin::new(&owner);

    // An unknown key never gets a kiosk; the device key does, for its facility only.
    let mut stranger = server.connect().await;
    assert!(
        !stranger
            .pubkey("kiosk+north", std::sync::Arc::new(new_key()))
            .await
            .success()
    );
    server.facility("south", "South Hall").await;
    let mut wrong = server.connect().await;
    assert!(
        !wrong
            .pubkey("kiosk+south", device_key.clone())
            .await
            .success()
    );

    let k = server.login_key("kiosk+north", &device_key).await;
    let no_exec = k.exec("whoami").await;
    assert_ne!(no_exec.status, Some(0), "a kiosk has no commands");
    let mut screen = k.shell(80, 24).await;
    screen.wait_text("Front desk 2").await;
    screen.wait_text("locked").await;
    screen.wait_text("Login:").await;

    // A wrong PIN is refused; the right one unlocks.
    screen.send(b"clerk\r0000\r").await;
    screen.wait_text("wrong login or PIN").await;
    screen.send(b"\x1b").await;
    screen.send(b"clerk\r4711\r").await;
    screen.wait_text("clerk (admin) at Front desk 2").await;

    // An admin at a kiosk still has no admin console.
    screen.send(b"a").await;
    screen.wait_text("not available on a kiosk").await;

    // Record a parcel: the custody event names the staff member and the device.
    screen.send(b"i").await;
    // A person sees the screen before scanning (a scan right behind the `i`, within a few
    // ms, would be read as one burst).
    screen.wait_text("Tracking").await;
    screen.send(format!("{UPS}\r").as_bytes()).await;
    screen.wait_text("Who is it for?").await;
    screen.send(b"\x15").await; // Ctrl-U: unmatched
    screen.send(b"\r").await;
    screen.wait_text(&format!("received {UPS}")).await;
    let (actor, device, source): (String, String, String) = sqlx::query_as(
        "SELECT u.login, d.name, e.source FROM package_events e \
         JOIN users u ON u.id = e.actor_id \
         JOIN devices d ON d.facility_id = e.facility_id AND d.id = e.device_id \
         WHERE e.kind = 'received'",
    )
    .fetch_one(&owner)
    .await
    .expect("attributed event");
    assert_eq!(actor, "clerk");
    assert_eq!(device, "Front desk 2");
    assert!(source.starts_with("kiosk Front desk 2"), "{source}");

    // Ctrl-L locks at once.
    screen.send(b"\x0c").await;
    screen.wait_text("Login:").await;
    screen.wait_text("locked").await;

    // Quarantine ends the open session and refuses the key afterwards.
    admin
        .quarantine_device("north", "Front desk 2", Some("stolen"))
        .await
        .expect("quarantine");
    screen.wait_closed(std::time::Duration::from_secs(10)).await;
    assert!(String::from_utf8_lossy(&screen.raw).contains("taken out of service"));
    let mut again = server.connect().await;
    assert!(
        !again
            .pubkey("kiosk+north", device_key.clone())
            .await
            .success()
    );
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE action LIKE 'device.%' ORDER BY seq",
    )
    .fetch_all(&owner)
    .await
    .expect("audit");
    assert_eq!(actions, vec!["device.add", "device.quarantine"]);
    // Released, it works again.
    admin
        .quarantine_device("north", "Front desk 2", None)
        .await
        .expect("release");
    let mut back = server.connect().await;
    assert!(
        back.pubkey("kiosk+north", device_key.clone())
            .await
            .success()
    );
}
