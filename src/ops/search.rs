//! The recipient search behind every screen and exec command: per-facility indexes built on
//! first use and searched on blocking threads (bounded server-wide), kept current by this
//! process's own changes and by the database's announcements (`cache.rs`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex};

use tokio::sync::{RwLock, Semaphore};

use super::Ops;
use crate::db::recipients::{self, Recipient};
use crate::domain::{FacilityId, Principal};
use crate::error::AppError;
use crate::search::{Hit, RecipientIndex};

/// A facility's index behind its lock: `None` until built. Whoever holds the `Arc` (a search,
/// a build, an update) keeps the index alive even once the directory has let go of it.
pub type Slot = Arc<RwLock<Option<RecipientIndex>>>;

/// Index memory when the operator sets none: 256 MiB, a quarter of a 2-core, 1 GiB node. The
/// rest goes to the sessions, the runtime, the indexes being built over the budget (one per
/// core at most, see `searches`) and often the embedded PostgreSQL (128 MiB of shared buffers
/// plus its backends). An index takes about 655 bytes per recipient in a large facility and
/// 705 in a small one, the typo fallback's name words included (docs/SCALE.md), so 256 MiB
/// keeps about 410,000 recipients warm: four facilities of 100,000, or 380 of 1,000.
pub const DEFAULT_INDEX_MEMORY: usize = 256 << 20;

/// The per-facility recipient indexes: built on first use, kept current by this process's
/// own changes and by the changes the database announces (`ops/cache.rs`: the changed rows
/// reloaded, or the index rebuilt beside the one in use), and evicted, least recently
/// searched first, once their estimated size passes the budget.
pub struct Directory {
    indexes: Mutex<Indexes>,
    /// What other processes changed since each index was built.
    pending: Mutex<HashMap<FacilityId, Pending>>,
    /// Searches are CPU work: they run on blocking threads, this many at once server-wide,
    /// so a flood of them can neither stall the async workers nor take every core.
    searches: Arc<Semaphore>,
    /// Bytes of index ([`RecipientIndex::heap_bytes`]) the directory keeps at most, unless
    /// the indexes in use alone take more.
    budget: usize,
    evictions: AtomicU64,
}

#[derive(Default)]
struct Indexes {
    held: HashMap<FacilityId, Held>,
    /// Ticks once per use: the LRU's clock (a counter, not time, so touching is one add).
    clock: u64,
}

struct Held {
    slot: Slot,
    last_used: u64,
    /// The index's estimated size when it was built (0: not built yet). Later in-place
    /// updates are not counted: they are small (at most INDEX_UPDATE_MAX rows before a
    /// rebuild) and re-measuring would cost a pass over the index.
    bytes: usize,
}

/// What a facility's built index still lacks, as the database announced it.
#[derive(Debug, Default)]
struct Pending {
    /// Rows changed since the index was built, reloaded by the next search.
    ids: Vec<i64>,
    /// Too much changed to list, or notifications were lost: the next search starts a
    /// rebuild and answers from the index as it is until the new one replaces it.
    stale: bool,
    /// A rebuild is under way: changes noted meanwhile wait for the new index.
    rebuilding: bool,
}

/// What a search does about its facility's pending changes before it searches.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Refresh {
    Nothing,
    /// Reload the changed rows into the index (one query, under its write lock).
    Reload,
    /// Start a rebuild in the background (the search goes on with the index as it is).
    Rebuild,
}

/// What the directory holds, for logs, metrics and the scale simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectoryStats {
    /// Facilities with a built index.
    pub indexes: usize,
    pub bytes: usize,
    pub budget: usize,
    /// Indexes evicted over the budget since start.
    pub evictions: u64,
}

impl Default for Directory {
    fn default() -> Self {
        Self::with_budget(DEFAULT_INDEX_MEMORY)
    }
}

