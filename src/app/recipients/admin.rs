//! Recipients management on the recipients screen (admins): create, edit, deactivate and
//! reactivate, merge duplicates; the CSV import is its own room ([`super::import`]). Pure,
//! like the rest of the core: keys and answers in, state and effects out. Operators and
//! viewers keep the read-only screen (and `Ops` refuses them anyway).

use crate::admin::import::{Counts, FieldName, Plan};
use crate::app::effect::Effect;
use crate::app::event_state::{Consumed, EventState, NotConsumed};
use crate::app::failure::Failure;
use crate::app::keymap::Action;
use crate::app::model::{Model, Tone};
use crate::app::text::TextField;
use crate::db::recipients::{Merged, Recipient};
use crate::domain::limits;
use crate::ops::{MergePreview, RecipientFields};
use crate::term::input::{KeyCode, KeyEvent, Mods};

pub use super::import::{ImportState, ImportStep};
pub use super::{mask_email, mask_phone};

/// Messages of the recipients admin (answers of its effects).
#[derive(Debug, Clone)]
pub enum AdminMsg {
    /// The recipient to edit, with its full contact data.
    Loaded(Result<Recipient, Failure>),
    Saved(Result<Recipient, Failure>),
    /// The recipient and its packages still waiting.
    Activated(Result<(Recipient, i64), Failure>),
    MergePreview(Result<MergePreview, Failure>),
    Merged(Result<Merged, Failure>),
    ImportPlan(Result<Plan, Failure>),
    ImportProgress {
        done: usize,
        total: usize,
    },
    ImportDone(Result<Counts, Failure>),
    /// A resident's authorised proxies, loaded or (`saved`) after a change.
    Proxies {
        recipient: i64,
        names: Result<Vec<String>, Failure>,
        saved: bool,
    },
}

/// Effects of the recipients admin, run by `crate::effects`.
#[derive(Debug, Clone, PartialEq)]
pub enum AdminEffect {
    LoadForEdit(i64),
    Create(RecipientFields),
    Update {
        id: i64,
        fields: RecipientFields,
    },
    SetActive {
        id: i64,
        active: bool,
    },
    MergePreview {
        keep: i64,
        duplicate: i64,
    },
    Merge {
        keep: i64,
        duplicate: i64,
    },
    PlanImport {
        csv: String,
        options: crate::admin::import::ImportOptions,
    },
    ApplyImport(Plan),
    LoadProxies(i64),
    AddProxy {
        id: i64,
        name: String,
    },
    RemoveProxy {
        id: i64,
        name: String,
    },
}

impl From<AdminEffect> for Effect {
    fn from(e: AdminEffect) -> Self {
        Effect::RecipientsAdmin(e)
    }
}

/// The form's fields in order (as the CSV columns).
pub const FORM_FIELDS: [FieldName; 5] = [
    FieldName::Name,
    FieldName::Unit,
    FieldName::Email,
    FieldName::Phone,
    FieldName::Aliases,
];

pub fn field_label(f: FieldName) -> &'static str {
    match f {
        FieldName::Name => "Name",
        FieldName::Unit => "Unit",
        FieldName::Email => "Email",
        FieldName::Phone => "Phone",
        FieldName::Aliases => "Aliases",
    }
}

/// Creating (`id: None`) or editing a recipient.
#[derive(Debug, Clone)]
pub struct RecipientForm {
    pub id: Option<i64>,
    pub fields: [TextField; 5],
    pub focus: usize,
    /// The field the last error is about (`None`: the whole record, e.g. a conflict).
    pub error: Option<(Option<FieldName>, String)>,
    /// Waiting for the recipient's data (edit).
    pub loading: bool,
    pub saving: bool,
}

impl RecipientForm {
    pub fn new(id: Option<i64>) -> Self {
        Self {
            id,
            fields: [
                TextField::new(limits::NAME_MAX),
                TextField::new(limits::UNIT_MAX),
                TextField::new(limits::EMAIL_MAX),
                TextField::new(32),
                TextField::new(1000),
            ],
            focus: 0,
            error: None,
            loading: id.is_some(),
            saving: false,
        }
    }

    fn fill(&mut self, r: &Recipient) {
        let f = RecipientFields::of(r);
        for (field, text) in self
            .fields
            .iter_mut()
            .zip([&f.name, &f.unit, &f.email, &f.phone, &f.aliases])
        {
            field.set(text);
        }
        self.loading = false;
    }

