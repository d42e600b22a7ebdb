//! Transitions of the pure core: intake, batch, pickup, cancel paths, permissions.

use crate::app::{Failure, FailureKind};
use chrono::{TimeZone, Utc};

use super::effect::Effect;
use super::model::{IntakeStep, Me, Model, PickupStep, Screen, Tone};
use super::msg::Msg;
use super::testing::{ctrl, key, kiosk_model, model_as, typed};
use super::update::update;

fn model(role: Role) -> Model {
    model_as("clerk", role)
}
use crate::db::packages::{Intake, Package};
use crate::db::recipients::Recipient;
use crate::domain::Role;
use crate::ops::Found;
use crate::search::{Field, Hit};
use crate::term::input::KeyCode;

fn pkg(id: i64, tracking: &str) -> Package {
    Package {
        id,
        tracking: tracking.into(),
        carrier: Some("ups".into()),
        recipient_id: Some(7),
        recipient_name: Some("Ada Lovelace".into()),
        recipient_unit: Some("A-101".into()),
        status: "waiting".into(),
        location: "Shelf A".into(),
        pickup_code: Some("123456".into()),
        received_at: Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap(),
        picked_up_at: None,
        handling: None,
    }
}

fn results(m: &mut Model) {
    let seq = m.search.seq;
    update(
        m,
        Msg::SearchResults {
            seq,
            found: Ok(vec![Found {
                recipient: Recipient {
                    id: 7,
                    name: "Ada Lovelace".into(),
                    unit: "A-101".into(),
                    email: None,
                    phone: None,
                    aliases: vec![],
                    active: true,
                },
                hit: Hit {
                    id: 7,
                    score: 1,
                    field: Field::Name,
                    indices: vec![],
                },
            }]),
        },
    );
}

/// Scan → recipient → location → commit; returns the commit effect.
fn intake_to_commit(m: &mut Model, tracking: &str) -> Vec<Effect> {
    typed(m, tracking);
    let fx = update(m, key(KeyCode::Enter));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::CheckWaiting { tracking: t, .. } if t == tracking)),
        "{fx:?}"
    );
    if m.intake.step == IntakeStep::Recipient {
        results(m);
        update(m, key(KeyCode::Enter));
    }
    assert_eq!(m.intake.step, IntakeStep::Details);
    update(m, key(KeyCode::Enter))
}

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
    assert!(!super::intake::unusual_location(&m));
    m.intake.location.set("Fridge");
    assert!(super::intake::unusual_location(&m));
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
fn pickup_by_code_hands_over_with_one_enter_to_the_resident() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::F(3)));
    typed(&mut m, "123456");
    let fx = update(&mut m, key(KeyCode::Enter));
    assert_eq!(fx, vec![Effect::FindByCode("123456".into())]);
    update(
        &mut m,
        Msg::PickupList(Ok(vec![pkg(1, "A1"), pkg(2, "B2")])),
    );
    assert_eq!(m.pickup.step, PickupStep::Select);
    assert_eq!(m.pickup.chosen_ids(), vec![1, 2]);
    assert_eq!(m.pickup.receiver.text(), "Ada Lovelace");
    update(&mut m, key(KeyCode::Down));
    update(&mut m, key(KeyCode::Char(' ')));
    assert_eq!(m.pickup.chosen_ids(), vec![1]);
    // One Enter: no hidden receiver step.
    let fx = update(&mut m, key(KeyCode::Enter));
    assert!(
        matches!(fx.as_slice(), [Effect::CommitPickup { ids, handover }] if ids == &vec![1] && !handover.proxy && handover.receiver == "Ada Lovelace"),
        "{fx:?}"
    );
    update(&mut m, Msg::PickupDone(Ok(vec![pkg(1, "A1")])));
    assert_eq!(m.pickup.step, PickupStep::Code);
    assert!(matches!(m.status, Some((_, Tone::Success))));
}

