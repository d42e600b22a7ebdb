//! SSRF: URLs that point at this host, the LAN or cloud metadata are refused when saved from
//! the console, and names that resolve there are refused when connecting.

use packtrack::db::integrations::ChannelKind;
use packtrack::error::AppError;
use packtrack::notify::worker::{self, WorkerConfig};
use packtrack::ops::ChannelForm;

use super::*;
use crate::notify::{HttpReceiver, SmtpReceiver};

/// Until this release only the host's owner could set an integration's URL. A facility
/// admin may now, so a URL pointing at this host (the metrics endpoint, PostgreSQL), the
/// LAN or the cloud metadata address is refused when saved, in every spelling.
#[tokio::test]
async fn facility_admin_cannot_point_a_webhook_at_loopback() {
    let w = world().await;
    // Something listening on loopback, as the metrics endpoint would.
    let metrics = HttpReceiver::start().await;
    let port = url::Url::parse(&metrics.url("/")).unwrap().port().unwrap();
    for url in [
        format!("http://127.0.0.1:{port}/metrics"),
        format!("http://localhost:{port}/metrics"),
        format!("http://[::1]:{port}/metrics"),
        format!("http://2130706433:{port}/metrics"),
        format!("http://0x7f.0.0.1:{port}/metrics"),
        format!("http://[::ffff:127.0.0.1]:{port}/metrics"),
        format!("http://0.0.0.0:{port}/metrics"),
    ] {
        let e = w
            .ops
            .save_channel(&w.admin, &webhook(&url))
            .await
            .unwrap_err();
        assert!(
            matches!(&e, AppError::Invalid(t) if t.starts_with("refused: ") && t.contains("--notify-allow-private")),
            "{url}: {e:?}"
        );
    }
    assert_eq!(integration_count(&w.db).await, 0);
    assert_eq!(metrics.connections(), 0, "something connected to loopback");
}

#[tokio::test]
async fn facility_admin_cannot_point_sms_at_the_cloud_metadata_address() {
    let w = world().await;
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://10.0.0.5/sms",
        "http://192.168.1.10/sms",
    ] {
        let e = w
            .ops
            .save_channel(&w.admin, &form(ChannelKind::Sms, url))
            .await
            .unwrap_err();
        assert!(
            matches!(&e, AppError::Invalid(t) if t.starts_with("refused: ")),
            "{url}: {e:?}"
        );
    }
    assert_eq!(integration_count(&w.db).await, 0);
}

#[tokio::test]
async fn facility_admin_cannot_point_smtp_at_the_database_port() {
    let w = world().await;
    let pg = url::Url::parse(w.db.owner_url()).expect("database URL");
    let port = pg.port().unwrap_or(5432);
    for url in [
        format!("smtp://127.0.0.1:{port}?tls=none"),
        format!("smtp://localhost:{port}?tls=none"),
        format!("smtps://[::1]:{port}"),
    ] {
        let e = w
            .ops
            .save_channel(
                &w.admin,
                &ChannelForm {
                    sender: "mail@north.example".into(),
                    ..form(ChannelKind::Smtp, &url)
                },
            )
            .await
            .unwrap_err();
        assert!(
            matches!(&e, AppError::Invalid(t) if t.starts_with("refused: ")),
            "{url}: {e:?}"
        );
    }
    assert_eq!(integration_count(&w.db).await, 0);
}

/// A name that resolves to loopback when the message goes out (DNS rebinding: it looked
/// public when saved) is refused where the connection is made: by the worker and by the
/// console's test, and nothing connects.
#[tokio::test]
async fn a_name_resolving_to_loopback_is_refused_when_connecting() {
    let w = world().await;
    let http = HttpReceiver::start().await;
    let smtp = SmtpReceiver::start().await;
    let http_port = url::Url::parse(&http.url("/")).unwrap().port().unwrap();
    let smtp_port = url::Url::parse(&smtp.url()).unwrap().port().unwrap();
    // Stored behind the console's back (as if the name had resolved elsewhere then).
    let owner = w.db.owner_pool().await.expect("owner pool");
    let admin = packtrack::db::unscoped::Admin::new(&owner);
    let seal = |f: packtrack::domain::FacilityId, s: &str| {
        w.secrets.seal(&format!("facility:{}", f.0), s.as_bytes())
    };
    let hook = admin
        .add_webhook(
            "north",
            &format!("http://localhost:{http_port}/hook"),
            false,
            |f| seal(f, SECRET),
        )
        .await
        .expect("webhook");
    admin
        .set_smtp(
            "north",
            &format!("smtp://localhost:{smtp_port}?tls=none"),
            "mail@north.example",
            None,
            |_| None,
        )
        .await
        .expect("smtp");
    let smtp_id: i64 = sqlx::query_scalar("SELECT id FROM integrations WHERE kind = 'smtp'")
        .fetch_one(&owner)
        .await
        .expect("smtp id");

    // The console's test message.
    let outcome = w
        .ops
        .test_channel(&w.admin, hook, "")
        .await
        .expect("attempted");
    let why = outcome.unwrap_err();
    assert!(
        why.contains("localhost (127.0.0.1)") || why.contains("localhost (::1)"),
        "{why}"
    );
    assert!(why.contains("loopback"), "{why}");
    let outcome = w
        .ops
        .test_channel(&w.admin, smtp_id, "ada@example.org")
        .await
        .expect("attempted");
    assert!(outcome.unwrap_err().contains("refused: localhost"));

    // The worker, as `serve` runs it by default.
    sqlx::query(
        "INSERT INTO outbox (facility_id, channel, integration_id, event, payload) \
         SELECT facility_id, 'webhook', id, 'intake', '{}'::jsonb FROM integrations \
         WHERE kind = 'webhook'",
    )
    .execute(&owner)
    .await
    .expect("queued");
    let stats = worker::run_once(&owner, &w.secrets, &WorkerConfig::default())
        .await
        .expect("round");
    // Retried later (the host may allow the network meanwhile), never delivered.
    assert_eq!((stats.delivered, stats.retried), (0, 1), "{stats:?}");
    let error: String = sqlx::query_scalar("SELECT last_error FROM outbox")
        .fetch_one(&owner)
        .await
        .expect("row");
    assert!(
        error.starts_with("cannot connect: refused: localhost"),
        "{error}"
    );
    owner.close().await;
    assert_eq!(http.connections(), 0, "the webhook receiver was reached");
    assert_eq!(smtp.connections(), 0, "the SMTP receiver was reached");
}
