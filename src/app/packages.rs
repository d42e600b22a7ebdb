//! The package list (status by letter, a text search across all statuses, the overdue list
//! oldest first) and a package's detail with
//! its history and corrections (assign, move, return to sender, lost; and of a waiting
//! parcel: reassign, flags, note); marks and bulk remind / return on the list in [`bulk`].

use super::effect::Effect;
use super::failure::Failure;
use super::keymap::Action;
use super::model::{Model, Screen, Tone};
use super::msg::{Listed, Msg};
use super::recipients::{edit_search, move_search_cursor, search};
use super::text::TextField;
use crate::db::packages::{Change, Edit, Package, Total};
use crate::domain::limits::{LOCATION_MAX, NOTE_MAX};
use crate::domain::{Flag, Flags, Location, Note};
use crate::term::input::{KeyCode, KeyEvent};

pub(super) mod bulk;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorrectionKind {
    /// Give an unmatched package its recipient (search instead of a reason).
    Assign,
    Move,
    ReturnToSender,
    Lost,
    /// Give a waiting package another recipient (it was logged to the wrong one).
    Reassign,
    /// Toggle the handling flags (F6-F9).
    Flags,
    Note,
}

impl CorrectionKind {
    pub fn title(self) -> &'static str {
        match self {
            CorrectionKind::Assign => "Assign the recipient",
            CorrectionKind::Reassign => "Reassign to another recipient",
            CorrectionKind::Flags => "Change the flags",
            CorrectionKind::Note => "Edit the note",
            CorrectionKind::Move => "Move to another location",
            CorrectionKind::ReturnToSender => "Return to sender",
            CorrectionKind::Lost => "Mark as lost",
        }
    }
}

/// A correction to the package on the detail screen, being filled in.
#[derive(Debug, Clone)]
pub struct Correction {
    pub kind: CorrectionKind,
    pub location: TextField,
    pub reason: TextField,
    /// Focus: the reason field (a move asks for the location first).
    pub on_reason: bool,
    pub saving: bool,
    /// The flags being set (starts from the package's).
    pub flags: Flags,
    /// The note being edited (starts from the package's).
    pub note: TextField,
}

impl Correction {
    pub fn new(kind: CorrectionKind) -> Self {
        Self {
            kind,
            location: TextField::new(LOCATION_MAX),
            reason: TextField::new(200),
            on_reason: kind != CorrectionKind::Move,
            saving: false,
            flags: Flags::default(),
            note: TextField::new(NOTE_MAX),
        }
    }

    /// Whether the recipient search is this correction's field.
    pub fn searches(&self) -> bool {
        matches!(self.kind, CorrectionKind::Assign | CorrectionKind::Reassign)
    }
}

#[derive(Debug, Clone)]
pub struct PackageList {
    /// The status browsed: `None`: every status.
    pub status: Option<String>,
    pub rows: Vec<Package>,
    /// Index into [`Model::visible`].
    pub cursor: usize,
    pub loading: bool,
    /// How many packages match the query the rows came from (`None` before the first
    /// answer); more than the rows when the server cut the page.
    pub total: Option<Total>,
    /// The search: tracking, carrier, recipient, unit or location contain it. Typing
    /// narrows the rows loaded; Enter asks the server, across every status unless one was
    /// chosen during this search.
    pub filter: TextField,
    /// The list's keys are text: the search field, or the status letter after `s`.
    pub filtering: bool,
    /// `s` was pressed: the next letter chooses the status.
    pub choosing_status: bool,
    /// A status was chosen while searching: the search keeps to it.
    pub status_in_search: bool,
    /// Waiting parcels past the facility's overdue days, oldest first.
    pub overdue_only: bool,
    /// Marked parcels (ids of loaded rows) for a bulk action, see [`bulk`].
    pub marks: std::collections::BTreeSet<i64>,
    /// A bulk action asked about ("…? y/n"): the next key answers it.
    pub confirm: Option<crate::ops::Bulk>,
    /// A bulk action is running: no second one until it answers.
    pub bulk_running: bool,
}

impl Default for PackageList {
    fn default() -> Self {
        Self {
            status: None,
            rows: Vec::new(),
            cursor: 0,
            loading: false,
            total: None,
            filter: TextField::new(40),
            filtering: false,
            choosing_status: false,
            status_in_search: false,
            overdue_only: false,
            marks: Default::default(),
            confirm: None,
            bulk_running: false,
        }
    }
}

/// The status letters after `s`, in the order the prompt lists them.
pub const STATUS_LETTERS: [(char, Option<&str>, &str); 6] = [
    ('w', Some("waiting"), "waiting"),
    ('u', Some("unmatched"), "unmatched"),
    ('p', Some("picked_up"), "picked up"),
    ('r', Some("returned"), "returned"),
    ('l', Some("lost"), "lost"),
    ('a', None, "all"),
];

