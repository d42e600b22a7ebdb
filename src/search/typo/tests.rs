//! Tests of the typo fallback: the issue's misspellings against a realistic synthetic roster,
//! no "did you mean" where the fuzzy match is good, order, inactive records, index changes,
//! the bound on records looked at, and the pieces (distance, sound keys) against references.

use super::distance::{MAX_PREFIX_EDITS, Rows, max_edits, osa};
use super::suggest::{FEW, MAX_CANDIDATES};
use super::{name_words, sound_keys};
use crate::db::recipients::Recipient;
use crate::search::fold::fold_lower;
use crate::search::tests::rec;
use crate::search::{Field, Hit, RecipientIndex, Searcher, field_text, synthetic_directory};

const ARIA: i64 = 100_001;
const ERIK: i64 = 100_002;

/// 2,000 synthetic recipients (Smiths, Johnsons, Hernándezes, Kowalskis among them, no
/// Jensen) plus Aria Kowalski in C-307 and Erik Jensen.
fn roster() -> Vec<Recipient> {
    let mut dir = synthetic_directory(2000, 7);
    dir.push(rec(ARIA, "Aria Kowalski", "C-307"));
    dir.push(rec(ERIK, "Erik Jensen", "D-1102"));
    dir
}

fn folded(s: &str) -> String {
    s.chars().map(fold_lower).collect()
}

fn name_of(index: &RecipientIndex, hit: &Hit) -> String {
    folded(&index.get(hit.id).unwrap().name)
}

/// The text of the field a hit highlights (a suggestion's: where its corrected word is).
fn shown(index: &RecipientIndex, hit: &Hit) -> String {
    folded(field_text(index.get(hit.id).unwrap(), hit.field).unwrap_or_default())
}

fn suggestions(hits: &[Hit]) -> Vec<i64> {
    hits.iter().filter(|h| h.suggested).map(|h| h.id).collect()
}

/// Suggestions never come before a recognised hit, nor after a fuzzy one.
fn assert_grouped(hits: &[Hit]) {
    let first = hits.iter().position(|h| h.suggested);
    let last = hits.iter().rposition(|h| h.suggested);
    if let (Some(first), Some(last)) = (first, last) {
        assert!(
            hits[first..=last].iter().all(|h| h.suggested),
            "suggestions interleaved with hits"
        );
    }
}

#[test]
fn the_issues_misspellings_find_the_names_meant() {
    let index = RecipientIndex::new(roster());
    for (typed, meant) in [
        ("kowalsky", "kowalski"),
        ("hernandes", "hernandez"),
        ("smyth", "smith"),
        ("johnsen", "johnson"),
    ] {
        // The fuzzy match alone shows no one with the name meant.
        let plain = index.search(typed, 50, false);
        assert!(
            plain
                .iter()
                .all(|h| !name_of(&index, h).contains(meant)
                    || index.get(h.id).unwrap().email.is_some()),
            "{typed}: the fuzzy match found {meant} by name"
        );
        let hits = index.search_or_suggest(typed, 50, false);
        assert_grouped(&hits);
        let first = hits.first().unwrap_or_else(|| panic!("{typed}: nothing"));
        assert!(first.suggested, "{typed}: {first:?}");
        // The name, or an alias (a former name) for some.
        assert!(
            shown(&index, first).split(' ').any(|w| w == meant),
            "{typed}: first suggestion is {}",
            shown(&index, first)
        );
        assert!(suggestions(&hits).len() > 1, "{typed}: one suggestion only");
    }
    // "johnsen" sounds like Jensen too, one edit further than Johnson: after the Johnsons.
    let hits = index.search_or_suggest("johnsen", 200, false);
    let erik = hits
        .iter()
        .position(|h| h.id == ERIK)
        .expect("Jensen suggested");
    assert!(hits[erik].suggested);
    assert!(
        hits[..erik]
            .iter()
            .any(|h| name_of(&index, h).ends_with("johnson"))
    );
    // A given name narrows the suggestions to her, and her unit shows which one she is.
    let hits = index.search_or_suggest("aria kowalsky", 50, false);
    assert_eq!(
        hits.first().map(|h| (h.id, h.suggested)),
        Some((ARIA, true))
    );
    // The corrected word is what the row highlights: "Kowalski" in "Aria Kowalski".
    assert_eq!(hits[0].field, Field::Name);
    assert_eq!(hits[0].indices, (5..13).collect::<Vec<u32>>());
}

#[test]
fn no_did_you_mean_when_the_fuzzy_match_is_good() {
    let dir = roster();
    let index = RecipientIndex::new(dir.clone());
    let mut searcher = Searcher::new();
    let mut queries: Vec<String> = [
        "smith",
        "johnson",
        "kowalski",
        "hernandez",
        "hernández",
        "jensen",
        "erik jensen",
        "aria kowalski",
        "aria kowalski c-307",
        "c-307",
        "307",
        "kowal",
        "smi",
        "garcia lopez",
    ]
    .iter()
    .map(|q| (*q).to_owned())
    .collect();
    // Every tenth active recipient's full name and family name, as typed in full. (An
    // inactive one is not found, so names like theirs may well be suggested.)
    for r in dir.iter().filter(|r| r.active).step_by(10) {
        queries.push(folded(&r.name));
        queries.push(folded(r.name.split(' ').next_back().unwrap_or_default()));
    }
    for q in &queries {
        let hits = searcher.search_or_suggest(&index, q, 50, false);
        assert_eq!(suggestions(&hits), Vec::<i64>::new(), "{q:?}");
        assert_eq!(hits, index.search(q, 50, false), "{q:?}: the list changed");
    }
}

