//! The Keys tab: members' SSH keys (add by pasting a public key line, revoke with
//! confirmation). The TOTP tab is in [`super::totp`].

use super::{AdminEffect, AdminMsg, fx, move_cursor};
use crate::app::effect::Effect;
use crate::app::event_state::{Consumed, EventState, NotConsumed};
use crate::app::keymap::Action;
use crate::app::model::{Model, Tone};
use crate::app::text::TextField;
use crate::auth::pubkey;
use crate::db::keys_admin::KeyRow;
use crate::term::input::KeyEvent;

/// Longest key line accepted (RSA 16384-bit keys are about 2.8 kB).
pub const KEY_LINE_MAX: usize = 8192;

#[derive(Debug, Clone, PartialEq)]
pub enum KeysMode {
    Browse,
    /// Choosing whose key is being added (cursor into the member list).
    PickMember {
        cursor: usize,
    },
    /// Waiting for the key line (paste, or type) for this member.
    Paste {
        user_id: i64,
        login: String,
        line: TextField,
    },
    /// Revoke this key? (Enter: yes, Esc: no)
    ConfirmRevoke {
        key_id: i64,
        login: String,
        fingerprint: String,
    },
    /// Sent; waiting for the answer (for this member's key).
    Busy(String),
}

#[derive(Debug, Clone)]
pub struct KeysTab {
    pub rows: Vec<KeyRow>,
    pub cursor: usize,
    pub mode: KeysMode,
}

impl KeysTab {
    /// Back to browsing once an add or revoke answered: whose key it was.
    fn finish(&mut self) -> String {
        match std::mem::replace(&mut self.mode, KeysMode::Browse) {
            KeysMode::Busy(login) => login,
            _ => String::new(),
        }
    }
}

impl Default for KeysTab {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            cursor: 0,
            mode: KeysMode::Browse,
        }
    }
}

impl KeysTab {
    pub fn typing(&self) -> bool {
        matches!(self.mode, KeysMode::Paste { .. })
    }

    /// What the pasted line would register, or why not (same parser as the CLI).
    pub fn preview(&self) -> Option<Result<pubkey::KeyInfo, String>> {
        match &self.mode {
            KeysMode::Paste { line, .. } if !line.is_empty() => {
                Some(pubkey::parse_line(&line.text()))
            }
            _ => None,
        }
    }
}

pub fn keys_key(m: &mut Model, key: KeyEvent, action: Option<Action>) -> EventState {
    let members = m.admin.members.len();
    let k = &mut m.admin.keys;
    match &mut k.mode {
        KeysMode::Busy(_) => EventState::DONE,
        KeysMode::Browse => match action {
            Some(Action::Up | Action::Down) => {
                move_cursor(&mut k.cursor, k.rows.len(), action);
                EventState::DONE
            }
            Some(Action::AdminAdd) => {
                if members == 0 {
                    m.note("no members loaded yet (Ctrl-R reloads)", Tone::Warning);
                } else {
                    k.mode = KeysMode::PickMember { cursor: 0 };
                    m.note(
                        "add a key for which member? ↑↓ choose, Enter: next, Esc: cancel",
                        Tone::Info,
                    );
                }
                EventState::DONE
            }
            Some(Action::AdminRemove) => {
                match k.rows.get(k.cursor) {
                    Some(row) if row.disabled_at.is_none() => {
                        k.mode = KeysMode::ConfirmRevoke {
                            key_id: row.id,
                            login: row.login.clone(),
                            fingerprint: row.fingerprint.clone(),
                        };
                        m.note(
                            "revoke this key? Enter: revoke · Esc: keep it",
                            Tone::Warning,
                        );
                    }
                    Some(_) => m.note("that key is already revoked", Tone::Info),
                    None => {}
                }
                EventState::DONE
            }
            _ => NotConsumed,
        },
        KeysMode::PickMember { cursor } => {
            match action {
                Some(Action::Back) => {
                    k.mode = KeysMode::Browse;
                    m.status = None;
                }
                Some(Action::Up | Action::Down) => {
                    move_cursor(cursor, members, action);
                }
                Some(Action::Confirm) => {
                    if let Some(mem) = m.admin.members.get(*cursor) {
                        let (user_id, login) = (mem.user_id, mem.login.clone());
                        m.note(
                            format!(
                                "paste {login}'s OpenSSH public key line (ssh-ed25519 AAAA… comment), then Enter"
                            ),
                            Tone::Info,
                        );
                        m.admin.keys.mode = KeysMode::Paste {
                            user_id,
                            login,
                            line: TextField::new(KEY_LINE_MAX),
                        };
                    }
                }
                _ => {}
            }
            EventState::DONE
        }
        KeysMode::Paste {
            user_id,
            login,
            line,
        } => match action {
            Some(Action::Back) => {
                k.mode = KeysMode::Browse;
                m.note("no key added", Tone::Info);
                EventState::DONE
            }
            Some(Action::Confirm) => {
                let (text, user_id, login) = (line.text(), *user_id, login.clone());
                confirm_paste(m, text, user_id, &login)
            }
            _ => {
                line.edit(key);
                EventState::DONE
            }
        },
        KeysMode::ConfirmRevoke { key_id, login, .. } => {
            match action {
                Some(Action::Confirm) => {
                    let id = *key_id;
                    k.mode = KeysMode::Busy(login.clone());
                    return Consumed(vec![fx(AdminEffect::RevokeKey(id))]);
                }
                Some(Action::Back) => {
                    k.mode = KeysMode::Browse;
                    m.note("key kept", Tone::Info);
                }
                _ => {}
            }
            EventState::DONE
        }
    }
}

