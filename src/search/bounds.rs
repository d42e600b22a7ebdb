//! Upper bounds of the score nucleo can give an atom in a record, from the record's masks
//! ([`Meta`]) and pair filter ([`Pairs`]) alone, and the hashes and character classes those
//! masks are made of.
//!
//! This mirrors nucleo-matcher 0.3's scoring (its constants, its private `CharClass`, its
//! `Config::bonus_for`), so Cargo.toml pins nucleo-matcher to one exact version:
//! `tests::bounds_hold_for_real_scores` (bounds against real scores) and
//! `tests::nucleo_scores_are_pinned` (exact scores) fail when an upgrade changes the scoring.

use nucleo_matcher::chars;

use super::index::Meta;
use super::query::QueryAtom;
use super::{UNIT_BONUS, WORD_BONUS};

/// nucleo 0.3's scoring constants, used only for upper bounds (the tests check the bounds
/// against nucleo's real scores, so a change of nucleo's scoring shows up there).
pub(super) const NUCLEO_SCORE_MATCH: u32 = 16;
pub(super) const NUCLEO_BONUS_CONSECUTIVE: u32 = 4;
pub(super) const NUCLEO_FIRST_CHAR_MULTIPLIER: u32 = 2;
pub(super) const NUCLEO_PENALTY_GAP_START: u32 = 3;

/// nucleo's character classes (`nucleo_matcher::chars::CharClass` is private), in its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Class {
    Whitespace,
    NonWord,
    Delimiter,
    Lower,
    Upper,
    Letter,
    Number,
}

impl Class {
    /// As nucleo classifies a haystack char under its default config.
    pub(super) fn of(c: char) -> Class {
        if c.is_ascii() {
            match c {
                'a'..='z' => Class::Lower,
                'A'..='Z' => Class::Upper,
                '0'..='9' => Class::Number,
                _ if c.is_ascii_whitespace() => Class::Whitespace,
                '/' | ',' | ':' | ';' | '|' => Class::Delimiter,
                _ => Class::NonWord,
            }
        } else if c.is_lowercase() {
            Class::Lower
        } else if chars::is_upper_case(c) {
            Class::Upper
        } else if c.is_numeric() {
            Class::Number
        } else if c.is_alphabetic() {
            Class::Letter
        } else if c.is_whitespace() {
            Class::Whitespace
        } else {
            Class::NonWord
        }
    }
}

/// nucleo's bonus for matching a char of class `class` after one of class `prev`
/// (`Config::bonus_for` under `Config::DEFAULT`).
pub(super) fn nucleo_bonus(prev: Class, class: Class) -> u32 {
    if class > Class::Delimiter {
        match prev {
            Class::Whitespace => return 10,
            Class::Delimiter => return 9,
            Class::NonWord => return 8,
            _ => {}
        }
    }
    if (prev == Class::Lower && class == Class::Upper)
        || (prev != Class::Number && class == Class::Number)
    {
        5
    } else if class == Class::Whitespace {
        10
    } else if class == Class::NonWord {
        8
    } else {
        0
    }
}

/// Bit of a folded lower-case char in a character-set mask: a-z and 0-9 get their own bits,
/// everything else shares the remaining 28.
pub(super) fn char_bit(c: char) -> u64 {
    match c {
        'a'..='z' => 1 << (c as u32 - 'a' as u32),
        '0'..='9' => 1 << (26 + c as u32 - '0' as u32),
        _ => 1 << (36 + (c as u32 % 28)),
    }
}

pub(super) const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

pub(super) fn fnv(h: u64, c: char) -> u64 {
    (h ^ u64::from(u32::from(c))).wrapping_mul(0x0100_0000_01b3)
}

pub(super) fn word_bit(h: u64) -> u64 {
    1 << (h >> 58)
}

