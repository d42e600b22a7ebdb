//! The package list with marks: the column, the count in the title, the question.

use crate::app::model::{Model, Screen, Tone};
use crate::db::packages::Package;
use crate::domain::Role;
use crate::term::ColorDepth;
use crate::ui::testing::{assert_mono, model_as, now, render};

fn parcel(id: i64, tracking: &str, name: &str, days_ago: i64) -> Package {
    Package {
        id,
        tracking: tracking.into(),
        carrier: crate::label::parse(tracking).carrier.map(str::to_string),
        recipient_id: Some(id * 10),
        recipient_name: Some(name.into()),
        recipient_unit: Some("A-101".into()),
        status: "waiting".into(),
        location: "Shelf A".into(),
        pickup_code: Some(format!("{:06}", 100_000 + id)),
        addressed_to: None,
        received_at: now() - chrono::Duration::days(days_ago),
        picked_up_at: None,
        handling: None,
    }
}

/// The overdue list, oldest first, two of three marked, the return question asked.
fn overdue_marked(role: Role) -> Model {
    let mut m = model_as("clerk", role);
    m.screen = Screen::Packages;
    m.list.overdue_only = true;
    m.list.status = Some("waiting".into());
    m.list.rows = vec![
        parcel(1, "9400100000000000000005", "Alan Turing", 12),
        parcel(2, "986578788855", "Grace Hopper", 9),
        parcel(3, "1Z5R89390357567127", "Ada Lovelace", 5),
    ];
    m.list.cursor = 2;
    if role.can_handle_packages() {
        m.list.marks.extend([1, 3]);
    }
    m
}

#[test]
fn overdue_list_with_marks_and_the_return_question() {
    let mut m = overdue_marked(Role::Operator);
    m.note(
        "Return 2 parcels to sender (no undo on this screen)? y/n",
        Tone::Warning,
    );
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(s.contains("overdue, oldest first · 3 · 2 marked"), "{s}");
    assert!(s.contains("✓ 9400100000000000000005"), "{s}");
    assert!(s.contains("  986578788855"), "{s}");
    assert!(s.contains("(no undo on this screen)? y/n"), "{s}");
    insta::assert_snapshot!("overdue_marked_80x24", s);
    let narrow = render(&m, 60, 20, ColorDepth::Ansi256);
    assert!(narrow.contains("✓ 9400100000000000"), "{narrow}");
    assert!(
        narrow.contains("screen)? y/n") && narrow.contains("? help"),
        "{narrow}"
    );
    insta::assert_snapshot!("overdue_marked_60x20", narrow);
    assert_mono(&m, "overdue_marked");
}

#[test]
fn the_hints_name_the_bulk_keys_once_something_is_marked() {
    let m = overdue_marked(Role::Operator);
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(
        s.contains("n remind") && s.contains("t return to sender"),
        "{s}"
    );
    let mut none = overdue_marked(Role::Operator);
    none.list.marks.clear();
    let s = render(&none, 80, 24, ColorDepth::Ansi256);
    assert!(s.contains("Space mark") && !s.contains("n remind"), "{s}");
}

#[test]
fn viewers_see_no_marks_column() {
    let m = overdue_marked(Role::Viewer);
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(s.contains("│Tracking"), "{s}");
    assert!(!s.contains("Space mark"), "{s}");
}

#[test]
fn a_cut_page_says_how_many_match_in_all() {
    use crate::db::packages::Total;
    let mut m = overdue_marked(Role::Operator);
    m.list.marks.clear();
    m.list.total = Some(Total::Exact(5123));
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(s.contains("oldest first · 3 of 5123 "), "{s}");
    m.list.total = Some(Total::Over(100_000));
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(s.contains("· 3 of over 100000 "), "{s}");
    // The whole answer, or rows narrowed on the screen before Enter: just the count.
    m.list.total = Some(Total::Exact(3));
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(s.contains("oldest first · 3 "), "{s}");
    m.list.total = Some(Total::Exact(5123));
    m.list.filter.set("turing");
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    assert!(s.contains("· 1 ") && !s.contains("of 5123"), "{s}");
}