#[test]
fn proxy_from_the_list_names_who_collects() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::F(3)));
    update(&mut m, Msg::PickupList(Ok(vec![pkg(1, "A1")])));
    update(&mut m, ctrl('p'));
    assert_eq!(m.pickup.step, PickupStep::Receiver);
    assert!(m.pickup.proxy && m.pickup.receiver.is_empty());
    assert!(
        update(&mut m, key(KeyCode::Enter)).is_empty(),
        "a proxy's name is required"
    );
    typed(&mut m, "Bob Proxy");
    let fx = update(&mut m, key(KeyCode::Enter));
    assert!(
        matches!(fx.as_slice(), [Effect::CommitPickup { handover, .. }] if handover.proxy && handover.receiver == "Bob Proxy"),
        "{fx:?}"
    );
    update(&mut m, Msg::PickupDone(Ok(vec![pkg(1, "A1")])));
    let (line, _) = m.status.clone().unwrap();
    assert!(line.ends_with("to Bob Proxy (proxy)"), "{line}");
    // Esc from the proxy's name is back to the resident.
    update(&mut m, Msg::PickupList(Ok(vec![pkg(1, "A1")])));
    update(&mut m, ctrl('p'));
    update(&mut m, key(KeyCode::Esc));
    assert_eq!(m.pickup.step, PickupStep::Select);
    assert!(!m.pickup.proxy);
    assert_eq!(m.pickup.receiver.text(), "Ada Lovelace");
}

#[test]
fn damaged_parcels_are_confirmed_before_the_handover() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::F(3)));
    let mut broken = pkg(2, "B2");
    let flags = crate::domain::Flags {
        damaged: true,
        ..Default::default()
    };
    broken.handling = Some(crate::db::packages::Handling {
        flags,
        note: crate::domain::Note::stored("box crushed".into()),
    });
    update(&mut m, Msg::PickupList(Ok(vec![pkg(1, "A1"), broken])));
    assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
    assert!(m.pickup.asking_damaged);
    let (line, tone) = m.status.clone().unwrap();
    assert!(line.contains("1 DAMAGED"), "{line}");
    assert_eq!(tone, Tone::Warning);
    // Keys other than the answer do nothing; Esc goes back to the list.
    assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
    update(&mut m, key(KeyCode::Esc));
    assert!(!m.pickup.asking_damaged);
    assert_eq!(m.pickup.step, PickupStep::Select);
    update(&mut m, key(KeyCode::Enter));
    let fx = update(&mut m, key(KeyCode::Char('y')));
    assert!(
        matches!(fx.as_slice(), [Effect::CommitPickup { ids, .. }] if ids == &vec![1, 2]),
        "{fx:?}"
    );
}

#[test]
fn cancel_paths_go_back_step_by_step() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::F(2)));
    typed(&mut m, "1Z5R89390357567127");
    update(&mut m, key(KeyCode::Enter));
    results(&mut m);
    update(&mut m, key(KeyCode::Enter));
    assert_eq!(m.intake.step, IntakeStep::Details);
    update(&mut m, key(KeyCode::Esc));
    assert_eq!(m.intake.step, IntakeStep::Recipient);
    update(&mut m, key(KeyCode::Esc));
    assert_eq!(m.intake.step, IntakeStep::Scan);
    update(&mut m, key(KeyCode::Esc));
    assert_eq!(m.screen, Screen::Dashboard);
}

#[test]
fn viewers_cannot_reach_intake_or_pickup() {
    let mut m = model(Role::Viewer);
    for k in [
        KeyCode::Char('i'),
        KeyCode::F(2),
        KeyCode::Char('p'),
        KeyCode::F(3),
    ] {
        assert!(update(&mut m, key(k)).is_empty());
        assert_eq!(m.screen, Screen::Dashboard);
        assert!(matches!(&m.status, Some((s, Tone::Error)) if s.contains("permission denied")));
    }
    // Browsing still works.
    update(&mut m, key(KeyCode::Char('l')));
    assert_eq!(m.screen, Screen::Packages);
}

#[test]
fn live_updates_reload_what_is_shown() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::Char('l')));
    let fx = update(
        &mut m,
        Msg::Live {
            kind: "intake".into(),
            by: "other".into(),
            ids: vec![3],
        },
    );
    // The counts are not on this screen: no stats query per event.
    assert!(!fx.contains(&Effect::LoadStats));
    assert!(fx.iter().any(|e| matches!(e, Effect::LoadPackages { .. })));
    assert_eq!(
        m.activity.front().map(String::as_str),
        Some("other received 1 package(s)")
    );
    update(&mut m, key(KeyCode::Esc));
    assert_eq!(m.screen, Screen::Dashboard);
    let live = Msg::Live {
        kind: "intake".into(),
        by: "other".into(),
        ids: vec![4],
    };
    assert_eq!(update(&mut m, live), vec![Effect::LoadStats]);
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
fn quit_only_outside_text_fields() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::F(2)));
    update(&mut m, key(KeyCode::Char('q')));
    assert!(!m.quit, "q is text while scanning");
    assert_eq!(m.intake.tracking.text(), "q");
    update(&mut m, key(KeyCode::Esc));
    update(&mut m, key(KeyCode::Esc));
    assert_eq!(update(&mut m, key(KeyCode::Char('q'))), vec![]);
    assert_eq!(update(&mut m, key(KeyCode::Char('y'))), vec![Effect::Quit]);
    assert!(m.quit);
}

