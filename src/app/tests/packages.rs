//! The package list and detail: search, status letters, corrections.

use super::*;

#[test]
fn package_corrections_need_a_reason_and_become_one_effect() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::Char('l')));
    update(
        &mut m,
        Msg::Packages(Ok(vec![pkg(4, "1Z5R89390357567127")].into())),
    );
    assert_eq!(
        update(&mut m, key(KeyCode::Enter)),
        vec![Effect::LoadPackage(4)]
    );
    update(
        &mut m,
        Msg::PackageDetail(Ok((pkg(4, "1Z5R89390357567127"), vec![]))),
    );
    update(&mut m, key(KeyCode::Char('m')));
    assert!(m.correction.is_some());
    typed(&mut m, "Cage 2");
    update(&mut m, key(KeyCode::Enter)); // to the reason field
    assert!(
        update(&mut m, key(KeyCode::Enter)).is_empty(),
        "reason required"
    );
    typed(&mut m, "too big for the shelf");
    let fx = update(&mut m, key(KeyCode::Enter));
    assert_eq!(
        fx,
        vec![Effect::ChangePackage {
            id: 4,
            change: crate::db::packages::Change::Move {
                to: crate::domain::Location::new("Cage 2").unwrap()
            },
            reason: "too big for the shelf".into(),
        }]
    );
    let mut moved = pkg(4, "1Z5R89390357567127");
    moved.location = "Cage 2".into();
    let fx = update(&mut m, Msg::Changed(Ok(moved)));
    assert!(fx.contains(&Effect::LoadPackage(4)));
    assert!(m.correction.is_none());
}

#[test]
fn viewers_cannot_correct_packages() {
    let mut m = model(Role::Viewer);
    update(&mut m, key(KeyCode::Char('l')));
    update(&mut m, Msg::Packages(Ok(vec![pkg(4, "X1")].into())));
    update(&mut m, key(KeyCode::Enter));
    update(&mut m, Msg::PackageDetail(Ok((pkg(4, "X1"), vec![]))));
    update(&mut m, key(KeyCode::Char('x')));
    assert!(m.correction.is_none());
    assert!(matches!(&m.status, Some((s, Tone::Error)) if s.contains("permission denied")));
}

/// The detail of waiting package 4 (Ada Lovelace, recipient 7), perishable, noted "crushed".
fn on_detail(role: Role) -> Model {
    use crate::db::packages::Handling;
    let mut m = model(role);
    update(&mut m, key(KeyCode::Char('l')));
    update(&mut m, Msg::Packages(Ok(vec![pkg(4, "X1")].into())));
    update(&mut m, key(KeyCode::Enter));
    let mut p = pkg(4, "X1");
    p.handling = Some(Handling {
        flags: crate::domain::Flags {
            perishable: true,
            ..Default::default()
        },
        note: crate::domain::Note::new("crushed").unwrap(),
    });
    update(&mut m, Msg::PackageDetail(Ok((p, vec![]))));
    m
}

#[test]
fn a_waiting_parcel_is_reassigned_through_the_recipient_search() {
    use crate::db::packages::Edit;
    let mut m = on_detail(Role::Operator);
    let fx = update(&mut m, key(KeyCode::Char('e')));
    assert!(matches!(fx.as_slice(), [Effect::Search { .. }]), "{fx:?}");
    // The search offers recipient 7, who already has it: nothing to do.
    results(&mut m);
    assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
    assert!(matches!(&m.status, Some((s, Tone::Warning)) if s.contains("already its recipient")));
    if let Some(f) = m.search.results.first_mut() {
        f.recipient.id = 9;
    }
    assert_eq!(
        update(&mut m, key(KeyCode::Enter)),
        vec![Effect::CorrectPackage {
            id: 4,
            edit: Edit {
                recipient_id: Some(9),
                ..Edit::default()
            },
        }]
    );
    let fx = update(&mut m, Msg::Changed(Ok(pkg(4, "X1"))));
    assert!(fx.contains(&Effect::LoadPackage(4)));
    assert!(matches!(&m.status, Some((s, Tone::Success)) if s.contains("reassigned to")));
}

