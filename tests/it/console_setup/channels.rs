//! Channels: set up with sealed secrets, checked like the CLI's arguments, tested through the
//! worker's senders; admins only; another facility's integration is "not found".

use std::time::Duration;

use packtrack::db::integrations::ChannelKind;
use packtrack::error::AppError;
use packtrack::ops::ChannelForm;
use serde_json::json;

use super::*;
use crate::notify::{HttpReceiver, SmtpReceiver};
use crate::support::at_kiosk;

#[tokio::test]
async fn admin_sets_up_channels_with_sealed_secrets_kept_unless_retyped_and_audited() {
    let w = world().await;
    // SMTP with a password (public literal addresses: no DNS needed by the test).
    let smtp = w
        .ops
        .save_channel(
            &w.admin,
            &ChannelForm {
                sender: "mail@north.example".into(),
                username: "mailer".into(),
                secret: Some(PASSWORD.into()),
                ..form(ChannelKind::Smtp, "smtps://93.184.215.14")
            },
        )
        .await
        .expect("smtp saved");
    let (sealed, url) = stored(&w.db, smtp).await;
    let sealed = sealed.expect("a sealed password");
    assert!(!String::from_utf8_lossy(&sealed).contains(PASSWORD));
    let facility = w.admin.facility().0;
    assert_eq!(
        w.secrets
            .open(&format!("facility:{facility}"), &sealed)
            .expect("opens with the facility's binding"),
        PASSWORD.as_bytes()
    );
    assert_eq!(url, "smtps://93.184.215.14");

    // Saved again without the password: the sealed one is kept, byte for byte.
    w.ops
        .save_channel(
            &w.admin,
            &ChannelForm {
                sender: "mailroom@north.example".into(),
                ..form(ChannelKind::Smtp, "smtps://93.184.215.14:465")
            },
        )
        .await
        .expect("smtp saved again");
    assert_eq!(stored(&w.db, smtp).await.0, Some(sealed));

    // SMS whose URL carries a key in its query: listed without it; an empty URL keeps it.
    let sms = w
        .ops
        .save_channel(
            &w.admin,
            &ChannelForm {
                username: "AC123".into(),
                secret: Some("sms-token-5550101".into()),
                ..form(
                    ChannelKind::Sms,
                    "https://93.184.215.14/v1/send?api_key=k3y",
                )
            },
        )
        .await
        .expect("sms saved");
    w.ops
        .save_channel(
            &w.admin,
            &ChannelForm {
                username: "AC123".into(),
                ..form(ChannelKind::Sms, "")
            },
        )
        .await
        .expect("sms saved with the URL kept");
    assert_eq!(
        stored(&w.db, sms).await.1,
        "https://93.184.215.14/v1/send?api_key=k3y"
    );
    let hook = w
        .ops
        .save_channel(&w.admin, &webhook("https://93.184.215.14/in"))
        .await
        .expect("webhook saved");

    let list = w.ops.channels(&w.admin).await.expect("list");
    let kinds: Vec<_> = list.iter().map(|c| c.kind).collect();
    assert_eq!(
        kinds,
        vec![ChannelKind::Smtp, ChannelKind::Sms, ChannelKind::Webhook]
    );
    assert!(list.iter().all(|c| c.secret_set && c.enabled));
    let sms_row = &list[1];
    assert!(sms_row.url_hidden);
    assert!(!sms_row.url.contains("k3y"), "{}", sms_row.url);
    let shown = format!("{list:?}");
    for secret in [PASSWORD, SECRET, "sms-token-5550101", "k3y"] {
        assert!(!shown.contains(secret), "{secret} listed: {shown}");
    }
    // The settings tab sees the channels as configured and on.
    let s = w.ops.facility_settings(&w.admin).await.expect("settings");
    assert_eq!(
        (s.email, s.sms, s.webhook),
        (Some(true), Some(true), Some(true))
    );

    // Every change audited: who, which channel, whether a secret was new; no secret, no
    // hidden URL part, no user name.
    let rows = audit(&w.db, "north", "integration.%").await;
    let actions: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(
        actions,
        vec![
            "integration.smtp.set",
            "integration.smtp.set",
            "integration.sms.set",
            "integration.sms.set",
            "integration.webhook.add"
        ]
    );
    assert!(rows.iter().all(|r| r.0 == "boss"));
    assert_eq!(rows[0].3["secret"], json!("new"));
    assert_eq!(rows[1].3["secret"], json!("kept"));
    assert_eq!(rows[4].3["id"], json!(hook));
    let text = format!("{rows:?}");
    for secret in [
        PASSWORD,
        SECRET,
        "sms-token-5550101",
        "k3y",
        "mailer",
        "AC123",
    ] {
        assert!(!text.contains(secret), "{secret} audited: {text}");
    }
    // Nothing reached south.
    assert!(w.ops.channels(&w.stranger).await.expect("south").is_empty());
}

