//! Transitions of the admin console's Keys, TOTP, Settings and Outbox tabs. One file (about
//! 670 lines): the tabs' tests share the console fixture and walk the same tab switching.

use crate::app::{Failure, FailureKind};
use chrono::{TimeZone, Utc};

use super::keys::KeysMode;
use super::totp::{PinText, TotpMode};
use super::{AdminEffect, AdminMsg};
use crate::app::effect::Effect;
use crate::app::model::{AdminTab, Model, Screen, Tone};
use crate::app::msg::Msg;
use crate::app::testing::{ch, ctrl, key, model_as, typed};
use crate::app::update::{typing, update};
use crate::db::keys_admin::KeyRow;
use crate::db::members::Member;
use crate::db::outbox_admin::{FailedRow, OutboxView};
use crate::db::settings::{self, FacilitySettings};
use crate::domain::Role;
use crate::ops_admin::TotpEnrollment;
use crate::term::input::KeyCode;

fn model(role: Role) -> Model {
    model_as("boss", role)
}

const LINE: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ada@laptop";

fn member(id: i64, login: &str, totp: bool) -> Member {
    Member {
        user_id: id,
        login: login.into(),
        display_name: login.into(),
        role: "operator".into(),
        disabled: false,
        has_password: true,
        has_totp: totp,
        keys: 1,
        key_last_used: None,
    }
}

fn key_row(id: i64, user_id: i64, login: &str, fp: &str) -> KeyRow {
    KeyRow {
        id,
        user_id,
        login: login.into(),
        algorithm: "ssh-ed25519".into(),
        fingerprint: fp.into(),
        comment: "laptop".into(),
        created_at: Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap(),
        last_used_at: None,
        disabled_at: None,
        all_facilities: false,
    }
}

fn admin(m: &mut Model) {
    update(m, ch('a'));
    assert_eq!(m.screen, Screen::Admin);
    update(
        m,
        Msg::Members(Ok(vec![
            member(1, "ada", false),
            member(2, "boss", true),
            member(3, "sam", true),
        ])),
    );
}

/// Tabs forward from Members to `tab`; the effects of the last switch.
fn to_tab(m: &mut Model, tab: AdminTab) -> Vec<Effect> {
    let mut fx = vec![];
    while m.admin.tab != tab {
        fx = update(m, key(KeyCode::Tab));
    }
    fx
}

fn admin_fx(fx: &[Effect]) -> Vec<AdminEffect> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Admin(a) => Some(a.clone()),
            _ => None,
        })
        .collect()
}

fn status(m: &Model) -> (String, Tone) {
    m.status.clone().expect("a status line")
}

#[test]
fn tabs_cycle_in_order_and_each_loads_its_data() {
    let mut m = model(Role::Admin);
    admin(&mut m);
    assert_eq!(
        to_tab(&mut m, AdminTab::Keys),
        vec![Effect::Admin(AdminEffect::LoadKeys), Effect::LoadMembers]
    );
    assert_eq!(update(&mut m, key(KeyCode::Tab)), vec![Effect::LoadMembers]);
    assert_eq!(m.admin.tab, AdminTab::Totp);
    assert_eq!(
        update(&mut m, key(KeyCode::Tab)),
        vec![Effect::Admin(AdminEffect::LoadSettings)]
    );
    assert_eq!(
        update(&mut m, key(KeyCode::Tab)),
        vec![Effect::Admin(AdminEffect::LoadChannels)]
    );
    assert_eq!(
        update(&mut m, key(KeyCode::Tab)),
        vec![Effect::Admin(AdminEffect::LoadOutbox)]
    );
    // Ctrl-R reloads the tab shown; Tab wraps round to Members.
    assert_eq!(
        update(&mut m, ctrl('r')),
        vec![Effect::Admin(AdminEffect::LoadOutbox)]
    );
    assert_eq!(update(&mut m, key(KeyCode::Tab)), vec![Effect::LoadMembers]);
    assert_eq!(m.admin.tab, AdminTab::Members);
}

