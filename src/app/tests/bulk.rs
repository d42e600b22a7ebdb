//! Marks on the package list and the bulk remind / return they lead to (issue 16).

use super::*;
use crate::db::packages::{BulkOutcome, Package};
use crate::ops::Bulk;

/// The overdue list of an operator with three waiting parcels (two residents) and one
/// picked up.
fn overdue_list(role: Role) -> Model {
    let mut m = model(role);
    update(&mut m, key(KeyCode::Char('l')));
    update(&mut m, key(KeyCode::Char('o')));
    let mut other = pkg(3, "986578788855");
    other.recipient_id = Some(8);
    other.recipient_name = Some("Grace Hopper".into());
    let mut gone = pkg(4, "9400100000000000000005");
    gone.status = "picked_up".into();
    let rows: Vec<Package> = vec![pkg(1, "1Z5R89390357567127"), pkg(2, "X2"), other, gone];
    update(&mut m, Msg::Packages(Ok(rows.into())));
    m.list.overdue_only = false; // show the picked-up row too (the fixture's clock)
    m
}

fn space() -> Msg {
    key(KeyCode::Char(' '))
}

#[test]
fn space_marks_and_moves_down_and_star_marks_every_waiting_parcel_shown() {
    let mut m = overdue_list(Role::Operator);
    assert!(update(&mut m, space()).is_empty());
    assert_eq!(m.list.marks.iter().copied().collect::<Vec<_>>(), vec![1]);
    assert_eq!(m.list.cursor, 1, "Space moves to the next row");
    update(&mut m, key(KeyCode::Up));
    update(&mut m, space());
    assert!(m.list.marks.is_empty(), "Space again unmarks");
    update(&mut m, key(KeyCode::Char('*')));
    assert_eq!(
        m.list.marks.iter().copied().collect::<Vec<_>>(),
        vec![1, 2, 3],
        "the picked-up parcel is not marked"
    );
    update(&mut m, key(KeyCode::Char('*')));
    assert!(m.list.marks.is_empty(), "* again clears");
}

#[test]
fn a_picked_up_parcel_cannot_be_marked() {
    let mut m = overdue_list(Role::Operator);
    m.list.cursor = 3;
    update(&mut m, space());
    assert!(m.list.marks.is_empty());
    assert!(matches!(&m.status, Some((s, Tone::Warning)) if s.contains("only waiting")));
}

#[test]
fn remind_asks_with_the_residents_count_and_y_sends_the_marked_ids() {
    let mut m = overdue_list(Role::Operator);
    update(&mut m, key(KeyCode::Char('*')));
    assert!(update(&mut m, key(KeyCode::Char('n'))).is_empty());
    assert_eq!(m.list.confirm, Some(Bulk::Remind));
    assert!(
        matches!(&m.status, Some((s, _)) if s == "Remind 2 residents (3 parcels)? y/n"),
        "{:?}",
        m.status
    );
    let fx = update(&mut m, key(KeyCode::Char('y')));
    assert_eq!(
        fx,
        vec![Effect::Bulk {
            action: Bulk::Remind,
            ids: vec![1, 2, 3]
        }]
    );
    assert!(m.list.confirm.is_none());
    // A second action waits for the first one's answer.
    update(&mut m, key(KeyCode::Char('t')));
    assert!(m.list.confirm.is_none());
    let fx = update(
        &mut m,
        Msg::Bulk {
            action: Bulk::Remind,
            outcome: Ok(BulkOutcome {
                done: 3,
                queued: 5,
                ..BulkOutcome::default()
            }),
        },
    );
    assert!(matches!(fx.as_slice(), [Effect::LoadPackages { .. }]));
    assert!(m.list.marks.is_empty());
    assert!(
        matches!(&m.status, Some((s, Tone::Success)) if s.contains("reminded the residents of 3 parcels (5 messages queued)")),
        "{:?}",
        m.status
    );
}

