use super::*;
use crate::admin::import::{ColumnMap, parse, parse_with};

fn rec(id: i64, name: &str, unit: &str) -> Recipient {
    Recipient {
        id,
        name: name.into(),
        unit: unit.into(),
        email: None,
        phone: None,
        aliases: vec![],
        active: true,
    }
}

/// Ten active residents `Resident N` in unit `N` (ids 1..=10), and one inactive.
fn roster() -> Vec<Recipient> {
    let mut all: Vec<Recipient> = (1..=10)
        .map(|i| rec(i, &format!("Resident {i}"), &i.to_string()))
        .collect();
    let mut gone = rec(11, "Long Gone", "99");
    gone.active = false;
    all.push(gone);
    all
}

/// A plain file with residents `ids` as they are stored.
fn file(ids: impl IntoIterator<Item = i64>) -> String {
    let mut s = String::from("name,unit,email,phone,aliases\n");
    for i in ids {
        s.push_str(&format!("Resident {i},{i},,,\n"));
    }
    s
}

fn moving_out(deactivate: bool, allow_mass: bool) -> ImportOptions {
    ImportOptions {
        map: ColumnMap::default(),
        deactivate_missing: deactivate,
        allow_mass_deactivate: allow_mass,
    }
}

fn planned(csv: &str, waiting: &[(i64, i64)], options: &ImportOptions) -> Plan {
    let parsed = parse_with(csv.as_bytes(), 1000, &options.map).unwrap();
    plan_with(
        parsed,
        &roster(),
        &waiting.iter().copied().collect(),
        options,
    )
}

fn names(m: &[Missing]) -> Vec<&str> {
    m.iter().map(|m| m.name.as_str()).collect()
}

#[test]
fn residents_missing_from_the_file_move_out_unless_packages_wait() {
    // 8 of 10 in the file: 2 missing (20%, not more): no confirmation needed.
    let p = planned(
        &file((1..=8).chain([12])),
        &[(9, 3)],
        &moving_out(true, false),
    );
    let mo = &p.move_outs;
    assert_eq!(mo.active, 10);
    assert_eq!(names(&mo.deactivate), vec!["Resident 10"]);
    assert_eq!(names(&mo.held), vec!["Resident 9"]);
    assert_eq!(mo.held[0].waiting, 3);
    assert_eq!(mo.refusal(), None);
    assert_eq!(mo.ids(), Some(vec![10]));
    let c = p.counts();
    assert_eq!((c.added, c.unchanged), (1, 8));
    assert_eq!(
        c.moved_out,
        Some(MovedOut {
            deactivated: 1,
            kept: 1
        })
    );
    assert_eq!(p.writes(), 2, "one add, one deactivation");
    // An inactive resident missing from the file is left alone.
    assert!(!names(&mo.deactivate).contains(&"Long Gone"));
    // Not asked for: computed (the console switches it on without asking again) but
    // nothing to write.
    let p = planned(&file(1..=8), &[], &moving_out(false, false));
    assert_eq!(p.move_outs.missing(), 2);
    assert_eq!(p.move_outs.ids(), None);
    assert_eq!(p.counts().moved_out, None);
    assert_eq!(p.writes(), 0);
}

