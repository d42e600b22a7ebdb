//! Comparing a checkpoint with the chains' current heads: what the next checkpoint anchors,
//! and what verification reports. Pure.

use super::*;

/// Whether the chain still holds the anchored entry `h`, given the hash found at its seq.
pub(super) fn holds(h: &Head, found: Option<&Option<Vec<u8>>>) -> bool {
    matches!(found, Some(Some(hash)) if *hash == h.hash)
}

/// The next checkpoint's heads: every current head, except that a facility whose chain no
/// longer holds its anchored entry keeps its old anchor (reported as a regression). Pure.
pub(super) fn plan(
    anchored: &[Head],
    current: &[Head],
    found: &[Option<Vec<u8>>],
) -> (Vec<Head>, Vec<Regression>) {
    let mut heads = Vec::with_capacity(current.len().max(anchored.len()));
    let mut regressed = Vec::new();
    let mut kept = std::collections::HashSet::new();
    for (i, a) in anchored.iter().enumerate() {
        if !holds(a, found.get(i)) {
            kept.insert(a.facility);
            heads.push(a.clone());
            regressed.push(Regression {
                facility: a.slug.clone(),
                anchored_seq: a.seq,
            });
        }
    }
    heads.extend(
        current
            .iter()
            .filter(|h| !kept.contains(&h.facility))
            .cloned(),
    );
    heads.sort_by_key(|h| h.facility);
    (heads, regressed)
}

/// What is wrong with the chains against `checkpoint`. Pure.
pub(super) fn compare(
    checkpoint: &Checkpoint,
    current: &[Head],
    found: &[Option<Vec<u8>>],
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (i, a) in checkpoint.heads.iter().enumerate() {
        if holds(a, found.get(i)) {
            continue;
        }
        let now = current.iter().find(|h| h.facility == a.facility);
        let facility = now.map_or_else(|| a.slug.clone(), |h| h.slug.clone());
        let checkpoint = checkpoint.n;
        let anchored_seq = a.seq;
        findings.push(match now {
            None => Finding::ChainGone {
                facility,
                anchored_seq,
                checkpoint,
            },
            Some(h) if h.seq < a.seq => Finding::Truncated {
                facility,
                anchored_seq,
                head_seq: h.seq,
                checkpoint,
            },
            Some(_) => Finding::Rewritten {
                facility,
                anchored_seq,
                checkpoint,
            },
        });
    }
    findings
}