#[tokio::test]
async fn channel_forms_are_checked_like_the_cli_arguments() {
    let w = world().await;
    let refused = async |f: ChannelForm, why: &str| {
        let e = w.ops.save_channel(&w.admin, &f).await.unwrap_err();
        assert!(
            matches!(&e, AppError::Invalid(t) if t.contains(why)),
            "{f:?}: {e:?}"
        );
    };
    refused(form(ChannelKind::Smtp, "https://93.184.215.14"), "smtp://").await;
    refused(
        ChannelForm {
            sender: "not an address".into(),
            ..form(ChannelKind::Smtp, "smtps://93.184.215.14")
        },
        "From address",
    )
    .await;
    refused(
        ChannelForm {
            sender: "mail@north.example".into(),
            secret: Some(PASSWORD.into()),
            ..form(ChannelKind::Smtp, "smtp://93.184.215.14:25?tls=none")
        },
        "tls=none",
    )
    .await;
    refused(form(ChannelKind::Sms, "ftp://93.184.215.14/sms"), "http").await;
    refused(
        form(ChannelKind::Webhook, "https://93.184.215.14/in"),
        "signing secret",
    )
    .await;
    refused(
        ChannelForm {
            secret: Some("short".into()),
            ..form(ChannelKind::Webhook, "https://93.184.215.14/in")
        },
        "at least 16",
    )
    .await;
    refused(form(ChannelKind::Sms, ""), "URL is required").await;
    refused(
        ChannelForm {
            username: "a\u{1b}[2Jb".into(),
            ..form(ChannelKind::Sms, "https://93.184.215.14/sms")
        },
        "control character",
    )
    .await;
    assert_eq!(integration_count(&w.db).await, 0);
}

