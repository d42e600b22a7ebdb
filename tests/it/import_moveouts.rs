//! The recipients import with property-management exports and move-outs, against real
//! PostgreSQL: through `Ops` (the console's path, as the app role under RLS), the exec
//! command over SSH and the host CLI (the owner role, which bypasses RLS: there the
//! facility predicate is the only wall). Another facility's residents are never touched;
//! residents with packages waiting are never deactivated; a file that leaves out more than
//! a fifth of the roster writes nothing without the extra confirmation.

use packtrack::admin::import::{ColumnMap, ImportOptions};
use packtrack::domain::{Principal, Role};
use packtrack::ops::Ops;
use sqlx::PgConnection;

use crate::recipients_admin::exec_stdin;
use crate::support::{app_ops as ops, fresh_db, intake_for as intake, member, superuser};

/// A plain roster of residents `Resident N` in unit `U-N` for each N in `ids`.
fn roster(ids: impl IntoIterator<Item = u32>) -> String {
    let mut s = String::from("name,unit,email,phone,aliases\n");
    for i in ids {
        s.push_str(&format!("Resident {i},U-{i},r{i}@example.org,,\n"));
    }
    s
}

/// The same residents as a property-management export: other column names and order, the
/// name in two columns, a column packtrack has no use for.
fn export(ids: impl IntoIterator<Item = u32>) -> String {
    let mut s = String::from("Unit,Last Name,First Name,E-mail,Balance\n");
    for i in ids {
        s.push_str(&format!("U-{i},{i},Resident,r{i}@example.org,$0.00\n"));
    }
    s
}

fn moving_out(allow_mass: bool) -> ImportOptions {
    ImportOptions {
        map: "first=First Name,last=Last Name"
            .parse::<ColumnMap>()
            .unwrap(),
        deactivate_missing: true,
        allow_mass_deactivate: allow_mass,
    }
}

async fn import_roster(ops: &Ops, p: &Principal, csv: &str) {
    let plan = ops.plan_import(p, csv.as_bytes()).await.unwrap();
    assert!(plan.rejected.is_empty(), "{:?}", plan.rejected);
    ops.apply_import(p, &plan, "test", |_, _| {}).await.unwrap();
}

/// (name, active) of a facility's recipients, by name.
async fn residents(su: &mut PgConnection, slug: &str) -> Vec<(String, bool)> {
    sqlx::query_as(
        "SELECT r.name, r.active FROM recipients r JOIN facilities f ON f.id = r.facility_id \
         WHERE f.slug = $1 ORDER BY r.name",
    )
    .bind(slug)
    .fetch_all(su)
    .await
    .unwrap()
}

async fn active_names(su: &mut PgConnection, slug: &str) -> Vec<String> {
    residents(su, slug)
        .await
        .into_iter()
        .filter(|(_, a)| *a)
        .map(|(n, _)| n)
        .collect()
}

async fn id_of(su: &mut PgConnection, slug: &str, name: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT r.id FROM recipients r JOIN facilities f ON f.id = r.facility_id \
         WHERE f.slug = $1 AND r.name = $2",
    )
    .bind(slug)
    .bind(name)
    .fetch_one(su)
    .await
    .unwrap()
}

async fn audits(su: &mut PgConnection) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'recipients.import'")
        .fetch_one(su)
        .await
        .unwrap()
}