#[test]
fn viewers_and_operators_cannot_open_the_console_or_its_tabs() {
    for role in [Role::Viewer, Role::Operator] {
        let mut m = model(role);
        for k in [ch('a'), key(KeyCode::F(10))] {
            assert!(update(&mut m, k).is_empty());
            assert_eq!(m.screen, Screen::Dashboard);
            assert!(matches!(&m.status, Some((s, Tone::Error)) if s.contains("admin")));
        }
        // Tab keys on the dashboard reach no admin tab.
        for k in [key(KeyCode::Tab), ch('n'), ch('x'), ch('t'), ctrl('s')] {
            let fx = update(&mut m, k);
            assert!(admin_fx(&fx).is_empty(), "{role:?}: {fx:?}");
        }
        assert_eq!(m.screen, Screen::Dashboard);
    }
}

#[test]
fn add_a_key_by_paste_for_a_chosen_member() {
    let mut m = model(Role::Admin);
    admin(&mut m);
    to_tab(&mut m, AdminTab::Keys);
    update(
        &mut m,
        Msg::Admin(AdminMsg::Keys(Ok(vec![key_row(
            10,
            3,
            "sam",
            "SHA256:samkey",
        )]))),
    );
    assert!(update(&mut m, ch('n')).is_empty());
    assert_eq!(m.admin.keys.mode, KeysMode::PickMember { cursor: 0 });
    update(&mut m, key(KeyCode::Down));
    update(&mut m, key(KeyCode::Enter));
    assert!(
        matches!(&m.admin.keys.mode, KeysMode::Paste { login, user_id: 2, .. } if login == "boss")
    );
    assert!(typing(&m), "the key field takes letters");

    // A malformed line: a clear error, nothing sent.
    update(&mut m, Msg::Paste("ssh-ed25519 not-base64 x".into()));
    assert!(status(&m).0.contains("not a key"), "{:?}", m.status);
    assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
    assert_eq!(status(&m).1, Tone::Error);
    assert!(status(&m).0.contains("not a valid OpenSSH public key line"));
    // Several lines are refused as a whole.
    update(&mut m, Msg::Paste(format!("{LINE}\n{LINE}\n")));
    assert!(status(&m).0.contains("exactly one"));

    // A good paste shows the fingerprint; Enter sends the line.
    update(&mut m, Msg::Paste(format!("{LINE}\n")));
    let (s, tone) = status(&m);
    assert!(s.contains("SHA256:") && s.contains("ada@laptop"), "{s}");
    assert_eq!(tone, Tone::Info);
    let fx = update(&mut m, key(KeyCode::Enter));
    assert_eq!(
        admin_fx(&fx),
        vec![AdminEffect::AddKey {
            user_id: 2,
            line: LINE.into()
        }]
    );
    assert!(matches!(m.admin.keys.mode, KeysMode::Busy(_)));
    // Keys do nothing while it is on its way.
    assert!(update(&mut m, ch('n')).is_empty());
    let fx = update(
        &mut m,
        Msg::Admin(AdminMsg::KeyAdded(Ok("SHA256:new".into()))),
    );
    assert_eq!(
        fx,
        vec![Effect::Admin(AdminEffect::LoadKeys), Effect::LoadMembers]
    );
    assert_eq!(m.admin.keys.mode, KeysMode::Browse);
    assert_eq!(
        status(&m),
        ("key added for boss: SHA256:new".into(), Tone::Success)
    );

    // The server's refusal (e.g. a duplicate) is shown as is.
    update(&mut m, ch('n'));
    update(&mut m, key(KeyCode::Enter));
    update(&mut m, Msg::Paste(LINE.into()));
    update(&mut m, key(KeyCode::Enter));
    update(
        &mut m,
        Msg::Admin(AdminMsg::KeyAdded(Err(Failure::new(
            FailureKind::Conflict,
            "key SHA256:x is already registered for this member",
        )))),
    );
    let (s, tone) = status(&m);
    assert_eq!(tone, Tone::Error);
    assert!(
        s.starts_with("not added for ada: key SHA256:x is already"),
        "{s}"
    );
}

#[test]
fn a_known_duplicate_is_refused_before_sending() {
    let mut m = model(Role::Admin);
    admin(&mut m);
    to_tab(&mut m, AdminTab::Keys);
    let fp = crate::auth::pubkey::parse_line(LINE).unwrap().fingerprint;
    update(
        &mut m,
        Msg::Admin(AdminMsg::Keys(Ok(vec![key_row(10, 1, "ada", &fp)]))),
    );
    update(&mut m, ch('n'));
    update(&mut m, key(KeyCode::Enter)); // ada
    update(&mut m, Msg::Paste(LINE.into()));
    assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
    let (s, tone) = status(&m);
    assert_eq!(tone, Tone::Error);
    assert!(s.contains("already registered for ada"), "{s}");
    // Esc leaves the paste without adding anything.
    assert!(update(&mut m, key(KeyCode::Esc)).is_empty());
    assert_eq!(m.admin.keys.mode, KeysMode::Browse);
    assert_eq!(m.screen, Screen::Admin);
}

