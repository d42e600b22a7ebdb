//! Setup without the host's shell (issue 16): facility admins set up notification channels
//! (SMTP, SMS, webhooks) and add members from the admin console. Against a real database:
//! secrets sealed, kept when not retyped, never listed or audited; test messages through
//! the worker's own senders; admins only; another facility's integration is "not found";
//! and URLs that point at this host, the LAN or cloud metadata refused when saved and when
//! connecting (SSRF). Over SSH: an admin creates a member who then logs in. Here: the world
//! the tests share; `channels`, `ssrf` and `members` hold the tests.

use std::time::Duration;

use packtrack::db::Database;
use packtrack::db::integrations::ChannelKind;
use packtrack::notify::egress::Egress;
use packtrack::ops::{ChannelForm, Ops};
use serde_json::Value;

use crate::support::{Staff, staff};

const SECRET: &str = "whsec-console-0123456789";
const PASSWORD: &str = "smtp-console-password";

/// The console's staff, and `Ops` that may reach loopback (a local test receiver).
struct World {
    staff: Staff,
    /// With loopback allowed, as `serve --notify-allow-private 127.0.0.0/8`; `ops` has
    /// public addresses only, what `serve` does by default.
    local: Ops,
}

impl std::ops::Deref for World {
    type Target = Staff;
    fn deref(&self) -> &Staff {
        &self.staff
    }
}

async fn world() -> World {
    let staff = staff().await;
    let local = staff
        .ops
        .clone()
        .with_egress(loopback())
        .with_test_timeout(Duration::from_secs(5));
    World { staff, local }
}

fn loopback() -> Egress {
    Egress::allowing("127.0.0.0/8".parse().expect("nets"))
}

fn form(kind: ChannelKind, url: &str) -> ChannelForm {
    ChannelForm {
        kind: Some(kind),
        url: url.into(),
        ..Default::default()
    }
}

fn webhook(url: &str) -> ChannelForm {
    ChannelForm {
        secret: Some(SECRET.into()),
        ..form(ChannelKind::Webhook, url)
    }
}

async fn audit(db: &Database, slug: &str, like: &str) -> Vec<(String, String, String, Value)> {
    let owner = db.owner_pool().await.expect("owner pool");
    let rows = sqlx::query_as(
        "SELECT a.actor, a.action, a.target, a.detail FROM audit_log a \
         JOIN facilities f ON f.id = a.facility_id \
         WHERE f.slug = $1 AND a.action LIKE $2 ORDER BY a.seq",
    )
    .bind(slug)
    .bind(like)
    .fetch_all(&owner)
    .await
    .expect("audit");
    owner.close().await;
    rows
}

/// The stored (sealed) secret and URL of an integration.
async fn stored(db: &Database, id: i64) -> (Option<Vec<u8>>, String) {
    let owner = db.owner_pool().await.expect("owner pool");
    let row = sqlx::query_as("SELECT secret, url FROM integrations WHERE id = $1")
        .bind(id)
        .fetch_one(&owner)
        .await
        .expect("integration");
    owner.close().await;
    row
}

async fn integration_count(db: &Database) -> i64 {
    let owner = db.owner_pool().await.expect("owner pool");
    let n = sqlx::query_scalar("SELECT count(*) FROM integrations")
        .fetch_one(&owner)
        .await
        .expect("count");
    owner.close().await;
    n
}

mod channels;
mod members;
mod ssrf;
