//! Transitions of a resident's authorised proxies on the recipients screen.

use super::*;
use crate::app::model::Screen;
use crate::app::testing::{ctrl, found, key, kiosk_model, model_as, typed};
use crate::app::update::update;
use crate::app::{Effect, FailureKind, Msg};
use crate::domain::Role;

fn model(role: Role) -> Model {
    let mut m = model_as("clerk", role);
    m.screen = Screen::Recipients;
    m.search.results = vec![found(7, "Ada Lovelace", "A-101")];
    m
}

fn answer_with(m: &mut Model, names: &[&str], saved: bool) {
    let names = Ok(names.iter().map(|n| (*n).to_string()).collect());
    update(m, Msg::RecipientsAdmin(answer(7, names, saved)));
}

fn state(m: &Model) -> &ProxiesState {
    match &m.recipients_admin.mode {
        Mode::Proxies(s) => s,
        other => panic!("not the proxies list: {other:?}"),
    }
}

#[test]
fn an_operator_adds_and_removes_authorised_proxies() {
    let mut m = model(Role::Operator);
    let fx = update(&mut m, ctrl('p'));
    assert_eq!(fx, vec![AdminEffect::LoadProxies(7).into()]);
    answer_with(&mut m, &["Kim Park"], false);
    typed(&mut m, "  Sam Lee (partner) ");
    let fx = update(&mut m, key(KeyCode::Enter));
    assert_eq!(
        fx,
        vec![
            AdminEffect::AddProxy {
                id: 7,
                name: "Sam Lee (partner)".into()
            }
            .into()
        ]
    );
    assert!(state(&m).busy);
    assert!(
        update(&mut m, key(KeyCode::Enter)).is_empty(),
        "one at a time"
    );
    answer_with(&mut m, &["Kim Park", "Sam Lee (partner)"], true);
    assert!(state(&m).input.is_empty());
    assert!(matches!(m.status, Some((_, Tone::Success))));
    update(&mut m, key(KeyCode::Down));
    let fx = update(&mut m, ctrl('x'));
    assert_eq!(
        fx,
        vec![
            AdminEffect::RemoveProxy {
                id: 7,
                name: "Sam Lee (partner)".into()
            }
            .into()
        ]
    );
    answer_with(&mut m, &["Kim Park"], true);
    assert_eq!(state(&m).cursor, 0, "the cursor stays on the list");
    update(&mut m, key(KeyCode::Esc));
    assert!(matches!(m.recipients_admin.mode, Mode::Browse));
}

#[test]
fn typing_before_the_list_arrives_is_kept_and_enter_waits_for_it() {
    let mut m = model(Role::Operator);
    update(&mut m, ctrl('p'));
    typed(&mut m, "Sam x");
    assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
    assert!(update(&mut m, ctrl('x')).is_empty());
    assert_eq!(state(&m).input.text(), "Sam x");
    answer_with(&mut m, &[], false);
    assert_eq!(
        state(&m).input.text(),
        "Sam x",
        "the list's arrival keeps the name"
    );
    assert!(matches!(
        update(&mut m, key(KeyCode::Enter)).as_slice(),
        [Effect::RecipientsAdmin(AdminEffect::AddProxy { .. })]
    ));
}

#[test]
fn a_full_list_refuses_another_before_a_round_trip() {
    let mut m = model(Role::Admin);
    update(&mut m, ctrl('p'));
    answer_with(&mut m, &["A", "B", "C", "D", "E"], false);
    typed(&mut m, "F");
    assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
    let (text, _) = m.status.clone().unwrap();
    assert!(text.contains("at most 5"), "{text}");
}

#[test]
fn viewers_and_kiosks_cannot_open_the_proxies() {
    let mut m = model(Role::Viewer);
    assert!(update(&mut m, ctrl('p')).is_empty());
    assert!(matches!(m.recipients_admin.mode, Mode::Browse));
    assert!(matches!(m.status, Some((_, Tone::Error))));
    let mut k = kiosk_model();
    k.screen = Screen::Recipients;
    k.search.results = vec![found(7, "Ada Lovelace", "A-101")];
    assert!(!allowed(&k));
}

#[test]
fn a_refused_load_closes_the_list_with_the_reason() {
    let mut m = model(Role::Operator);
    update(&mut m, ctrl('p'));
    let failure = crate::app::Failure::new(FailureKind::NotFound, "not found");
    update(&mut m, Msg::RecipientsAdmin(answer(7, Err(failure), false)));
    assert!(matches!(m.recipients_admin.mode, Mode::Browse));
    assert!(matches!(m.status, Some((_, Tone::Error))));
}