#[test]
fn revoking_a_key_asks_first() {
    let mut m = model(Role::Admin);
    admin(&mut m);
    to_tab(&mut m, AdminTab::Keys);
    let mut revoked = key_row(11, 3, "sam", "SHA256:old");
    revoked.disabled_at = Some(Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap());
    update(
        &mut m,
        Msg::Admin(AdminMsg::Keys(Ok(vec![
            key_row(10, 1, "ada", "SHA256:ada"),
            revoked,
        ]))),
    );
    assert!(update(&mut m, ch('x')).is_empty());
    assert!(matches!(
        &m.admin.keys.mode,
        KeysMode::ConfirmRevoke { key_id: 10, .. }
    ));
    // Esc keeps the key.
    assert!(update(&mut m, key(KeyCode::Esc)).is_empty());
    assert_eq!(m.admin.keys.mode, KeysMode::Browse);
    assert_eq!(m.screen, Screen::Admin);
    update(&mut m, ch('x'));
    assert_eq!(
        admin_fx(&update(&mut m, key(KeyCode::Enter))),
        vec![AdminEffect::RevokeKey(10)]
    );
    let fx = update(
        &mut m,
        Msg::Admin(AdminMsg::KeyRevoked(Ok("SHA256:ada".into()))),
    );
    assert_eq!(admin_fx(&fx), vec![AdminEffect::LoadKeys]);
    // An already revoked key is not offered again.
    update(&mut m, key(KeyCode::Down));
    assert!(update(&mut m, ch('x')).is_empty());
    assert_eq!(m.admin.keys.mode, KeysMode::Browse);
    assert!(status(&m).0.contains("already revoked"));
}

fn enrollment(user_id: i64, login: &str) -> Box<TotpEnrollment> {
    Box::new(TotpEnrollment {
        user_id,
        login: login.into(),
        account: format!("{login}@demo"),
        sealed: vec![1, 2, 3],
        qr: crate::auth::totp::qr_matrix("otpauth://totp/packtrack:x?secret=AAAA"),
        manual: "A".repeat(32),
    })
}

#[test]
fn totp_enrollment_takes_effect_only_after_a_confirmed_code() {
    let mut m = model(Role::Admin);
    admin(&mut m);
    to_tab(&mut m, AdminTab::Totp);
    assert_eq!(
        admin_fx(&update(&mut m, ch('n'))),
        vec![AdminEffect::TotpBegin(1)]
    );
    assert_eq!(m.admin.totp.mode, TotpMode::Starting);
    update(
        &mut m,
        Msg::Admin(AdminMsg::TotpStarted(Ok(enrollment(1, "ada")))),
    );
    assert!(matches!(m.admin.totp.mode, TotpMode::Enroll { .. }));
    assert!(typing(&m));
    // Letters are not code digits; Tab does not leave the enrollment.
    typed(&mut m, "12ab34");
    assert!(update(&mut m, key(KeyCode::Tab)).is_empty());
    assert_eq!(m.admin.tab, AdminTab::Totp);
    assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
    assert!(status(&m).0.contains("6-digit"));
    typed(&mut m, "56");
    assert_eq!(
        admin_fx(&update(&mut m, key(KeyCode::Enter))),
        vec![AdminEffect::TotpConfirm {
            user_id: 1,
            sealed: vec![1, 2, 3],
            code: "123456".into()
        }]
    );
    // A wrong code keeps the QR code up for the next one.
    update(
        &mut m,
        Msg::Admin(AdminMsg::TotpConfirmed(Err(Failure::new(
            FailureKind::Invalid,
            "that code is not valid now",
        )))),
    );
    assert!(
        matches!(&m.admin.totp.mode, TotpMode::Enroll { busy: false, code, .. } if code.is_empty())
    );
    assert_eq!(status(&m).1, Tone::Error);
    update(&mut m, Msg::Paste("654 321\n".into()));
    let fx = update(&mut m, key(KeyCode::Enter));
    assert!(
        matches!(&admin_fx(&fx)[..], [AdminEffect::TotpConfirm { code, .. }] if code == "654321")
    );
    let fx = update(&mut m, Msg::Admin(AdminMsg::TotpConfirmed(Ok(()))));
    assert_eq!(fx, vec![Effect::LoadMembers]);
    assert_eq!(m.admin.totp.mode, TotpMode::Browse);
    assert!(status(&m).0.contains("TOTP enrolled for ada"));

    // Esc cancels an enrollment: nothing is sent.
    update(&mut m, ch('n'));
    update(
        &mut m,
        Msg::Admin(AdminMsg::TotpStarted(Ok(enrollment(1, "ada")))),
    );
    assert!(update(&mut m, key(KeyCode::Esc)).is_empty());
    assert_eq!(m.admin.totp.mode, TotpMode::Browse);
    assert!(status(&m).0.contains("nothing changed"));
    // The enrollment's Debug output never shows the secret.
    assert!(!format!("{:?}", enrollment(1, "ada")).contains("AAAA"));
}

