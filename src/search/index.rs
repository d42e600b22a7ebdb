//! [`RecipientIndex`]: the records of one facility in slots (laid out in name order), each
//! with its cache line of masks ([`Meta`]), its pair filter and its folded texts in arenas;
//! upserts and removals without a rebuild.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use nucleo_matcher::{Utf32Str, chars};

use super::bounds::{
    Class, FNV_OFFSET, Pairs, char_bit, fnv, key_hash, nucleo_bonus, pair_bit, word_bit,
};
use super::fold::{fold_keep_case, fold_lower};
use super::typo::Words;
use super::{Field, Hit, Searcher};
use crate::db::recipients::Recipient;

/// The searchable fields of a recipient, in field order; blank ones left out.
pub(super) fn fields(r: &Recipient) -> impl Iterator<Item = (Field, &str)> {
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
pub(super) struct Span {
    /// Characters present (see [`char_bit`]).
    pub(super) mask: u64,
    pub(super) start: u32,
    pub(super) len: u32,
    /// [`Field::code`].
    pub(super) field: u16,
    /// In `Arena::wide` (else ASCII, in `Arena::ascii`).
    pub(super) wide: bool,
}

/// Texts of all records, roughly in slot order; replaced records leave garbage behind until
/// the next compaction.
#[derive(Debug, Default)]
pub(super) struct Arena {
    pub(super) spans: Vec<Span>,
    pub(super) ascii: Vec<u8>,
    pub(super) wide: Vec<char>,
    /// Spans no record refers to any more.
    pub(super) dead_spans: usize,
}

impl Arena {
    pub(super) fn text(&self, span: &Span) -> Utf32Str<'_> {
        let range = span.start as usize..(span.start + span.len) as usize;
        if span.wide {
            Utf32Str::Unicode(self.wide.get(range).unwrap_or_default())
        } else {
            Utf32Str::Ascii(self.ascii.get(range).unwrap_or_default())
        }
    }

    pub(super) fn spans(&self, meta: &Meta) -> &[Span] {
        let start = meta.spans as usize;
        self.spans
            .get(start..start + usize::from(meta.nspans))
            .unwrap_or_default()
    }
}

/// What the rest of a record needs: the recipient itself and its sort key.
#[derive(Debug)]
pub(super) struct Entry {
    pub(super) rec: Recipient,
    /// Folded lower-case name: the sort key (with the id).
    pub(super) sort_key: Box<str>,
}

/// The cache line a search reads for every record. Masks are over [`char_bit`]s of
/// folded lower-case chars, across all fields.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Meta {
    /// Characters present.
    pub(super) any: u64,
    /// Characters at a position where nucleo's bonus is 9 or 10 (start of text, after
    /// whitespace or a delimiter).
    pub(super) b10: u64,
    /// … where it is 8 (after other punctuation; punctuation itself).
    pub(super) b8: u64,
    /// … where it is 5 (camelCase hump, first digit after a non-digit).
    pub(super) b5: u64,
    /// One bit per word (maximal run of letters and digits), by hash.
    pub(super) words: u64,
    /// Position in name order as an order-maintenance key: ranks increase with (name, id) but
    /// leave gaps, so an upsert rarely renumbers.
    pub(super) rank: u64,
    /// Hashes of the unit's letters and digits ("b1204") and of its digits ("1204"); 0: none.
    pub(super) unit: u32,
    pub(super) unit_num: u32,
    /// The record's spans in the arena.
    pub(super) spans: u32,
    pub(super) nspans: u8,
    pub(super) active: bool,
}

/// Bytes an allocator keeps beside each block (glibc malloc: a 16-byte header and rounding),
/// counted once per string in [`RecipientIndex::heap_bytes`].
const ALLOC_OVERHEAD: usize = 16;

/// Up to this many changes, [`RecipientIndex::apply`] makes them one by one (a binary search
/// and a `memmove` each) rather than pass over the whole order.
const APPLY_ONE_BY_ONE: usize = 32;

/// Gap between consecutive ranks after a (re)numbering.
pub(super) const RANK_GAP: u64 = 1 << 24;