#[test]
fn flags_toggle_from_the_parcels_own_and_save_as_one_edit() {
    use crate::db::packages::Edit;
    let mut m = on_detail(Role::Operator);
    update(&mut m, key(KeyCode::Char('f')));
    update(&mut m, key(KeyCode::F(6))); // perishable off
    update(&mut m, key(KeyCode::F(8))); // damaged on
    let fx = update(&mut m, key(KeyCode::Enter));
    let want = crate::domain::Flags {
        damaged: true,
        ..Default::default()
    };
    assert_eq!(
        fx,
        vec![Effect::CorrectPackage {
            id: 4,
            edit: Edit {
                flags: Some(want),
                ..Edit::default()
            },
        }]
    );
    // A refusal keeps the form for a retry.
    update(
        &mut m,
        Msg::Changed(Err(Failure::new(
            FailureKind::Conflict,
            "package 4 is picked up: only a waiting parcel can be corrected",
        ))),
    );
    assert!(m.correction.as_ref().is_some_and(|c| !c.saving));
    assert!(matches!(&m.status, Some((s, Tone::Error)) if s.contains("only a waiting parcel")));
}

#[test]
fn the_note_is_edited_from_what_it_says_and_letters_are_text() {
    use crate::db::packages::Edit;
    let mut m = on_detail(Role::Operator);
    update(&mut m, key(KeyCode::Char('n')));
    typed(&mut m, ", fine");
    let fx = update(&mut m, key(KeyCode::Enter));
    assert_eq!(
        fx,
        vec![Effect::CorrectPackage {
            id: 4,
            edit: Edit {
                note: Some(crate::domain::Note::new("crushed, fine").unwrap()),
                ..Edit::default()
            },
        }]
    );
}

#[test]
fn viewers_and_finished_parcels_are_not_corrected() {
    let mut m = on_detail(Role::Viewer);
    for k in ['e', 'f', 'n'] {
        update(&mut m, key(KeyCode::Char(k)));
        assert!(m.correction.is_none());
        assert!(matches!(&m.status, Some((s, Tone::Error)) if s.contains("permission denied")));
    }
    let mut m = on_detail(Role::Operator);
    if let Some((p, _)) = m.detail.as_mut() {
        p.status = "picked_up".into();
    }
    update(&mut m, key(KeyCode::Char('e')));
    assert!(m.correction.is_none());
    assert!(matches!(&m.status, Some((s, Tone::Warning)) if s.contains("only waiting")));
}

#[test]
fn unmatched_packages_get_their_recipient_from_the_detail() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::Char('l')));
    // s, then u: unmatched.
    assert!(update(&mut m, key(KeyCode::Char('s'))).is_empty());
    let fx = update(&mut m, key(KeyCode::Char('u')));
    assert_eq!(
        fx,
        vec![Effect::LoadPackages {
            status: Some("unmatched".into()),
            search: String::new(),
            oldest_first: false,
        }]
    );
    let mut p = pkg(5, "PT-ABCDEFGH");
    p.recipient_id = None;
    p.recipient_name = None;
    // Recorded for "ada lovelase" at intake: assigning starts from that name.
    p.addressed_to = Some("ada lovelase".into());
    update(&mut m, Msg::Packages(Ok(vec![p.clone()].into())));
    update(&mut m, key(KeyCode::Enter));
    update(&mut m, Msg::PackageDetail(Ok((p, vec![]))));
    let fx = update(&mut m, key(KeyCode::Char('a')));
    assert!(
        matches!(fx.as_slice(), [Effect::Search { query, .. }] if query == "ada lovelase"),
        "{fx:?}"
    );
    update(&mut m, ctrl('u'));
    assert!(m.search.query.is_empty());
    typed(&mut m, "ada");
    results(&mut m);
    let fx = update(&mut m, key(KeyCode::Enter));
    assert_eq!(
        fx,
        vec![Effect::AssignRecipient {
            id: 5,
            recipient: 7
        }]
    );
}