#[test]
fn totp_reset_needs_a_reason_and_not_yourself() {
    let mut m = model(Role::Admin);
    admin(&mut m);
    to_tab(&mut m, AdminTab::Totp);
    // ada has none.
    assert!(update(&mut m, ch('x')).is_empty());
    assert!(status(&m).0.contains("no TOTP"));
    // boss is the admin.
    update(&mut m, key(KeyCode::Down));
    assert!(update(&mut m, ch('x')).is_empty());
    assert!(status(&m).0.contains("your own"));
    assert_eq!(m.admin.totp.mode, TotpMode::Browse);
    update(&mut m, key(KeyCode::Down));
    update(&mut m, ch('x'));
    assert!(matches!(
        &m.admin.totp.mode,
        TotpMode::Reset { user_id: 3, .. }
    ));
    assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
    assert!(status(&m).0.contains("reason is required"));
    typed(&mut m, "lost phone");
    assert_eq!(
        admin_fx(&update(&mut m, key(KeyCode::Enter))),
        vec![AdminEffect::TotpReset {
            user_id: 3,
            reason: "lost phone".into()
        }]
    );
    let fx = update(&mut m, Msg::Admin(AdminMsg::TotpReset(Ok(()))));
    assert_eq!(fx, vec![Effect::LoadMembers]);
    assert_eq!(
        status(&m),
        (
            "TOTP of sam reset, their password+TOTP sessions ended".into(),
            Tone::Success
        )
    );
}

#[test]
fn a_kiosk_pin_is_set_from_the_totp_tab_as_dots_and_digits_only() {
    let mut m = model(Role::Admin);
    admin(&mut m);
    to_tab(&mut m, AdminTab::Totp);
    assert!(update(&mut m, ch('P')).is_empty());
    assert!(matches!(
        &m.admin.totp.mode,
        TotpMode::Pin { user_id: 1, .. }
    ));
    assert!(typing(&m), "the PIN field takes the keys");
    // Letters are ignored; a short PIN is refused before anything is sent, and so is a
    // first guess.
    typed(&mut m, "4a7b1");
    assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
    assert!(status(&m).0.contains("6 to 12 digits"), "{:?}", status(&m));
    for _ in 0..3 {
        update(&mut m, key(KeyCode::Backspace));
    }
    typed(&mut m, "123456");
    assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
    assert!(
        status(&m).0.contains("too easy to guess"),
        "{:?}",
        status(&m)
    );
    for _ in 0..6 {
        update(&mut m, key(KeyCode::Backspace));
    }
    typed(&mut m, "471193");
    let fx = admin_fx(&update(&mut m, key(KeyCode::Enter)));
    assert_eq!(
        fx,
        vec![AdminEffect::SetPin {
            user_id: 1,
            pin: PinText("471193".into())
        }]
    );
    assert!(
        !format!("{fx:?}").contains("471193"),
        "the effect's Debug never shows the PIN"
    );
    // A failure gives the dialog back (the PIN is typed again, never kept).
    update(
        &mut m,
        Msg::Admin(AdminMsg::PinSet(Err(Failure::new(
            FailureKind::Unavailable,
            "the database is not answering",
        )))),
    );
    assert!(matches!(
        &m.admin.totp.mode,
        TotpMode::Pin { busy: false, pin, .. } if pin.text().is_empty()
    ));
    assert_eq!(
        status(&m),
        (
            "PIN not set: the database is not answering".into(),
            Tone::Error
        )
    );
    typed(&mut m, "471193");
    assert_eq!(admin_fx(&update(&mut m, key(KeyCode::Enter))).len(), 1);
    update(&mut m, Msg::Admin(AdminMsg::PinSet(Ok(()))));
    assert_eq!(m.admin.totp.mode, TotpMode::Browse);
    assert_eq!(
        status(&m),
        (
            "kiosk PIN of ada set for this facility's kiosks".into(),
            Tone::Success
        )
    );
    // Esc leaves it unchanged.
    update(&mut m, ch('P'));
    typed(&mut m, "123456");
    assert!(update(&mut m, key(KeyCode::Esc)).is_empty());
    assert_eq!(m.admin.totp.mode, TotpMode::Browse);
}

