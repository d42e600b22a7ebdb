//! Transitions of the kiosk: unlock, settings, self-service, locking.

use chrono::{TimeZone, Utc};

use super::*;
use crate::app::msg::Msg;
use crate::app::testing::{key, kiosk_model, typed};
use crate::app::update::update;
use crate::app::{Failure, FailureKind};
use crate::domain::Role;

fn kiosk(pin_totp: bool, self_service: bool) -> Model {
    let mut m = kiosk_model();
    update(
        &mut m,
        Msg::KioskSettings {
            pin_totp,
            self_service,
        },
    );
    m
}

fn masked(id: i64) -> MaskedPackage {
    MaskedPackage {
        id,
        tracking: "…7127".into(),
        carrier: Some("ups".into()),
        location: "Shelf A".into(),
        received_at: Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap(),
    }
}

fn me() -> Me {
    Me {
        login: "clerk".into(),
        slug: "demo".into(),
        facility_name: "Demo".into(),
        role: Role::Operator,
    }
}

#[test]
fn pin_and_totp_are_asked_for_and_sent_together() {
    let mut m = kiosk(true, false);
    typed(&mut m, "clerk");
    update(&mut m, key(KeyCode::Enter));
    typed(&mut m, "4711");
    // Enter after the PIN moves on to the code; nothing is checked yet.
    assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
    assert_eq!(m.kiosk.as_ref().unwrap().focus, LockField::Totp);
    typed(&mut m, "12x34");
    // A short code is not sent.
    assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
    assert!(matches!(&m.status, Some((s, Tone::Warning)) if s.contains("6-digit code")));
    typed(&mut m, "5678");
    assert_eq!(
        update(&mut m, key(KeyCode::Enter)),
        vec![Effect::Unlock {
            login: "clerk".into(),
            pin: "4711".into(),
            totp: Some("123456".into()),
        }]
    );
    // Keys wait while the check runs.
    assert!(typed(&mut m, "99").is_empty());
    update(
        &mut m,
        Msg::Unlocked(Err(Failure::new(
            FailureKind::Forbidden,
            "wrong login, PIN or code",
        ))),
    );
    let k = m.kiosk.as_ref().unwrap();
    assert!(k.locked && k.pin.is_empty() && k.totp.is_empty());
    assert_eq!(k.focus, LockField::Pin);
    assert_eq!(k.login.text(), "clerk");
}

#[test]
fn settings_switch_the_code_field_off_and_survive_a_lock() {
    let mut m = kiosk(true, false);
    typed(&mut m, "clerk");
    update(&mut m, key(KeyCode::Enter));
    typed(&mut m, "4711");
    update(&mut m, key(KeyCode::Enter));
    update(
        &mut m,
        Msg::KioskSettings {
            pin_totp: false,
            self_service: false,
        },
    );
    assert_eq!(m.kiosk.as_ref().unwrap().focus, LockField::Pin);
    assert_eq!(
        update(&mut m, key(KeyCode::Enter)),
        vec![Effect::Unlock {
            login: "clerk".into(),
            pin: "4711".into(),
            totp: None
        }]
    );
    let mut m = kiosk(true, true);
    update(&mut m, Msg::Unlocked(Ok(me())));
    assert!(!m.locked());
    assert_eq!(update(&mut m, Msg::Lock), vec![Effect::Lock]);
    let k = m.kiosk.as_ref().unwrap();
    assert!(k.locked && k.pin_totp && k.self_service);
    assert_eq!(k.focus, LockField::PickupCode);
}