#[tokio::test]
async fn import_deactivate_missing_never_touches_another_facility() {
    let db = fresh_db().await;
    let alpha = member(&db, "alpha", "ann", Role::Admin).await;
    let beta = member(&db, "beta", "bob", Role::Admin).await;
    let ops = ops(&db).await;
    // Both facilities have the same five residents (same names and units).
    import_roster(&ops, &alpha, &roster(1..=5)).await;
    import_roster(&ops, &beta, &roster(1..=5)).await;
    let mut su = superuser(&db).await;

    // Alpha's export leaves out Resident 5 (1 of 5: 20%, no confirmation needed).
    let plan = ops
        .plan_import_with(&alpha, export(1..=4).as_bytes(), &moving_out(false))
        .await
        .unwrap();
    assert_eq!(
        plan.move_outs.active, 5,
        "only alpha's residents are counted"
    );
    let done = ops
        .apply_import(&alpha, &plan, "test", |_, _| {})
        .await
        .unwrap();
    assert_eq!(done.counts.moved_out.unwrap().deactivated, 1);
    assert_eq!(active_names(&mut su, "alpha").await.len(), 4);
    assert_eq!(
        active_names(&mut su, "beta").await.len(),
        5,
        "beta untouched"
    );

    // Alpha's plan (its ids) replayed by beta's admin: nothing of alpha's moves, and beta's
    // same-named residents are not taken for them either.
    let plan = ops
        .plan_import_with(&alpha, export(1..=3).as_bytes(), &moving_out(true))
        .await
        .unwrap();
    assert_eq!(plan.move_outs.ids().unwrap().len(), 1);
    let done = ops
        .apply_import(&beta, &plan, "test", |_, _| {})
        .await
        .unwrap();
    assert_eq!(done.counts.moved_out.unwrap().deactivated, 0);
    assert_eq!(active_names(&mut su, "alpha").await.len(), 4);
    assert_eq!(active_names(&mut su, "beta").await.len(), 5);
}

#[tokio::test]
async fn a_package_arriving_after_the_preview_keeps_its_resident_active() {
    let db = fresh_db().await;
    let admin = member(&db, "alpha", "ann", Role::Admin).await;
    let ops = ops(&db).await;
    import_roster(&ops, &admin, &roster(1..=10)).await;
    let mut su = superuser(&db).await;
    let nine = id_of(&mut su, "alpha", "Resident 9").await;
    let ten = id_of(&mut su, "alpha", "Resident 10").await;
    intake(&ops, &admin, "1Z5R89390357567127", nine).await;

    let plan = ops
        .plan_import_with(&admin, export(1..=8).as_bytes(), &moving_out(false))
        .await
        .unwrap();
    assert_eq!(plan.move_outs.ids(), Some(vec![ten]));
    assert_eq!(plan.move_outs.held[0].id, nine);
    // Between the preview and the confirmation a parcel for Resident 10 is logged.
    let parcel = intake(&ops, &admin, "986578788855", ten).await;
    let done = ops
        .apply_import(&admin, &plan, "test", |_, _| {})
        .await
        .unwrap();
    let moved = done.counts.moved_out.unwrap();
    assert_eq!(
        (moved.deactivated, moved.kept),
        (0, 2),
        "Resident 9 as planned, Resident 10 for the new parcel"
    );
    assert_eq!(active_names(&mut su, "alpha").await.len(), 10);
    let (recipient, status): (Option<i64>, String) =
        sqlx::query_as("SELECT recipient_id, status FROM packages WHERE id = $1")
            .bind(parcel)
            .fetch_one(&mut su)
            .await
            .unwrap();
    assert_eq!((recipient, status.as_str()), (Some(ten), "waiting"));
}

#[tokio::test]
async fn an_export_without_a_column_keeps_what_is_stored() {
    let db = fresh_db().await;
    let admin = member(&db, "alpha", "ann", Role::Admin).await;
    let ops = ops(&db).await;
    import_roster(
        &ops,
        &admin,
        "name,unit,email,phone,aliases\nAda Lovelace,A-1,ada@example.org,,Countess\n",
    )
    .await;
    // No email and no aliases column: only the phone changes.
    let csv = "Apt,Resident Name,Mobile,Lease End\nA-1,Ada Lovelace,555-0101,2026-01-31\n";
    let plan = ops.plan_import(&admin, csv.as_bytes()).await.unwrap();
    assert_eq!(plan.fields[0], vec!["phone"]);
    assert_eq!(plan.ignored, vec!["Lease End"]);
    ops.apply_import(&admin, &plan, "test", |_, _| {})
        .await
        .unwrap();
    let mut su = superuser(&db).await;
    let row: (Option<String>, Option<String>, Vec<String>) =
        sqlx::query_as("SELECT email, phone, aliases FROM recipients")
            .fetch_one(&mut su)
            .await
            .unwrap();
    assert_eq!(
        row,
        (
            Some("ada@example.org".into()),
            Some("5550101".into()),
            vec!["Countess".into()]
        )
    );
    // The same file again changes nothing.
    let again = ops.plan_import(&admin, csv.as_bytes()).await.unwrap();
    assert_eq!(again.writes(), 0);
}