#[test]
fn fewer_than_few_recognised_hits_keep_their_place_above_suggestions() {
    // One Smythe: "smyth" starts her name, but the clerk may have meant a Smith.
    let mut dir = roster();
    dir.push(rec(100_003, "Ola Smythe", "E-1"));
    let index = RecipientIndex::new(dir);
    let hits = index.search_or_suggest("smyth", 50, false);
    const { assert!(FEW > 1) };
    assert_eq!(
        hits.first().map(|h| (h.id, h.suggested)),
        Some((100_003, false))
    );
    assert!(hits.get(1).is_some_and(|h| h.suggested));
    assert_grouped(&hits);
}

#[test]
fn inactive_recipients_are_suggested_only_when_asked() {
    let mut gone = rec(1, "Aria Kowalski", "C-307");
    gone.active = false;
    let index = RecipientIndex::new(vec![gone, rec(2, "Bo Nowak", "A-1")]);
    assert!(index.search_or_suggest("kowalsky", 10, false).is_empty());
    let hits = index.search_or_suggest("kowalsky", 10, true);
    assert_eq!(suggestions(&hits), vec![1]);
}

#[test]
fn upserts_and_removals_keep_the_words_current() {
    let mut index = RecipientIndex::new(vec![rec(1, "Bo Nowak", "A-1")]);
    assert!(index.search_or_suggest("kowalsky", 10, false).is_empty());
    index.upsert(rec(2, "Aria Kowalski", "C-307"));
    assert_eq!(
        suggestions(&index.search_or_suggest("kowalsky", 10, false)),
        [2]
    );
    // Renamed: the old word no longer brings her, the new one does.
    index.upsert(rec(2, "Aria Tanaka", "C-307"));
    assert!(index.search_or_suggest("kowalsky", 10, false).is_empty());
    assert_eq!(
        suggestions(&index.search_or_suggest("tanaak", 10, false)),
        [2]
    );
    index.remove(2);
    assert!(index.search_or_suggest("tanaak", 10, false).is_empty());
    // Her slot is reused by someone else: the words follow the slot's new record.
    index.upsert(rec(3, "Ann Kowalski", "D-1"));
    assert_eq!(
        suggestions(&index.search_or_suggest("kowalsky", 10, false)),
        [3]
    );
    // Aliases are names too.
    let mut r = rec(4, "Bob Tanaka", "E-2");
    r.aliases.push("Bob Hernandez".into());
    index.upsert(r);
    let hits = index.search_or_suggest("hernandes", 10, false);
    assert_eq!(suggestions(&hits), [4]);
    assert_eq!(hits[0].field, Field::Alias(0));
}

#[test]
fn a_half_typed_last_word_is_corrected_by_its_start() {
    let index = RecipientIndex::new(vec![
        rec(1, "Ann Smith", "A-1"),
        rec(2, "Li Wu", "B-2"),
        rec(3, "Ann Lindqvist", "C-3"),
    ]);
    // "smyt" on the way to "smyth": one edit from "smit…".
    assert_eq!(
        suggestions(&index.search_or_suggest("smyt", 10, false)),
        [1]
    );
    // "lindw": one edit from "lindq…", far from "lindqvist" as a whole word.
    assert_eq!(
        suggestions(&index.search_or_suggest("lindw", 10, false)),
        [3]
    );
    // Not for an earlier word (it is finished), and never for short ones.
    assert!(index.search_or_suggest("lindw ann", 10, false).is_empty());
    assert!(index.search_or_suggest("smy", 10, false).is_empty());
}

#[test]
fn the_records_looked_at_are_bounded() {
    let dir: Vec<Recipient> = (1..=(MAX_CANDIDATES as i64 + 500))
        .map(|id| rec(id, "Ann Smith", "A-1"))
        .collect();
    let index = RecipientIndex::new(dir);
    let mut searcher = Searcher::new();
    let hits = searcher.search_or_suggest(&index, "smiht", 50, false);
    assert_eq!(hits.len(), 50);
    assert!(hits.iter().all(|h| h.suggested));
    assert_eq!(searcher.stats().typo_candidates, MAX_CANDIDATES);
    assert_eq!(searcher.stats().suggested, 50);
}

#[test]
fn the_words_are_counted_in_the_index_size() {
    let index = RecipientIndex::new(roster());
    let words = index.words.heap_bytes(16);
    let without = index.heap_bytes() - words;
    // Postings for every name word of 2,002 people, plus the distinct words themselves.
    assert!(words > 2002 * 4 * 2, "{words}");
    assert!(words < without / 2, "{words} of {without}");
}

