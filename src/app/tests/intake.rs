//! Intake: scan, recipient, location, flags, batch, check digits, retries, notes.

use super::*;

#[test]
fn scanner_intake_commits_with_recipient_and_sticky_location() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::Char('i')));
    assert_eq!(m.screen, Screen::Intake);
    typed(&mut m, "1Z5R89390357567127");
    update(&mut m, key(KeyCode::Enter));
    results(&mut m);
    update(&mut m, key(KeyCode::Enter));
    typed(&mut m, "Shelf B");
    update(&mut m, key(KeyCode::F(9)));
    let fx = update(&mut m, key(KeyCode::Enter));
    let [Effect::CommitIntake(req)] = fx.as_slice() else {
        panic!("expected one commit, got {fx:?}");
    };
    assert_eq!(req.tracking, "1Z5R89390357567127");
    assert_eq!(req.recipient_id, Some(7));
    assert_eq!(req.location, "Shelf B");
    assert!(req.flags.signature_required);
    // Keys while committing do nothing: one commit at a time.
    assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
    let fx = update(
        &mut m,
        Msg::IntakeDone(Ok(Intake {
            package: pkg(1, "1Z5R89390357567127"),
            created: true,
        })),
    );
    // The dashboard's counts are not on this screen: they load when it is shown again.
    assert_eq!(fx, vec![]);
    assert_eq!(m.intake.tally, 1);
    assert_eq!(m.intake.step, IntakeStep::Scan);
    assert!(m.intake.tracking.is_empty());
    assert_eq!(m.intake.location.text(), "Shelf B", "location is sticky");
    assert!(m.intake.recipient.is_none(), "not in batch mode");
    assert!(!m.intake.flags.signature_required, "flags reset per parcel");
}

#[test]
fn flags_work_from_the_first_key_at_every_step() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::Char('i')));
    update(&mut m, key(KeyCode::F(6))); // before the scan
    typed(&mut m, "1Z5R89390357567127");
    assert_eq!(m.intake.tracking.text(), "1Z5R89390357567127");
    update(&mut m, key(KeyCode::Enter));
    assert_eq!(m.intake.step, IntakeStep::Recipient);
    update(&mut m, key(KeyCode::F(8))); // while choosing the recipient
    assert!(m.search.query.is_empty(), "a flag key is not search text");
    results(&mut m);
    update(&mut m, key(KeyCode::Enter));
    update(&mut m, key(KeyCode::Tab));
    update(&mut m, key(KeyCode::F(9))); // in the note
    update(&mut m, key(KeyCode::F(9))); // and off again
    let fx = update(&mut m, ctrl('s'));
    let [Effect::CommitIntake(req)] = fx.as_slice() else {
        panic!("expected one commit, got {fx:?}");
    };
    assert!(req.flags.perishable && req.flags.damaged);
    assert!(!req.flags.signature_required && !req.flags.oversized);
    assert_eq!(req.note, "");
}

#[test]
fn intake_starts_at_the_facility_usual_location() {
    let mut m = model(Role::Operator);
    m.stats = Some(crate::ops::Stats {
        default_location: "Shelf A".into(),
        ..Default::default()
    });
    update(&mut m, key(KeyCode::Char('i')));
    assert_eq!(m.intake.location.text(), "Shelf A");
    assert!(!crate::app::intake::unusual_location(&m));
    m.intake.location.set("Fridge");
    assert!(crate::app::intake::unusual_location(&m));
    // Leaving and coming back keeps what the clerk set (it is sticky), still marked.
    update(&mut m, key(KeyCode::Esc));
    update(&mut m, key(KeyCode::Char('i')));
    assert_eq!(m.intake.location.text(), "Fridge");
}

#[test]
fn batch_mode_keeps_the_recipient() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::F(2)));
    update(&mut m, ctrl('b'));
    assert!(m.intake.batch);
    intake_to_commit(&mut m, "1Z5R89390357567127");
    update(
        &mut m,
        Msg::IntakeDone(Ok(Intake {
            package: pkg(1, "1Z5R89390357567127"),
            created: true,
        })),
    );
    assert!(m.intake.recipient.is_some());
    // The next scan goes straight to details.
    let fx = intake_to_commit(&mut m, "986578788855");
    assert!(matches!(fx.as_slice(), [Effect::CommitIntake(r)] if r.recipient_id == Some(7)));
}

