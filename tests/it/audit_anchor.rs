//! The audit chain against a database owner who deletes or rewrites entries (issue 13 item
//! 10): the chain heads are anchored in a signed checkpoint file in the data dir, so
//! `admin audit verify` (the real binary) names a facility whose newest entries, or whole
//! chain, are gone; and the digest length-prefixes its fields, so moving bytes from one
//! field into the next does not keep the hash.

use hmac::{Hmac, Mac};
use packtrack::audit_anchor::Anchor;
use packtrack::db::audit;
use packtrack::secrets::SecretsKey;
use sha2::{Digest, Sha256};

use crate::support::{Sandbox, fresh_db};

/// Two facilities with a few audit entries each, written by the admin CLI (which anchors the
/// heads after each write): north 1-3 (facility.create, user.add ×2), south 1-2.
fn two_chains() -> Sandbox {
    let s = Sandbox::new();
    for slug in ["north", "south"] {
        s.ok(
            &[
                "admin", "facility", "create", "--slug", slug, "--name", slug,
            ],
            None,
        );
    }
    for (login, slug) in [("clerk", "north"), ("boss", "north"), ("porter", "south")] {
        s.ok(
            &[
                "admin",
                "user",
                "add",
                "--login",
                login,
                "--facility",
                slug,
                "--role",
                "operator",
            ],
            None,
        );
    }
    let r = s.ok(&["admin", "audit", "verify"], None);
    assert!(
        r.stdout
            .contains("audit chain intact: 5 entries in 2 facilities"),
        "{r:?}"
    );
    assert!(r.stdout.contains("at checkpoint"), "{r:?}");
    s
}

fn verify_fails(s: &Sandbox) -> String {
    let r = s.run(&["admin", "audit", "verify"], None);
    assert!(!r.ok, "verify must fail: {r:?}");
    r.stderr
}

#[test]
fn deleting_newest_audit_entries_fails_verify() {
    let s = two_chains();
    s.psql(
        "DELETE FROM audit_log WHERE seq >= 2 \
         AND facility_id = (SELECT id FROM facilities WHERE slug = 'north')",
    );
    let err = verify_fails(&s);
    assert!(
        err.contains("facility north was truncated")
            && err.contains("ends at seq 1")
            && err.contains("recorded seq 3"),
        "{err}"
    );
    assert!(!err.contains("south"), "south is intact: {err}");
    // Later writes append new entries (seq 2 again) and checkpoints, but the anchor never
    // moves back: the truncation stays visible.
    s.ok(
        &[
            "admin",
            "user",
            "add",
            "--login",
            "temp",
            "--facility",
            "north",
            "--role",
            "viewer",
        ],
        None,
    );
    let err = verify_fails(&s);
    assert!(err.contains("facility north"), "{err}");
}

#[test]
fn deleting_a_whole_chain_fails_verify() {
    let s = two_chains();
    s.psql(
        "DELETE FROM audit_log \
         WHERE facility_id = (SELECT id FROM facilities WHERE slug = 'south')",
    );
    let err = verify_fails(&s);
    assert!(
        err.contains("facility south is gone") && err.contains("recorded seq 2"),
        "{err}"
    );
    assert!(!err.contains("north"), "north is intact: {err}");
}