impl Directory {
    /// A directory that keeps at most about `budget` bytes of index.
    pub fn with_budget(budget: usize) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        Self {
            indexes: Mutex::default(),
            pending: Mutex::default(),
            searches: Arc::new(Semaphore::new(cores)),
            budget,
            evictions: AtomicU64::new(0),
        }
    }

    fn indexes(&self) -> std::sync::MutexGuard<'_, Indexes> {
        self.indexes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The facility's slot (empty until built), marked as used now: O(1) under the map's
    /// lock, which is held for the lookup only.
    pub fn slot(&self, facility: FacilityId) -> Slot {
        let mut indexes = self.indexes();
        indexes.clock += 1;
        let now = indexes.clock;
        let held = indexes.held.entry(facility).or_insert_with(|| Held {
            slot: Slot::default(),
            last_used: now,
            bytes: 0,
        });
        held.last_used = now;
        held.slot.clone()
    }

    /// Records the size of an index just built into `slot` and, when the directory is now
    /// over its budget, evicts the least recently used indexes until it is not. Never
    /// evicted: `slot` itself and any index in use (its `Arc` held by a search, a build or an
    /// update: see [`Self::in_use`]). Eviction only removes the map entry; the next search
    /// of that facility rebuilds. Returns the facilities evicted.
    pub fn built(&self, facility: FacilityId, slot: &Slot, bytes: usize) -> Vec<FacilityId> {
        let mut indexes = self.indexes();
        match indexes.held.get_mut(&facility) {
            // Dropped (invalidated) while it was being built: it serves its own search only.
            Some(held) if Arc::ptr_eq(&held.slot, slot) => held.bytes = bytes,
            _ => return Vec::new(),
        }
        let mut total: usize = indexes.held.values().map(|h| h.bytes).sum();
        if total <= self.budget {
            return Vec::new();
        }
        let mut idle: Vec<(u64, FacilityId, usize)> = indexes
            .held
            .iter()
            .filter(|(f, h)| **f != facility && h.bytes > 0 && !Self::in_use(&h.slot))
            .map(|(f, h)| (h.last_used, *f, h.bytes))
            .collect();
        idle.sort_unstable();
        let mut evicted = Vec::new();
        for (_, f, bytes) in idle {
            if total <= self.budget {
                break;
            }
            indexes.held.remove(&f);
            total -= bytes;
            evicted.push(f);
        }
        drop(indexes);
        for &f in &evicted {
            self.forget(f);
        }
        if !evicted.is_empty() {
            self.evictions
                .fetch_add(evicted.len() as u64, AtomicOrdering::Relaxed);
            tracing::debug!(
                evicted = evicted.len(),
                index_bytes = total,
                budget = self.budget,
                "search indexes evicted over the memory budget"
            );
        }
        if total > self.budget {
            tracing::debug!(
                index_bytes = total,
                budget = self.budget,
                "search indexes in use exceed the memory budget"
            );
        }
        evicted
    }

    /// Someone besides the directory holds the slot: a search, build or update is under way
    /// (callers hold the `Arc` for the whole of it). Checked under the map's lock, so no new
    /// holder can appear meanwhile (new holders get their clone from the map).
    fn in_use(slot: &Slot) -> bool {
        Arc::strong_count(slot) > 1
    }

    pub fn stats(&self) -> DirectoryStats {
        let indexes = self.indexes();
        let built = indexes.held.values().filter(|h| h.bytes > 0);
        DirectoryStats {
            indexes: built.clone().count(),
            bytes: built.map(|h| h.bytes).sum(),
            budget: self.budget,
            evictions: self.evictions.load(AtomicOrdering::Relaxed),
        }
    }

    /// Drops a facility's index so the next search builds it afresh, waiting for it (after
    /// a failed reload, which may have left it without rows it was told about). A build under
    /// way finishes into the dropped slot and serves its own search.
    pub fn invalidate(&self, facility: FacilityId) {
        self.indexes().held.remove(&facility);
        self.forget(facility);
    }

    /// Every index is rebuilt (notifications may have been lost): each facility's next
    /// search starts its rebuild and answers from the index as it is meanwhile.
    pub fn invalidate_all(&self) {
        let built: Vec<FacilityId> = self.indexes().held.keys().copied().collect();
        for f in built {
            self.mark_stale(f);
        }
    }

    /// The facility's index is rebuilt by its next search, which answers from the index as
    /// it is until the new one is ready (a search never waits for a rebuild it can do
    /// without). Nothing built: nothing to do, the first search reads every row anyway.
    pub fn mark_stale(&self, facility: FacilityId) {
        if !self.indexes().held.contains_key(&facility) {
            return;
        }
        let mut pending = self.pending();
        let p = pending.entry(facility).or_default();
        p.stale = true;
        // The rebuild reads every row, these among them.
        p.ids.clear();
    }

    /// Notes rows to reload into a facility's index before its next search; with too many
    /// pending, the index is rebuilt instead (see INDEX_UPDATE_MAX).
    pub fn rows_changed(&self, facility: FacilityId, ids: &[i64]) {
        if !self.indexes().held.contains_key(&facility) {
            return; // nothing built: the first search reads every row anyway
        }
        let mut pending = self.pending();
        let p = pending.entry(facility).or_default();
        if p.stale {
            return;
        }
        p.ids.extend_from_slice(ids);
        if p.ids.len() > super::recipients_admin::INDEX_UPDATE_MAX {
            p.ids.clear();
            p.stale = true;
        }
    }

    /// What the facility's next search must do first; a rebuild it is told to start is
    /// marked as under way (one at a time per facility).
    pub(super) fn refresh(&self, facility: FacilityId) -> Refresh {
        let mut pending = self.pending();
        let Some(p) = pending.get_mut(&facility) else {
            return Refresh::Nothing;
        };
        if p.rebuilding {
            Refresh::Nothing
        } else if p.stale {
            p.stale = false;
            p.rebuilding = true;
            // The rebuild reads every row; what changes after that is noted anew.
            p.ids.clear();
            Refresh::Rebuild
        } else if p.ids.is_empty() {
            Refresh::Nothing
        } else {
            Refresh::Reload
        }
    }

    /// The rows to reload now: none while a rebuild is under way (they wait for the new
    /// index, which may have read them before they changed).
    pub(super) fn take_changed(&self, facility: FacilityId) -> Vec<i64> {
        match self.pending().get_mut(&facility) {
            Some(p) if !p.rebuilding => std::mem::take(&mut p.ids),
            _ => Vec::new(),
        }
    }

    /// A rebuild ended; one that failed is tried again by the next search.
    pub(super) fn rebuilt(&self, facility: FacilityId, ok: bool) {
        let mut pending = self.pending();
        let p = pending.entry(facility).or_default();
        p.rebuilding = false;
        p.stale |= !ok;
    }

    /// Forgets what was pending for a facility: its index is being built from every row
    /// now, or is gone.
    pub(super) fn forget(&self, facility: FacilityId) {
        self.pending().remove(&facility);
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<FacilityId, Pending>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What a search returns besides its best matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Matches,
    /// How many recipients match in all.
    Total,
    /// The typo fallback's suggestions when nothing matches as typed.
    Suggestions,
}

