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
//! Bracketed paste ends only at `ESC [201~` (no timeout: a large paste may
//! arrive in slow packets); until then keys are paste content.

use std::ops::{BitOr, BitOrAssign};

/// An escape sequence this long is not a real key: abandon it so an endless
/// sequence cannot grow memory.
pub const MAX_SEQ: usize = 64;
/// Bracketed paste is capped; the excess is dropped, not buffered.
pub const PASTE_CAP: usize = 64 * 1024;

const ESC: u8 = 0x1b;
const PASTE_END: &[u8] = b"\x1b[201~";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Key(KeyEvent),
    Paste(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyEvent {
    pub code: KeyCode,
    pub mods: Mods,
}

impl KeyEvent {
    #[must_use]
    pub const fn new(code: KeyCode, mods: Mods) -> Self {
        Self { code, mods }
    }
}

impl From<KeyCode> for KeyEvent {
    fn from(code: KeyCode) -> Self {
        Self::new(code, Mods::NONE)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyCode {
    /// Shift is folded into the char: uppercase arrives as `Char('A')`.
    Char(char),
    Enter,
    Esc,
    Backspace,
    Tab,
    /// Shift-Tab; the shift is implied, so `SHIFT` is not set.
    BackTab,
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    PageUp,
    PageDown,
    Insert,
    Delete,
    F(u8),
}

/// Modifier set; a tiny bitflags stand-in to stay dependency-free.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Mods(u8);

impl Mods {
    pub const NONE: Mods = Mods(0);
    pub const SHIFT: Mods = Mods(1);
    pub const ALT: Mods = Mods(2);
    pub const CTRL: Mods = Mods(4);

    #[must_use]
    pub const fn contains(self, other: Mods) -> bool {
        self.0 & other.0 == other.0
    }

    #[must_use]
    pub const fn union(self, other: Mods) -> Mods {
        Mods(self.0 | other.0)
    }

    #[must_use]
    pub const fn difference(self, other: Mods) -> Mods {
        Mods(self.0 & !other.0)
    }

    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    #[must_use]
    pub const fn bits(self) -> u8 {
        self.0
    }
}

impl BitOr for Mods {
    type Output = Mods;
    fn bitor(self, rhs: Mods) -> Mods {
        self.union(rhs)
    }
}

impl BitOrAssign for Mods {
    fn bitor_assign(&mut self, rhs: Mods) {
        *self = self.union(rhs);
    }
}

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

/// What one decoded sequence means; CR/LF stay distinct so CRLF can merge.
#[derive(Clone, Copy)]
enum Action {
    Drop,
    Key(KeyEvent),
    Cr,
    Lf,
    PasteStart,
}

enum Decoded {
    Incomplete,
    Done { consumed: usize, action: Action },
}

fn done(consumed: usize, action: Action) -> Decoded {
    Decoded::Done { consumed, action }
}

fn key(consumed: usize, code: KeyCode, mods: Mods) -> Decoded {
    done(consumed, Action::Key(KeyEvent::new(code, mods)))
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

/// Decode the start of `seq` (non-empty).
fn decode(seq: &[u8]) -> Decoded {
    if seq[0] == ESC {
        decode_esc(seq)
    } else {
        decode_plain(seq)
    }
}

/// A single key that does not start with ESC: control byte, ASCII, or UTF-8.
fn decode_plain(seq: &[u8]) -> Decoded {
    let b = seq[0];
    match b {
        0x00 => key(1, KeyCode::Char(' '), Mods::CTRL),
        b'\r' => done(1, Action::Cr),
        b'\n' => done(1, Action::Lf),
        b'\t' => key(1, KeyCode::Tab, Mods::NONE),
        0x08 | 0x7f => key(1, KeyCode::Backspace, Mods::NONE),
        0x01..=0x1a => key(1, KeyCode::Char(char::from(b'a' + b - 1)), Mods::CTRL),
        // Ctrl-\ Ctrl-] Ctrl-^ Ctrl-_
        0x1c..=0x1f => key(1, KeyCode::Char(char::from(b + 0x40)), Mods::CTRL),
        0x20..=0x7e => key(1, KeyCode::Char(char::from(b)), Mods::NONE),
        _ => decode_utf8(seq),
    }
}

/// Strict UTF-8: overlongs, surrogates and stray bytes become U+FFFD. On a
/// bad continuation only the broken prefix is replaced and the offending byte
/// is decoded again, so one lost byte does not eat the next key.
fn decode_utf8(seq: &[u8]) -> Decoded {
    let replacement = |n| key(n, KeyCode::Char(char::REPLACEMENT_CHARACTER), Mods::NONE);
    let lead = seq[0];
    let need = utf8_len(lead);
    if need == 1 {
        return replacement(1);
    }
    for i in 1..need {
        let Some(&b) = seq.get(i) else {
            return Decoded::Incomplete;
        };
        let ok = match (i, lead) {
            (1, 0xe0) => (0xa0..=0xbf).contains(&b),
            (1, 0xed) => (0x80..=0x9f).contains(&b),
            (1, 0xf0) => (0x90..=0xbf).contains(&b),
            (1, 0xf4) => (0x80..=0x8f).contains(&b),
            _ => (0x80..=0xbf).contains(&b),
        };
        if !ok {
            return replacement(i);
        }
    }
    match std::str::from_utf8(&seq[..need])
        .ok()
        .and_then(|s| s.chars().next())
    {
        Some(c) => key(need, KeyCode::Char(c), Mods::NONE),
        None => replacement(need),
    }
}

/// Length of the UTF-8 char a lead byte announces; 1 for ASCII and for bytes
/// that can never start a char.
fn utf8_len(lead: u8) -> usize {
    match lead {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => 1,
    }
}

/// Drop a char cut in half by the paste cap so it does not become U+FFFD.
fn trim_partial_utf8(buf: &mut Vec<u8>) {
    let len = buf.len();
    for back in 1..=len.min(4) {
        let b = buf[len - back];
        if b & 0xc0 != 0x80 {
            if utf8_len(b) > back {
                buf.truncate(len - back);
            }
            return;
        }
    }
}

fn decode_esc(seq: &[u8]) -> Decoded {
    let Some(&b1) = seq.get(1) else {
        return Decoded::Incomplete;
    };
    match b1 {
        b'[' => decode_csi(seq, 2, Mods::NONE),
        b'O' => decode_ss3(seq, 2, Mods::NONE),
        // ESC ESC [ ... is Alt+key from meta-sends-escape terminals (rxvt,
        // PuTTY); ESC ESC followed by anything else is a plain Esc press.
        ESC => match seq.get(2) {
            None => Decoded::Incomplete,
            Some(b'[') => decode_csi(seq, 3, Mods::ALT),
            Some(b'O') => decode_ss3(seq, 3, Mods::ALT),
            Some(_) => key(1, KeyCode::Esc, Mods::NONE),
        },
        // Alt+key: ESC then the key's own encoding.
        _ => match decode_plain(&seq[1..]) {
            Decoded::Incomplete => Decoded::Incomplete,
            Decoded::Done { consumed, action } => {
                let k = match action {
                    Action::Key(k) => k,
                    // Cr / Lf; decode_plain yields nothing else.
                    _ => KeyEvent::new(KeyCode::Enter, Mods::NONE),
                };
                key(consumed + 1, k.code, k.mods | Mods::ALT)
            }
        },
    }
}

/// A byte that cannot continue the sequence at `i`. Controls, DEL and
/// non-ASCII are real input (e.g. Enter typed after a cut-off sequence), so
/// they are decoded again; printable bytes are taken as the bogus final byte.
fn reject(i: usize, b: u8) -> Decoded {
    if (0x20..=0x7e).contains(&b) {
        done(i + 1, Action::Drop)
    } else {
        done(i, Action::Drop)
    }
}

/// CSI: `ESC [` params (0x30-0x3F), intermediates (0x20-0x2F), final byte.
fn decode_csi(seq: &[u8], start: usize, extra: Mods) -> Decoded {
    // Linux console / PuTTY: ESC [ [ A..E = F1..F5.
    if seq.get(start) == Some(&b'[') {
        return match seq.get(start + 1) {
            None => Decoded::Incomplete,
            Some(&b @ b'A'..=b'E') => key(start + 2, KeyCode::F(b - b'A' + 1), extra),
            Some(&b) => reject(start + 1, b),
        };
    }
    let mut i = start;
    loop {
        let Some(&b) = seq.get(i) else {
            return Decoded::Incomplete;
        };
        match b {
            // rxvt ends Shift-modified keys with '$' (ESC [ 7 $); terminals
            // only send '$' as an intermediate in replies we never request.
            b'$' | 0x40..=0x7e => break,
            0x20..=0x3f => i += 1,
            _ => return reject(i, b),
        }
    }
    done(i + 1, csi_action(&seq[start..i], seq[i], extra))
}

fn csi_action(params: &[u8], fin: u8, extra: Mods) -> Action {
    // Private markers (mouse, device replies) and intermediates: not keys.
    if matches!(params.first(), Some(b'<' | b'=' | b'>' | b'?'))
        || params.iter().any(|b| (0x20..=0x2f).contains(b))
    {
        return Action::Drop;
    }
    let mut mods = xterm_mods(param(params, 1)) | extra;
    let code = match fin {
        b'A' => KeyCode::Up,
        b'B' => KeyCode::Down,
        b'C' => KeyCode::Right,
        b'D' => KeyCode::Left,
        b'H' => KeyCode::Home,
        b'F' => KeyCode::End,
        b'P'..=b'S' => KeyCode::F(fin - b'P' + 1),
        b'Z' => {
            mods = mods.difference(Mods::SHIFT);
            KeyCode::BackTab
        }
        // rxvt Shift-arrows.
        b'a'..=b'd' => {
            mods |= Mods::SHIFT;
            arrow(fin - b'a')
        }
        b'~' | b'^' | b'@' | b'$' => {
            let n = param(params, 0);
            match (fin, n) {
                (b'~', Some(200)) => return Action::PasteStart,
                // Also covers a stray end marker and focus events elsewhere.
                (b'~', Some(201)) => return Action::Drop,
                _ => {}
            }
            // rxvt puts the modifier in the final byte.
            mods |= match fin {
                b'^' => Mods::CTRL,
                b'@' => Mods::CTRL | Mods::SHIFT,
                b'$' => Mods::SHIFT,
                _ => Mods::NONE,
            };
            match n.and_then(tilde_key) {
                Some(code) => code,
                None => return Action::Drop,
            }
        }
        // Focus in/out (ESC [ I / ESC [ O) and everything unknown.
        _ => return Action::Drop,
    };
    Action::Key(KeyEvent::new(code, mods))
}

/// SS3: `ESC O` [modifier digits] final byte.
fn decode_ss3(seq: &[u8], start: usize, extra: Mods) -> Decoded {
    let mut i = start;
    loop {
        let Some(&b) = seq.get(i) else {
            return Decoded::Incomplete;
        };
        match b {
            b'0'..=b'9' | b';' => i += 1,
            0x40..=0x7e => break,
            _ => return reject(i, b),
        }
    }
    let params = &seq[start..i];
    let fin = seq[i];
    // Old xterm puts the modifier alone (ESC O 5 P); newer as 1;5.
    let mut mods = xterm_mods(params.rsplit(|&b| b == b';').next().and_then(number)) | extra;
    let code = match fin {
        b'A'..=b'D' => arrow(fin - b'A'),
        b'H' => KeyCode::Home,
        b'F' => KeyCode::End,
        b'P'..=b'S' => KeyCode::F(fin - b'P' + 1),
        b'M' => KeyCode::Enter,
        // rxvt Ctrl-arrows.
        b'a'..=b'd' => {
            mods |= Mods::CTRL;
            arrow(fin - b'a')
        }
        // Application keypad.
        b'j' => KeyCode::Char('*'),
        b'k' => KeyCode::Char('+'),
        b'l' => KeyCode::Char(','),
        b'm' => KeyCode::Char('-'),
        b'n' => KeyCode::Char('.'),
        b'o' => KeyCode::Char('/'),
        b'p'..=b'y' => KeyCode::Char(char::from(b'0' + fin - b'p')),
        b'X' => KeyCode::Char('='),
        _ => return done(i + 1, Action::Drop),
    };
    key(i + 1, code, mods)
}

fn arrow(i: u8) -> KeyCode {
    match i {
        0 => KeyCode::Up,
        1 => KeyCode::Down,
        2 => KeyCode::Right,
        _ => KeyCode::Left,
    }
}

/// `ESC [ n ~` keys across xterm, `PuTTY`, Linux console and rxvt.
fn tilde_key(n: u32) -> Option<KeyCode> {
    let code = match n {
        1 | 7 => KeyCode::Home,
        2 => KeyCode::Insert,
        3 => KeyCode::Delete,
        4 | 8 => KeyCode::End,
        5 => KeyCode::PageUp,
        6 => KeyCode::PageDown,
        // The F-key numbers skip 16, 22, 27 and 30 (VT220 heritage).
        11..=15 => KeyCode::F(fkey(n - 10)),
        17..=21 => KeyCode::F(fkey(n - 11)),
        23..=26 => KeyCode::F(fkey(n - 12)),
        28 | 29 => KeyCode::F(fkey(n - 13)),
        31..=34 => KeyCode::F(fkey(n - 14)),
        _ => return None,
    };
    Some(code)
}

fn fkey(n: u32) -> u8 {
    u8::try_from(n).unwrap_or(u8::MAX)
}

/// The `idx`th `;`-separated parameter; sub-parameters after `:` ignored.
fn param(params: &[u8], idx: usize) -> Option<u32> {
    let field = params.split(|&b| b == b';').nth(idx)?;
    number(field.split(|&b| b == b':').next().unwrap_or_default())
}

fn number(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(digits.iter().fold(0u32, |acc, &d| {
        acc.saturating_mul(10).saturating_add(u32::from(d - b'0'))
    }))
}

/// xterm modifier parameter: 1 + bitmask (1 shift, 2 alt, 4 ctrl, 8 meta).
/// Meta counts as Alt; higher bits (kitty's super, caps/num lock) are ignored.
fn xterm_mods(p: Option<u32>) -> Mods {
    let Some(bits) = p.and_then(|m| m.checked_sub(1)) else {
        return Mods::NONE;
    };
    let mut mods = Mods::NONE;
    if bits & 1 != 0 {
        mods |= Mods::SHIFT;
    }
    if bits & (2 | 8) != 0 {
        mods |= Mods::ALT;
    }
    if bits & 4 != 0 {
        mods |= Mods::CTRL;
    }
    mods
}

#[cfg(test)]
#[path = "input_props.rs"]
mod props;

#[cfg(test)]
mod tests {
    use super::*;

    const S: Mods = Mods::SHIFT;
    const A: Mods = Mods::ALT;
    const C: Mods = Mods::CTRL;
    const N: Mods = Mods::NONE;

    fn k(code: KeyCode, mods: Mods) -> Event {
        Event::Key(KeyEvent::new(code, mods))
    }

    fn ch(c: char) -> Event {
        k(KeyCode::Char(c), N)
    }

    fn feed_chunks(chunks: &[&[u8]], flush: bool) -> Vec<Event> {
        let mut p = InputParser::new();
        let mut out = Vec::new();
        for c in chunks {
            p.feed(c, &mut out);
        }
        if flush {
            p.flush_timeout(&mut out);
        }
        out
    }

    /// Feed at once, byte by byte, and split at every boundary; then flush
    /// (as the session would after the timeout). All must give `expected`.
    #[track_caller]
    fn check(bytes: &[u8], expected: &[Event]) {
        assert_eq!(feed_chunks(&[bytes], true), expected, "all at once");
        let singles: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(feed_chunks(&singles, true), expected, "byte by byte");
        for i in 1..bytes.len() {
            let (a, b) = bytes.split_at(i);
            assert_eq!(feed_chunks(&[a, b], true), expected, "split at {i}");
        }
    }

    #[test]
    fn printable_ascii() {
        check(b"ab1 ~", &[ch('a'), ch('b'), ch('1'), ch(' '), ch('~')]);
    }

    #[test]
    fn uppercase_has_no_shift() {
        check(b"Az", &[ch('A'), ch('z')]);
    }

    #[test]
    fn utf8_multibyte_split() {
        check("é€😀".as_bytes(), &[ch('é'), ch('€'), ch('😀')]);
    }

    #[test]
    fn utf8_char_waits_for_continuation_across_feeds() {
        let mut p = InputParser::new();
        let mut out = Vec::new();
        p.feed(&[0xe2, 0x82], &mut out);
        assert!(out.is_empty());
        assert!(!p.pending_escape(), "partial UTF-8 needs no Esc timer");
        p.flush_timeout(&mut out);
        assert!(out.is_empty(), "flush must not break a slow UTF-8 char");
        p.feed(&[0xac], &mut out);
        assert_eq!(out, [ch('€')]);
    }

    #[test]
    fn invalid_utf8_becomes_replacement() {
        let r = || ch('\u{fffd}');
        check(&[0x80], &[r()]); // stray continuation
        check(&[0xff, b'a'], &[r(), ch('a')]);
        check(&[0xc0, 0xaf], &[r(), r()]); // overlong lead
        check(&[0xe0, 0x80, 0x80], &[r(), r(), r()]); // overlong
        check(&[0xed, 0xa0, 0x80], &[r(), r(), r()]); // surrogate
        check(&[0xf5, 0x80], &[r(), r()]); // beyond U+10FFFF
        // Broken char followed by a real key: the key survives.
        check(&[0xc3, b'A'], &[r(), ch('A')]);
        check(&[0xe2, 0x82, b'\r'], &[r(), k(KeyCode::Enter, N)]);
    }

    #[test]
    fn enter_variants() {
        let e = || k(KeyCode::Enter, N);
        check(b"\r", &[e()]);
        check(b"\n", &[e()]);
        check(b"\r\n", &[e()]);
        check(b"\r\r", &[e(), e()]);
        check(b"\n\n", &[e(), e()]);
        check(b"\n\r", &[e(), e()]);
        check(b"\r\n\r\n", &[e(), e()]);
        check(b"\r\n\n", &[e(), e()]);
        check(b"\ra\n", &[e(), ch('a'), e()]);
    }

    #[test]
    fn barcode_scanner_crlf_gives_one_enter() {
        let mut expected: Vec<Event> = "1Z999AA10123456784".chars().map(ch).collect();
        expected.push(k(KeyCode::Enter, N));
        check(b"1Z999AA10123456784\r\n", &expected);
        check(b"1Z999AA10123456784\r", &expected);
        // Two scans back to back.
        let mut two = expected.clone();
        two.extend(expected);
        check(b"1Z999AA10123456784\r\n1Z999AA10123456784\r\n", &two);
    }

    #[test]
    fn crlf_across_separate_reads_is_one_enter() {
        let out = feed_chunks(&[b"42\r", b"\n7"], false);
        assert_eq!(out, [ch('4'), ch('2'), k(KeyCode::Enter, N), ch('7')]);
    }

    #[test]
    fn backspace_both_bytes() {
        let bs = || k(KeyCode::Backspace, N);
        check(&[0x7f, 0x08], &[bs(), bs()]);
    }

    #[test]
    fn tab_and_backtab() {
        check(b"\t", &[k(KeyCode::Tab, N)]);
        check(b"\x1b[Z", &[k(KeyCode::BackTab, N)]);
        check(b"\x1b[1;2Z", &[k(KeyCode::BackTab, N)]);
        check(b"\x1b[1;6Z", &[k(KeyCode::BackTab, C)]);
    }

    #[test]
    fn ctrl_letters() {
        for b in 1u8..=26 {
            if matches!(b, 0x08 | 0x09 | 0x0a | 0x0d) {
                continue;
            }
            let c = char::from(b'a' + b - 1);
            check(&[b], &[k(KeyCode::Char(c), C)]);
        }
        check(&[0x03], &[k(KeyCode::Char('c'), C)]);
        check(&[0x1a], &[k(KeyCode::Char('z'), C)]);
    }

    #[test]
    fn ctrl_punctuation() {
        check(
            &[0x1c, 0x1d, 0x1e, 0x1f],
            &[
                k(KeyCode::Char('\\'), C),
                k(KeyCode::Char(']'), C),
                k(KeyCode::Char('^'), C),
                k(KeyCode::Char('_'), C),
            ],
        );
    }

    #[test]
    fn ctrl_space_is_nul() {
        check(&[0x00], &[k(KeyCode::Char(' '), C)]);
    }

    #[test]
    fn arrows_csi_and_ss3() {
        let arrows = [
            k(KeyCode::Up, N),
            k(KeyCode::Down, N),
            k(KeyCode::Right, N),
            k(KeyCode::Left, N),
        ];
        check(b"\x1b[A\x1b[B\x1b[C\x1b[D", &arrows);
        check(b"\x1bOA\x1bOB\x1bOC\x1bOD", &arrows);
    }

    #[test]
    fn home_end_all_variants() {
        let he = [k(KeyCode::Home, N), k(KeyCode::End, N)];
        check(b"\x1b[H\x1b[F", &he); // xterm, Windows Terminal
        check(b"\x1bOH\x1bOF", &he); // xterm application mode
        check(b"\x1b[1~\x1b[4~", &he); // PuTTY, linux console
        check(b"\x1b[7~\x1b[8~", &he); // rxvt
    }

    #[test]
    fn insert_delete_paging() {
        check(
            b"\x1b[2~\x1b[3~\x1b[5~\x1b[6~",
            &[
                k(KeyCode::Insert, N),
                k(KeyCode::Delete, N),
                k(KeyCode::PageUp, N),
                k(KeyCode::PageDown, N),
            ],
        );
    }

    fn fkeys(range: std::ops::RangeInclusive<u8>) -> Vec<Event> {
        range.map(|n| k(KeyCode::F(n), N)).collect()
    }

    #[test]
    fn function_keys_xterm() {
        check(b"\x1bOP\x1bOQ\x1bOR\x1bOS", &fkeys(1..=4));
        check(
            b"\x1b[15~\x1b[17~\x1b[18~\x1b[19~\x1b[20~\x1b[21~\x1b[23~\x1b[24~",
            &fkeys(5..=12),
        );
    }

    #[test]
    fn function_keys_putty_linux_rxvt() {
        check(b"\x1b[[A\x1b[[B\x1b[[C\x1b[[D\x1b[[E", &fkeys(1..=5));
        check(b"\x1b[11~\x1b[12~\x1b[13~\x1b[14~", &fkeys(1..=4));
        // rxvt Shift-F3.. arrive as F13..
        check(
            b"\x1b[25~\x1b[34~",
            &[k(KeyCode::F(13), N), k(KeyCode::F(20), N)],
        );
    }

    #[test]
    fn function_keys_with_modifiers() {
        check(b"\x1b[1;2P", &[k(KeyCode::F(1), S)]);
        check(b"\x1bO5Q", &[k(KeyCode::F(2), C)]);
        check(b"\x1b[15;5~", &[k(KeyCode::F(5), C)]);
        check(b"\x1b[24;3~", &[k(KeyCode::F(12), A)]);
    }

    #[test]
    fn xterm_modifier_params() {
        check(b"\x1b[1;5C", &[k(KeyCode::Right, C)]);
        check(b"\x1b[1;2A", &[k(KeyCode::Up, S)]);
        check(b"\x1b[1;3D", &[k(KeyCode::Left, A)]);
        check(b"\x1b[1;8B", &[k(KeyCode::Down, S | A | C)]);
        check(b"\x1b[1;9B", &[k(KeyCode::Down, A)]); // meta counts as Alt
        check(b"\x1b[1;5H", &[k(KeyCode::Home, C)]);
        check(b"\x1b[3;5~", &[k(KeyCode::Delete, C)]);
        check(b"\x1b[5;2~", &[k(KeyCode::PageUp, S)]);
        check(b"\x1b[1;1C", &[k(KeyCode::Right, N)]);
        check(b"\x1b[1;5:1C", &[k(KeyCode::Right, C)]); // kitty sub-param
    }

    #[test]
    fn rxvt_modifier_forms() {
        check(b"\x1b[a", &[k(KeyCode::Up, S)]);
        check(b"\x1b[d", &[k(KeyCode::Left, S)]);
        check(b"\x1bOc", &[k(KeyCode::Right, C)]);
        check(b"\x1b[7^", &[k(KeyCode::Home, C)]);
        check(b"\x1b[7$", &[k(KeyCode::Home, S)]);
        check(b"\x1b[8@", &[k(KeyCode::End, C | S)]);
        check(b"\x1b[11^", &[k(KeyCode::F(1), C)]);
        // Meta-sends-escape: ESC before a whole sequence is Alt.
        check(b"\x1b\x1b[A", &[k(KeyCode::Up, A)]);
        check(b"\x1b\x1bOD", &[k(KeyCode::Left, A)]);
    }

    #[test]
    fn application_keypad() {
        check(
            b"\x1bOM\x1bOp\x1bOy\x1bOk",
            &[k(KeyCode::Enter, N), ch('0'), ch('9'), ch('+')],
        );
    }

    #[test]
    fn alt_char() {
        check(b"\x1bx", &[k(KeyCode::Char('x'), A)]);
        check(b"\x1bX", &[k(KeyCode::Char('X'), A)]);
        check("\x1bé".as_bytes(), &[k(KeyCode::Char('é'), A)]);
        check(b"\x1b\r", &[k(KeyCode::Enter, A)]);
        check(b"\x1b\x7f", &[k(KeyCode::Backspace, A)]);
        check(b"\x1b\x03", &[k(KeyCode::Char('c'), A | C)]);
        check(b"\x1b\t", &[k(KeyCode::Tab, A)]);
    }

    #[test]
    fn lone_esc_only_after_timeout() {
        let mut p = InputParser::new();
        let mut out = Vec::new();
        p.feed(b"\x1b", &mut out);
        assert!(out.is_empty(), "Esc must wait for the timeout");
        assert!(p.pending_escape());
        p.flush_timeout(&mut out);
        assert_eq!(out, [k(KeyCode::Esc, N)]);
        assert!(!p.pending_escape());
        // Flushing again, or with nothing pending, emits nothing.
        p.flush_timeout(&mut out);
        assert_eq!(out.len(), 1);
        p.feed(b"q", &mut out);
        assert_eq!(out, [k(KeyCode::Esc, N), ch('q')]);
    }

    #[test]
    fn esc_then_char_without_timeout_is_alt() {
        let out = feed_chunks(&[b"\x1b", b"j"], false);
        assert_eq!(out, [k(KeyCode::Char('j'), A)]);
    }

    #[test]
    fn double_esc() {
        let esc = || k(KeyCode::Esc, N);
        check(b"\x1b\x1b", &[esc(), esc()]);
        check(b"\x1b\x1bx", &[esc(), k(KeyCode::Char('x'), A)]);
        check(b"\x1b\x1b\x1b", &[esc(), esc(), esc()]);
    }

    #[test]
    fn alt_bracket_and_alt_o_resolved_by_timeout() {
        check(b"\x1b[", &[k(KeyCode::Char('['), A)]);
        check(b"\x1bO", &[k(KeyCode::Char('O'), A)]);
        check(
            b"\x1b\x1b[",
            &[k(KeyCode::Esc, N), k(KeyCode::Char('['), A)],
        );
        // Before the timeout it is still undecided.
        let mut p = InputParser::new();
        let mut out = Vec::new();
        p.feed(b"\x1b[", &mut out);
        assert!(out.is_empty() && p.pending_escape());
    }

    #[test]
    fn esc_before_partial_utf8_flushes_esc_keeps_char() {
        let mut p = InputParser::new();
        let mut out = Vec::new();
        p.feed(&[ESC, 0xc3], &mut out);
        assert!(p.pending_escape());
        p.flush_timeout(&mut out);
        assert_eq!(out, [k(KeyCode::Esc, N)]);
        p.feed(&[0xa9], &mut out);
        assert_eq!(out, [k(KeyCode::Esc, N), ch('é')]);
    }

    #[test]
    fn truncated_sequence_dropped_on_timeout() {
        let mut p = InputParser::new();
        let mut out = Vec::new();
        p.feed(b"\x1b[1;", &mut out);
        p.flush_timeout(&mut out);
        assert!(out.is_empty());
        assert!(!p.pending_escape());
        p.feed(b"a", &mut out);
        assert_eq!(out, [ch('a')]);
    }

    #[test]
    fn focus_events_ignored() {
        check(b"a\x1b[Ib\x1b[Oc", &[ch('a'), ch('b'), ch('c')]);
    }

    #[test]
    fn unknown_and_malformed_sequences_dropped() {
        check(b"\x1b[99X1", &[ch('1')]); // unknown final
        check(b"\x1b[?1;2c2", &[ch('2')]); // device attributes reply
        check(b"\x1b[<0;10;5M3", &[ch('3')]); // SGR mouse
        check(b"\x1b[1 q4", &[ch('4')]); // intermediate byte
        check(b"\x1b[99~5", &[ch('5')]); // unknown tilde key
        check(b"\x1b[[Z6", &[ch('6')]); // bad linux F-key
        check(b"\x1bOz7", &[ch('7')]); // unknown SS3
        check(b"\x1b[201~8", &[ch('8')]); // stray paste end
        check(b"\x1b[E9", &[ch('9')]); // keypad 5 / Begin
    }

    #[test]
    fn control_byte_inside_sequence_is_not_lost() {
        check(b"\x1b[1\r", &[k(KeyCode::Enter, N)]);
        check(b"\x1b[1\x1b[A", &[k(KeyCode::Up, N)]);
        check(b"\x1bO\x7f", &[k(KeyCode::Backspace, N)]);
        check(b"\x1b[[\x03", &[k(KeyCode::Char('c'), C)]);
    }

    fn paste(s: &str) -> Event {
        Event::Paste(s.to_owned())
    }

    #[test]
    fn bracketed_paste_basic() {
        check(
            b"a\x1b[200~hello world\x1b[201~b",
            &[ch('a'), paste("hello world"), ch('b')],
        );
    }

    #[test]
    fn paste_normalizes_newlines() {
        check(
            b"\x1b[200~l1\r\nl2\rl3\nl4\x1b[201~",
            &[paste("l1\nl2\nl3\nl4")],
        );
        // No Enter leaks out of the paste, and CR state does not carry over.
        check(
            b"\x1b[200~x\r\x1b[201~\n",
            &[paste("x\n"), k(KeyCode::Enter, N)],
        );
    }

    #[test]
    fn paste_keeps_escape_like_content() {
        check(
            b"\x1b[200~\x1b[A\x1b[201x\x1b[20\x1b\x1b[201~",
            &[paste("\x1b[A\x1b[201x\x1b[20\x1b")],
        );
        check(b"\x1b[200~\x03\t\x7f\x1b[201~", &[paste("\x03\t\x7f")]);
        // The ESC that breaks a partial end marker may start the real one.
        check(b"\x1b[200~\x1b[20\x1b[201~", &[paste("\x1b[20")]);
        check(b"\x1b[200~\x1b\x1b[201~", &[paste("\x1b")]);
    }

    #[test]
    fn paste_utf8_and_invalid_bytes() {
        let mut bytes = b"\x1b[200~".to_vec();
        bytes.extend_from_slice("né€".as_bytes());
        bytes.push(0xff);
        bytes.extend_from_slice(b"\x1b[201~");
        check(&bytes, &[paste("né€\u{fffd}")]);
    }

    #[test]
    fn empty_paste_emits_nothing() {
        check(b"\x1b[200~\x1b[201~z", &[ch('z')]);
    }

    #[test]
    fn paste_waits_for_end_marker() {
        let mut p = InputParser::new();
        let mut out = Vec::new();
        p.feed(b"\x1b[200~abc\x1b", &mut out);
        assert!(out.is_empty());
        assert!(!p.pending_escape(), "no Esc timeout inside a paste");
        p.flush_timeout(&mut out);
        assert!(out.is_empty());
        p.feed(b"[201~", &mut out);
        assert_eq!(out, [paste("abc")]);
    }

    #[test]
    fn paste_is_capped() {
        let mut p = InputParser::new();
        let mut out = Vec::new();
        p.feed(b"\x1b[200~", &mut out);
        let chunk = vec![b'x'; 4096];
        for _ in 0..40 {
            p.feed(&chunk, &mut out);
            assert!(p.buffered_len() <= PASTE_CAP);
        }
        p.feed(b"\x1b[201~q", &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0], Event::Paste("x".repeat(PASTE_CAP)));
        assert_eq!(out[1], ch('q'));
    }

    #[test]
    fn paste_cap_does_not_split_a_char() {
        let mut bytes = b"\x1b[200~".to_vec();
        bytes.extend_from_slice("€".repeat(30_000).as_bytes());
        bytes.extend_from_slice(b"\x1b[201~");
        let out = feed_chunks(&[&bytes], false);
        // 65536 / 3 = 21845 whole chars, the cut one is dropped, no U+FFFD.
        assert_eq!(out, [paste(&"€".repeat(PASTE_CAP / 3))]);
    }

    #[test]
    fn overlong_sequence_abandoned() {
        let mut p = InputParser::new();
        let mut out = Vec::new();
        p.feed(b"\x1b[", &mut out);
        for _ in 0..10_000 {
            p.feed(b"1;", &mut out);
            assert!(p.buffered_len() <= MAX_SEQ);
        }
        // The garbage's final byte is swallowed, not typed.
        p.feed(b"Ax", &mut out);
        assert_eq!(out, [ch('x')]);
    }

    #[test]
    fn overlong_sequence_then_real_key() {
        let mut bytes = b"\x1b[".to_vec();
        bytes.extend_from_slice(&[b'9'; 500]);
        bytes.extend_from_slice(b"\x1b[B");
        check(&bytes, &[k(KeyCode::Down, N)]);
    }

    #[test]
    fn mods_api() {
        let m = Mods::CTRL | Mods::SHIFT;
        assert!(m.contains(Mods::CTRL));
        assert!(m.contains(Mods::SHIFT));
        assert!(!m.contains(Mods::ALT));
        assert!(m.contains(Mods::NONE));
        assert!(Mods::NONE.is_empty());
        assert_eq!(m.difference(Mods::CTRL), Mods::SHIFT);
        assert_eq!(Mods::default(), Mods::NONE);
        assert_eq!(KeyEvent::from(KeyCode::Tab), KeyEvent::new(KeyCode::Tab, N));
    }

    /// Deterministic LCG so the "fuzz" tests are reproducible without deps.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u32 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            u32::try_from(self.0 >> 33).unwrap_or_default()
        }

        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.next()).unwrap_or_default() % n
        }

        /// Bytes biased toward sequence syntax so deep states get reached.
        fn byte(&mut self) -> u8 {
            const HOT: &[u8] = b"\x1b\x1b\x1b[[O~;012015\r\n\x7fAZaP$^@<?\xc3\xe2\x82\xf0\x9f";
            if self.below(3) == 0 {
                u8::try_from(self.next() & 0xff).unwrap_or_default()
            } else {
                HOT[self.below(HOT.len())]
            }
        }
    }

    #[test]
    fn fuzz_random_bytes_never_panic_and_stay_bounded() {
        for seed in 0..20u64 {
            let mut rng = Lcg(seed);
            let mut p = InputParser::new();
            let mut out = Vec::new();
            for _ in 0..2_000 {
                let len = rng.below(40);
                let chunk: Vec<u8> = (0..len).map(|_| rng.byte()).collect();
                p.feed(&chunk, &mut out);
                assert!(p.pending.len() <= MAX_SEQ, "seed {seed}");
                assert!(p.buffered_len() <= MAX_SEQ + PASTE_CAP, "seed {seed}");
                if rng.below(4) == 0 && p.pending_escape() {
                    p.flush_timeout(&mut out);
                }
                out.clear();
            }
            // Whatever state it is in, the parser recovers: end any paste,
            // settle the Esc, then a plain key comes through.
            p.feed(b"\x1b[201~", &mut out);
            p.flush_timeout(&mut out);
            p.feed(b"q", &mut out);
            assert_eq!(out.last(), Some(&ch('q')), "seed {seed}");
        }
    }

    #[test]
    fn fuzz_chunking_does_not_change_events() {
        for seed in 100..130u64 {
            let mut rng = Lcg(seed);
            let bytes: Vec<u8> = (0..3_000).map(|_| rng.byte()).collect();
            let singles: Vec<&[u8]> = bytes.chunks(1).collect();
            let mut chunks = Vec::new();
            let mut rest = &bytes[..];
            while !rest.is_empty() {
                let n = (rng.below(16) + 1).min(rest.len());
                let (a, b) = rest.split_at(n);
                chunks.push(a);
                rest = b;
            }
            let whole = feed_chunks(&[&bytes], true);
            assert_eq!(feed_chunks(&singles, true), whole, "seed {seed}");
            assert_eq!(feed_chunks(&chunks, true), whole, "seed {seed}");
        }
    }
}