#[test]
fn a_file_missing_more_than_a_fifth_of_the_roster_needs_a_confirmation() {
    // 7 of 10 in the file: 3 missing, 30%.
    let p = planned(&file(1..=7), &[], &moving_out(true, false));
    let r = p.move_outs.refusal().unwrap();
    assert_eq!(
        r,
        Refusal::Mass {
            missing: 3,
            active: 10
        }
    );
    let msg = r.message("add --allow-mass-deactivate");
    assert!(
        msg.contains("leaves out 3 of 10 active residents (30%, more than 20%)"),
        "{msg}"
    );
    assert!(msg.ends_with("add --allow-mass-deactivate"), "{msg}");
    // A truncated file (the first two rows of a roster of ten) is the case it is for.
    let p = planned(&file(1..=2), &[], &moving_out(true, false));
    assert!(matches!(
        p.move_outs.refusal(),
        Some(Refusal::Mass { missing: 8, .. })
    ));
    // Confirmed: allowed.
    let p = planned(&file(1..=7), &[], &moving_out(true, true));
    assert_eq!(p.move_outs.refusal(), None);
    assert_eq!(p.move_outs.ids(), Some(vec![8, 9, 10]));
    // Residents kept for their packages count as missing: the file is still short.
    let p = planned(&file(1..=7), &[(8, 1), (9, 1)], &moving_out(true, false));
    assert!(p.move_outs.refusal().is_some());
    // Percentages round up, so "more than 20%" never reads "20%".
    let mut mo = MoveOuts {
        active: 1000,
        ..MoveOuts::default()
    };
    mo.deactivate = (0..201)
        .map(|i| Missing {
            id: i,
            name: String::new(),
            unit: String::new(),
            waiting: 0,
        })
        .collect();
    mo.requested = true;
    assert!(
        mo.refusal().unwrap().message("x").contains("(21%,"),
        "201 of 1000"
    );
}

#[test]
fn a_rejected_row_keeps_its_resident_and_an_unreadable_one_stops_move_outs() {
    // Resident 9's row has a bad email: they are in the roster, not moved out.
    let mut csv = file(1..=8);
    csv.push_str("Resident 9,9,not-an-email,,\n");
    let p = planned(&csv, &[], &moving_out(true, false));
    assert_eq!(p.rejected.len(), 1);
    assert_eq!(names(&p.move_outs.deactivate), vec!["Resident 10"]);
    // A row that cannot be read could be anyone: no move-outs until it is fixed, even with
    // the mass confirmation.
    let mut data = file(1..=9).into_bytes();
    data.extend_from_slice(b"Resident \xff10,10,,,\n");
    let parsed = parse(&data, 100).unwrap();
    assert_eq!(parsed.unreadable, vec![11]);
    let p = plan_with(parsed, &roster(), &HashMap::new(), &moving_out(true, true));
    let r = p.move_outs.refusal().unwrap();
    assert_eq!(r, Refusal::Unreadable(vec![11]));
    assert!(r.message("").contains("line 11 could not be read"), "{r:?}");
    // A row with no name (a vacant unit in an export) names no one and stops nothing.
    let mut csv = file(1..=9);
    csv.push_str(",10,,,\n");
    let p = planned(&csv, &[], &moving_out(true, false));
    assert_eq!(p.move_outs.refusal(), None);
    assert_eq!(names(&p.move_outs.deactivate), vec!["Resident 10"]);
}

#[test]
fn names_match_the_roster_without_case() {
    let p = planned(
        "Unit,Last Name,First Name\n1,RESIDENT,1\n2,Resident,2\n",
        &[],
        &moving_out(true, true),
    );
    // `1 RESIDENT` is not `Resident 1`: a new name; the join is First then Last.
    assert_eq!(p.counts().added, 2);
    assert_eq!(p.move_outs.missing(), 10);
    let p = planned(
        "Unit,First Name,Last Name\n1,resident,1\n2,RESIDENT,2\n",
        &[],
        &moving_out(true, true),
    );
    assert_eq!(p.counts().unchanged, 2);
    assert_eq!(p.move_outs.missing(), 8);
}

#[test]
fn updates_name_the_fields_they_change_and_absent_columns_change_nothing() {
    let mut stored = roster();
    stored[0].email = Some("r1@example.org".into());
    stored[0].aliases = vec!["One".into()];
    stored[10].active = false;
    let csv = "Unit,Name,Mobile\n1,Resident 1,555-0101\n2,Resident 2,\n99,Long Gone,\n";
    let parsed = parse(csv.as_bytes(), 100).unwrap();
    let p = plan_with(parsed, &stored, &HashMap::new(), &ImportOptions::default());
    assert_eq!(
        p.changes,
        vec![Upserted::Updated, Upserted::Unchanged, Upserted::Updated]
    );
    // No email or aliases column: Resident 1's stay as stored, only the phone changes.
    assert_eq!(p.fields[0], vec!["phone"]);
    assert_eq!(p.fields[2], vec!["reactivated"]);
    let texts: Vec<String> = (0..p.entries_len())
        .map(|i| p.entry(i).unwrap().text)
        .collect();
    assert_eq!(
        texts,
        vec![
            "Resident 1, unit 1 (phone)",
            "Long Gone, unit 99 (reactivated)"
        ]
    );
}