#[tokio::test]
async fn exec_import_deactivate_missing_keeps_residents_with_packages_waiting() {
    use crate::ssh_support::{TestServer, test_limits};
    let server = TestServer::start(test_limits()).await;
    server.facility("north", "North Hall").await;
    server.facility("south", "South Hall").await;
    let boss = server.key_user("boss", "north", Role::Admin).await;
    let clerk = server.key_user("clerk", "north", Role::Operator).await;
    let warden = server.key_user("warden", "south", Role::Admin).await;
    let b = server.login_key("boss", &boss).await;
    let w = server.login_key("warden", &warden).await;
    for c in [&b, &w] {
        let done = exec_stdin(c, "recipients import", roster(1..=10).as_bytes()).await;
        assert_eq!(done.status, Some(0), "{}", done.stderr);
    }
    let owner = server.db.owner_pool().await.expect("owner pool");
    let mut su = owner.acquire().await.expect("connection");
    let nine = id_of(&mut su, "north", "Resident 9").await;
    let ten = id_of(&mut su, "north", "Resident 10").await;
    let parcel = b
        .exec(&format!(
            "packages intake --tracking 1Z5R89390357567127 --recipient {nine}"
        ))
        .await;
    assert_eq!(parcel.status, Some(0), "{}", parcel.stderr);
    let audits_before = audits(&mut su).await;

    let file = export(1..=8);
    let dry = exec_stdin(
        &b,
        "recipients import --dry-run --deactivate-missing",
        file.as_bytes(),
    )
    .await;
    assert_eq!(dry.status, Some(0), "{}", dry.stderr);
    assert_eq!(
        dry.stdout.lines().collect::<Vec<_>>(),
        vec![
            "dry run: would add 0, update 0, leave 8 unchanged, reject 0; nothing written",
            "columns: first = `First Name`, last = `Last Name`, unit = `Unit`, email = \
             `E-mail`; ignored: `Balance`",
            "move-outs: 2 of 10 active residents are not in the file: deactivate 1, keep 1 \
             active (packages waiting)",
            "deactivate: Resident 10, unit U-10",
            "keep active: Resident 9, unit U-9 (1 package waiting)",
        ]
    );
    assert_eq!(active_names(&mut su, "north").await.len(), 10, "dry run");

    let done = exec_stdin(
        &b,
        "recipients import --deactivate-missing",
        file.as_bytes(),
    )
    .await;
    assert_eq!(done.status, Some(0), "{}", done.stderr);
    assert_eq!(
        done.stdout,
        "added 0, updated 0, unchanged 8, rejected 0, deactivated 1, kept active 1 (packages \
         waiting)\ndeactivated: Resident 10, unit U-10\nkept active: Resident 9, unit U-9 (1 \
         package waiting)\n"
    );
    let north = residents(&mut su, "north").await;
    assert!(north.contains(&("Resident 10".into(), false)), "{north:?}");
    assert!(north.contains(&("Resident 9".into(), true)), "{north:?}");
    assert_eq!(
        active_names(&mut su, "south").await.len(),
        10,
        "south untouched"
    );
    // Resident 9's parcel still waits for them.
    let (recipient, status): (Option<i64>, String) =
        sqlx::query_as("SELECT recipient_id, status FROM packages")
            .fetch_one(&mut *su)
            .await
            .unwrap();
    assert_eq!((recipient, status.as_str()), (Some(nine), "waiting"));
    // One audit entry with the counts and ids; no names, no contact data.
    let (target, detail): (String, serde_json::Value) = sqlx::query_as(
        "SELECT a.target, a.detail FROM audit_log a JOIN facilities f ON f.id = a.facility_id \
         WHERE a.action = 'recipients.import' AND f.slug = 'north' ORDER BY a.seq DESC LIMIT 1",
    )
    .fetch_one(&mut *su)
    .await
    .unwrap();
    assert_eq!(target, "ssh exec");
    assert_eq!(detail["deactivated"], 1);
    assert_eq!(detail["kept_waiting"], 1);
    assert_eq!(detail["deactivated_ids"], serde_json::json!([ten]));
    let text = detail.to_string();
    assert!(!text.contains("Resident") && !text.contains('@'), "{text}");
    assert_eq!(audits(&mut su).await, audits_before + 1);
    // Search follows at once: the deactivated resident is no longer offered.
    let found = b.exec("recipients search 'Resident 10'").await.stdout;
    assert!(!found.contains("U-10"), "{found}");

    // A file cut short: 3 of the 9 active. Refused whole, nothing written.
    let short = export(1..=3);
    let refused = exec_stdin(
        &b,
        "recipients import --deactivate-missing",
        short.as_bytes(),
    )
    .await;
    assert_eq!(refused.status, Some(1));
    assert!(
        refused
            .stderr
            .contains("leaves out 6 of 9 active residents (67%, more than 20%)"),
        "{}",
        refused.stderr
    );
    assert!(
        refused
            .stderr
            .contains("add --allow-mass-deactivate; nothing written"),
        "{}",
        refused.stderr
    );
    assert_eq!(active_names(&mut su, "north").await.len(), 9);
    assert_eq!(audits(&mut su).await, audits_before + 1);
    // Confirmed: they move out, except Resident 9 (a parcel is waiting).
    let done = exec_stdin(
        &b,
        "recipients import --deactivate-missing --allow-mass-deactivate",
        short.as_bytes(),
    )
    .await;
    assert_eq!(done.status, Some(0), "{}", done.stderr);
    assert_eq!(
        active_names(&mut su, "north").await,
        vec!["Resident 1", "Resident 2", "Resident 3", "Resident 9"]
    );

    // The flags are checked before any input is read; operators are refused.
    let bad = b.exec("recipients import --map 'flat=Apt'").await;
    assert_eq!(bad.status, Some(1));
    assert!(
        bad.stderr.contains("unknown field `flat`"),
        "{}",
        bad.stderr
    );
    let bad = b.exec("recipients import --allow-mass-deactivate").await;
    assert_eq!(bad.status, Some(1));
    assert!(
        bad.stderr.contains("--deactivate-missing"),
        "{}",
        bad.stderr
    );
    let c = server.login_key("clerk", &clerk).await;
    let refused = exec_stdin(
        &c,
        "recipients import --deactivate-missing",
        short.as_bytes(),
    )
    .await;
    assert_eq!(refused.stderr, "permission denied\n");
    assert_eq!(active_names(&mut su, "south").await.len(), 10);
    drop(su);
    owner.close().await;
}

