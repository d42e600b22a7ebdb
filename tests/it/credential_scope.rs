//! Credentials a facility admin sets in the console never open another facility (issue 13,
//! item 1), whatever the order of events: a key or kiosk PIN added in north's console works
//! in north only, also after the host adds the person to south; what the host's admin CLI
//! sets is the person's everywhere, and a facility they join records it in its audit chain.

use std::sync::Arc;

use packtrack::auth::login::{Authenticator, Device, Failure};
use packtrack::auth::password;
use packtrack::db::unscoped::Admin;
use packtrack::domain::{FacilityId, Principal, Role, Source};
use packtrack::ops::Ops;
use russh::keys::PrivateKey;
use serde_json::{Value, json};

use crate::ssh_support::{TestServer, new_key, test_limits};

/// Not a trivial sequence, 6 digits: valid under any PIN rule.
const PIN: &str = "582913";

async fn two_facilities() -> TestServer {
    let s = TestServer::start(test_limits()).await;
    s.facility("north", "North Hall").await;
    s.facility("south", "South Hall").await;
    s
}

/// `login`'s console in `slug`, run in process as the console's effects run it.
async fn console(s: &TestServer, login: &str, slug: &str) -> (Ops, Principal) {
    let app = s.db.app(2).await.expect("app pool");
    let user = app
        .unscoped()
        .user(login)
        .await
        .expect("lookup")
        .expect("user");
    let p = app
        .unscoped()
        .principal(
            &user,
            Some(slug),
            Source::Ssh {
                peer: "127.0.0.1:50000".into(),
            },
        )
        .await
        .expect("lookup")
        .expect("membership");
    (Ops::new(app).with_secrets(s.secrets.clone()), p)
}

async fn user_id(s: &TestServer, login: &str) -> i64 {
    let owner = s.db.owner_pool().await.expect("owner pool");
    let id = sqlx::query_scalar("SELECT id FROM users WHERE login = $1")
        .bind(login)
        .fetch_one(&owner)
        .await
        .expect("user id");
    owner.close().await;
    id
}

/// (actor, action, detail) of `slug`'s audit rows about `target`, in chain order.
async fn audit_about(s: &TestServer, slug: &str, target: &str) -> Vec<(String, String, Value)> {
    let owner = s.db.owner_pool().await.expect("owner pool");
    let rows = sqlx::query_as(
        "SELECT a.actor, a.action, a.detail FROM audit_log a \
         JOIN facilities f ON f.id = a.facility_id \
         WHERE f.slug = $1 AND a.target = $2 ORDER BY a.seq",
    )
    .bind(slug)
    .bind(target)
    .fetch_all(&owner)
    .await
    .expect("audit");
    owner.close().await;
    rows
}

/// north's admin pastes a key of their own for bob in north's console.
async fn north_admin_adds_key_for_bob(s: &TestServer) -> Arc<PrivateKey> {
    let key = Arc::new(new_key());
    let line = key.public_key().to_openssh().expect("line");
    let (ops, boss) = console(s, "boss", "north").await;
    let bob = user_id(s, "bob").await;
    ops.add_member_key(&boss, bob, &line)
        .await
        .expect("north's admin adds a key for a member of north");
    key
}

async fn logs_in(s: &TestServer, user: &str, key: &Arc<PrivateKey>) -> bool {
    let mut c = s.connect().await;
    c.pubkey(user, key.clone()).await.success()
}

#[tokio::test]
async fn console_key_added_in_north_cannot_log_in_to_south_after_cli_adds_south() {
    let s = two_facilities().await;
    s.key_user("boss", "north", Role::Admin).await;
    s.member("bob", "north", Role::Operator).await;
    let key = north_admin_adds_key_for_bob(&s).await;
    assert!(logs_in(&s, "bob+north", &key).await, "valid in north");

    // Later the host adds bob to south.
    s.member("bob", "south", Role::Operator).await;
    assert!(
        !logs_in(&s, "bob+south", &key).await,
        "north's console key logged in to south"
    );
    assert!(logs_in(&s, "bob+north", &key).await, "still valid in north");
    // An honest mistake, not a guess at a secret: no lockout count.
    assert_eq!(s.failures_recorded("bob").await, 0);
    // south's chain knows bob joined, and no key of his logs in there.
    let south = audit_about(&s, "south", "bob").await;
    let creds = south
        .iter()
        .find(|r| r.1 == "membership.credentials")
        .expect("south records what can log in as bob");
    assert_eq!(creds.2["keys"], json!([]), "{south:?}");
}

