//! The admin console (admins, never on a kiosk): its tabs, the keys they share (switching
//! tabs, refreshing, leaving, the audit filter) and the dispatch to each tab's module.
//! Members, Audit and Security live in [`members`] (the new member form in
//! [`new_member`]); Keys, TOTP, Settings, Channels and Outbox in their own modules. Those
//! speak their own effects and messages ([`AdminEffect`], [`AdminMsg`]), run by
//! `crate::effects`.

pub mod channels;
pub mod form;
pub mod keys;
pub mod members;
pub mod new_member;
pub mod outbox;
pub mod settings;
pub mod totp;

#[cfg(test)]
mod tests;

use crate::app::effect::Effect;
use crate::app::event_state::{Consumed, EventState, NotConsumed};
use crate::app::failure::Failure;
use crate::app::keymap::Action;
use crate::app::model::{Model, Screen};
use crate::app::text::TextField;
use crate::db::keys_admin::KeyRow;
use crate::db::outbox_admin::OutboxView;
use crate::db::settings::FacilitySettings;
use crate::ops_admin::TotpEnrollment;
use crate::term::input::KeyEvent;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminTab {
    Members,
    Audit,
    Security,
    Keys,
    Totp,
    Settings,
    Channels,
    Outbox,
}

impl AdminTab {
    pub const ALL: [AdminTab; 8] = [
        AdminTab::Members,
        AdminTab::Audit,
        AdminTab::Security,
        AdminTab::Keys,
        AdminTab::Totp,
        AdminTab::Settings,
        AdminTab::Channels,
        AdminTab::Outbox,
    ];

    pub fn title(self) -> &'static str {
        match self {
            AdminTab::Members => "Members",
            AdminTab::Audit => "Audit",
            AdminTab::Security => "Security",
            AdminTab::Keys => "Keys",
            AdminTab::Totp => "TOTP",
            AdminTab::Settings => "Settings",
            AdminTab::Channels => "Channels",
            AdminTab::Outbox => "Outbox",
        }
    }

    /// For narrow terminals, where all full titles do not fit.
    pub fn short_title(self) -> &'static str {
        match self {
            AdminTab::Members => "Memb",
            AdminTab::Audit => "Audit",
            AdminTab::Security => "Sec",
            AdminTab::Keys => "Keys",
            AdminTab::Totp => "TOTP",
            AdminTab::Settings => "Set",
            AdminTab::Channels => "Chan",
            AdminTab::Outbox => "Out",
        }
    }
}

#[derive(Debug, Clone)]
pub struct AdminState {
    pub tab: AdminTab,
    pub members: Vec<crate::db::members::Member>,
    pub cursor: usize,
    pub audit: Vec<crate::db::members::AuditRow>,
    pub audit_filter: TextField,
    pub filtering: bool,
    pub scorecard: Option<crate::db::members::Scorecard>,
    pub keys: keys::KeysTab,
    pub totp: totp::TotpTab,
    pub settings: settings::SettingsTab,
    pub channels: channels::ChannelsTab,
    pub outbox: outbox::OutboxTab,
    /// The Members tab's "new member" form, when open.
    pub new_member: Option<new_member::MemberForm>,
}

impl Default for AdminState {
    fn default() -> Self {
        Self {
            tab: AdminTab::Members,
            members: Vec::new(),
            cursor: 0,
            audit: Vec::new(),
            audit_filter: TextField::new(40),
            filtering: false,
            scorecard: None,
            keys: Default::default(),
            totp: Default::default(),
            settings: Default::default(),
            channels: Default::default(),
            outbox: Default::default(),
            new_member: None,
        }
    }
}

/// What these tabs ask of the server (run by `crate::effects`).
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
        pin: totp::PinText,
    },
    LoadSettings,
    SaveSettings {
        before: Box<FacilitySettings>,
        after: Box<FacilitySettings>,
    },
    LoadOutbox,
    Retry(i64),
    LoadChannels,
    SaveChannel(Box<crate::ops::ChannelForm>),
    /// A test message through a saved integration, to `to` (unused for webhooks).
    TestChannel {
        id: i64,
        to: String,
    },
    AddMember(Box<crate::ops::NewMember>),
}