#[test]
fn return_asks_that_it_cannot_be_undone_and_any_other_key_cancels() {
    let mut m = overdue_list(Role::Operator);
    update(&mut m, space());
    update(&mut m, space());
    update(&mut m, key(KeyCode::Char('t')));
    assert!(
        matches!(&m.status, Some((s, Tone::Warning))
            if s == "Return 2 parcels to sender (no undo on this screen)? y/n"),
        "{:?}",
        m.status
    );
    // `i` would open intake; while the question is open it is only an answer: no.
    assert!(update(&mut m, key(KeyCode::Char('i'))).is_empty());
    assert_eq!(m.screen, Screen::Packages);
    assert!(m.list.confirm.is_none());
    assert_eq!(m.list.marks.len(), 2, "a cancelled action keeps the marks");
    update(&mut m, key(KeyCode::Char('t')));
    let fx = update(&mut m, key(KeyCode::Char('y')));
    assert_eq!(
        fx,
        vec![Effect::Bulk {
            action: Bulk::ReturnToSender,
            ids: vec![1, 2]
        }]
    );
    // Skipped parcels are said, and the marks stay when it failed.
    update(
        &mut m,
        Msg::Bulk {
            action: Bulk::ReturnToSender,
            outcome: Ok(BulkOutcome {
                done: 1,
                not_waiting: 1,
                ..BulkOutcome::default()
            }),
        },
    );
    assert!(
        matches!(&m.status, Some((s, Tone::Warning))
            if s.contains("returned 1 parcel to sender · 1 skipped: no longer waiting")),
        "{:?}",
        m.status
    );
}

#[test]
fn a_failed_bulk_action_keeps_the_marks() {
    let mut m = overdue_list(Role::Operator);
    update(&mut m, space());
    update(&mut m, key(KeyCode::Char('t')));
    update(&mut m, key(KeyCode::Char('y')));
    let fx = update(
        &mut m,
        Msg::Bulk {
            action: Bulk::ReturnToSender,
            outcome: Err(Failure::new(FailureKind::NotFound, "not found")),
        },
    );
    assert!(fx.is_empty());
    assert_eq!(m.list.marks.len(), 1);
    assert!(matches!(&m.status, Some((s, Tone::Error)) if s.contains("nothing changed")));
}

#[test]
fn bulk_keys_without_marks_only_say_how_to_mark() {
    let mut m = overdue_list(Role::Operator);
    assert!(update(&mut m, key(KeyCode::Char('t'))).is_empty());
    assert!(m.list.confirm.is_none());
    assert!(matches!(&m.status, Some((s, _)) if s.contains("mark parcels first")));
}

#[test]
fn viewers_cannot_mark_or_bulk_act() {
    let mut m = overdue_list(Role::Viewer);
    update(&mut m, space());
    update(&mut m, key(KeyCode::Char('*')));
    assert!(m.list.marks.is_empty());
    update(&mut m, key(KeyCode::Char('t')));
    assert!(m.list.confirm.is_none());
    assert!(matches!(&m.status, Some((s, Tone::Error)) if s.contains("permission denied")));
}

/// A scanner's burst arrives as one scan: it opens intake as everywhere, never toggles a
/// mark, and is not the answer to an open "y/n" (a tracking number may start with `y`).
#[test]
fn a_scan_on_the_list_never_marks_and_never_answers_the_question() {
    let mut m = overdue_list(Role::Operator);
    update(&mut m, space());
    update(&mut m, key(KeyCode::Char('t')));
    assert!(m.list.confirm.is_some());
    let fx = update(&mut m, Msg::Scan("Y 1Z5R89390357567127 ".into()));
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::Bulk { .. })),
        "{fx:?}"
    );
    assert_eq!(m.screen, Screen::Intake);
    assert!(m.list.confirm.is_none());
    assert_eq!(m.list.marks.iter().copied().collect::<Vec<_>>(), vec![1]);
}

#[test]
fn a_reload_keeps_the_marks_of_parcels_still_listed() {
    let mut m = overdue_list(Role::Operator);
    update(&mut m, key(KeyCode::Char('*')));
    update(&mut m, Msg::Packages(Ok(vec![pkg(2, "X2")].into())));
    assert_eq!(m.list.marks.iter().copied().collect::<Vec<_>>(), vec![2]);
}
