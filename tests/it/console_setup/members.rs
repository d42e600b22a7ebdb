//! New members from the console: the CLI's rules, never a takeover, admins only; over SSH
//! an admin creates one who then logs in.

use packtrack::domain::Role;
use packtrack::error::AppError;
use packtrack::ops::{FirstCredential, NewMember};
use serde_json::json;

use super::*;
use crate::ssh_support::{TestServer, new_key, test_limits, unix_now};

fn new_member(login: &str, credential: FirstCredential) -> NewMember {
    NewMember {
        login: login.into(),
        name: String::new(),
        role: Role::Operator,
        credential,
    }
}

#[tokio::test]
async fn admin_adds_members_as_the_cli_would_and_never_takes_over_a_login() {
    let w = world().await;
    let ada = w
        .ops
        .add_member(
            &w.admin,
            &NewMember {
                name: "Ada Lovelace".into(),
                ..new_member("ada", FirstCredential::Password("correct horse".into()))
            },
        )
        .await
        .expect("added");
    let line = new_key().public_key().to_openssh().expect("line");
    w.ops
        .add_member(
            &w.admin,
            &NewMember {
                role: Role::Viewer,
                ..new_member("kim", FirstCredential::Key(line.clone()))
            },
        )
        .await
        .expect("added with a key");
    let members = w.ops.members(&w.admin).await.expect("members");
    let row = members.iter().find(|m| m.login == "ada").expect("ada");
    assert_eq!(
        (
            row.user_id,
            row.display_name.as_str(),
            row.role.as_str(),
            row.has_password
        ),
        (ada, "Ada Lovelace", "operator", true)
    );
    let kim = members.iter().find(|m| m.login == "kim").expect("kim");
    assert_eq!(
        (kim.role.as_str(), kim.keys, kim.has_password),
        ("viewer", 1, false)
    );
    // The key is valid in this facility only.
    let keys = w.ops.member_keys(&w.admin).await.expect("keys");
    assert!(keys.iter().any(|k| k.login == "kim" && !k.all_facilities));
    // The password is argon2id, through the shared hashing pool.
    let owner = w.db.owner_pool().await.expect("owner pool");
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE login = 'ada'")
        .fetch_one(&owner)
        .await
        .expect("hash");
    owner.close().await;
    assert!(hash.starts_with("$argon2id$"), "{hash}");

    // A login anyone has (here, or in another facility) is a clear error, never a takeover.
    for login in ["ada", "other"] {
        let e = w
            .ops
            .add_member(
                &w.admin,
                &new_member(login, FirstCredential::Password("another password".into())),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(&e, AppError::Conflict(t) if t.contains("already taken")),
            "{login}: {e:?}"
        );
    }
    assert!(
        w.ops
            .members(&w.stranger)
            .await
            .expect("south")
            .iter()
            .all(|m| m.login != "ada")
    );
    // The CLI's rules.
    for (m, why) in [
        (
            new_member("Ada", FirstCredential::Password("long enough".into())),
            "invalid login",
        ),
        (
            new_member("kiosk", FirstCredential::Password("long enough".into())),
            "reserved",
        ),
        (
            new_member("bob", FirstCredential::Password("short".into())),
            "at least 8",
        ),
        (
            new_member("bob", FirstCredential::Key("ssh-ed25519 garbage".into())),
            "not a valid OpenSSH",
        ),
    ] {
        let e = w.ops.add_member(&w.admin, &m).await.unwrap_err();
        assert!(e.to_string().contains(why), "{m:?}: {e}");
    }

    // Audited: who added whom as what, never the password.
    let rows: Vec<_> = audit(&w.db, "north", "user.add")
        .await
        .into_iter()
        .filter(|r| r.0 != "cli")
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!((rows[0].0.as_str(), rows[0].2.as_str()), ("boss", "ada"));
    assert_eq!(rows[0].3["role"], json!("operator"));
    assert_eq!(rows[0].3["password_set"], json!(true));
    assert_eq!(rows[1].3["password_set"], json!(false));
    assert!(!format!("{rows:?}").contains("correct horse"));
    assert_eq!(audit(&w.db, "north", "key.add").await.len(), 1);
    // South's chain has only the CLI's own row for its admin.
    let south = audit(&w.db, "south", "user.add").await;
    assert!(south.iter().all(|r| r.0 == "cli"), "{south:?}");
}

