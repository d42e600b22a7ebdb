//! Key bindings as data: `update` looks actions up here and the help overlay lists them.
//! Letter keys act only where no text is being typed; F-keys work everywhere (some thin
//! terminals and scanners leave nothing else).

use super::model::Screen;
use crate::term::input::KeyEvent;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Help,
    Quit,
    Back,
    GoIntake,
    GoPickup,
    GoPackages,
    GoRecipients,
    Up,
    Down,
    Confirm,
    Toggle,
    NextField,
    CycleStatus,
    Refresh,
    InternalId,
    Unmatched,
    Batch,
    Perishable,
    Oversized,
    Damaged,
    Signature,
    Proxy,
    ByRecipient,
    ShowInactive,
    Move,
    ReturnToSender,
    Lost,
    Assign,
    Reassign,
    EditFlags,
    EditNote,
    Save,
    Filter,
    Overdue,
    MarkAll,
    Remind,
    GoAdmin,
    CycleRole,
    ToggleDisabled,
    Lock,
    AdminAdd,
    AdminRemove,
    Retry,
    SetPin,
    SendTest,
    NewRecipient,
    EditRecipient,
    ToggleActive,
    Merge,
    Import,
    GoReports,
    PrevTab,
    Earlier,
    Later,
    Wider,
    Narrower,
    Today,
    Export,
}

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everywhere.
    Global,
    /// Only on screens without a focused text field (the dashboard, lists).
    Browse,
    Screen(Screen),
}

pub struct Binding {
    pub scope: Scope,
    pub key: KeyEvent,
    pub action: Action,
    pub label: &'static str,
    pub help: &'static str,
}

mod bindings;
use Scope as S;
pub use bindings::BINDINGS;

/// The action for a key on a screen. `typing`: a text field has focus, so plain letters
/// are text, not commands.
pub fn lookup(screen: Screen, typing: bool, key: KeyEvent) -> Option<Action> {
    // Screen-specific bindings win over global ones (e.g. Space selects in pickup).
    let applies = |b: &&Binding| match b.scope {
        S::Screen(s) => s == screen,
        S::Browse => !typing,
        S::Global => true,
    };
    // Precedence: this screen's bindings, then browsing keys, then global ones.
    let find = |scope: fn(&Scope) -> bool| {
        BINDINGS
            .iter()
            .filter(applies)
            .filter(|b| scope(&b.scope))
            .find(|b| b.key == key)
    };
    find(|s| matches!(s, S::Screen(_)))
        .or_else(|| find(|s| matches!(s, S::Browse)))
        .or_else(|| find(|s| matches!(s, S::Global)))
        .map(|b| b.action)
}

/// The bindings that apply on a screen, for the help overlay: this screen's own first (a
/// small terminal cuts the list's end), and none that a screen binding of the same key
/// overrides.
pub fn help_for(screen: Screen, typing: bool) -> Vec<&'static Binding> {
    let own = |b: &&Binding| b.scope == S::Screen(screen);
    let mut list: Vec<&'static Binding> = BINDINGS.iter().filter(own).collect();
    list.extend(BINDINGS.iter().filter(|b| {
        let applies = match b.scope {
            S::Screen(_) => false,
            S::Browse => !typing,
            S::Global => true,
        };
        applies && !BINDINGS.iter().filter(own).any(|o| o.key == b.key)
    }));
    list
}

/// Help lines the overlay shows at once in a terminal `rows` high: it keeps a row above
/// and below, and two for its border.
pub fn help_visible(rows: u16) -> usize {
    usize::from(rows.saturating_sub(4))
}

/// How far the help overlay scrolls: the lines that do not fit.
pub fn help_max_scroll(screen: Screen, typing: bool, rows: u16) -> usize {
    help_for(screen, typing)
        .len()
        .saturating_sub(help_visible(rows))
}

#[cfg(test)]
mod tests;
