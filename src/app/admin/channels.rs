//! The Channels tab: the facility's e-mail (SMTP), SMS and webhook integrations, each set
//! up in a form and tried with a test message. Secrets are typed once into a masked field,
//! go to the server with the save (where they are sealed) and are never shown again: the
//! form says only whether one is set, and leaving the field empty keeps it.

use super::form::{SecretField, step};
use super::{AdminEffect, AdminMsg, fx, move_cursor};
use crate::app::effect::Effect;
use crate::app::event_state::{Consumed, EventState, NotConsumed};
use crate::app::keymap::Action;
use crate::app::model::{Model, Tone};
use crate::app::text::TextField;
use crate::db::integrations::{ChannelKind, ChannelRow};
use crate::ops::{ChannelForm, TestOutcome};
use crate::term::input::{KeyCode, KeyEvent, Mods};

/// Longest URL (the column's limit).
pub const URL_MAX: usize = crate::notify::config::URL_MAX;
/// Longest From address, user name, account, secret or test target.
const TEXT_MAX: usize = 254;

/// One row of the tab: e-mail and SMS always (set up or not), every webhook, then a row
/// for adding one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry<'a> {
    Smtp(Option<&'a ChannelRow>),
    Sms(Option<&'a ChannelRow>),
    Webhook(&'a ChannelRow),
    NewWebhook,
}

/// The fields of a channel's form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Url,
    Sender,
    Username,
    Secret,
    PickupCodes,
    TestTo,
}

impl Field {
    /// The fields a kind of channel has, in order.
    pub fn of(kind: ChannelKind) -> &'static [Field] {
        match kind {
            ChannelKind::Smtp => &[
                Field::Url,
                Field::Sender,
                Field::Username,
                Field::Secret,
                Field::TestTo,
            ],
            ChannelKind::Sms => &[Field::Url, Field::Username, Field::Secret, Field::TestTo],
            ChannelKind::Webhook => &[Field::Url, Field::Secret, Field::PickupCodes],
        }
    }

    pub fn label(self, kind: ChannelKind) -> &'static str {
        match (self, kind) {
            (Field::Url, ChannelKind::Smtp) => "Server URL",
            (Field::Url, ChannelKind::Sms) => "API URL",
            (Field::Url, ChannelKind::Webhook) => "URL",
            (Field::Sender, _) => "From",
            (Field::Username, ChannelKind::Sms) => "Account",
            (Field::Username, _) => "Username",
            (Field::Secret, ChannelKind::Smtp) => "Password",
            (Field::Secret, ChannelKind::Sms) => "Token",
            (Field::Secret, ChannelKind::Webhook) => "Secret",
            (Field::PickupCodes, _) => "Pickup",
            (Field::TestTo, _) => "Test to",
        }
    }
}

/// What a form waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Busy {
    Saving,
    Testing,
}

/// A channel's form.
#[derive(Debug, Clone, PartialEq)]
pub struct Editor {
    pub kind: ChannelKind,
    /// The stored integration (`None`: not saved yet).
    pub id: Option<i64>,
    pub url: TextField,
    /// The stored URL as shown, when it has parts the console never sees (credentials, a
    /// query): kept while the URL field stays empty.
    pub url_kept: Option<String>,
    pub sender: TextField,
    pub username: TextField,
    pub secret: SecretField,
    /// A secret is stored (kept while the secret field stays empty).
    pub secret_set: bool,
    pub include_pickup_code: bool,
    /// Where a test message goes (SMTP: an address, SMS: a number).
    pub test_to: TextField,
    pub focus: usize,
    /// Changed since loaded or saved.
    pub dirty: bool,
    pub busy: Option<Busy>,
    /// The last test's outcome, shown in the form.
    pub test: Option<TestOutcome>,
}

impl Editor {
    /// A form for `row` (stored), or a new one of `kind`.
    pub fn new(kind: ChannelKind, row: Option<&ChannelRow>) -> Self {
        let (url, url_kept) = match row {
            Some(r) if r.url_hidden => (String::new(), Some(r.url.clone())),
            Some(r) => (r.url.clone(), None),
            None => (String::new(), None),
        };
        Self {
            kind,
            id: row.map(|r| r.id),
            url: TextField::with_text(URL_MAX, &url),
            url_kept,
            sender: TextField::with_text(
                TEXT_MAX,
                row.and_then(|r| r.sender.as_deref()).unwrap_or(""),
            ),
            username: TextField::with_text(
                TEXT_MAX,
                row.and_then(|r| r.username.as_deref()).unwrap_or(""),
            ),
            secret: SecretField::new(TEXT_MAX),
            secret_set: row.is_some_and(|r| r.secret_set),
            include_pickup_code: row.is_some_and(|r| r.include_pickup_code),
            test_to: TextField::new(TEXT_MAX),
            focus: 0,
            dirty: false,
            busy: None,
            test: None,
        }
    }

