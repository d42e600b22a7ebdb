//! The typo fallback of recipient search. The fuzzy match finds what was typed in order
//! ("kowal" finds Kowalski) but nothing for a misspelling: "kowalsky", "hernandes", "smyth"
//! and "johnsen" have letters the names lack. When the fuzzy match finds no one a clerk would
//! recognise, [`suggest`] adds the recipients whose name words are a few edits away
//! ([`distance`]) or sound alike (Double Metaphone, crate `rphonetic`), marked
//! [`Hit::suggested`](super::Hit::suggested) so the screen can ask "did you mean …?".
//!
//! What it needs is kept beside the index ([`Words`]): every distinct word of the names and
//! aliases once, with its character set, its sound-alike keys and the slots that have it,
//! built with the index and kept current by its upserts and removals. A fallback reads the
//! word list (thousands of words for 100k recipients, not the records), then only the records
//! of the words it matched.

mod distance;
mod suggest;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use rphonetic::DoubleMetaphone;

use super::Field;
use super::bounds::char_bit;
use super::fold::fold_lower;
use crate::db::recipients::Recipient;

pub(super) use suggest::with_suggestions;

/// One distinct word of the names and aliases.
#[derive(Debug)]
pub(super) struct Word {
    /// In [`Words::chars`].
    pub(super) start: u32,
    pub(super) len: u16,
    /// Its characters ([`char_bit`]): a word lacking more of the query's characters than the
    /// edits allowed is out without a table.
    pub(super) mask: u64,
    /// Slots of the records that have it, ascending.
    pub(super) slots: Vec<u32>,
}

/// The words of one index's names and aliases, each once (see the module doc).
#[derive(Debug, Default)]
pub(super) struct Words {
    pub(super) words: Vec<Word>,
    /// Every word's folded lower-case characters, one run per word.
    pub(super) chars: Vec<char>,
    pub(super) ids: HashMap<Box<str>, u32>,
    /// Sound-alike key ([`sound_keys`]) → words with that key.
    pub(super) sounds: HashMap<u32, Vec<u32>>,
}

/// Words shorter than this are initials: never corrected, never suggested.
const MIN_NAME_WORD: usize = 2;

/// The words of `r`'s name and aliases: folded lower-case runs of letters and digits of two
/// or more characters, with their field and the char range in that field's text (folding
/// keeps one char per char, so the range is the original text's too).
pub(super) fn name_words(
    r: &Recipient,
    mut each: impl FnMut(Field, std::ops::Range<u32>, &[char]),
) {
    let mut word: Vec<char> = Vec::new();
    let fields = std::iter::once((Field::Name, r.name.as_str())).chain(
        r.aliases
            .iter()
            .enumerate()
            .map(|(i, a)| (Field::Alias(i), a.as_str())),
    );
    for (field, text) in fields {
        let mut start = 0u32;
        for (at, c) in (0u32..).zip(text.chars().chain(std::iter::once(' '))) {
            let lower = fold_lower(c);
            if lower.is_alphanumeric() {
                if word.is_empty() {
                    start = at;
                }
                word.push(lower);
            } else if !word.is_empty() {
                if word.len() >= MIN_NAME_WORD && word.len() <= usize::from(u16::MAX) {
                    each(field, start..at, &word);
                }
                word.clear();
            }
        }
    }
}

/// Sound-alike keys of a word: its Double Metaphone codes (primary and alternate, at most
/// four letters each), packed into a `u32`. Only for words of ASCII letters: the algorithm is
/// written for them (and indexes bytes, which other text would split).
pub(super) fn sound_keys(word: &[char]) -> Vec<u32> {
    if word.is_empty() || !word.iter().all(char::is_ascii_alphabetic) {
        return Vec::new();
    }
    let text: String = word.iter().collect();
    let codes = DoubleMetaphone::default().double_metaphone(&text);
    let mut keys: Vec<u32> = [codes.primary(), codes.alternate()]
        .iter()
        .filter(|c| !c.is_empty())
        .map(|c| c.bytes().take(4).fold(0u32, |k, b| (k << 8) | u32::from(b)))
        .collect();
    keys.dedup();
    keys
}

/// The character set of a word, as [`Word::mask`].
pub(super) fn mask(word: &[char]) -> u64 {
    word.iter().fold(0, |m, &c| m | char_bit(c))
}

impl Words {
    /// A word's characters.
    pub(super) fn text(&self, word: &Word) -> &[char] {
        let start = word.start as usize;
        self.chars
            .get(start..start + usize::from(word.len))
            .unwrap_or_default()
    }

    /// Notes the words of `r`, whose record is in `slot`.
    pub(super) fn add(&mut self, slot: u32, r: &Recipient) {
        let mut key = String::new();
        name_words(r, |_, _, w| {
            key.clear();
            key.extend(w);
            let id = match self.ids.get(key.as_str()) {
                Some(&id) => id,
                None => self.insert(key.clone()),
            };
            if let Some(word) = self.words.get_mut(id as usize)
                && let Err(at) = word.slots.binary_search(&slot)
            {
                word.slots.insert(at, slot);
            }
        });
    }

    /// Forgets the words of `r`, whose record was in `slot`. A word no record has any more
    /// stays in the list with no slots (skipped by searches) until the index is rebuilt.
    pub(super) fn remove(&mut self, slot: u32, r: &Recipient) {
        let mut key = String::new();
        name_words(r, |_, _, w| {
            key.clear();
            key.extend(w);
            if let Some(&id) = self.ids.get(key.as_str())
                && let Some(word) = self.words.get_mut(id as usize)
                && let Ok(at) = word.slots.binary_search(&slot)
            {
                word.slots.remove(at);
            }
        });
    }

    fn insert(&mut self, key: String) -> u32 {
        let id = self.words.len() as u32;
        let chars: Vec<char> = key.chars().collect();
        for sound in sound_keys(&chars) {
            self.sounds.entry(sound).or_default().push(id);
        }
        self.words.push(Word {
            start: self.chars.len() as u32,
            len: chars.len() as u16,
            mask: mask(&chars),
            slots: Vec::new(),
        });
        self.chars.extend_from_slice(&chars);
        self.ids.insert(key.into_boxed_str(), id);
        id
    }

    /// Approximate heap bytes, as [`RecipientIndex::heap_bytes`](super::RecipientIndex::heap_bytes)
    /// counts them (`overhead`: the allocator's per-block bytes).
    pub(super) fn heap_bytes(&self, overhead: usize) -> usize {
        use std::mem::size_of;
        let vec = |cap: usize, item: usize| if cap == 0 { 0 } else { cap * item + overhead };
        // hashbrown: one control byte per bucket, at most 7/8 of the buckets full.
        let table = |cap: usize, entry: usize| cap * 8 / 7 * (entry + 1);
        let words: usize = self
            .words
            .iter()
            .map(|w| vec(w.slots.capacity(), size_of::<u32>()))
            .sum();
        let keys: usize = self.ids.keys().map(|k| k.len() + overhead).sum();
        let sounds: usize = self
            .sounds
            .values()
            .map(|ids| vec(ids.capacity(), size_of::<u32>()))
            .sum();
        words
            + vec(self.words.capacity(), size_of::<Word>())
            + vec(self.chars.capacity(), size_of::<char>())
            + keys
            + table(self.ids.capacity(), size_of::<(Box<str>, u32)>())
            + sounds
            + table(self.sounds.capacity(), size_of::<(u32, Vec<u32>)>())
    }
}