    pub fn values(&self) -> RecipientFields {
        RecipientFields {
            name: self.fields[0].text(),
            unit: self.fields[1].text(),
            email: self.fields[2].text(),
            phone: self.fields[3].text(),
            aliases: self.fields[4].text(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub enum Mode {
    /// The search (read-only for operators and viewers).
    #[default]
    Browse,
    Form(RecipientForm),
    /// Merge, step 1: the recipient to keep is chosen; search for its duplicate.
    PickDuplicate {
        keep: Recipient,
        checking: bool,
    },
    /// Merge, step 2: confirm (with what moves).
    ConfirmMerge {
        preview: MergePreview,
        busy: bool,
    },
    Import(ImportState),
    /// One resident's authorised proxies ([`super::proxies`]).
    Proxies(super::proxies::ProxiesState),
}

#[derive(Debug, Clone, Default)]
pub struct RecipientsAdmin {
    pub mode: Mode,
}

/// Whether the signed-in user may manage recipients here (admins, not at a kiosk).
pub fn allowed(m: &Model) -> bool {
    m.me.role.can_administer() && m.kiosk.is_none()
}

fn refuse(m: &mut Model) -> Vec<Effect> {
    let text = if m.kiosk.is_some() {
        "managing recipients is not available on a kiosk; use your own session"
    } else {
        "permission denied: managing recipients is for admins (search is read-only)"
    };
    m.note(text, Tone::Error);
    vec![]
}

fn selected(m: &Model) -> Option<Recipient> {
    m.search.selected().map(|f| f.recipient.clone())
}

fn label(r: &Recipient) -> String {
    if r.unit.is_empty() {
        r.name.clone()
    } else {
        format!("{} ({})", r.name, r.unit)
    }
}

fn plural(n: impl Into<i64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Keys on the recipients screen. `NotConsumed`: not ours; the read-only screen handles it.
pub fn on_key(m: &mut Model, key: KeyEvent, action: Option<Action>) -> EventState {
    match &m.recipients_admin.mode {
        Mode::Browse => browse_key(m, action),
        Mode::Form(_) => Consumed(form_key(m, key, action)),
        Mode::PickDuplicate { .. } => pick_key(m, action),
        Mode::ConfirmMerge { .. } => Consumed(confirm_merge_key(m, key, action)),
        Mode::Import(_) => Consumed(super::import::on_key(m, key, action)),
        Mode::Proxies(_) => Consumed(super::proxies::on_key(m, key, action)),
    }
}

fn browse_key(m: &mut Model, action: Option<Action>) -> EventState {
    if action == Some(Action::Proxy) {
        return Consumed(super::proxies::open(m));
    }
    let wanted = matches!(
        action,
        Some(
            Action::NewRecipient
                | Action::EditRecipient
                | Action::ToggleActive
                | Action::Merge
                | Action::Import
        )
    );
    if !wanted {
        return NotConsumed;
    }
    if !allowed(m) {
        return Consumed(refuse(m));
    }
    let need_selection = !matches!(action, Some(Action::NewRecipient | Action::Import));
    let sel = selected(m);
    if need_selection && sel.is_none() {
        m.note("search and select a recipient first", Tone::Warning);
        return EventState::DONE;
    }
    m.status = None;
    Consumed(match (action, sel) {
        (Some(Action::NewRecipient), _) => {
            let mut form = RecipientForm::new(None);
            // Whatever was searched for is usually the new name.
            form.fields[0].set(m.search.query.text().trim());
            m.recipients_admin.mode = Mode::Form(form);
            vec![]
        }
        (Some(Action::Import), _) => {
            m.recipients_admin.mode = Mode::Import(ImportState::default());
            vec![]
        }
        (Some(Action::EditRecipient), Some(r)) => {
            m.recipients_admin.mode = Mode::Form(RecipientForm::new(Some(r.id)));
            vec![AdminEffect::LoadForEdit(r.id).into()]
        }
        (Some(Action::ToggleActive), Some(r)) => vec![
            AdminEffect::SetActive {
                id: r.id,
                active: !r.active,
            }
            .into(),
        ],
        (Some(Action::Merge), Some(r)) => {
            if !r.active {
                m.note(
                    format!(
                        "{} is inactive; reactivate it (Ctrl-D) to keep it, or pick the one to keep",
                        r.name
                    ),
                    Tone::Warning,
                );
                return EventState::DONE;
            }
            m.note(
                format!(
                    "merge into {}: search for the duplicate, Enter picks it, Esc cancels",
                    label(&r)
                ),
                Tone::Info,
            );
            m.recipients_admin.mode = Mode::PickDuplicate {
                keep: r,
                checking: false,
            };
            vec![]
        }
        _ => vec![],
    })
}

fn form_key(m: &mut Model, key: KeyEvent, action: Option<Action>) -> Vec<Effect> {
    let Mode::Form(form) = &mut m.recipients_admin.mode else {
        return vec![];
    };
    if form.saving || form.loading {
        if action == Some(Action::Back) {
            m.recipients_admin.mode = Mode::Browse;
            m.note("edit closed; nothing saved", Tone::Info);
        }
        return vec![];
    }
    let save = key.code == KeyCode::Char('s') && key.mods.contains(Mods::CTRL);
    match key.code {
        _ if save => return save_form(m),
        KeyCode::Esc => {
            m.recipients_admin.mode = Mode::Browse;
            m.note("not saved", Tone::Info);
            return vec![];
        }
        KeyCode::Tab | KeyCode::Down => form.focus = (form.focus + 1) % FORM_FIELDS.len(),
        KeyCode::BackTab | KeyCode::Up => {
            form.focus = (form.focus + FORM_FIELDS.len() - 1) % FORM_FIELDS.len();
        }
        KeyCode::Enter if form.focus + 1 < FORM_FIELDS.len() => form.focus += 1,
        KeyCode::Enter => return save_form(m),
        _ => {
            if form.fields[form.focus].edit(key)
                && form
                    .error
                    .as_ref()
                    .is_some_and(|(f, _)| *f == Some(FORM_FIELDS[form.focus]))
            {
                form.error = None;
            }
        }
    }
    vec![]
}

fn save_form(m: &mut Model) -> Vec<Effect> {
    let Mode::Form(form) = &mut m.recipients_admin.mode else {
        return vec![];
    };
    let fields = form.values();
    // The same rules as the server (which checks again): errors show before a round trip.
    if let Err(e) = fields.validate() {
        form.focus = FORM_FIELDS.iter().position(|f| *f == e.field).unwrap_or(0);
        form.error = Some((Some(e.field), e.message.clone()));
        m.note(e.message, Tone::Error);
        return vec![];
    }
    form.error = None;
    form.saving = true;
    let fx = match form.id {
        Some(id) => AdminEffect::Update { id, fields },
        None => AdminEffect::Create(fields),
    };
    m.note("saving…", Tone::Info);
    vec![fx.into()]
}

fn pick_key(m: &mut Model, action: Option<Action>) -> EventState {
    let Mode::PickDuplicate { keep, checking } = &mut m.recipients_admin.mode else {
        return NotConsumed;
    };
    match action {
        Some(Action::Back) => {
            m.recipients_admin.mode = Mode::Browse;
            m.note("merge cancelled; nothing changed", Tone::Info);
            EventState::DONE
        }
        Some(Action::Confirm) => {
            if *checking {
                return EventState::DONE;
            }
            let keep_id = keep.id;
            match m.search.selected().map(|f| f.recipient.id) {
                None => {
                    m.note("search and select the duplicate first", Tone::Warning);
                    EventState::DONE
                }
                Some(id) if id == keep_id => {
                    m.note(
                        "that is the recipient to keep; select its duplicate",
                        Tone::Warning,
                    );
                    EventState::DONE
                }
                Some(duplicate) => {
                    *checking = true;
                    Consumed(vec![
                        AdminEffect::MergePreview {
                            keep: keep_id,
                            duplicate,
                        }
                        .into(),
                    ])
                }
            }
        }
        // Typing and moving in the search work as usual.
        _ => NotConsumed,
    }
}

fn confirm_merge_key(m: &mut Model, key: KeyEvent, action: Option<Action>) -> Vec<Effect> {
    let Mode::ConfirmMerge { preview, busy } = &mut m.recipients_admin.mode else {
        return vec![];
    };
    if *busy {
        return vec![];
    }
    let yes = action == Some(Action::Confirm) || matches!(key.code, KeyCode::Char('y' | 'Y'));
    let no = action == Some(Action::Back) || matches!(key.code, KeyCode::Char('n' | 'N'));
    if yes {
        *busy = true;
        let fx = AdminEffect::Merge {
            keep: preview.keep.id,
            duplicate: preview.duplicate.id,
        };
        m.note("merging…", Tone::Info);
        vec![fx.into()]
    } else if no {
        m.recipients_admin.mode = Mode::Browse;
        m.note("merge cancelled; nothing changed", Tone::Info);
        vec![]
    } else {
        vec![]
    }
}

/// Pasted text on the recipients screen. `NotConsumed`: not ours (the search takes it).
pub fn on_paste(m: &mut Model, text: &str) -> EventState {
    match &mut m.recipients_admin.mode {
        Mode::Browse | Mode::PickDuplicate { .. } => NotConsumed,
        Mode::ConfirmMerge { .. } => EventState::DONE,
        Mode::Proxies(s) => {
            super::proxies::on_paste(s, text);
            EventState::DONE
        }
        Mode::Form(form) => {
            if !form.loading && !form.saving {
                let first = text.lines().next().unwrap_or("");
                form.fields[form.focus].insert_str(first);
            }
            EventState::DONE
        }
        Mode::Import(state) => {
            if matches!(state.step, ImportStep::Paste) {
                let note = super::import::add_paste(state, text);
                if let Some((text, tone)) = note {
                    m.note(text, tone);
                } else {
                    m.status = None;
                }
            }
            EventState::DONE
        }
    }
}

/// Answers to the recipients admin's effects.
pub fn on_msg(m: &mut Model, msg: AdminMsg) -> Vec<Effect> {
    match msg {
        AdminMsg::Loaded(res) => {
            if let Mode::Form(form) = &mut m.recipients_admin.mode {
                match res {
                    Ok(r) if form.id == Some(r.id) => form.fill(&r),
                    Ok(_) => {}
                    Err(e) => {
                        m.recipients_admin.mode = Mode::Browse;
                        m.note(format!("cannot edit: {e}"), Tone::Error);
                    }
                }
            }
            vec![]
        }
        AdminMsg::Saved(res) => {
            let Mode::Form(form) = &mut m.recipients_admin.mode else {
                return vec![];
            };
            match res {
                Ok(r) => {
                    let verb = if form.id.is_some() { "saved" } else { "added" };
                    m.recipients_admin.mode = Mode::Browse;
                    m.note(format!("{verb} {}", label(&r)), Tone::Success);
                    super::search(m)
                }
                Err(e) => {
                    form.saving = false;
                    // A name and unit that are taken: the name is the field to change.
                    let field = e.text.contains("already exists").then_some(FieldName::Name);
                    form.error = Some((field, e.text.clone()));
                    m.note(format!("not saved: {e}"), Tone::Error);
                    vec![]
                }
            }
        }
        AdminMsg::Activated(res) => match res {
            Ok((r, waiting)) => {
                let text = if r.active {
                    format!("{} reactivated", label(&r))
                } else if waiting > 0 {
                    format!(
                        "{} deactivated; {} still waiting for them (Ctrl-D undoes)",
                        label(&r),
                        plural(waiting, "package", "packages")
                    )
                } else {
                    format!("{} deactivated (Ctrl-A shows inactive ones)", label(&r))
                };
                m.note(text, Tone::Success);
                super::search(m)
            }
            Err(e) => {
                m.note(e, Tone::Error);
                vec![]
            }
        },
        AdminMsg::MergePreview(res) => {
            if !matches!(
                m.recipients_admin.mode,
                Mode::PickDuplicate { checking: true, .. }
            ) {
                return vec![];
            }
            match res {
                Ok(preview) => {
                    m.status = None;
                    m.recipients_admin.mode = Mode::ConfirmMerge {
                        preview,
                        busy: false,
                    };
                }
                Err(e) => {
                    if let Mode::PickDuplicate { checking, .. } = &mut m.recipients_admin.mode {
                        *checking = false;
                    }
                    m.note(e, Tone::Error);
                }
            }
            vec![]
        }
        AdminMsg::Merged(res) => {
            m.recipients_admin.mode = Mode::Browse;
            match res {
                Ok(mg) => {
                    let line = format!(
                        "merged {} into {}: {} moved ({} waiting); the duplicate is inactive",
                        label(&mg.duplicate),
                        label(&mg.kept),
                        plural(mg.moved.len() as i64, "package", "packages"),
                        mg.waiting_moved
                    );
                    m.note(line.clone(), Tone::Success);
                    m.log_activity(format!("{} {line}", m.me.login));
                    super::search(m)
                }
                Err(e) => {
                    m.note(format!("not merged: {e}"), Tone::Error);
                    vec![]
                }
            }
        }
        AdminMsg::ImportPlan(_) | AdminMsg::ImportProgress { .. } | AdminMsg::ImportDone(_) => {
            super::import::on_msg(m, msg)
        }
        AdminMsg::Proxies {
            recipient,
            names,
            saved,
        } => {
            super::proxies::on_msg(m, recipient, names, saved);
            vec![]
        }
    }
}

#[cfg(test)]
mod tests;
