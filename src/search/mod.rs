//! Recipient search: an in-memory index of one facility's recipients, matched with nucleo's
//! fuzzy matcher (`nucleo-matcher`) over name, unit, email and aliases.
//!
//! Matching, as a mailroom clerk expects it:
//! - case- and diacritics-insensitive both ways ("bjorn" finds "Björn", "björn" finds "Bjorn");
//! - the query is split on whitespace into atoms (nucleo
//!   [`Atom`](nucleo_matcher::pattern::Atom)s, fuzzy); every atom must match some field (each
//!   atom picks its best field) and the recipient's score is the sum of the atoms' scores, so
//!   "smith 1204" and "1204 smi" find a Smith in unit B-1204;
//! - nucleo's scoring ranks contiguous and word-start (prefix) matches above scattered ones; on
//!   top of that an atom that is a whole word of the field gets [`WORD_BONUS`] ("lee" ranks
//!   "Ann Lee" above "Ann Leeds"), an atom that is the unit ("b1204", "B-1204") or the unit's
//!   number ("1204") gets [`UNIT_BONUS`], and alias and email matches give way to name and unit
//!   matches of the same quality;
//! - ties are broken by name, then id, so results are deterministic.
//!
//! How it stays fast (numbers in `benches/search.rs`): every record keeps one cache line of
//! 64-bit character-set masks (`Meta`): which characters it has, which of them stand where
//! nucleo gives its bigger bonuses (word starts, after punctuation, camelCase humps), a Bloom
//! bit per word, hashes of its unit and its rank in name order; beside it a 256-bit Bloom
//! filter of adjacent character pairs. A search streams over the records in slot order (built in
//! name order): a record lacking a character of an atom is out at once; for the others the masks
//! (then the pair filter) give an upper bound of the score nucleo could give them, and nucleo
//! runs only when that bound can beat the current `limit`-th hit. Short queries ("s", "sm")
//! reach that point after a few dozen records. The texts nucleo reads live in arenas laid out in
//! slot order, so the pass reads memory front to back. A [`Searcher`] kept across keystrokes
//! remembers which records survived the previous query (passed the masks and were not found
//! not to match) and, when the new query can only match fewer (typing on), looks at just those.
//! [`Searcher::with_threads`] splits passes over indexes of 200k records and more.
//!
//! nucleo's higher-level `Nucleo` worker (crate `nucleo` 0.5) was measured too and not used: it
//! matches one column per item (no per-field atoms, no field of the hit), can only append
//! items or start over (no update or removal), sorts every match rather than keeping a top-k,
//! and was several times slower per keystroke on the same data.
//!
//! Misspellings the fuzzy match cannot find ("kowalsky" for Kowalski: a letter the name lacks)
//! are the typo fallback's ([`Searcher::search_or_suggest`], `typo/`): when no hit is one a
//! clerk would recognise, names a few edits away or that sound alike, marked as suggestions.
//!
//! Layout: `index.rs` (the records, their masks and arenas), `query.rs` (a query's atoms and
//! their scores), `bounds.rs` (upper bounds of nucleo's score, mirroring its scoring: the part
//! that is pinned to one nucleo version), `engine.rs` (the streaming top-k pass and
//! [`Searcher`]), `fold.rs` (diacritics folding), `typo/` (the fallback: name words, edit
//! distance, sound-alike keys), and behind the `bench-data` feature (always in tests)
//! `synthetic.rs`, the generated directory benchmarks and tests search.

mod bounds;
mod engine;
mod fold;
mod index;
mod query;
#[cfg(any(test, feature = "bench-data"))]
mod synthetic;
#[cfg(test)]
mod tests;
mod typo;

pub use engine::{SearchStats, Searcher};
pub use index::RecipientIndex;
#[cfg(any(test, feature = "bench-data"))]
pub use synthetic::synthetic_directory;

use crate::db::recipients::Recipient;

/// Extra score for an atom of two or more characters that is a whole word of the field ("lee"
/// in "Ann Lee", not in "Ann Leeds"): about half a matched character.
pub const WORD_BONUS: u32 = 12;
/// Extra score for an atom that is the recipient's unit ("b1204", "B-1204") or its number
/// ("1204"): a clerk types the unit from the label, so these come first.
pub const UNIT_BONUS: u32 = 80;

/// Which field of a recipient matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Name,
    Unit,
    Email,
    /// Index into [`Recipient::aliases`].
    Alias(usize),
}

impl Field {
    fn code(self) -> u16 {
        match self {
            Field::Name => 0,
            Field::Unit => 1,
            Field::Email => 2,
            Field::Alias(i) => 3 + i.min(usize::from(u16::MAX - 3)) as u16,
        }
    }

    fn from_code(code: u16) -> Field {
        match code {
            0 => Field::Name,
            1 => Field::Unit,
            2 => Field::Email,
            n => Field::Alias(usize::from(n - 3)),
        }
    }
}

/// Highlight positions in one field (see [`Searcher::highlights`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldMatch {
    pub field: Field,
    /// Char indices (`text.chars().nth(i)`) of the matched characters, ascending, no duplicates.
    pub indices: Vec<u32>,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub id: i64,
    /// Higher is better; comparable only within one query.
    pub score: u32,
    /// The field that contributed most to the score (for an empty query: `Name`). In a
    /// multi-word query other fields may have matched too ("smith 1204": the unit):
    /// [`Searcher::highlights`] gives them all.
    pub field: Field,
    /// Char indices of matched characters in the matched field's text, ascending (for a
    /// suggestion: the corrected words).
    pub indices: Vec<u32>,
    /// Not a match but a suggestion of the typo fallback ([`Searcher::search_or_suggest`]):
    /// a name a few typos away or that sounds alike. Score 0; shown as "did you mean …?".
    pub suggested: bool,
}

/// The text of `field` in `r` (`None` for a missing email or alias).
pub fn field_text(r: &Recipient, field: Field) -> Option<&str> {
    match field {
        Field::Name => Some(&r.name),
        Field::Unit => Some(&r.unit),
        Field::Email => r.email.as_deref(),
        Field::Alias(i) => r.aliases.get(i).map(String::as_str),
    }
}