#[test]
fn the_preview_keeps_its_old_lines_first_then_lists_each_change() {
    let mut csv = file([1, 2, 3, 4, 5, 6, 7, 8]);
    csv.push_str("New Person,12,new@example.org,,\nBad,13,bad@,,\n");
    let p = planned(&csv, &[(9, 2)], &moving_out(true, false));
    let lines = preview_lines(&p);
    assert_eq!(
        lines,
        vec![
            "dry run: would add 1, update 0, leave 8 unchanged, reject 1; nothing written",
            "line 11: email `bad@` is not a valid address",
            "add line 10: New Person, unit 12",
            "move-outs: 2 of 10 active residents are not in the file: deactivate 1, keep 1 \
             active (packages waiting)",
            "deactivate: Resident 10, unit 10",
            "keep active: Resident 9, unit 9 (2 packages waiting)",
        ]
    );
    // Without the option the plain file's preview has no move-out lines at all.
    let p = planned(&file(1..=8), &[], &moving_out(false, false));
    assert_eq!(
        preview_lines(&p),
        vec!["dry run: would add 0, update 0, leave 8 unchanged, reject 0; nothing written"]
    );
    // An export says which columns it read and which it ignored.
    let p = planned(
        "Apt,First,Last,Balance\n1,Resident,1,0\n",
        &[],
        &moving_out(true, false),
    );
    let lines = preview_lines(&p);
    assert_eq!(
        lines[1],
        "columns: first = `First`, last = `Last`, unit = `Apt`; ignored: `Balance`"
    );
    assert!(
        lines[2].starts_with("move-outs refused: the file leaves out 9 of 10"),
        "{lines:?}"
    );
    assert!(
        lines[2].ends_with("add --allow-mass-deactivate"),
        "{lines:?}"
    );
    assert_eq!(lines.len(), 3 + 9, "the nine are listed: {lines:?}");
}

#[test]
fn every_active_resident_in_the_file_means_no_move_outs() {
    let p = planned(&file(1..=10), &[], &moving_out(true, false));
    assert_eq!(p.move_outs.refusal(), None);
    assert_eq!(
        preview_lines(&p).last().unwrap(),
        "move-outs: none, every active resident is in the file"
    );
}

#[test]
fn names_in_the_preview_are_escaped() {
    let mut stored = roster();
    stored[9].name = "Evil\u{1b}]0;owned\u{7}".into();
    let parsed = parse(file(1..=9).as_bytes(), 100).unwrap();
    let p = plan_with(parsed, &stored, &HashMap::new(), &moving_out(true, false));
    let lines = preview_lines(&p);
    let last = lines.last().unwrap();
    assert_eq!(last, "deactivate: Evil\\u001b]0;owned\\u0007, unit 10");
}

#[test]
fn done_lines_name_who_was_deactivated() {
    let p = planned(&file(1..=8), &[(9, 1)], &moving_out(true, false));
    let mut gone = rec(10, "Resident 10", "10");
    gone.active = false;
    let done = Imported {
        counts: Counts {
            unchanged: 8,
            moved_out: Some(MovedOut {
                deactivated: 1,
                kept: 1,
            }),
            ..Counts::default()
        },
        changed: vec![],
        deactivated: vec![gone],
    };
    assert_eq!(
        done_lines(&p, &done),
        vec![
            "added 0, updated 0, unchanged 8, rejected 0, deactivated 1, kept active 1 \
             (packages waiting)",
            "deactivated: Resident 10, unit 10",
            "kept active: Resident 9, unit 9 (1 package waiting)",
        ]
    );
}
