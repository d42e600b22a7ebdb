//! What a parcel carries besides its number: the four handling flags, the shelf location, the
//! clerk's note, the name it is addressed to when no recipient matched, and the pickup code. Each type checks its own limits when it is built, so a
//! value of the type is known good wherever it travels (form → ops → db) and each limit is
//! checked in one place. The error texts are the ones users already see.

use std::fmt;

use super::limits::{ADDRESSED_TO_MAX, LOCATION_MAX, NOTE_MAX};
use super::text::{self, Lines};

/// Why a parcel field was refused: the sentence shown to the user (it never echoes the text).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FieldError(pub String);

impl From<text::TextError> for FieldError {
    fn from(e: text::TextError) -> Self {
        Self(e.to_string())
    }
}

/// One handling flag, in the order the intake form shows them (F6–F9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flag {
    Perishable,
    Oversized,
    Damaged,
    Signature,
}

impl Flag {
    pub const ALL: [Flag; 4] = [
        Flag::Perishable,
        Flag::Oversized,
        Flag::Damaged,
        Flag::Signature,
    ];

    /// The name as forms and the custody timeline spell it.
    pub fn name(self) -> &'static str {
        match self {
            Flag::Perishable => "perishable",
            Flag::Oversized => "oversized",
            Flag::Damaged => "damaged",
            Flag::Signature => "signature",
        }
    }

    /// A name that keeps all four on one line of a narrow terminal.
    pub fn short(self) -> &'static str {
        match self {
            Flag::Perishable => "perish.",
            Flag::Oversized => "oversize",
            Flag::Damaged => "damaged",
            Flag::Signature => "sign.",
        }
    }

    /// The function key that toggles it on the forms.
    pub fn key(self) -> &'static str {
        match self {
            Flag::Perishable => "F6",
            Flag::Oversized => "F7",
            Flag::Damaged => "F8",
            Flag::Signature => "F9",
        }
    }
}

/// A parcel's handling flags: what the clerk saw on the box.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Flags {
    pub perishable: bool,
    pub oversized: bool,
    pub damaged: bool,
    pub signature_required: bool,
}

impl Flags {
    pub fn get(self, flag: Flag) -> bool {
        match flag {
            Flag::Perishable => self.perishable,
            Flag::Oversized => self.oversized,
            Flag::Damaged => self.damaged,
            Flag::Signature => self.signature_required,
        }
    }

    pub fn toggle(&mut self, flag: Flag) {
        let b = match flag {
            Flag::Perishable => &mut self.perishable,
            Flag::Oversized => &mut self.oversized,
            Flag::Damaged => &mut self.damaged,
            Flag::Signature => &mut self.signature_required,
        };
        *b = !*b;
    }

    /// The flags that are set, in form order.
    pub fn set(self) -> impl Iterator<Item = Flag> {
        Flag::ALL.into_iter().filter(move |f| self.get(*f))
    }

    /// The set flags' names, e.g. "perishable damaged", or "none".
    pub fn label(self) -> String {
        let names: Vec<&str> = self.set().map(Flag::name).collect();
        if names.is_empty() {
            "none".into()
        } else {
            names.join(" ")
        }
    }
}

/// A shelf location: one line, at most [`LOCATION_MAX`] characters, trimmed. May be empty
/// (intake without a location); a move asks for a non-empty one ([`Location::new_nonempty`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Location(String);

impl Location {
    pub fn new(text: &str) -> Result<Self, FieldError> {
        let t = text.trim();
        text::check("location", t, Lines::One)?;
        if t.chars().count() > LOCATION_MAX {
            return Err(FieldError(format!(
                "location is longer than {LOCATION_MAX} characters"
            )));
        }
        Ok(Self(t.to_string()))
    }

