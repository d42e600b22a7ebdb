//! Snapshots of the Channels tab (list and forms) and of the new member form, at 80x24 and
//! 60x20 and in monochrome: secrets as dots or "set", never their text.

use chrono::Duration;

use crate::app::admin::channels::{Busy, Editor};
use crate::app::admin::new_member::{MemberForm, Method};
use crate::app::model::{AdminTab, Model, Screen};
use crate::db::integrations::{ChannelKind, ChannelRow};
use crate::domain::Role;
use crate::term::ColorDepth;
use crate::term::input::{KeyCode, KeyEvent, Mods};
use crate::ui::testing::{assert_mono, assert_snapshot_as, model_as, now, render};

const SECRET: &str = "s3cret-signing-key";

fn row(id: i64, kind: ChannelKind, url: &str) -> ChannelRow {
    ChannelRow {
        id,
        kind,
        url: url.into(),
        url_hidden: false,
        sender: (kind == ChannelKind::Smtp).then(|| "mailroom@north.example".to_string()),
        username: None,
        secret_set: true,
        enabled: true,
        include_pickup_code: false,
        last_error: None,
        last_error_at: None,
        last_success_at: None,
    }
}

fn model() -> Model {
    let mut m = model_as("boss", Role::Admin);
    m.screen = Screen::Admin;
    m.admin.tab = AdminTab::Channels;
    let mut smtp = row(1, ChannelKind::Smtp, "smtps://mail.example.org");
    smtp.last_success_at = Some(now() - Duration::hours(2));
    let mut hook = row(
        4,
        ChannelKind::Webhook,
        "https://hooks.example.org/packtrack",
    );
    hook.enabled = false;
    // A receiver's answer with an escape sequence in it: shown escaped, never acted on.
    hook.last_error = Some("HTTP 500: boom \u{1b}]0;pwned\u{7}".into());
    hook.last_error_at = Some(now() - Duration::minutes(12));
    m.admin.channels.rows = vec![smtp, hook];
    m.admin.channels.loaded = true;
    m.admin.channels.cursor = 2;
    m
}

fn snap(name: &str, text: &str) {
    assert_snapshot_as("admin_channels", name, text);
}

fn typed(e: &mut Editor, text: &str, secret: bool) {
    for c in text.chars() {
        let k = KeyEvent {
            code: KeyCode::Char(c),
            mods: Mods::NONE,
        };
        if secret {
            e.secret.edit(k);
        } else {
            e.url.edit(k);
        }
    }
}

#[test]
fn long_answers_wrap_at_words() {
    assert_eq!(
        super::wrap("refused: 10.0.0.5 is private", 12),
        vec!["refused:", "10.0.0.5 is", "private"]
    );
    assert_eq!(super::wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
}

#[test]
fn channels_list_at_80x24_60x20_and_mono() {
    let m = model();
    let s = render(&m, 80, 24, ColorDepth::Ansi256);
    for t in AdminTab::ALL {
        assert!(s.contains(t.title()), "{} missing:\n{s}", t.title());
    }
    assert!(
        s.contains("not set up") && s.contains("+ add a webhook"),
        "{s}"
    );
    assert!(s.contains("\\u001b]0;pwned"), "not escaped:\n{s}");
    assert!(!s.contains('\u{1b}'), "{s}");
    snap("channels_80x24", &s);
    let narrow = render(&m, 60, 20, ColorDepth::Ansi256);
    // Every tab's name (short ones) still fits the narrow border.
    for t in AdminTab::ALL {
        assert!(
            narrow.contains(t.short_title()),
            "{} missing:\n{narrow}",
            t.short_title()
        );
    }
    snap("channels_60x20", &narrow);
    assert_mono(&m, "channels");
}

#[test]
fn smtp_form_with_a_typed_password_and_a_failed_test() {
    let mut m = model();
    let mut e = Editor::new(ChannelKind::Smtp, m.admin.channels.rows.first());
    e.focus = 3;
    typed(&mut e, SECRET, true);
    e.test_to.set("ada@example.org");
    e.test = Some(Err(
        "cannot connect: refused: mail.example.org (10.0.0.5) is a private network address; \
         notifications go to public addresses only, unless the server's host allows that \
         network (serve --notify-allow-private)"
            .into(),
    ));
    m.admin.channels.editor = Some(e);
    let s = render(&m, 80, 24, ColorDepth::Mono);
    assert!(!s.contains(SECRET), "{s}");
    assert!(s.contains(&"•".repeat(SECRET.len())), "{s}");
    assert!(s.contains("test failed: cannot connect: refused"), "{s}");
    assert!(s.contains("Ctrl-T"), "{s}");
    snap("smtp_form_80x24", &s);
    snap("smtp_form_60x20", &render(&m, 60, 20, ColorDepth::Mono));
    assert_mono(&m, "smtp form");
}

#[test]
fn webhook_form_keeps_the_stored_secret_and_says_so() {
    let mut m = model();
    let mut e = Editor::new(ChannelKind::Webhook, m.admin.channels.rows.get(1));
    e.focus = 2;
    e.busy = Some(Busy::Testing);
    m.admin.channels.editor = Some(e);
    let s = render(&m, 80, 24, ColorDepth::Mono);
    assert!(s.contains("Webhook #4 · off"), "{s}");
    assert!(s.contains("set · type to replace"), "{s}");
    assert!(s.contains("codes left out"), "{s}");
    assert!(s.contains("sending a test message"), "{s}");
    snap("webhook_form_80x24", &s);
    // A new one: nothing set yet.
    let mut e = Editor::new(ChannelKind::Webhook, None);
    typed(&mut e, "https://hooks.example.org/new", false);
    m.admin.channels.editor = Some(e);
    let s = render(&m, 60, 20, ColorDepth::Mono);
    assert!(
        s.contains("New webhook · not saved yet") && s.contains("not set"),
        "{s}"
    );
    snap("webhook_new_60x20", &s);
}

#[test]
fn new_member_form_with_password_and_with_a_key() {
    let mut m = model();
    m.admin.tab = AdminTab::Members;
    let mut f = MemberForm::default();
    f.login.set("dana");
    f.name.set("Dana Scully");
    for c in "correct horse".chars() {
        let k = KeyEvent {
            code: KeyCode::Char(c),
            mods: Mods::NONE,
        };
        f.password.edit(k);
        f.repeat.edit(k);
    }
    f.focus = 5;
    m.admin.new_member = Some(f.clone());
    let s = render(&m, 80, 24, ColorDepth::Mono);
    assert!(
        s.contains("New member of this facility") && s.contains("‹ operator ›"),
        "{s}"
    );
    assert!(!s.contains("correct horse"), "{s}");
    assert!(s.contains("Next: their TOTP"), "{s}");
    snap("new_member_80x24", &s);
    assert_mono(&m, "new member");
    f.method = Method::Key;
    f.focus = 4;
    f.key.set(
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl dana@laptop",
    );
    f.error = Some("the login `dana` is already taken: choose another one".into());
    m.admin.new_member = Some(f);
    let s = render(&m, 60, 20, ColorDepth::Mono);
    assert!(s.contains("‹ public key ›") && s.contains("SHA256:"), "{s}");
    assert!(s.contains("already taken"), "{s}");
    snap("new_member_key_60x20", &s);
}

#[test]
fn help_lists_the_new_keys_whole_at_80x24() {
    let mut m = model();
    m.help = true;
    let s = render(&m, 80, 24, ColorDepth::Mono);
    for text in [
        "new member/webhook, add a key (paste), TOTP",
        "channels: send a test message",
    ] {
        assert!(s.contains(text), "{text} missing:\n{s}");
    }
}
