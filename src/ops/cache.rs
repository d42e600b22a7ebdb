//! Keeps the per-facility search indexes coherent with the database. The listener
//! ([`crate::live`]) hears which of a facility's recipients changed, whoever changed them:
//! a few rows are noted and reloaded by the facility's next search (one query for just those
//! rows), anything larger drops the index, which the next search rebuilds. Searches with
//! nothing pending never touch the database.

use std::sync::Arc;

use tokio::sync::RwLock;
use tokio::sync::broadcast::error::RecvError;

use super::Ops;
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
                    }) => {
                        directory.invalidate(facility);
                    }
                    // Missed events (a lagging follower) are treated like lost notifications.
                    Ok(CacheEvent::All) | Err(RecvError::Lagged(_)) => directory.invalidate_all(),
                    Err(RecvError::Closed) => return,
                }
            }
        });
    }

    /// Reloads the rows noted as changed into the facility's index, under its write lock
    /// (searches wait for it rather than answer from the old rows). Rows that are gone are
    /// removed. On an error the index is dropped: the noted rows are taken, and a later
    /// search must not answer from an index that silently missed them.
    pub(super) async fn reload_changed(
        &self,
        p: &Principal,
        slot: &Arc<RwLock<Option<RecipientIndex>>>,
    ) -> Result<(), AppError> {
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
            for id in ids {
                if !rows.iter().any(|r| r.id == id) {
                    index.remove(id);
                }
            }
            for r in rows {
                index.upsert(r);
            }
        }
        Ok(())
    }
}
