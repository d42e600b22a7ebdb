//! Marks on the package list and the bulk actions on them: Space marks the parcel under the
//! cursor, `*` marks every waiting parcel shown (again: clears), `n` reminds the marked
//! parcels' residents, `t` returns the marked parcels to sender. Each action asks once
//! ("…? y/n"); any other key, or a scan, keeps everything as it was. Only waiting parcels
//! can be marked (the server skips any that stopped waiting since, and says so).
//!
//! A scan never reaches these keys: it arrives as one `Msg::Scan` (see `app::scan`), so a
//! tracking number full of letters and spaces cannot mark, remind or return anything.

use super::super::effect::Effect;
use super::super::failure::Failure;
use super::super::keymap::Action;
use super::super::model::{Model, Tone};
use crate::db::packages::BulkOutcome;
use crate::domain::limits::BULK_MAX;
use crate::ops::Bulk;
use crate::term::input::{KeyCode, KeyEvent};

/// The list's keys for marks and bulk actions; `None`: not one of them.
pub(in crate::app) fn key(m: &mut Model, action: Option<Action>) -> Option<Vec<Effect>> {
    let action = action?;
    if !matches!(
        action,
        Action::Toggle | Action::MarkAll | Action::Remind | Action::ReturnToSender
    ) {
        return None;
    }
    if !m.me.role.can_handle_packages() {
        m.note(
            "permission denied: viewers cannot change packages",
            Tone::Error,
        );
        return Some(vec![]);
    }
    if m.list.bulk_running {
        m.note("still working on the last bulk action", Tone::Info);
        return Some(vec![]);
    }
    match action {
        Action::Toggle => toggle(m),
        Action::MarkAll => mark_all(m),
        Action::Remind => ask(m, Bulk::Remind),
        _ => ask(m, Bulk::ReturnToSender),
    }
    Some(vec![])
}

fn toggle(m: &mut Model) {
    let Some((id, waiting)) = m
        .visible()
        .get(m.list.cursor)
        .map(|p| (p.id, p.status == "waiting"))
    else {
        return;
    };
    if m.list.marks.remove(&id) {
        // Unmarked.
    } else if !waiting {
        m.note("only waiting parcels can be marked", Tone::Warning);
    } else if m.list.marks.len() >= BULK_MAX {
        m.note(
            format!("at most {BULK_MAX} parcels at a time"),
            Tone::Warning,
        );
    } else {
        m.list.marks.insert(id);
    }
    // Down to the next row, as a file manager does: Space, Space, Space marks three.
    let n = m.visible().len();
    m.list.cursor = (m.list.cursor + 1).min(n.saturating_sub(1));
}

/// Marks every waiting parcel shown; when they all are already, clears every mark.
fn mark_all(m: &mut Model) {
    let shown: Vec<i64> = m
        .visible()
        .iter()
        .filter(|p| p.status == "waiting")
        .map(|p| p.id)
        .collect();
    if !shown.is_empty() && shown.iter().all(|id| m.list.marks.contains(id)) {
        m.list.marks.clear();
        return;
    }
    for id in shown {
        if m.list.marks.len() >= BULK_MAX {
            m.note(
                format!("marked the first {BULK_MAX}: at most {BULK_MAX} parcels at a time"),
                Tone::Warning,
            );
            break;
        }
        m.list.marks.insert(id);
    }
}

/// Asks before a bulk action, with how many it touches.
fn ask(m: &mut Model, action: Bulk) {
    let marked: Vec<_> = m
        .list
        .rows
        .iter()
        .filter(|p| m.list.marks.contains(&p.id))
        .collect();
    if marked.is_empty() {
        m.note(
            "mark parcels first: Space marks, * marks all shown",
            Tone::Warning,
        );
        return;
    }
    let question = match action {
        Bulk::Remind => {
            let mut residents: Vec<i64> = marked.iter().filter_map(|p| p.recipient_id).collect();
            residents.sort_unstable();
            residents.dedup();
            if residents.is_empty() {
                m.note(
                    "none of the marked parcels has a resident to remind",
                    Tone::Warning,
                );
                return;
            }
            format!(
                "Remind {} resident{} ({} parcel{})? y/n",
                residents.len(),
                plural(residents.len()),
                marked.len(),
                plural(marked.len())
            )
        }
        Bulk::ReturnToSender => format!(
            "Return {} parcel{} to sender (no undo on this screen)? y/n",
            marked.len(),
            plural(marked.len())
        ),
    };
    m.list.confirm = Some(action);
    m.note(question, Tone::Warning);
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The answer to the question: `y` runs the action on the marked parcels; any other key
/// drops the question and keeps the marks.
pub(in crate::app) fn answer(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    let Some(action) = m.list.confirm.take() else {
        return vec![];
    };
    if !matches!(key.code, KeyCode::Char('y' | 'Y')) {
        m.note("nothing changed", Tone::Info);
        return vec![];
    }
    let ids: Vec<i64> = m
        .list
        .rows
        .iter()
        .filter(|p| m.list.marks.contains(&p.id))
        .map(|p| p.id)
        .collect();
    m.list.bulk_running = true;
    m.note(
        match action {
            Bulk::Remind => "queueing reminders…",
            Bulk::ReturnToSender => "returning to sender…",
        },
        Tone::Info,
    );
    vec![Effect::Bulk { action, ids }]
}

/// The server's answer: the marks go and the list reloads; a failure keeps the marks.
pub(in crate::app) fn done(
    m: &mut Model,
    action: Bulk,
    res: Result<BulkOutcome, Failure>,
) -> Vec<Effect> {
    m.list.bulk_running = false;
    let out = match res {
        Ok(out) => out,
        Err(e) => {
            m.note(format!("nothing changed: {e}"), Tone::Error);
            return vec![];
        }
    };
    m.list.marks.clear();
    let mut line = match action {
        Bulk::Remind => format!(
            "{} reminded the residents of {} parcel{} ({} message{} queued)",
            m.me.login,
            out.done,
            plural(out.done as usize),
            out.queued,
            plural(out.queued as usize)
        ),
        Bulk::ReturnToSender => format!(
            "{} returned {} parcel{} to sender",
            m.me.login,
            out.done,
            plural(out.done as usize)
        ),
    };
    if out.not_waiting > 0 {
        line.push_str(&format!(
            " · {} skipped: no longer waiting",
            out.not_waiting
        ));
    }
    if out.unmatched > 0 {
        line.push_str(&format!(" · {} skipped: no resident", out.unmatched));
    }
    let tone = if out.not_waiting + out.unmatched > 0 {
        Tone::Warning
    } else {
        Tone::Success
    };
    m.note(line.clone(), tone);
    m.log_activity(line);
    m.list.loading = true;
    vec![super::load(m)]
}