    /// Where a parcel is moved to: 1–[`LOCATION_MAX`] characters.
    pub fn new_nonempty(text: &str) -> Result<Self, FieldError> {
        text::check("location", text.trim(), Lines::One)?;
        match Self::new(text) {
            Ok(l) if !l.0.is_empty() => Ok(l),
            _ => Err(Self::not_a_place()),
        }
    }

    /// Why a move's location was refused (empty or too long).
    pub fn not_a_place() -> FieldError {
        FieldError(format!(
            "the new location must be 1-{LOCATION_MAX} characters"
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<&str> for Location {
    type Error = FieldError;
    fn try_from(s: &str) -> Result<Self, FieldError> {
        Self::new(s)
    }
}

/// A clerk's note on a parcel: several lines, at most [`NOTE_MAX`] characters, trimmed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Note(String);

impl Note {
    pub fn new(text: &str) -> Result<Self, FieldError> {
        let t = text.trim();
        text::check("note", t, Lines::Many)?;
        // The untrimmed length, as the form bounds what is typed.
        if text.chars().count() > NOTE_MAX {
            return Err(FieldError(format!(
                "note is longer than {NOTE_MAX} characters"
            )));
        }
        Ok(Self(t.to_string()))
    }

    /// A note read back from the database: it was checked when it was written.
    pub fn stored(text: String) -> Self {
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<&str> for Note {
    type Error = FieldError;
    fn try_from(s: &str) -> Result<Self, FieldError> {
        Self::new(s)
    }
}

/// The name on an unmatched parcel, as the clerk typed it in the recipient search ("kowalsky"),
/// kept so that someone can match it later. Cleaned rather than refused (the clerk already
/// chose "unknown recipient"; a stray character must not lose the parcel): control and bidi
/// characters dropped, whitespace runs made one space, trimmed, cut to [`ADDRESSED_TO_MAX`]
/// characters. PII: never logged (its `Debug` says only its length).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AddressedTo(String);

impl AddressedTo {
    /// The cleaned text, `None` when nothing is left.
    pub fn clean(text: &str) -> Option<Self> {
        let kept: String = text
            .chars()
            .filter_map(|c| {
                if c.is_whitespace() {
                    Some(' ')
                } else if text::forbidden(c).is_some() {
                    None
                } else {
                    Some(c)
                }
            })
            .collect();
        let words: Vec<&str> = kept.split_whitespace().collect();
        let cut: String = words.join(" ").chars().take(ADDRESSED_TO_MAX).collect();
        let cut = cut.trim_end();
        (!cut.is_empty()).then(|| Self(cut.to_string()))
    }

    /// A name read back from the database: it was cleaned when it was written.
    pub fn stored(text: String) -> Self {
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AddressedTo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AddressedTo({} chars)", self.0.chars().count())
    }
}

/// A pickup code: exactly [`PickupCode::DIGITS`] ASCII digits (the database's CHECK says the
/// same). A bearer secret: whoever holds it can collect the parcel, so it is drawn from the
/// OS RNG by the caller ([`PickupCode::from_entropy`]) and never derived from the parcel.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PickupCode(String);

impl PickupCode {
    pub const DIGITS: usize = 6;

    /// A typed or scanned code, trimmed.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        let t = text.trim();
        if Self::is_valid(t) {
            Ok(Self(t.to_string()))
        } else {
            Err(FieldError("a pickup code is 6 digits".into()))
        }
    }

    /// Whether `text` (untrimmed) has a code's shape.
    pub fn is_valid(text: &str) -> bool {
        text.len() == Self::DIGITS && text.bytes().all(|b| b.is_ascii_digit())
    }

    /// A code from four random bytes (uniform enough: 2^32 mod 10^6 skews by < 0.03%).
    pub fn from_entropy(bytes: [u8; 4]) -> Self {
        let n = u32::from_le_bytes(bytes) % 1_000_000;
        Self(format!("{n:06}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// Not the code itself: Debug output reaches logs.
impl fmt::Debug for PickupCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PickupCode(******)")
    }
}

#[cfg(test)]
mod tests;