#[test]
fn q_asks_before_quitting_and_any_other_key_keeps_the_session() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::Char('l')));
    // "quill" typed into a list still loading: the q asks, the u answers no.
    assert_eq!(update(&mut m, key(KeyCode::Char('q'))), vec![]);
    assert_eq!(m.status, Some(("Quit? y/n".into(), Tone::Warning)));
    assert_eq!(update(&mut m, key(KeyCode::Char('u'))), vec![]);
    assert!(!m.quit && !m.confirm_quit && m.status.is_none());
    assert_eq!(
        m.screen,
        Screen::Packages,
        "the answer key is not a command"
    );
    // A scan while the question shows: the question goes, the scan is handled.
    update(&mut m, key(KeyCode::Char('q')));
    update(&mut m, Msg::Scan("1Z5R89390357567127".into()));
    assert!(!m.confirm_quit && !m.quit);
    // Ctrl-C is a deliberate chord: no question.
    assert_eq!(update(&mut m, ctrl('c')), vec![Effect::Quit]);
}

#[test]
fn q_and_ctrl_c_lock_a_kiosk_instead_of_ending_its_session() {
    for quit in [key(KeyCode::Char('q')), ctrl('c')] {
        let mut m = kiosk_model();
        update(
            &mut m,
            Msg::Unlocked(Ok(Me {
                login: "clerk".into(),
                slug: "demo".into(),
                facility_name: "Demo".into(),
                role: Role::Operator,
            })),
        );
        assert!(!m.locked());
        assert_eq!(update(&mut m, quit), vec![Effect::Lock]);
        assert!(m.locked() && !m.quit);
    }
}

#[test]
fn help_scrolls_to_its_last_lines_at_80x24() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::Char('?')));
    assert!(m.help);
    let max = super::keymap::help_max_scroll(Screen::Dashboard, false, 24);
    assert!(max > 0, "the dashboard's keys no longer overflow 80x24");
    update(&mut m, key(KeyCode::PageDown));
    update(&mut m, key(KeyCode::PageDown));
    assert_eq!(m.help_scroll, max, "PgDn stops at the last line");
    update(&mut m, key(KeyCode::Up));
    assert_eq!(m.help_scroll, max - 1);
    update(&mut m, key(KeyCode::PageUp));
    assert_eq!(m.help_scroll, 0);
    assert!(m.help, "scrolling keeps the help open");
    update(&mut m, key(KeyCode::Char('x')));
    assert!(!m.help && m.help_scroll == 0);
    assert_eq!(
        m.screen,
        Screen::Dashboard,
        "the closing key is not a command"
    );
}

