//! The fallback itself: whether the fuzzy hits are enough, the name words each query word may
//! mean, the records that have them, and the merged list.

use std::collections::HashSet;

use nucleo_matcher::{Config, Matcher};

use super::distance::{MAX_PREFIX_EDITS, MAX_WORD, MIN_WORD, Rows, max_edits, osa};
use super::{Words, mask, name_words, sound_keys};
use crate::search::engine::Searcher;
use crate::search::index::RecipientIndex;
use crate::search::query::{QueryAtom, parse_query, word_start};
use crate::search::{Field, Hit};

/// With this many fuzzy hits a clerk would recognise (every query word at the start of a word
/// of the record), or one with every query word whole, there is no fallback.
pub(in crate::search) const FEW: usize = 3;

// What a query word costs in a record; a suggestion's rank is the sum over the query's words.
/// The whole word.
const EXACT: u32 = 0;
/// The start of a word (a half-typed last word).
const PREFIX: u32 = 1;
/// Per edit to the whole word…
const EDIT: u32 = 4;
/// … less this when the words sound alike …
const SOUND: u32 = 1;
/// … plus this when only a prefix of the word is that close.
const PREFIX_EDIT: u32 = 2;
/// At the start of a word of another field (the unit, the e-mail): like one edit.
const ELSEWHERE: u32 = EDIT;
/// A cost from this on is a correction: a suggestion has at least one.
const CORRECTED: u32 = 2;

/// Most records one fallback looks at, the closest words' first: a misspelled common name
/// brings every record of the names it is close to (every Smith for "smiht", about 1.3 % of
/// the synthetic directory).
pub(in crate::search) const MAX_CANDIDATES: usize = 10_000;

/// `hits` (the fuzzy match's, best first) with suggestions when they are few: the recognised
/// hits first, then the suggestions (closest first, then in name order), then the other fuzzy
/// hits (scattered letters, "k…o…w…a…l…s…k…y" in an e-mail), at most `limit` in all.
pub(in crate::search) fn with_suggestions(
    searcher: &mut Searcher,
    index: &RecipientIndex,
    query: &str,
    hits: Vec<Hit>,
    limit: usize,
    include_inactive: bool,
) -> Vec<Hit> {
    let atoms = parse_query(query);
    let correctable: Vec<bool> = atoms.iter().map(|qa| correctable(&qa.chars)).collect();
    if limit == 0 || !correctable.contains(&true) {
        return hits;
    }
    let seen: Vec<Option<bool>> = hits
        .iter()
        .map(|h| recognised(index, &atoms, h.id))
        .collect();
    let good = seen.iter().filter(|s| s.is_some()).count();
    if good >= FEW || seen.contains(&Some(true)) {
        return hits;
    }

    let mut rows = Rows::default();
    let last = atoms.len() - 1;
    let words = &index.words;
    // Per query word: the name words it may mean with their costs, cheapest first.
    let options: Vec<Option<Vec<(u32, u32)>>> = atoms
        .iter()
        .zip(&correctable)
        .enumerate()
        .map(|(i, (qa, &ok))| ok.then(|| word_options(words, &qa.chars, i == last, &mut rows)))
        .collect();
    let mut corrections: Vec<(u32, u32)> = options
        .iter()
        .flatten()
        .flatten()
        .filter(|(_, cost)| *cost >= CORRECTED)
        .copied()
        .collect();
    corrections.sort_unstable_by_key(|&(word, cost)| (cost, word));
    let mut candidates: Vec<u32> = Vec::new();
    for (word, _) in &corrections {
        let slots = words
            .words
            .get(*word as usize)
            .map_or(&[][..], |w| &w.slots);
        let room = MAX_CANDIDATES - candidates.len();
        candidates.extend_from_slice(slots.get(..room).unwrap_or(slots));
        if candidates.len() == MAX_CANDIDATES {
            break;
        }
    }
    candidates.sort_unstable();
    candidates.dedup();

    // Per query word with options, its cost in each candidate (`u32::MAX`: no name word),
    // from the options' slot lists: one pass per word instead of a lookup per record.
    let costs: Vec<Option<Vec<u32>>> = options
        .iter()
        .map(|o| o.as_ref().map(|o| candidate_costs(words, o, &candidates)))
        .collect();

    if searcher.matchers.is_empty() {
        searcher.matchers.push(Matcher::new(Config::DEFAULT));
    }
    let Some(matcher) = searcher.matchers.first_mut() else {
        return hits;
    };
    let mut ranked: Vec<(u32, u64, u32)> = Vec::new();
    'records: for (k, &slot) in candidates.iter().enumerate() {
        let Some(meta) = index.metas.get(slot as usize) else {
            continue;
        };
        if !(meta.active || include_inactive) || meta.nspans == 0 {
            continue;
        }
        let mut total = 0;
        let mut corrected = false;
        // The words first, nucleo for the rest only if they all passed.
        let by_cost = atoms
            .iter()
            .zip(&costs)
            .filter(|(_, c)| c.is_some())
            .chain(atoms.iter().zip(&costs).filter(|(_, c)| c.is_none()));
        for (qa, costs) in by_cost {
            let cost = match costs {
                Some(costs) => costs
                    .get(k)
                    .copied()
                    .filter(|&c| c != u32::MAX)
                    // Not a name word: the start of a word elsewhere ("suite", an e-mail's
                    // "maria."), never letters scattered through a field.
                    .or_else(|| at_word_start(index, slot, qa).map(|_| ELSEWHERE)),
                // A unit, a number or an initial: as the fuzzy match finds it.
                None => qa.best(index, slot, meta, matcher).map(|_| EXACT),
            };
            let Some(cost) = cost else {
                continue 'records;
            };
            corrected |= cost >= CORRECTED;
            total += cost;
        }
        if corrected {
            ranked.push((total, meta.rank, slot));
        }
    }
    ranked.sort_unstable();
    ranked.truncate(limit);
    searcher.stats.typo_candidates = candidates.len();
    searcher.stats.suggested = ranked.len();

    let corrected_words: HashSet<u32> = corrections.iter().map(|&(w, _)| w).collect();
    let suggestions: Vec<Hit> = ranked
        .iter()
        .filter_map(|&(_, _, slot)| suggestion(index, slot, &corrected_words))
        .collect();
    merge(hits, &seen, suggestions, limit)
}

