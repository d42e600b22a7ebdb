//! Recipients management by facility admins through `Ops` (the code path of the admin
//! console): merge moves packages and is audited, the import preview writes nothing and
//! its confirmation writes exactly the previewed rows, roles and facilities are enforced.

use packtrack::db::packages::{self, Handover};
use packtrack::domain::Role;
use packtrack::error::AppError;
use packtrack::ops::RecipientFields;
use sqlx::PgConnection;

use crate::support::{app_ops as ops, at_kiosk, fresh_db, intake_for as intake, member, superuser};

fn fields(name: &str, unit: &str, email: &str, aliases: &str) -> RecipientFields {
    RecipientFields {
        name: name.into(),
        unit: unit.into(),
        email: email.into(),
        phone: String::new(),
        aliases: aliases.into(),
    }
}

async fn audit_actions(
    su: &mut PgConnection,
    facility: i64,
) -> Vec<(String, String, serde_json::Value)> {
    sqlx::query_as(
        "SELECT action, target, detail FROM audit_log WHERE facility_id = $1 ORDER BY seq",
    )
    .bind(facility)
    .fetch_all(su)
    .await
    .unwrap()
}

type Row = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Vec<String>,
    bool,
);

async fn snapshot(su: &mut PgConnection) -> Vec<Row> {
    sqlx::query_as(
        "SELECT id, name, unit, email, phone, aliases, active FROM recipients ORDER BY id",
    )
    .fetch_all(su)
    .await
    .unwrap()
}

#[tokio::test]
async fn merge_moves_packages_and_is_audited() {
    let db = fresh_db().await;
    let admin = member(&db, "alpha", "boss", Role::Admin).await;
    let ops = ops(&db).await;
    let keep = ops
        .create_recipient(&admin, &fields("Ada Lovelace", "A-101", "", "Ada"))
        .await
        .unwrap();
    let dup = ops
        .create_recipient(
            &admin,
            &fields("Ada King", "A101", "ada@example.org", "Countess; Ada"),
        )
        .await
        .unwrap();
    // The index is built before the merge: it must follow without a rebuild.
    assert_eq!(
        ops.search_recipients(&admin, "countess", 5, false)
            .await
            .unwrap()[0]
            .recipient
            .id,
        dup.id
    );
    let waiting = intake(&ops, &admin, "1Z5R89390357567127", dup.id).await;
    let past = intake(&ops, &admin, "986578788855", dup.id).await;
    let mut tx = ops.db().tenant(&admin).await.unwrap();
    packages::pickup(
        &mut tx,
        &[past],
        &Handover {
            receiver: "Ada King".into(),
            proxy: false,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let own = intake(&ops, &admin, "9400100000000000000005", keep.id).await;

    let preview = ops.merge_preview(&admin, keep.id, dup.id).await.unwrap();
    assert_eq!((preview.waiting, preview.total), (1, 2));
    let merged = ops.merge_recipients(&admin, keep.id, dup.id).await.unwrap();
    assert_eq!(merged.moved, vec![waiting, past]);
    assert_eq!(merged.waiting_moved, 1);
    assert!(!merged.duplicate.active);
    assert_eq!(merged.kept.aliases, vec!["Ada", "Ada King", "Countess"]);
    assert_eq!(
        merged.kept.email.as_deref(),
        Some("ada@example.org"),
        "blank filled"
    );

    let mut su = superuser(&db).await;
    let owners: Vec<(i64, Option<i64>)> =
        sqlx::query_as("SELECT id, recipient_id FROM packages ORDER BY id")
            .fetch_all(&mut su)
            .await
            .unwrap();
    assert_eq!(
        owners,
        vec![
            (waiting, Some(keep.id)),
            (past, Some(keep.id)),
            (own, Some(keep.id))
        ]
    );
    // Each moved package records the reassignment in its custody chain.
    for id in [waiting, past] {
        let (pkg, events) = ops.package(&admin, id).await.unwrap();
        assert_eq!(pkg.recipient_name.as_deref(), Some("Ada Lovelace"));
        let last = events.last().unwrap();
        assert_eq!(last.kind, "updated");
        assert_eq!(last.detail["from_recipient_id"], dup.id);
        assert_eq!(last.detail["recipient_id"], keep.id);
        assert_eq!(last.actor.as_deref(), Some("boss"));
    }
    let (_, own_events) = ops.package(&admin, own).await.unwrap();
    assert_eq!(
        own_events.len(),
        1,
        "the kept recipient's own package is untouched"
    );
    let audit = audit_actions(&mut su, admin.facility().0).await;
    let merge = audit
        .iter()
        .find(|(a, _, _)| a == "recipient.merge")
        .expect("merge audited");
    assert_eq!(merge.1, format!("recipient:{}", keep.id));
    assert_eq!(merge.2["duplicate"], dup.id);
    assert_eq!(merge.2["packages"], 2);
    // Contact data never enters the audit trail.
    for (_, _, detail) in &audit {
        assert!(!detail.to_string().contains("ada@example.org"), "{detail}");
    }

    // Search follows in place: the duplicate's alias now finds the kept recipient, and the
    // duplicate is hidden unless inactive ones are asked for.
    let hits = ops
        .search_recipients(&admin, "countess", 5, false)
        .await
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].recipient.id, keep.id);
    let all = ops
        .search_recipients(&admin, "ada king", 5, true)
        .await
        .unwrap();
    assert!(
        all.iter()
            .any(|f| f.recipient.id == dup.id && !f.recipient.active)
    );

    // Merging again, or into the inactive duplicate, is refused with a reason.
    let err = ops
        .merge_recipients(&admin, dup.id, keep.id)
        .await
        .unwrap_err();
    assert!(
        matches!(err, AppError::Conflict(ref m) if m.contains("inactive")),
        "{err:?}"
    );
    let err = ops
        .merge_recipients(&admin, keep.id, keep.id)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Invalid(_)), "{err:?}");
}

