//! The recipients CSV import (admins): paste (in parts; a repeated header is dropped), the
//! columns step when the header is not the plain one (which column fills which field,
//! changeable with ←/→), a per-row preview of what would be added, updated, rejected and,
//! when switched on (Ctrl-D), deactivated as moved out, then one transaction with its
//! progress and a summary. Nothing is written before the admin confirms the preview; a
//! move-out of more than a fifth of the roster needs Ctrl-Y as well.

use super::admin::{AdminEffect, AdminMsg, Mode};
use crate::admin::import::{
    Columns, Counts, HEADER, ImportOptions, Plan, Refusal, TARGETS, read_header,
};
use crate::app::effect::Effect;
use crate::app::failure::Failure;
use crate::app::keymap::Action;
use crate::app::model::{Model, Tone};
use crate::term::input::{KeyCode, KeyEvent, Mods, PASTE_CAP};

#[derive(Debug, Clone)]
pub enum ImportStep {
    /// Collecting pasted CSV.
    Paste,
    /// Which column fills which field (`ImportState::columns`), and the move-outs switch.
    Columns,
    /// Waiting for the preview.
    Planning,
    /// Boxed: a plan is large, and the other steps are small.
    Preview(Box<Plan>),
    Applying {
        planned: Counts,
        done: usize,
        total: usize,
    },
    Done(Result<Counts, Failure>),
}

#[derive(Debug, Clone)]
pub struct ImportState {
    /// The CSV pasted so far (pastes append; a repeated header is dropped).
    pub text: String,
    pub lines: usize,
    pub pastes: usize,
    /// Set when a paste hit the per-paste limit: what was kept and where to go on.
    pub cut: Option<String>,
    pub step: ImportStep,
    /// First rejection shown in the preview (scrolls).
    pub scroll: usize,
    /// Why the last preview could not be made (header, size).
    pub error: Option<String>,
    /// The columns chosen; `None` until the columns step opens (the plain header skips it).
    pub columns: Option<Columns>,
    /// The field the columns step's cursor is on (an index into `TARGETS`).
    pub field: usize,
    /// Deactivate active residents missing from the file (Ctrl-D).
    pub deactivate_missing: bool,
}

impl Default for ImportState {
    fn default() -> Self {
        Self {
            text: String::new(),
            lines: 0,
            pastes: 0,
            cut: None,
            step: ImportStep::Paste,
            scroll: 0,
            error: None,
            columns: None,
            field: 0,
            deactivate_missing: false,
        }
    }
}

/// What the console tells the admin to do to confirm a mass deactivation.
pub const CONFIRM_MASS: &str = "press Ctrl-Y to confirm";

