//! Stateful parser: raw bytes from a terminal (an SSH PTY channel today) -> key and paste events.
//!
//! The parser is pure (no IO, no clock). Bytes may arrive split anywhere, so
//! every incomplete sequence is kept in a small bounded buffer and re-decoded
//! as bytes arrive; feeding byte-by-byte gives exactly the same events as
//! feeding everything at once. The only time-dependent decision, "was that a
//! lone Esc or the start of a sequence?", is left to the session: when
//! [`InputParser::pending_escape`] is true and no byte followed within ~30 ms
//! it calls [`InputParser::flush_timeout`]. Re-arm the timer on every read:
//! flushing after a later byte arrived would split a fresh sequence.
//!
//! Bracketed paste ends at `ESC [201~`; until then keys are paste content. A
//! paste whose end marker never comes (a client that sent `ESC [200~` and then
//! typing) would swallow every later key, Ctrl-C and `q` included, so the session
//! ends it like the Esc: when [`InputParser::pending_paste`] is true and no byte
//! came for [`PASTE_IDLE`], it calls [`InputParser::flush_paste`]. (Not a timeout
//! since the start: a large paste may arrive in slow packets, but a terminal
//! sends it without pauses of seconds.)
//!
//! Here: the stateful [`InputParser`] (buffering, paste, the Esc timeout); `keys` (the event
//! types), `decode` (one sequence, pure). Tests: `tests` (cases, differential and byte-split)
//! and `props` (properties).

use std::ops::{BitOr, BitOrAssign};

mod decode;
mod keys;
use decode::*;
pub use keys::*;

/// An escape sequence this long is not a real key: abandon it so an endless
/// sequence cannot grow memory.
pub const MAX_SEQ: usize = 64;
/// Bracketed paste is capped; the excess is dropped, not buffered.
pub const PASTE_CAP: usize = 64 * 1024;

/// An unfinished bracketed paste ends after this long without input.
pub const PASTE_IDLE: std::time::Duration = std::time::Duration::from_secs(2);

const ESC: u8 = 0x1b;
const PASTE_END: &[u8] = b"\x1b[201~";

/// See the module docs. `Default` and `new()` give an idle parser.
#[derive(Debug, Default)]
pub struct InputParser {
    /// Undecided bytes: an escape sequence or UTF-8 char still in flight.
    /// Never longer than [`MAX_SEQ`].
    pending: Vec<u8>,
    /// The last byte produced Enter from CR, so an immediately following LF
    /// belongs to the same CRLF and is swallowed (barcode scanners send CRLF).
    after_cr: bool,
    /// An overlong sequence was abandoned; drop its remaining parameter bytes
    /// and its final byte instead of typing them as text.
    skipping: bool,
    /// Inside bracketed paste.
    paste: Option<Paste>,
}

#[derive(Debug, Default)]
struct Paste {
    buf: Vec<u8>,
    /// How many bytes of `PASTE_END` have matched so far.
    matched: usize,
    truncated: bool,
}

impl Paste {
    fn push(&mut self, b: u8) {
        if self.buf.len() < PASTE_CAP {
            self.buf.push(b);
        } else {
            self.truncated = true;
        }
    }

    fn finish(mut self) -> String {
        if self.truncated {
            trim_partial_utf8(&mut self.buf);
        }
        let text = String::from_utf8_lossy(&self.buf);
        // Terminals send pasted newlines as CR; the app wants '\n'.
        text.replace("\r\n", "\n").replace('\r', "\n")
    }
}