const CSV: &str = "name,unit,email,phone,aliases\n\
Ada Lovelace,A-101,ada@example.org,,Ada\n\
Grace Hopper,B-2,grace@navy.mil,+1 555 010 9999,Amazing Grace\n\
Bob,C-3,bob@,,\n\
Alan Turing,D-4,,,\n\
,E-5,,,\n";

#[tokio::test]
async fn import_preview_writes_nothing_and_confirm_writes_exactly_the_preview() {
    let db = fresh_db().await;
    let admin = member(&db, "alpha", "boss", Role::Admin).await;
    let ops = ops(&db).await;
    // Ada exists unchanged, Grace exists with an old email: 1 unchanged, 1 update, 1 add.
    ops.create_recipient(
        &admin,
        &fields("Ada Lovelace", "A-101", "ada@example.org", "Ada"),
    )
    .await
    .unwrap();
    ops.create_recipient(&admin, &fields("Grace Hopper", "B-2", "old@navy.mil", ""))
        .await
        .unwrap();
    ops.search_recipients(&admin, "", 5, false).await.unwrap(); // build the index
    let mut su = superuser(&db).await;
    let before = snapshot(&mut su).await;
    let audit_before = audit_actions(&mut su, admin.facility().0).await.len();

    let plan = ops.plan_import(&admin, CSV.as_bytes()).await.unwrap();
    let c = plan.counts();
    assert_eq!((c.added, c.updated, c.unchanged, c.rejected), (1, 1, 1, 2));
    let lines: Vec<(u64, &str)> = plan
        .rejected
        .iter()
        .map(|r| (r.line, r.reason.as_str()))
        .collect();
    assert_eq!(lines[0].0, 4);
    assert!(lines[0].1.contains("email `bob@`"), "{lines:?}");
    assert_eq!(lines[1], (6, "name is required"));
    // The preview wrote nothing at all, not even an audit row.
    assert_eq!(snapshot(&mut su).await, before);
    assert_eq!(
        audit_actions(&mut su, admin.facility().0).await.len(),
        audit_before
    );

    let mut reports = Vec::new();
    let done = ops
        .apply_import(&admin, &plan, "paste (admin console)", |d, t| {
            reports.push((d, t))
        })
        .await
        .unwrap();
    assert_eq!(done.counts, c, "confirm writes exactly what was previewed");
    assert_eq!(reports.last(), Some(&(3, 3)));
    let after = snapshot(&mut su).await;
    assert_eq!(after.len(), 3);
    let grace = after.iter().find(|r| r.1 == "Grace Hopper").unwrap();
    assert_eq!(grace.3.as_deref(), Some("grace@navy.mil"));
    assert_eq!(grace.4.as_deref(), Some("+15550109999"));
    assert!(after.iter().any(|r| r.1 == "Alan Turing" && r.2 == "D-4"));
    assert!(!after.iter().any(|r| r.1 == "Bob"));
    let audit = audit_actions(&mut su, admin.facility().0).await;
    let (action, target, detail) = audit.last().unwrap();
    assert_eq!(
        (action.as_str(), target.as_str()),
        ("recipients.import", "paste (admin console)")
    );
    assert_eq!(detail["added"], 1);
    assert_eq!(detail["updated"], 1);
    assert_eq!(detail["rejected"], 2);
    // The built index was updated, not dropped: the new recipient is found.
    let hits = ops
        .search_recipients(&admin, "turing", 5, false)
        .await
        .unwrap();
    assert_eq!(hits[0].recipient.name, "Alan Turing");

    // The same CSV again: all unchanged, nothing to write.
    let again = ops.plan_import(&admin, CSV.as_bytes()).await.unwrap();
    assert_eq!(again.counts().unchanged, 3);
    assert_eq!(again.writes(), 0);
    // A wrong header is one clear error for the whole paste.
    let err = ops
        .plan_import(&admin, b"name,email\nA,a@b.co\n")
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("line 1: expected the header"),
        "{err}"
    );
}

