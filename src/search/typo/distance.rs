//! Edit distance between a query word and a name word: optimal string alignment (Damerau-
//! Levenshtein in which no substring is edited twice): substitutions, insertions, deletions
//! and swaps of two neighbours, the typos people make. Bounded: a word clearly too far is
//! given up after a few rows. One table gives the distance to the whole name word and to its
//! nearest prefix (the last word of a query may be half typed).

/// Shortest query word the fallback corrects: shorter words have too many neighbours one edit
/// away ("lee": "lea", "lei", "leo"), and a clerk typing "smy" is not done yet.
pub(super) const MIN_WORD: usize = 4;

/// Longest query word the fallback corrects (bounds the table; no name word is this long).
pub(super) const MAX_WORD: usize = 32;

/// Most edits between a query word of `len` characters and a name word it suggests: one up
/// to 6 characters ("smyth"), two up to 9 ("johnsen" → "jensen"), three beyond.
pub(super) fn max_edits(len: usize) -> usize {
    match len {
        0..MIN_WORD => 0,
        MIN_WORD..=6 => 1,
        7..=9 => 2,
        _ => 3,
    }
}

/// Most edits between a half-typed last word and the start of a name word: one, so that
/// "smyt" suggests "Smith" while typing without every "sm…" name.
pub(super) const MAX_PREFIX_EDITS: usize = 1;

/// `a`'s distances, each `None` when over the bound it was computed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Distance {
    /// To all of `b`.
    pub(super) full: Option<usize>,
    /// To the nearest prefix of `b` (all of `b` included).
    pub(super) prefix: Option<usize>,
}

/// Rows reused from call to call (no allocation per word once warm).
#[derive(Debug, Default)]
pub(super) struct Rows {
    two_up: Vec<usize>,
    up: Vec<usize>,
    cur: Vec<usize>,
}

/// The distances of `a` to `b` and to `b`'s nearest prefix, both bounded by `max`.
pub(super) fn osa(a: &[char], b: &[char], max: usize, rows: &mut Rows) -> Distance {
    let none = Distance {
        full: None,
        prefix: None,
    };
    let m = a.len();
    // A prefix longer than `m + max` is more than `max` edits away: its columns are not needed.
    let n = b.len().min(m + max);
    let Rows { two_up, up, cur } = rows;
    for row in [&mut *two_up, &mut *up, &mut *cur] {
        row.clear();
        row.resize(n + 1, 0);
    }
    for (j, v) in up.iter_mut().enumerate() {
        *v = j;
    }
    let mut up_min = 0;
    for i in 1..=m {
        cur[0] = i;
        let mut cur_min = i;
        for j in 1..=n {
            let same = a[i - 1] == b[j - 1];
            let mut d = (up[j] + 1)
                .min(cur[j - 1] + 1)
                .min(up[j - 1] + usize::from(!same));
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(two_up[j - 2] + 1);
            }
            cur[j] = d;
            cur_min = cur_min.min(d);
        }
        // A row's minimum never falls below the smaller of the two rows above it (plus one for
        // the older): two rows over `max` mean every later row is too.
        if cur_min > max && up_min > max {
            return none;
        }
        up_min = cur_min;
        std::mem::swap(two_up, up);
        std::mem::swap(up, cur);
    }
    // `up` now holds the last row.
    let within = |d: usize| (d <= max).then_some(d);
    Distance {
        full: if b.len() <= n {
            up.get(n).copied().and_then(within)
        } else {
            None
        },
        prefix: up.iter().copied().min().and_then(within),
    }
}
