//! The package list (status cycle, text and overdue filters) and a package's detail with
//! its history and corrections (assign, move, return to sender, lost; and of a waiting
//! parcel: reassign, flags, note).

use super::effect::Effect;
use super::failure::Failure;
use super::keymap::Action;
use super::model::{Model, Screen, Tone};
use super::msg::Msg;
use super::recipients::{edit_search, move_search_cursor, search};
use super::text::TextField;
use crate::db::packages::{Change, Edit, Package};
use crate::domain::limits::{LOCATION_MAX, NOTE_MAX};
use crate::domain::{Flag, Flags, Location, Note};
use crate::term::input::KeyEvent;

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
    /// `None`: every status.
    pub status: Option<String>,
    pub rows: Vec<Package>,
    /// Index into [`Model::visible`].
    pub cursor: usize,
    pub loading: bool,
    /// Narrows the loaded rows: tracking, carrier, recipient or location contain it.
    pub filter: TextField,
    pub filtering: bool,
    pub overdue_only: bool,
}

impl Default for PackageList {
    fn default() -> Self {
        Self {
            status: None,
            rows: Vec::new(),
            cursor: 0,
            loading: false,
            filter: TextField::new(40),
            filtering: false,
            overdue_only: false,
        }
    }
}

/// Entering the list loads it.
pub(super) fn enter(m: &mut Model) -> Vec<Effect> {
    m.list.loading = true;
    vec![Effect::LoadPackages {
        status: m.list.status.clone(),
    }]
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
        Msg::Packages(Ok(rows)) => {
            m.list.loading = false;
            m.list.cursor = m.list.cursor.min(rows.len().saturating_sub(1));
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

/// Keys on the package list: filter, overdue only, status cycle, open a package.
pub(super) fn list_key(m: &mut Model, key: KeyEvent, action: Option<Action>) -> Vec<Effect> {
    if m.list.filtering {
        match action {
            Some(Action::Back) => {
                m.list.filter.clear();
                m.list.filtering = false;
            }
            Some(Action::Confirm) => m.list.filtering = false,
            _ => {
                if m.list.filter.edit(key) {
                    m.list.cursor = 0;
                }
            }
        }
        return vec![];
    }
    let n = m.visible().len();
    match action {
        Some(Action::Filter) => {
            m.list.filtering = true;
            vec![]
        }
        Some(Action::Overdue) => {
            m.list.overdue_only = !m.list.overdue_only;
            m.list.cursor = 0;
            vec![]
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
            // waiting → unmatched → picked up → returned → lost → all → waiting
            const CYCLE: [&str; 5] = ["waiting", "unmatched", "picked_up", "returned", "lost"];
            let next = match m.list.status.as_deref() {
                None => Some(CYCLE[0]),
                Some(s) => CYCLE
                    .iter()
                    .position(|x| *x == s)
                    .and_then(|i| CYCLE.get(i + 1))
                    .copied(),
            };
            m.list.status = next.map(str::to_string);
            m.list.cursor = 0;
            m.list.loading = true;
            vec![Effect::LoadPackages {
                status: m.list.status.clone(),
            }]
        }
        Some(Action::Refresh) => vec![Effect::LoadPackages {
            status: m.list.status.clone(),
        }],
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
                m.search.query.clear();
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