/// A recipient found by search, with how it matched.
#[derive(Debug, Clone)]
pub struct Found {
    pub recipient: Recipient,
    pub hit: Hit,
}

impl Ops {
    /// With an index memory budget (`serve --index-memory`) instead of the default.
    pub fn with_index_memory(mut self, budget: usize) -> Self {
        self.directory = Arc::new(Directory::with_budget(budget));
        self
    }

    /// What the search indexes hold now.
    pub fn index_stats(&self) -> DirectoryStats {
        self.directory.stats()
    }

    /// Fuzzy search over the facility's recipients (exec commands: matches only).
    pub async fn search_recipients(
        &self,
        p: &Principal,
        query: &str,
        limit: usize,
        include_inactive: bool,
    ) -> Result<Vec<Found>, AppError> {
        Ok(self
            .search_in(p, query, limit, include_inactive, Want::Matches)
            .await?
            .0)
    }

    /// [`Self::search_recipients`] with the typo fallback: when nothing matches as typed,
    /// names a few typos away or that sound alike, marked `hit.suggested` (the interface's
    /// search box asks "did you mean …?").
    pub async fn search_recipients_or_suggest(
        &self,
        p: &Principal,
        query: &str,
        limit: usize,
        include_inactive: bool,
    ) -> Result<Vec<Found>, AppError> {
        Ok(self
            .search_in(p, query, limit, include_inactive, Want::Suggestions)
            .await?
            .0)
    }