    pub fn fields(&self) -> &'static [Field] {
        Field::of(self.kind)
    }

    pub fn field(&self) -> Field {
        let f = self.fields();
        f[self.focus.min(f.len() - 1)]
    }

    /// The title: "E-mail (SMTP)", "Webhook #4", "New webhook".
    pub fn title(&self) -> String {
        match (self.kind, self.id) {
            (ChannelKind::Webhook, Some(id)) => format!("Webhook #{id}"),
            (ChannelKind::Webhook, None) => "New webhook".into(),
            (k, _) => k.label().into(),
        }
    }

    fn text_field(&mut self, f: Field) -> Option<&mut TextField> {
        match f {
            Field::Url => Some(&mut self.url),
            Field::Sender => Some(&mut self.sender),
            Field::Username => Some(&mut self.username),
            Field::TestTo => Some(&mut self.test_to),
            Field::Secret | Field::PickupCodes => None,
        }
    }

    /// What the save sends: an empty URL or secret keeps the stored one.
    pub fn form(&self) -> ChannelForm {
        ChannelForm {
            id: self.id,
            kind: Some(self.kind),
            url: self.url.text().trim().to_string(),
            sender: self.sender.text().trim().to_string(),
            username: self.username.text().trim().to_string(),
            secret: (!self.secret.is_empty()).then(|| self.secret.reveal()),
            include_pickup_code: self.include_pickup_code,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ChannelsTab {
    pub rows: Vec<ChannelRow>,
    pub cursor: usize,
    pub editor: Option<Editor>,
    /// The list was loaded at least once.
    pub loaded: bool,
}

impl ChannelsTab {
    pub fn entries(&self) -> Vec<Entry<'_>> {
        let find = |k: ChannelKind| self.rows.iter().find(|r| r.kind == k);
        let mut out = vec![
            Entry::Smtp(find(ChannelKind::Smtp)),
            Entry::Sms(find(ChannelKind::Sms)),
        ];
        out.extend(
            self.rows
                .iter()
                .filter(|r| r.kind == ChannelKind::Webhook)
                .map(Entry::Webhook),
        );
        out.push(Entry::NewWebhook);
        out
    }

    pub fn typing(&self) -> bool {
        self.editor.is_some()
    }
}

/// Keys on the Channels tab: the list's, or (every key) the open form's.
pub fn on_key(m: &mut Model, key: KeyEvent, action: Option<Action>) -> EventState {
    if m.admin.channels.editor.is_some() {
        return Consumed(form_key(m, key));
    }
    let c = &mut m.admin.channels;
    let n = c.entries().len();
    if move_cursor(&mut c.cursor, n, action) {
        return EventState::DONE;
    }
    match action {
        Some(Action::Confirm) => {
            let editor = match c.entries().get(c.cursor).copied() {
                Some(Entry::Smtp(row)) => Editor::new(ChannelKind::Smtp, row),
                Some(Entry::Sms(row)) => Editor::new(ChannelKind::Sms, row),
                Some(Entry::Webhook(row)) => Editor::new(ChannelKind::Webhook, Some(row)),
                Some(Entry::NewWebhook) | None => Editor::new(ChannelKind::Webhook, None),
            };
            open(m, editor);
            EventState::DONE
        }
        Some(Action::AdminAdd) => {
            open(m, Editor::new(ChannelKind::Webhook, None));
            EventState::DONE
        }
        _ => NotConsumed,
    }
}

fn open(m: &mut Model, editor: Editor) {
    let secret = Field::Secret.label(editor.kind).to_lowercase();
    m.note(
        if editor.secret_set {
            format!("the {secret} is set and never shown: leave it empty to keep it")
        } else {
            "Tab: next field · Ctrl-S: save · Esc: close".to_string()
        },
        Tone::Info,
    );
    m.admin.channels.editor = Some(editor);
}

fn form_key(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    let Some(e) = &mut m.admin.channels.editor else {
        return vec![];
    };
    let ctrl = key.mods.contains(Mods::CTRL);
    if e.busy.is_some() {
        // The answer is on its way (bounded by the server's timeout); Esc only hides it.
        if key.code == KeyCode::Esc {
            m.admin.channels.editor = None;
            m.note("closed; the answer will not be shown", Tone::Info);
        }
        return vec![];
    }
    let n = e.fields().len();
    let field = e.field();
    match key.code {
        KeyCode::Esc => {
            let dirty = e.dirty;
            m.admin.channels.editor = None;
            m.note(if dirty { "not saved" } else { "closed" }, Tone::Info);
            vec![]
        }
        KeyCode::Char('s') if ctrl => save(m),
        KeyCode::Char('t') if ctrl => test(m),
        KeyCode::Tab | KeyCode::Down => {
            step(&mut e.focus, n, true);
            vec![]
        }
        KeyCode::BackTab | KeyCode::Up => {
            step(&mut e.focus, n, false);
            vec![]
        }
        KeyCode::Enter if field == Field::TestTo => test(m),
        KeyCode::Enter => {
            step(&mut e.focus, n, true);
            vec![]
        }
        KeyCode::Char(' ') | KeyCode::Left | KeyCode::Right if field == Field::PickupCodes => {
            e.include_pickup_code = !e.include_pickup_code;
            e.dirty = true;
            vec![]
        }
        _ => {
            let changed = match field {
                Field::Secret => e.secret.edit(key),
                f => e.text_field(f).is_some_and(|t| t.edit(key)),
            };
            // Where a test goes is not part of the saved settings.
            if changed && field != Field::TestTo {
                e.dirty = true;
            }
            vec![]
        }
    }
}

/// The pure checks the server makes too, so a slip shows before a round trip.
fn check(e: &Editor) -> Result<(), String> {
    let f = e.form();
    if f.url.is_empty() && e.id.is_none() {
        return Err("type the URL".into());
    }
    if e.kind == ChannelKind::Smtp && f.sender.is_empty() {
        return Err("type the From address".into());
    }
    if e.kind == ChannelKind::Webhook {
        match &f.secret {
            Some(s) => crate::notify::config::webhook_secret(s)?,
            None if !e.secret_set => {
                return Err(format!(
                    "type a signing secret of at least {} characters",
                    crate::domain::limits::WEBHOOK_SECRET_MIN
                ));
            }
            None => {}
        }
    }
    Ok(())
}

fn save(m: &mut Model) -> Vec<Effect> {
    let Some(e) = &mut m.admin.channels.editor else {
        return vec![];
    };
    if let Err(why) = check(e) {
        m.note(format!("not saved: {why}"), Tone::Warning);
        return vec![];
    }
    e.busy = Some(Busy::Saving);
    let form = e.form();
    vec![fx(AdminEffect::SaveChannel(Box::new(form)))]
}

fn test(m: &mut Model) -> Vec<Effect> {
    let Some(e) = &mut m.admin.channels.editor else {
        return vec![];
    };
    let Some(id) = e.id.filter(|_| !e.dirty) else {
        m.note(
            "save first (Ctrl-S): a test goes through the saved settings",
            Tone::Warning,
        );
        return vec![];
    };
    let to = e.test_to.text().trim().to_string();
    if to.is_empty() && e.kind != ChannelKind::Webhook {
        if let Some(i) = e.fields().iter().position(|f| *f == Field::TestTo) {
            e.focus = i;
        }
        let what = match e.kind {
            ChannelKind::Smtp => "type the e-mail address the test goes to (Test to)",
            _ => "type the phone number the test goes to (Test to)",
        };
        m.note(what, Tone::Warning);
        return vec![];
    }
    e.busy = Some(Busy::Testing);
    e.test = None;
    m.note("sending a test message…", Tone::Info);
    vec![fx(AdminEffect::TestChannel { id, to })]
}

/// A pasted URL, address or secret: its first line into the field in focus.
pub fn on_paste(m: &mut Model, text: &str) -> Vec<Effect> {
    let Some(e) = &mut m.admin.channels.editor else {
        return vec![];
    };
    if e.busy.is_some() {
        return vec![];
    }
    let first = text.lines().next().unwrap_or("").trim();
    let field = e.field();
    match field {
        Field::Secret => e.secret.insert_str(first),
        Field::PickupCodes => return vec![],
        f => {
            if let Some(t) = e.text_field(f) {
                t.insert_str(first);
            }
        }
    }
    if field != Field::TestTo {
        e.dirty = true;
    }
    vec![]
}

/// The Channels tab's answers.
pub fn on_msg(m: &mut Model, msg: AdminMsg) -> Vec<Effect> {
    let c = &mut m.admin.channels;
    match msg {
        AdminMsg::Channels(Ok(rows)) => {
            c.rows = rows;
            c.loaded = true;
            c.cursor = c.cursor.min(c.entries().len().saturating_sub(1));
            vec![]
        }
        AdminMsg::Channels(Err(e)) => {
            m.note(e, Tone::Error);
            vec![]
        }
        AdminMsg::ChannelSaved(res) => {
            let Some(e) = &mut c.editor else {
                return vec![];
            };
            e.busy = None;
            match res {
                Ok(id) => {
                    e.id = Some(id);
                    e.dirty = false;
                    if !e.secret.is_empty() {
                        e.secret.clear();
                        e.secret_set = true;
                    }
                    let title = e.title();
                    let next = if e.kind == ChannelKind::Webhook {
                        "Ctrl-T sends a test"
                    } else {
                        "type where a test goes, then Ctrl-T"
                    };
                    m.note(format!("saved: {title} is on · {next}"), Tone::Success);
                    vec![fx(AdminEffect::LoadChannels)]
                }
                Err(err) => {
                    m.note(format!("not saved: {err}"), Tone::Error);
                    vec![]
                }
            }
        }
        AdminMsg::ChannelTested(res) => {
            let Some(e) = &mut c.editor else {
                return vec![];
            };
            e.busy = None;
            match res {
                Ok(outcome) => {
                    let (text, tone) = match &outcome {
                        Ok(()) => (
                            "test sent: the receiver accepted it".to_string(),
                            Tone::Success,
                        ),
                        Err(why) => (format!("test failed: {why}"), Tone::Error),
                    };
                    e.test = Some(outcome);
                    m.note(text, tone);
                }
                Err(err) => m.note(format!("no test sent: {err}"), Tone::Error),
            }
            vec![]
        }
        _ => vec![],
    }
}

#[cfg(test)]
mod tests;
