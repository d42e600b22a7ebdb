//! The recipient search behind every screen and exec command: per-facility indexes built on
//! first use and searched on blocking threads (bounded server-wide), kept current by this
//! process's own changes and by the database's announcements (`cache.rs`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{RwLock, Semaphore};

use super::Ops;
use crate::db::recipients::{self, Recipient};
use crate::domain::{FacilityId, Principal};
use crate::error::AppError;
use crate::search::{Hit, RecipientIndex};

/// The per-facility recipient indexes, built on first use, kept current by this process's
/// own changes and dropped when the database announces any other change (`ops/cache.rs`).
pub struct Directory {
    indexes: Mutex<HashMap<FacilityId, Arc<RwLock<Option<RecipientIndex>>>>>,
    /// Rows other processes changed since the index was built, reloaded by the next search.
    changed: Mutex<HashMap<FacilityId, Vec<i64>>>,
    /// Searches are CPU work: they run on blocking threads, this many at once server-wide,
    /// so a flood of them can neither stall the async workers nor take every core.
    searches: Arc<Semaphore>,
}

impl Default for Directory {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        Self {
            indexes: Mutex::default(),
            changed: Mutex::default(),
            searches: Arc::new(Semaphore::new(cores)),
        }
    }
}

impl Directory {
    pub(super) fn slot(&self, facility: FacilityId) -> Arc<RwLock<Option<RecipientIndex>>> {
        self.indexes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(facility)
            .or_default()
            .clone()
    }

    /// Drops a facility's index so the next search rebuilds it (after a bulk import, or
    /// when the database announces a change). A build under way finishes into the dropped
    /// slot and serves its own search; the next search builds afresh.
    pub fn invalidate(&self, facility: FacilityId) {
        self.indexes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&facility);
        self.take_changed(facility);
    }

    /// Drops every index (notifications may have been lost).
    pub fn invalidate_all(&self) {
        self.indexes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.changed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Notes rows to reload into a facility's index before its next search; with too many
    /// pending, the index is dropped instead (a rebuild is cheaper, see INDEX_UPDATE_MAX).
    pub fn rows_changed(&self, facility: FacilityId, ids: &[i64]) {
        if !self
            .indexes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(&facility)
        {
            return; // nothing built: the first search reads every row anyway
        }
        let too_many = {
            let mut changed = self.changed.lock().unwrap_or_else(|e| e.into_inner());
            let pending = changed.entry(facility).or_default();
            pending.extend_from_slice(ids);
            pending.len() > super::recipients_admin::INDEX_UPDATE_MAX
        };
        if too_many {
            self.invalidate(facility);
        }
    }

    pub(super) fn has_changed(&self, facility: FacilityId) -> bool {
        self.changed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(&facility)
    }

    pub(super) fn take_changed(&self, facility: FacilityId) -> Vec<i64> {
        self.changed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&facility)
            .unwrap_or_default()
    }
}

/// A recipient found by search, with how it matched.
#[derive(Debug, Clone)]
pub struct Found {
    pub recipient: Recipient,
    pub hit: Hit,
}

impl Ops {
    /// Fuzzy search over the facility's recipients.
    pub async fn search_recipients(
        &self,
        p: &Principal,
        query: &str,
        limit: usize,
        include_inactive: bool,
    ) -> Result<Vec<Found>, AppError> {
        let slot = self.directory.slot(p.facility());
        if slot.read().await.is_none() {
            let mut guard = slot.write().await;
            if guard.is_none() {
                // Changes announced so far are in the rows read now.
                self.directory.take_changed(p.facility());
                let all = self
                    .db
                    .scoped(p, async |tx| recipients::all(tx).await)
                    .await?;
                *guard = Some(self.blocking(move || RecipientIndex::new(all)).await?);
            }
        }
        if self.directory.has_changed(p.facility()) {
            self.reload_changed(p, &slot).await?;
        }
        // An owned guard: the search runs on a blocking thread, off the async workers.
        let guard = slot.read_owned().await;
        let query = query.to_string();
        self.blocking(move || {
            guard
                .as_ref()
                .map(|index| found(index, &query, limit, include_inactive))
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

fn found(index: &RecipientIndex, query: &str, limit: usize, inactive: bool) -> Vec<Found> {
    index
        .search(query, limit, inactive)
        .into_iter()
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
