//! `update`: the only place the interface state changes. Pure: no IO, no clock.
//!
//! A router: the keys every screen shares (help, quit, go-to, lock), then each key, paste
//! and answer goes to the room that owns it (`intake`, `pickup`, `packages`, `recipients`,
//! `dashboard`, `admin`, `reports_screen`, `kiosk`).

use super::effect::Effect;
use super::keymap::{self, Action};
use super::model::{IntakeStep, Model, PickupStep, Screen, Tone};
use super::msg::Msg;
use super::{admin, dashboard, intake, kiosk, packages, pickup, recipients, reports_screen};
use crate::term::input::{KeyCode, KeyEvent, Mods};

/// Applies one message and returns the effects to run.
pub fn update(m: &mut Model, msg: Msg) -> Vec<Effect> {
    // A scan or paste is not the answer to "Quit? y/n": the question goes, the input stays.
    if m.confirm_quit && matches!(msg, Msg::Scan(_) | Msg::Paste(_)) {
        m.confirm_quit = false;
        m.status = None;
    }
    match msg {
        Msg::Key(key) => on_key(m, key),
        Msg::Paste(text) => on_paste(m, &text),
        Msg::Scan(text) => super::scan::on_scan(m, &text),
        Msg::Resize { cols, rows } => {
            m.cols = cols;
            m.rows = rows;
            vec![]
        }
        Msg::Tick(now) => {
            m.now = now;
            vec![]
        }
        Msg::TimeZone(tz) => {
            m.tz = tz;
            vec![]
        }
        msg @ (Msg::Stats(_) | Msg::Live { .. }) => dashboard::on_msg(m, msg),
        msg @ Msg::SearchResults { .. } => recipients::on_msg(m, msg),
        Msg::RecipientsAdmin(msg) => recipients::admin::on_msg(m, msg),
        msg @ (Msg::Waiting { .. } | Msg::IntakeDone(_)) => intake::on_msg(m, msg),
        msg @ (Msg::PickupList(_) | Msg::PickupDone(_) | Msg::PickupProxies { .. }) => {
            pickup::on_msg(m, msg)
        }
        msg @ (Msg::Packages(_) | Msg::PackageDetail(_) | Msg::Changed(_)) => {
            packages::on_msg(m, msg)
        }
        msg @ (Msg::Members(_) | Msg::MemberUpdated(_) | Msg::Audit(_) | Msg::Scorecard(_)) => {
            admin::members::on_msg(m, msg)
        }
        Msg::Bulk { action, outcome } => packages::bulk::done(m, action, outcome),
        Msg::Admin(msg) => admin::on_msg(m, msg),
        Msg::Reports { seq, data } => reports_screen::on_loaded(m, seq, data),
        Msg::Day(msg) => reports_screen::day::on_msg(m, msg),
        Msg::Trend(res) => reports_screen::on_trend(m, res),
        Msg::Unlocked(res) => kiosk::on_unlocked(m, res),
        Msg::KioskSettings {
            pin_totp,
            self_service,
        } => kiosk::on_settings(m, pin_totp, self_service),
        Msg::PickupCodeFound(res) => kiosk::on_code_found(m, res),
        Msg::PickupConfirmed(res) => kiosk::on_pickup_confirmed(m, res),
        Msg::Lock => kiosk::lock(m),
    }
}

/// Whether the focused element takes text (letters are text, not commands).
pub fn typing(m: &Model) -> bool {
    match m.screen {
        Screen::Intake => m.intake.step != IntakeStep::ConfirmChecksum,
        Screen::Pickup => m.pickup.step != PickupStep::Select,
        Screen::Recipients => true,
        Screen::Detail => m.correction.is_some(),
        // A bulk action's "y/n" takes the next key, so letters are not commands.
        Screen::Packages => m.list.filtering || m.list.confirm.is_some(),
        Screen::Admin => m.admin.filtering || admin::typing(&m.admin),
        Screen::Dashboard | Screen::Reports => false,
    }
}