/// Hash of a unit key or number; 0 for an empty one, never for a non-empty one.
pub(super) fn key_hash(key: &str) -> u32 {
    if key.is_empty() {
        return 0;
    }
    let h = key.chars().fold(FNV_OFFSET, fnv);
    ((h >> 32) as u32 ^ h as u32) | 1
}

/// A 256-bit Bloom filter of the pairs of adjacent characters (folded lower-case) in a record's
/// fields: when an atom's pair is absent, nucleo cannot match those two consecutively, which
/// tightens the bound a lot for word-like queries ("moha" against "Maria Hoffmann").
pub(super) type Pairs = [u64; 4];

pub(super) fn pair_bit(a: char, b: char) -> (usize, u64) {
    let h = ((u64::from(u32::from(a)) << 32) | u64::from(u32::from(b)))
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        >> 56;
    ((h >> 6) as usize, 1 << (h & 63))
}

/// Bonus bound of a char (its [`char_bit`]) from a record's masks.
#[inline]
pub(super) fn own_bonus(meta: &Meta, bit: u64) -> u32 {
    if meta.b10 & bit != 0 {
        10
    } else if meta.b8 & bit != 0 {
        8
    } else if meta.b5 & bit != 0 {
        5
    } else {
        0
    }
}

impl QueryAtom {
    /// The bonuses on top of nucleo's score that a record could give this atom.
    #[inline]
    pub(super) fn extra_bound(&self, meta: &Meta) -> u32 {
        let mut extra = 0;
        if self.word_bit.is_some_and(|b| meta.words & b != 0) {
            extra += WORD_BONUS;
        }
        if self.unit_hash != 0 && (self.unit_hash == meta.unit || self.unit_hash == meta.unit_num) {
            extra += UNIT_BONUS;
        }
        extra
    }

    /// Upper bound of this atom's score in a record, from its masks alone; `None` when the
    /// record lacks one of the atom's characters.
    ///
    /// nucleo gives each matched char 16 plus a bonus: the first char twice its own bonus; a
    /// later char its own bonus, or in a consecutive run the largest of that, the run's
    /// (raised) first bonus and 4; gaps cost at least 3. A char's own bonus is at most the
    /// best of the positions it has in the record.
    #[inline]
    pub(super) fn bound(&self, meta: &Meta) -> Option<u32> {
        if self.mask & !meta.any != 0 {
            return None;
        }
        let mut bits = self.bits.iter();
        let first = bits.next().map_or(0, |&b| own_bonus(meta, b));
        let mut run = first.max(NUCLEO_BONUS_CONSECUTIVE);
        let mut bound =
            NUCLEO_SCORE_MATCH * self.bits.len() as u32 + NUCLEO_FIRST_CHAR_MULTIPLIER * first;
        for &bit in bits {
            run = run.max(own_bonus(meta, bit));
            bound += run;
        }
        Some(bound + self.extra_bound(meta))
    }

    /// A tighter bound than [`bound`](Self::bound), with the pair filter: a char whose pair
    /// with the previous char is absent starts a new run, after a gap.
    pub(super) fn tight_bound(&self, meta: &Meta, pairs: &Pairs) -> u32 {
        let first = self.bits.first().map_or(0, |&b| own_bonus(meta, b));
        let mut run = first.max(NUCLEO_BONUS_CONSECUTIVE);
        let mut bound =
            NUCLEO_SCORE_MATCH * self.bits.len() as u32 + NUCLEO_FIRST_CHAR_MULTIPLIER * first;
        for (&bit, &(i, pair)) in self.bits.iter().skip(1).zip(&self.pairs) {
            let own = own_bonus(meta, bit);
            if pairs[i] & pair != 0 {
                run = run.max(own);
                bound += run;
            } else {
                bound = (bound + own).saturating_sub(NUCLEO_PENALTY_GAP_START);
                run = own.max(NUCLEO_BONUS_CONSECUTIVE);
            }
        }
        bound + self.extra_bound(meta)
    }
}
