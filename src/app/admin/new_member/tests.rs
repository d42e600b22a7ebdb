use super::*;
use crate::app::admin::totp::TotpMode;
use crate::app::model::Screen;
use crate::app::msg::Msg;
use crate::app::testing::{ch, ctrl, key, model_as, typed};
use crate::app::update::{typing, update};
use crate::app::{Failure, FailureKind};
use crate::ops_admin::TotpEnrollment;

const PW: &str = "correct horse battery";
const LINE: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ada@laptop";

/// The console's Members tab with the new member form open.
fn form() -> Model {
    let mut m = model_as("boss", Role::Admin);
    update(&mut m, ch('a'));
    assert_eq!(m.admin.tab, AdminTab::Members);
    assert!(update(&mut m, ch('n')).is_empty());
    assert!(m.admin.new_member.is_some());
    m
}

fn f(m: &Model) -> &MemberForm {
    m.admin.new_member.as_ref().expect("the form is open")
}

fn note(m: &Model) -> String {
    m.status.clone().map(|s| s.0).unwrap_or_default()
}

#[test]
fn letters_are_text_and_space_changes_role_and_sign_in() {
    let mut m = form();
    assert!(typing(&m));
    // r, d, n, x, q: the console's and the browse keys; here they are a login.
    assert!(typed(&mut m, "rdnxq.dana").is_empty());
    assert_eq!(f(&m).login.text(), "rdnxq.dana");
    assert!(!m.confirm_quit);
    update(&mut m, key(KeyCode::Tab));
    update(&mut m, key(KeyCode::Tab));
    assert_eq!(f(&m).field(), Field::Role);
    update(&mut m, ch(' '));
    assert_eq!(f(&m).role, Role::Viewer);
    update(&mut m, ch(' '));
    assert_eq!(f(&m).role, Role::Admin);
    update(&mut m, key(KeyCode::Left));
    assert_eq!(f(&m).role, Role::Viewer);
    update(&mut m, key(KeyCode::Tab));
    update(&mut m, ch(' '));
    assert_eq!(f(&m).method, Method::Key);
    assert_eq!(f(&m).fields().last(), Some(&Field::Key));
}

#[test]
fn a_password_typed_twice_creates_the_member_and_never_shows() {
    let mut m = form();
    typed(&mut m, "dana");
    update(&mut m, key(KeyCode::Tab));
    typed(&mut m, "Dana Scully");
    for _ in 0..3 {
        update(&mut m, key(KeyCode::Tab));
    }
    assert_eq!(f(&m).field(), Field::Password);
    typed(&mut m, PW);
    update(&mut m, key(KeyCode::Enter));
    typed(&mut m, PW);
    assert!(
        !format!("{m:?}").contains(PW),
        "the model shows the password"
    );
    // Enter on the last field creates.
    let fx = update(&mut m, key(KeyCode::Enter));
    assert!(!format!("{fx:?}").contains(PW), "{fx:?}");
    let [Effect::Admin(AdminEffect::AddMember(req))] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!(
        (req.login.as_str(), req.name.as_str(), req.role),
        ("dana", "Dana Scully", Role::Operator)
    );
    assert_eq!(req.credential, FirstCredential::Password(PW.into()));
    assert!(f(&m).busy);
    // Keys wait for the answer.
    assert!(update(&mut m, ctrl('s')).is_empty());

    // Created: straight on to the member's TOTP enrollment.
    let effects = update(&mut m, Msg::Admin(AdminMsg::MemberAdded(Ok(42))));
    assert_eq!(
        effects,
        vec![
            Effect::LoadMembers,
            Effect::Admin(AdminEffect::TotpBegin(42))
        ]
    );
    assert!(m.admin.new_member.is_none());
    assert_eq!(m.admin.tab, AdminTab::Totp);
    assert_eq!(m.admin.totp.mode, TotpMode::Starting);
    assert!(note(&m).contains("dana added as operator"), "{}", note(&m));
    update(
        &mut m,
        Msg::Admin(AdminMsg::TotpStarted(Ok(Box::new(TotpEnrollment {
            user_id: 42,
            login: "dana".into(),
            account: "dana@demo".into(),
            sealed: vec![1; 8],
            qr: None,
            manual: "ABCD".into(),
        })))),
    );
    assert!(matches!(m.admin.totp.mode, TotpMode::Enroll { .. }));
}

