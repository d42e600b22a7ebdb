//! The Settings tab: the facility's name, time zone, overdue and reminder days, channels,
//! retention and kiosk settings. Edits go to a draft; Ctrl-S saves what changed.

use super::{AdminEffect, AdminMsg, fx, move_cursor};
use crate::app::effect::Effect;
use crate::app::event_state::{Consumed, EventState, NotConsumed};
use crate::app::keymap::Action;
use crate::app::model::{Model, Tone};
use crate::app::text::TextField;
use crate::db::settings::{self, Channel, FacilitySettings};
use crate::term::input::KeyEvent;

/// The rows of the form, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Name,
    TimeZone,
    OverdueDays,
    Reminders,
    Email,
    Sms,
    Webhook,
    RetentionDays,
    RelockMinutes,
    PinTotp,
    DefaultLocation,
}

impl Field {
    pub const ALL: [Field; 11] = [
        Field::Name,
        Field::TimeZone,
        Field::OverdueDays,
        Field::Reminders,
        Field::Email,
        Field::Sms,
        Field::Webhook,
        Field::RetentionDays,
        Field::RelockMinutes,
        Field::PinTotp,
        Field::DefaultLocation,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Field::Name => "Name",
            Field::TimeZone => "Time zone",
            Field::OverdueDays => "Overdue after (days)",
            Field::DefaultLocation => "Usual location",
            Field::Reminders => "Reminders (days)",
            Field::Email => "E-mail notifications",
            Field::Sms => "SMS notifications",
            Field::Webhook => "Webhooks",
            Field::RetentionDays => "Retention (days)",
            Field::RelockMinutes => "Kiosk relock (minutes)",
            Field::PinTotp => "Kiosk unlock: PIN+TOTP",
        }
    }

    /// The settings key (as in the audit row).
    pub fn key(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::TimeZone => "time_zone",
            Field::OverdueDays => "overdue_days",
            Field::DefaultLocation => "default_location",
            Field::Reminders => "reminder_days",
            Field::Email => "email_enabled",
            Field::Sms => "sms_enabled",
            Field::Webhook => "webhook_enabled",
            Field::RetentionDays => "notification_retention_days",
            Field::RelockMinutes => "kiosk_relock_secs",
            Field::PinTotp => "kiosk_pin_totp",
        }
    }

    pub fn is_switch(self) -> bool {
        matches!(
            self,
            Field::Email | Field::Sms | Field::Webhook | Field::PinTotp
        )
    }

    /// The value as shown and edited.
    pub fn value(self, s: &FacilitySettings) -> String {
        let switch = |c: Channel| match c {
            None => "not configured".to_string(),
            Some(true) => "on".to_string(),
            Some(false) => "off".to_string(),
        };
        match self {
            Field::Name => s.name.clone(),
            Field::TimeZone => s.time_zone.clone(),
            Field::OverdueDays => s.overdue_days.to_string(),
            Field::DefaultLocation => s.default_location.clone(),
            Field::Reminders if s.reminders.is_empty() => "none".into(),
            Field::Reminders => settings::format_reminders(&s.reminders),
            Field::Email => switch(s.email),
            Field::Sms => switch(s.sms),
            Field::Webhook => switch(s.webhook),
            Field::RetentionDays => s.retention_days.to_string(),
            Field::RelockMinutes => s.kiosk_relock_minutes.to_string(),
            Field::PinTotp => switch(Some(s.kiosk_pin_totp)),
        }
    }

    /// The draft with `text` put into this (text) field, or why it cannot be.
    fn apply(self, s: &FacilitySettings, text: &str) -> Result<FacilitySettings, String> {
        let mut out = s.clone();
        let number = |what: &str| {
            text.trim()
                .parse::<i64>()
                .map_err(|_| format!("{what}: `{}` is not a whole number", text.trim()))
        };
        match self {
            Field::Name => out.name = text.trim().to_string(),
            Field::TimeZone => out.time_zone = text.trim().to_string(),
            Field::OverdueDays => out.overdue_days = number("overdue days")?,
            Field::DefaultLocation => out.default_location = text.trim().to_string(),
            Field::Reminders => {
                out.reminders =
                    settings::parse_reminders(if text.trim() == "none" { "" } else { text })?
            }
            Field::RetentionDays => out.retention_days = number("retention days")?,
            Field::RelockMinutes => out.kiosk_relock_minutes = number("kiosk relock minutes")?,
            Field::Email | Field::Sms | Field::Webhook | Field::PinTotp => return Ok(out),
        }
        match out.problem(self.key()) {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct SettingsTab {
    /// As last loaded from the server.
    pub loaded: Option<FacilitySettings>,
    /// With the admin's unsaved edits.
    pub draft: Option<FacilitySettings>,
    pub cursor: usize,
    /// The field being typed into.
    pub editing: Option<TextField>,
    pub saving: bool,
}

impl SettingsTab {
    pub fn field(&self) -> Field {
        Field::ALL[self.cursor.min(Field::ALL.len() - 1)]
    }

    /// The keys changed in the draft.
    pub fn changes(&self) -> Vec<&'static str> {
        match (&self.loaded, &self.draft) {
            (Some(a), Some(b)) => a.changes(b),
            _ => Vec::new(),
        }
    }
}

pub fn on_key(m: &mut Model, key: KeyEvent, action: Option<Action>) -> EventState {
    let s = &mut m.admin.settings;
    if s.saving {
        return EventState::DONE;
    }
    let field = s.field();
    if let Some(edit) = &mut s.editing {
        match action {
            Some(Action::Back) => {
                s.editing = None;
                m.status = None;
            }
            Some(Action::Confirm | Action::Save) => {
                let text = edit.text();
                let Some(draft) = &s.draft else {
                    return EventState::DONE;
                };
                match field.apply(draft, &text) {
                    Ok(next) => {
                        s.draft = Some(next);
                        s.editing = None;
                        m.status = None;
                        if action == Some(Action::Save) {
                            return Consumed(save(m));
                        }
                    }
                    Err(e) => m.note(e, Tone::Error),
                }
            }
            _ => {
                edit.edit(key);
            }
        }
        return EventState::DONE;
    }
    match action {
        Some(Action::Up | Action::Down) => {
            move_cursor(&mut s.cursor, Field::ALL.len(), action);
            EventState::DONE
        }
        Some(Action::Confirm | Action::Toggle) => {
            let Some(draft) = &mut s.draft else {
                return EventState::DONE;
            };
            if field.is_switch() {
                let flip = |c: &mut Channel| c.map(|on| !on);
                let (slot, what) = match field {
                    Field::Email => (&mut draft.email, "e-mail server"),
                    Field::Sms => (&mut draft.sms, "SMS provider"),
                    Field::Webhook => (&mut draft.webhook, "webhook"),
                    _ => {
                        draft.kiosk_pin_totp = !draft.kiosk_pin_totp;
                        return EventState::DONE;
                    }
                };
                match flip(slot) {
                    Some(v) => *slot = Some(v),
                    // Short enough for an 80-column status line.
                    None => m.note(
                        format!("no {what} set up yet: add one on the Channels tab"),
                        Tone::Warning,
                    ),
                }
            } else if action == Some(Action::Confirm) {
                let value = match field {
                    Field::Reminders => settings::format_reminders(&draft.reminders),
                    _ => field.value(draft),
                };
                s.editing = Some(TextField::with_text(200, &value));
                m.note(
                    match field {
                        Field::TimeZone => {
                            "IANA time zone, e.g. Europe/Berlin · Enter: keep · Esc: cancel"
                        }
                        Field::Reminders => {
                            "days after intake, e.g. 3,7 (empty: none) · Enter: keep · Esc: cancel"
                        }
                        _ => "Enter: keep · Esc: cancel",
                    },
                    Tone::Info,
                );
            }
            EventState::DONE
        }
        Some(Action::Save) => Consumed(save(m)),
        Some(Action::Back) if !s.changes().is_empty() => {
            s.draft = s.loaded.clone();
            m.note(
                "unsaved changes discarded (Esc again leaves)",
                Tone::Warning,
            );
            EventState::DONE
        }
        _ => NotConsumed,
    }
}

fn save(m: &mut Model) -> Vec<Effect> {
    let s = &mut m.admin.settings;
    let (Some(before), Some(after)) = (&s.loaded, &s.draft) else {
        return vec![];
    };
    let changed = before.changes(after);
    if changed.is_empty() {
        m.note("nothing changed", Tone::Info);
        return vec![];
    }
    if let Err(e) = after.validate() {
        m.note(format!("not saved: {e}"), Tone::Error);
        return vec![];
    }
    s.saving = true;
    vec![fx(AdminEffect::SaveSettings {
        before: Box::new(before.clone()),
        after: Box::new(after.clone()),
    })]
}

pub fn on_paste(m: &mut Model, text: &str) -> Vec<Effect> {
    if let Some(edit) = &mut m.admin.settings.editing {
        edit.insert_str(text.lines().next().unwrap_or(""));
    }
    vec![]
}

pub fn on_msg(m: &mut Model, msg: AdminMsg) -> Vec<Effect> {
    let s = &mut m.admin.settings;
    match msg {
        AdminMsg::Settings(Ok(new)) => {
            let dirty = !s.changes().is_empty();
            if !dirty {
                s.draft = Some((*new).clone());
            }
            s.loaded = Some(*new);
            vec![]
        }
        AdminMsg::Settings(Err(e)) => {
            m.note(e, Tone::Error);
            vec![]
        }
        AdminMsg::SettingsSaved(res) => {
            s.saving = false;
            match res {
                Ok(changed) => {
                    if let Some(d) = s.draft.clone() {
                        s.loaded = Some(d.clone());
                        m.me.facility_name = d.name.clone();
                        m.overdue_days = d.overdue_days;
                    }
                    if changed.is_empty() {
                        m.note("nothing changed", Tone::Info);
                    } else {
                        m.note(format!("saved: {}", changed.join(", ")), Tone::Success);
                    }
                    vec![fx(AdminEffect::LoadSettings)]
                }
                Err(e) => {
                    m.note(format!("not saved: {e}"), Tone::Error);
                    vec![]
                }
            }
        }
        _ => vec![],
    }
}