    /// [`Ops::search_recipients`] and how many recipients match in all (a second, unpruned
    /// pass over the index: for a cut list that states its total, not per keystroke).
    pub async fn search_recipients_counted(
        &self,
        p: &Principal,
        query: &str,
        limit: usize,
        include_inactive: bool,
    ) -> Result<(Vec<Found>, usize), AppError> {
        let (found, total) = self
            .search_in(p, query, limit, include_inactive, Want::Total)
            .await?;
        let total = total.unwrap_or(found.len()).max(found.len());
        Ok((found, total))
    }

    /// Matches of `query`, and what else `want` asks for.
    async fn search_in(
        &self,
        p: &Principal,
        query: &str,
        limit: usize,
        include_inactive: bool,
        want: Want,
    ) -> Result<(Vec<Found>, Option<usize>), AppError> {
        let slot = self.directory.slot(p.facility());
        if slot.read().await.is_none() {
            let mut guard = slot.write().await;
            if guard.is_none() {
                // Changes announced so far are in the rows read now.
                self.directory.forget(p.facility());
                let all = self
                    .db
                    .scoped(p, async |tx| recipients::all(tx).await)
                    .await?;
                let (index, bytes) = self
                    .blocking(move || {
                        let index = RecipientIndex::new(all);
                        let bytes = index.heap_bytes();
                        (index, bytes)
                    })
                    .await?;
                *guard = Some(index);
                // Under the write lock still: this slot is in use, so never evicted here.
                self.directory.built(p.facility(), &slot, bytes);
            }
        }
        match self.directory.refresh(p.facility()) {
            Refresh::Nothing => {}
            Refresh::Reload => self.reload_changed(p, &slot).await?,
            Refresh::Rebuild => self.rebuild_beside(p, &slot),
        }
        // An owned guard: the search runs on a blocking thread, off the async workers.
        let guard = slot.read_owned().await;
        let query = query.to_string();
        self.blocking(move || {
            guard
                .as_ref()
                .map(|index| {
                    let total = (want == Want::Total)
                        .then(|| index.count_matches(&query, include_inactive));
                    let suggest = want == Want::Suggestions;
                    let found = found(index, &query, limit, include_inactive, suggest);
                    (found, total)
                })
                .ok_or(AppError::NotFound)
        })
        .await?
    }

    /// CPU-bound work on a blocking thread, at most one per core at once. (A caller that
    /// gives up waiting does not stop work already started: each piece is one search.)
    pub(super) async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let permit = self
            .directory
            .searches
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| shutting_down())?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(|e| match e.try_into_panic() {
            // A bug in the search: fail the caller's task as if it had run there.
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(_) => shutting_down(),
        })
    }

    /// Keeps a built index current after a recipient changed.
    pub async fn recipient_changed(&self, facility: FacilityId, r: Recipient) {
        let slot = self.directory.slot(facility);
        let mut guard = slot.write().await;
        if let Some(index) = guard.as_mut() {
            index.upsert(r);
        }
    }
}

fn found(
    index: &RecipientIndex,
    query: &str,
    limit: usize,
    inactive: bool,
    suggest: bool,
) -> Vec<Found> {
    let hits = if suggest {
        index.search_or_suggest(query, limit, inactive)
    } else {
        index.search(query, limit, inactive)
    };
    hits.into_iter()
        .filter_map(|hit| {
            index.get(hit.id).map(|r| Found {
                recipient: r.clone(),
                hit,
            })
        })
        .collect()
}

/// Blocking work is cancelled only when the runtime shuts down.
fn shutting_down() -> AppError {
    AppError::Conflict("the server is shutting down; try again in a moment".into())
}

#[cfg(test)]
mod tests;