impl PackageList {
    /// The search as sent (trimmed; empty: none).
    pub fn search(&self) -> String {
        self.filter.text().trim().to_string()
    }

    /// The status the rows are loaded with: the overdue list is of waiting parcels; a search
    /// looks across every status unless one was chosen for it (a status browsed earlier does
    /// not silently narrow it).
    pub fn query_status(&self) -> Option<String> {
        if self.overdue_only {
            Some("waiting".into())
        } else if self.search().is_empty() || self.status_in_search {
            self.status.clone()
        } else {
            None
        }
    }

    /// What the list's title says it shows: "waiting", "all", "overdue, oldest first".
    pub fn scope(&self) -> String {
        if self.overdue_only {
            return "overdue, oldest first".into();
        }
        let status = self
            .query_status()
            .map_or("all".to_string(), |s| s.replace('_', " "));
        if self.search().is_empty() {
            status
        } else if status == "all" {
            "all statuses".into()
        } else {
            status
        }
    }
}

/// The list's load: its status, search and order.
pub(super) fn load(m: &Model) -> Effect {
    Effect::LoadPackages {
        status: m.list.query_status(),
        search: m.list.search(),
        oldest_first: m.list.overdue_only,
    }
}

/// Entering the list loads it; a status question left open (F-keys leave) is dropped.
pub(super) fn enter(m: &mut Model) -> Vec<Effect> {
    m.list.confirm = None;
    if m.list.choosing_status {
        m.list.choosing_status = false;
        m.list.filtering = false;
    }
    m.list.loading = true;
    vec![load(m)]
}

fn reload(m: &mut Model) -> Vec<Effect> {
    m.list.cursor = 0;
    m.list.loading = true;
    vec![load(m)]
}

/// A list, a detail or the dashboard's counts did not load: the list stops loading and the
/// status bar says why.
pub(super) fn load_failed(m: &mut Model, e: Failure) -> Vec<Effect> {
    m.list.loading = false;
    m.note(e, Tone::Error);
    vec![]
}

/// The list's and the detail's answers.
pub(super) fn on_msg(m: &mut Model, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Packages(Err(e)) | Msg::PackageDetail(Err(e)) => load_failed(m, e),
        Msg::Packages(Ok(Listed { rows, total })) => {
            m.list.loading = false;
            m.list.total = Some(total);
            m.list.cursor = m.list.cursor.min(rows.len().saturating_sub(1));
            // Marks stay on the parcels still listed (a reload after another desk's change).
            m.list.marks.retain(|id| rows.iter().any(|p| p.id == *id));
            m.list.rows = rows;
            vec![]
        }
        Msg::Changed(res) => match res {
            Ok(p) => {
                let what = match m.correction.as_ref().map(|c| c.kind) {
                    Some(CorrectionKind::Assign) => {
                        format!("assigned to {}", p.recipient_name.as_deref().unwrap_or("?"))
                    }
                    Some(CorrectionKind::Reassign) => format!(
                        "reassigned to {} · new code",
                        p.recipient_name.as_deref().unwrap_or("?")
                    ),
                    Some(CorrectionKind::Flags) => "flags changed".into(),
                    Some(CorrectionKind::Note) => "note changed".into(),
                    Some(CorrectionKind::Move) => format!("moved to {}", p.location),
                    Some(CorrectionKind::ReturnToSender) => "returned to sender".into(),
                    Some(CorrectionKind::Lost) => "marked lost".into(),
                    None => "changed".into(),
                };
                m.correction = None;
                let line = format!("{} {} {what}", m.me.login, p.tracking);
                m.note(line.clone(), Tone::Success);
                m.log_activity(line);
                vec![Effect::LoadPackage(p.id), Effect::LoadStats]
            }
            Err(e) => {
                if let Some(c) = m.correction.as_mut() {
                    c.saving = false;
                }
                m.note(format!("not changed: {e}"), Tone::Error);
                vec![]
            }
        },
        Msg::PackageDetail(Ok(d)) => {
            m.detail = Some(d);
            vec![]
        }
        _ => vec![],
    }
}