#[tokio::test]
async fn console_key_added_in_north_cannot_log_in_to_south_when_already_a_member() {
    let s = two_facilities().await;
    s.key_user("boss", "north", Role::Admin).await;
    s.member("bob", "north", Role::Operator).await;
    s.member("bob", "south", Role::Operator).await;
    // boss administers north only: the key is north's business alone.
    let key = north_admin_adds_key_for_bob(&s).await;
    assert!(logs_in(&s, "bob+north", &key).await, "valid in north");
    assert!(
        !logs_in(&s, "bob+south", &key).await,
        "north's console key logged in to south"
    );
    // Audited where it logs in, and only there.
    let north = audit_about(&s, "north", "bob").await;
    let add = north
        .iter()
        .find(|r| r.1 == "key.add")
        .expect("north audits the key");
    assert_eq!(add.0, "boss");
    assert_eq!(add.2["valid_in"], json!("this facility"));
    let south = audit_about(&s, "south", "bob").await;
    assert!(south.iter().all(|r| r.1 != "key.add"), "{south:?}");
}

/// `ssh bob@host` binds the one facility bob is (still) in; the key is checked against the
/// facility bound, not only against the one a user name names.
#[tokio::test]
async fn console_key_from_north_cannot_log_in_as_plain_login_bound_to_south() {
    let s = two_facilities().await;
    s.key_user("boss", "north", Role::Admin).await;
    s.member("bob", "north", Role::Operator).await;
    let key = north_admin_adds_key_for_bob(&s).await;
    assert!(logs_in(&s, "bob", &key).await, "bob is in north only");
    s.member("bob", "south", Role::Operator).await;
    s.owner_sql(
        "UPDATE memberships m SET disabled_at = now() FROM users u, facilities f \
         WHERE u.id = m.user_id AND f.id = m.facility_id AND u.login = $1 AND f.slug = 'north'",
        "bob",
    )
    .await;
    assert!(
        !logs_in(&s, "bob", &key).await,
        "north's console key logged in to south as plain `bob`"
    );
    assert_eq!(s.failures_recorded("bob").await, 0);
}

/// A key the host's admin CLI registered is the person's in every facility, also ones they
/// join later.
#[tokio::test]
async fn cli_key_logs_in_to_every_facility_of_its_owner() {
    let s = two_facilities().await;
    let key = s.key_user("bob", "north", Role::Operator).await;
    s.member("bob", "south", Role::Viewer).await;
    assert!(logs_in(&s, "bob+north", &key).await);
    assert!(logs_in(&s, "bob+south", &key).await);
}

#[tokio::test]
async fn south_console_neither_lists_nor_revokes_keys_scoped_to_north() {
    let s = two_facilities().await;
    s.key_user("boss", "north", Role::Admin).await;
    s.member("sue", "south", Role::Admin).await;
    s.member("bob", "north", Role::Operator).await;
    s.member("bob", "south", Role::Operator).await;
    let _key = north_admin_adds_key_for_bob(&s).await;
    let (north_ops, boss) = console(&s, "boss", "north").await;
    let north_keys = north_ops.member_keys(&boss).await.expect("north keys");
    let row = north_keys
        .iter()
        .find(|k| k.login == "bob")
        .expect("north lists its own key");
    assert!(!row.all_facilities, "shown as this facility's");

    let (south_ops, sue) = console(&s, "sue", "south").await;
    let south_keys = south_ops.member_keys(&sue).await.expect("south keys");
    assert!(
        south_keys.iter().all(|k| k.id != row.id),
        "south lists north's key: {south_keys:?}"
    );
    let e = south_ops
        .revoke_member_key(&sue, row.id)
        .await
        .expect_err("south revoked north's key");
    assert!(e.to_string().contains("not a key of this facility"), "{e}");

    // north's admin revokes it without administering south: it opened north only.
    north_ops
        .revoke_member_key(&boss, row.id)
        .await
        .expect("north revokes its own key");
    let north = audit_about(&s, "north", "bob").await;
    assert!(north.iter().any(|r| r.1 == "key.revoke"), "{north:?}");
    let south = audit_about(&s, "south", "bob").await;
    assert!(south.iter().all(|r| r.1 != "key.revoke"), "{south:?}");
}