/// The host allows an on-prem network (here loopback): saving and test messages reach it,
/// through the worker's own senders (signed webhook, SMTP with the sealed password).
#[tokio::test]
async fn test_messages_go_through_the_worker_senders_to_an_allowed_network() {
    let w = world().await;
    let http = HttpReceiver::start().await;
    let smtp = SmtpReceiver::start().await;
    let hook = w
        .local
        .save_channel(&w.admin, &webhook(&http.url("/hook")))
        .await
        .expect("webhook saved");
    assert_eq!(
        w.local
            .test_channel(&w.admin, hook, "")
            .await
            .expect("tested"),
        Ok(())
    );
    let req = &http.requests()[0];
    assert_eq!(req.path, "/hook");
    let body = req.json();
    assert_eq!(body["event"], json!("test"));
    assert_eq!(body["facility"], json!("north"));
    let ts = req.header("x-packtrack-timestamp");
    assert_eq!(
        packtrack::notify::sign::verify(
            SECRET.as_bytes(),
            ts,
            &req.body,
            req.header("x-packtrack-signature"),
            ts.parse().expect("unix seconds"),
        ),
        Ok(())
    );

    let mail = w
        .local
        .save_channel(
            &w.admin,
            &ChannelForm {
                sender: "mail@north.example".into(),
                secret: Some(PASSWORD.into()),
                ..form(ChannelKind::Smtp, &smtp.url())
            },
        )
        .await
        .expect("smtp saved");
    // A test needs somewhere to go.
    let e = w
        .local
        .test_channel(&w.admin, mail, "nobody")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("e-mail address"), "{e}");
    assert_eq!(
        w.local
            .test_channel(&w.admin, mail, "ada@example.org")
            .await
            .expect("tested"),
        Ok(())
    );
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].rcpt, vec!["<ada@example.org>".to_string()]);
    assert!(
        mails[0].data.contains("Test message from"),
        "{}",
        mails[0].data
    );
    assert!(
        mails[0].auth.is_some(),
        "logged in with the sealed password"
    );

    // A receiver that fails: the specific error, sanitised, in the answer.
    http.set_mode(crate::notify::Mode::Fail);
    let failed = w
        .local
        .test_channel(&w.admin, hook, "")
        .await
        .expect("tested");
    assert!(
        failed.as_ref().unwrap_err().starts_with("HTTP 5"),
        "{failed:?}"
    );
    // A receiver that hangs: the test times out instead of holding the console.
    http.set_mode(crate::notify::Mode::Hang);
    let hung = w
        .local
        .clone()
        .with_test_timeout(Duration::from_millis(500))
        .test_channel(&w.admin, hook, "")
        .await
        .expect("tested");
    assert!(hung.as_ref().unwrap_err().contains("timed out"), "{hung:?}");
    http.set_mode(crate::notify::Mode::Ok);

    // Audited without the address.
    let rows = audit(&w.db, "north", "integration.test").await;
    let oks: Vec<bool> = rows.iter().map(|r| r.3["ok"] == json!(true)).collect();
    assert_eq!(oks, vec![true, true, false, false]);
    assert!(!format!("{rows:?}").contains("ada@example.org"));
}

#[tokio::test]
async fn operator_cannot_configure_an_integration() {
    let w = world().await;
    let hook = w
        .ops
        .save_channel(&w.admin, &webhook("https://93.184.215.14/in"))
        .await
        .expect("admin's webhook");
    let at_kiosk = at_kiosk(&w.db, "boss", "north").await;
    for p in [&w.operator, &w.viewer, &at_kiosk] {
        let denied = |r: Result<(), AppError>| matches!(r, Err(AppError::PermissionDenied));
        assert!(denied(w.ops.channels(p).await.map(|_| ())));
        assert!(denied(
            w.ops
                .save_channel(p, &webhook("https://93.184.215.14/evil"))
                .await
                .map(|_| ())
        ));
        assert!(denied(
            w.ops
                .save_channel(
                    p,
                    &ChannelForm {
                        id: Some(hook),
                        ..webhook("https://93.184.215.14/evil")
                    }
                )
                .await
                .map(|_| ())
        ));
        assert!(denied(w.ops.test_channel(p, hook, "").await.map(|_| ())));
    }
    assert_eq!(integration_count(&w.db).await, 1);
    assert_eq!(stored(&w.db, hook).await.1, "https://93.184.215.14/in");
    assert!(audit(&w.db, "north", "integration.test").await.is_empty());
}

#[tokio::test]
async fn another_facilitys_integration_answers_like_a_missing_one() {
    let w = world().await;
    let hook = w
        .ops
        .save_channel(&w.admin, &webhook("https://93.184.215.14/in"))
        .await
        .expect("north's webhook");
    let missing = hook + 1000;
    for id in [hook, missing] {
        assert!(matches!(
            w.ops.test_channel(&w.stranger, id, "").await,
            Err(AppError::NotFound)
        ));
        assert!(matches!(
            w.ops
                .save_channel(
                    &w.stranger,
                    &ChannelForm {
                        id: Some(id),
                        ..webhook("https://93.184.215.14/south")
                    }
                )
                .await,
            Err(AppError::NotFound)
        ));
    }
    assert_eq!(stored(&w.db, hook).await.1, "https://93.184.215.14/in");
}