/// Keys while the import is open, by step.
pub(super) fn on_key(m: &mut Model, key: KeyEvent, action: Option<Action>) -> Vec<Effect> {
    let Mode::Import(state) = &mut m.recipients_admin.mode else {
        return vec![];
    };
    let ctrl = |c: char| key.code == KeyCode::Char(c) && key.mods.contains(Mods::CTRL);
    let clear = ctrl('u');
    if clear
        && matches!(
            state.step,
            ImportStep::Paste | ImportStep::Columns | ImportStep::Preview(_)
        )
    {
        *state = ImportState::default();
        m.status = None;
        return vec![];
    }
    match &mut state.step {
        ImportStep::Paste => match action {
            Some(Action::Back) => cancel_import(m),
            Some(Action::Confirm) => {
                if state.text.trim().is_empty() {
                    m.note("paste the CSV first (with its header line)", Tone::Warning);
                    return vec![];
                }
                let header = match read_header(state.text.as_bytes()) {
                    Ok(h) => h,
                    Err(e) => {
                        state.error = Some(e.clone());
                        m.note(format!("cannot import: {e}"), Tone::Error);
                        return vec![];
                    }
                };
                let columns = Columns::guess(&header);
                state.error = None;
                if columns.is_plain() {
                    // The plain header needs no columns step (Tab in the preview opens it).
                    return plan_effect(m);
                }
                // Start on the first field that has no column, else at the top.
                state.field = TARGETS
                    .iter()
                    .position(|t| columns.column(*t).is_none() && is_required(&columns, *t))
                    .unwrap_or(0);
                state.columns = Some(columns);
                state.step = ImportStep::Columns;
                m.note(
                    "check the columns: ↑/↓ field, ←/→ column, Enter previews",
                    Tone::Info,
                );
                vec![]
            }
            _ => vec![],
        },
        ImportStep::Columns => {
            let Some(columns) = &mut state.columns else {
                return vec![];
            };
            match (action, key.code) {
                (Some(Action::Back), _) => cancel_import(m),
                (Some(Action::Up), _) => {
                    state.field = state.field.saturating_sub(1);
                    vec![]
                }
                (Some(Action::Down), _) => {
                    state.field = (state.field + 1).min(TARGETS.len() - 1);
                    vec![]
                }
                (_, KeyCode::Left | KeyCode::Right) => {
                    let t = TARGETS[state.field];
                    // The choices in a ring: no column, then each column in file order.
                    let n = columns.names.len() + 1;
                    let now = columns.column(t).map_or(0, |c| c + 1);
                    let next = if key.code == KeyCode::Right {
                        (now + 1) % n
                    } else {
                        (now + n - 1) % n
                    };
                    columns.set(t, next.checked_sub(1));
                    vec![]
                }
                _ if ctrl('d') => {
                    state.deactivate_missing = !state.deactivate_missing;
                    vec![]
                }
                (Some(Action::Confirm), _) => match columns.check() {
                    Err(missing) => {
                        m.note(
                            format!("choose a column for the {missing} (←/→)"),
                            Tone::Warning,
                        );
                        vec![]
                    }
                    Ok(()) => plan_effect(m),
                },
                _ => vec![],
            }
        }
        ImportStep::Planning => match action {
            Some(Action::Back) => cancel_import(m),
            _ => vec![],
        },
        ImportStep::Preview(plan) => match action {
            Some(Action::Back) => cancel_import(m),
            Some(Action::Up) => {
                state.scroll = state.scroll.saturating_sub(1);
                vec![]
            }
            Some(Action::Down) => {
                state.scroll = (state.scroll + 1).min(plan.entries_len().saturating_sub(1));
                vec![]
            }
            Some(Action::NextField) => {
                // Back to the columns (from the header again when the plain one skipped them).
                if state.columns.is_none() {
                    let header = read_header(state.text.as_bytes()).unwrap_or_default();
                    state.columns = Some(Columns::guess(&header));
                }
                state.step = ImportStep::Columns;
                m.note(
                    "nothing written; Enter previews again with these columns",
                    Tone::Info,
                );
                vec![]
            }
            _ if ctrl('d') => {
                let on = !plan.move_outs.requested;
                plan.move_outs.requested = on;
                plan.move_outs.allow_mass = false;
                state.deactivate_missing = on;
                state.scroll = state.scroll.min(plan.entries_len().saturating_sub(1));
                m.status = None;
                vec![]
            }
            _ if ctrl('y') => {
                let mo = &mut plan.move_outs;
                if mo.requested && mo.is_mass() && mo.unreadable.is_empty() {
                    mo.allow_mass = !mo.allow_mass;
                    if mo.allow_mass {
                        let n = mo.deactivate.len();
                        m.note(
                            format!(
                                "confirmed: Enter deactivates {n} residents missing from the file"
                            ),
                            Tone::Warning,
                        );
                    } else {
                        m.status = None;
                    }
                }
                vec![]
            }
            Some(Action::Confirm) => {
                if plan.rows.is_empty() {
                    m.note(
                        "no valid rows to import; Ctrl-U starts over, Esc cancels",
                        Tone::Warning,
                    );
                    return vec![];
                }
                if let Some(refusal) = plan.move_outs.refusal() {
                    // One status line; the preview above says it in full.
                    let text = match refusal {
                        Refusal::Mass { missing, active } => format!(
                            "{missing} of {active} residents would move out: Ctrl-Y confirms, \
                             Ctrl-D turns move-outs off"
                        ),
                        Refusal::Unreadable(_) => "lines that cannot be read: fix the file, or \
                                                   Ctrl-D turns move-outs off"
                            .into(),
                    };
                    m.note(text, Tone::Error);
                    return vec![];
                }
                let plan = *std::mem::take(plan);
                let planned = plan.counts();
                state.step = ImportStep::Applying {
                    planned,
                    done: 0,
                    total: plan.rows.len(),
                };
                m.note("importing…", Tone::Info);
                vec![AdminEffect::ApplyImport(plan).into()]
            }
            _ => vec![],
        },
        ImportStep::Applying { .. } => {
            if action == Some(Action::Back) {
                m.note(
                    "the import is being written as one transaction; it cannot be stopped halfway",
                    Tone::Warning,
                );
            }
            vec![]
        }
        ImportStep::Done(_) => match action {
            Some(Action::Back | Action::Confirm) => {
                m.recipients_admin.mode = Mode::Browse;
                m.status = None;
                super::search(m)
            }
            _ => vec![],
        },
    }
}

/// A field the import cannot do without: the unit, and a name (one column, or first and
/// last).
fn is_required(c: &Columns, t: crate::admin::import::Target) -> bool {
    use crate::admin::import::Target as T;
    match t {
        T::Unit => true,
        T::Name => [T::First, T::Last].iter().all(|x| c.column(*x).is_none()),
        _ => false,
    }
}

