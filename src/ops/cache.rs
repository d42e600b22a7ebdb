//! Keeps the per-facility search indexes coherent with the database: the listener
//! ([`crate::live`]) hears which facility's recipients changed, by any process, and the
//! facility's index is dropped; the next search rebuilds it from the database. Steady-state
//! searches never touch the database.

use tokio::sync::broadcast::error::RecvError;

use super::Ops;
use crate::live::{CacheEvent, LiveHub};

impl Ops {
    /// Follows the database's change announcements for as long as the hub lives.
    pub fn follow(&self, live: &LiveHub) {
        let mut events = live.cache_events();
        let directory = self.directory.clone();
        tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(CacheEvent::Recipients(facility)) => directory.invalidate(facility),
                    // Missed events (a lagging follower) are treated like lost notifications.
                    Ok(CacheEvent::All) | Err(RecvError::Lagged(_)) => directory.invalidate_all(),
                    Err(RecvError::Closed) => return,
                }
            }
        });
    }
}
