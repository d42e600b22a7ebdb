//! The recipients CSV import (admins): paste (in parts; a repeated header is dropped), a
//! preview of what would be added, updated and rejected, then one transaction with its
//! progress and a summary. Nothing is written before the admin confirms the preview.

use super::admin::{AdminEffect, AdminMsg, Mode};
use crate::admin::import::{Counts, HEADER, Plan};
use crate::app::effect::Effect;
use crate::app::failure::Failure;
use crate::app::keymap::Action;
use crate::app::model::{Model, Tone};
use crate::term::input::{KeyCode, KeyEvent, Mods, PASTE_CAP};

#[derive(Debug, Clone)]
pub enum ImportStep {
    /// Collecting pasted CSV.
    Paste,
    /// Waiting for the preview.
    Planning,
    Preview(Plan),
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
        }
    }
}

/// Keys while the import is open, by step.
pub(super) fn on_key(m: &mut Model, key: KeyEvent, action: Option<Action>) -> Vec<Effect> {
    let Mode::Import(state) = &mut m.recipients_admin.mode else {
        return vec![];
    };
    let clear = key.code == KeyCode::Char('u') && key.mods.contains(Mods::CTRL);
    match &mut state.step {
        ImportStep::Paste => match action {
            Some(Action::Back) => cancel_import(m),
            Some(Action::Confirm) => {
                if state.text.trim().is_empty() {
                    m.note("paste the CSV first (with its header line)", Tone::Warning);
                    return vec![];
                }
                state.step = ImportStep::Planning;
                state.error = None;
                m.status = None;
                vec![AdminEffect::PlanImport(state.text.clone()).into()]
            }
            _ if clear => {
                *state = ImportState::default();
                m.status = None;
                vec![]
            }
            _ => vec![],
        },
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
                state.scroll = (state.scroll + 1).min(plan.rejected.len().saturating_sub(1));
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
                let plan = std::mem::take(plan);
                let planned = plan.counts();
                state.step = ImportStep::Applying {
                    planned,
                    done: 0,
                    total: plan.rows.len(),
                };
                m.note("importing…", Tone::Info);
                vec![AdminEffect::ApplyImport(plan).into()]
            }
            _ if clear => {
                *state = ImportState::default();
                m.status = None;
                vec![]
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
        && is_header(first)
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
                        state.step = ImportStep::Preview(plan);
                        m.note(
                            "nothing written yet: Enter imports, Esc cancels",
                            Tone::Info,
                        );
                    }
                    Err(e) => {
                        state.step = ImportStep::Paste;
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