/// Their answers.
#[derive(Debug, Clone)]
pub enum AdminMsg {
    Keys(Result<Vec<KeyRow>, Failure>),
    /// The fingerprint of the key added.
    KeyAdded(Result<String, Failure>),
    /// The fingerprint of the key revoked.
    KeyRevoked(Result<String, Failure>),
    TotpStarted(Result<Box<TotpEnrollment>, Failure>),
    TotpConfirmed(Result<(), Failure>),
    TotpReset(Result<(), Failure>),
    PinSet(Result<(), Failure>),
    Settings(Result<Box<FacilitySettings>, Failure>),
    /// The keys that changed.
    SettingsSaved(Result<Vec<&'static str>, Failure>),
    Outbox(Result<Box<OutboxView>, Failure>),
    /// The notification put back in the queue.
    Retried(Result<i64, Failure>),
    Channels(Result<Vec<crate::db::integrations::ChannelRow>, Failure>),
    /// The integration's id.
    ChannelSaved(Result<i64, Failure>),
    /// What the test message did (`Err`: it could not be attempted).
    ChannelTested(Result<crate::ops::TestOutcome, Failure>),
    /// The new member's user id.
    MemberAdded(Result<i64, Failure>),
}

pub(crate) fn fx(e: AdminEffect) -> Effect {
    Effect::Admin(e)
}

/// The effects that load the current tab. Loading happens only from a tab's list (dialogs
/// take every key) or on coming back to the console: a dialog left open then (a paste, a
/// revoke question, an enrollment's QR code) is dropped.
pub fn load(m: &mut Model) -> Vec<Effect> {
    reset_dialogs(&mut m.admin);
    match m.admin.tab {
        // The member list feeds the "add a key for" picker and the TOTP tab.
        AdminTab::Keys => vec![fx(AdminEffect::LoadKeys), Effect::LoadMembers],
        AdminTab::Totp => vec![Effect::LoadMembers],
        AdminTab::Settings => vec![fx(AdminEffect::LoadSettings)],
        AdminTab::Outbox => vec![fx(AdminEffect::LoadOutbox)],
        AdminTab::Channels => vec![fx(AdminEffect::LoadChannels)],
        AdminTab::Audit => vec![Effect::LoadAudit(m.admin.audit_filter.text())],
        AdminTab::Security => vec![Effect::LoadScorecard],
        AdminTab::Members => vec![Effect::LoadMembers],
    }
}

fn reset_dialogs(a: &mut AdminState) {
    use keys::KeysMode;
    use totp::TotpMode;
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
    // A form whose answer is on its way stays, so the answer lands; others go, with
    // whatever secret was typed into them.
    if a.channels.editor.as_ref().is_none_or(|e| e.busy.is_none()) {
        a.channels.editor = None;
    }
    if a.new_member.as_ref().is_none_or(|f| !f.busy) {
        a.new_member = None;
    }
}

/// Whether one of these tabs has a text field in focus.
pub fn typing(a: &AdminState) -> bool {
    match a.tab {
        AdminTab::Keys => a.keys.typing(),
        AdminTab::Totp => a.totp.typing(),
        AdminTab::Settings => a.settings.editing.is_some(),
        AdminTab::Channels => a.channels.typing(),
        AdminTab::Members => a.new_member.is_some(),
        _ => false,
    }
}

/// Keys of the current tab. `NotConsumed`: not handled there (tab switching, leaving,
/// refreshing go through the console's common keys).
fn tab_key(m: &mut Model, key: KeyEvent, action: Option<Action>) -> EventState {
    match m.admin.tab {
        AdminTab::Keys => keys::keys_key(m, key, action),
        AdminTab::Totp => totp::on_key(m, key, action),
        AdminTab::Settings => settings::on_key(m, key, action),
        AdminTab::Outbox => outbox::on_key(m, action),
        AdminTab::Channels => channels::on_key(m, key, action),
        AdminTab::Members if m.admin.new_member.is_some() => Consumed(new_member::on_key(m, key)),
        AdminTab::Members => members::on_key(m, action),
        AdminTab::Audit | AdminTab::Security => NotConsumed,
    }
}

/// Keys on the console: the tab's own first, then the audit filter, then the common ones.
pub fn on_key(m: &mut Model, key: KeyEvent, action: Option<Action>) -> Vec<Effect> {
    if let Consumed(fx) = tab_key(m, key, action) {
        return fx;
    }
    let a = &mut m.admin;
    if a.filtering {
        match action {
            Some(Action::Back) => {
                a.audit_filter.clear();
                a.filtering = false;
                return load(m);
            }
            Some(Action::Confirm) => {
                a.filtering = false;
                return load(m);
            }
            _ => {
                a.audit_filter.edit(key);
                return vec![];
            }
        }
    }
    match action {
        Some(Action::Back) => crate::app::update::goto(m, Screen::Dashboard),
        Some(Action::NextField) => {
            let i = AdminTab::ALL.iter().position(|t| *t == a.tab).unwrap_or(0);
            a.tab = AdminTab::ALL[(i + 1) % AdminTab::ALL.len()];
            a.cursor = 0;
            load(m)
        }
        Some(Action::Refresh) => load(m),
        Some(Action::Up) => {
            a.cursor = a.cursor.saturating_sub(1);
            vec![]
        }
        Some(Action::Down) => {
            let n = match a.tab {
                AdminTab::Members => a.members.len(),
                AdminTab::Audit => a.audit.len(),
                _ => 0,
            };
            a.cursor = (a.cursor + 1).min(n.saturating_sub(1));
            vec![]
        }
        Some(Action::Filter) if a.tab == AdminTab::Audit => {
            a.filtering = true;
            vec![]
        }
        _ => vec![],
    }
}

pub fn on_paste(m: &mut Model, text: &str) -> Vec<Effect> {
    match m.admin.tab {
        AdminTab::Keys => keys::on_paste(m, text),
        AdminTab::Totp => totp::on_paste(m, text),
        AdminTab::Settings => settings::on_paste(m, text),
        AdminTab::Channels => channels::on_paste(m, text),
        AdminTab::Members => new_member::on_paste(m, text),
        _ => vec![],
    }
}

/// Answers to the tabs' own effects.
pub fn on_msg(m: &mut Model, msg: AdminMsg) -> Vec<Effect> {
    match msg {
        AdminMsg::Keys(_) | AdminMsg::KeyAdded(_) | AdminMsg::KeyRevoked(_) => keys::on_msg(m, msg),
        AdminMsg::TotpStarted(_)
        | AdminMsg::TotpConfirmed(_)
        | AdminMsg::TotpReset(_)
        | AdminMsg::PinSet(_) => totp::on_msg(m, msg),
        AdminMsg::Settings(_) | AdminMsg::SettingsSaved(_) => settings::on_msg(m, msg),
        AdminMsg::Outbox(_) | AdminMsg::Retried(_) => outbox::on_msg(m, msg),
        AdminMsg::Channels(_) | AdminMsg::ChannelSaved(_) | AdminMsg::ChannelTested(_) => {
            channels::on_msg(m, msg)
        }
        AdminMsg::MemberAdded(_) => new_member::on_msg(m, msg),
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
