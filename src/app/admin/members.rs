//! The Members, Audit and Security tabs: roles and disabling (the new member form is
//! [`super::new_member`]), the audit trail (filtered by
//! the console), the security scorecard.

use crate::app::effect::Effect;
use crate::app::event_state::{Consumed, EventState, NotConsumed};
use crate::app::keymap::Action;
use crate::app::model::{Model, Tone};
use crate::app::msg::Msg;
use crate::domain::Role;

/// The Members tab's own keys: a new member, cycle a member's role, disable or enable them.
pub(super) fn on_key(m: &mut Model, action: Option<Action>) -> EventState {
    let a = &m.admin;
    match action {
        Some(Action::AdminAdd) => {
            super::new_member::open(m);
            EventState::DONE
        }
        Some(Action::CycleRole) => {
            let Some(member) = a.members.get(a.cursor) else {
                return EventState::DONE;
            };
            let next = match member.role.as_str() {
                "viewer" => Role::Operator,
                "operator" => Role::Admin,
                _ => Role::Viewer,
            };
            Consumed(vec![Effect::UpdateMember {
                user_id: member.user_id,
                role: Some(next),
                disabled: None,
            }])
        }
        Some(Action::ToggleDisabled) => {
            let Some(member) = a.members.get(a.cursor) else {
                return EventState::DONE;
            };
            Consumed(vec![Effect::UpdateMember {
                user_id: member.user_id,
                role: None,
                disabled: Some(!member.disabled),
            }])
        }
        _ => NotConsumed,
    }
}

/// The members, audit and scorecard answers.
pub fn on_msg(m: &mut Model, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Members(res) => {
            match res {
                Ok(list) => {
                    m.admin.cursor = m.admin.cursor.min(list.len().saturating_sub(1));
                    m.admin.members = list;
                }
                Err(e) => m.note(e, Tone::Error),
            }
            vec![]
        }
        Msg::MemberUpdated(res) => match res {
            Ok(()) => {
                m.note(
                    "saved; the member's open sessions follow at once",
                    Tone::Success,
                );
                vec![Effect::LoadMembers]
            }
            Err(e) => {
                m.note(format!("not changed: {e}"), Tone::Error);
                vec![]
            }
        },
        Msg::Audit(res) => {
            match res {
                Ok(rows) => m.admin.audit = rows,
                Err(e) => m.note(e, Tone::Error),
            }
            vec![]
        }
        Msg::Scorecard(res) => {
            match res {
                Ok(card) => m.admin.scorecard = Some(card),
                Err(e) => m.note(e, Tone::Error),
            }
            vec![]
        }
        _ => vec![],
    }
}
