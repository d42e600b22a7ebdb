//! Live updates across sessions and server processes: one PostgreSQL LISTEN connection per
//! server, fanned out to the sessions of each facility. Facilities never see each other's
//! notifications: a session subscribes only to its principal's facility channel.
//!
//! The same connection listens on [`CACHE_CHANNEL`], where the database announces which
//! facility's cached data changed (migration 0016), whoever changed it; the server's caches
//! follow [`LiveHub::cache_events`]. A lost connection may have lost notifications, so after
//! a reconnect (and once the first connection stands) every cache hears [`CacheEvent::All`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Deserialize;
use sqlx::postgres::PgListener;
use tokio::sync::{broadcast, mpsc};

use crate::db::{Db, packages};
use crate::domain::FacilityId;

/// The kind of the event the hub sends every session after its listener reconnected:
/// notifications sent meanwhile are lost, so sessions re-check their access.
pub const RESYNC: &str = "resync";

/// A channel name to UNLISTEN from after an error: it needs a connection, so the listener
/// reconnects (and re-LISTENs its channels) before the hub tells sessions to re-check.
const PROBE: &str = "packtrack_listener_probe";

/// The channel the recipients trigger notifies on, payload `recipients:<facility id>`, with
/// `:<id>,<id>,…` when few rows changed, or `recipients:*` after a TRUNCATE.
pub const CACHE_CHANNEL: &str = "packtrack_cache";

/// What a cache must drop or reload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheEvent {
    /// A facility's recipients changed: these rows, or (`None`) too many to list.
    Recipients {
        facility: FacilityId,
        ids: Option<Vec<i64>>,
    },
    /// Anything may have changed (notifications were lost, or none were heard yet).
    All,
}