#[tokio::test]
async fn exec_import_with_an_explicit_map() {
    use crate::ssh_support::{TestServer, test_limits};
    let server = TestServer::start(test_limits()).await;
    server.facility("north", "North Hall").await;
    let boss = server.key_user("boss", "north", Role::Admin).await;
    let b = server.login_key("boss", &boss).await;
    let csv = "Bldg,Door,Occupant Label,Contact\nN,12,Ada Lovelace,ada@example.org\n";
    let refused = exec_stdin(&b, "recipients import", csv.as_bytes()).await;
    assert_eq!(refused.status, Some(1));
    assert!(
        refused
            .stderr
            .contains("no name or unit column among `Bldg`, `Door`, `Occupant Label`, `Contact`"),
        "{}",
        refused.stderr
    );
    let done = exec_stdin(
        &b,
        "recipients import --map 'unit=Door,name=Occupant Label,email=#4'",
        csv.as_bytes(),
    )
    .await;
    assert_eq!(done.status, Some(0), "{}", done.stderr);
    assert_eq!(done.stdout, "added 1, updated 0, unchanged 0, rejected 0\n");
    let hit = b
        .exec("recipients search lovelace --json --reveal")
        .await
        .stdout;
    assert!(
        hit.contains("\"unit\":\"12\"") && hit.contains("ada@example.org"),
        "{hit}"
    );
}

