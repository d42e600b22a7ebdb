//! Recipient search: an in-memory index of one facility's recipients, matched with nucleo's
//! fuzzy matcher (`nucleo-matcher`) over name, unit, email and aliases.
//!
//! Matching, as a mailroom clerk expects it:
//! - case- and diacritics-insensitive both ways ("bjorn" finds "Björn", "björn" finds "Bjorn");
//! - the query is split on whitespace into atoms (nucleo [`Atom`]s, fuzzy); every atom must
//!   match some field (each atom picks its best field) and the recipient's score is the sum of
//!   the atoms' scores, so "smith 1204" and "1204 smi" find a Smith in unit B-1204;
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

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use nucleo_matcher::chars;
use nucleo_matcher::pattern::{Atom, AtomKind, CaseMatching, Normalization};
use nucleo_matcher::{Config, Matcher, Utf32Str};

use crate::db::recipients::Recipient;

/// Extra score for an atom of two or more characters that is a whole word of the field ("lee"
/// in "Ann Lee", not in "Ann Leeds"): about half a matched character.
pub const WORD_BONUS: u32 = 12;
/// Extra score for an atom that is the recipient's unit ("b1204", "B-1204") or its number
/// ("1204"): a clerk types the unit from the label, so these come first.
pub const UNIT_BONUS: u32 = 80;
/// Taken off an alias match, so a name match of the same quality ranks first.
const ALIAS_PENALTY: u32 = 2;
/// Taken off an email match, so a name or alias match of the same quality ranks first.
const EMAIL_PENALTY: u32 = 4;

/// nucleo 0.3's scoring constants, used only for upper bounds (the tests check the bounds
/// against nucleo's real scores, so a change of nucleo's scoring shows up there).
const NUCLEO_SCORE_MATCH: u32 = 16;
const NUCLEO_BONUS_CONSECUTIVE: u32 = 4;
const NUCLEO_FIRST_CHAR_MULTIPLIER: u32 = 2;
const NUCLEO_PENALTY_GAP_START: u32 = 3;

/// A pass is split over the searcher's threads from this many records on (below it, starting a
/// thread costs about what it saves).
const PARALLEL_MIN: usize = 200_000;

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
    /// Char indices of matched characters in the matched field's text, ascending.
    pub indices: Vec<u32>,
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

/// The searchable fields of a recipient, in field order; blank ones left out.
fn fields(r: &Recipient) -> impl Iterator<Item = (Field, &str)> {
    [
        (Field::Name, r.name.as_str()),
        (Field::Unit, r.unit.as_str()),
    ]
    .into_iter()
    .chain(r.email.as_deref().map(|e| (Field::Email, e)))
    .chain(
        r.aliases
            .iter()
            .enumerate()
            .take(usize::from(u16::MAX - 3))
            .map(|(i, a)| (Field::Alias(i), a.as_str())),
    )
    .filter(|(_, text)| !text.trim().is_empty())
}

/// One searchable text in the arenas: diacritics folded (case kept, for nucleo's camelCase
/// bonus), one char per char of the original, so nucleo's indices are the original's char
/// indices.
#[derive(Debug, Clone, Copy)]
struct Span {
    /// Characters present (see [`char_bit`]).
    mask: u64,
    start: u32,
    len: u32,
    /// [`Field::code`].
    field: u16,
    /// In `Arena::wide` (else ASCII, in `Arena::ascii`).
    wide: bool,
}

/// Texts of all records, roughly in slot order; replaced records leave garbage behind until
/// the next compaction.
#[derive(Debug, Default)]
struct Arena {
    spans: Vec<Span>,
    ascii: Vec<u8>,
    wide: Vec<char>,
    /// Spans no record refers to any more.
    dead_spans: usize,
}

impl Arena {
    fn text(&self, span: &Span) -> Utf32Str<'_> {
        let range = span.start as usize..(span.start + span.len) as usize;
        if span.wide {
            Utf32Str::Unicode(self.wide.get(range).unwrap_or_default())
        } else {
            Utf32Str::Ascii(self.ascii.get(range).unwrap_or_default())
        }
    }

    fn spans(&self, meta: &Meta) -> &[Span] {
        let start = meta.spans as usize;
        self.spans
            .get(start..start + usize::from(meta.nspans))
            .unwrap_or_default()
    }
}

/// What the rest of a record needs: the recipient itself and its sort key.
#[derive(Debug)]
struct Entry {
    rec: Recipient,
    /// Folded lower-case name: the sort key (with the id).
    sort_key: Box<str>,
}

/// The cache line a search reads for every record. Masks are over [`char_bit`]s of
/// folded lower-case chars, across all fields.
#[derive(Debug, Clone, Copy, Default)]
struct Meta {
    /// Characters present.
    any: u64,
    /// Characters at a position where nucleo's bonus is 9 or 10 (start of text, after
    /// whitespace or a delimiter).
    b10: u64,
    /// … where it is 8 (after other punctuation; punctuation itself).
    b8: u64,
    /// … where it is 5 (camelCase hump, first digit after a non-digit).
    b5: u64,
    /// One bit per word (maximal run of letters and digits), by hash.
    words: u64,
    /// Position in name order as an order-maintenance key: ranks increase with (name, id) but
    /// leave gaps, so an upsert rarely renumbers.
    rank: u64,
    /// Hashes of the unit's letters and digits ("b1204") and of its digits ("1204"); 0: none.
    unit: u32,
    unit_num: u32,
    /// The record's spans in the arena.
    spans: u32,
    nspans: u8,
    active: bool,
}

/// A 256-bit Bloom filter of the pairs of adjacent characters (folded lower-case) in a record's
/// fields: when an atom's pair is absent, nucleo cannot match those two consecutively, which
/// tightens the bound a lot for word-like queries ("moha" against "Maria Hoffmann").
type Pairs = [u64; 4];

fn pair_bit(a: char, b: char) -> (usize, u64) {
    let h = ((u64::from(u32::from(a)) << 32) | u64::from(u32::from(b)))
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        >> 56;
    ((h >> 6) as usize, 1 << (h & 63))
}

/// Gap between consecutive ranks after a (re)numbering.
const RANK_GAP: u64 = 1 << 24;

static NEXT_INDEX_ID: AtomicU64 = AtomicU64::new(1);

/// The recipients of one facility, ready for fuzzy search. `Send + Sync`; searches take `&self`
/// and changes ([`upsert`](Self::upsert), [`remove`](Self::remove)) take `&mut self`: share it
/// behind an `RwLock`.
#[derive(Debug)]
pub struct RecipientIndex {
    /// Slot → recipient; `None` for a free slot.
    entries: Vec<Option<Entry>>,
    /// Slot → masks (all zero for a free slot).
    metas: Vec<Meta>,
    /// Slot → pair filter (read only for records that pass the masks).
    pairs: Vec<Pairs>,
    arena: Arena,
    free: Vec<u32>,
    by_id: HashMap<i64, u32>,
    /// Occupied slots sorted by (sort key, id), i.e. by rank.
    order: Vec<u32>,
    /// Identifies this index and its state for a [`Searcher`]'s cache.
    instance: u64,
    generation: u64,
}

impl RecipientIndex {
    /// Builds the index (once per facility, on first use). A repeated id keeps the last record.
    pub fn new(recipients: Vec<Recipient>) -> Self {
        let mut index = RecipientIndex {
            entries: Vec::with_capacity(recipients.len()),
            metas: Vec::with_capacity(recipients.len()),
            pairs: Vec::with_capacity(recipients.len()),
            arena: Arena::default(),
            free: Vec::new(),
            by_id: HashMap::with_capacity(recipients.len()),
            order: Vec::with_capacity(recipients.len()),
            instance: NEXT_INDEX_ID.fetch_add(1, AtomicOrdering::Relaxed),
            generation: 0,
        };
        let mut latest: HashMap<i64, usize> = HashMap::with_capacity(recipients.len());
        for (i, r) in recipients.iter().enumerate() {
            latest.insert(r.id, i);
        }
        let mut entries: Vec<Entry> = recipients
            .into_iter()
            .enumerate()
            .filter(|(i, r)| latest.get(&r.id) == Some(i))
            .map(|(_, r)| Entry::new(r))
            .collect();
        // Slots in name order: the scan (in slot order) then meets ties in name order, and
        // the arena is laid out in the order records are read.
        entries.sort_unstable_by(cmp_entries);
        for entry in entries {
            let slot = index.attach(entry);
            index.order.push(slot);
        }
        index.renumber();
        index
    }

