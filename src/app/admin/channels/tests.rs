use super::*;
use crate::app::model::{AdminTab, Screen};
use crate::app::msg::Msg;
use crate::app::testing::{ch, ctrl, key, model_as, typed};
use crate::app::update::{typing, update};
use crate::app::{Failure, FailureKind};
use crate::domain::Role;

const PASSWORD: &str = "hunter2-but-longer";

fn row(id: i64, kind: ChannelKind, url: &str, secret: bool) -> ChannelRow {
    ChannelRow {
        id,
        kind,
        url: url.into(),
        url_hidden: false,
        sender: (kind == ChannelKind::Smtp).then(|| "mail@north.example".to_string()),
        username: None,
        secret_set: secret,
        enabled: true,
        include_pickup_code: false,
        last_error: None,
        last_error_at: None,
        last_success_at: None,
    }
}

/// The console on the Channels tab with an SMTP server and one webhook loaded.
fn channels() -> Model {
    let mut m = model_as("boss", Role::Admin);
    update(&mut m, ch('a'));
    let mut fx = vec![];
    while m.admin.tab != AdminTab::Channels {
        fx = update(&mut m, key(KeyCode::Tab));
    }
    assert_eq!(fx, vec![fx_of(AdminEffect::LoadChannels)]);
    update(
        &mut m,
        Msg::Admin(AdminMsg::Channels(Ok(vec![
            row(1, ChannelKind::Smtp, "smtps://mail.example.org", true),
            row(
                4,
                ChannelKind::Webhook,
                "https://hooks.example.org/in",
                true,
            ),
        ]))),
    );
    m
}

fn fx_of(e: AdminEffect) -> Effect {
    Effect::Admin(e)
}

fn editor(m: &Model) -> &Editor {
    m.admin.channels.editor.as_ref().expect("a form is open")
}

fn note(m: &Model) -> String {
    m.status.clone().map(|s| s.0).unwrap_or_default()
}

#[test]
fn the_list_has_email_sms_every_webhook_and_a_row_to_add_one() {
    let m = channels();
    let e = m.admin.channels.entries();
    assert!(matches!(e[0], Entry::Smtp(Some(r)) if r.id == 1));
    assert!(matches!(e[1], Entry::Sms(None)));
    assert!(matches!(e[2], Entry::Webhook(r) if r.id == 4));
    assert_eq!(e[3], Entry::NewWebhook);
    assert_eq!(e.len(), 4);
    assert!(!typing(&m));
}

#[test]
fn an_untyped_secret_is_kept_and_a_typed_one_goes_once_and_is_never_shown() {
    let mut m = channels();
    update(&mut m, key(KeyCode::Enter));
    assert_eq!(editor(&m).kind, ChannelKind::Smtp);
    assert!(typing(&m));
    assert!(
        note(&m).contains("leave it empty to keep it"),
        "{}",
        note(&m)
    );
    // Saved as loaded: no secret sent, the stored one stays.
    let fx = update(&mut m, ctrl('s'));
    let [Effect::Admin(AdminEffect::SaveChannel(form))] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!(form.secret, None);
    assert_eq!(form.url, "smtps://mail.example.org");
    assert_eq!(form.sender, "mail@north.example");
    update(&mut m, Msg::Admin(AdminMsg::ChannelSaved(Ok(1))));

    // Down to the password, typed: sent with the save, as dots on screen, never in Debug.
    for _ in 0..3 {
        update(&mut m, key(KeyCode::Tab));
    }
    assert_eq!(editor(&m).field(), Field::Secret);
    typed(&mut m, PASSWORD);
    assert!(
        !format!("{m:?}").contains(PASSWORD),
        "the model shows the secret"
    );
    assert_eq!(editor(&m).secret.dots().text(), "•".repeat(PASSWORD.len()));
    let fx = update(&mut m, ctrl('s'));
    assert!(!format!("{fx:?}").contains(PASSWORD), "{fx:?}");
    let [Effect::Admin(AdminEffect::SaveChannel(form))] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!(form.secret.as_deref(), Some(PASSWORD));
    // Saved: the typed secret is gone from the form, which now says "set".
    let fx = update(&mut m, Msg::Admin(AdminMsg::ChannelSaved(Ok(1))));
    assert_eq!(fx, vec![fx_of(AdminEffect::LoadChannels)]);
    assert!(editor(&m).secret.is_empty() && editor(&m).secret_set);
    assert!(!editor(&m).dirty);
}

