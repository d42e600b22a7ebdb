//! A resident's authorised proxies (migration 0020) through `Ops`: operators and admins add
//! and remove them (audited with the resident's id and the list's length, never a name),
//! the list is bounded and clean, another facility's resident answers like a missing one,
//! and a pickup records whether the proxy was on the list, decided by the server.

use packtrack::db::packages::{self, Handover};
use packtrack::domain::{Principal, Role};
use packtrack::error::AppError;
use packtrack::ops::{Ops, RecipientFields};

use crate::support::{app_ops as ops, at_kiosk, fresh_db, intake_for as intake, member, superuser};

async fn resident(ops: &Ops, admin: &Principal, name: &str) -> i64 {
    ops.create_recipient(
        admin,
        &RecipientFields {
            name: name.into(),
            unit: "A-101".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id
}

#[tokio::test]
async fn operators_add_and_remove_authorised_proxies_audited_without_names() {
    let db = fresh_db().await;
    let admin = member(&db, "alpha", "boss", Role::Admin).await;
    let op = member(&db, "alpha", "ann", Role::Operator).await;
    let ops = ops(&db).await;
    let id = resident(&ops, &admin, "Ada Lovelace").await;

    assert!(ops.recipient_proxies(&op, id).await.unwrap().is_empty());
    let list = ops
        .add_recipient_proxy(&op, id, "  Sam Lee (partner) ")
        .await
        .unwrap();
    assert_eq!(list, vec!["Sam Lee (partner)".to_string()], "trimmed");
    ops.add_recipient_proxy(&admin, id, "Kim Park")
        .await
        .unwrap();
    // The same name again, in other case: a conflict, nothing stored twice.
    let err = ops
        .add_recipient_proxy(&op, id, "kim park")
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Conflict(_)), "{err:?}");
    let list = ops
        .remove_recipient_proxy(&op, id, "KIM PARK")
        .await
        .unwrap();
    assert_eq!(list, vec!["Sam Lee (partner)".to_string()]);
    let err = ops
        .remove_recipient_proxy(&op, id, "Nobody")
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::NotFound), "{err:?}");
    assert_eq!(
        ops.recipient_proxies(&op, id).await.unwrap(),
        vec!["Sam Lee (partner)".to_string()]
    );

    let mut su = superuser(&db).await;
    let rows: Vec<(String, String, String, serde_json::Value)> = sqlx::query_as(
        "SELECT actor, action, target, detail FROM audit_log \
         WHERE action LIKE 'recipient.proxy%' ORDER BY seq",
    )
    .fetch_all(&mut su)
    .await
    .unwrap();
    let target = format!("recipient:{id}");
    let seen: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|(a, b, c, _)| (a.as_str(), b.as_str(), c.as_str()))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("ann", "recipient.proxy_add", target.as_str()),
            ("boss", "recipient.proxy_add", target.as_str()),
            ("ann", "recipient.proxy_remove", target.as_str()),
        ]
    );
    assert_eq!(rows[1].3, serde_json::json!({ "proxies": 2 }));
    for (_, _, _, detail) in &rows {
        let text = detail.to_string().to_lowercase();
        assert!(
            !text.contains("sam") && !text.contains("kim"),
            "a name in the audit: {text}"
        );
    }
}

#[tokio::test]
async fn the_list_is_bounded_and_refuses_control_characters() {
    let db = fresh_db().await;
    let admin = member(&db, "alpha", "boss", Role::Admin).await;
    let ops = ops(&db).await;
    let id = resident(&ops, &admin, "Ada Lovelace").await;
    for name in ["", "   ", "Sam\x1b[2JLee", "Sam\u{202e}Lee"] {
        let err = ops.add_recipient_proxy(&admin, id, name).await.unwrap_err();
        assert!(matches!(err, AppError::Invalid(_)), "{name:?}: {err:?}");
    }
    let long = "x".repeat(81);
    let err = ops
        .add_recipient_proxy(&admin, id, &long)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Invalid(_)), "{err:?}");
    ops.add_recipient_proxy(&admin, id, &"y".repeat(80))
        .await
        .unwrap();
    for n in 2..=5 {
        ops.add_recipient_proxy(&admin, id, &format!("Proxy {n}"))
            .await
            .unwrap();
    }
    let err = ops
        .add_recipient_proxy(&admin, id, "Proxy 6")
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Invalid(_)), "{err:?}");
    assert_eq!(ops.recipient_proxies(&admin, id).await.unwrap().len(), 5);
    // The database holds the same bounds whoever writes.
    let mut su = superuser(&db).await;
    let res = sqlx::query(
        "UPDATE recipients SET authorised_proxies = authorised_proxies || '{six}' WHERE id = $1",
    )
    .bind(id)
    .execute(&mut su)
    .await;
    assert!(res.is_err(), "a sixth name stored: {res:?}");
    let res = sqlx::query("UPDATE recipients SET authorised_proxies = $2 WHERE id = $1")
        .bind(id)
        .bind(vec!["z".repeat(81)])
        .execute(&mut su)
        .await;
    assert!(res.is_err(), "an 81-character name stored: {res:?}");
}