/// Whether the fallback corrects this query word: letters only (a unit or a number is not
/// misspelled that way), [`MIN_WORD`] to [`MAX_WORD`] of them.
fn correctable(word: &[char]) -> bool {
    (MIN_WORD..=MAX_WORD).contains(&word.len()) && word.iter().all(|c| c.is_alphabetic())
}

/// Recognised hits, suggestions, the other hits; each recipient once.
fn merge(hits: Vec<Hit>, seen: &[Option<bool>], suggestions: Vec<Hit>, limit: usize) -> Vec<Hit> {
    let mut out: Vec<Hit> = Vec::with_capacity(limit);
    let mut weak: Vec<Hit> = Vec::new();
    for (hit, seen) in hits.into_iter().zip(seen) {
        if seen.is_some() {
            out.push(hit);
        } else {
            weak.push(hit);
        }
    }
    let mut ids: HashSet<i64> = out.iter().map(|h| h.id).collect();
    for hit in suggestions.into_iter().chain(weak) {
        if ids.insert(hit.id) {
            out.push(hit);
        }
    }
    out.truncate(limit);
    out
}

/// Whether a clerk would recognise the hit: `None` when some query word is not at the start of
/// a word of any field, `Some(true)` when every one is a whole word (or the unit).
fn recognised(index: &RecipientIndex, atoms: &[QueryAtom], id: i64) -> Option<bool> {
    let slot = *index.by_id.get(&id)?;
    let mut whole = true;
    for qa in atoms {
        whole &= at_word_start(index, slot, qa)?;
    }
    Some(whole)
}

/// A query word's cost in each of `candidates` (ascending slots): the cheapest of `options`
/// (cheapest first) whose word the record has, `u32::MAX` for none. Each option's slot list
/// is walked beside the candidates, or looked up in them when it is much shorter.
fn candidate_costs(words: &Words, options: &[(u32, u32)], candidates: &[u32]) -> Vec<u32> {
    let mut costs = vec![u32::MAX; candidates.len()];
    for &(word, cost) in options {
        let Some(w) = words.words.get(word as usize) else {
            continue;
        };
        let mut set = |k: usize| {
            if let Some(c) = costs.get_mut(k)
                && *c == u32::MAX
            {
                *c = cost;
            }
        };
        if w.slots.len() * 8 < candidates.len() {
            for slot in &w.slots {
                if let Ok(k) = candidates.binary_search(slot) {
                    set(k);
                }
            }
        } else {
            let mut k = 0;
            for slot in &w.slots {
                while candidates.get(k).is_some_and(|c| c < slot) {
                    k += 1;
                }
                if candidates.get(k) == Some(slot) {
                    set(k);
                }
            }
        }
    }
    costs
}