#[test]
fn letters_in_a_form_are_text_never_shortcuts() {
    let mut m = channels();
    update(&mut m, key(KeyCode::Enter));
    update(&mut m, ctrl('u'));
    // Every letter bound on the console (role, disable, new, revoke, retry, quit …).
    let fx = typed(&mut m, "smtp://rdnxtq/P?");
    assert!(fx.is_empty(), "{fx:?}");
    assert_eq!(editor(&m).url.text(), "smtp://rdnxtq/P?");
    assert_eq!(m.screen, Screen::Admin);
    assert_eq!(m.admin.tab, AdminTab::Channels);
    assert!(!m.confirm_quit);
}

#[test]
fn a_scan_on_a_channel_form_never_becomes_field_text() {
    let mut m = channels();
    update(&mut m, key(KeyCode::Enter));
    update(&mut m, key(KeyCode::Tab));
    update(&mut m, key(KeyCode::Tab));
    update(&mut m, key(KeyCode::Tab));
    typed(&mut m, "half-typed");
    // A scanner, or a password manager typing fast and pressing Enter: not field text, not
    // a parcel on the intake screen (it may be a password), only a note.
    let fx = update(&mut m, Msg::Scan("1Z5R89390357567127".into()));
    assert!(fx.is_empty(), "{fx:?}");
    assert_eq!(m.screen, Screen::Admin);
    assert!(m.intake.tracking.text().is_empty());
    let e = editor(&m);
    assert_eq!(e.secret.reveal(), "half-typed");
    assert_eq!(e.url.text(), "smtps://mail.example.org");
    assert!(
        note(&m).contains("ignored while a form is open"),
        "{}",
        note(&m)
    );
    assert!(!note(&m).contains("1Z5R"));
    // Closed, the console's list takes a scan to intake as everywhere.
    update(&mut m, key(KeyCode::Esc));
    update(&mut m, Msg::Scan("1Z5R89390357567127".into()));
    assert_eq!(m.screen, Screen::Intake);
    // Back in the console no form is left, nor the secret typed into it.
    update(&mut m, key(KeyCode::F(10)));
    assert_eq!(m.screen, Screen::Admin);
    assert!(m.admin.channels.editor.is_none());
}

#[test]
fn a_test_needs_the_saved_settings_and_a_target_and_shows_its_outcome() {
    let mut m = channels();
    update(&mut m, key(KeyCode::Enter));
    // Changed and not saved: the test would not try what is on screen.
    typed(&mut m, ":465");
    assert!(update(&mut m, ctrl('t')).is_empty());
    assert!(note(&m).contains("save first"), "{}", note(&m));
    update(&mut m, ctrl('s'));
    update(&mut m, Msg::Admin(AdminMsg::ChannelSaved(Ok(1))));
    // No address yet: the focus goes to it.
    assert!(update(&mut m, ctrl('t')).is_empty());
    assert_eq!(editor(&m).field(), Field::TestTo);
    assert!(note(&m).contains("e-mail address"), "{}", note(&m));
    typed(&mut m, "ada@example.org");
    // Where the test goes is not a setting: nothing to save.
    assert!(!editor(&m).dirty);
    let fx = update(&mut m, key(KeyCode::Enter));
    assert_eq!(
        fx,
        vec![fx_of(AdminEffect::TestChannel {
            id: 1,
            to: "ada@example.org".into()
        })]
    );
    assert_eq!(editor(&m).busy, Some(Busy::Testing));
    // Keys wait for the answer.
    assert!(update(&mut m, ctrl('t')).is_empty());
    let why = "cannot connect: refused: localhost (127.0.0.1) is a loopback address".to_string();
    update(
        &mut m,
        Msg::Admin(AdminMsg::ChannelTested(Ok(Err(why.clone())))),
    );
    assert_eq!(editor(&m).test, Some(Err(why.clone())));
    assert!(matches!(&m.status, Some((s, Tone::Error)) if s == &format!("test failed: {why}")));
    update(&mut m, key(KeyCode::Enter));
    update(&mut m, Msg::Admin(AdminMsg::ChannelTested(Ok(Ok(())))));
    assert_eq!(editor(&m).test, Some(Ok(())));
    assert!(matches!(&m.status, Some((_, Tone::Success))));
}

