//! Keeps the per-facility search indexes coherent with the database. The listener
//! ([`crate::live`]) hears which of a facility's recipients changed, whoever changed them:
//! up to INDEX_UPDATE_MAX rows per transaction are noted and reloaded by the facility's next
//! search (one query for just those rows, applied in one pass over the index); anything
//! larger, or lost notifications, make the next search start a rebuild beside the index in
//! use, which keeps answering until the new one replaces it. Searches with nothing pending
//! never touch the database, and no search waits for a rebuild.

use tokio::sync::broadcast::error::RecvError;

use super::{Ops, Slot};
use crate::db::recipients;
use crate::domain::Principal;
use crate::error::AppError;
use crate::live::{CacheEvent, LiveHub};
use crate::search::RecipientIndex;

impl Ops {
    /// Follows the database's change announcements for as long as the hub lives.
    pub fn follow(&self, live: &LiveHub) {
        let mut events = live.cache_events();
        let directory = self.directory.clone();
        tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(CacheEvent::Recipients {
                        facility,
                        ids: Some(ids),
                    }) => directory.rows_changed(facility, &ids),
                    Ok(CacheEvent::Recipients {
                        facility,
                        ids: None,
                    }) => directory.mark_stale(facility),
                    // Missed events (a lagging follower) are treated like lost notifications.
                    Ok(CacheEvent::All) | Err(RecvError::Lagged(_)) => directory.invalidate_all(),
                    Err(RecvError::Closed) => return,
                }
            }
        });
    }

    /// Reloads the rows noted as changed into the facility's index, under its write lock
    /// (searches wait for it rather than answer from the old rows: one query for at most
    /// INDEX_UPDATE_MAX rows and one pass over the index). Rows that are gone are removed.
    /// On an error the index is dropped: the noted rows are taken, and a later search must
    /// not answer from an index that silently missed them.
    pub(super) async fn reload_changed(&self, p: &Principal, slot: &Slot) -> Result<(), AppError> {
        let mut guard = slot.write().await;
        let ids = self.directory.take_changed(p.facility());
        if ids.is_empty() {
            return Ok(()); // another search reloaded them first
        }
        let rows = match self
            .db
            .scoped(p, async |tx| recipients::by_ids(tx, &ids).await)
            .await
        {
            Ok(rows) => rows,
            Err(e) => {
                *guard = None;
                self.directory.invalidate(p.facility());
                return Err(e);
            }
        };
        if let Some(index) = guard.as_mut() {
            let found: std::collections::HashSet<i64> = rows.iter().map(|r| r.id).collect();
            let gone: Vec<i64> = ids.into_iter().filter(|id| !found.contains(id)).collect();
            index.apply(rows, &gone);
        }
        Ok(())
    }

    /// Rebuilds the facility's index from all its rows in the background, beside the one in
    /// use: searches go on answering from that one and get the new one once it is swapped
    /// in (the node briefly holds both). A failed rebuild is tried again by the next search.
    pub(super) fn rebuild_beside(&self, p: &Principal, slot: &Slot) {
        let (ops, p, slot) = (self.clone(), p.clone(), slot.clone());
        tokio::spawn(async move {
            let facility = p.facility();
            let done = async {
                let all = ops
                    .db
                    .scoped(&p, async |tx| recipients::all(tx).await)
                    .await?;
                let (index, bytes) = ops
                    .blocking(move || {
                        let index = RecipientIndex::new(all);
                        let bytes = index.heap_bytes();
                        (index, bytes)
                    })
                    .await?;
                *slot.write().await = Some(index);
                // A slot dropped meanwhile (evicted, invalidated) is not counted.
                ops.directory.built(facility, &slot, bytes);
                Ok::<_, AppError>(())
            }
            .await;
            if let Err(e) = &done {
                tracing::warn!(error = %e, "search index rebuild failed; the next search retries");
            }
            ops.directory.rebuilt(facility, done.is_ok());
        });
    }
}