/// Asks for the preview with the columns as chosen (the guess for the plain header).
fn plan_effect(m: &mut Model) -> Vec<Effect> {
    let Mode::Import(state) = &mut m.recipients_admin.mode else {
        return vec![];
    };
    let options = ImportOptions {
        map: state
            .columns
            .as_ref()
            .map(Columns::to_map)
            .unwrap_or_default(),
        deactivate_missing: state.deactivate_missing,
        allow_mass_deactivate: false,
    };
    state.step = ImportStep::Planning;
    state.error = None;
    m.status = None;
    vec![
        AdminEffect::PlanImport {
            csv: state.text.clone(),
            options,
        }
        .into(),
    ]
}

fn cancel_import(m: &mut Model) -> Vec<Effect> {
    m.recipients_admin.mode = Mode::Browse;
    m.note("import cancelled; nothing written", Tone::Info);
    vec![]
}

/// Appends one paste to the import text. A paste that reached the input limit was cut:
/// its last, maybe partial, line is dropped (a cut line could look valid and be wrong) and
/// the admin is told where to go on. A header repeated at the top of a later paste is
/// dropped, so a long file can be pasted in parts.
pub(super) fn add_paste(state: &mut ImportState, text: &str) -> Option<(String, Tone)> {
    let limit = crate::config::MAX_IMPORT_BYTES as usize;
    let mut text = text;
    let cut = text.len() + 4 >= PASTE_CAP;
    let mut dropped = "";
    if cut {
        match text.rfind('\n') {
            Some(i) => {
                dropped = &text[i + 1..];
                text = &text[..=i];
            }
            None => {
                return Some((
                    "the paste is one line longer than a paste can be; nothing kept".into(),
                    Tone::Error,
                ));
            }
        }
    }
    if state.pastes > 0
        && let Some(first) = text.lines().next()
        && (is_header(first) || same_line(first, state.text.lines().next().unwrap_or("")))
    {
        text = text.split_once('\n').map_or("", |(_, rest)| rest);
    }
    if state.text.len() + text.len() > limit {
        return Some((
            format!(
                "the import would exceed {} MiB; import what you pasted, then the rest",
                limit / (1024 * 1024)
            ),
            Tone::Error,
        ));
    }
    if !state.text.is_empty() && !state.text.ends_with('\n') {
        state.text.push('\n');
    }
    state.text.push_str(text);
    state.pastes += 1;
    state.lines = state.text.lines().count();
    state.error = None;
    if cut {
        let next: String = dropped.chars().take(40).collect();
        let msg = format!(
            "a paste holds at most {} KiB: kept {} lines; paste the rest next, from `{next}`",
            PASTE_CAP / 1024,
            state.lines
        );
        state.cut = Some(msg.clone());
        Some((msg, Tone::Warning))
    } else {
        state.cut = None;
        None
    }
}

fn is_header(line: &str) -> bool {
    let cols: Vec<String> = line
        .trim_start_matches('\u{feff}')
        .split(',')
        .map(|c| c.trim().to_lowercase())
        .collect();
    cols == HEADER
}

/// A later paste's first line repeating the first paste's header (an export's own header).
fn same_line(a: &str, b: &str) -> bool {
    let clean = |s: &str| s.trim_start_matches('\u{feff}').trim().to_lowercase();
    !b.trim().is_empty() && clean(a) == clean(b)
}

/// The import's answers: the preview, progress, and the outcome.
pub(super) fn on_msg(m: &mut Model, msg: AdminMsg) -> Vec<Effect> {
    match msg {
        AdminMsg::ImportPlan(res) => {
            if let Mode::Import(state) = &mut m.recipients_admin.mode
                && matches!(state.step, ImportStep::Planning)
            {
                match res {
                    Ok(plan) => {
                        state.scroll = 0;
                        state.step = ImportStep::Preview(Box::new(plan));
                        m.note(
                            "nothing written yet: Enter imports, Esc cancels",
                            Tone::Info,
                        );
                    }
                    Err(e) => {
                        // Back where the choice was made: the columns, else the paste.
                        state.step = if state.columns.is_some() {
                            ImportStep::Columns
                        } else {
                            ImportStep::Paste
                        };
                        state.error = Some(e.text.clone());
                        m.note(format!("cannot import: {e}"), Tone::Error);
                    }
                }
            }
            vec![]
        }
        AdminMsg::ImportProgress { done: d, total: t } => {
            if let Mode::Import(ImportState {
                step: ImportStep::Applying { done, total, .. },
                ..
            }) = &mut m.recipients_admin.mode
            {
                *done = d.max(*done);
                *total = t;
            }
            vec![]
        }
        AdminMsg::ImportDone(res) => {
            if let Mode::Import(state) = &mut m.recipients_admin.mode {
                let (text, tone) = match &res {
                    Ok(c) => (format!("imported: {c}"), Tone::Success),
                    Err(e) => (format!("import failed, nothing written: {e}"), Tone::Error),
                };
                state.step = ImportStep::Done(res);
                m.note(text, tone);
            }
            vec![]
        }
        _ => vec![],
    }
}

#[cfg(test)]
mod tests;