#[test]
fn slips_are_caught_before_sending_with_the_clis_rules() {
    let mut m = form();
    typed(&mut m, "Dana");
    assert!(update(&mut m, ctrl('s')).is_empty());
    assert!(note(&m).contains("invalid login"), "{}", note(&m));
    assert_eq!(f(&m).field(), Field::Login);
    update(&mut m, ctrl('u'));
    typed(&mut m, "kiosk");
    update(&mut m, ctrl('s'));
    assert!(note(&m).contains("reserved"), "{}", note(&m));
    update(&mut m, ctrl('u'));
    typed(&mut m, "dana");
    update(&mut m, ctrl('s'));
    assert!(note(&m).contains("at least 8"), "{}", note(&m));
    assert_eq!(f(&m).field(), Field::Password);
    typed(&mut m, PW);
    update(&mut m, key(KeyCode::Tab));
    typed(&mut m, "correct horse batterY");
    assert!(update(&mut m, ctrl('s')).is_empty());
    assert_eq!(f(&m).error.as_deref(), Some("the two passwords differ"));
    assert_eq!(f(&m).field(), Field::Repeat);
    // Typing clears the error.
    update(&mut m, key(KeyCode::Backspace));
    assert_eq!(f(&m).error, None);
}

#[test]
fn a_pasted_key_creates_a_key_member() {
    let mut m = form();
    typed(&mut m, "kim");
    for _ in 0..3 {
        update(&mut m, key(KeyCode::Tab));
    }
    update(&mut m, ch(' '));
    update(&mut m, key(KeyCode::Tab));
    assert_eq!(f(&m).field(), Field::Key);
    update(&mut m, Msg::Paste("ssh-ed25519 garbage\n".into()));
    assert!(update(&mut m, ctrl('s')).is_empty());
    assert!(note(&m).contains("OpenSSH"), "{}", note(&m));
    update(&mut m, Msg::Paste(format!("{LINE}\n")));
    assert_eq!(f(&m).key.text(), LINE);
    let fx = update(&mut m, ctrl('s'));
    let [Effect::Admin(AdminEffect::AddMember(req))] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!(req.credential, FirstCredential::Key(LINE.into()));
    let fx = update(&mut m, Msg::Admin(AdminMsg::MemberAdded(Ok(7))));
    assert_eq!(fx, vec![Effect::LoadMembers]);
    assert_eq!(m.admin.tab, AdminTab::Members);
    assert!(
        note(&m).contains("log in here with their key"),
        "{}",
        note(&m)
    );
}

#[test]
fn a_taken_login_keeps_the_form_with_the_reason() {
    let mut m = form();
    typed(&mut m, "other");
    for _ in 0..4 {
        update(&mut m, key(KeyCode::Tab));
    }
    typed(&mut m, PW);
    update(&mut m, key(KeyCode::Tab));
    typed(&mut m, PW);
    update(&mut m, ctrl('s'));
    update(
        &mut m,
        Msg::Admin(AdminMsg::MemberAdded(Err(Failure::new(
            FailureKind::Conflict,
            "the login `other` is already taken: choose another one",
        )))),
    );
    let form = f(&m);
    assert!(!form.busy);
    assert_eq!(form.field(), Field::Login);
    assert!(
        form.error
            .as_deref()
            .is_some_and(|e| e.contains("already taken"))
    );
    // Esc leaves it, nothing added.
    update(&mut m, key(KeyCode::Esc));
    assert!(m.admin.new_member.is_none());
    assert_eq!(note(&m), "no member added");
    assert_eq!(m.screen, Screen::Admin);
}

#[test]
fn a_scan_on_the_form_never_becomes_its_text() {
    let mut m = form();
    typed(&mut m, "da");
    for _ in 0..4 {
        update(&mut m, key(KeyCode::Tab));
    }
    typed(&mut m, "pass");
    // A password typed by a password manager (fast, then Enter) looks like a scan: it is
    // neither the password nor a parcel on the intake screen.
    assert!(update(&mut m, Msg::Scan("abcdefgh12".into())).is_empty());
    assert_eq!(m.screen, Screen::Admin);
    assert!(m.intake.tracking.text().is_empty());
    assert_eq!(f(&m).login.text(), "da");
    assert_eq!(f(&m).password.reveal(), "pass");
}