#[test]
fn package_list_filters_by_text_and_overdue() {
    let mut m = model(Role::Viewer);
    update(&mut m, key(KeyCode::Char('l')));
    let mut fresh = pkg(2, "986578788855");
    fresh.received_at = m.now;
    fresh.recipient_name = Some("Grace Hopper".into());
    fresh.recipient_unit = Some("B-204".into());
    update(
        &mut m,
        Msg::Packages(Ok(vec![pkg(1, "1Z5R89390357567127"), fresh].into())),
    );
    update(&mut m, key(KeyCode::Char('/')));
    typed(&mut m, "hop"); // 'o' is text while filtering, not the overdue toggle
    assert!(!m.list.overdue_only);
    assert_eq!(
        m.visible().iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![2]
    );
    // Enter asks the server, across every status (the browsed "waiting" does not carry over).
    assert_eq!(
        update(&mut m, key(KeyCode::Enter)),
        vec![Effect::LoadPackages {
            status: None,
            search: "hop".into(),
            oldest_first: false,
        }]
    );
    assert_eq!(m.list.scope(), "all statuses");
    let rows = m.list.rows.clone();
    update(&mut m, Msg::Packages(Ok(rows.into())));
    assert_eq!(
        update(&mut m, key(KeyCode::Enter)),
        vec![Effect::LoadPackage(2)]
    );
    update(&mut m, key(KeyCode::Esc));
    update(&mut m, key(KeyCode::Char('/')));
    update(&mut m, key(KeyCode::Esc)); // clears the search, back to the status browsed
    assert!(m.list.filter.is_empty());
    assert_eq!(m.list.query_status().as_deref(), Some("waiting"));
    let fx = update(&mut m, key(KeyCode::Char('o')));
    assert_eq!(
        fx,
        vec![Effect::LoadPackages {
            status: Some("waiting".into()),
            search: String::new(),
            oldest_first: true,
        }]
    );
    let rows = m.list.rows.clone();
    update(&mut m, Msg::Packages(Ok(rows.into())));
    assert_eq!(
        m.visible().iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![1]
    );
}

#[test]
fn package_search_finds_units_and_statuses_are_letters() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::Char('l')));
    let mut other = pkg(2, "986578788855");
    other.recipient_unit = Some("B-204".into());
    update(
        &mut m,
        Msg::Packages(Ok(vec![pkg(1, "1Z5R89390357567127"), other].into())),
    );
    update(&mut m, key(KeyCode::Char('/')));
    typed(&mut m, "a101"); // without the dash
    assert_eq!(
        m.visible().iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![1]
    );
    update(&mut m, key(KeyCode::Enter));
    // A status chosen during the search narrows it: s then p is picked up, not pickup.
    assert!(update(&mut m, key(KeyCode::Char('s'))).is_empty());
    assert!(
        m.status
            .as_ref()
            .is_some_and(|(s, _)| s.contains("p picked up"))
    );
    let fx = update(&mut m, key(KeyCode::Char('p')));
    assert_eq!(m.screen, Screen::Packages);
    assert_eq!(
        fx,
        vec![Effect::LoadPackages {
            status: Some("picked_up".into()),
            search: "a101".into(),
            oldest_first: false,
        }]
    );
    // A new search starts across every status again.
    update(&mut m, key(KeyCode::Esc));
    update(&mut m, key(KeyCode::Char('/')));
    typed(&mut m, "lee");
    let fx = update(&mut m, key(KeyCode::Enter));
    assert!(
        matches!(fx.as_slice(), [Effect::LoadPackages { status: None, .. }]),
        "{fx:?}"
    );
    // Anything but a status letter keeps the status.
    update(&mut m, key(KeyCode::Char('s')));
    assert!(update(&mut m, key(KeyCode::Char('z'))).is_empty());
    assert!(!m.list.choosing_status && !m.list.filtering);
}
