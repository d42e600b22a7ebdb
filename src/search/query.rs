//! A query's atoms ([`QueryAtom`]): parsing, and an atom's score in a record with this
//! module's adjustments (word and unit bonuses, alias and email penalties) on top of nucleo's.

use nucleo_matcher::pattern::{Atom, AtomKind, CaseMatching, Normalization};
use nucleo_matcher::{Matcher, Utf32Str, chars};

use super::bounds::{FNV_OFFSET, NUCLEO_SCORE_MATCH, char_bit, fnv, key_hash, pair_bit, word_bit};
use super::fold::{fold_lower, is_combining};
use super::index::{Meta, RecipientIndex, Span};
use super::{Field, UNIT_BONUS, WORD_BONUS};
use crate::db::recipients::Recipient;

/// Taken off an alias match, so a name match of the same quality ranks first.
pub(super) const ALIAS_PENALTY: u32 = 2;
/// Taken off an email match, so a name or alias match of the same quality ranks first.
pub(super) const EMAIL_PENALTY: u32 = 4;

/// Whether `word` (folded lower-case letters and digits) occurs in `text` as a whole word.
pub(super) fn has_word(text: Utf32Str<'_>, word: &[char]) -> bool {
    word_start(text, word) == Some(true)
}

/// Whether `word` (folded, lower case) starts a word of `text`: `Some(true)` as a whole word.
pub(super) fn word_start(text: Utf32Str<'_>, word: &[char]) -> Option<bool> {
    fn find<T: Copy>(
        text: &[T],
        word: &[char],
        lower: impl Fn(T) -> char,
        alnum: impl Fn(T) -> bool,
    ) -> Option<bool> {
        if word.is_empty() || word.len() > text.len() {
            return None;
        }
        let mut found = None;
        for i in 0..=text.len() - word.len() {
            let starts = (i == 0 || !alnum(text[i - 1]))
                && text[i..i + word.len()]
                    .iter()
                    .zip(word)
                    .all(|(&c, &w)| lower(c) == w);
            if starts {
                if text.get(i + word.len()).is_none_or(|&c| !alnum(c)) {
                    return Some(true);
                }
                found = Some(false);
            }
        }
        found
    }
    match text {
        Utf32Str::Ascii(bytes) => find(
            bytes,
            word,
            |b| char::from(b.to_ascii_lowercase()),
            |b| b.is_ascii_alphanumeric(),
        ),
        Utf32Str::Unicode(text) => find(text, word, chars::to_lower_case, char::is_alphanumeric),
    }
}

/// One whitespace-separated word of the query.
#[derive(Debug)]
pub(super) struct QueryAtom {
    /// Folded, lower-case.
    pub(super) chars: Vec<char>,
    pub(super) atom: Atom,
    /// `char_bit` of each char.
    pub(super) bits: Vec<u64>,
    /// `pair_bit` of each char with the one before it (none for the first char).
    pub(super) pairs: Vec<(usize, u64)>,
    pub(super) mask: u64,
    /// The atom's letters and digits, for the exact-unit check, and its hash (0: none).
    pub(super) unit_key: String,
    pub(super) unit_hash: u32,
    /// The atom's word bit, when it is a single word of two or more letters and digits.
    pub(super) word_bit: Option<u64>,
    /// Lowest nucleo score of a contiguous match at a word start: below it the atom cannot be
    /// a whole word of the field.
    pub(super) word_threshold: u32,
}

impl QueryAtom {
    pub(super) fn parse(word: &str) -> Option<QueryAtom> {
        let chars: Vec<char> = word
            .chars()
            .filter(|&c| !is_combining(c))
            .map(fold_lower)
            .collect();
        if chars.is_empty() {
            return None;
        }
        let text: String = chars.iter().collect();
        let atom = Atom::new(
            &text,
            CaseMatching::Ignore,
            Normalization::Smart,
            AtomKind::Fuzzy,
            false,
        );
        let bits: Vec<u64> = chars.iter().map(|&c| char_bit(c)).collect();
        let pairs = chars.windows(2).map(|w| pair_bit(w[0], w[1])).collect();
        let mask = bits.iter().fold(0, |m, b| m | b);
        let unit_key: String = chars.iter().filter(|c| c.is_alphanumeric()).collect();
        let unit_hash = key_hash(&unit_key);
        // One-char words (initials) get no bonus: it would loosen every one-char bound.
        let word_bit = (chars.len() > 1 && chars.iter().all(|c| c.is_alphanumeric()))
            .then(|| word_bit(chars.iter().fold(FNV_OFFSET, |h, &c| fnv(h, c))));
        let m = chars.len() as u32;
        // A contiguous match starting after punctuation: first char 16 + 2 * 8, then 16 + 8.
        let word_threshold = NUCLEO_SCORE_MATCH * m + 8 * (m + 1);
        Some(QueryAtom {
            chars,
            atom,
            bits,
            pairs,
            mask,
            unit_key,
            unit_hash,
            word_bit,
            word_threshold,
        })
    }

    /// This atom's score in one field with this module's adjustments; `None`: no match.
    pub(super) fn span_score(
        &self,
        index: &RecipientIndex,
        slot: u32,
        meta: &Meta,
        span: &Span,
        matcher: &mut Matcher,
    ) -> Option<u32> {
        if self.mask & !span.mask != 0 {
            return None;
        }
        let text = index.arena.text(span);
        let base = u32::from(self.atom.score(text, matcher)?);
        let mut score = base;
        if base >= self.word_threshold
            && self.word_bit.is_some_and(|b| meta.words & b != 0)
            && has_word(text, &self.chars)
        {
            score += WORD_BONUS;
        }
        match Field::from_code(span.field) {
            Field::Unit => {
                if self.unit_hash != 0
                    && (self.unit_hash == meta.unit || self.unit_hash == meta.unit_num)
                    && index.entry(slot).is_some_and(|e| self.is_unit_of(&e.rec))
                {
                    score += UNIT_BONUS;
                }
            }
            Field::Alias(_) => score = score.saturating_sub(ALIAS_PENALTY),
            Field::Email => score = score.saturating_sub(EMAIL_PENALTY),
            Field::Name => {}
        }
        Some(score.max(1))
    }

    /// Whether this atom is `r`'s unit or unit number (letters and digits only, folded).
    pub(super) fn is_unit_of(&self, r: &Recipient) -> bool {
        let key = r
            .unit
            .chars()
            .map(fold_lower)
            .filter(|c| c.is_alphanumeric());
        let num = r.unit.chars().filter(char::is_ascii_digit);
        key.eq(self.unit_key.chars()) || num.eq(self.unit_key.chars())
    }

    /// Best span and score of this atom in one record.
    pub(super) fn best<'a>(
        &self,
        index: &'a RecipientIndex,
        slot: u32,
        meta: &Meta,
        matcher: &mut Matcher,
    ) -> Option<(u32, &'a Span)> {
        let mut best: Option<(u32, &Span)> = None;
        for span in index.arena.spans(meta) {
            if let Some(s) = self.span_score(index, slot, meta, span, matcher)
                && best.is_none_or(|(b, _)| s > b)
            {
                best = Some((s, span));
            }
        }
        best
    }
}

pub(super) fn parse_query(query: &str) -> Vec<QueryAtom> {
    query
        .split_whitespace()
        .filter_map(QueryAtom::parse)
        .collect()
}