/// Whether a query word starts a word of some field of the record in `slot`: `Some(true)`
/// as a whole word (or as the unit).
fn at_word_start(index: &RecipientIndex, slot: u32, qa: &QueryAtom) -> Option<bool> {
    let meta = index.metas.get(slot as usize)?;
    let rec = &index.entry(slot)?.rec;
    if qa.unit_hash != 0 && qa.is_unit_of(rec) {
        return Some(true);
    }
    index
        .arena
        .spans(meta)
        .iter()
        .filter(|span| qa.mask & !span.mask == 0)
        .filter_map(|span| word_start(index.arena.text(span), &qa.chars))
        .max()
}

/// The name words `word` may mean, with their costs, cheapest first: every word within the
/// edits its length allows ([`max_edits`]; one more when they sound alike), and for the last
/// query word also the words whose start is that close (it may be half typed).
pub(super) fn word_options(
    words: &Words,
    word: &[char],
    last: bool,
    rows: &mut Rows,
) -> Vec<(u32, u32)> {
    let m = word.len();
    let max = max_edits(m);
    let max_prefix = if last { MAX_PREFIX_EDITS.min(max) } else { 0 };
    let q = mask(word);
    let mut alike: Vec<u32> = sound_keys(word)
        .iter()
        .filter_map(|k| words.sounds.get(k))
        .flatten()
        .copied()
        .collect();
    alike.sort_unstable();
    alike.dedup();
    let mut out = Vec::new();
    for (id, w) in words.words.iter().enumerate() {
        if w.slots.is_empty() {
            continue;
        }
        let id = id as u32;
        let sounds = alike.binary_search(&id).is_ok();
        let full_max = max + usize::from(sounds);
        let n = usize::from(w.len);
        // Each character of one word missing from the other takes an edit.
        let missing = (q & !w.mask).count_ones() as usize;
        let extra = (w.mask & !q).count_ones() as usize;
        let full_ok = n.abs_diff(m) <= full_max && missing <= full_max && extra <= full_max;
        let text = words.text(w);
        // A half-typed word's first letter is taken as typed: this keeps the prefix matches
        // to a twentieth of the words.
        let prefix_ok =
            last && n + max_prefix >= m && missing <= max_prefix && text.first() == word.first();
        if !full_ok && !prefix_ok {
            continue;
        }
        let bound = if full_ok { full_max } else { 0 }.max(if prefix_ok { max_prefix } else { 0 });
        let d = osa(word, text, bound, rows);
        let full = d.full.filter(|_| full_ok);
        let prefix = d.prefix.filter(|&p| prefix_ok && p <= max_prefix);
        let cost = match (full, prefix) {
            (Some(0), _) => EXACT,
            (_, Some(0)) => PREFIX,
            _ => {
                let full = full.map(|d| EDIT * d as u32 - if sounds { SOUND } else { 0 });
                let prefix = prefix.map(|d| EDIT * d as u32 + PREFIX_EDIT);
                match full.into_iter().chain(prefix).min() {
                    Some(cost) => cost,
                    None => continue,
                }
            }
        };
        out.push((id, cost));
    }
    out.sort_unstable_by_key(|&(id, cost)| (cost, id));
    out
}

/// A suggestion's hit: the field with the corrected words (the name, else an alias), those
/// words highlighted, score 0.
fn suggestion(index: &RecipientIndex, slot: u32, corrected: &HashSet<u32>) -> Option<Hit> {
    let rec = &index.entry(slot)?.rec;
    let mut marked: Vec<(Field, std::ops::Range<u32>)> = Vec::new();
    let mut key = String::new();
    name_words(rec, |field, range, w| {
        key.clear();
        key.extend(w);
        if index
            .words
            .ids
            .get(key.as_str())
            .is_some_and(|id| corrected.contains(id))
        {
            marked.push((field, range));
        }
    });
    let field = marked.first().map_or(Field::Name, |(f, _)| *f);
    let indices = marked
        .iter()
        .filter(|(f, _)| *f == field)
        .flat_map(|(_, r)| r.clone())
        .collect();
    Some(Hit {
        id: rec.id,
        score: 0,
        field,
        indices,
        suggested: true,
    })
}