#[tokio::test]
async fn viewers_and_kiosks_cannot_change_authorised_proxies() {
    let db = fresh_db().await;
    let admin = member(&db, "alpha", "boss", Role::Admin).await;
    let viewer = member(&db, "alpha", "eve", Role::Viewer).await;
    let ops = ops(&db).await;
    let id = resident(&ops, &admin, "Ada Lovelace").await;
    let kiosk = at_kiosk(&db, "boss", "alpha").await;
    for p in [&viewer, &kiosk] {
        let err = ops.add_recipient_proxy(p, id, "Sam Lee").await.unwrap_err();
        assert!(matches!(err, AppError::PermissionDenied), "{err:?}");
        let err = ops
            .remove_recipient_proxy(p, id, "Sam Lee")
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::PermissionDenied), "{err:?}");
    }
    let err = ops.recipient_proxies(&viewer, id).await.unwrap_err();
    assert!(matches!(err, AppError::PermissionDenied), "{err:?}");
    assert!(ops.recipient_proxies(&admin, id).await.unwrap().is_empty());
}

#[tokio::test]
async fn other_facility_resident_proxies_are_not_found() {
    let db = fresh_db().await;
    let alpha = member(&db, "alpha", "boss", Role::Admin).await;
    let beta = member(&db, "beta", "mallory", Role::Admin).await;
    let ops = ops(&db).await;
    let theirs = resident(&ops, &alpha, "Ada Lovelace").await;
    ops.add_recipient_proxy(&alpha, theirs, "Sam Lee")
        .await
        .unwrap();
    let missing = theirs + 1000;
    // Listing, adding and removing on another facility's resident answer exactly as on an
    // id that does not exist.
    for id in [theirs, missing] {
        let err = ops.recipient_proxies(&beta, id).await.unwrap_err();
        assert!(matches!(err, AppError::NotFound), "{id}: {err:?}");
        let err = ops
            .add_recipient_proxy(&beta, id, "Mallory")
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::NotFound), "{id}: {err:?}");
        let err = ops
            .remove_recipient_proxy(&beta, id, "Sam Lee")
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::NotFound), "{id}: {err:?}");
    }
    assert_eq!(
        ops.recipient_proxies(&alpha, theirs).await.unwrap(),
        vec!["Sam Lee".to_string()],
        "nothing changed"
    );
    let mut su = superuser(&db).await;
    let audits: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log a JOIN facilities f ON f.id = a.facility_id \
         WHERE f.slug = 'beta' AND a.action LIKE 'recipient.proxy%'",
    )
    .fetch_one(&mut su)
    .await
    .unwrap();
    assert_eq!(audits, 0);
}

#[tokio::test]
async fn a_pickup_records_whether_the_proxy_was_on_the_list() {
    let db = fresh_db().await;
    let admin = member(&db, "alpha", "boss", Role::Admin).await;
    let op = member(&db, "alpha", "ann", Role::Operator).await;
    let ops = ops(&db).await;
    let ada = resident(&ops, &admin, "Ada Lovelace").await;
    let bob = resident(&ops, &admin, "Bob Smith").await;
    ops.add_recipient_proxy(&op, ada, "Sam Lee (partner)")
        .await
        .unwrap();
    let a1 = intake(&ops, &op, "1Z5R89390357567127", ada).await;
    let a2 = intake(&ops, &op, "986578788855", ada).await;
    let a3 = intake(&ops, &op, "9400100000000000000005", ada).await;
    let b1 = intake(&ops, &op, "1Z999AA10123456784", bob).await;
    let handover = |receiver: &str, proxy: bool| Handover {
        receiver: receiver.into(),
        proxy,
    };
    let authorised = async |id: i64| {
        let mut tx = ops.db().tenant(&op).await.unwrap();
        let events = packages::events(&mut tx, id).await.unwrap();
        let e = events.iter().find(|e| e.kind == "picked_up").unwrap();
        (
            e.detail.get("proxy").cloned(),
            e.detail.get("authorised").cloned(),
        )
    };
    // On the list (in any case): authorised.
    ops.pickup(&op, &[a1], &handover("sam lee (PARTNER)", true))
        .await
        .unwrap();
    assert_eq!(authorised(a1).await, (Some(true.into()), Some(true.into())));
    // A typed name not on the list: a proxy, not authorised.
    ops.pickup(&op, &[a2], &handover("Jo Bloggs", true))
        .await
        .unwrap();
    assert_eq!(
        authorised(a2).await,
        (Some(true.into()), Some(false.into()))
    );
    // Ada's proxy collecting Bob's parcel with Ada's: not on Bob's list, so not authorised.
    ops.pickup(&op, &[a3, b1], &handover("Sam Lee (partner)", true))
        .await
        .unwrap();
    assert_eq!(
        authorised(b1).await,
        (Some(true.into()), Some(false.into()))
    );
}
