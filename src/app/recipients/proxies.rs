//! A resident's authorised proxies on the recipients screen: Ctrl-P on the selected resident
//! lists who may collect their parcels; type a name and Enter adds it, Ctrl-X removes the
//! highlighted one. Operators and admins, not at a kiosk (`Ops` checks again); the names are
//! offered at pickup ([`crate::app::pickup`]).

use super::admin::{AdminEffect, AdminMsg, Mode};
use crate::app::effect::Effect;
use crate::app::failure::Failure;
use crate::app::keymap::Action;
use crate::app::model::{Model, Tone};
use crate::app::text::TextField;
use crate::db::recipients::Recipient;
use crate::domain::limits::{PROXIES_MAX, PROXY_NAME_MAX};
use crate::term::input::{KeyCode, KeyEvent, Mods};

/// The open list of one resident's authorised proxies.
#[derive(Debug, Clone)]
pub struct ProxiesState {
    pub recipient: Recipient,
    /// `None` until the list arrives.
    pub names: Option<Vec<String>>,
    pub cursor: usize,
    /// A new proxy's name.
    pub input: TextField,
    /// An add or remove is on its way.
    pub busy: bool,
}

/// Whether the signed-in user may change authorised proxies here.
pub fn allowed(m: &Model) -> bool {
    m.me.role.can_handle_packages() && m.kiosk.is_none()
}

/// Ctrl-P on the recipients screen: the selected resident's list.
pub(super) fn open(m: &mut Model) -> Vec<Effect> {
    if !allowed(m) {
        m.note(
            "authorised proxies are managed by operators and admins, not on a kiosk",
            Tone::Error,
        );
        return vec![];
    }
    let Some(r) = m.search.selected().map(|f| f.recipient.clone()) else {
        m.note("search and select a recipient first", Tone::Warning);
        return vec![];
    };
    m.status = None;
    let id = r.id;
    m.recipients_admin.mode = Mode::Proxies(ProxiesState {
        recipient: r,
        names: None,
        cursor: 0,
        input: TextField::new(PROXY_NAME_MAX),
        busy: false,
    });
    vec![AdminEffect::LoadProxies(id).into()]
}

pub(super) fn on_key(m: &mut Model, key: KeyEvent, action: Option<Action>) -> Vec<Effect> {
    let Mode::Proxies(s) = &mut m.recipients_admin.mode else {
        return vec![];
    };
    if key.code == KeyCode::Esc || action == Some(Action::Back) {
        m.recipients_admin.mode = Mode::Browse;
        m.status = None;
        return vec![];
    }
    if s.busy {
        return vec![];
    }
    // Typing may start before the list arrives; changes wait for it.
    let loaded = s.names.is_some();
    let n = s.names.as_ref().map_or(0, Vec::len);
    let id = s.recipient.id;
    match key.code {
        KeyCode::Up => s.cursor = s.cursor.saturating_sub(1),
        KeyCode::Down => s.cursor = (s.cursor + 1).min(n.saturating_sub(1)),
        KeyCode::Char('x') if key.mods.contains(Mods::CTRL) && loaded => {
            let Some(name) = s.names.as_ref().and_then(|l| l.get(s.cursor)).cloned() else {
                return vec![];
            };
            s.busy = true;
            return vec![AdminEffect::RemoveProxy { id, name }.into()];
        }
        KeyCode::Enter if loaded => {
            let name = s.input.text().trim().to_string();
            if name.is_empty() {
                m.note("type the proxy's name, then Enter", Tone::Warning);
                return vec![];
            }
            if n >= PROXIES_MAX {
                m.note(
                    format!("at most {PROXIES_MAX} authorised proxies: remove one first (Ctrl-X)"),
                    Tone::Warning,
                );
                return vec![];
            }
            s.busy = true;
            return vec![AdminEffect::AddProxy { id, name }.into()];
        }
        KeyCode::Enter => m.note("loading the list: Enter again in a moment", Tone::Info),
        KeyCode::Char('x') if key.mods.contains(Mods::CTRL) => {}
        _ => {
            s.input.edit(key);
        }
    }
    vec![]
}

/// A paste goes into the name (its first line).
pub(super) fn on_paste(s: &mut ProxiesState, text: &str) {
    if !s.busy {
        s.input.insert_str(text.lines().next().unwrap_or(""));
    }
}

/// The list loaded (`saved`: after an add or remove) for `recipient`; answers for another
/// resident's list (closed meanwhile) are ignored.
pub(super) fn on_msg(
    m: &mut Model,
    recipient: i64,
    names: Result<Vec<String>, Failure>,
    saved: bool,
) {
    let Mode::Proxies(s) = &mut m.recipients_admin.mode else {
        return;
    };
    if s.recipient.id != recipient {
        return;
    }
    s.busy = false;
    match names {
        Ok(names) => {
            s.cursor = s.cursor.min(names.len().saturating_sub(1));
            s.names = Some(names);
            if saved {
                s.input.clear();
                m.note("authorised proxies saved", Tone::Success);
            }
        }
        Err(e) if s.names.is_none() => {
            m.recipients_admin.mode = Mode::Browse;
            m.note(format!("authorised proxies: {e}"), Tone::Error);
        }
        Err(e) => m.note(format!("not saved: {e}"), Tone::Error),
    }
}

/// The message for an effect's answer.
pub fn answer(recipient: i64, names: Result<Vec<String>, Failure>, saved: bool) -> AdminMsg {
    AdminMsg::Proxies {
        recipient,
        names,
        saved,
    }
}

#[cfg(test)]
mod tests;
