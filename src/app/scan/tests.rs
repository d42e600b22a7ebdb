//! A scan on every screen: never keys, never field text, never a shortcut (issue 16).

use crate::app::effect::Effect;
use crate::app::model::{IntakeStep, Model, PickupStep, Screen, Tone};
use crate::app::msg::Msg;
use crate::app::testing::{ch, ctrl, found, key, kiosk_model, model_as, pkg, typed};
use crate::app::update::update;
use crate::db::packages::Intake;
use crate::domain::Role;
use crate::term::input::KeyCode;

const UPS: &str = "1Z5R89390357567127";
const FEDEX: &str = "986578788855";

fn scan(m: &mut Model, text: &str) -> Vec<Effect> {
    update(m, Msg::Scan(text.into()))
}

fn choose_recipient(m: &mut Model) {
    let seq = m.search.seq;
    update(
        m,
        Msg::SearchResults {
            seq,
            found: Ok(vec![found(7, "Ada Lovelace", "A-101")]),
        },
    );
    update(m, key(KeyCode::Enter));
    assert_eq!(m.intake.step, IntakeStep::Details);
}

fn checks(fx: &[Effect], tracking: &str) -> bool {
    fx.iter()
        .any(|e| matches!(e, Effect::CheckWaiting { tracking: t, .. } if t == tracking))
}

fn saved(m: &mut Model, tracking: &str) -> Vec<Effect> {
    update(
        m,
        Msg::IntakeDone(Ok(Intake {
            package: pkg(1, tracking),
            created: true,
        })),
    )
}

/// Intake with `UPS` scanned, its recipient chosen and "Shelf B" typed as its location.
fn half_done(batch: bool) -> Model {
    let mut m = model_as("clerk", Role::Operator);
    update(&mut m, key(KeyCode::F(2)));
    if batch {
        update(&mut m, ctrl('b'));
    }
    let fx = scan(&mut m, UPS);
    assert!(checks(&fx, UPS), "{fx:?}");
    choose_recipient(&mut m);
    m.intake.location.clear();
    typed(&mut m, "Shelf B");
    m
}

#[test]
fn batch_scan_saves_the_parcel_on_screen_and_starts_the_next() {
    let mut m = half_done(true);
    let fx = scan(&mut m, FEDEX);
    let [Effect::CommitIntake(req)] = fx.as_slice() else {
        panic!("expected the current parcel saved, got {fx:?}");
    };
    assert_eq!(req.tracking, UPS);
    assert_eq!(req.location, "Shelf B", "the scan is not location text");
    let fx = saved(&mut m, UPS);
    assert!(checks(&fx, FEDEX), "the next parcel starts: {fx:?}");
    assert_eq!(m.intake.tracking.text(), FEDEX);
    assert_eq!(
        m.intake.step,
        IntakeStep::Details,
        "batch keeps the recipient"
    );
    assert_eq!(m.intake.location.text(), "Shelf B");
    assert!(
        matches!(&m.status, Some((s, Tone::Success)) if s.contains(UPS)),
        "{:?}",
        m.status
    );
}

#[test]
fn a_scan_while_saving_waits_for_the_save() {
    let mut m = half_done(true);
    update(&mut m, key(KeyCode::Enter));
    assert!(m.intake.committing);
    assert!(scan(&mut m, FEDEX).is_empty());
    let fx = saved(&mut m, UPS);
    assert!(checks(&fx, FEDEX), "{fx:?}");
}

#[test]
fn a_failed_save_keeps_the_parcel_and_says_to_rescan() {
    let mut m = half_done(true);
    scan(&mut m, FEDEX);
    update(
        &mut m,
        Msg::IntakeDone(Err(crate::app::Failure::new(
            crate::app::FailureKind::Unavailable,
            "database unavailable",
        ))),
    );
    assert_eq!(m.intake.tracking.text(), UPS);
    assert!(m.intake.queued.is_none());
    assert!(
        matches!(&m.status, Some((s, Tone::Error)) if s.contains("scan the next parcel again"))
    );
}

