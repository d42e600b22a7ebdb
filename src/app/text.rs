//! A single-line text field with a cursor (char-indexed, bounded).

use crate::term::input::{KeyCode, KeyEvent, Mods};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextField {
    chars: Vec<char>,
    cursor: usize,
    max: usize,
}

impl TextField {
    pub fn new(max: usize) -> Self {
        Self {
            chars: Vec::new(),
            cursor: 0,
            max,
        }
    }

    pub fn with_text(max: usize, text: &str) -> Self {
        let mut f = Self::new(max);
        f.set(text);
        f
    }

    pub fn text(&self) -> String {
        self.chars.iter().collect()
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    pub fn set(&mut self, text: &str) {
        self.chars = text
            .chars()
            .filter(|c| !c.is_control())
            .take(self.max)
            .collect();
        self.cursor = self.chars.len();
    }

    pub fn clear(&mut self) {
        self.chars.clear();
        self.cursor = 0;
    }

    pub fn insert_str(&mut self, s: &str) {
        for c in s.chars().filter(|c| !c.is_control()) {
            if self.chars.len() >= self.max {
                break;
            }
            self.chars.insert(self.cursor, c);
            self.cursor += 1;
        }
    }

    /// Applies an editing key; returns whether the text changed.
    pub fn edit(&mut self, key: KeyEvent) -> bool {
        let ctrl = key.mods.contains(Mods::CTRL);
        match key.code {
            KeyCode::Char(c) if !ctrl && !key.mods.contains(Mods::ALT) => {
                if self.chars.len() < self.max {
                    self.chars.insert(self.cursor, c);
                    self.cursor += 1;
                    return true;
                }
                false
            }
            KeyCode::Char('u') if ctrl => {
                let changed = !self.chars.is_empty();
                self.clear();
                changed
            }
            KeyCode::Char('w') if ctrl => {
                let start = self.word_start();
                let changed = start < self.cursor;
                self.chars.drain(start..self.cursor);
                self.cursor = start;
                changed
            }
            KeyCode::Char('a') if ctrl => {
                self.cursor = 0;
                false
            }
            KeyCode::Char('e') if ctrl => {
                self.cursor = self.chars.len();
                false
            }
            KeyCode::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                self.chars.remove(self.cursor);
                true
            }
            KeyCode::Delete if self.cursor < self.chars.len() => {
                self.chars.remove(self.cursor);
                true
            }
            KeyCode::Left => {
                self.cursor = self.cursor.saturating_sub(1);
                false
            }
            KeyCode::Right => {
                self.cursor = (self.cursor + 1).min(self.chars.len());
                false
            }
            KeyCode::Home => {
                self.cursor = 0;
                false
            }
            KeyCode::End => {
                self.cursor = self.chars.len();
                false
            }
            _ => false,
        }
    }

    fn word_start(&self) -> usize {
        let mut i = self.cursor;
        while i > 0 && self.chars[i - 1] == ' ' {
            i -= 1;
        }
        while i > 0 && self.chars[i - 1] != ' ' {
            i -= 1;
        }
        i
    }
}

#[cfg(test)]
mod tests;