#[tokio::test]
async fn operators_viewers_and_kiosks_are_refused() {
    let db = fresh_db().await;
    let admin = member(&db, "alpha", "boss", Role::Admin).await;
    let op = member(&db, "alpha", "clerk", Role::Operator).await;
    let viewer = member(&db, "alpha", "eve", Role::Viewer).await;
    let ops = ops(&db).await;
    let r = ops
        .create_recipient(&admin, &fields("Ada Lovelace", "A-101", "", ""))
        .await
        .unwrap();
    let other = ops
        .create_recipient(&admin, &fields("Ada King", "A101", "", ""))
        .await
        .unwrap();
    // The same admin at a kiosk terminal: never the admin functions.
    let kiosk = at_kiosk(&db, "boss", "alpha").await;
    let plan = ops.plan_import(&admin, CSV.as_bytes()).await.unwrap();
    for p in [&op, &viewer, &kiosk] {
        let denied = |res: Result<(), AppError>| {
            assert!(
                matches!(res, Err(AppError::PermissionDenied)),
                "{:?}: {res:?}",
                p.role()
            );
        };
        denied(
            ops.create_recipient(p, &fields("X", "1", "", ""))
                .await
                .map(drop),
        );
        denied(
            ops.update_recipient(p, r.id, &fields("Y", "1", "", ""))
                .await
                .map(drop),
        );
        denied(ops.set_recipient_active(p, r.id, false).await.map(drop));
        denied(ops.merge_preview(p, r.id, other.id).await.map(drop));
        denied(ops.merge_recipients(p, r.id, other.id).await.map(drop));
        denied(ops.recipient_for_edit(p, r.id).await.map(drop));
        denied(ops.plan_import(p, CSV.as_bytes()).await.map(drop));
        denied(ops.apply_import(p, &plan, "x", |_, _| {}).await.map(drop));
        // Searching stays open to every member.
        assert_eq!(
            ops.search_recipients(p, "ada", 5, false)
                .await
                .unwrap()
                .len(),
            2
        );
    }
    let mut su = superuser(&db).await;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM recipients")
        .fetch_one(&mut su)
        .await
        .unwrap();
    assert_eq!(n, 2, "nothing was written by the refused calls");
}

