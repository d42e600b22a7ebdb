//! Key bindings as data: `update` looks actions up here and the help overlay lists them.
//! Letter keys act only where no text is being typed; F-keys work everywhere (some thin
//! terminals and scanners leave nothing else).

use super::model::Screen;
use crate::term::input::{KeyCode, KeyEvent, Mods};

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

const fn k(code: KeyCode) -> KeyEvent {
    KeyEvent {
        code,
        mods: Mods::NONE,
    }
}

const fn ctrl(c: char) -> KeyEvent {
    KeyEvent {
        code: KeyCode::Char(c),
        mods: Mods::CTRL,
    }
}

const fn b(
    scope: Scope,
    key: KeyEvent,
    action: Action,
    label: &'static str,
    help: &'static str,
) -> Binding {
    Binding {
        scope,
        key,
        action,
        label,
        help,
    }
}

use Action as A;
use KeyCode as K;
use Scope as S;

pub const BINDINGS: &[Binding] = &[
    b(S::Global, k(K::F(1)), A::Help, "F1", "help"),
    b(S::Global, ctrl('c'), A::Quit, "Ctrl-C", "quit"),
    b(S::Global, k(K::Esc), A::Back, "Esc", "back / cancel"),
    b(S::Global, k(K::F(2)), A::GoIntake, "F2", "intake"),
    b(S::Global, k(K::F(3)), A::GoPickup, "F3", "pickup"),
    b(S::Global, k(K::F(4)), A::GoPackages, "F4", "packages"),
    b(S::Global, k(K::F(5)), A::GoRecipients, "F5", "recipients"),
    b(S::Global, k(K::Up), A::Up, "↑", "previous"),
    b(S::Global, k(K::Down), A::Down, "↓", "next"),
    b(S::Global, k(K::Enter), A::Confirm, "Enter", "confirm"),
    b(S::Global, k(K::Tab), A::NextField, "Tab", "next field"),
    b(S::Browse, k(K::Char('?')), A::Help, "?", "help"),
    b(
        S::Browse,
        k(K::Char('q')),
        A::Quit,
        "q",
        "quit (asks y/n; a kiosk locks)",
    ),
    b(S::Browse, k(K::Char('i')), A::GoIntake, "i", "intake"),
    b(S::Browse, k(K::Char('p')), A::GoPickup, "p", "pickup"),
    b(S::Browse, k(K::Char('l')), A::GoPackages, "l", "packages"),
    b(
        S::Browse,
        k(K::Char('r')),
        A::GoRecipients,
        "r",
        "recipients",
    ),
    b(S::Browse, k(K::Char('k')), A::Up, "k", "previous"),
    b(S::Browse, k(K::Char('j')), A::Down, "j", "next"),
    b(
        S::Screen(Screen::Packages),
        k(K::Char('s')),
        A::CycleStatus,
        "s",
        "status: then w u p r l a",
    ),
    b(
        S::Screen(Screen::Packages),
        ctrl('r'),
        A::Refresh,
        "Ctrl-R",
        "refresh",
    ),
    b(
        S::Screen(Screen::Intake),
        ctrl('n'),
        A::InternalId,
        "Ctrl-N",
        "no tracking number: internal id",
    ),
    b(
        S::Screen(Screen::Intake),
        ctrl('u'),
        A::Unmatched,
        "Ctrl-U",
        "recipient unknown: unmatched",
    ),
    b(
        S::Screen(Screen::Intake),
        ctrl('b'),
        A::Batch,
        "Ctrl-B",
        "batch: keep recipient",
    ),
    b(
        S::Screen(Screen::Intake),
        k(K::F(6)),
        A::Perishable,
        "F6",
        "perishable",
    ),
    b(
        S::Screen(Screen::Intake),
        k(K::F(7)),
        A::Oversized,
        "F7",
        "oversized",
    ),
    b(
        S::Screen(Screen::Intake),
        k(K::F(8)),
        A::Damaged,
        "F8",
        "damaged",
    ),
    b(
        S::Screen(Screen::Intake),
        k(K::F(9)),
        A::Signature,
        "F9",
        "signature required",
    ),
    b(
        S::Screen(Screen::Pickup),
        k(K::Char(' ')),
        A::Toggle,
        "Space",
        "select package",
    ),
    b(
        S::Screen(Screen::Pickup),
        ctrl('p'),
        A::Proxy,
        "Ctrl-P",
        "collected by a proxy",
    ),
    b(
        S::Screen(Screen::Pickup),
        ctrl('f'),
        A::ByRecipient,
        "Ctrl-F",
        "find by recipient",
    ),
    b(
        S::Screen(Screen::Recipients),
        ctrl('a'),
        A::ShowInactive,
        "Ctrl-A",
        "show inactive",
    ),
    b(
        S::Screen(Screen::Detail),
        k(K::Char('m')),
        A::Move,
        "m",
        "move to another location",
    ),
    b(
        S::Screen(Screen::Detail),
        k(K::Char('t')),
        A::ReturnToSender,
        "t",
        "return to sender",
    ),
    b(
        S::Screen(Screen::Detail),
        k(K::Char('x')),
        A::Lost,
        "x",
        "mark as lost",
    ),
    b(
        S::Screen(Screen::Detail),
        k(K::Char('a')),
        A::Assign,
        "a",
        "assign recipient (unmatched)",
    ),
    b(
        S::Screen(Screen::Detail),
        k(K::Char('e')),
        A::Reassign,
        "e",
        "reassign to another recipient",
    ),
    b(
        S::Screen(Screen::Detail),
        k(K::Char('f')),
        A::EditFlags,
        "f",
        "change the flags (F6-F9)",
    ),
    b(
        S::Screen(Screen::Detail),
        k(K::Char('n')),
        A::EditNote,
        "n",
        "edit the note",
    ),
    b(
        S::Screen(Screen::Detail),
        k(K::F(6)),
        A::Perishable,
        "F6",
        "perishable",
    ),
    b(
        S::Screen(Screen::Detail),
        k(K::F(7)),
        A::Oversized,
        "F7",
        "oversized",
    ),
    b(
        S::Screen(Screen::Detail),
        k(K::F(8)),
        A::Damaged,
        "F8",
        "damaged",
    ),
    b(
        S::Screen(Screen::Detail),
        k(K::F(9)),
        A::Signature,
        "F9",
        "signature required",
    ),
    b(
        S::Screen(Screen::Intake),
        ctrl('s'),
        A::Save,
        "Ctrl-S",
        "save (also from the note)",
    ),
    b(
        S::Screen(Screen::Packages),
        k(K::Char('/')),
        A::Filter,
        "/",
        "filter by text",
    ),
    b(
        S::Screen(Screen::Packages),
        k(K::Char('o')),
        A::Overdue,
        "o",
        "overdue only",
    ),
    b(
        S::Browse,
        k(K::Char('a')),
        A::GoAdmin,
        "a",
        "admin console (admins)",
    ),
    b(
        S::Global,
        k(K::F(10)),
        A::GoAdmin,
        "F10",
        "admin console (admins)",
    ),
    b(
        S::Screen(Screen::Admin),
        k(K::Char('r')),
        A::CycleRole,
        "r",
        "change role",
    ),
    b(
        S::Screen(Screen::Admin),
        k(K::Char('d')),
        A::ToggleDisabled,
        "d",
        "disable / enable",
    ),
    b(
        S::Screen(Screen::Admin),
        k(K::Char('/')),
        A::Filter,
        "/",
        "filter the audit trail",
    ),
    b(
        S::Screen(Screen::Admin),
        ctrl('r'),
        A::Refresh,
        "Ctrl-R",
        "refresh",
    ),
    b(
        S::Screen(Screen::Admin),
        k(K::Char('n')),
        A::AdminAdd,
        "n",
        "new member/webhook, add a key (paste), TOTP",
    ),
    b(
        S::Screen(Screen::Admin),
        k(K::Char('x')),
        A::AdminRemove,
        "x",
        "keys: revoke · TOTP: reset",
    ),
    b(
        S::Screen(Screen::Admin),
        k(K::Char('P')),
        A::SetPin,
        "P",
        "TOTP: set the member's kiosk PIN",
    ),
    b(
        S::Screen(Screen::Admin),
        k(K::Char('t')),
        A::Retry,
        "t",
        "outbox: retry the delivery",
    ),
    b(
        S::Screen(Screen::Admin),
        k(K::Char(' ')),
        A::Toggle,
        "Space",
        "settings: switch on / off",
    ),
    b(
        S::Screen(Screen::Admin),
        ctrl('s'),
        A::Save,
        "Ctrl-S",
        "settings: save",
    ),
    b(
        S::Screen(Screen::Admin),
        ctrl('t'),
        A::SendTest,
        "Ctrl-T",
        "channels: send a test message",
    ),
    b(S::Global, ctrl('l'), A::Lock, "Ctrl-L", "lock the kiosk"),
    b(
        S::Screen(Screen::Recipients),
        ctrl('n'),
        A::NewRecipient,
        "Ctrl-N",
        "new recipient (admins)",
    ),
    b(
        S::Screen(Screen::Recipients),
        ctrl('e'),
        A::EditRecipient,
        "Ctrl-E",
        "edit the selected recipient (admins)",
    ),
    b(
        S::Screen(Screen::Recipients),
        ctrl('d'),
        A::ToggleActive,
        "Ctrl-D",
        "deactivate / reactivate (admins)",
    ),
    b(
        S::Screen(Screen::Recipients),
        ctrl('g'),
        A::Merge,
        "Ctrl-G",
        "merge a duplicate into the selected (admins)",
    ),
    b(
        S::Screen(Screen::Recipients),
        ctrl('p'),
        A::Proxy,
        "Ctrl-P",
        "authorised proxies of the selected (operators, admins)",
    ),
    b(
        S::Screen(Screen::Recipients),
        ctrl('o'),
        A::Import,
        "Ctrl-O",
        "import a pasted CSV (admins)",
    ),
    b(S::Browse, k(K::Char('R')), A::GoReports, "R", "reports"),
    b(
        S::Screen(Screen::Reports),
        k(K::BackTab),
        A::PrevTab,
        "S-Tab",
        "previous report",
    ),
    b(
        S::Screen(Screen::Reports),
        k(K::Char('[')),
        A::Earlier,
        "[",
        "earlier range",
    ),
    b(
        S::Screen(Screen::Reports),
        k(K::Char(']')),
        A::Later,
        "]",
        "later range",
    ),
    b(
        S::Screen(Screen::Reports),
        k(K::Char('+')),
        A::Wider,
        "+",
        "more days",
    ),
    b(
        S::Screen(Screen::Reports),
        k(K::Char('-')),
        A::Narrower,
        "-",
        "fewer days",
    ),
    b(
        S::Screen(Screen::Reports),
        k(K::Char('t')),
        A::Today,
        "t",
        "range ending today",
    ),
    b(
        S::Screen(Screen::Reports),
        ctrl('r'),
        A::Refresh,
        "Ctrl-R",
        "refresh",
    ),
    b(
        S::Screen(Screen::Reports),
        k(K::Char('e')),
        A::Export,
        "e",
        "parcels: export the day as CSV (admins)",
    ),
];

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
