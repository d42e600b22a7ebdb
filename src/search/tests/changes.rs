//! Changes to a built index: one by one (`upsert`, `remove`) and in bulk (`apply`), each
//! checked against a fresh index of the same records.

use super::*;

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

/// A bulk change (another node's import) applied at once equals a fresh index of the result:
/// replacements that move in the name order, removals, additions, a repeated id.
#[test]
fn bulk_apply_matches_a_fresh_index() {
    let mut dir = synthetic_directory(5_000, 9);
    let mut index = RecipientIndex::new(dir.clone());
    let mut rows = Vec::new();
    for i in 0..1_500usize {
        let k = (i * 7919) % dir.len();
        let mut r = dir[k].clone();
        r.name = if i % 4 == 0 {
            format!("Aaron A{i:05}")
        } else {
            format!("{} {}", r.name.split(' ').next().unwrap_or("X"), i % 89)
        };
        r.active = i % 10 != 0;
        dir[k] = r.clone();
        rows.push(r);
    }
    let mut gone = Vec::new();
    for k in (0..dir.len()).step_by(17).rev() {
        gone.push(dir[k].id);
        dir.remove(k);
    }
    for i in 0..700 {
        let r = rec(200_000 + i, &format!("Newcomer Number{i}"), "N-1");
        dir.push(r.clone());
        rows.push(r);
    }
    // The same id twice: the later row wins.
    rows.push(rec(200_000, "Newcomer Renamed", "N-2"));
    dir.retain(|r| r.id != 200_000);
    dir.push(rec(200_000, "Newcomer Renamed", "N-2"));
    // Rows removed after they were listed as changed stay removed.
    rows.retain(|r| !gone.contains(&r.id));
    index.apply(rows, &gone);
    let fresh = RecipientIndex::new(dir.clone());
    assert_eq!(index.len(), fresh.len());
    for q in [
        "", "a", "aaron", "aaron a0", "12", "newcomer", "renamed", "num 1", "li", "smith",
    ] {
        for inactive in [false, true] {
            assert_eq!(
                index.search(q, 60, inactive),
                fresh.search(q, 60, inactive),
                "{q:?}"
            );
        }
    }
    // Few changes take the one-by-one path, with the same result.
    let mut small = RecipientIndex::new(dir.clone());
    small.apply(vec![rec(1_000_000, "Zed Zulu", "Z-1")], &[dir[0].id]);
    dir.remove(0);
    dir.push(rec(1_000_000, "Zed Zulu", "Z-1"));
    let fresh = RecipientIndex::new(dir);
    for q in ["zed", "", "a"] {
        assert_eq!(
            small.search(q, 60, true),
            fresh.search(q, 60, true),
            "{q:?}"
        );
    }
}

#[test]
fn duplicate_ids_keep_the_last_record() {
    let index = RecipientIndex::new(vec![rec(1, "Old Name", "A-1"), rec(1, "New Name", "A-2")]);
    assert_eq!(index.len(), 1);
    assert_eq!(index.get(1).map(|r| r.unit.as_str()), Some("A-2"));
    assert!(index.search("old", 5, false).is_empty());
}
