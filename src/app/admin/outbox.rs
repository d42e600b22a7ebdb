//! The Outbox tab: notification counts, each integration's backlog and last error, recent
//! failed and dead deliveries, and retrying one.

use super::{AdminEffect, AdminMsg, fx, move_cursor};
use crate::app::effect::Effect;
use crate::app::event_state::{Consumed, EventState, NotConsumed};
use crate::app::keymap::Action;
use crate::app::model::{Model, Tone};
use crate::db::outbox_admin::OutboxView;

#[derive(Debug, Clone, Default)]
pub struct OutboxTab {
    pub view: Option<OutboxView>,
    /// Into `view.failed`.
    pub cursor: usize,
    /// A retry is on its way.
    pub busy: bool,
}

pub fn on_key(m: &mut Model, action: Option<Action>) -> EventState {
    let o = &mut m.admin.outbox;
    let n = o.view.as_ref().map_or(0, |v| v.failed.len());
    match action {
        Some(Action::Up | Action::Down) => {
            move_cursor(&mut o.cursor, n, action);
            EventState::DONE
        }
        Some(Action::Retry) => {
            if o.busy {
                return EventState::DONE;
            }
            let Some(row) = o.view.as_ref().and_then(|v| v.failed.get(o.cursor)) else {
                m.note("no failed delivery selected", Tone::Info);
                return EventState::DONE;
            };
            let id = row.id;
            o.busy = true;
            Consumed(vec![fx(AdminEffect::Retry(id))])
        }
        _ => NotConsumed,
    }
}

pub fn on_msg(m: &mut Model, msg: AdminMsg) -> Vec<Effect> {
    let o = &mut m.admin.outbox;
    match msg {
        AdminMsg::Outbox(Ok(v)) => {
            o.cursor = o.cursor.min(v.failed.len().saturating_sub(1));
            o.view = Some(*v);
            vec![]
        }
        AdminMsg::Outbox(Err(e)) => {
            m.note(e, Tone::Error);
            vec![]
        }
        AdminMsg::Retried(res) => {
            o.busy = false;
            match res {
                Ok(id) => {
                    m.note(
                        format!("notification #{id} queued again: the next attempt is now"),
                        Tone::Success,
                    );
                    vec![fx(AdminEffect::LoadOutbox)]
                }
                Err(e) => {
                    m.note(format!("not retried: {e}"), Tone::Error);
                    vec![]
                }
            }
        }
        _ => vec![],
    }
}