#[tokio::test]
async fn cross_facility_recipient_ids_answer_not_found() {
    let db = fresh_db().await;
    let a = member(&db, "alpha", "ann", Role::Admin).await;
    let b = member(&db, "beta", "bob", Role::Admin).await;
    let ops = ops(&db).await;
    let theirs = ops
        .create_recipient(&a, &fields("Ada Lovelace", "A-101", "ada@example.org", ""))
        .await
        .unwrap();
    let theirs2 = ops
        .create_recipient(&a, &fields("Ada King", "A101", "", ""))
        .await
        .unwrap();
    let mine = ops
        .create_recipient(&b, &fields("Grace Hopper", "B-2", "", ""))
        .await
        .unwrap();
    let nf = |res: Result<(), AppError>| {
        assert!(matches!(res, Err(AppError::NotFound)), "{res:?}");
    };
    nf(ops.recipient_for_edit(&b, theirs.id).await.map(drop));
    nf(ops
        .update_recipient(&b, theirs.id, &fields("Evil", "", "", ""))
        .await
        .map(drop));
    nf(ops
        .set_recipient_active(&b, theirs.id, false)
        .await
        .map(drop));
    nf(ops.merge_preview(&b, mine.id, theirs.id).await.map(drop));
    nf(ops.merge_recipients(&b, mine.id, theirs.id).await.map(drop));
    nf(ops
        .merge_recipients(&b, theirs.id, theirs2.id)
        .await
        .map(drop));
    // Alpha's recipients are untouched.
    let r = ops.recipient(&a, theirs.id).await.unwrap();
    assert_eq!((r.name.as_str(), r.active), ("Ada Lovelace", true));
    assert!(ops.recipient(&a, theirs2.id).await.unwrap().active);
}

#[tokio::test]
async fn create_edit_deactivate_with_specific_errors_and_audit() {
    let db = fresh_db().await;
    let admin = member(&db, "alpha", "boss", Role::Admin).await;
    let ops = ops(&db).await;
    let err = ops
        .create_recipient(&admin, &fields("Ada", "A-101", "ada@", ""))
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "email `ada@` is not a valid address");
    let err = ops
        .create_recipient(&admin, &fields(&"x".repeat(201), "", "", ""))
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "name is longer than 200 characters");
    let ada = ops
        .create_recipient(&admin, &fields("Ada Lovelace", "A-101", "", ""))
        .await
        .unwrap();
    let err = ops
        .create_recipient(&admin, &fields("ada lovelace", "a-101", "", ""))
        .await
        .unwrap_err();
    assert!(
        matches!(err, AppError::Conflict(ref m) if m.contains("already exists")),
        "{err:?}"
    );
    ops.search_recipients(&admin, "", 5, false).await.unwrap(); // build the index
    let edited = ops
        .update_recipient(
            &admin,
            ada.id,
            &fields("Ada Lovelace", "A-102", "ada@example.org", "Countess"),
        )
        .await
        .unwrap();
    assert_eq!(edited.unit, "A-102");
    let hits = ops
        .search_recipients(&admin, "countess", 5, false)
        .await
        .unwrap();
    assert_eq!(
        hits[0].recipient.unit, "A-102",
        "the index follows the edit"
    );
    intake(&ops, &admin, "1Z5R89390357567127", ada.id).await;
    let (r, waiting) = ops
        .set_recipient_active(&admin, ada.id, false)
        .await
        .unwrap();
    assert!(!r.active);
    assert_eq!(waiting, 1);
    assert!(
        ops.search_recipients(&admin, "ada", 5, false)
            .await
            .unwrap()
            .is_empty()
    );
    let err = ops
        .set_recipient_active(&admin, ada.id, false)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Conflict(_)), "{err:?}");
    ops.set_recipient_active(&admin, ada.id, true)
        .await
        .unwrap();
    ops.recipient_for_edit(&admin, ada.id).await.unwrap();
    let mut su = superuser(&db).await;
    let actions: Vec<String> = audit_actions(&mut su, admin.facility().0)
        .await
        .into_iter()
        .filter(|(a, _, _)| a.starts_with("recipient"))
        .map(|(a, _, d)| {
            if a == "recipient.update" {
                format!("{a} {}", d["fields"])
            } else {
                a
            }
        })
        .collect();
    assert_eq!(
        actions,
        vec![
            "recipient.create",
            r#"recipient.update ["unit","email","aliases"]"#,
            "recipient.deactivate",
            "recipient.reactivate",
            "recipient.reveal",
        ]
    );
}