impl InputParser {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Decode `bytes`, appending complete events to `out`. Incomplete
    /// sequences are kept for the next call.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<Event>) {
        for &b in bytes {
            self.push_byte(b, out);
        }
    }

    /// True when the parser holds an Esc that may be a lone key press or the
    /// start of a sequence; the session should arm its ~30 ms timer.
    #[must_use]
    pub fn pending_escape(&self) -> bool {
        self.paste.is_none() && self.pending.first() == Some(&ESC)
    }

    /// True inside a bracketed paste whose end marker has not come yet; the
    /// session should arm its [`PASTE_IDLE`] timer.
    #[must_use]
    pub fn pending_paste(&self) -> bool {
        self.paste.is_some()
    }

    /// No byte came for [`PASTE_IDLE`] inside a paste: the end marker is not
    /// coming. What was pasted so far is the paste (a partial end marker is
    /// dropped); the bytes after it are keys again.
    pub fn flush_paste(&mut self, out: &mut Vec<Event>) {
        if let Some(mut paste) = self.paste.take() {
            paste.matched = 0;
            let text = paste.finish();
            if !text.is_empty() {
                out.push(Event::Paste(text));
            }
        }
    }

    /// No byte followed the pending Esc in time: resolve it as keys.
    /// A partial UTF-8 char after it stays pending (it may be a slow packet).
    pub fn flush_timeout(&mut self, out: &mut Vec<Event>) {
        while self.pending_escape() {
            self.after_cr = false;
            match self.pending.get(1).copied() {
                None => {
                    self.pending.clear();
                    emit_key(out, KeyCode::Esc, Mods::NONE);
                }
                // Two Escs in one packet are two presses (fast typing or a
                // laggy link), not Alt-Esc which no screen uses.
                Some(ESC) => {
                    self.pending.remove(0);
                    emit_key(out, KeyCode::Esc, Mods::NONE);
                }
                // Alt-[ and Alt-O look like CSI/SS3 starts; the timeout is
                // the only thing that tells them apart.
                Some(b @ (b'[' | b'O')) if self.pending.len() == 2 => {
                    self.pending.clear();
                    emit_key(out, KeyCode::Char(char::from(b)), Mods::ALT);
                }
                Some(b) if b >= 0x80 => {
                    self.pending.remove(0);
                    emit_key(out, KeyCode::Esc, Mods::NONE);
                }
                // A sequence cut short: nothing sensible to report.
                Some(_) => self.pending.clear(),
            }
        }
    }

    fn push_byte(&mut self, b: u8, out: &mut Vec<Event>) {
        if let Some(paste) = &mut self.paste {
            if b == PASTE_END[paste.matched] {
                paste.matched += 1;
                if paste.matched == PASTE_END.len() {
                    let text = self.paste.take().map(Paste::finish).unwrap_or_default();
                    if !text.is_empty() {
                        out.push(Event::Paste(text));
                    }
                }
                return;
            }
            // A false start of the end marker is paste content. ESC occurs
            // only at the marker's start, so no other overlap is possible.
            for &m in &PASTE_END[..std::mem::take(&mut paste.matched)] {
                paste.push(m);
            }
            if b == ESC {
                paste.matched = 1;
            } else {
                paste.push(b);
            }
            return;
        }
        if self.skipping {
            if (0x20..=0x3f).contains(&b) {
                return;
            }
            self.skipping = false;
            if (0x40..=0x7e).contains(&b) {
                return;
            }
        }
        self.pending.push(b);
        self.drain(out);
    }

    fn drain(&mut self, out: &mut Vec<Event>) {
        while !self.pending.is_empty() {
            match decode(&self.pending) {
                Decoded::Incomplete => {
                    if self.pending.len() >= MAX_SEQ {
                        self.pending.clear();
                        self.skipping = true;
                    }
                    return;
                }
                Decoded::Done { consumed, action } => {
                    self.pending.drain(..consumed);
                    self.apply(action, out);
                    if self.paste.is_some() {
                        // Bytes already buffered after the start marker are
                        // paste content (defensive: decode stops at `~`).
                        for b in std::mem::take(&mut self.pending) {
                            self.push_byte(b, out);
                        }
                        return;
                    }
                }
            }
        }
    }

    fn apply(&mut self, action: Action, out: &mut Vec<Event>) {
        let after_cr = std::mem::take(&mut self.after_cr);
        match action {
            Action::Drop => {}
            Action::Key(k) => out.push(Event::Key(k)),
            Action::Cr => {
                self.after_cr = true;
                emit_key(out, KeyCode::Enter, Mods::NONE);
            }
            Action::Lf if after_cr => {}
            Action::Lf => emit_key(out, KeyCode::Enter, Mods::NONE),
            Action::PasteStart => self.paste = Some(Paste::default()),
        }
    }

    /// Bytes held internally (pending sequence + paste buffer); for tests.
    #[cfg(test)]
    fn buffered_len(&self) -> usize {
        self.pending.len() + self.paste.as_ref().map_or(0, |p| p.buf.len())
    }
}

fn emit_key(out: &mut Vec<Event>, code: KeyCode, mods: Mods) {
    out.push(Event::Key(KeyEvent::new(code, mods)));
}

#[cfg(test)]
mod props;

#[cfg(test)]
mod tests;