fn on_key(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    if m.locked() {
        return kiosk::lock_key(m, key);
    }
    if m.confirm_quit {
        return answer_quit(m, key);
    }
    if m.help {
        return help_key(m, key);
    }
    let action = keymap::lookup(m.screen, typing(m), key);
    match action {
        Some(Action::Help) => {
            m.help = true;
            m.help_scroll = 0;
            return vec![];
        }
        Some(Action::Quit) => return quit(m, key),
        Some(Action::GoIntake) => return goto(m, Screen::Intake),
        Some(Action::GoPickup) => return goto(m, Screen::Pickup),
        Some(Action::GoPackages) => return goto(m, Screen::Packages),
        Some(Action::GoRecipients) => return goto(m, Screen::Recipients),
        Some(Action::GoAdmin) => return goto(m, Screen::Admin),
        Some(Action::GoReports) => return goto(m, Screen::Reports),
        Some(Action::Lock) if m.kiosk.is_some() => return kiosk::lock(m),
        _ => {}
    }
    match m.screen {
        Screen::Admin => admin::on_key(m, key, action),
        Screen::Reports => reports_screen::key(m, key, action),
        Screen::Dashboard => dashboard::on_key(m, action),
        Screen::Intake => intake::on_key(m, key, action),
        Screen::Pickup => pickup::on_key(m, key, action),
        Screen::Packages => packages::list_key(m, key, action),
        Screen::Detail => packages::detail_key(m, key, action),
        Screen::Recipients => recipients::on_key(m, key, action),
    }
}

/// A kiosk never ends its session from the keyboard (the counter terminal would be left
/// dead until someone reconnects it): quitting locks it. Elsewhere Ctrl-C quits at once (a
/// deliberate chord), while `q`, a letter a stray scan or a word typed into the wrong place
/// can bring, asks "Quit? y/n" first, on every screen where it is a command.
fn quit(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    if m.kiosk.is_some() {
        return kiosk::lock(m);
    }
    if key.mods.contains(Mods::CTRL) {
        m.quit = true;
        return vec![Effect::Quit];
    }
    m.confirm_quit = true;
    m.note("Quit? y/n", Tone::Warning);
    vec![]
}

/// The answer to "Quit? y/n": `y` quits; any other key keeps the session and is dropped.
fn answer_quit(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    m.confirm_quit = false;
    m.status = None;
    if matches!(key.code, KeyCode::Char('y' | 'Y')) || key == CTRL_C {
        m.quit = true;
        return vec![Effect::Quit];
    }
    vec![]
}

const CTRL_C: KeyEvent = KeyEvent {
    code: KeyCode::Char('c'),
    mods: Mods::CTRL,
};

/// Keys while the help overlay shows: arrows and pages scroll it, any other key closes it.
fn help_key(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    let max = keymap::help_max_scroll(m.screen, typing(m), m.rows);
    let page = keymap::help_visible(m.rows).max(1);
    match key.code {
        KeyCode::Up => m.help_scroll = m.help_scroll.saturating_sub(1),
        KeyCode::Down => m.help_scroll = (m.help_scroll + 1).min(max),
        KeyCode::PageUp => m.help_scroll = m.help_scroll.saturating_sub(page),
        KeyCode::PageDown => m.help_scroll = (m.help_scroll + page).min(max),
        KeyCode::Home => m.help_scroll = 0,
        KeyCode::End => m.help_scroll = max,
        _ => {
            m.help = false;
            m.help_scroll = 0;
        }
    }
    vec![]
}

fn on_paste(m: &mut Model, text: &str) -> Vec<Effect> {
    if !typing(m) {
        return vec![];
    }
    // A scanner in paste mode sends the number and a newline: treat it like typing + Enter.
    let first = text.lines().next().unwrap_or("");
    let enter = text.contains('\n');
    match m.screen {
        Screen::Intake => intake::on_paste(m, first, enter),
        Screen::Pickup => pickup::on_paste(m, first, enter),
        Screen::Recipients => recipients::on_paste(m, text),
        Screen::Admin if !m.admin.filtering => admin::on_paste(m, text),
        _ => vec![],
    }
}

/// Goes to a screen if this member may (viewers do not record or hand over; the console is
/// for admins in their own session), and lets the screen load what it shows.
pub(crate) fn goto(m: &mut Model, screen: Screen) -> Vec<Effect> {
    if matches!(screen, Screen::Intake | Screen::Pickup) && !m.me.role.can_handle_packages() {
        m.note(
            "permission denied: viewers can look, not record or hand over packages",
            Tone::Error,
        );
        return vec![];
    }
    if screen == Screen::Admin && m.kiosk.is_some() {
        m.note(
            "the admin console is not available on a kiosk; use your own session",
            Tone::Error,
        );
        return vec![];
    }
    if screen == Screen::Admin && !m.me.role.can_administer() {
        m.note(
            "permission denied: the admin console is for admins",
            Tone::Error,
        );
        return vec![];
    }
    m.help = false;
    m.status = None;
    m.screen = screen;
    match screen {
        Screen::Admin => admin::load(m),
        Screen::Dashboard => vec![Effect::LoadStats],
        Screen::Intake => intake::enter(m),
        Screen::Pickup => pickup::enter(m),
        Screen::Packages => packages::enter(m),
        Screen::Recipients => recipients::search(m),
        Screen::Detail => vec![],
        Screen::Reports => reports_screen::enter(m),
    }
}