fn loaded() -> FacilitySettings {
    settings::from_document(
        "Demo".into(),
        "UTC".into(),
        &serde_json::json!({}),
        [Some(true), None, None],
    )
}

#[test]
fn settings_edit_validate_and_save_only_changes() {
    let mut m = model(Role::Admin);
    admin(&mut m);
    to_tab(&mut m, AdminTab::Settings);
    update(
        &mut m,
        Msg::Admin(AdminMsg::Settings(Ok(Box::new(loaded())))),
    );
    // Nothing changed yet.
    assert!(update(&mut m, ctrl('s')).is_empty());
    assert_eq!(status(&m).0, "nothing changed");
    // Overdue days: out of range is refused with the range, and the field stays open.
    update(&mut m, key(KeyCode::Down));
    update(&mut m, key(KeyCode::Down));
    update(&mut m, key(KeyCode::Enter));
    assert!(typing(&m));
    update(&mut m, key(KeyCode::Backspace));
    typed(&mut m, "61");
    assert!(update(&mut m, key(KeyCode::Enter)).is_empty());
    assert_eq!(
        status(&m),
        ("overdue days: 61 is out of range 1–60".into(), Tone::Error)
    );
    assert!(m.admin.settings.editing.is_some());
    update(&mut m, key(KeyCode::Backspace));
    update(&mut m, key(KeyCode::Backspace));
    typed(&mut m, "x");
    update(&mut m, key(KeyCode::Enter));
    assert!(status(&m).0.contains("not a whole number"));
    update(&mut m, key(KeyCode::Backspace));
    typed(&mut m, "5");
    update(&mut m, key(KeyCode::Enter));
    assert!(m.admin.settings.editing.is_none());
    // Reminders must increase.
    update(&mut m, key(KeyCode::Down));
    update(&mut m, key(KeyCode::Enter));
    update(&mut m, key(KeyCode::Backspace));
    typed(&mut m, "7,3");
    update(&mut m, key(KeyCode::Enter));
    assert!(status(&m).0.contains("must increase"));
    for _ in 0..3 {
        update(&mut m, key(KeyCode::Backspace));
    }
    typed(&mut m, "3,7");
    update(&mut m, key(KeyCode::Enter));
    // E-mail is configured: Space switches it. SMS is not: a warning.
    update(&mut m, key(KeyCode::Down));
    update(&mut m, ch(' '));
    update(&mut m, key(KeyCode::Down));
    update(&mut m, ch(' '));
    assert!(status(&m).0.contains("no SMS provider set up yet"));
    // The PIN + TOTP switch (Enter switches too).
    for _ in 0..4 {
        update(&mut m, key(KeyCode::Down));
    }
    update(&mut m, key(KeyCode::Enter));
    assert_eq!(
        m.admin.settings.changes(),
        vec![
            "overdue_days",
            "reminder_days",
            "kiosk_pin_totp",
            "email_enabled"
        ]
    );
    let fx = update(&mut m, ctrl('s'));
    let [AdminEffect::SaveSettings { before, after }] = &admin_fx(&fx)[..] else {
        panic!("{fx:?}")
    };
    assert_eq!(**before, loaded());
    assert_eq!(after.overdue_days, 5);
    assert_eq!(after.reminders, vec![3, 7]);
    assert_eq!(after.email, Some(false));
    assert!(after.kiosk_pin_totp);
    assert!(m.admin.settings.saving);
    let fx = update(
        &mut m,
        Msg::Admin(AdminMsg::SettingsSaved(Ok(vec!["overdue_days"]))),
    );
    assert_eq!(admin_fx(&fx), vec![AdminEffect::LoadSettings]);
    assert_eq!(m.overdue_days, 5);
    assert!(status(&m).0.starts_with("saved: overdue_days"));
    assert!(m.admin.settings.changes().is_empty());
}

