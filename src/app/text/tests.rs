//! The text field: editing keys, limits, pastes.

use super::*;

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent {
        code,
        mods: Mods::NONE,
    }
}

#[test]
fn editing() {
    let mut f = TextField::new(8);
    for c in "abc".chars() {
        assert!(f.edit(key(KeyCode::Char(c))));
    }
    f.edit(key(KeyCode::Left));
    f.edit(key(KeyCode::Backspace));
    assert_eq!(f.text(), "ac");
    assert_eq!(f.cursor(), 1);
    f.insert_str("xxxxxxxxxx");
    assert_eq!(f.text().chars().count(), 8, "bounded");
    f.edit(KeyEvent {
        code: KeyCode::Char('u'),
        mods: Mods::CTRL,
    });
    assert!(f.is_empty());
}

#[test]
fn ctrl_w_deletes_a_word() {
    let mut f = TextField::with_text(40, "ada love");
    f.edit(KeyEvent {
        code: KeyCode::Char('w'),
        mods: Mods::CTRL,
    });
    assert_eq!(f.text(), "ada ");
}
