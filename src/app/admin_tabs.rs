//! The admin console's Keys, TOTP, Settings and Outbox tabs: their effects, messages and
//! the dispatch `update` calls into. Each tab's state and keys live in its own module.

use super::admin_keys;
use super::admin_outbox;
use super::admin_settings;
use super::effect::Effect;
use super::event_state::{Consumed, EventState, NotConsumed};
use super::keymap::Action;
use super::model::{AdminState, AdminTab, Model};
use crate::db::keys_admin::KeyRow;
use crate::db::outbox_admin::OutboxView;
use crate::db::settings::FacilitySettings;
use crate::ops_admin::TotpEnrollment;
use crate::term::input::KeyEvent;

/// What these tabs ask of the server (run by `crate::ops_admin::run_effect`).
#[derive(Debug, Clone, PartialEq)]
pub enum AdminEffect {
    LoadKeys,
    AddKey {
        user_id: i64,
        line: String,
    },
    RevokeKey(i64),
    TotpBegin(i64),
    TotpConfirm {
        user_id: i64,
        sealed: Vec<u8>,
        code: String,
    },
    TotpReset {
        user_id: i64,
        reason: String,
    },
    SetPin {
        user_id: i64,
        pin: super::admin_keys::PinText,
    },
    LoadSettings,
    SaveSettings {
        before: Box<FacilitySettings>,
        after: Box<FacilitySettings>,
    },
    LoadOutbox,
    Retry(i64),
}

/// Their answers.
#[derive(Debug, Clone)]
pub enum AdminMsg {
    Keys(Result<Vec<KeyRow>, String>),
    /// The fingerprint of the key added.
    KeyAdded(Result<String, String>),
    /// The fingerprint of the key revoked.
    KeyRevoked(Result<String, String>),
    TotpStarted(Result<Box<TotpEnrollment>, String>),
    TotpConfirmed(Result<(), String>),
    TotpReset(Result<(), String>),
    PinSet(Result<(), String>),
    Settings(Result<Box<FacilitySettings>, String>),
    /// The keys that changed.
    SettingsSaved(Result<Vec<&'static str>, String>),
    Outbox(Result<Box<OutboxView>, String>),
    /// The notification put back in the queue.
    Retried(Result<i64, String>),
}

pub(crate) fn fx(e: AdminEffect) -> Effect {
    Effect::Admin(e)
}

/// The effects that load a tab, for the tabs of this module. Loading happens only from a
/// tab's list (dialogs take every key) or on coming back to the console: a dialog left
/// open then (a paste, a revoke question, an enrollment's QR code) is dropped.
pub fn load(m: &mut Model) -> EventState {
    reset_dialogs(&mut m.admin);
    Consumed(match m.admin.tab {
        // The member list feeds the "add a key for" picker and the TOTP tab.
        AdminTab::Keys => vec![fx(AdminEffect::LoadKeys), Effect::LoadMembers],
        AdminTab::Totp => vec![Effect::LoadMembers],
        AdminTab::Settings => vec![fx(AdminEffect::LoadSettings)],
        AdminTab::Outbox => vec![fx(AdminEffect::LoadOutbox)],
        AdminTab::Members | AdminTab::Audit | AdminTab::Security => return NotConsumed,
    })
}

fn reset_dialogs(a: &mut AdminState) {
    use super::admin_keys::{KeysMode, TotpMode};
    if !matches!(a.keys.mode, KeysMode::Busy(_)) {
        a.keys.mode = KeysMode::Browse;
    }
    if !matches!(a.totp.mode, TotpMode::Starting)
        && !matches!(a.totp.mode, TotpMode::Enroll { busy: true, .. })
        && !matches!(a.totp.mode, TotpMode::Reset { busy: true, .. })
    {
        a.totp.mode = TotpMode::Browse;
    }
    a.settings.editing = None;
}

/// Whether one of these tabs has a text field in focus.
pub fn typing(a: &AdminState) -> bool {
    match a.tab {
        AdminTab::Keys => a.keys.typing(),
        AdminTab::Totp => a.totp.typing(),
        AdminTab::Settings => a.settings.editing.is_some(),
        _ => false,
    }
}

/// Keys on these tabs. `NotConsumed`: not handled here (tab switching, leaving, refreshing go
/// through the console's common keys).
pub fn on_key(m: &mut Model, key: KeyEvent, action: Option<Action>) -> EventState {
    match m.admin.tab {
        AdminTab::Keys => admin_keys::keys_key(m, key, action),
        AdminTab::Totp => admin_keys::totp_key(m, key, action),
        AdminTab::Settings => admin_settings::on_key(m, key, action),
        AdminTab::Outbox => admin_outbox::on_key(m, action),
        _ => NotConsumed,
    }
}

pub fn on_paste(m: &mut Model, text: &str) -> Vec<Effect> {
    match m.admin.tab {
        AdminTab::Keys => admin_keys::on_paste(m, text),
        AdminTab::Totp => admin_keys::totp_paste(m, text),
        AdminTab::Settings => admin_settings::on_paste(m, text),
        _ => vec![],
    }
}

pub fn on_msg(m: &mut Model, msg: AdminMsg) -> Vec<Effect> {
    match msg {
        AdminMsg::Keys(_)
        | AdminMsg::KeyAdded(_)
        | AdminMsg::KeyRevoked(_)
        | AdminMsg::TotpStarted(_)
        | AdminMsg::TotpConfirmed(_)
        | AdminMsg::TotpReset(_)
        | AdminMsg::PinSet(_) => admin_keys::on_msg(m, msg),
        AdminMsg::Settings(_) | AdminMsg::SettingsSaved(_) => admin_settings::on_msg(m, msg),
        AdminMsg::Outbox(_) | AdminMsg::Retried(_) => admin_outbox::on_msg(m, msg),
    }
}

/// Moves a list cursor by an Up/Down action within `n` rows; whether it was one.
pub(crate) fn move_cursor(cursor: &mut usize, n: usize, action: Option<Action>) -> bool {
    match action {
        Some(Action::Up) => {
            *cursor = cursor.saturating_sub(1);
            true
        }
        Some(Action::Down) => {
            *cursor = (*cursor + 1).min(n.saturating_sub(1));
            true
        }
        _ => false,
    }
}
