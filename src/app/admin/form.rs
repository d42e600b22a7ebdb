//! What the console's forms (a channel's settings, a new member) share: fields that hold a
//! secret, and moving between fields.

use crate::app::text::TextField;
use crate::term::input::KeyEvent;

/// A text field holding a password, token or signing secret: drawn as dots only, and its
/// `Debug` never shows the text (a model printed in a test failure or a log stays clean).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretField(TextField);

impl SecretField {
    pub fn new(max: usize) -> Self {
        Self(TextField::new(max))
    }

    pub fn edit(&mut self, key: KeyEvent) -> bool {
        self.0.edit(key)
    }

    pub fn insert_str(&mut self, s: &str) {
        self.0.insert_str(s);
    }

    /// The secret itself: only for the effect that takes it to the server.
    pub fn reveal(&self) -> String {
        self.0.text()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// As drawn: one dot per character, the cursor where it is.
    pub fn dots(&self) -> TextField {
        let n = self.0.text().chars().count();
        let mut f = TextField::with_text(n, &"•".repeat(n));
        // Put the cursor where the real one is.
        for _ in self.0.cursor()..n {
            f.edit(KeyEvent {
                code: crate::term::input::KeyCode::Left,
                mods: crate::term::input::Mods::NONE,
            });
        }
        f
    }
}

impl std::fmt::Debug for SecretField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretField({} chars)", self.0.text().chars().count())
    }
}

/// Moves `focus` among `n` fields: forward or back, wrapping.
pub fn step(focus: &mut usize, n: usize, forward: bool) {
    let n = n.max(1);
    *focus = if forward {
        (*focus + 1) % n
    } else {
        (*focus + n - 1) % n
    };
}
