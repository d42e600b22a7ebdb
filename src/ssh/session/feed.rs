//! The live channel as the session sees it: the next event, and a batch merged per screen.

use super::*;

/// What the live channel brought.
pub(super) enum Live {
    Event(LiveEvent),
    /// Events may have been lost: re-check.
    Missed,
}

/// The next live event, or never when the session has no subscription. A lagging receiver
/// skips what it missed (the next reload shows the current state anyway) and says so, as
/// does the hub after its listener reconnected: a revocation may have been among them.
pub(super) async fn recv_live(live: &mut Option<broadcast::Receiver<LiveEvent>>) -> Option<Live> {
    let Some(rx) = live.as_mut() else {
        return std::future::pending().await;
    };
    match rx.recv().await {
        Ok(ev) if ev.kind == live::RESYNC => Some(Live::Missed),
        Ok(ev) => Some(Live::Event(ev)),
        Err(broadcast::error::RecvError::Lagged(_)) => Some(Live::Missed),
        Err(broadcast::error::RecvError::Closed) => {
            *live = None;
            None
        }
    }
}

/// A batch of live events as one per (kind, author), in arrival order, their ids together.
pub(super) fn merge_live(batch: Vec<LiveEvent>) -> Vec<(String, String, Vec<i64>)> {
    let mut out: Vec<(String, String, Vec<i64>)> = Vec::new();
    for ev in batch {
        match out
            .iter_mut()
            .find(|(k, b, _)| *k == ev.kind && *b == ev.by)
        {
            Some((_, _, ids)) => ids.extend(ev.ids),
            None => out.push((ev.kind, ev.by, ev.ids)),
        }
    }
    out
}