#[test]
fn bad_check_digit_needs_confirmation_and_esc_rescans() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::F(2)));
    typed(&mut m, "1Z5R89390357567128");
    update(&mut m, key(KeyCode::Enter));
    assert_eq!(m.intake.step, IntakeStep::ConfirmChecksum);
    assert!(matches!(m.status, Some((_, Tone::Warning))));
    update(&mut m, key(KeyCode::Esc));
    assert_eq!(m.intake.step, IntakeStep::Scan);
    assert!(m.intake.tracking.is_empty());
    typed(&mut m, "1Z5R89390357567128");
    update(&mut m, key(KeyCode::Enter));
    update(&mut m, key(KeyCode::Enter));
    assert_eq!(m.intake.step, IntakeStep::Recipient);
}

#[test]
fn rescan_of_a_waiting_package_opens_it() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::F(2)));
    typed(&mut m, "1Z5R89390357567127");
    update(&mut m, key(KeyCode::Enter));
    let seq = m.intake.check_seq;
    let fx = update(
        &mut m,
        Msg::Waiting {
            seq,
            package: Some(pkg(9, "1Z5R89390357567127")),
        },
    );
    assert_eq!(fx, vec![Effect::LoadPackage(9)]);
    assert_eq!(m.screen, Screen::Detail);
    update(&mut m, key(KeyCode::Esc));
    assert_eq!(m.screen, Screen::Intake);
}

#[test]
fn failed_commit_keeps_everything_for_a_retry() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::F(2)));
    let first = intake_to_commit(&mut m, "1Z5R89390357567127");
    update(
        &mut m,
        Msg::IntakeDone(Err(Failure::new(
            FailureKind::Unavailable,
            "the database is not answering",
        ))),
    );
    assert_eq!(m.intake.step, IntakeStep::Details);
    assert!(matches!(m.status, Some((_, Tone::Error))));
    assert_eq!(
        update(&mut m, key(KeyCode::Enter)),
        first,
        "Enter retries the same commit"
    );
}

#[test]
fn unparseable_input_is_refused_with_a_message() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::F(2)));
    typed(&mut m, "hello world!");
    let fx = update(&mut m, key(KeyCode::Enter));
    assert!(fx.is_empty());
    assert_eq!(m.intake.step, IntakeStep::Scan);
    assert!(matches!(&m.status, Some((s, Tone::Error)) if s.contains("not a tracking number")));
}

#[test]
fn pasted_scan_with_newline_acts_like_enter() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::F(2)));
    let fx = update(&mut m, Msg::Paste("1Z5R89390357567127\r\n".into()));
    assert!(fx.iter().any(|e| matches!(e, Effect::CheckWaiting { .. })));
    assert_eq!(m.intake.step, IntakeStep::Recipient);
}

#[test]
fn internal_id_for_parcels_without_a_number() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::F(2)));
    update(&mut m, ctrl('n'));
    update(&mut m, ctrl('u')); // unmatched recipient
    let fx = update(&mut m, key(KeyCode::Enter));
    assert!(
        matches!(fx.as_slice(), [Effect::CommitIntake(r)] if r.tracking.is_empty() && r.recipient_id.is_none()),
        "{fx:?}"
    );
}

#[test]
fn stale_search_results_are_ignored() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::F(5)));
    typed(&mut m, "ad");
    let old = m.search.seq - 1;
    update(
        &mut m,
        Msg::SearchResults {
            seq: old,
            found: Ok(vec![]),
        },
    );
    assert!(m.search.results.is_empty());
    results(&mut m);
    assert_eq!(m.search.results.len(), 1);
}