#[test]
fn self_service_code_then_staff_confirmation() {
    let mut m = kiosk(false, true);
    assert_eq!(m.kiosk.as_ref().unwrap().focus, LockField::PickupCode);
    assert!(!m.lock_screen_has_input());
    // Only digits go into the code; a short code is not looked up.
    typed(&mut m, "123");
    assert!(m.lock_screen_has_input());
    assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
    typed(&mut m, "456");
    assert_eq!(
        update(&mut m, key(KeyCode::Enter)),
        vec![Effect::LookupPickupCode("123456".into())]
    );
    update(
        &mut m,
        Msg::PickupCodeFound(Err(Failure::new(
            FailureKind::Invalid,
            crate::db::kiosk::NO_MATCH,
        ))),
    );
    let k = m.kiosk.as_ref().unwrap();
    assert!(k.pending.is_none() && k.pickup_code.is_empty() && !k.busy);
    typed(&mut m, "654321");
    update(&mut m, key(KeyCode::Enter));
    update(&mut m, Msg::PickupCodeFound(Ok(vec![masked(3), masked(5)])));
    let k = m.kiosk.as_ref().unwrap();
    assert_eq!(k.pending.as_ref().unwrap().ids(), vec![3, 5]);
    assert_eq!(k.focus, LockField::Login);
    // Staff confirm with login and PIN: the pending code and packages go along.
    typed(&mut m, "clerk");
    update(&mut m, key(KeyCode::Enter));
    typed(&mut m, "4711");
    assert_eq!(
        update(&mut m, key(KeyCode::Enter)),
        vec![Effect::ConfirmPickup {
            login: "clerk".into(),
            pin: "4711".into(),
            totp: None,
            code: "654321".into(),
            ids: vec![3, 5],
        }]
    );
    update(
        &mut m,
        Msg::PickupConfirmed(Err(Failure::new(
            FailureKind::Forbidden,
            "wrong login or PIN",
        ))),
    );
    assert!(
        m.kiosk.as_ref().unwrap().pending.is_some(),
        "still on screen"
    );
    typed(&mut m, "4711");
    update(&mut m, key(KeyCode::Enter));
    update(&mut m, Msg::PickupConfirmed(Ok(("clerk".into(), 2))));
    let k = m.kiosk.as_ref().unwrap();
    assert!(k.locked, "a confirmation never unlocks the terminal");
    assert!(k.pending.is_none() && !k.has_input());
    assert_eq!(k.focus, LockField::PickupCode);
    assert!(matches!(&m.status, Some((s, Tone::Success)) if s.contains("confirmed by clerk")));
}

#[test]
fn letters_on_a_self_service_screen_go_to_the_login_and_esc_withdraws() {
    let mut m = kiosk(false, true);
    typed(&mut m, "12clerk");
    let k = m.kiosk.as_ref().unwrap();
    assert_eq!(k.focus, LockField::Login);
    assert_eq!(k.login.text(), "clerk");
    assert!(k.pickup_code.is_empty());
    update(&mut m, key(KeyCode::Esc));
    assert_eq!(m.kiosk.as_ref().unwrap().focus, LockField::PickupCode);
    typed(&mut m, "654321");
    update(&mut m, key(KeyCode::Enter));
    update(&mut m, Msg::PickupCodeFound(Ok(vec![masked(3)])));
    update(&mut m, key(KeyCode::Esc));
    let k = m.kiosk.as_ref().unwrap();
    assert!(k.pending.is_none() && !k.has_input());
    // The idle timer clears a screen left with packages on it.
    typed(&mut m, "654321");
    update(&mut m, key(KeyCode::Enter));
    update(&mut m, Msg::PickupCodeFound(Ok(vec![masked(3)])));
    assert!(m.lock_screen_has_input());
    update(&mut m, Msg::Lock);
    assert!(!m.lock_screen_has_input());
    // A device no longer self-service drops what was found.
    typed(&mut m, "654321");
    update(&mut m, key(KeyCode::Enter));
    update(&mut m, Msg::PickupCodeFound(Ok(vec![masked(3)])));
    update(
        &mut m,
        Msg::KioskSettings {
            pin_totp: false,
            self_service: false,
        },
    );
    let k = m.kiosk.as_ref().unwrap();
    assert!(k.pending.is_none());
    assert_eq!(k.focus, LockField::Login);
}