/// Keys on the package list: search, status by letter, overdue only, open a package.
pub(super) fn list_key(m: &mut Model, key: KeyEvent, action: Option<Action>) -> Vec<Effect> {
    if m.list.confirm.is_some() {
        return bulk::answer(m, key);
    }
    if m.list.choosing_status {
        return choose_status(m, key);
    }
    if m.list.filtering {
        return match action {
            Some(Action::Back) => {
                // The search is dropped: back to the status browsed.
                m.list.filter.clear();
                m.list.filtering = false;
                m.list.status_in_search = false;
                reload(m)
            }
            // Enter: the server's answer, across statuses (typing only narrowed the rows
            // already loaded).
            Some(Action::Confirm) => {
                m.list.filtering = false;
                reload(m)
            }
            _ => {
                if m.list.filter.edit(key) {
                    m.list.cursor = 0;
                }
                vec![]
            }
        };
    }
    if let Some(fx) = bulk::key(m, action) {
        return fx;
    }
    let n = m.visible().len();
    match action {
        Some(Action::Filter) => {
            if m.list.filter.is_empty() {
                m.list.status_in_search = false;
            }
            m.list.filtering = true;
            vec![]
        }
        Some(Action::Overdue) => {
            m.list.overdue_only = !m.list.overdue_only;
            reload(m)
        }
        Some(Action::Back) if !m.list.filter.is_empty() => {
            m.list.filter.clear();
            m.list.status_in_search = false;
            reload(m)
        }
        Some(Action::Back) => super::update::goto(m, Screen::Dashboard),
        Some(Action::Up) => {
            m.list.cursor = m.list.cursor.saturating_sub(1);
            vec![]
        }
        Some(Action::Down) => {
            m.list.cursor = (m.list.cursor + 1).min(n.saturating_sub(1));
            vec![]
        }
        Some(Action::CycleStatus) => {
            // The next key is a letter, not a command (`p` is picked up here, not pickup).
            m.list.choosing_status = true;
            m.list.filtering = true;
            let letters: Vec<String> = STATUS_LETTERS
                .iter()
                .map(|(c, _, name)| format!("{c} {name}"))
                .collect();
            m.note(
                format!("status: {} · Esc: keep", letters.join(" · ")),
                Tone::Info,
            );
            vec![]
        }
        Some(Action::Refresh) => vec![load(m)],
        Some(Action::Confirm) => match m.visible().get(m.list.cursor).map(|p| p.id) {
            Some(id) => {
                m.detail = None;
                m.correction = None;
                m.detail_from = Screen::Packages;
                m.screen = Screen::Detail;
                vec![Effect::LoadPackage(id)]
            }
            None => vec![],
        },
        _ => vec![],
    }
}

/// The letter after `s`: that status; anything else keeps the one shown.
fn choose_status(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    m.list.choosing_status = false;
    m.list.filtering = false;
    m.status = None;
    let chosen = match key.code {
        KeyCode::Char(c) => STATUS_LETTERS
            .iter()
            .find(|(l, _, _)| *l == c.to_ascii_lowercase()),
        _ => None,
    };
    let Some((_, status, _)) = chosen else {
        return vec![];
    };
    m.list.status = status.map(str::to_string);
    m.list.overdue_only = false;
    m.list.status_in_search = !m.list.filter.is_empty();
    reload(m)
}