#[test]
fn settings_esc_discards_then_leaves() {
    let mut m = model(Role::Admin);
    admin(&mut m);
    to_tab(&mut m, AdminTab::Settings);
    update(
        &mut m,
        Msg::Admin(AdminMsg::Settings(Ok(Box::new(loaded())))),
    );
    update(&mut m, key(KeyCode::Enter));
    typed(&mut m, " North");
    update(&mut m, key(KeyCode::Enter));
    assert_eq!(m.admin.settings.changes(), vec!["name"]);
    // A reload keeps the unsaved draft.
    update(
        &mut m,
        Msg::Admin(AdminMsg::Settings(Ok(Box::new(loaded())))),
    );
    assert_eq!(m.admin.settings.changes(), vec!["name"]);
    assert!(update(&mut m, key(KeyCode::Esc)).is_empty());
    assert_eq!(m.screen, Screen::Admin);
    assert!(m.admin.settings.changes().is_empty());
    assert_eq!(update(&mut m, key(KeyCode::Esc)), vec![Effect::LoadStats]);
    assert_eq!(m.screen, Screen::Dashboard);
}

#[test]
fn outbox_retry_of_the_selected_row() {
    let mut m = model(Role::Admin);
    admin(&mut m);
    to_tab(&mut m, AdminTab::Outbox);
    assert!(update(&mut m, ch('t')).is_empty());
    assert!(status(&m).0.contains("no failed delivery"));
    let row = |id| FailedRow {
        id,
        channel: "email".into(),
        event: "intake".into(),
        status: "dead".into(),
        attempts: 8,
        recipient: "a**@example.org".into(),
        last_error: "550".into(),
        created_at: Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap(),
    };
    update(
        &mut m,
        Msg::Admin(AdminMsg::Outbox(Ok(Box::new(OutboxView {
            failed: vec![row(41), row(40)],
            ..Default::default()
        })))),
    );
    update(&mut m, key(KeyCode::Down));
    assert_eq!(
        admin_fx(&update(&mut m, ch('t'))),
        vec![AdminEffect::Retry(40)]
    );
    // One at a time.
    assert!(update(&mut m, ch('t')).is_empty());
    let fx = update(&mut m, Msg::Admin(AdminMsg::Retried(Ok(40))));
    assert_eq!(admin_fx(&fx), vec![AdminEffect::LoadOutbox]);
    assert!(status(&m).0.contains("#40 queued again"));
}

#[test]
fn help_lists_the_new_keys() {
    let labels: Vec<_> = crate::app::keymap::help_for(Screen::Admin, false)
        .iter()
        .map(|b| (b.label, b.help))
        .collect();
    for (k, what) in [
        ("n", "add a key"),
        ("x", "revoke"),
        ("t", "retry"),
        ("Ctrl-S", "save"),
    ] {
        assert!(
            labels.iter().any(|(l, h)| *l == k && h.contains(what)),
            "{k}: {labels:?}"
        );
    }
}

#[test]
fn leaving_the_console_drops_an_open_enrollment() {
    let mut m = model(Role::Admin);
    admin(&mut m);
    to_tab(&mut m, AdminTab::Totp);
    update(&mut m, ch('n'));
    update(
        &mut m,
        Msg::Admin(AdminMsg::TotpStarted(Ok(enrollment(1, "ada")))),
    );
    // F-keys work while typing; the QR code must not be there on coming back.
    update(&mut m, key(KeyCode::F(4)));
    assert_eq!(m.screen, Screen::Packages);
    update(&mut m, ch('a'));
    assert_eq!(m.screen, Screen::Admin);
    assert_eq!(m.admin.tab, AdminTab::Totp);
    assert_eq!(m.admin.totp.mode, TotpMode::Browse);
}