/// A key valid everywhere (admin CLI) is not north's to revoke while its owner also works
/// in south: revoking it would lock them out there.
#[tokio::test]
async fn north_admin_cannot_revoke_a_members_all_facilities_key() {
    let s = two_facilities().await;
    s.key_user("boss", "north", Role::Admin).await;
    let key = s.key_user("bob", "north", Role::Operator).await;
    s.member("bob", "south", Role::Operator).await;
    let (ops, boss) = console(&s, "boss", "north").await;
    let keys = ops.member_keys(&boss).await.expect("keys");
    let row = keys.iter().find(|k| k.login == "bob").expect("bob's key");
    assert!(row.all_facilities);
    let e = ops.revoke_member_key(&boss, row.id).await.unwrap_err();
    assert!(
        e.to_string()
            .contains("bob also belongs to a facility you do not administer"),
        "{e}"
    );
    assert!(
        logs_in(&s, "bob+south", &key).await,
        "still logs in to south"
    );
}

async fn kiosk(s: &TestServer, slug: &str, id: i64) -> Device {
    let owner = s.db.owner_pool().await.expect("owner pool");
    let facility: FacilityId = Admin::new(&owner)
        .facility_id(slug)
        .await
        .expect("facility");
    owner.close().await;
    Device {
        facility,
        slug: slug.into(),
        facility_name: slug.into(),
        id,
        name: format!("{slug} desk"),
        self_service: false,
    }
}

async fn unlock(s: &TestServer, login: &str, pin: &str, device: &Device) -> Result<(), Failure> {
    let auth = Authenticator::new(s.db.app(1).await.expect("app pool"), s.secrets.clone());
    auth.kiosk_unlock(
        login,
        pin.into(),
        None,
        device,
        "127.0.0.1".parse().unwrap(),
    )
    .await
    .map(|p| assert_eq!(p.slug(), device.slug))
}

async fn north_admin_sets_bobs_pin(s: &TestServer) {
    let (ops, boss) = console(s, "boss", "north").await;
    ops.set_member_pin(&boss, user_id(s, "bob").await, PIN)
        .await
        .expect("north's admin sets bob's kiosk PIN");
}

#[tokio::test]
async fn console_pin_set_in_north_cannot_unlock_south_kiosk() {
    let s = two_facilities().await;
    s.member("boss", "north", Role::Admin).await;
    s.member("bob", "north", Role::Operator).await;
    let (north, south) = (kiosk(&s, "north", 1).await, kiosk(&s, "south", 2).await);
    north_admin_sets_bobs_pin(&s).await;
    // Later the host adds bob to south.
    s.member("bob", "south", Role::Operator).await;
    assert_eq!(unlock(&s, "bob", PIN, &north).await, Ok(()));
    assert_eq!(
        unlock(&s, "bob", PIN, &south).await,
        Err(Failure::NoPin),
        "north's console PIN unlocked a south kiosk"
    );
}

#[tokio::test]
async fn console_pin_set_in_north_cannot_unlock_south_kiosk_when_already_a_member() {
    let s = two_facilities().await;
    s.member("boss", "north", Role::Admin).await;
    s.member("bob", "north", Role::Operator).await;
    s.member("bob", "south", Role::Operator).await;
    let (north, south) = (kiosk(&s, "north", 1).await, kiosk(&s, "south", 2).await);
    north_admin_sets_bobs_pin(&s).await;
    assert_eq!(unlock(&s, "bob", PIN, &north).await, Ok(()));
    assert_eq!(unlock(&s, "bob", PIN, &south).await, Err(Failure::NoPin));
    let north_rows = audit_about(&s, "north", "bob").await;
    assert!(
        north_rows.iter().any(|r| r.1 == "pin.set"),
        "{north_rows:?}"
    );
    assert!(!format!("{north_rows:?}").contains(PIN));
    let south_rows = audit_about(&s, "south", "bob").await;
    assert!(
        south_rows.iter().all(|r| r.1 != "pin.set"),
        "{south_rows:?}"
    );
}

/// The CLI's `user set-pin` is the person's PIN at every kiosk; a console PIN replaces it at
/// its own facility's kiosks only.
#[tokio::test]
async fn cli_pin_unlocks_every_kiosk_console_pin_only_its_own() {
    let s = two_facilities().await;
    s.member("boss", "north", Role::Admin).await;
    s.member("bob", "north", Role::Operator).await;
    s.member("bob", "south", Role::Operator).await;
    let (north, south) = (kiosk(&s, "north", 1).await, kiosk(&s, "south", 2).await);
    let own = "730164";
    let owner = s.db.owner_pool().await.expect("owner pool");
    Admin::new(&owner)
        .set_pin("bob", &password::hash(own.into()).await)
        .await
        .expect("CLI set-pin");
    owner.close().await;
    assert_eq!(unlock(&s, "bob", own, &north).await, Ok(()));
    assert_eq!(unlock(&s, "bob", own, &south).await, Ok(()));
    north_admin_sets_bobs_pin(&s).await;
    assert_eq!(unlock(&s, "bob", PIN, &north).await, Ok(()));
    assert_eq!(
        unlock(&s, "bob", own, &north).await,
        Err(Failure::BadPassword)
    );
    assert_eq!(unlock(&s, "bob", own, &south).await, Ok(()));
    assert_eq!(
        unlock(&s, "bob", PIN, &south).await,
        Err(Failure::BadPassword)
    );
}

