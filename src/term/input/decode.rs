//! Decoding one sequence at the start of the buffer: plain bytes, UTF-8, ESC-prefixed Alt keys,
//! CSI (xterm modifiers, `~` keys, bracketed paste marks) and SS3. Pure; says how many bytes it
//! used, or that it needs more.

use super::*;

/// What one decoded sequence means; CR/LF stay distinct so CRLF can merge.
#[derive(Clone, Copy)]
pub(super) enum Action {
    Drop,
    Key(KeyEvent),
    Cr,
    Lf,
    PasteStart,
}

pub(super) enum Decoded {
    Incomplete,
    Done { consumed: usize, action: Action },
}

pub(super) fn done(consumed: usize, action: Action) -> Decoded {
    Decoded::Done { consumed, action }
}

pub(super) fn key(consumed: usize, code: KeyCode, mods: Mods) -> Decoded {
    done(consumed, Action::Key(KeyEvent::new(code, mods)))
}
/// Decode the start of `seq` (non-empty).
pub(super) fn decode(seq: &[u8]) -> Decoded {
    if seq[0] == ESC {
        decode_esc(seq)
    } else {
        decode_plain(seq)
    }
}

/// A single key that does not start with ESC: control byte, ASCII, or UTF-8.
pub(super) fn decode_plain(seq: &[u8]) -> Decoded {
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
pub(super) fn decode_utf8(seq: &[u8]) -> Decoded {
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
pub(super) fn utf8_len(lead: u8) -> usize {
    match lead {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => 1,
    }
}

/// Drop a char cut in half by the paste cap so it does not become U+FFFD.
pub(super) fn trim_partial_utf8(buf: &mut Vec<u8>) {
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

pub(super) fn decode_esc(seq: &[u8]) -> Decoded {
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
pub(super) fn reject(i: usize, b: u8) -> Decoded {
    if (0x20..=0x7e).contains(&b) {
        done(i + 1, Action::Drop)
    } else {
        done(i, Action::Drop)
    }
}

/// CSI: `ESC [` params (0x30-0x3F), intermediates (0x20-0x2F), final byte.
pub(super) fn decode_csi(seq: &[u8], start: usize, extra: Mods) -> Decoded {
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

pub(super) fn csi_action(params: &[u8], fin: u8, extra: Mods) -> Action {
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
pub(super) fn decode_ss3(seq: &[u8], start: usize, extra: Mods) -> Decoded {
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

pub(super) fn arrow(i: u8) -> KeyCode {
    match i {
        0 => KeyCode::Up,
        1 => KeyCode::Down,
        2 => KeyCode::Right,
        _ => KeyCode::Left,
    }
}

/// `ESC [ n ~` keys across xterm, `PuTTY`, Linux console and rxvt.
pub(super) fn tilde_key(n: u32) -> Option<KeyCode> {
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

pub(super) fn fkey(n: u32) -> u8 {
    u8::try_from(n).unwrap_or(u8::MAX)
}

/// The `idx`th `;`-separated parameter; sub-parameters after `:` ignored.
pub(super) fn param(params: &[u8], idx: usize) -> Option<u32> {
    let field = params.split(|&b| b == b';').nth(idx)?;
    number(field.split(|&b| b == b':').next().unwrap_or_default())
}

pub(super) fn number(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(digits.iter().fold(0u32, |acc, &d| {
        acc.saturating_mul(10).saturating_add(u32::from(d - b'0'))
    }))
}

/// xterm modifier parameter: 1 + bitmask (1 shift, 2 alt, 4 ctrl, 8 meta).
/// Meta counts as Alt; higher bits (kitty's super, caps/num lock) are ignored.
pub(super) fn xterm_mods(p: Option<u32>) -> Mods {
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