#[tokio::test]
async fn operator_cannot_add_a_member() {
    let w = world().await;
    for p in [&w.operator, &w.viewer] {
        let e = w
            .ops
            .add_member(
                p,
                &NewMember {
                    role: Role::Admin,
                    ..new_member("mallory", FirstCredential::Password("let me in now".into()))
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::PermissionDenied), "{e:?}");
    }
    let owner = w.db.owner_pool().await.expect("owner pool");
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE login = 'mallory'")
        .fetch_one(&owner)
        .await
        .expect("count");
    owner.close().await;
    assert_eq!(n, 0);
}

/// Over SSH, as an admin would: the Members tab's new member form (password typed twice),
/// then the TOTP enrollment that follows; the new member logs in with password and code.
/// Then the Channels tab refuses a webhook at this host.
#[tokio::test]
async fn admin_creates_a_member_in_the_console_who_then_logs_in() {
    let server = TestServer::start(test_limits()).await;
    server.facility("north", "North Hall").await;
    let boss = server.key_user("boss", "north", Role::Admin).await;
    let admin = server.login_key("boss", &boss).await;
    let mut screen = admin.shell(80, 24).await;
    screen.wait_text("Dashboard").await;
    screen.send(b"a").await;
    screen.wait_text("new member").await;
    screen.send(b"n").await;
    screen.wait_text("New member of this facility").await;
    // Login and name; role (operator) and sign-in (password + TOTP) as they come.
    screen.send(b"dana\tDana Scully\t").await;
    screen.send(b"\t\t").await;
    screen.send(b"s3cret-passphrase\t").await;
    screen.send(b"s3cret-passphrase").await;
    // The password is never on screen.
    assert!(!screen.flat().contains("s3cret"), "{}", screen.text());
    screen.send(b"\r").await;
    screen.wait_text("Enroll TOTP").await;
    screen.wait_text("for dana").await;
    // The key as the screen shows it, typed into the member's authenticator.
    let key = regex::Regex::new(r"(?:[A-Z2-7]{4} ){7}[A-Z2-7]{4}").unwrap();
    let text = screen.text();
    let manual = key
        .find(&text)
        .expect("the key on screen")
        .as_str()
        .replace(' ', "");
    let secret = totp_rs::Secret::Encoded(manual).to_bytes().expect("base32");
    // A code of the previous step confirms (within the allowed skew), so the login below
    // can use the current one: a confirmed step is never accepted again.
    let code = packtrack::auth::totp::code_at(&secret, unix_now() - 30);
    screen.send(code.as_bytes()).await;
    screen.send(b"\r").await;
    screen.wait_text("TOTP enrolled for dana").await;

    let mut c = server.connect().await;
    let (r, _) = c
        .kbd(
            "dana+north",
            "s3cret-passphrase",
            &packtrack::auth::totp::code_at(&secret, unix_now()),
        )
        .await;
    assert!(
        matches!(r, russh::client::KeyboardInteractiveAuthResponse::Success),
        "{r:?}"
    );
    let mut dana = c.shell(80, 24).await;
    dana.wait_text("Dashboard").await;
    assert!(dana.flat().contains("dana (operator)"), "{}", dana.text());

    // Channels (two tabs on from TOTP): a webhook at this host is refused on save.
    screen.send(b"\t\t").await;
    screen.wait_text("add a webhook").await;
    screen.send(b"n").await;
    screen.wait_text("New webhook").await;
    screen.send(b"http://127.0.0.1:9222/metrics\t").await;
    screen.send(SECRET.as_bytes()).await;
    screen.send(b"\x13").await; // Ctrl-S
    screen.wait_text("refused: 127.0.0.1 is a loopback").await;
    assert!(!screen.flat().contains(SECRET), "{}", screen.text());

    let rows: Vec<(String, String)> = {
        let owner = server.db.owner_pool().await.expect("owner pool");
        let rows = sqlx::query_as(
            "SELECT actor, action FROM audit_log WHERE target = 'dana' ORDER BY seq",
        )
        .fetch_all(&owner)
        .await
        .expect("audit");
        owner.close().await;
        rows
    };
    assert_eq!(
        rows,
        vec![
            ("boss".to_string(), "user.add".to_string()),
            ("boss".to_string(), "totp.enroll".to_string())
        ]
    );
}