/// Keys on a package's detail: start a correction, then fill it in (assign searches).
pub(super) fn detail_key(m: &mut Model, key: KeyEvent, action: Option<Action>) -> Vec<Effect> {
    let Some(c) = m.correction.as_mut() else {
        let kind = match action {
            Some(Action::Back) => return super::update::goto(m, m.detail_from),
            Some(Action::Move) => CorrectionKind::Move,
            Some(Action::ReturnToSender) => CorrectionKind::ReturnToSender,
            Some(Action::Lost) => CorrectionKind::Lost,
            Some(Action::Assign) => CorrectionKind::Assign,
            Some(Action::Reassign) => CorrectionKind::Reassign,
            Some(Action::EditFlags) => CorrectionKind::Flags,
            Some(Action::EditNote) => CorrectionKind::Note,
            _ => return vec![],
        };
        if !m.me.role.can_handle_packages() {
            m.note(
                "permission denied: viewers cannot change packages",
                Tone::Error,
            );
        } else if kind == CorrectionKind::Assign
            && m.detail
                .as_ref()
                .is_none_or(|(p, _)| p.recipient_id.is_some())
        {
            m.note(
                "this package already has its recipient (e: reassign)",
                Tone::Warning,
            );
        } else if kind == CorrectionKind::Reassign
            && m.detail
                .as_ref()
                .is_some_and(|(p, _)| p.recipient_id.is_none())
        {
            m.note(
                "this package has no recipient yet (a: assign)",
                Tone::Warning,
            );
        } else if m
            .detail
            .as_ref()
            .is_some_and(|(p, _)| p.status == "waiting")
        {
            let mut c = Correction::new(kind);
            if let Some(h) = m.detail.as_ref().and_then(|(p, _)| p.handling.as_ref()) {
                c.flags = h.flags;
                c.note.set(h.note.as_str());
            }
            let searches = c.searches();
            m.correction = Some(c);
            if searches {
                // Assigning starts from the name the parcel was recorded for, if any.
                let typed = m.detail.as_ref().and_then(|(p, _)| p.addressed_to.clone());
                match typed.filter(|_| kind == CorrectionKind::Assign) {
                    Some(typed) => m.search.query.set(&typed),
                    None => m.search.query.clear(),
                }
                return search(m);
            }
        } else {
            m.note("only waiting packages can be changed", Tone::Warning);
        }
        return vec![];
    };
    if c.saving {
        return vec![];
    }
    if c.searches() {
        return match action {
            Some(Action::Back) => {
                m.correction = None;
                vec![]
            }
            Some(Action::Up | Action::Down) => {
                move_search_cursor(m, action);
                vec![]
            }
            Some(Action::Confirm) => {
                let (Some(found), Some((p, _))) = (m.search.selected(), &m.detail) else {
                    return vec![];
                };
                let fx = if c.kind == CorrectionKind::Reassign {
                    if p.recipient_id == Some(found.recipient.id) {
                        m.note("that is already its recipient", Tone::Warning);
                        return vec![];
                    }
                    vec![Effect::CorrectPackage {
                        id: p.id,
                        edit: Edit {
                            recipient_id: Some(found.recipient.id),
                            ..Edit::default()
                        },
                    }]
                } else {
                    vec![Effect::AssignRecipient {
                        id: p.id,
                        recipient: found.recipient.id,
                    }]
                };
                if let Some(c) = m.correction.as_mut() {
                    c.saving = true;
                }
                fx
            }
            _ => edit_search(m, key),
        };
    }
    if matches!(c.kind, CorrectionKind::Flags | CorrectionKind::Note) {
        return handling_key(m, key, action);
    }
    match action {
        Some(Action::Back) => {
            m.correction = None;
            vec![]
        }
        Some(Action::NextField) if c.kind == CorrectionKind::Move => {
            c.on_reason = !c.on_reason;
            vec![]
        }
        Some(Action::Confirm) if c.kind == CorrectionKind::Move && !c.on_reason => {
            c.on_reason = true;
            vec![]
        }
        Some(Action::Confirm) => {
            let reason = c.reason.text();
            if reason.trim().is_empty() {
                m.note("a reason is required", Tone::Warning);
                return vec![];
            }
            let change = match c.kind {
                CorrectionKind::Move => match Location::new_nonempty(&c.location.text()) {
                    Ok(to) => Change::Move { to },
                    Err(e) => {
                        // The words the server would answer with.
                        m.note(format!("not changed: {e}"), Tone::Error);
                        return vec![];
                    }
                },
                CorrectionKind::ReturnToSender => Change::ReturnToSender,
                CorrectionKind::Lost => Change::Lost,
                CorrectionKind::Assign
                | CorrectionKind::Reassign
                | CorrectionKind::Flags
                | CorrectionKind::Note => return vec![],
            };
            let Some((p, _)) = &m.detail else {
                return vec![];
            };
            c.saving = true;
            vec![Effect::ChangePackage {
                id: p.id,
                change,
                reason,
            }]
        }
        _ => {
            if c.on_reason {
                c.reason.edit(key);
            } else {
                c.location.edit(key);
            }
            vec![]
        }
    }
}

/// Keys while changing the flags (F6-F9 toggle) or the note; Enter saves, Esc cancels.
fn handling_key(m: &mut Model, key: KeyEvent, action: Option<Action>) -> Vec<Effect> {
    let (Some(c), Some((p, _))) = (m.correction.as_mut(), &m.detail) else {
        return vec![];
    };
    let flag = match action {
        Some(Action::Perishable) => Some(Flag::Perishable),
        Some(Action::Oversized) => Some(Flag::Oversized),
        Some(Action::Damaged) => Some(Flag::Damaged),
        Some(Action::Signature) => Some(Flag::Signature),
        _ => None,
    };
    match (action, flag) {
        (Some(Action::Back), _) => {
            m.correction = None;
            vec![]
        }
        (_, Some(flag)) if c.kind == CorrectionKind::Flags => {
            c.flags.toggle(flag);
            vec![]
        }
        (Some(Action::Confirm), _) => {
            let edit = if c.kind == CorrectionKind::Flags {
                Edit {
                    flags: Some(c.flags),
                    ..Edit::default()
                }
            } else {
                match Note::new(&c.note.text()) {
                    Ok(note) => Edit {
                        note: Some(note),
                        ..Edit::default()
                    },
                    Err(e) => {
                        m.note(format!("not changed: {e}"), Tone::Error);
                        return vec![];
                    }
                }
            };
            c.saving = true;
            vec![Effect::CorrectPackage { id: p.id, edit }]
        }
        _ => {
            if c.kind == CorrectionKind::Note {
                c.note.edit(key);
            }
            vec![]
        }
    }
}