#[test]
fn without_batch_a_scan_asks_and_enter_saves_first() {
    let mut m = half_done(false);
    assert!(scan(&mut m, FEDEX).is_empty());
    assert!(matches!(&m.status, Some((s, Tone::Warning)) if s.contains("Enter: save")));
    // Nothing is typed under the question.
    typed(&mut m, "xy");
    assert_eq!(m.intake.location.text(), "Shelf B");
    let fx = update(&mut m, key(KeyCode::Enter));
    assert!(matches!(fx.as_slice(), [Effect::CommitIntake(r)] if r.tracking == UPS));
    let fx = saved(&mut m, UPS);
    assert!(checks(&fx, FEDEX), "{fx:?}");
    assert_eq!(m.intake.step, IntakeStep::Recipient);
}

#[test]
fn without_batch_d_drops_and_esc_ignores() {
    let mut m = half_done(false);
    scan(&mut m, FEDEX);
    update(&mut m, key(KeyCode::Esc));
    assert!(m.intake.asked.is_none());
    assert_eq!(m.intake.tracking.text(), UPS);
    assert_eq!(m.intake.step, IntakeStep::Details);

    scan(&mut m, FEDEX);
    let fx = update(&mut m, ch('d'));
    assert!(checks(&fx, FEDEX), "{fx:?}");
    assert_eq!(m.intake.tracking.text(), FEDEX);
    assert!(!fx.iter().any(|e| matches!(e, Effect::CommitIntake(_))));
}

#[test]
fn a_scan_before_the_recipient_is_chosen_offers_to_drop() {
    let mut m = model_as("clerk", Role::Operator);
    update(&mut m, key(KeyCode::F(2)));
    scan(&mut m, UPS);
    assert_eq!(m.intake.step, IntakeStep::Recipient);
    typed(&mut m, "ad");
    scan(&mut m, FEDEX);
    assert_eq!(m.search.query.text(), "ad", "the scan is not search text");
    let fx = update(&mut m, key(KeyCode::Enter));
    assert!(checks(&fx, FEDEX), "{fx:?}");
    assert_eq!(m.intake.tracking.text(), FEDEX);
}

#[test]
fn scanning_the_same_parcel_twice_changes_nothing() {
    let mut m = half_done(false);
    assert!(scan(&mut m, UPS).is_empty());
    assert!(m.intake.asked.is_none());
    assert_eq!(m.intake.step, IntakeStep::Details);
}

#[test]
fn a_rescan_answers_the_check_digit_question() {
    let mut m = model_as("clerk", Role::Operator);
    update(&mut m, key(KeyCode::F(2)));
    scan(&mut m, "1Z5R89390357567128");
    assert_eq!(m.intake.step, IntakeStep::ConfirmChecksum);
    let fx = scan(&mut m, UPS);
    assert!(checks(&fx, UPS), "{fx:?}");
    assert_eq!(m.intake.step, IntakeStep::Recipient);
    assert_eq!(m.screen, Screen::Intake, "no R for Reports");
}

#[test]
fn a_scan_replaces_a_half_typed_number() {
    let mut m = model_as("clerk", Role::Operator);
    update(&mut m, key(KeyCode::F(2)));
    typed(&mut m, "1Z9");
    let fx = scan(&mut m, UPS);
    assert!(checks(&fx, UPS), "{fx:?}");
}

#[test]
fn elsewhere_a_scan_opens_intake_with_it() {
    for screen in [
        Screen::Dashboard,
        Screen::Detail,
        Screen::Packages,
        Screen::Reports,
        Screen::Recipients,
        Screen::Admin,
    ] {
        let mut m = model_as("boss", Role::Admin);
        m.screen = screen;
        let fx = scan(&mut m, UPS);
        assert_eq!(m.screen, Screen::Intake, "from {screen:?}");
        assert!(checks(&fx, UPS), "from {screen:?}: {fx:?}");
        assert_eq!(m.intake.tracking.text(), UPS);
    }
}