/// Runs an exec command with `stdin` sent in packets, then EOF; collects the output.
pub(crate) async fn exec_stdin(
    c: &crate::ssh_support::Client,
    command: &str,
    stdin: &[u8],
) -> crate::ssh_support::ExecOut {
    use russh::ChannelMsg;
    let mut ch = c.handle.channel_open_session().await.expect("channel");
    ch.exec(true, command).await.expect("exec request");
    for chunk in stdin.chunks(16 * 1024) {
        ch.data(chunk).await.expect("stdin");
    }
    ch.eof().await.expect("eof");
    let mut out = crate::ssh_support::ExecOut::default();
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    tokio::time::timeout(crate::ssh_support::STEP * 3, async {
        while let Some(msg) = ch.wait().await {
            match msg {
                ChannelMsg::Data { data } => stdout.extend_from_slice(&data),
                ChannelMsg::ExtendedData { data, ext: 1 } => stderr.extend_from_slice(&data),
                ChannelMsg::ExitStatus { exit_status } => out.status = Some(exit_status),
                _ => {}
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("exec {command:?} did not finish"));
    out.stdout = String::from_utf8(stdout).expect("utf-8");
    out.stderr = String::from_utf8(stderr).expect("utf-8");
    out
}

async fn recipient_count(server: &crate::ssh_support::TestServer) -> i64 {
    let owner = server.db.owner_pool().await.expect("owner pool");
    let n = sqlx::query_scalar("SELECT count(*) FROM recipients")
        .fetch_one(&owner)
        .await
        .expect("count");
    owner.close().await;
    n
}

#[tokio::test]
async fn exec_import_reads_stdin_for_admins_only() {
    use crate::ssh_support::{TestServer, test_limits};
    let server = TestServer::start(test_limits()).await;
    server.facility("north", "North Hall").await;
    let boss = server.key_user("boss", "north", Role::Admin).await;
    let clerk = server.key_user("clerk", "north", Role::Operator).await;
    let b = server.login_key("boss", &boss).await;

    let dry = exec_stdin(&b, "recipients import --dry-run", CSV.as_bytes()).await;
    assert_eq!(dry.status, Some(0), "{}", dry.stderr);
    assert_eq!(
        dry.stdout.lines().next(),
        Some("dry run: would add 3, update 0, leave 0 unchanged, reject 2; nothing written")
    );
    assert!(
        dry.stdout.contains("line 6: name is required"),
        "{}",
        dry.stdout
    );
    assert_eq!(
        recipient_count(&server).await,
        0,
        "a dry run writes nothing"
    );

    // The search index is built before the imports: small ones update it in place, a
    // large one replaces it; either way the new rows are found at once.
    assert_eq!(b.exec("recipients search turing").await.stdout, "");
    let done = exec_stdin(&b, "recipients import", CSV.as_bytes()).await;
    assert_eq!(done.status, Some(0), "{}", done.stderr);
    assert!(
        b.exec("recipients search turing")
            .await
            .stdout
            .contains("Alan Turing")
    );
    assert!(
        done.stdout
            .starts_with("added 3, updated 0, unchanged 0, rejected 2\nline 4: "),
        "the CLI's output: {}",
        done.stdout
    );
    assert_eq!(recipient_count(&server).await, 3);

    // A file larger than one SSH packet or window: every row arrives.
    let mut big = String::from("name,unit,email,phone,aliases\n");
    for i in 0..5000 {
        big.push_str(&format!("Resident {i},U-{i},r{i}@example.org,,\n"));
    }
    let done = exec_stdin(&b, "recipients import", big.as_bytes()).await;
    assert_eq!(done.status, Some(0), "{}", done.stderr);
    assert_eq!(
        done.stdout,
        "added 5000, updated 0, unchanged 0, rejected 0\n"
    );
    let hit = b
        .exec("recipients search 'Resident 4321' --json --limit 1")
        .await;
    assert!(hit.stdout.contains("\"unit\":\"U-4321\""), "{hit:?}");

    let empty = exec_stdin(&b, "recipients import", b"").await;
    assert_eq!(empty.status, Some(1));
    assert!(empty.stderr.contains("no CSV on stdin"), "{}", empty.stderr);

    let c = server.login_key("clerk", &clerk).await;
    let refused = exec_stdin(&c, "recipients import", CSV.as_bytes()).await;
    assert_eq!(refused.status, Some(1));
    assert_eq!(refused.stderr, "permission denied\n");
    assert_eq!(recipient_count(&server).await, 5003);
}

#[tokio::test]
async fn tui_import_by_paste_preview_then_confirm() {
    use crate::ssh_support::{TestServer, test_limits};
    let server = TestServer::start(test_limits()).await;
    server.facility("north", "North Hall").await;
    let boss = server.key_user("boss", "north", Role::Admin).await;
    let b = server.login_key("boss", &boss).await;
    let mut s = b.shell(80, 24).await;
    s.wait_text("Dashboard").await;
    s.send(b"r").await;
    s.wait_text("Recipients (Ctrl-A").await;
    s.send(b"\x0f").await; // Ctrl-O
    s.wait_text("Paste the CSV").await;
    let mut paste = b"\x1b[200~".to_vec();
    paste.extend_from_slice(CSV.replace('\n', "\r").as_bytes());
    paste.extend_from_slice(b"\x1b[201~");
    s.send(&paste).await;
    s.wait_text("pasted 6 lines").await;
    s.send(b"\r").await;
    s.wait_text("Preview (nothing written yet)").await;
    assert!(s.text().contains("3 to add"), "{}", s.text());
    assert!(
        s.text().contains("line     4  rejected  email `bob@`"),
        "{}",
        s.text()
    );
    assert_eq!(
        recipient_count(&server).await,
        0,
        "the preview writes nothing"
    );
    s.send(b"\r").await;
    s.wait_text("Import done").await;
    assert!(s.text().contains("added 3"), "{}", s.text());
    assert_eq!(recipient_count(&server).await, 3);
    // Back on the list, the new recipients are found (masked contact data).
    s.send(b"\r").await;
    s.send(b"grace").await;
    s.wait_text("g***@navy.mil").await;
    assert!(!s.text().contains("grace@navy.mil"), "{}", s.text());
}

#[test]
fn cli_dry_run_prints_the_preview_and_writes_nothing() {
    let s = crate::support::Sandbox::new();
    s.ok(
        &[
            "admin",
            "facility",
            "create",
            "--slug",
            "north",
            "--name",
            "North Hall",
        ],
        None,
    );
    let csv = s.path().join("residents.csv");
    std::fs::write(&csv, CSV).unwrap();
    let path = csv.to_str().unwrap();
    let dry = [
        "admin",
        "recipients",
        "import",
        "--facility",
        "north",
        "--dry-run",
        path,
    ];
    let r = s.ok(&dry, None);
    // The lines the dry run always printed come first, unchanged; then each change.
    assert_eq!(
        r.stdout.lines().collect::<Vec<_>>(),
        vec![
            "dry run: would add 3, update 0, leave 0 unchanged, reject 2; nothing written",
            "line 4: email `bob@` is not a valid address",
            "line 6: name is required",
            "add line 2: Ada Lovelace, unit A-101",
            "add line 3: Grace Hopper, unit B-2",
            "add line 5: Alan Turing, unit D-4",
        ],
        "{r:?}"
    );
    assert_eq!(s.psql("select count(*) from recipients"), "0");
    assert_eq!(
        s.psql("select count(*) from audit_log where action = 'recipients.import'"),
        "0"
    );
    let r = s.ok(
        &["admin", "recipients", "import", "--facility", "north", path],
        None,
    );
    assert!(
        r.stdout
            .starts_with("added 3, updated 0, unchanged 0, rejected 2\n"),
        "{r:?}"
    );
    let r = s.ok(&dry, None);
    assert!(
        r.stdout
            .starts_with("dry run: would add 0, update 0, leave 3 unchanged, reject 2;"),
        "{r:?}"
    );
}

#[tokio::test]
async fn tui_create_then_merge_end_to_end() {
    use crate::ssh_support::{TestServer, test_limits};
    let server = TestServer::start(test_limits()).await;
    server.facility("north", "North Hall").await;
    let boss = server.key_user("boss", "north", Role::Admin).await;
    let clerk = server.key_user("clerk", "north", Role::Operator).await;
    let b = server.login_key("boss", &boss).await;
    let mut s = b.shell(80, 24).await;
    s.wait_text("Dashboard").await;
    s.send(b"r").await;
    s.wait_text("Recipients (Ctrl-A").await;
    // Create two recipients that are the same person.
    for (name, unit, email) in [
        ("Ada Lovelace", "A-101", ""),
        ("Ada Lovelace", "A101", "ada@example.org"),
    ] {
        s.send(b"\x0e").await; // Ctrl-N
        s.wait_text("New recipient").await;
        s.send(name.as_bytes()).await;
        s.send(b"\t").await;
        s.send(unit.as_bytes()).await;
        s.send(b"\t").await;
        s.send(email.as_bytes()).await;
        s.send(b"\x13").await; // Ctrl-S
        s.wait_text(&format!("added {name} ({unit})")).await;
    }
    s.send(b"ada").await;
    s.wait_text("a***@example.org").await;
    // Keep the first (A-101, listed first), merge the second into it.
    s.wait_for("both listed", |sh| {
        sh.text().matches("Ada Lovelace").count() >= 2
    })
    .await;
    s.send(b"\x07").await; // Ctrl-G
    s.wait_text("Merge into Ada Lovelace (A-101)").await;
    s.send(b"\x1b[B").await; // Down
    s.send(b"\r").await;
    s.wait_text("Merge duplicate recipients").await;
    assert!(
        s.text().contains("0 move to the kept recipient"),
        "{}",
        s.text()
    );
    s.send(b"y").await;
    s.wait_text("merged Ada Lovelace (A101) into Ada Lovelace (A-101)")
        .await;
    let owner = server.db.owner_pool().await.expect("owner pool");
    let rows: Vec<(String, Option<String>, bool)> =
        sqlx::query_as("SELECT unit, email, active FROM recipients ORDER BY id")
            .fetch_all(&owner)
            .await
            .expect("rows");
    assert_eq!(
        rows,
        vec![
            ("A-101".into(), Some("ada@example.org".into()), true),
            ("A101".into(), Some("ada@example.org".into()), false),
        ]
    );
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE action LIKE 'recipient%' ORDER BY seq",
    )
    .fetch_all(&owner)
    .await
    .expect("audit");
    assert_eq!(
        actions,
        vec!["recipient.create", "recipient.create", "recipient.merge"]
    );
    owner.close().await;

    // An operator's screen stays read-only.
    let c = server.login_key("clerk", &clerk).await;
    let mut o = c.shell(80, 24).await;
    o.wait_text("Dashboard").await;
    o.send(b"r").await;
    o.wait_text("Recipients (Ctrl-A").await;
    o.send(b"\x0e").await;
    o.wait_text("managing recipients is for admins").await;
}
