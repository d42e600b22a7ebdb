//! Unicode folding: diacritics off (nucleo's table, then ours for the Latin letters it lacks),
//! optionally lower case.

use nucleo_matcher::chars;

/// Folds diacritics but keeps case: nucleo's table (`chars::normalize`), then ours for the
/// Latin letters it lacks (Vietnamese "ễ", capital "Ł", …). This is the text nucleo matches
/// (its camelCase bonus needs the case).
pub(super) fn fold_keep_case(c: char) -> char {
    let n = chars::normalize(c);
    if n != c {
        return n;
    }
    let cp = c as usize;
    let base = match cp {
        0x100..0x250 => FOLD_0100.get(cp - 0x100),
        0x1E00..0x1F00 => FOLD_1E00.get(cp - 0x1E00),
        _ => None,
    };
    match base {
        Some(&b) if b != b'.' => char::from(b),
        _ => c,
    }
}

/// Folds one char the way queries are compared: diacritics off, lower case.
pub(super) fn fold_lower(c: char) -> char {
    chars::to_lower_case(fold_keep_case(c))
}

/// Base letters of U+0100..U+024F and U+1E00..U+1EFF (from their canonical decomposition,
/// plus the barred and stroked letters, which have none); '.': not a letter with a diacritic.
pub(super) const FOLD_0100: &[u8; 336] = b"\
    AaAaAaCcCcCcCcDdDdEeEeEeEeEeGgGgGgGgHhHhIiIiIiIiIi..JjKkkLlLlLl.\
    .LlNnNnNn...OoOoOo..RrRrRrSsSsSsSsTtTtTtUuUuUuUuUuUuWwYyYZzZzZzs\
    bB.....Cc.D......FfG...IKkl..Nn.Oo..Pp......TtTUu.VYyZz.........\
    .............AaIiOoUuUuUuUuUu.AaAa....GgKkOoOo..j...Gg..NnAa....\
    AaAaEeEeIiIiOoOoRrRrUuUuSsTt..Hh.d....AaEeOoOoOoOoYylntj..ACcLTs\
    z..BU.EeJj..RrYy";
pub(super) const FOLD_1E00: &[u8; 256] = b"\
    AaBbBbBbCcDdDdDdDdDdEeEeEeEeEeFfGgHhHhHhHhHhIiIiKkKkKkLlLlLlLlMm\
    MmMmNnNnNnNnOoOoOoOoPpPpRrRrRrRrSsSsSsSsSsTtTtTtTtUuUuUuUuUuVvVv\
    WwWwWwWwWwXxXxYyZzZzZzhtwy......AaAaAaAaAaAaAaAaAaAaAaAaEeEeEeEe\
    EeEeEeEeIiIiOoOoOoOoOoOoOoOoOoOoOoOoUuUuUuUuUuUuUuYyYyYyYy......";

/// Combining diacritical marks, dropped from queries (a decomposed "é" is "e").
pub(super) fn is_combining(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}')
}