impl CacheEvent {
    /// The event a [`CACHE_CHANNEL`] payload announces; `None` for one we do not know (a
    /// newer node's), which no cache of ours holds.
    pub fn parse(payload: &str) -> Option<Self> {
        let rest = payload.strip_prefix("recipients:")?;
        if rest == "*" {
            return Some(Self::All);
        }
        let (facility, ids) = match rest.split_once(':') {
            Some((f, ids)) => (
                f,
                Some(
                    ids.split(',')
                        .map(str::parse)
                        .collect::<Result<Vec<i64>, _>>()
                        .ok()?,
                ),
            ),
            None => (rest, None),
        };
        Some(Self::Recipients {
            facility: FacilityId(facility.parse().ok()?),
            ids,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LiveEvent {
    pub kind: String,
    pub ids: Vec<i64>,
    pub by: String,
}

#[derive(Clone)]
pub struct LiveHub {
    senders: Arc<Mutex<HashMap<String, broadcast::Sender<LiveEvent>>>>,
    listen: mpsc::UnboundedSender<String>,
    cache: broadcast::Sender<CacheEvent>,
}

impl LiveHub {
    /// Starts the listener task on the runtime pool's server.
    pub fn start(db: &Db) -> Self {
        let senders: Arc<Mutex<HashMap<String, broadcast::Sender<LiveEvent>>>> = Arc::default();
        let (listen, mut requests) = mpsc::unbounded_channel::<String>();
        // A session of its own: the runtime pool's, or a direct one behind a pooler.
        let pool = db.listen_pool().clone();
        let fan = senders.clone();
        // Events are tiny and handled at once; a follower that still falls behind sees
        // `Lagged` and drops everything, as after a lost connection.
        let (cache, _) = broadcast::channel(1024);
        let caches = cache.clone();
        tokio::spawn(async move {
            let mut listener = loop {
                match PgListener::connect_with(&pool).await {
                    Ok(mut l) => match l.listen(CACHE_CHANNEL).await {
                        Ok(()) => break l,
                        Err(e) => tracing::warn!(error = %e, "live updates: cannot listen yet"),
                    },
                    Err(e) => tracing::warn!(error = %e, "live updates: cannot listen yet"),
                }
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            };
            // Whatever was cached before we listened may have changed unheard.
            let _ = caches.send(CacheEvent::All);
            loop {
                tokio::select! {
                    req = requests.recv() => match req {
                        Some(channel) => {
                            if let Err(e) = listener.listen(&channel).await {
                                tracing::warn!(error = %e, "live updates: LISTEN failed");
                            }
                        }
                        None => return,
                    },
                    n = listener.try_recv() => match n {
                        Ok(Some(n)) if n.channel() == CACHE_CHANNEL => {
                            match CacheEvent::parse(n.payload()) {
                                Some(ev) => {
                                    let _ = caches.send(ev);
                                }
                                None => tracing::warn!(payload = n.payload(), "cache: unknown notification"),
                            }
                        }
                        Ok(Some(n)) => {
                            let Ok(ev) = serde_json::from_str::<LiveEvent>(n.payload()) else {
                                continue;
                            };
                            let tx = fan.lock().unwrap_or_else(|e| e.into_inner())
                                .get(n.channel()).cloned();
                            if let Some(tx) = tx {
                                let _ = tx.send(ev);
                            }
                        }
                        // The connection was lost and sqlx has reconnected and re-listened.
                        Ok(None) => {
                            tracing::warn!("live updates: connection lost and re-established");
                            resync(&fan, &caches);
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "live updates: connection lost");
                            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                            // Listening again before the sessions re-check: a change after
                            // their re-check is then notified as usual.
                            match listener.unlisten(PROBE).await {
                                Ok(()) => resync(&fan, &caches),
                                Err(e) => tracing::warn!(error = %e, "live updates: cannot listen yet"),
                            }
                        }
                    },
                }
            }
        });
        Self {
            senders,
            listen,
            cache,
        }
    }

    /// Tells every session to re-check its access and every cache to drop what it holds, as
    /// after a lost listener connection (for tests and operators: the same path).
    pub fn resync(&self) {
        resync(&self.senders, &self.cache);
    }

    /// What the server's caches must drop, as the database announces it.
    pub fn cache_events(&self) -> broadcast::Receiver<CacheEvent> {
        self.cache.subscribe()
    }

    /// Events for one facility (the session's, from its principal).
    pub fn subscribe(&self, facility: FacilityId) -> broadcast::Receiver<LiveEvent> {
        let channel = packages::channel(facility);
        let mut map = self.senders.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = map.get(&channel) {
            return tx.subscribe();
        }
        let (tx, rx) = broadcast::channel(256);
        map.insert(channel.clone(), tx);
        let _ = self.listen.send(channel);
        rx
    }
}

/// Every session of every facility re-checks its access and every cache is dropped
/// (notifications may have been lost).
fn resync(
    senders: &Mutex<HashMap<String, broadcast::Sender<LiveEvent>>>,
    caches: &broadcast::Sender<CacheEvent>,
) {
    let _ = caches.send(CacheEvent::All);
    let all: Vec<_> = senders
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .values()
        .cloned()
        .collect();
    for tx in all {
        let _ = tx.send(LiveEvent {
            kind: RESYNC.into(),
            ids: Vec::new(),
            by: String::new(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_payloads_parse() {
        assert_eq!(CacheEvent::parse("recipients:*"), Some(CacheEvent::All));
        assert_eq!(
            CacheEvent::parse("recipients:12"),
            Some(CacheEvent::Recipients {
                facility: FacilityId(12),
                ids: None
            })
        );
        assert_eq!(
            CacheEvent::parse("recipients:12:3,40"),
            Some(CacheEvent::Recipients {
                facility: FacilityId(12),
                ids: Some(vec![3, 40])
            })
        );
        for bad in [
            "settings:1",
            "recipients:",
            "recipients:x",
            "recipients:1:2,x",
        ] {
            assert_eq!(CacheEvent::parse(bad), None, "{bad}");
        }
    }
}