    /// Adds a recipient or replaces the one with the same id. No rebuild: the record's own
    /// masks and texts, plus one binary search and `memmove` in the name order.
    pub fn upsert(&mut self, r: Recipient) {
        if let Some(&slot) = self.by_id.get(&r.id) {
            self.remove_from_order(slot);
            self.detach(slot);
        }
        let slot = self.attach(Entry::new(r));
        let entries = &self.entries;
        let pos = self
            .order
            .partition_point(|&s| cmp_slots(entries, s, slot) == Ordering::Less);
        self.order.insert(pos, slot);
        let rank_at = |p: Option<usize>| {
            p.and_then(|p| self.order.get(p))
                .and_then(|&s| self.metas.get(s as usize))
                .map(|m| m.rank)
        };
        let before = rank_at(pos.checked_sub(1)).unwrap_or(0);
        let after = rank_at(Some(pos + 1)).unwrap_or(before.saturating_add(2 * RANK_GAP));
        if after.saturating_sub(before) >= 2 {
            self.metas[slot as usize].rank = before + (after - before) / 2;
        } else {
            self.renumber();
        }
        self.generation += 1;
        self.maybe_compact();
    }

    /// Removes the recipient with this id, if present.
    pub fn remove(&mut self, id: i64) {
        if let Some(&slot) = self.by_id.get(&id) {
            self.remove_from_order(slot);
            self.detach(slot);
            self.generation += 1;
            self.maybe_compact();
        }
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    pub fn get(&self, id: i64) -> Option<&Recipient> {
        let slot = *self.by_id.get(&id)?;
        self.entry(slot).map(|e| &e.rec)
    }

    /// Top `limit` matches for `query` (fuzzy over name, unit, email, aliases), best first.
    /// Inactive recipients only when `include_inactive`. Empty query: the first `limit`
    /// recipients by name (active ones only unless `include_inactive`), score 0, no highlights.
    ///
    /// A search box should keep a [`Searcher`] instead: it reuses nucleo's matcher and narrows
    /// the previous keystroke's candidates.
    pub fn search(&self, query: &str, limit: usize, include_inactive: bool) -> Vec<Hit> {
        Searcher::new().search(self, query, limit, include_inactive)
    }

    fn entry(&self, slot: u32) -> Option<&Entry> {
        self.entries.get(slot as usize).and_then(Option::as_ref)
    }

    /// Puts a record in a free slot: masks, pair filter, texts (not `order`, not its rank).
    fn attach(&mut self, entry: Entry) -> u32 {
        let (meta, pairs) = self.prepare(&entry.rec);
        let id = entry.rec.id;
        let slot = match self.free.pop() {
            Some(slot) => {
                self.entries[slot as usize] = Some(entry);
                self.metas[slot as usize] = meta;
                self.pairs[slot as usize] = pairs;
                slot
            }
            None => {
                self.entries.push(Some(entry));
                self.metas.push(meta);
                self.pairs.push(pairs);
                (self.entries.len() - 1) as u32
            }
        };
        self.by_id.insert(id, slot);
        slot
    }

    /// Appends a recipient's texts to the arena and computes its masks and pair filter.
    fn prepare(&mut self, r: &Recipient) -> (Meta, Pairs) {
        let unit_key: String = r
            .unit
            .chars()
            .map(fold_lower)
            .filter(|c| c.is_alphanumeric())
            .collect();
        let unit_num: String = r.unit.chars().filter(char::is_ascii_digit).collect();
        let mut meta = Meta {
            unit: key_hash(&unit_key),
            unit_num: key_hash(&unit_num),
            spans: self.arena.spans.len() as u32,
            active: r.active,
            ..Meta::default()
        };
        let mut pairs = Pairs::default();
        let mut folded: Vec<char> = Vec::new();
        for (field, text) in fields(r).take(usize::from(u8::MAX)) {
            folded.clear();
            folded.extend(text.chars().map(fold_keep_case));
            let mut mask = 0;
            let mut prev_class = Class::Whitespace;
            let mut prev_lower: Option<char> = None;
            let mut word_hash: Option<u64> = None;
            for &c in &folded {
                let lower = chars::to_lower_case(chars::normalize(c));
                let bit = char_bit(lower);
                mask |= bit;
                let class = Class::of(c);
                match nucleo_bonus(prev_class, class) {
                    9.. => meta.b10 |= bit,
                    8 => meta.b8 |= bit,
                    5..=7 => meta.b5 |= bit,
                    _ => {}
                }
                prev_class = class;
                if let Some(p) = prev_lower {
                    let (i, pair) = pair_bit(p, lower);
                    pairs[i] |= pair;
                }
                prev_lower = Some(lower);
                if lower.is_alphanumeric() {
                    word_hash = Some(fnv(word_hash.unwrap_or(FNV_OFFSET), lower));
                } else if let Some(h) = word_hash.take() {
                    meta.words |= word_bit(h);
                }
            }
            if let Some(h) = word_hash {
                meta.words |= word_bit(h);
            }
            meta.any |= mask;
            let wide = !folded.iter().all(char::is_ascii);
            let start = if wide {
                let start = self.arena.wide.len();
                self.arena.wide.extend_from_slice(&folded);
                start
            } else {
                let start = self.arena.ascii.len();
                self.arena.ascii.extend(folded.iter().map(|&c| c as u8));
                start
            };
            self.arena.spans.push(Span {
                mask,
                start: start as u32,
                len: folded.len() as u32,
                field: field.code(),
                wide,
            });
            meta.nspans += 1;
        }
        (meta, pairs)
    }

    /// Frees a slot (already out of `order`).
    fn detach(&mut self, slot: u32) {
        let Some(entry) = self.entries.get_mut(slot as usize).and_then(Option::take) else {
            return;
        };
        self.by_id.remove(&entry.rec.id);
        self.arena.dead_spans += usize::from(self.metas[slot as usize].nspans);
        self.metas[slot as usize] = Meta::default();
        self.pairs[slot as usize] = Pairs::default();
        self.free.push(slot);
    }

    fn remove_from_order(&mut self, slot: u32) {
        let entries = &self.entries;
        let pos = self
            .order
            .partition_point(|&s| cmp_slots(entries, s, slot) == Ordering::Less);
        if self.order.get(pos) == Some(&slot) {
            self.order.remove(pos);
        } else if let Some(pos) = self.order.iter().position(|&s| s == slot) {
            self.order.remove(pos);
        }
    }

    /// Gives every record a rank from its position in `order`, with gaps.
    fn renumber(&mut self) {
        for (i, &slot) in self.order.iter().enumerate() {
            self.metas[slot as usize].rank = (i as u64 + 1) * RANK_GAP;
        }
    }

    /// Rewrites the arena in slot order once more than half of it is garbage.
    fn maybe_compact(&mut self) {
        let total = self.arena.spans.len();
        if self.arena.dead_spans < 4096 || self.arena.dead_spans * 2 < total {
            return;
        }
        let old = std::mem::take(&mut self.arena);
        for meta in &mut self.metas {
            let spans = old.spans(meta);
            let start = self.arena.spans.len() as u32;
            for span in spans {
                let range = span.start as usize..(span.start + span.len) as usize;
                let new_start = if span.wide {
                    let s = self.arena.wide.len();
                    self.arena
                        .wide
                        .extend_from_slice(old.wide.get(range).unwrap_or_default());
                    s
                } else {
                    let s = self.arena.ascii.len();
                    self.arena
                        .ascii
                        .extend_from_slice(old.ascii.get(range).unwrap_or_default());
                    s
                };
                self.arena.spans.push(Span {
                    start: new_start as u32,
                    ..*span
                });
            }
            meta.spans = start;
        }
    }
}

fn cmp_entries(x: &Entry, y: &Entry) -> Ordering {
    x.sort_key.cmp(&y.sort_key).then(x.rec.id.cmp(&y.rec.id))
}

fn cmp_slots(entries: &[Option<Entry>], a: u32, b: u32) -> Ordering {
    match (&entries[a as usize], &entries[b as usize]) {
        (Some(x), Some(y)) => cmp_entries(x, y),
        (x, y) => x.is_none().cmp(&y.is_none()),
    }
}

impl Entry {
    fn new(rec: Recipient) -> Self {
        let sort_key: String = rec.name.chars().map(fold_lower).collect();
        Entry {
            rec,
            sort_key: sort_key.into_boxed_str(),
        }
    }
}

/// nucleo's character classes (`nucleo_matcher::chars::CharClass` is private), in its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
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
    fn of(c: char) -> Class {
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
fn nucleo_bonus(prev: Class, class: Class) -> u32 {
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

/// Folds diacritics but keeps case: nucleo's table (`chars::normalize`), then ours for the
/// Latin letters it lacks (Vietnamese "ễ", capital "Ł", …). This is the text nucleo matches
/// (its camelCase bonus needs the case).
fn fold_keep_case(c: char) -> char {
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
fn fold_lower(c: char) -> char {
    chars::to_lower_case(fold_keep_case(c))
}

/// Base letters of U+0100..U+024F and U+1E00..U+1EFF (from their canonical decomposition,
/// plus the barred and stroked letters, which have none); '.': not a letter with a diacritic.
const FOLD_0100: &[u8; 336] = b"\
    AaAaAaCcCcCcCcDdDdEeEeEeEeEeGgGgGgGgHhHhIiIiIiIiIi..JjKkkLlLlLl.\
    .LlNnNnNn...OoOoOo..RrRrRrSsSsSsSsTtTtTtUuUuUuUuUuUuWwYyYZzZzZzs\
    bB.....Cc.D......FfG...IKkl..Nn.Oo..Pp......TtTUu.VYyZz.........\
    .............AaIiOoUuUuUuUuUu.AaAa....GgKkOoOo..j...Gg..NnAa....\
    AaAaEeEeIiIiOoOoRrRrUuUuSsTt..Hh.d....AaEeOoOoOoOoYylntj..ACcLTs\
    z..BU.EeJj..RrYy";
const FOLD_1E00: &[u8; 256] = b"\
    AaBbBbBbCcDdDdDdDdDdEeEeEeEeEeFfGgHhHhHhHhHhIiIiKkKkKkLlLlLlLlMm\
    MmMmNnNnNnNnOoOoOoOoPpPpRrRrRrRrSsSsSsSsSsTtTtTtTtUuUuUuUuUuVvVv\
    WwWwWwWwWwXxXxYyZzZzZzhtwy......AaAaAaAaAaAaAaAaAaAaAaAaEeEeEeEe\
    EeEeEeEeIiIiOoOoOoOoOoOoOoOoOoOoOoOoUuUuUuUuUuUuUuYyYyYyYy......";

/// Combining diacritical marks, dropped from queries (a decomposed "é" is "e").
fn is_combining(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}')
}

/// Bit of a folded lower-case char in a character-set mask: a-z and 0-9 get their own bits,
/// everything else shares the remaining 28.
fn char_bit(c: char) -> u64 {
    match c {
        'a'..='z' => 1 << (c as u32 - 'a' as u32),
        '0'..='9' => 1 << (26 + c as u32 - '0' as u32),
        _ => 1 << (36 + (c as u32 % 28)),
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn fnv(h: u64, c: char) -> u64 {
    (h ^ u64::from(u32::from(c))).wrapping_mul(0x0100_0000_01b3)
}

fn word_bit(h: u64) -> u64 {
    1 << (h >> 58)
}

/// Hash of a unit key or number; 0 for an empty one, never for a non-empty one.
fn key_hash(key: &str) -> u32 {
    if key.is_empty() {
        return 0;
    }
    let h = key.chars().fold(FNV_OFFSET, fnv);
    ((h >> 32) as u32 ^ h as u32) | 1
}

/// Whether `word` (folded lower-case letters and digits) occurs in `text` as a whole word.
fn has_word(text: Utf32Str<'_>, word: &[char]) -> bool {
    fn find<T: Copy>(
        text: &[T],
        word: &[char],
        lower: impl Fn(T) -> char,
        alnum: impl Fn(T) -> bool,
    ) -> bool {
        if word.is_empty() || word.len() > text.len() {
            return false;
        }
        (0..=text.len() - word.len()).any(|i| {
            (i == 0 || !alnum(text[i - 1]))
                && text.get(i + word.len()).is_none_or(|&c| !alnum(c))
                && text[i..i + word.len()]
                    .iter()
                    .zip(word)
                    .all(|(&c, &w)| lower(c) == w)
        })
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
struct QueryAtom {
    /// Folded, lower-case.
    chars: Vec<char>,
    atom: Atom,
    /// `char_bit` of each char.
    bits: Vec<u64>,
    /// `pair_bit` of each char with the one before it (none for the first char).
    pairs: Vec<(usize, u64)>,
    mask: u64,
    /// The atom's letters and digits, for the exact-unit check, and its hash (0: none).
    unit_key: String,
    unit_hash: u32,
    /// The atom's word bit, when it is a single word of two or more letters and digits.
    word_bit: Option<u64>,
    /// Lowest nucleo score of a contiguous match at a word start: below it the atom cannot be
    /// a whole word of the field.
    word_threshold: u32,
}

impl QueryAtom {
    fn parse(word: &str) -> Option<QueryAtom> {
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

    /// The bonuses on top of nucleo's score that a record could give this atom.
    #[inline]
    fn extra_bound(&self, meta: &Meta) -> u32 {
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
    fn bound(&self, meta: &Meta) -> Option<u32> {
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
    fn tight_bound(&self, meta: &Meta, pairs: &Pairs) -> u32 {
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

    /// This atom's score in one field with this module's adjustments; `None`: no match.
    fn span_score(
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
    fn is_unit_of(&self, r: &Recipient) -> bool {
        let key = r
            .unit
            .chars()
            .map(fold_lower)
            .filter(|c| c.is_alphanumeric());
        let num = r.unit.chars().filter(char::is_ascii_digit);
        key.eq(self.unit_key.chars()) || num.eq(self.unit_key.chars())
    }

    /// Best span and score of this atom in one record.
    fn best<'a>(
        &self,
        index: &'a RecipientIndex,
        slot: u32,
        meta: &Meta,
        matcher: &mut Matcher,
    ) -> Option<(u32, &'a Span)> {
        let mut best: Option<(u32, &Span)> = None;
        for span in index.arena.spans(meta) {
            if let Some(s) = self.span_score(index, slot, meta, span, matcher) {
                if best.is_none_or(|(b, _)| s > b) {
                    best = Some((s, span));
                }
            }
        }
        best
    }
}

/// Bonus bound of a char (its [`char_bit`]) from a record's masks.
#[inline]
fn own_bonus(meta: &Meta, bit: u64) -> u32 {
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

fn parse_query(query: &str) -> Vec<QueryAtom> {
    query
        .split_whitespace()
        .filter_map(QueryAtom::parse)
        .collect()
}

/// The records to look at: all slots, or the previous query's candidates.
#[derive(Debug, Clone)]
enum Source<'a> {
    All(std::ops::Range<u32>),
    Slots(&'a [u32]),
}

impl Source<'_> {
    fn len(&self) -> usize {
        match self {
            Source::All(r) => r.len(),
            Source::Slots(s) => s.len(),
        }
    }

    /// Splits into `n` parts of about equal size.
    fn split(self, n: usize) -> Vec<Self> {
        let chunk = self.len().div_ceil(n.max(1)).max(1);
        match self {
            Source::All(r) => (r.start..r.end)
                .step_by(chunk)
                .map(|s| Source::All(s..(s + chunk as u32).min(r.end)))
                .collect(),
            Source::Slots(s) => s.chunks(chunk).map(Source::Slots).collect(),
        }
    }
}

/// What one streaming pass found.
#[derive(Debug, Default)]
struct StreamOut {
    /// Its best `limit` hits (unsorted).
    top: Vec<Ranked>,
    /// Records that passed the masks and were not found not to match, ascending.
    survivors: Vec<u32>,
    candidates: usize,
    scored: usize,
}

/// One pass over `source` in slot order (mostly name order): masks, bounds, and nucleo for
/// each record that could still beat the current `limit`-th hit.
fn stream_pass(
    index: &RecipientIndex,
    atoms: &[QueryAtom],
    source: Source<'_>,
    include_inactive: bool,
    limit: usize,
    prune: bool,
    matcher: &mut Matcher,
) -> StreamOut {
    let mut out = StreamOut::default();
    let mut heap: BinaryHeap<Ranked> = BinaryHeap::with_capacity(limit.min(4096));
    let mut tight = vec![0u32; atoms.len()];
    let use_pairs = atoms.iter().any(|a| a.chars.len() > 1);
    let mut visit = |meta: &Meta, slot: u32| {
        if !(meta.active || include_inactive) || meta.nspans == 0 {
            return;
        }
        let mut bound = 0;
        for qa in atoms {
            match qa.bound(meta) {
                Some(b) => bound += b,
                None => return,
            }
        }
        out.candidates += 1;
        let worst = if prune && heap.len() == limit {
            heap.peek().copied()
        } else {
            None
        };
        if let Some(worst) = worst {
            if !worst.beatable(bound, meta.rank) {
                out.survivors.push(slot);
                return;
            }
            if use_pairs {
                if let Some(pairs) = index.pairs.get(slot as usize) {
                    for (t, qa) in tight.iter_mut().zip(atoms) {
                        *t = qa.tight_bound(meta, pairs);
                    }
                    if !worst.beatable(tight.iter().sum(), meta.rank) {
                        out.survivors.push(slot);
                        return;
                    }
                }
            }
        }
        out.scored += 1;
        let multi = worst.is_some() && use_pairs && atoms.len() > 1;
        let mut rest: u32 = if multi { tight.iter().sum() } else { 0 };
        let mut score = 0;
        for (qa, &t) in atoms.iter().zip(&tight) {
            let Some((s, _)) = qa.best(index, slot, meta, matcher) else {
                // Fails this query, and so every narrower one: not a survivor.
                return;
            };
            score += s;
            if let (Some(worst), true) = (worst, multi) {
                rest = rest.saturating_sub(t);
                if !worst.beatable(score + rest, meta.rank) {
                    out.survivors.push(slot);
                    return;
                }
            }
        }
        out.survivors.push(slot);
        debug_assert!(score <= bound, "bound {bound} < score {score}");
        let ranked = Ranked {
            score: Reverse(score),
            rank: meta.rank,
            slot,
        };
        if heap.len() < limit {
            heap.push(ranked);
        } else if heap.peek().is_some_and(|worst| ranked < *worst) {
            heap.pop();
            heap.push(ranked);
        }
    };
    match source {
        Source::All(range) => {
            let metas = index
                .metas
                .get(range.start as usize..range.end as usize)
                .unwrap_or_default();
            for (meta, slot) in metas.iter().zip(range.start..) {
                visit(meta, slot);
            }
        }
        Source::Slots(slots) => {
            for &slot in slots {
                if let Some(meta) = index.metas.get(slot as usize) {
                    visit(meta, slot);
                }
            }
        }
    }
    out.top = heap.into_vec();
    out
}

/// A hit in the top-k heap, whose top is the worst: lowest score, then latest in name order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Ranked {
    score: Reverse<u32>,
    rank: u64,
    slot: u32,
}

impl Ranked {
    /// Whether a record with this score bound and rank could still beat `self`.
    fn beatable(&self, bound: u32, rank: u64) -> bool {
        bound > self.score.0 || (bound == self.score.0 && rank < self.rank)
    }
}

/// What a [`Searcher`] remembers of its previous query.
#[derive(Debug)]
struct Cache {
    instance: u64,
    generation: u64,
    include_inactive: bool,
    atoms: Vec<Vec<char>>,
    /// The slots that passed the masks and were not found not to match, ascending.
    slots: Vec<u32>,
}

/// Counters of the last search (for benchmarks and tests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SearchStats {
    /// Records looked at (all, or the previous query's survivors).
    pub examined: usize,
    /// Records that passed the masks.
    pub candidates: usize,
    /// Records nucleo scored.
    pub scored: usize,
    /// Whether the previous query's survivors were reused.
    pub narrowed: bool,
}

/// Searches an index keystroke after keystroke: holds nucleo's matchers (about 135 KB each,
/// one per thread) and the previous query's survivors, so typing on looks only at those. One
/// per search box (it is `Send`: keep it in the session); fine for unrelated queries too (it
/// notices when a query doesn't narrow the previous one, and when the index changed).
#[derive(Debug)]
pub struct Searcher {
    /// One per thread.
    matchers: Vec<Matcher>,
    threads: usize,
    /// Passes over fewer records than this stay on one thread.
    parallel_min: usize,
    cache: Option<Cache>,
    prune: bool,
    stats: SearchStats,
}

impl Default for Searcher {
    fn default() -> Self {
        Self::new()
    }
}

impl Searcher {
    /// A single-threaded searcher: with many sessions typing at once the cores are better spent
    /// on other sessions, and on the shared two-core machine the benchmark ran on, two threads
    /// were no faster even at 1M records.
    pub fn new() -> Self {
        Self::with_threads(1)
    }

    /// A searcher that splits passes over large indexes (200k records and more) over up to
    /// `threads` threads (at least 1).
    pub fn with_threads(threads: usize) -> Self {
        Searcher {
            matchers: Vec::new(),
            threads: threads.max(1),
            parallel_min: PARALLEL_MIN,
            cache: None,
            prune: true,
            stats: SearchStats::default(),
        }
    }

    /// Forgets the previous query (the next search looks at the whole index).
    pub fn reset(&mut self) {
        self.cache = None;
    }

    /// Counters of the last search.
    pub fn stats(&self) -> SearchStats {
        self.stats
    }

    /// Every field of recipient `id` that matched a word of `query`, with the matched
    /// characters, in field order: for highlighting name *and* unit after "smith 1204". Empty
    /// when the recipient doesn't match (or isn't in the index). A few microseconds each.
    pub fn highlights(&mut self, index: &RecipientIndex, query: &str, id: i64) -> Vec<FieldMatch> {
        let atoms = parse_query(query);
        let Some(&slot) = index.by_id.get(&id) else {
            return Vec::new();
        };
        if self.matchers.is_empty() {
            self.matchers.push(Matcher::new(Config::DEFAULT));
        }
        let Some(matcher) = self.matchers.first_mut() else {
            return Vec::new();
        };
        let mut fields: Vec<FieldMatch> = field_matches(index, &atoms, slot, matcher)
            .unwrap_or_default()
            .into_iter()
            .map(|(field, _, indices)| FieldMatch { field, indices })
            .collect();
        fields.sort_by_key(|f| f.field);
        fields
    }

    /// See [`RecipientIndex::search`].
    pub fn search(
        &mut self,
        index: &RecipientIndex,
        query: &str,
        limit: usize,
        include_inactive: bool,
    ) -> Vec<Hit> {
        self.stats = SearchStats::default();
        let atoms = parse_query(query);
        if limit == 0 {
            return Vec::new();
        }
        if atoms.is_empty() {
            self.cache = None;
            return index
                .order
                .iter()
                .filter_map(|&slot| index.entry(slot))
                .filter(|e| include_inactive || e.rec.active)
                .take(limit)
                .map(|e| Hit {
                    id: e.rec.id,
                    score: 0,
                    field: Field::Name,
                    indices: Vec::new(),
                })
                .collect();
        }

        // The previous query's survivors, when this query can only match fewer records.
        let cached = self.cache.take().filter(|c| {
            c.instance == index.instance
                && c.generation == index.generation
                && c.include_inactive == include_inactive
                && narrows(&c.atoms, &atoms)
        });
        self.stats.narrowed = cached.is_some();
        let cached_slots = cached.map(|c| c.slots);
        let source = match &cached_slots {
            Some(slots) => Source::Slots(slots),
            None => Source::All(0..index.metas.len() as u32),
        };
        self.stats.examined = source.len();
        let parts = if self.threads > 1 && source.len() >= self.parallel_min {
            source.split(self.threads)
        } else {
            vec![source]
        };
        while self.matchers.len() < parts.len() {
            self.matchers.push(Matcher::new(Config::DEFAULT));
        }
        let prune = self.prune;
        let atoms_ref = &atoms;
        let outs: Vec<StreamOut> = if parts.len() == 1 {
            parts
                .into_iter()
                .zip(self.matchers.iter_mut())
                .map(|(part, m)| {
                    stream_pass(index, atoms_ref, part, include_inactive, limit, prune, m)
                })
                .collect()
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> = parts
                    .into_iter()
                    .zip(self.matchers.iter_mut())
                    .map(|(part, m)| {
                        s.spawn(move || {
                            stream_pass(index, atoms_ref, part, include_inactive, limit, prune, m)
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| match h.join() {
                        Ok(out) => out,
                        // A panic in a pass is a bug; going on without its part would silently
                        // hide recipients, so pass it on.
                        Err(panic) => std::panic::resume_unwind(panic),
                    })
                    .collect()
            })
        };

        // Each part kept its own best `limit`; the best of those are the best overall.
        let mut top = Vec::new();
        let mut survivors = Vec::new();
        for out in outs {
            self.stats.candidates += out.candidates;
            self.stats.scored += out.scored;
            top.extend(out.top);
            survivors.extend(out.survivors);
        }
        top.sort_unstable();
        top.truncate(limit);
        let hits = match self.matchers.first_mut() {
            Some(matcher) => top
                .iter()
                .filter_map(|r| hit(index, &atoms, r, matcher))
                .collect(),
            None => Vec::new(),
        };
        self.cache = Some(Cache {
            instance: index.instance,
            generation: index.generation,
            include_inactive,
            atoms: atoms.into_iter().map(|a| a.chars).collect(),
            slots: survivors,
        });
        hits
    }
}

/// Whether every record matching `new` also matches `old`: each old atom is a subsequence of
/// the new atom in the same position (typing on, or adding a word).
fn narrows(old: &[Vec<char>], new: &[QueryAtom]) -> bool {
    old.len() <= new.len()
        && old.iter().zip(new).all(|(o, n)| {
            let mut it = n.chars.iter();
            o.iter().all(|c| it.any(|x| x == c))
        })
}

/// Per field that some atom picked: its share of the score and the highlight indices, the
/// largest share first (then field order). `None`: the record doesn't match.
fn field_matches(
    index: &RecipientIndex,
    atoms: &[QueryAtom],
    slot: u32,
    m: &mut Matcher,
) -> Option<Vec<(Field, u32, Vec<u32>)>> {
    let meta = index.metas.get(slot as usize)?;
    let mut fields: Vec<(Field, u32, Vec<u32>)> = Vec::new();
    for qa in atoms {
        let (score, span) = qa.best(index, slot, meta, m)?;
        let field = Field::from_code(span.field);
        let mut indices = Vec::new();
        qa.atom.indices(index.arena.text(span), m, &mut indices)?;
        match fields.iter_mut().find(|(f, _, _)| *f == field) {
            Some((_, s, idx)) => {
                *s += score;
                idx.extend(indices);
            }
            None => fields.push((field, score, indices)),
        }
    }
    for (_, _, idx) in &mut fields {
        idx.sort_unstable();
        idx.dedup();
    }
    fields.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Some(fields)
}

/// Builds the hit for a ranked record: its primary field and highlight indices.
fn hit(index: &RecipientIndex, atoms: &[QueryAtom], r: &Ranked, m: &mut Matcher) -> Option<Hit> {
    let entry = index.entry(r.slot)?;
    let (field, _, indices) = field_matches(index, atoms, r.slot, m)?.into_iter().next()?;
    Some(Hit {
        id: entry.rec.id,
        score: r.score.0,
        field,
        indices,
    })
}

// ---------------------------------------------------------------------------------------------
// Synthetic directory (tests and benches)
// ---------------------------------------------------------------------------------------------

/// Given names, most common first (the generator prefers the front of each list).
const GIVEN: &[&str] = &[
    "James",
    "Maria",
    "Mohammed",
    "Wei",
    "Anna",
    "John",
    "Sofia",
    "David",
    "Fatima",
    "Michael",
    "Aisha",
    "José",
    "Elena",
    "Robert",
    "Priya",
    "Daniel",
    "Mei",
    "William",
    "Olga",
    "Ahmed",
    "Sarah",
    "Juan",
    "Li",
    "Emma",
    "Carlos",
    "Yuki",
    "Thomas",
    "Ana",
    "Dmitri",
    "Grace",
    "Raj",
    "Chloé",
    "Omar",
    "Hannah",
    "Luis",
    "Ngozi",
    "Christopher",
    "Zoë",
    "Björn",
    "Amara",
    "Elizabeth",
    "Hiroshi",
    "Katherine",
    "Andrés",
    "Chen",
    "Leila",
    "Samuel",
    "Ingrid",
    "Kwame",
    "Jennifer",
    "François",
    "Aleksandr",
    "Min-jun",
    "Lucía",
    "Arjun",
    "Margaret",
    "Tariq",
    "Nicholas",
    "Siobhan",
    "Mateo",
    "Ji-woo",
    "Benjamin",
    "Aylin",
    "Emeka",
    "Sebastián",
    "Ekaterina",
    "Anthony",
    "Nadia",
    "Hamid",
    "Isabella",
    "Oluwaseun",
    "Jürgen",
    "Thi",
    "Renée",
    "Alejandro",
    "Kenji",
    "Małgorzata",
    "Søren",
    "Abebe",
    "Inés",
    "Giovanni",
    "Anaïs",
    "Jonathan",
    "Francisco",
    "Guadalupe",
    "Łukasz",
    "Håkon",
    "Ümit",
    "Özlem",
    "Göran",
    "Zoltán",
    "Dóra",
    "Ólafur",
    "Chinedu",
    "Saoirse",
    "Tomás",
    "Yusuf",
    "Xiaoming",
    "Ravi",
    "Minh",
    "Noor",
    "Lars",
    "Rosa",
    "Pedro",
    "Ivan",
    "Amir",
    "Kofi",
    "Astrid",
    "Lin",
    "Ayesha",
    "Patrick",
    "Ines",
    "Hyun-woo",
    "Vikram",
    "Camille",
    "Bogdan",
    "Thandiwe",
    "Matteo",
];

/// Family names, most common first.
const FAMILY: &[&str] = &[
    "Smith",
    "Wang",
    "García",
    "Nguyễn",
    "Kim",
    "Müller",
    "Johnson",
    "Li",
    "Hernández",
    "Khan",
    "Patel",
    "Ivanov",
    "Rossi",
    "Silva",
    "Zhang",
    "Brown",
    "Martínez",
    "Chen",
    "Okafor",
    "Kowalski",
    "Nowak",
    "Yamamoto",
    "Singh",
    "Williams",
    "López",
    "Park",
    "Schmidt",
    "Ali",
    "Dubois",
    "O'Brien",
    "Andersson",
    "Sato",
    "Ahmed",
    "Jones",
    "González",
    "Lee",
    "Fernández",
    "Hoffmann",
    "Rodríguez",
    "Tanaka",
    "Haddad",
    "Mensah",
    "Van der Berg",
    "Dvořák",
    "Núñez",
    "Gómez",
    "Şahin",
    "Çelik",
    "Jørgensen",
    "Đặng",
    "Pérez",
    "Kumar",
    "McDonald",
    "de la Cruz",
    "Al-Hassan",
    "Adeyemi",
    "Papadopoulos",
    "Novak",
    "Horváth",
    "Lefèvre",
    "Moreau",
    "Bianchi",
    "Esposito",
    "Murphy",
    "Kelly",
    "Wilson",
    "Taylor",
    "Sánchez",
    "Ramírez",
    "Suzuki",
    "Takahashi",
    "Choi",
    "Jung",
    "Huang",
    "Liu",
    "Yang",
    "Wu",
    "Abdullah",
    "Hussein",
    "Mahmoud",
    "Eze",
    "Nwosu",
    "Bekele",
    "Tesfaye",
    "Kariuki",
    "Otieno",
    "Fischer",
    "Weber",
    "Wagner",
    "Becker",
    "Schäfer",
    "Nielsen",
    "Hansen",
    "Virtanen",
    "Korhonen",
    "Björk",
    "Lindqvist",
    "Öztürk",
    "Yılmaz",
    "Kaya",
    "Demir",
    "Popescu",
    "Ionescu",
    "Kovács",
    "Szabó",
    "Novák",
    "Svoboda",
    "Petrov",
    "Sokolov",
    "Kuznetsova",
    "Smirnov",
    "Morozov",
    "Costa",
    "Oliveira",
    "Santos",
    "Pereira",
    "Almeida",
    "Gupta",
    "Sharma",
    "Reddy",
    "Iyer",
    "Das",
    "Bose",
    "Mukherjee",
    "Rahman",
    "Hossain",
    "Chowdhury",
    "Tran",
    "Pham",
    "Hoang",
    "Vu",
    "Bui",
    "Do",
    "Ngo",
    "Duong",
    "Ly",
    "Thompson",
    "White",
    "Harris",
    "Martin",
    "Clark",
    "Lewis",
    "Walker",
    "Hall",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Adams",
    "Nelson",
    "Hill",
    "Campbell",
    "Mitchell",
    "Roberts",
    "Carter",
    "Phillips",
    "Evans",
    "Turner",
    "Torres",
    "Parker",
    "Collins",
    "Edwards",
    "Stewart",
    "Flores",
    "Morris",
    "Rivera",
    "Cook",
    "Rogers",
    "Morgan",
    "Peterson",
    "Cooper",
    "Reed",
    "Bailey",
    "Bell",
    "Kelly-Nolan",
    "Smith-Jones",
    "García-López",
    "Fitzgerald",
    "MacLeod",
    "Ó Súilleabháin",
    "Lindström",
    "Åberg",
    "Lehmann",
    "Krüger",
    "Vogel",
    "Zimmermann",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Wolf",
    "Smithers",
    "Smythe",
    "Leeds",
    "Leeman",
];

/// Nicknames: (given name, alias given names).
const NICKNAMES: &[(&str, &[&str])] = &[
    ("Robert", &["Bob", "Rob"]),
    ("William", &["Bill", "Will"]),
    ("Elizabeth", &["Liz", "Beth"]),
    ("Katherine", &["Kate", "Katie"]),
    ("Michael", &["Mike"]),
    ("Jennifer", &["Jen"]),
    ("Christopher", &["Chris"]),
    ("Margaret", &["Maggie", "Peggy"]),
    ("James", &["Jim", "Jimmy"]),
    ("Thomas", &["Tom"]),
    ("Nicholas", &["Nick"]),
    ("Anthony", &["Tony"]),
    ("Jonathan", &["Jon"]),
    ("Samuel", &["Sam"]),
    ("Benjamin", &["Ben"]),
    ("Daniel", &["Dan"]),
    ("Alejandro", &["Alex"]),
    ("Francisco", &["Paco"]),
    ("José", &["Pepe"]),
    ("Guadalupe", &["Lupe"]),
    ("Dmitri", &["Dima"]),
    ("Aleksandr", &["Sasha"]),
    ("Ekaterina", &["Katya"]),
    ("Mohammed", &["Mo"]),
    ("Oluwaseun", &["Seun"]),
    ("Xiaoming", &["Kevin"]),
    ("Wei", &["David"]),
    ("Hiroshi", &["Hiro"]),
];

/// Names written in their own script, with the romanization kept as an alias.
const NATIVE: &[(&str, &str)] = &[
    ("王芳", "Wang Fang"),
    ("李娜", "Li Na"),
    ("张伟", "Zhang Wei"),
    ("Дмитрий Иванов", "Dmitry Ivanov"),
    ("Ольга Петрова", "Olga Petrova"),
    ("김민준", "Kim Min-jun"),
    ("이서연", "Lee Seo-yeon"),
    ("Γιώργος Παπαδόπουλος", "Giorgos Papadopoulos"),
    ("محمد علي", "Mohammed Ali"),
    ("佐藤健", "Sato Ken"),
];

const DOMAINS: &[&str] = &[
    "example.com",
    "example.org",
    "mail.example.net",
    "uni.example.edu",
    "corp.example.com",
];

/// A small deterministic generator: a 64-bit LCG (Knuth's MMIX constants) with an xorshift
/// output step, so that low bits are usable too.
#[derive(Debug, Clone)]
struct Lcg(u64);

impl Lcg {
    fn new(seed: u64) -> Self {
        let mut lcg = Lcg(seed ^ 0x9E37_79B9_7F4A_7C15);
        lcg.next_u64();
        lcg
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let x = self.0;
        (x ^ (x >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9) ^ (x >> 32)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// In `0..n`, skewed towards 0 (roughly Zipf-like: common names first).
    fn skewed(&mut self, n: usize) -> usize {
        let a = self.below(n);
        let b = self.below(n);
        a.min(b).min(self.below(n))
    }

    /// True with probability `pct` percent.
    fn chance(&mut self, pct: usize) -> bool {
        self.below(1000) < pct * 10
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.skewed(items.len())]
    }
}

fn ascii_lower(s: &str) -> String {
    s.chars()
        .map(fold_lower)
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

/// A deterministic, realistic directory of `n` recipients (ids 1..=n) for tests and benches:
/// multicultural names (some with diacritics, about 1% in their own script with a romanized
/// alias), units like "B-1204" shared by about 2.5 people, emails for 85%, phones for 60%,
/// nicknames and former names as aliases, about 3% inactive. Same `(n, seed)`, same output.
pub fn synthetic_directory(n: usize, seed: u64) -> Vec<Recipient> {
    let mut rng = Lcg::new(seed);
    let buildings = (1 + n / 8000).min(26);
    let floors = 40;
    let rooms = (n * 2 / 5 / (buildings * floors)).clamp(2, 99);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let id = i as i64 + 1;
        let mut aliases = Vec::new();
        let (name, email_base) = if rng.chance(1) {
            let (native, roman) = NATIVE[rng.below(NATIVE.len())];
            aliases.push(roman.to_owned());
            (native.to_owned(), roman.to_owned())
        } else {
            let given = rng.pick(GIVEN);
            let family = rng.pick(FAMILY);
            let name = if rng.chance(8) {
                let middle = rng.pick(GIVEN);
                format!("{given} {middle} {family}")
            } else {
                format!("{given} {family}")
            };
            if let Some((_, nicks)) = NICKNAMES.iter().find(|(g, _)| *g == given) {
                if rng.chance(40) {
                    let nick = nicks[rng.below(nicks.len())];
                    aliases.push(format!("{nick} {family}"));
                }
            }
            if rng.chance(4) {
                // A former or other family name.
                let other = rng.pick(FAMILY);
                aliases.push(format!("{given} {other}"));
            }
            (name, format!("{given} {family}"))
        };
        let unit = if rng.chance(2) {
            match rng.below(3) {
                0 => format!("Suite {}", 100 + rng.below(400)),
                1 => format!("PH-{}", 1 + rng.below(8)),
                _ => format!("Office {}", 10 + rng.below(90)),
            }
        } else {
            let b = (b'A' + rng.below(buildings) as u8) as char;
            let floor = 1 + rng.below(floors);
            let room = 1 + rng.below(rooms);
            format!("{b}-{floor}{room:02}")
        };
        let email = rng.chance(85).then(|| {
            let mut parts = email_base.split_whitespace().map(ascii_lower);
            let first = parts.next().unwrap_or_default();
            let last = parts.next_back().unwrap_or_default();
            let domain = DOMAINS[rng.skewed(DOMAINS.len())];
            match rng.below(4) {
                0 => format!("{first}.{last}@{domain}"),
                1 => format!("{}{last}@{domain}", first.chars().next().unwrap_or('x')),
                2 => format!("{first}.{last}{}@{domain}", rng.below(100)),
                _ => format!("{last}.{first}@{domain}"),
            }
        });
        let phone = rng
            .chance(60)
            .then(|| format!("+1 555 {:03} {:04}", rng.below(1000), rng.below(10_000)));
        let active = !rng.chance(3);
        out.push(Recipient {
            id,
            name,
            unit,
            email,
            phone,
            aliases,
            active,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: i64, name: &str, unit: &str) -> Recipient {
        Recipient {
            id,
            name: name.to_owned(),
            unit: unit.to_owned(),
            email: None,
            phone: None,
            aliases: Vec::new(),
            active: true,
        }
    }

    fn with_email(mut r: Recipient, email: &str) -> Recipient {
        r.email = Some(email.to_owned());
        r
    }

    fn with_aliases(mut r: Recipient, aliases: &[&str]) -> Recipient {
        r.aliases = aliases.iter().map(|a| (*a).to_owned()).collect();
        r
    }

    fn inactive(mut r: Recipient) -> Recipient {
        r.active = false;
        r
    }

    fn ids(hits: &[Hit]) -> Vec<i64> {
        hits.iter().map(|h| h.id).collect()
    }

    fn brute_force() -> Searcher {
        Searcher {
            prune: false,
            ..Searcher::with_threads(1)
        }
    }

    /// Chars of `text` at `indices`, folded like the matcher folds them.
    fn chars_at(text: &str, indices: &[u32]) -> Vec<char> {
        let chars: Vec<char> = text.chars().collect();
        indices
            .iter()
            .map(|&i| fold_lower(chars[i as usize]))
            .collect()
    }

    fn fold(s: &str) -> Vec<char> {
        s.chars().map(fold_lower).collect()
    }

    #[test]
    fn index_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<RecipientIndex>();
        check::<Searcher>();
        check::<Hit>();
    }

    #[test]
    fn generator_is_deterministic_and_realistic() {
        let a = synthetic_directory(20_000, 7);
        let b = synthetic_directory(20_000, 7);
        assert_eq!(a, b);
        assert_ne!(a, synthetic_directory(20_000, 8));
        // A prefix of a bigger directory is not required, but ids are 1..=n.
        assert!(a.iter().enumerate().all(|(i, r)| r.id == i as i64 + 1));
        let inactive = a.iter().filter(|r| !r.active).count() as f64 / a.len() as f64;
        assert!(
            (0.02..0.04).contains(&inactive),
            "inactive share {inactive}"
        );
        assert!(a.iter().any(|r| !r.name.is_ascii()), "some diacritics");
        assert!(a.iter().any(|r| !r.aliases.is_empty()));
        assert!(a.iter().any(|r| r.email.is_none()));
        assert!(a.iter().any(|r| r.phone.is_some()));
        let units_like_b1204 = a
            .iter()
            .filter(|r| {
                let (b, n) = r.unit.split_once('-').unwrap_or(("", ""));
                b.len() == 1 && n.len() >= 3 && n.chars().all(|c| c.is_ascii_digit())
            })
            .count();
        assert!(units_like_b1204 > a.len() * 9 / 10);
        assert!(
            a.iter()
                .filter_map(|r| r.email.as_deref())
                .all(|e| e.contains('@') && e.is_ascii())
        );
    }

    #[test]
    fn exact_unit_ranks_first() {
        let index = RecipientIndex::new(vec![
            rec(1, "Yan Beta", "B-12040"),
            with_email(rec(2, "Xu Gamma", "C-1120"), "x1204@example.com"),
            rec(3, "Zed Alpha", "B-1204"),
            rec(4, "Wim Delta", "A-1204"),
            rec(5, "Vic Eps", "D-11204"),
        ]);
        let hits = index.search("1204", 10, false);
        assert_eq!(ids(&hits)[..2], [4, 3], "{hits:?}");
        assert_eq!(hits[0].field, Field::Unit);
        assert_eq!(hits[0].indices, vec![2, 3, 4, 5]);
        assert_eq!(hits.len(), 5);
        for q in ["b1204", "B-1204", "b-1204"] {
            let hits = index.search(q, 10, false);
            assert_eq!(hits[0].id, 3, "{q}: {hits:?}");
            assert!(hits.iter().all(|h| h.id != 2 || h.score < hits[0].score));
        }
    }

    #[test]
    fn word_starts_rank_above_scattered_matches() {
        let index = RecipientIndex::new(vec![
            rec(1, "Sam Ithaca", "A-101"),
            rec(2, "Anna Smith", "A-102"),
            rec(3, "Major Tomasz", "A-103"),
            rec(4, "John Doe", "A-104"),
            rec(5, "Ann Leeds", "A-105"),
            rec(6, "Ann Lee", "A-106"),
            rec(7, "Kalee Ng", "A-107"),
        ]);
        assert_eq!(ids(&index.search("smith", 10, false)), vec![2, 1]);
        assert_eq!(ids(&index.search("jo", 10, false))[0], 4);
        assert_eq!(ids(&index.search("lee", 10, false)), vec![6, 5, 7]);
        // Case doesn't matter.
        assert_eq!(
            ids(&index.search("SMITH", 10, false)),
            ids(&index.search("smith", 10, false))
        );
    }

    #[test]
    fn multi_word_queries_match_name_and_unit() {
        let index = RecipientIndex::new(vec![
            rec(1, "Jane Doe", "B-1204"),
            rec(2, "Anna Smith", "C-3001"),
            rec(3, "Peter Smith", "B-1204"),
            rec(4, "Smithers Lane", "B-1204"),
            rec(5, "Mia Smith", "B-1205"),
        ]);
        for q in ["smith 1204", "1204 smi", "1204 smith", "Smith b-1204"] {
            let hits = index.search(q, 10, false);
            assert_eq!(hits[0].id, 3, "{q}: {hits:?}");
            assert!(!ids(&hits).contains(&1), "{q}: every word must match");
            assert!(!ids(&hits).contains(&2), "{q}: every word must match");
            let fields = Searcher::new().highlights(&index, q, 3);
            let [name, unit] = fields.as_slice() else {
                panic!("{q}: {fields:?}");
            };
            assert_eq!((name.field, unit.field), (Field::Name, Field::Unit));
            assert!(hits[0].field == Field::Name || hits[0].field == Field::Unit);
            assert!(
                fields
                    .iter()
                    .any(|f| f.field == hits[0].field && f.indices == hits[0].indices)
            );
            assert_eq!(chars_at("Peter Smith", &name.indices)[..3], fold("smi")[..]);
            let at = chars_at("B-1204", &unit.indices);
            assert!(at == fold("1204") || at == fold("b-1204"), "{q}: {at:?}");
        }
        // The score is the sum over words.
        let both = index.search("smith 1204", 10, false);
        let smith = index.search("smith", 10, false);
        let unit = index.search("1204", 10, false);
        let score = |hits: &[Hit], id| hits.iter().find(|h| h.id == id).map(|h| h.score);
        assert_eq!(
            score(&both, 3),
            Some(score(&smith, 3).unwrap_or(0) + score(&unit, 3).unwrap_or(0))
        );
    }

    #[test]
    fn names_beat_aliases_beat_emails() {
        let index = RecipientIndex::new(vec![
            with_email(rec(1, "Carla Diaz", "A-1"), "bob@example.com"),
            with_aliases(rec(2, "Robert Hill", "A-2"), &["Bob Hill"]),
            rec(3, "Bob Stone", "A-3"),
        ]);
        let hits = index.search("bob", 10, false);
        assert_eq!(ids(&hits), vec![3, 2, 1]);
        assert_eq!(hits[1].field, Field::Alias(0));
        assert_eq!(hits[2].field, Field::Email);
        assert_eq!(hits[2].indices, vec![0, 1, 2]);
    }

    #[test]
    fn diacritics_are_ignored_both_ways() {
        let index = RecipientIndex::new(vec![
            rec(1, "Björn Ek", "A-1"),
            rec(2, "Bjorn Berg", "A-2"),
            rec(3, "Zoë Müller", "A-3"),
            rec(4, "Łukasz Nowak", "A-4"),
            rec(5, "Nguyễn Văn An", "A-5"),
            rec(6, "José Núñez", "A-6"),
            // Decomposed: "e" + combining acute.
            rec(7, "Rene\u{301}e Dubois", "A-7"),
        ]);
        let found = |q: &str| {
            let mut v = ids(&index.search(q, 10, false));
            v.sort_unstable();
            v
        };
        assert_eq!(found("bjorn"), vec![1, 2]);
        assert_eq!(found("björn"), vec![1, 2]);
        assert_eq!(found("BJÖRN"), vec![1, 2]);
        assert_eq!(found("muller"), vec![3]);
        assert_eq!(found("zoe"), vec![3]);
        assert_eq!(found("lukasz"), vec![4]);
        assert_eq!(found("nguyen"), vec![5]);
        assert_eq!(found("nunez"), vec![6]);
        assert_eq!(found("josé"), vec![6]);
        assert_eq!(found("jose\u{301}"), vec![6]);
        assert!(found("renee").contains(&7));
        let hits = index.search("bjorn", 10, false);
        let h = hits.iter().find(|h| h.id == 1).expect("Björn found");
        assert_eq!(h.indices, vec![0, 1, 2, 3, 4]);
        // Indices are char indices of the original text, even with a combining mark.
        let hits = index.search("dubois", 10, false);
        assert_eq!(hits[0].indices, vec![7, 8, 9, 10, 11, 12]);
        assert_eq!(
            chars_at("Rene\u{301}e Dubois", &hits[0].indices),
            fold("dubois")
        );
    }

    #[test]
    fn inactive_recipients_only_when_asked() {
        let index = RecipientIndex::new(vec![
            rec(1, "Anna Active", "A-1"),
            inactive(rec(2, "Anna Gone", "A-2")),
        ]);
        assert_eq!(ids(&index.search("anna", 10, false)), vec![1]);
        assert_eq!(ids(&index.search("anna", 10, true)), vec![1, 2]);
        assert_eq!(ids(&index.search("gone", 10, false)), Vec::<i64>::new());
        assert_eq!(ids(&index.search("", 10, false)), vec![1]);
        assert_eq!(ids(&index.search("", 10, true)), vec![1, 2]);
        // A searcher's cache does not leak inactive records between modes.
        let mut s = Searcher::new();
        assert_eq!(ids(&s.search(&index, "ann", 10, true)), vec![1, 2]);
        assert_eq!(ids(&s.search(&index, "anna", 10, false)), vec![1]);
        assert_eq!(ids(&s.search(&index, "anna ", 10, true)), vec![1, 2]);
    }

    #[test]
    fn empty_query_lists_by_name_and_limit_is_honoured() {
        let dir = synthetic_directory(2_000, 3);
        let index = RecipientIndex::new(dir.clone());
        let mut expected: Vec<&Recipient> = dir.iter().filter(|r| r.active).collect();
        expected.sort_by_key(|r| (r.name.chars().map(fold_lower).collect::<String>(), r.id));
        let want: Vec<i64> = expected.iter().take(25).map(|r| r.id).collect();
        for q in ["", "   ", "\t"] {
            let hits = index.search(q, 25, false);
            assert_eq!(ids(&hits), want);
            assert!(hits.iter().all(|h| h.score == 0 && h.indices.is_empty()));
        }
        for limit in [0, 1, 7, 50] {
            for q in ["", "a", "an", "smith", "1", "zzzz"] {
                assert!(index.search(q, limit, false).len() <= limit);
            }
        }
        assert_eq!(index.search("a", 7, false).len(), 7);
        let everyone = index.search("a", usize::MAX, true);
        assert!(everyone.len() > 1_000 && everyone.len() <= dir.len());
        assert!(everyone.windows(2).all(|w| w[0].score >= w[1].score));
        assert!(index.search("a", 0, false).is_empty());
        assert!(index.search("", 0, false).is_empty());
    }

    #[test]
    fn upsert_and_remove_show_without_rebuild() {
        let mut index = RecipientIndex::new(synthetic_directory(3_000, 11));
        let mut s = Searcher::new();
        let n = index.len();
        assert!(s.search(&index, "quixote", 10, false).is_empty());
        index.upsert(rec(9_001, "Alonso Quixote", "Z-999"));
        assert_eq!(index.len(), n + 1);
        assert_eq!(ids(&s.search(&index, "quixote", 10, false)), vec![9_001]);
        assert_eq!(
            ids(&s.search(&index, "quixote z-999", 10, false)),
            vec![9_001]
        );
        // Rename: the old name is gone, the new one is found (same searcher, narrowing query).
        index.upsert(rec(9_001, "Alonso Quijano", "Z-999"));
        assert_eq!(index.len(), n + 1);
        assert!(s.search(&index, "quixote", 10, false).is_empty());
        assert_eq!(ids(&s.search(&index, "quijano", 10, false)), vec![9_001]);
        assert_eq!(
            index.get(9_001).map(|r| r.name.as_str()),
            Some("Alonso Quijano")
        );
        // Deactivate, then remove.
        index.upsert(inactive(rec(9_001, "Alonso Quijano", "Z-999")));
        assert!(s.search(&index, "quijano", 10, false).is_empty());
        assert_eq!(ids(&s.search(&index, "quijano", 10, true)), vec![9_001]);
        index.remove(9_001);
        index.remove(9_001);
        assert_eq!(index.len(), n);
        assert!(index.get(9_001).is_none());
        assert!(s.search(&index, "quijano", 10, true).is_empty());
        // Removing an existing record.
        let some = index.search("a", 1, false)[0].id;
        index.remove(some);
        assert!(index.get(some).is_none());
        assert!(!ids(&index.search("a", 5_000, true)).contains(&some));
    }

    #[test]
    fn many_changes_match_a_fresh_index() {
        let mut dir = synthetic_directory(4_000, 5);
        let mut index = RecipientIndex::new(dir.clone());
        // Renames that all land at the same spot of the name order (forces renumbering),
        // enough replacements to compact the arena, removals, additions.
        for i in 0..6_000usize {
            let k = (i * 7919) % dir.len();
            let mut r = dir[k].clone();
            r.name = if i % 3 == 0 {
                format!("Aaron A{i:05}")
            } else {
                format!("{} {}", r.name.split(' ').next().unwrap_or("X"), i % 97)
            };
            r.unit = format!("Q-{}", i % 500);
            dir[k] = r.clone();
            index.upsert(r);
        }
        for k in (0..dir.len()).step_by(13).rev() {
            index.remove(dir[k].id);
            dir.remove(k);
        }
        for i in 0..300 {
            let r = rec(100_000 + i, &format!("Newcomer Number{i}"), "N-1");
            dir.push(r.clone());
            index.upsert(r);
        }
        let fresh = RecipientIndex::new(dir.clone());
        assert_eq!(index.len(), fresh.len());
        for q in [
            "", "a", "aaron", "aaron a0", "q-12", "12", "newcomer", "num 1", "li", "smith",
        ] {
            for inactive in [false, true] {
                assert_eq!(
                    index.search(q, 60, inactive),
                    fresh.search(q, 60, inactive),
                    "{q:?}"
                );
            }
        }
    }

    #[test]
    fn duplicate_ids_keep_the_last_record() {
        let index = RecipientIndex::new(vec![rec(1, "Old Name", "A-1"), rec(1, "New Name", "A-2")]);
        assert_eq!(index.len(), 1);
        assert_eq!(index.get(1).map(|r| r.unit.as_str()), Some("A-2"));
        assert!(index.search("old", 5, false).is_empty());
    }

    /// Queries a clerk types, plus awkward ones.
    fn queries(dir: &[Recipient]) -> Vec<String> {
        let mut qs: Vec<String> = [
            "s",
            "sm",
            "smi",
            "smith",
            "a",
            "ae",
            "an",
            "ana.",
            "1",
            "12",
            "120",
            "1204",
            "b-1",
            "li",
            "lee",
            "bob",
            "bjorn",
            "björn",
            "nguyen",
            "o'b",
            "mc",
            "x",
            "zz",
            "@",
            ".",
            "e x",
            "a b c",
            "smi 1",
            "1 smi",
            "ana silva",
            "王",
            "дмитрий",
            "kim min",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        for r in dir.iter().step_by(97).take(40) {
            let family = r
                .name
                .split_whitespace()
                .last()
                .unwrap_or("")
                .to_lowercase();
            let digits: String = r.unit.chars().filter(char::is_ascii_digit).collect();
            qs.push(family.chars().take(4).collect());
            qs.push(format!("{family} {digits}"));
            qs.push(format!(
                "{digits} {}",
                family.chars().take(2).collect::<String>()
            ));
            if let Some(e) = &r.email {
                qs.push(e.chars().take(7).collect());
            }
        }
        qs
    }

    #[test]
    fn pruned_search_equals_brute_force() {
        let dir = synthetic_directory(6_000, 21);
        let index = RecipientIndex::new(dir.clone());
        let mut fast = Searcher::new();
        let mut slow = brute_force();
        for q in queries(&dir) {
            for limit in [1, 10, 50] {
                fast.reset();
                let a = fast.search(&index, &q, limit, false);
                let b = slow.search(&index, &q, limit, false);
                assert_eq!(a, b, "{q:?} limit {limit}");
            }
        }
    }

    #[test]
    fn split_passes_equal_brute_force() {
        let dir = synthetic_directory(4_000, 31);
        let index = RecipientIndex::new(dir.clone());
        let mut split = Searcher {
            parallel_min: 100,
            ..Searcher::with_threads(2)
        };
        let mut slow = brute_force();
        for q in queries(&dir) {
            let prefix: String = q.chars().take(3).collect();
            // The first search splits all records, the second the survivors of the first.
            for q in [prefix.as_str(), q.as_str()] {
                let a = split.search(&index, q, 30, false);
                assert_eq!(a, slow.search(&index, q, 30, false), "{q:?}");
            }
        }
    }

    #[test]
    fn typing_with_one_searcher_equals_fresh_searches() {
        let dir = synthetic_directory(5_000, 4);
        let index = RecipientIndex::new(dir.clone());
        let mut typing = Searcher::new();
        let mut narrowed = 0;
        for q in queries(&dir) {
            let mut prefix = String::new();
            for c in q.chars() {
                prefix.push(c);
                let a = typing.search(&index, &prefix, 20, false);
                narrowed += usize::from(typing.stats().narrowed);
                let b = brute_force().search(&index, &prefix, 20, false);
                assert_eq!(a, b, "{prefix:?}");
            }
            // Backspace.
            prefix.pop();
            let a = typing.search(&index, &prefix, 20, false);
            assert_eq!(a, brute_force().search(&index, &prefix, 20, false));
        }
        assert!(narrowed > 100, "the cache is used ({narrowed})");
    }

    #[test]
    fn bounds_hold_for_real_scores() {
        let dir = synthetic_directory(3_000, 9);
        let index = RecipientIndex::new(dir.clone());
        let mut matcher = Matcher::new(Config::DEFAULT);
        let mut checked = 0;
        for q in queries(&dir) {
            for qa in parse_query(&q) {
                for slot in 0..index.metas.len() as u32 {
                    let meta = &index.metas[slot as usize];
                    let pairs = &index.pairs[slot as usize];
                    let Some((score, _)) = qa.best(&index, slot, meta, &mut matcher) else {
                        continue;
                    };
                    let bound = qa.bound(meta).expect("masks admit every match");
                    let tight = qa.tight_bound(meta, pairs);
                    assert!(score <= tight && tight <= bound, "{q:?} slot {slot}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 10_000, "{checked}");
    }

    #[test]
    fn highlights_point_at_the_query_chars() {
        let dir = synthetic_directory(4_000, 13);
        let index = RecipientIndex::new(dir.clone());
        let mut checked = 0;
        for q in queries(&dir) {
            let atoms: Vec<Vec<char>> = q.split_whitespace().map(fold).collect();
            let query_chars: Vec<char> = atoms.iter().flatten().copied().collect();
            let mut searcher = Searcher::new();
            for hit in index.search(&q, 50, true) {
                let r = index.get(hit.id).expect("hit is indexed");
                let fields = searcher.highlights(&index, &q, hit.id);
                assert!(
                    fields
                        .iter()
                        .any(|f| f.field == hit.field && f.indices == hit.indices),
                    "the hit's field is among the highlights"
                );
                let mut total = 0;
                for FieldMatch { field, indices } in &fields {
                    let (field, indices) = (*field, indices.as_slice());
                    let text = field_text(r, field).expect("field exists");
                    assert!(indices.windows(2).all(|w| w[0] < w[1]), "ascending, unique");
                    assert!(indices.iter().all(|&i| (i as usize) < text.chars().count()));
                    let at = chars_at(text, indices);
                    assert!(
                        at.iter().all(|c| query_chars.contains(c)),
                        "{q:?} {field:?} {text:?} {indices:?}"
                    );
                    total += indices.len();
                    checked += 1;
                }
                if let [atom] = atoms.as_slice() {
                    // One word: the highlighted chars spell it, in order.
                    assert_eq!(
                        chars_at(field_text(r, hit.field).unwrap_or(""), &hit.indices),
                        *atom
                    );
                    assert_eq!(fields.len(), 1);
                }
                assert!(total > 0);
            }
        }
        assert!(checked > 1_000, "{checked}");
    }

    #[test]
    fn realistic_typing_finds_the_target() {
        let dir = synthetic_directory(20_000, 42);
        let index = RecipientIndex::new(dir.clone());
        let mut s = Searcher::new();
        for r in dir.iter().filter(|r| r.active).step_by(500) {
            let digits: String = r.unit.chars().filter(char::is_ascii_digit).collect();
            let q = format!("{} {}", r.name, digits);
            let hits = s.search(&index, &q, 50, false);
            assert!(ids(&hits).contains(&r.id), "{q:?}");
            // Name and unit number together put the recipient at (or tied with) the top.
            assert_eq!(
                hits.iter().find(|h| h.id == r.id).map(|h| h.score),
                hits.first().map(|h| h.score),
                "{q:?}"
            );
        }
    }
}
