//! The search itself: one streaming pass over the records (masks, bounds, nucleo only where a
//! record could still make the top `limit`), split over threads for large indexes, and the
//! [`Searcher`] that keeps nucleo's matchers and the previous query's survivors.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use nucleo_matcher::{Config, Matcher};

use super::index::{Meta, RecipientIndex};
use super::query::{QueryAtom, parse_query};
use super::{Field, FieldMatch, Hit};

/// A pass is split over the searcher's threads from this many records on (below it, starting a
/// thread costs about what it saves).
pub(super) const PARALLEL_MIN: usize = 200_000;

/// The records to look at: all slots, or the previous query's candidates.
#[derive(Debug, Clone)]
pub(super) enum Source<'a> {
    All(std::ops::Range<u32>),
    Slots(&'a [u32]),
}

impl Source<'_> {
    pub(super) fn len(&self) -> usize {
        match self {
            Source::All(r) => r.len(),
            Source::Slots(s) => s.len(),
        }
    }

    /// Splits into `n` parts of about equal size.
    pub(super) fn split(self, n: usize) -> Vec<Self> {
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
pub(super) struct StreamOut {
    /// Its best `limit` hits (unsorted).
    pub(super) top: Vec<Ranked>,
    /// Records that passed the masks and were not found not to match, ascending.
    pub(super) survivors: Vec<u32>,
    pub(super) candidates: usize,
    pub(super) scored: usize,
}

/// One pass over `source` in slot order (mostly name order): masks, bounds, and nucleo for
/// each record that could still beat the current `limit`-th hit.
pub(super) fn stream_pass(
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
            if use_pairs && let Some(pairs) = index.pairs.get(slot as usize) {
                for (t, qa) in tight.iter_mut().zip(atoms) {
                    *t = qa.tight_bound(meta, pairs);
                }
                if !worst.beatable(tight.iter().sum(), meta.rank) {
                    out.survivors.push(slot);
                    return;
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
pub(super) struct Ranked {
    pub(super) score: Reverse<u32>,
    pub(super) rank: u64,
    pub(super) slot: u32,
}

impl Ranked {
    /// Whether a record with this score bound and rank could still beat `self`.
    pub(super) fn beatable(&self, bound: u32, rank: u64) -> bool {
        bound > self.score.0 || (bound == self.score.0 && rank < self.rank)
    }
}

/// What a [`Searcher`] remembers of its previous query.
#[derive(Debug)]
pub(super) struct Cache {
    pub(super) instance: u64,
    pub(super) generation: u64,
    pub(super) include_inactive: bool,
    pub(super) atoms: Vec<Vec<char>>,
    /// The slots that passed the masks and were not found not to match, ascending.
    pub(super) slots: Vec<u32>,
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
    /// Records the typo fallback looked at (0: it did not run or matched no word).
    pub typo_candidates: usize,
    /// Suggestions the typo fallback made.
    pub suggested: usize,
}

/// Searches an index keystroke after keystroke: holds nucleo's matchers (about 135 KB each,
/// one per thread) and the previous query's survivors, so typing on looks only at those. One
/// per search box (it is `Send`: keep it in the session); fine for unrelated queries too (it
/// notices when a query doesn't narrow the previous one, and when the index changed).
#[derive(Debug)]
pub struct Searcher {
    /// One per thread.
    pub(super) matchers: Vec<Matcher>,
    pub(super) threads: usize,
    /// Passes over fewer records than this stay on one thread.
    pub(super) parallel_min: usize,
    pub(super) cache: Option<Cache>,
    pub(super) prune: bool,
    pub(super) stats: SearchStats,
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

    /// [`search`](Self::search), then the typo fallback: when fewer than three hits have
    /// every query word at the start of a word (and none has them all as whole words), the
    /// recipients with name words a few edits away ("kowalsky" → Kowalski, "johnsen" →
    /// Johnson, Jensen) or that sound alike, marked [`Hit::suggested`]. Order: the recognised
    /// hits, the suggestions (closest first), the other hits; at most `limit`. Query words of
    /// four letters or more are corrected; the fallback reads the index's word list and the
    /// records of the words it matched (at most `typo::MAX_CANDIDATES`), never every record.
    pub fn search_or_suggest(
        &mut self,
        index: &RecipientIndex,
        query: &str,
        limit: usize,
        include_inactive: bool,
    ) -> Vec<Hit> {
        let hits = self.search(index, query, limit, include_inactive);
        super::typo::with_suggestions(self, index, query, hits, limit, include_inactive)
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
                    suggested: false,
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

/// How many records match `query`: as many as a search without a limit returns. One pass
/// that scores every candidate (nothing can be pruned without a top to beat): for stating a
/// cut list's total, not for every keystroke.
pub(super) fn count_matches(index: &RecipientIndex, query: &str, include_inactive: bool) -> usize {
    let atoms = parse_query(query);
    if atoms.is_empty() {
        return index
            .order
            .iter()
            .filter_map(|&slot| index.entry(slot))
            .filter(|e| include_inactive || e.rec.active)
            .count();
    }
    let mut matcher = Matcher::new(Config::DEFAULT);
    let all = Source::All(0..index.metas.len() as u32);
    // Unpruned, a pass keeps exactly the records that match as survivors.
    stream_pass(index, &atoms, all, include_inactive, 1, false, &mut matcher)
        .survivors
        .len()
}

/// Whether every record matching `new` also matches `old`: each old atom is a subsequence of
/// the new atom in the same position (typing on, or adding a word).
pub(super) fn narrows(old: &[Vec<char>], new: &[QueryAtom]) -> bool {
    old.len() <= new.len()
        && old.iter().zip(new).all(|(o, n)| {
            let mut it = n.chars.iter();
            o.iter().all(|c| it.any(|x| x == c))
        })
}

/// Per field that some atom picked: its share of the score and the highlight indices, the
/// largest share first (then field order). `None`: the record doesn't match.
pub(super) fn field_matches(
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
pub(super) fn hit(
    index: &RecipientIndex,
    atoms: &[QueryAtom],
    r: &Ranked,
    m: &mut Matcher,
) -> Option<Hit> {
    let entry = index.entry(r.slot)?;
    let (field, _, indices) = field_matches(index, atoms, r.slot, m)?.into_iter().next()?;
    Some(Hit {
        id: entry.rec.id,
        score: r.score.0,
        field,
        indices,
        suggested: false,
    })
}