#[test]
fn forged_checkpoint_is_rejected() {
    let s = two_chains();
    // The owner deletes north's newest entry and, without the keys dir, appends a
    // checkpoint that matches the shortened chain: the next number, the right link to the
    // line before, the real key id, and an HMAC under a key of their own.
    s.psql(
        "DELETE FROM audit_log WHERE seq = 3 \
         AND facility_id = (SELECT id FROM facilities WHERE slug = 'north')",
    );
    let heads = s.psql(
        "SELECT string_agg(f.id || ' ' || f.slug || ' ' || h.seq || ' ' || encode(h.hash, 'hex'), \
                           ',' ORDER BY f.id) \
         FROM facilities f CROSS JOIN LATERAL (SELECT seq, hash FROM audit_log a \
              WHERE a.facility_id = f.id ORDER BY seq DESC LIMIT 1) h",
    );
    let heads: Vec<serde_json::Value> = heads
        .split(',')
        .map(|h| {
            let [id, slug, seq, hash] = h.split(' ').collect::<Vec<_>>()[..] else {
                panic!("unexpected head {h}");
            };
            serde_json::json!({
                "facility": id.parse::<i64>().unwrap(), "slug": slug,
                "seq": seq.parse::<i64>().unwrap(), "hash": hash,
            })
        })
        .collect();
    let path = s.data_dir().join("audit-checkpoints");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let (n, prev, key) = match text.lines().last() {
        Some(last) => {
            let body: serde_json::Value =
                serde_json::from_str(last.rsplit_once('\t').expect("body TAB mac").0).unwrap();
            (
                body["n"].as_u64().unwrap() + 1,
                hex::encode(Sha256::digest(last.as_bytes())),
                body["key"].as_str().unwrap().to_string(),
            )
        }
        None => (1, String::new(), "00000000".to_string()),
    };
    let forged = serde_json::json!({
        "n": n, "at": "2026-01-01T00:00:00.000000Z", "prev": prev, "key": key, "heads": heads,
    })
    .to_string();
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"the attacker's own key").unwrap();
    mac.update(forged.as_bytes());
    let mac = hex::encode(mac.finalize().into_bytes());
    std::fs::write(&path, format!("{text}{forged}\t{mac}\n")).unwrap();

    let err = verify_fails(&s);
    assert!(err.contains("is not authentic"), "{err}");
    // The next admin write does not build on the forged line either.
    let r = s.ok(
        &[
            "admin", "facility", "create", "--slug", "east", "--name", "e",
        ],
        None,
    );
    assert!(
        r.stderr.contains("audit checkpoint not written") && r.stderr.contains("not authentic"),
        "{r:?}"
    );
    let err = verify_fails(&s);
    assert!(err.contains("is not authentic"), "{err}");
}

#[test]
fn field_boundary_shift_does_not_collide() {
    let s = two_chains();
    // An entry with a 0x1F byte (the old digest's field separator) inside a field…
    s.psql(
        "INSERT INTO audit_log (facility_id, actor, action, target) \
         SELECT id, 'cli', 'note', E'a\\x1fb' FROM facilities WHERE slug = 'north'",
    );
    s.ok(&["admin", "audit", "verify"], None);
    // …is moved across the boundary: action 'note<US>a', target 'b'. The old digest joined
    // the fields with 0x1F, so both splits hashed alike and verify passed.
    s.psql(
        "UPDATE audit_log SET action = E'note\\x1fa', target = 'b' WHERE action = 'note' \
         AND facility_id = (SELECT id FROM facilities WHERE slug = 'north')",
    );
    let err = verify_fails(&s);
    assert!(
        err.contains("seq 4") && err.contains("does not match its hash"),
        "{err}"
    );
    // The digest itself: the same bytes split differently never hash alike.
    let same = s.psql(
        "SELECT audit_entry_digest(2::smallint, '\\x'::bytea, 1, 1, now(), 'cli', 'note', \
                                   E'a\\x1fb', '{}') \
              = audit_entry_digest(2::smallint, '\\x'::bytea, 1, 1, now(), 'cli', \
                                   E'note\\x1fa', 'b', '{}')",
    );
    assert_eq!(same, "f");
}