#[tokio::test]
async fn membership_added_by_cli_audits_credentials_in_new_facility() {
    let s = two_facilities().await;
    s.member("boss", "north", Role::Admin).await;
    let creds = s.password_user("bob", "north", Role::Operator).await;
    let cli_key = new_key();
    let cli_line = cli_key.public_key().to_openssh().expect("line");
    s.register_key_line("bob", &cli_line).await;
    let revoked = s.add_key("bob").await;
    let revoked_fp = packtrack::auth::pubkey::fingerprint(revoked.public_key());
    s.owner_sql(
        "UPDATE ssh_keys SET disabled_at = now() WHERE fingerprint = $1",
        &revoked_fp,
    )
    .await;
    let pin_hash = password::hash(PIN.into()).await;
    let owner = s.db.owner_pool().await.expect("owner pool");
    Admin::new(&owner)
        .set_pin("bob", &pin_hash)
        .await
        .expect("CLI set-pin");
    owner.close().await;
    // A key of north's console is not valid in south: not listed there.
    let _north_only = north_admin_adds_key_for_bob(&s).await;

    s.member("bob", "south", Role::Viewer).await;
    let south = audit_about(&s, "south", "bob").await;
    let actions: Vec<&str> = south.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(
        actions,
        ["membership.set", "membership.credentials"],
        "{south:?}"
    );
    let (actor, _, detail) = &south[1];
    assert_eq!(actor, "cli");
    let fp = packtrack::auth::pubkey::parse_line(&cli_line)
        .expect("key")
        .fingerprint;
    assert_eq!(
        detail,
        &json!({
            "keys": [{ "fingerprint": fp, "algorithm": "ssh-ed25519" }],
            "password_set": true,
            "totp_enrolled": true,
            "pin_set": true,
        })
    );
    // Never a secret: no key material, hash, password or sealed TOTP.
    let text = detail.to_string();
    let body = cli_line.split_whitespace().nth(1).expect("base64");
    for secret in [body, pin_hash.as_str(), creds.password.as_str(), "$argon2"] {
        assert!(!text.contains(secret), "{text}");
    }
    // A role change of an existing membership is no new way in: no second row.
    s.member("bob", "south", Role::Operator).await;
    let again = audit_about(&s, "south", "bob").await;
    assert_eq!(
        again
            .iter()
            .filter(|r| r.1 == "membership.credentials")
            .count(),
        1,
        "{again:?}"
    );
}

/// The runtime role sees whose console PIN is set in its own facility, never the hash (the
/// kiosk reads it through `kiosk_pin_hash`), and nothing of another facility.
#[tokio::test]
async fn runtime_role_cannot_read_console_pin_hashes() {
    let s = two_facilities().await;
    s.member("boss", "north", Role::Admin).await;
    s.member("bob", "north", Role::Operator).await;
    north_admin_sets_bobs_pin(&s).await;
    let app = s.db.app(1).await.expect("app pool");
    let north = kiosk(&s, "north", 1).await.facility;
    let south = kiosk(&s, "south", 2).await.facility;
    let mut tx = crate::support::raw_tx(app.pool(), Some(north)).await;
    let n: i64 = sqlx::query_scalar("SELECT count(user_id) FROM member_pins")
        .fetch_one(&mut *tx)
        .await
        .expect("whose PIN is set");
    assert_eq!(n, 1);
    let (code, _) = crate::support::sql_error(
        sqlx::query_scalar::<_, String>("SELECT pin_hash FROM member_pins")
            .fetch_all(&mut *tx)
            .await,
    );
    assert_eq!(code, "42501", "the runtime role read a PIN hash");
    tx.rollback().await.expect("rollback");
    let mut tx = crate::support::raw_tx(app.pool(), Some(south)).await;
    let n: i64 = sqlx::query_scalar("SELECT count(user_id) FROM member_pins")
        .fetch_one(&mut *tx)
        .await
        .expect("count");
    assert_eq!(n, 0, "south sees north's PIN rows");
    tx.rollback().await.expect("rollback");
}