/// Enter on the pasted line: checked here first (clear errors before a round trip),
/// then sent; the server checks again.
fn confirm_paste(m: &mut Model, text: String, user_id: i64, login: &str) -> EventState {
    let info = match pubkey::parse_line(&text) {
        Ok(info) => info,
        Err(e) => {
            m.note(format!("not added: {e}"), Tone::Error);
            return EventState::DONE;
        }
    };
    if let Some(dup) = m
        .admin
        .keys
        .rows
        .iter()
        .find(|r| r.user_id == user_id && r.fingerprint == info.fingerprint)
    {
        let what = if dup.disabled_at.is_some() {
            "was revoked for"
        } else {
            "is already registered for"
        };
        // The fingerprint is on screen in the preview; the status line stays one line.
        m.note(format!("not added: this key {what} {login}"), Tone::Error);
        return EventState::DONE;
    }
    m.admin.keys.mode = KeysMode::Busy(login.to_string());
    Consumed(vec![fx(AdminEffect::AddKey {
        user_id,
        line: text,
    })])
}

/// A pasted key line replaces what was in the field (a paste is the whole key).
pub fn on_paste(m: &mut Model, text: &str) -> Vec<Effect> {
    if let KeysMode::Paste { line, .. } = &mut m.admin.keys.mode {
        let joined = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>();
        if joined.len() > 1 {
            m.note(
                "paste exactly one OpenSSH public key line (this was several lines)",
                Tone::Error,
            );
            return vec![];
        }
        line.set(joined.first().copied().unwrap_or(""));
        match m.admin.keys.preview() {
            Some(Ok(info)) => m.note(
                format!(
                    "{} {} {} · Enter: add",
                    info.algorithm, info.fingerprint, info.comment
                ),
                Tone::Info,
            ),
            Some(Err(e)) => m.note(format!("not a key: {e}"), Tone::Error),
            None => {}
        }
    }
    vec![]
}

pub fn on_msg(m: &mut Model, msg: AdminMsg) -> Vec<Effect> {
    match msg {
        AdminMsg::Keys(Ok(rows)) => {
            let k = &mut m.admin.keys;
            k.cursor = k.cursor.min(rows.len().saturating_sub(1));
            k.rows = rows;
            vec![]
        }
        AdminMsg::Keys(Err(e)) => {
            m.note(e, Tone::Error);
            vec![]
        }
        AdminMsg::KeyAdded(res) => {
            let login = m.admin.keys.finish();
            match res {
                Ok(fp) => {
                    // The fingerprint last: a narrow status line cuts only its end.
                    m.note(format!("key added for {login}: {fp}"), Tone::Success);
                    vec![fx(AdminEffect::LoadKeys), Effect::LoadMembers]
                }
                Err(e) => {
                    m.note(format!("not added for {login}: {e}"), Tone::Error);
                    vec![]
                }
            }
        }
        AdminMsg::KeyRevoked(res) => {
            let login = m.admin.keys.finish();
            match res {
                Ok(fp) => {
                    m.note(
                        format!("key of {login} revoked, it no longer logs in: {fp}"),
                        Tone::Success,
                    );
                    vec![fx(AdminEffect::LoadKeys), Effect::LoadMembers]
                }
                Err(e) => {
                    m.note(format!("not revoked: {e}"), Tone::Error);
                    vec![]
                }
            }
        }
        _ => vec![],
    }
}