/// The server anchors the heads itself: at start, and at shutdown (and every minute in
/// between), so entries written by sessions are covered without any admin command.
#[test]
fn server_checkpoints_at_start_and_at_shutdown() {
    let s = Sandbox::new();
    // Written behind the anchor's back (psql writes no checkpoint): nothing anchored yet.
    s.psql(
        "WITH f AS (INSERT INTO facilities (slug, name) VALUES ('north', 'North') RETURNING id) \
         INSERT INTO audit_log (facility_id, actor, action) SELECT id, 'cli', 'x' FROM f",
    );
    let path = s.data_dir().join("audit-checkpoints");
    assert!(!path.exists());
    let mut served = s.serve(&[]);
    let lines = |want: usize| {
        for _ in 0..600 {
            let n = std::fs::read_to_string(&path)
                .map(|t| t.lines().count())
                .unwrap_or(0);
            if n >= want {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("no checkpoint {want} in {}", path.display());
    };
    lines(1);
    // An entry while the server runs, then a clean shutdown: its checkpoint covers it.
    s.psql(
        "INSERT INTO audit_log (facility_id, actor, action) \
         SELECT id, 'cli', 'y' FROM facilities WHERE slug = 'north'",
    );
    served.terminate_ok("after an entry");
    lines(2);
    s.psql("DELETE FROM audit_log WHERE action = 'y'");
    let err = verify_fails(&s);
    assert!(
        err.contains("facility north was truncated") && err.contains("recorded seq 2"),
        "{err}"
    );
}

/// Entries hashed before the digest changed (version 1) still verify, next to version 2
/// entries after them; relabelling a version 2 entry as version 1 does not.
#[tokio::test]
async fn old_digest_entries_verify_and_cannot_be_relabelled() {
    let db = fresh_db().await;
    let owner = db.owner_pool().await.unwrap();
    let admin = packtrack::db::unscoped::Admin::new(&owner);
    admin.create_facility("north", "North").await.unwrap();
    let insert = "INSERT INTO audit_log (facility_id, actor, action) \
                  SELECT id, 'cli', 'x' FROM facilities WHERE slug = 'north'";
    sqlx::query(insert).execute(&owner).await.unwrap();
    // Make seq 1-2 what rows written before migration 0012 look like: version 1 digests.
    sqlx::query(
        "DO $$ DECLARE r record; prev bytea := '\\x'; BEGIN \
           FOR r IN SELECT * FROM audit_log ORDER BY seq LOOP \
             UPDATE audit_log SET digest = 1, prev_hash = prev, \
               hash = audit_digest(prev, r.facility_id, r.seq, r.at, r.actor, r.action, \
                                   r.target, r.detail) \
             WHERE facility_id = r.facility_id AND seq = r.seq RETURNING hash INTO prev; \
           END LOOP; END $$",
    )
    .execute(&owner)
    .await
    .unwrap();
    sqlx::query(insert).execute(&owner).await.unwrap();
    let digests: Vec<i16> = sqlx::query_scalar("SELECT digest FROM audit_log ORDER BY seq")
        .fetch_all(&owner)
        .await
        .unwrap();
    assert_eq!(digests, [1, 1, 2]);
    let v = audit::verify(&owner)
        .await
        .unwrap()
        .expect("mixed chain verifies");
    assert_eq!(v.entries, 3);

    sqlx::query("UPDATE audit_log SET digest = 1 WHERE seq = 3")
        .execute(&owner)
        .await
        .unwrap();
    let broken = audit::verify(&owner).await.unwrap().unwrap_err();
    assert_eq!(broken.seq, 3, "{broken}");
    owner.close().await;
}

/// The checkpoint writer the server runs: it writes only when a head moved, and keeps the
/// anchor of a chain that lost its anchored entry, however often it runs.
#[tokio::test]
async fn a_checkpoint_never_moves_an_anchor_back() {
    let db = fresh_db().await;
    let owner = db.owner_pool().await.unwrap();
    let admin = packtrack::db::unscoped::Admin::new(&owner);
    admin.create_facility("north", "North").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let anchor = Anchor::new(dir.path(), SecretsKey::from_bytes(&[5u8; 32]));
    let insert = "INSERT INTO audit_log (facility_id, actor, action) \
                  SELECT id, 'cli', 'x' FROM facilities WHERE slug = 'north'";
    sqlx::query(insert).execute(&owner).await.unwrap();
    let w = anchor.checkpoint(&owner).await.unwrap();
    assert!(w.appended && w.regressed.is_empty(), "{w:?}");
    let w = anchor.checkpoint(&owner).await.unwrap();
    assert!(!w.appended, "nothing moved, nothing written: {w:?}");
    let anchored = anchor.latest().unwrap().unwrap().heads[0].seq;
    assert_eq!(anchored, 2, "facility.create and one entry");

    sqlx::query("DELETE FROM audit_log WHERE seq = 2")
        .execute(&owner)
        .await
        .unwrap();
    sqlx::query(insert).execute(&owner).await.unwrap();
    sqlx::query(insert).execute(&owner).await.unwrap();
    for _ in 0..2 {
        let w = anchor.checkpoint(&owner).await.unwrap();
        assert_eq!(w.regressed.len(), 1, "{w:?}");
        assert_eq!(anchor.latest().unwrap().unwrap().heads[0].seq, 2);
    }
    let findings = anchor.verify(&owner).await.unwrap().unwrap_err();
    assert!(
        findings[0]
            .to_string()
            .contains("facility north was rewritten"),
        "{findings:?}"
    );
    owner.close().await;
}