/// A dialog of the admin console (here the kiosk PIN, digits shown as dots) keeps its text
/// and puts nothing on the intake screen: eight digits and Enter typed fast may be a PIN.
#[test]
fn a_scan_on_an_admin_dialog_is_ignored_and_never_shown() {
    let mut m = model_as("boss", Role::Admin);
    update(&mut m, ch('a'));
    update(
        &mut m,
        Msg::Members(Ok(vec![crate::db::members::Member {
            user_id: 3,
            login: "sam".into(),
            display_name: "sam".into(),
            role: "operator".into(),
            disabled: false,
            has_password: true,
            has_totp: true,
            keys: 0,
            key_last_used: None,
        }])),
    );
    while m.admin.tab != crate::app::model::AdminTab::Totp {
        update(&mut m, key(KeyCode::Tab));
    }
    update(&mut m, ch('P'));
    typed(&mut m, "4719");
    assert!(scan(&mut m, "47193582").is_empty());
    assert_eq!(m.screen, Screen::Admin);
    assert!(m.intake.tracking.text().is_empty());
    assert!(matches!(&m.status, Some((s, _)) if !s.contains("47193582")));
    let crate::app::admin::totp::TotpMode::Pin { pin, .. } = &m.admin.totp.mode else {
        panic!("the PIN dialog closed")
    };
    assert_eq!(pin.text(), "4719");
}

#[test]
fn a_scan_never_becomes_recipient_search_text() {
    let mut m = model_as("clerk", Role::Operator);
    update(&mut m, key(KeyCode::F(5)));
    typed(&mut m, "kow");
    scan(&mut m, UPS);
    // Intake's recipient step shares the search field and starts it empty.
    assert!(!m.search.query.text().contains("1Z"));
    assert_eq!(m.screen, Screen::Intake);
}

#[test]
fn a_scan_opens_intake_where_a_parcel_was_half_done() {
    // Intake left half done for the package list: the scan comes back to it and asks.
    let mut m = half_done(false);
    update(&mut m, key(KeyCode::F(4)));
    scan(&mut m, FEDEX);
    assert_eq!(m.screen, Screen::Intake);
    assert_eq!(m.intake.asked.as_deref(), Some(FEDEX));
    assert_eq!(m.intake.tracking.text(), UPS);
}

#[test]
fn viewers_get_a_note_not_a_screen() {
    let mut m = model_as("eve", Role::Viewer);
    m.screen = Screen::Packages;
    assert!(scan(&mut m, UPS).is_empty());
    assert_eq!(m.screen, Screen::Packages);
    assert!(matches!(&m.status, Some((s, Tone::Warning)) if s.contains("viewers")));
}

#[test]
fn pickup_finds_by_the_parcel_then_ticks_or_warns() {
    let mut m = model_as("clerk", Role::Operator);
    update(&mut m, key(KeyCode::F(3)));
    typed(&mut m, "12");
    let fx = scan(&mut m, UPS);
    assert_eq!(fx, vec![Effect::FindByTracking(UPS.into())]);
    update(&mut m, Msg::PickupList(Ok(vec![pkg(1, "A1"), pkg(2, UPS)])));
    assert_eq!(m.pickup.step, PickupStep::Select);
    update(&mut m, key(KeyCode::Down));
    update(&mut m, key(KeyCode::Char(' ')));
    assert_eq!(m.pickup.chosen_ids(), vec![1]);
    scan(&mut m, UPS);
    assert_eq!(m.pickup.chosen_ids(), vec![1, 2], "ticked");
    assert_eq!(m.screen, Screen::Pickup);
    scan(&mut m, FEDEX);
    assert!(
        matches!(&m.status, Some((s, Tone::Warning)) if s.contains("not this resident's parcel")),
        "{:?}",
        m.status
    );
    assert_eq!(m.pickup.chosen_ids(), vec![1, 2]);
}

#[test]
fn a_locked_kiosk_takes_no_scan_as_text() {
    let mut m = kiosk_model();
    assert!(scan(&mut m, UPS).is_empty());
    let k = m.kiosk.as_ref().unwrap();
    assert!(k.locked && !k.has_input());
    assert!(matches!(&m.status, Some((s, _)) if s.contains("unlock first")));
}

#[test]
fn help_closes_and_the_scan_still_counts() {
    let mut m = model_as("clerk", Role::Operator);
    update(&mut m, key(KeyCode::F(1)));
    assert!(m.help);
    let fx = scan(&mut m, UPS);
    assert!(!m.help);
    assert!(checks(&fx, UPS), "{fx:?}");
}
