//! A barcode scanner over a real SSH session (issue 16): the number and CRLF arrive in one
//! write, as a scanner's burst does, on whatever screen is open. Regression for "the next
//! scan was saved as the previous parcel's location" and "a UPS scan's R opened Reports".

use packtrack::db::recipients::{self, NewRecipient};
use packtrack::db::unscoped::Admin;
use packtrack::domain::Role;

use crate::ssh_support::{TestServer, test_limits};

const UPS: &str = "1Z5R89390357567127";
/// A valid UPS number with an `R` (the Reports key) in it.
const UPS_R: &str = "1Z8R89390357567124";
const USPS: &str = "9400111899275432319480";
/// xterm's F2 (SS3 Q).
const F2: &[u8] = b"\x1bOQ";

async fn locations(server: &TestServer) -> Vec<(String, String)> {
    let owner = server.db.owner_pool().await.expect("owner pool");
    let rows = sqlx::query_as("SELECT tracking, location FROM packages ORDER BY id")
        .fetch_all(&owner)
        .await
        .expect("packages");
    owner.close().await;
    rows
}

#[tokio::test]
async fn scans_in_batch_intake_and_on_the_package_detail_are_never_keys() {
    let server = TestServer::start(test_limits()).await;
    server.facility("north", "North Hall").await;
    {
        let owner = server.db.owner_pool().await.expect("owner pool");
        let mut tx = Admin::new(&owner).tenant("north").await.expect("tenant");
        recipients::upsert(
            &mut tx,
            &NewRecipient {
                name: "Ada Lovelace".into(),
                unit: "A-101".into(),
                email: None,
                phone: None,
                aliases: vec![],
            },
        )
        .await
        .expect("recipient");
        tx.commit().await.expect("commit");
        owner.close().await;
    }
    let clerk = server.key_user("clerk", "north", Role::Operator).await;
    let client = server.login_key("clerk", &clerk).await;
    let mut s = client.shell(80, 24).await;
    s.wait_text("Dashboard").await;

    // Batch intake: the first parcel to Ada on "Shelf B".
    s.send(F2).await;
    s.wait_text("Tracking").await;
    s.send(b"\x02").await; // Ctrl-B: batch
    s.wait_text("batch on").await;
    s.send(format!("{UPS}\r\n").as_bytes()).await;
    s.wait_text("Who is it for?").await;
    s.send(b"lovel").await;
    s.wait_text("Ada Lovelace").await;
    s.send(b"\r").await;
    s.wait_text("Enter: save").await;
    s.send(b"\x15Shelf B").await; // Ctrl-U clears the location first
    s.wait_text("Shelf B").await;

    // The next parcel's scan saves this one (not as its location) and starts the next.
    s.send(format!("{USPS}\r\n").as_bytes()).await;
    s.wait_text(&format!("received {UPS} for Ada Lovelace"))
        .await;
    s.wait_text(USPS).await;
    assert_eq!(
        locations(&server).await,
        vec![(UPS.to_string(), "Shelf B".to_string())]
    );
    // Batch: the recipient stays, one Enter saves the second parcel.
    s.send(b"\r").await;
    s.wait_text(&format!("received {USPS} for Ada Lovelace"))
        .await;
    assert_eq!(
        locations(&server).await,
        vec![
            (UPS.to_string(), "Shelf B".to_string()),
            (USPS.to_string(), "Shelf B".to_string()),
        ]
    );

    // A rescan of a waiting parcel opens its detail; the next scan there (with an R in it)
    // opens intake with that number instead of the Reports screen.
    s.send(format!("{UPS}\r\n").as_bytes()).await;
    s.wait_text("is already waiting").await;
    s.wait_for("the package detail", |sh| {
        sh.text().lines().next().unwrap_or("").contains("Package")
    })
    .await;
    s.send(format!("{UPS_R}\r\n").as_bytes()).await;
    s.wait_text(UPS_R).await;
    let head = s.text().lines().next().unwrap_or("").to_string();
    assert!(head.contains("Intake"), "{head}\n{}", s.text());
    assert!(!head.contains("Reports"), "{head}");
    assert!(
        s.text().contains("Enter: save"),
        "batch: straight to details\n{}",
        s.text()
    );
    assert_eq!(
        locations(&server).await.len(),
        2,
        "nothing saved by the scan itself"
    );
}