#[test]
fn a_late_rescan_check_does_not_reopen_the_parcel_being_saved() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::F(2)));
    let fx = intake_to_commit(&mut m, "1Z5R89390357567127");
    assert!(matches!(fx.as_slice(), [Effect::CommitIntake(_)]), "{fx:?}");
    // The check was sent with the scan; its answer comes after the commit went out (a busy
    // database), when the parcel already is waiting.
    let seq = m.seq;
    for s in 1..=seq {
        let fx = update(
            &mut m,
            Msg::Waiting {
                seq: s,
                package: Some(pkg(9, "1Z5R89390357567127")),
            },
        );
        assert!(fx.is_empty(), "{fx:?}");
    }
    assert_eq!(m.screen, Screen::Intake);
}

#[test]
fn intake_note_is_a_text_area_saved_with_ctrl_s() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::F(2)));
    typed(&mut m, "1Z5R89390357567127");
    update(&mut m, key(KeyCode::Enter));
    results(&mut m);
    update(&mut m, key(KeyCode::Enter));
    update(&mut m, key(KeyCode::Tab));
    assert!(m.intake.on_note);
    typed(&mut m, "left at door");
    update(&mut m, key(KeyCode::Enter)); // a new line, not a commit
    typed(&mut m, "box wet");
    let fx = update(&mut m, ctrl('s'));
    assert!(
        matches!(fx.as_slice(), [Effect::CommitIntake(r)] if r.note == "left at door\nbox wet"),
        "{fx:?}"
    );
}

/// Ctrl-U after a search that found no one: the parcel is recorded as unmatched *for the
/// name typed*, which the commit carries (cleaned) and the status line repeats.
#[test]
fn unknown_recipient_keeps_the_typed_name_with_the_parcel() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::F(2)));
    update(&mut m, ctrl('n'));
    assert_eq!(m.intake.step, IntakeStep::Recipient);
    typed(&mut m, "  aria   kowalsky ");
    update(&mut m, ctrl('u'));
    let chosen = m.intake.recipient.clone().expect("unmatched chosen");
    assert_eq!(chosen.id, None);
    assert_eq!(
        chosen.addressed_to.as_ref().map(|a| a.as_str()),
        Some("aria kowalsky")
    );
    assert!(chosen.label.contains("“aria kowalsky”"), "{}", chosen.label);
    let fx = update(&mut m, key(KeyCode::Enter));
    let [Effect::CommitIntake(req)] = fx.as_slice() else {
        panic!("expected one commit, got {fx:?}");
    };
    assert_eq!(req.recipient_id, None);
    assert_eq!(req.addressed_to, "aria kowalsky");
    let mut p = pkg(3, "PT-ABCDEFGH");
    p.recipient_id = None;
    p.recipient_name = None;
    p.addressed_to = Some("aria kowalsky".into());
    update(
        &mut m,
        Msg::IntakeDone(Ok(Intake {
            package: p,
            created: true,
        })),
    );
    assert!(
        matches!(&m.status, Some((s, Tone::Success)) if s.contains("for “aria kowalsky” (unmatched)")),
        "{:?}",
        m.status
    );

    // Nothing typed: unmatched as before, with no name.
    update(&mut m, ctrl('n'));
    update(&mut m, ctrl('u'));
    let fx = update(&mut m, key(KeyCode::Enter));
    let [Effect::CommitIntake(req)] = fx.as_slice() else {
        panic!("expected one commit, got {fx:?}");
    };
    assert_eq!((req.recipient_id, req.addressed_to.as_str()), (None, ""));
}

/// A recipient chosen from the list (a suggestion included) carries no typed name.
#[test]
fn a_chosen_suggestion_is_a_recipient_not_a_typed_name() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::F(2)));
    update(&mut m, ctrl('n'));
    typed(&mut m, "lovelase");
    let mut f = crate::app::testing::found(7, "Ada Lovelace", "A-101");
    f.hit.suggested = true;
    let seq = m.search.seq;
    update(
        &mut m,
        Msg::SearchResults {
            seq,
            found: Ok(vec![f]),
        },
    );
    update(&mut m, key(KeyCode::Enter));
    let fx = update(&mut m, key(KeyCode::Enter));
    let [Effect::CommitIntake(req)] = fx.as_slice() else {
        panic!("expected one commit, got {fx:?}");
    };
    assert_eq!((req.recipient_id, req.addressed_to.as_str()), (Some(7), ""));
}