pub(super) static NEXT_INDEX_ID: AtomicU64 = AtomicU64::new(1);

/// The recipients of one facility, ready for fuzzy search. `Send + Sync`; searches take `&self`
/// and changes ([`upsert`](Self::upsert), [`remove`](Self::remove)) take `&mut self`: share it
/// behind an `RwLock`.
#[derive(Debug)]
pub struct RecipientIndex {
    /// Slot → recipient; `None` for a free slot.
    pub(super) entries: Vec<Option<Entry>>,
    /// Slot → masks (all zero for a free slot).
    pub(super) metas: Vec<Meta>,
    /// Slot → pair filter (read only for records that pass the masks).
    pub(super) pairs: Vec<Pairs>,
    pub(super) arena: Arena,
    pub(super) free: Vec<u32>,
    pub(super) by_id: HashMap<i64, u32>,
    /// Occupied slots sorted by (sort key, id), i.e. by rank.
    pub(super) order: Vec<u32>,
    /// The name words for the typo fallback (`typo/`).
    pub(super) words: Words,
    /// Identifies this index and its state for a [`Searcher`]'s cache.
    pub(super) instance: u64,
    pub(super) generation: u64,
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
            words: Words::default(),
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

    /// Many changes at once: `rows` added or replacing the records with their ids, the
    /// records with an id in `gone` removed (a row in both stays). One pass over the name
    /// order for all of them, O(changes + records), where [`upsert`](Self::upsert) moves the
    /// order once per change: thousands of changed rows (a bulk import another node made) cost
    /// a fraction of a rebuild instead of more than one.
    pub fn apply(&mut self, rows: Vec<Recipient>, gone: &[i64]) {
        if rows.len() + gone.len() <= APPLY_ONE_BY_ONE {
            for &id in gone {
                self.remove(id);
            }
            for r in rows {
                self.upsert(r);
            }
            return;
        }
        let dropped: HashSet<u32> = gone
            .iter()
            .chain(rows.iter().map(|r| &r.id))
            .filter_map(|id| self.by_id.get(id).copied())
            .collect();
        self.order.retain(|s| !dropped.contains(s));
        for &slot in &dropped {
            self.detach(slot);
        }
        // A repeated id keeps the last record, as in `new`.
        let latest: HashMap<i64, usize> = rows.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
        let mut added: Vec<u32> = rows
            .into_iter()
            .enumerate()
            .filter(|(i, r)| latest.get(&r.id) == Some(i))
            .map(|(_, r)| self.attach(Entry::new(r)))
            .collect();
        let entries = &self.entries;
        added.sort_unstable_by(|&a, &b| cmp_slots(entries, a, b));
        let mut merged = Vec::with_capacity(self.order.len() + added.len());
        let (mut old, mut new) = (self.order.iter().peekable(), added.iter().peekable());
        while let (Some(&&o), Some(&&n)) = (old.peek(), new.peek()) {
            if cmp_slots(entries, o, n) == Ordering::Greater {
                merged.push(n);
                new.next();
            } else {
                merged.push(o);
                old.next();
            }
        }
        merged.extend(old);
        merged.extend(new);
        self.order = merged;
        self.renumber();
        self.generation += 1;
        self.maybe_compact();
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Approximate heap bytes this index holds (what dropping it gives back), from the
    /// capacities of its vectors, strings and table: no allocator hooks, so the allocator's
    /// own per-block overhead is estimated at [`ALLOC_OVERHEAD`] per string. O(records): the
    /// directory asks once per build.
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let string = |s: &str, cap: usize| {
            if cap == 0 {
                0
            } else {
                cap.max(s.len()) + ALLOC_OVERHEAD
            }
        };
        let records: usize = self
            .entries
            .iter()
            .flatten()
            .map(|e| {
                let r = &e.rec;
                string(&r.name, r.name.capacity())
                    + string(&r.unit, r.unit.capacity())
                    + r.email.as_ref().map_or(0, |s| string(s, s.capacity()))
                    + r.phone.as_ref().map_or(0, |s| string(s, s.capacity()))
                    + if r.aliases.capacity() == 0 {
                        0
                    } else {
                        r.aliases.capacity() * size_of::<String>() + ALLOC_OVERHEAD
                    }
                    + r.aliases
                        .iter()
                        .map(|a| string(a, a.capacity()))
                        .sum::<usize>()
                    + string(&e.sort_key, e.sort_key.len())
            })
            .sum();
        // hashbrown keeps one control byte per bucket beside each (key, value), and at most
        // 7/8 of its buckets full.
        let by_id = self.by_id.capacity() * 8 / 7 * (size_of::<(i64, u32)>() + 1);
        records
            + self.entries.capacity() * size_of::<Option<Entry>>()
            + self.metas.capacity() * size_of::<Meta>()
            + self.pairs.capacity() * size_of::<Pairs>()
            + self.arena.spans.capacity() * size_of::<Span>()
            + self.arena.ascii.capacity()
            + self.arena.wide.capacity() * size_of::<char>()
            + (self.free.capacity() + self.order.capacity()) * size_of::<u32>()
            + by_id
            + self.words.heap_bytes(ALLOC_OVERHEAD)
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

    /// [`search`](Self::search), and when it finds no one a clerk would recognise, the
    /// recipients whose names are a few typos away or sound alike, marked
    /// [`Hit::suggested`] ("did you mean …?"): see [`Searcher::search_or_suggest`].
    pub fn search_or_suggest(&self, query: &str, limit: usize, include_inactive: bool) -> Vec<Hit> {
        Searcher::new().search_or_suggest(self, query, limit, include_inactive)
    }

    /// How many records `query` matches in all (a full pass; see `engine::count_matches`).
    pub fn count_matches(&self, query: &str, include_inactive: bool) -> usize {
        super::engine::count_matches(self, query, include_inactive)
    }

    pub(super) fn entry(&self, slot: u32) -> Option<&Entry> {
        self.entries.get(slot as usize).and_then(Option::as_ref)
    }

    /// Puts a record in a free slot: masks, pair filter, texts, name words (not `order`, not
    /// its rank).
    pub(super) fn attach(&mut self, entry: Entry) -> u32 {
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
        if let Some(Some(entry)) = self.entries.get(slot as usize) {
            self.words.add(slot, &entry.rec);
        }
        self.by_id.insert(id, slot);
        slot
    }

    /// Appends a recipient's texts to the arena and computes its masks and pair filter.
    pub(super) fn prepare(&mut self, r: &Recipient) -> (Meta, Pairs) {
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
    pub(super) fn detach(&mut self, slot: u32) {
        let Some(entry) = self.entries.get_mut(slot as usize).and_then(Option::take) else {
            return;
        };
        self.by_id.remove(&entry.rec.id);
        self.words.remove(slot, &entry.rec);
        self.arena.dead_spans += usize::from(self.metas[slot as usize].nspans);
        self.metas[slot as usize] = Meta::default();
        self.pairs[slot as usize] = Pairs::default();
        self.free.push(slot);
    }

    pub(super) fn remove_from_order(&mut self, slot: u32) {
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
    pub(super) fn renumber(&mut self) {
        for (i, &slot) in self.order.iter().enumerate() {
            self.metas[slot as usize].rank = (i as u64 + 1) * RANK_GAP;
        }
    }

    /// Rewrites the arena in slot order once more than half of it is garbage.
    pub(super) fn maybe_compact(&mut self) {
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

pub(super) fn cmp_entries(x: &Entry, y: &Entry) -> Ordering {
    x.sort_key.cmp(&y.sort_key).then(x.rec.id.cmp(&y.rec.id))
}

pub(super) fn cmp_slots(entries: &[Option<Entry>], a: u32, b: u32) -> Ordering {
    match (&entries[a as usize], &entries[b as usize]) {
        (Some(x), Some(y)) => cmp_entries(x, y),
        (x, y) => x.is_none().cmp(&y.is_none()),
    }
}

impl Entry {
    pub(super) fn new(rec: Recipient) -> Self {
        let sort_key: String = rec.name.chars().map(fold_lower).collect();
        Entry {
            rec,
            sort_key: sort_key.into_boxed_str(),
        }
    }
}