#[test]
fn cli_import_deactivate_missing_never_touches_another_facility() {
    let s = crate::support::Sandbox::new();
    for slug in ["north", "south"] {
        s.ok(
            &[
                "admin", "facility", "create", "--slug", slug, "--name", slug,
            ],
            None,
        );
        let csv = s.path().join(format!("{slug}.csv"));
        std::fs::write(&csv, roster(1..=5)).unwrap();
        s.ok(
            &[
                "admin",
                "recipients",
                "import",
                "--facility",
                slug,
                csv.to_str().unwrap(),
            ],
            None,
        );
    }
    let file = s.path().join("export.csv");
    std::fs::write(&file, export(1..=4)).unwrap();
    let path = file.to_str().unwrap();
    let run = s.ok(
        &[
            "admin",
            "recipients",
            "import",
            "--facility",
            "north",
            "--deactivate-missing",
            path,
        ],
        None,
    );
    assert_eq!(
        run.stdout,
        "added 0, updated 0, unchanged 4, rejected 0, deactivated 1\n\
         deactivated: Resident 5, unit U-5\n",
        "{run:?}"
    );
    let active = |slug: &str| {
        s.psql(&format!(
            "select string_agg(r.name, ',' order by r.name) from recipients r \
             join facilities f on f.id = r.facility_id where f.slug = '{slug}' and r.active"
        ))
    };
    assert_eq!(
        active("north"),
        "Resident 1,Resident 2,Resident 3,Resident 4"
    );
    assert_eq!(
        active("south"),
        "Resident 1,Resident 2,Resident 3,Resident 4,Resident 5",
        "the owner role bypasses RLS: the facility predicate alone keeps south out"
    );
    // A file cut short is refused, saying how to confirm.
    std::fs::write(&file, export(1..=2)).unwrap();
    let args = [
        "admin",
        "recipients",
        "import",
        "--facility",
        "north",
        "--deactivate-missing",
        path,
    ];
    let refused = s.run(&args, None);
    assert!(!refused.ok);
    assert!(
        refused
            .stderr
            .contains("leaves out 2 of 4 active residents (50%")
            && refused.stderr.contains("--allow-mass-deactivate"),
        "{refused:?}"
    );
    assert_eq!(active("north").matches(',').count(), 3, "nothing written");
}

#[tokio::test]
async fn tui_import_of_an_export_checks_columns_then_confirms_move_outs() {
    use crate::ssh_support::{TestServer, test_limits};
    let server = TestServer::start(test_limits()).await;
    server.facility("north", "North Hall").await;
    let boss = server.key_user("boss", "north", Role::Admin).await;
    let b = server.login_key("boss", &boss).await;
    let done = exec_stdin(&b, "recipients import", roster(1..=5).as_bytes()).await;
    assert_eq!(done.status, Some(0), "{}", done.stderr);
    let mut s = b.shell(80, 24).await;
    s.wait_text("Dashboard").await;
    s.send(b"r").await;
    s.wait_text("Recipients (Ctrl-A").await;
    s.send(b"\x0f").await; // Ctrl-O
    s.wait_text("Paste the CSV").await;
    let mut paste = b"\x1b[200~".to_vec();
    paste.extend_from_slice(export(1..=3).replace('\n', "\r").as_bytes());
    paste.extend_from_slice(b"\x1b[201~");
    s.send(&paste).await;
    s.wait_text("pasted 4 lines").await;
    s.send(b"\r").await;
    s.wait_text("Columns: which column of the file fills each field")
        .await;
    for want in [
        "First name  ← First Name",
        "Last name   ← Last Name",
        "Unit        ← Unit",
        "Ignored: `Balance`",
        "[ ] deactivate residents not in this file",
    ] {
        assert!(s.text().contains(want), "{want}: {}", s.text());
    }
    s.send(b"\x04").await; // Ctrl-D: move-outs on
    s.wait_text("[x] deactivate").await;
    s.send(b"\r").await;
    s.wait_text("Preview (nothing written yet)").await;
    s.wait_text("the file leaves out 2 of 5 active residents")
        .await;
    assert!(
        s.text().contains("move out  Resident 4, unit U-4"),
        "{}",
        s.text()
    );
    // Enter alone is refused: 40% of the roster.
    s.send(b"\r").await;
    s.wait_text("2 of 5 residents would move out: Ctrl-Y confirms")
        .await;
    let owner = server.db.owner_pool().await.expect("owner pool");
    let mut su = owner.acquire().await.expect("connection");
    assert_eq!(active_names(&mut su, "north").await.len(), 5);
    s.send(b"\x19").await; // Ctrl-Y
    s.wait_text("confirmed: Enter deactivates 2").await;
    s.send(b"\r").await;
    s.wait_text("Import done").await;
    assert!(
        s.text().contains("deactivated 2 (moved out)"),
        "{}",
        s.text()
    );
    assert_eq!(
        active_names(&mut su, "north").await,
        vec!["Resident 1", "Resident 2", "Resident 3"]
    );
    drop(su);
    owner.close().await;
}
