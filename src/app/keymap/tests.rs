//! The keymap: bindings per screen and in text fields, and the help they produce.

use super::bindings::k;
use super::*;
use crate::term::input::KeyCode as K;
use Action as A;

#[test]
fn letters_are_commands_only_when_not_typing() {
    let i = k(K::Char('i'));
    assert_eq!(lookup(Screen::Dashboard, false, i), Some(A::GoIntake));
    assert_eq!(lookup(Screen::Intake, true, i), None);
    assert_eq!(lookup(Screen::Intake, true, k(K::F(2))), Some(A::GoIntake));
}

#[test]
fn screen_bindings_win_and_no_key_is_bound_twice_in_a_scope() {
    assert_eq!(
        lookup(Screen::Pickup, false, k(K::Char(' '))),
        Some(A::Toggle)
    );
    for (i, a) in BINDINGS.iter().enumerate() {
        for b2 in &BINDINGS[i + 1..] {
            assert!(
                !(a.scope == b2.scope && a.key == b2.key),
                "{} bound twice in {:?}",
                a.label,
                a.scope
            );
        }
    }
}

#[test]
fn help_lists_screen_specific_keys() {
    let labels: Vec<_> = help_for(Screen::Intake, true)
        .iter()
        .map(|b| b.label)
        .collect();
    assert!(labels.contains(&"Ctrl-N"));
    assert!(!labels.contains(&"q"));
    // The admin console's own keys come first; its `r` is "change role" only.
    let admin = help_for(Screen::Admin, false);
    assert_eq!(admin[0].action, A::CycleRole);
    let r: Vec<_> = admin.iter().filter(|b| b.label == "r").collect();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].action, A::CycleRole);
}
