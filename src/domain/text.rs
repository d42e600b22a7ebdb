//! Free text that people type and other people later see (a location, a name, a reason):
//! what it may contain. Control characters are refused at the edge, before they are stored,
//! because a stored escape sequence reaches every terminal that later shows the row (another
//! user's `packages list`, the interface, a CSV opened in a terminal) and can retitle, clear
//! or repaint it. Bidirectional overrides are refused too: they make text display in a
//! different order than it is stored (a unit "A-12" that reads as "21-A").

use std::fmt;

/// Whether a field may hold several lines (a note), or is one line (everything else).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    One,
    /// `\n` allowed (a `\r\n` pasted from elsewhere is not: normalise before).
    Many,
}

/// Why a field's text was refused; names the field and the offending character's code point,
/// never echoes the text itself (it may be the escape sequence we are keeping off screens).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} contains {what} (U+{code:04X}); remove it")]
pub struct TextError {
    pub field: &'static str,
    pub what: &'static str,
    pub code: u32,
}

/// What kind of character must not be stored, if `c` is one. C0 controls (`\n` aside, which
/// the caller allows per field), DEL, C1 controls, and the Unicode bidi embedding, override
/// and isolate characters (the marks LRM/RLM stay: right-to-left names need them).
pub fn forbidden(c: char) -> Option<&'static str> {
    match c {
        '\u{0}'..='\u{1f}' | '\u{7f}' | '\u{80}'..='\u{9f}' => Some("a control character"),
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => Some("a bidirectional override"),
        // Line and paragraph separators break a line as `\n` does, where `\n` is refused.
        '\u{2028}' | '\u{2029}' => Some("a line separator"),
        _ => None,
    }
}

/// Checks one free-text field: `Ok` when it holds no forbidden character (a `\n` is allowed
/// only with [`Lines::Many`]).
pub fn check(field: &'static str, value: &str, lines: Lines) -> Result<(), TextError> {
    for c in value.chars() {
        if c == '\n' && lines == Lines::Many {
            continue;
        }
        if let Some(what) = forbidden(c) {
            return Err(TextError {
                field,
                what,
                code: u32::from(c),
            });
        }
    }
    Ok(())
}

/// Writes `s` with every forbidden character not in `keep` as `\uXXXX`, so what a row holds
/// is shown, visibly, instead of acting on the terminal. The JSON spelling on purpose: JSON
/// output stays valid JSON (serde escapes C0 itself but leaves DEL, C1 and bidi raw, and
/// those occur only inside strings) and decodes to the stored text.
pub fn escape_into(out: &mut impl fmt::Write, s: &str, keep: &[char]) -> fmt::Result {
    let mut rest = s;
    while let Some(at) = rest.find(|c: char| forbidden(c).is_some() && !keep.contains(&c)) {
        out.write_str(&rest[..at])?;
        let c = rest[at..].chars().next().unwrap_or_default();
        write!(out, "\\u{:04x}", u32::from(c))?;
        rest = &rest[at + c.len_utf8()..];
    }
    out.write_str(rest)
}

/// [`escape_into`] into a new string.
pub fn escape(s: &str, keep: &[char]) -> String {
    let mut out = String::with_capacity(s.len());
    // Writing into a String cannot fail.
    let _ = escape_into(&mut out, s, keep);
    out
}

#[cfg(test)]
mod tests;