#[test]
fn a_new_webhook_needs_a_long_secret_and_keeps_pickup_codes_out_unless_switched() {
    let mut m = channels();
    update(&mut m, ch('n'));
    assert_eq!(editor(&m).title(), "New webhook");
    typed(&mut m, "https://hooks.example.org/new");
    assert!(update(&mut m, ctrl('s')).is_empty());
    assert!(note(&m).contains("signing secret"), "{}", note(&m));
    update(&mut m, key(KeyCode::Tab));
    typed(&mut m, "short");
    assert!(update(&mut m, ctrl('s')).is_empty());
    assert!(note(&m).contains("at least 16"), "{}", note(&m));
    typed(&mut m, "-but-now-long-enough");
    update(&mut m, key(KeyCode::Tab));
    assert_eq!(editor(&m).field(), Field::PickupCodes);
    update(&mut m, ch(' '));
    update(&mut m, ch(' '));
    let fx = update(&mut m, ctrl('s'));
    let [Effect::Admin(AdminEffect::SaveChannel(form))] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!(
        (form.id, form.kind, form.include_pickup_code),
        (None, Some(ChannelKind::Webhook), false)
    );
    // A refusal from the server keeps the form, says why, and lets the admin fix it.
    update(
        &mut m,
        Msg::Admin(AdminMsg::ChannelSaved(Err(Failure::new(
            FailureKind::Invalid,
            "refused: 10.0.0.5 is a private network address",
        )))),
    );
    assert!(editor(&m).busy.is_none());
    assert!(
        note(&m).starts_with("not saved: refused: 10.0.0.5"),
        "{}",
        note(&m)
    );
    assert_eq!(update(&mut m, key(KeyCode::Esc)), vec![]);
    assert!(m.admin.channels.editor.is_none());
    assert_eq!(note(&m), "not saved");
}

#[test]
fn a_stored_url_with_hidden_parts_is_kept_not_shown() {
    let mut m = channels();
    let mut sms = row(
        2,
        ChannelKind::Sms,
        "https://sms.example.org/v1/send (credentials and query hidden)",
        true,
    );
    sms.url_hidden = true;
    sms.username = Some("AC123".into());
    update(&mut m, Msg::Admin(AdminMsg::Channels(Ok(vec![sms]))));
    update(&mut m, key(KeyCode::Down));
    update(&mut m, key(KeyCode::Enter));
    let e = editor(&m);
    assert_eq!(e.kind, ChannelKind::Sms);
    assert!(e.url.is_empty());
    assert!(e.url_kept.as_deref().is_some_and(|u| u.contains("hidden")));
    let form = e.form();
    assert_eq!((form.url.as_str(), form.username.as_str()), ("", "AC123"));
}

#[test]
fn a_channel_switch_without_a_channel_points_at_the_channels_tab() {
    let mut m = model_as("boss", Role::Admin);
    update(&mut m, ch('a'));
    while m.admin.tab != AdminTab::Settings {
        update(&mut m, key(KeyCode::Tab));
    }
    let s = crate::db::settings::from_document(
        "North".into(),
        "UTC".into(),
        &serde_json::json!({}),
        [None, None, None],
    );
    update(&mut m, Msg::Admin(AdminMsg::Settings(Ok(Box::new(s)))));
    for _ in 0..4 {
        update(&mut m, key(KeyCode::Down));
    }
    update(&mut m, ch(' '));
    let (text, tone) = m.status.clone().expect("a note");
    assert_eq!(tone, Tone::Warning);
    assert!(text.contains("Channels tab"), "{text}");
    // Whole on an 80-column status line (it used to end in "`packtrack admin …").
    assert!(text.chars().count() <= 78, "{text}");
}