#[test]
fn package_corrections_need_a_reason_and_become_one_effect() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::Char('l')));
    update(
        &mut m,
        Msg::Packages(Ok(vec![pkg(4, "1Z5R89390357567127")])),
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
    update(&mut m, Msg::Packages(Ok(vec![pkg(4, "X1")])));
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
    update(&mut m, Msg::Packages(Ok(vec![pkg(4, "X1")])));
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
fn pickup_by_scanning_the_parcel() {
    let mut m = model(Role::Operator);
    update(&mut m, key(KeyCode::F(3)));
    let fx = update(&mut m, Msg::Paste("1z5r 8939 0357 5671 27\n".into()));
    assert_eq!(
        fx,
        vec![Effect::FindByTracking("1Z5R89390357567127".into())]
    );
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
    update(&mut m, Msg::Packages(Ok(vec![p.clone()])));
    update(&mut m, key(KeyCode::Enter));
    update(&mut m, Msg::PackageDetail(Ok((p, vec![]))));
    let fx = update(&mut m, key(KeyCode::Char('a')));
    assert!(matches!(fx.as_slice(), [Effect::Search { .. }]), "{fx:?}");
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
        Msg::Packages(Ok(vec![pkg(1, "1Z5R89390357567127"), fresh])),
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
    update(&mut m, Msg::Packages(Ok(rows)));
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
    update(&mut m, Msg::Packages(Ok(rows)));
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
        Msg::Packages(Ok(vec![pkg(1, "1Z5R89390357567127"), other])),
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

#[test]
fn admin_console_is_for_admins_and_edits_members() {
    let mut m = model(Role::Operator);
    assert!(update(&mut m, key(KeyCode::Char('a'))).is_empty());
    assert_eq!(m.screen, Screen::Dashboard);
    assert!(matches!(&m.status, Some((s, Tone::Error)) if s.contains("admin console")));

    let mut m = model(Role::Admin);
    assert_eq!(
        update(&mut m, key(KeyCode::Char('a'))),
        vec![Effect::LoadMembers]
    );
    assert_eq!(m.screen, Screen::Admin);
    let member = crate::db::members::Member {
        user_id: 9,
        login: "sam".into(),
        display_name: "Sam".into(),
        role: "viewer".into(),
        disabled: false,
        has_password: true,
        has_totp: false,
        keys: 0,
        key_last_used: None,
    };
    update(&mut m, Msg::Members(Ok(vec![member])));
    // 'r' is "change role" here, not "recipients".
    assert_eq!(
        update(&mut m, key(KeyCode::Char('r'))),
        vec![Effect::UpdateMember {
            user_id: 9,
            role: Some(Role::Operator),
            disabled: None
        }]
    );
    assert_eq!(
        update(&mut m, key(KeyCode::Char('d'))),
        vec![Effect::UpdateMember {
            user_id: 9,
            role: None,
            disabled: Some(true)
        }]
    );
    assert_eq!(
        update(&mut m, key(KeyCode::Tab)),
        vec![Effect::LoadAudit(String::new())]
    );
    update(&mut m, key(KeyCode::Char('/')));
    typed(&mut m, "role");
    assert_eq!(
        update(&mut m, key(KeyCode::Enter)),
        vec![Effect::LoadAudit("role".into())]
    );
    assert_eq!(
        update(&mut m, key(KeyCode::Tab)),
        vec![Effect::LoadScorecard]
    );
}

#[test]
fn kiosk_unlocks_with_login_and_pin_and_locks_again() {
    let mut m = kiosk_model();
    assert!(m.locked());
    // Commands do nothing while locked: keys type into the login field.
    assert!(update(&mut m, key(KeyCode::Char('i'))).is_empty());
    assert_eq!(m.screen, Screen::Dashboard);
    update(&mut m, key(KeyCode::Backspace));
    typed(&mut m, "clerk");
    update(&mut m, key(KeyCode::Enter));
    typed(&mut m, "12a34"); // letters are not PIN digits
    let fx = update(&mut m, key(KeyCode::Enter));
    assert_eq!(
        fx,
        vec![Effect::Unlock {
            login: "clerk".into(),
            pin: "1234".into(),
            totp: None,
        }]
    );
    update(
        &mut m,
        Msg::Unlocked(Err(crate::app::Failure::new(
            crate::app::FailureKind::Forbidden,
            "wrong login or PIN",
        ))),
    );
    assert!(m.locked());
    assert!(matches!(&m.status, Some((s, Tone::Error)) if s.contains("wrong login or PIN")));
    typed(&mut m, "1234");
    update(&mut m, key(KeyCode::Enter));
    let fx = update(
        &mut m,
        Msg::Unlocked(Ok(Me {
            login: "clerk".into(),
            slug: "demo".into(),
            facility_name: "Demo".into(),
            role: Role::Admin,
        })),
    );
    assert_eq!(fx, vec![Effect::LoadStats]);
    assert!(!m.locked());
    // Even an admin gets no admin console on a kiosk.
    assert!(update(&mut m, key(KeyCode::Char('a'))).is_empty());
    assert_ne!(m.screen, Screen::Admin);
    update(&mut m, key(KeyCode::Char('i')));
    typed(&mut m, "1Z5R");
    assert_eq!(update(&mut m, ctrl('l')), vec![Effect::Lock]);
    assert!(m.locked());
    assert!(
        m.intake.tracking.is_empty(),
        "nothing of the last user stays"
    );
    assert_eq!(m.me.login, "");
    // The idle timer locks the same way.
    let mut m2 = kiosk_model();
    m2.kiosk.as_mut().unwrap().locked = false;
    assert_eq!(update(&mut m2, Msg::Lock), vec![Effect::Lock]);
    assert!(m2.locked());
}
