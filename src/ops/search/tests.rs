use super::*;

const F1: FacilityId = FacilityId(1);
const F2: FacilityId = FacilityId(2);
const F3: FacilityId = FacilityId(3);
const F4: FacilityId = FacilityId(4);

/// What a search does on a miss: take the slot, build into it, report the size, and
/// let go of the slot once done (unless `keep`: a search still under way).
fn search(dir: &Directory, f: FacilityId, bytes: usize) -> Vec<FacilityId> {
    let slot = dir.slot(f);
    let fresh = slot.try_read().unwrap().is_none();
    if fresh {
        *slot.try_write().unwrap() = Some(RecipientIndex::new(Vec::new()));
        dir.built(f, &slot, bytes)
    } else {
        Vec::new()
    }
}

fn built(dir: &Directory, f: FacilityId) -> bool {
    dir.indexes()
        .held
        .get(&f)
        .is_some_and(|h| h.slot.try_read().unwrap().is_some())
}

#[test]
fn evicts_the_least_recently_searched_over_budget() {
    let dir = Directory::with_budget(100);
    assert!(search(&dir, F1, 40).is_empty());
    assert!(search(&dir, F2, 40).is_empty());
    // F1 searched again: F2 is now the least recently used.
    search(&dir, F1, 40);
    assert_eq!(search(&dir, F3, 40), vec![F2]);
    assert!(built(&dir, F1) && built(&dir, F3) && !built(&dir, F2));
    let stats = dir.stats();
    assert_eq!((stats.indexes, stats.bytes, stats.evictions), (2, 80, 1));
    // As many evicted as it takes, oldest first.
    assert_eq!(search(&dir, F4, 90), vec![F1, F3]);
    assert_eq!(dir.stats().bytes, 90);
}

#[test]
fn never_evicts_an_index_in_use() {
    let dir = Directory::with_budget(100);
    search(&dir, F1, 60);
    // A search of F1 under way holds its slot.
    let searching = dir.slot(F1);
    search(&dir, F2, 30);
    let slot = dir.slot(F2);
    drop(slot);
    // Over budget: F1 is older but in use, F3 is being built; F2 goes.
    assert_eq!(search(&dir, F3, 30), vec![F2]);
    // Everything left is in use or just built: over budget, nothing to evict.
    let searching_3 = dir.slot(F3);
    assert!(search(&dir, F4, 50).is_empty());
    assert_eq!(dir.stats().bytes, 140);
    assert!(built(&dir, F1) && built(&dir, F3) && built(&dir, F4));
    drop((searching, searching_3));
    // The next build sweeps what is no longer in use, least recent first, to the budget.
    assert_eq!(search(&dir, F2, 10), vec![F1]);
}

#[test]
fn an_evicted_index_is_rebuilt_by_the_next_search() {
    let dir = Directory::with_budget(50);
    search(&dir, F1, 40);
    let held = dir.slot(F1);
    assert!(search(&dir, F2, 40).is_empty(), "F1 is in use");
    drop(held);
    assert_eq!(search(&dir, F3, 40), vec![F1, F2]);
    // F1's next search finds an empty slot and builds (and F3, idle, makes room).
    let slot = dir.slot(F1);
    assert!(slot.try_read().unwrap().is_none());
    drop(slot);
    assert_eq!(search(&dir, F1, 40), vec![F3]);
    assert!(built(&dir, F1) && !built(&dir, F3));
}

#[test]
fn too_many_changed_rows_rebuild_once_and_later_rows_wait_for_it() {
    let dir = Directory::with_budget(1 << 20);
    // Nothing built: nothing noted (the first search reads every row).
    dir.rows_changed(F1, &[1, 2]);
    dir.mark_stale(F1);
    assert_eq!(dir.refresh(F1), Refresh::Nothing);
    search(&dir, F1, 10);
    dir.rows_changed(F1, &[1, 2]);
    assert_eq!(dir.refresh(F1), Refresh::Reload);
    assert_eq!(dir.take_changed(F1), vec![1, 2]);
    assert_eq!(dir.refresh(F1), Refresh::Nothing);

    let many: Vec<i64> = (0..=super::super::recipients_admin::INDEX_UPDATE_MAX as i64).collect();
    dir.rows_changed(F1, &many);
    assert_eq!(dir.refresh(F1), Refresh::Rebuild);
    // One rebuild at a time; rows changed meanwhile are not reloaded into the old index
    // (the rebuild may have read them before they changed): they wait for the new one.
    dir.rows_changed(F1, &[7]);
    assert_eq!(dir.refresh(F1), Refresh::Nothing);
    assert!(dir.take_changed(F1).is_empty());
    dir.rebuilt(F1, true);
    assert_eq!(dir.refresh(F1), Refresh::Reload);
    assert_eq!(dir.take_changed(F1), vec![7]);

    // A failed rebuild is retried by the next search; lost notifications mark every
    // built index.
    dir.mark_stale(F1);
    assert_eq!(dir.refresh(F1), Refresh::Rebuild);
    dir.rebuilt(F1, false);
    assert_eq!(dir.refresh(F1), Refresh::Rebuild);
    dir.rebuilt(F1, true);
    search(&dir, F2, 10);
    dir.invalidate_all();
    assert_eq!(dir.refresh(F1), Refresh::Rebuild);
    assert_eq!(dir.refresh(F2), Refresh::Rebuild);
    assert_eq!(dir.refresh(F3), Refresh::Nothing);
    // The indexes stay: searches answer from them until the new ones are swapped in.
    assert!(built(&dir, F1) && built(&dir, F2));
}

#[test]
fn a_build_into_a_dropped_slot_is_not_counted() {
    let dir = Directory::with_budget(100);
    let slot = dir.slot(F1);
    dir.invalidate(F1);
    *slot.try_write().unwrap() = Some(RecipientIndex::new(Vec::new()));
    assert!(dir.built(F1, &slot, 500).is_empty());
    assert_eq!(dir.stats().bytes, 0);
}