/// The textbook optimal string alignment distance, unbounded.
fn reference(a: &[char], b: &[char]) -> usize {
    let (m, n) = (a.len(), b.len());
    let mut d = vec![vec![0usize; n + 1]; m + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=m {
        for j in 1..=n {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[m][n]
}

fn chars(s: &str) -> Vec<char> {
    s.chars().collect()
}

#[test]
fn bounded_distance_equals_the_reference() {
    let mut rows = Rows::default();
    let d = |a: &str, b: &str, max: usize, rows: &mut Rows| osa(&chars(a), &chars(b), max, rows);
    assert_eq!(d("kowalsky", "kowalski", 2, &mut rows).full, Some(1));
    assert_eq!(
        d("smiht", "smith", 1, &mut rows).full,
        Some(1),
        "a swap is one edit"
    );
    assert_eq!(d("johnsen", "jensen", 2, &mut rows).full, Some(2));
    assert_eq!(d("johnsen", "jensen", 1, &mut rows).full, None);
    assert_eq!(d("smyt", "smith", 1, &mut rows).prefix, Some(1));
    assert_eq!(d("kowal", "kowalski", 0, &mut rows).prefix, Some(0));
    let mut rng = fastrand::Rng::with_seed(5);
    let word = |rng: &mut fastrand::Rng| -> Vec<char> {
        (0..rng.usize(0..10))
            .map(|_| rng.choice(['a', 'b', 'c', 'd']).unwrap())
            .collect()
    };
    for _ in 0..20_000 {
        let (a, b) = (word(&mut rng), word(&mut rng));
        let max = rng.usize(0..4);
        let got = osa(&a, &b, max, &mut rows);
        let full = reference(&a, &b);
        let prefix = (0..=b.len()).map(|j| reference(&a, &b[..j])).min().unwrap();
        assert_eq!(got.full, (full <= max).then_some(full), "{a:?} {b:?} {max}");
        assert_eq!(
            got.prefix,
            (prefix <= max).then_some(prefix),
            "{a:?} {b:?} {max}"
        );
    }
}

#[test]
fn sound_alike_keys_join_the_issues_spellings() {
    let same = |a: &str, b: &str| {
        let (ka, kb) = (sound_keys(&chars(a)), sound_keys(&chars(b)));
        ka.iter().any(|k| kb.contains(k))
    };
    for (a, b) in [
        ("kowalsky", "kowalski"),
        ("hernandes", "hernandez"),
        ("smyth", "smith"),
        ("johnsen", "johnson"),
        ("johnsen", "jensen"),
        ("fillips", "phillips"),
    ] {
        assert!(same(a, b), "{a} {b}");
    }
    assert!(!same("smith", "jones"));
    // Only ASCII letters are encoded (the encoder indexes bytes).
    assert!(sound_keys(&chars("łukasz")).is_empty());
    assert!(sound_keys(&chars("王芳")).is_empty());
}

/// What the fallback should suggest for a one-word query, by brute force over every record
/// with the reference distance: the active records with a name word the query is close to
/// (within its edits, one more when they sound alike, or a prefix one edit away) and none it
/// is (the start of) exactly.
fn brute_force(dir: &[Recipient], word: &str) -> Vec<i64> {
    let q = chars(word);
    let max = max_edits(q.len());
    let keys = sound_keys(&q);
    let mut out: Vec<i64> = dir
        .iter()
        .filter(|r| r.active)
        .filter(|r| {
            let mut close = false;
            let mut exact = false;
            name_words(r, |_, _, w| {
                let full = reference(&q, w);
                let prefix = (0..=w.len()).map(|j| reference(&q, &w[..j])).min().unwrap();
                let alike = sound_keys(w).iter().any(|k| keys.contains(k));
                exact |= full == 0 || prefix == 0;
                close |= full <= max + usize::from(alike)
                    || (prefix <= MAX_PREFIX_EDITS && w.first() == q.first());
            });
            close && !exact
        })
        .map(|r| r.id)
        .collect();
    out.sort_unstable();
    out
}

#[test]
fn suggestions_equal_brute_force() {
    let dir = synthetic_directory(3000, 11);
    let index = RecipientIndex::new(dir.clone());
    let mut checked = 0;
    for typed in [
        "kowalsky",
        "hernandes",
        "smyth",
        "johnsen",
        "gartcia",
        "nguyn",
        "wiliams",
        "muller",
        "tanaak",
        "oconnor",
        "petrof",
        "lindkvist",
        "abdulah",
        "zzzzqq",
    ] {
        let hits = index.search_or_suggest(typed, 100_000, false);
        let recognised = hits.iter().filter(|h| !h.suggested).count();
        if recognised > 0 {
            continue; // the fuzzy match found enough: no fallback to compare
        }
        let mut got = suggestions(&hits);
        got.sort_unstable();
        assert_eq!(got, brute_force(&dir, typed), "{typed}");
        checked += 1;
    }
    assert!(checked >= 10, "{checked}");
}
