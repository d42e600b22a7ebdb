//! `update`: the only place the interface state changes. Pure: no IO, no clock.

use super::effect::Effect;
use super::event_state::Consumed;
use super::keymap::{self, Action};
use super::model::{
    AdminTab, Chosen, Correction, CorrectionKind, IntakeStep, Model, PickupStep, Screen, Tone,
};
use super::msg::Msg;
use crate::db::packages::{Change, Handover};
use crate::domain::Role;
use crate::label::Checksum;
use crate::ops::{IntakeRequest, normalize_tracking};
use crate::term::input::{KeyCode, KeyEvent, Mods};

/// Results shown per search.
pub const SEARCH_LIMIT: usize = 50;

/// Applies one message and returns the effects to run.
pub fn update(m: &mut Model, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(key) => on_key(m, key),
        Msg::Paste(text) => on_paste(m, &text),
        Msg::RecipientsAdmin(msg) => super::recipients_admin::on_msg(m, msg),
        Msg::Resize { cols, rows } => {
            m.cols = cols;
            m.rows = rows;
            vec![]
        }
        Msg::Tick(now) => {
            m.now = now;
            vec![]
        }
        Msg::Stats(Ok(s)) => {
            m.overdue_days = s.overdue_days;
            if let Ok(tz) = s.time_zone.parse() {
                m.tz = tz;
            }
            if !s.recent.is_empty() {
                m.activity = s.recent.iter().map(|e| activity_line(e, m.tz)).collect();
            }
            m.stats = Some(s);
            // The sparkline comes with the counts, at most once a minute.
            if m.trend.stale(m.now) {
                m.trend.at = Some(m.now);
                vec![Effect::LoadTrend]
            } else {
                vec![]
            }
        }
        Msg::Stats(Err(e)) | Msg::Packages(Err(e)) | Msg::PackageDetail(Err(e)) => {
            m.list.loading = false;
            m.note(e, Tone::Error);
            vec![]
        }
        Msg::SearchResults { seq, found } => {
            // Answers to older keystrokes arrive late or never; only the newest counts.
            if seq == m.search.seq {
                match found {
                    Ok(found) => {
                        m.search.results = found;
                        m.search.cursor = 0;
                    }
                    Err(e) => m.note(e, Tone::Error),
                }
            }
            vec![]
        }
        Msg::Waiting { seq, package } => {
            if seq == m.intake.check_seq
                && let Some(p) = package
            {
                m.note(
                    format!(
                        "{} is already waiting (#{}, {}): opened it; nothing recorded twice",
                        p.tracking,
                        p.id,
                        p.recipient_name.as_deref().unwrap_or("unmatched")
                    ),
                    Tone::Warning,
                );
                reset_scan(m);
                m.detail_from = Screen::Intake;
                m.screen = Screen::Detail;
                return vec![Effect::LoadPackage(p.id)];
            }
            vec![]
        }
        Msg::IntakeDone(res) => on_intake_done(m, res),
        Msg::PickupList(res) => {
            match res {
                Ok(list) if list.is_empty() => {
                    m.note("no waiting packages for that recipient", Tone::Warning);
                }
                Ok(list) => {
                    let name = list
                        .iter()
                        .find_map(|p| p.recipient_name.clone())
                        .unwrap_or_default();
                    m.pickup.selected = vec![true; list.len()];
                    m.pickup.packages = list;
                    m.pickup.cursor = 0;
                    m.pickup.receiver.set(&name);
                    m.pickup.step = PickupStep::Select;
                    m.screen = Screen::Pickup;
                }
                Err(e) => m.note(e, Tone::Error),
            }
            vec![]
        }
        Msg::PickupDone(res) => {
            m.pickup.committing = false;
            match res {
                Ok(done) => {
                    let name = m.pickup.receiver.text();
                    let line = format!(
                        "{} handed over {} package{} to {name}",
                        m.me.login,
                        done.len(),
                        if done.len() == 1 { "" } else { "s" }
                    );
                    m.note(line.clone(), Tone::Success);
                    m.log_activity(line);
                    m.pickup = Default::default();
                    stats_if_shown(m)
                }
                Err(e) => {
                    m.note(format!("pickup not recorded: {e}"), Tone::Error);
                    vec![]
                }
            }
        }
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
        Msg::Reports { seq, data } => super::reports_screen::on_loaded(m, seq, data),
        Msg::Trend(res) => super::reports_screen::on_trend(m, res),
        Msg::Unlocked(res) => super::kiosk::on_unlocked(m, res),
        Msg::KioskSettings {
            pin_totp,
            self_service,
        } => super::kiosk::on_settings(m, pin_totp, self_service),
        Msg::PickupCodeFound(res) => super::kiosk::on_code_found(m, res),
        Msg::PickupConfirmed(res) => super::kiosk::on_pickup_confirmed(m, res),
        Msg::Lock => lock(m),
        Msg::TimeZone(tz) => {
            m.tz = tz;
            vec![]
        }
        Msg::Members(res) => {
            match res {
                Ok(list) => {
                    m.admin.cursor = m.admin.cursor.min(list.len().saturating_sub(1));
                    m.admin.members = list;
                }
                Err(e) => m.note(e, Tone::Error),
            }
            vec![]
        }
        Msg::MemberUpdated(res) => match res {
            Ok(()) => {
                m.note(
                    "saved; the member's open sessions follow at once",
                    Tone::Success,
                );
                vec![Effect::LoadMembers]
            }
            Err(e) => {
                m.note(format!("not changed: {e}"), Tone::Error);
                vec![]
            }
        },
        Msg::Audit(res) => {
            match res {
                Ok(rows) => m.admin.audit = rows,
                Err(e) => m.note(e, Tone::Error),
            }
            vec![]
        }
        Msg::Admin(msg) => super::admin_tabs::on_msg(m, msg),
        Msg::Scorecard(res) => {
            match res {
                Ok(card) => m.admin.scorecard = Some(card),
                Err(e) => m.note(e, Tone::Error),
            }
            vec![]
        }
        Msg::PackageDetail(Ok(d)) => {
            m.detail = Some(d);
            vec![]
        }
        Msg::Live { kind, by, ids } => {
            if by != m.me.login {
                let what = match kind.as_str() {
                    "intake" => "received",
                    "pickup" => "handed over",
                    other => other,
                };
                m.log_activity(format!("{by} {what} {} package(s)", ids.len()));
            }
            // Only what is on screen: the counts are the dashboard's (going back to it
            // reloads them), and every session of the facility gets every event, so a busy
            // intake desk would otherwise cost each open session a stats query per parcel.
            let mut fx = stats_if_shown(m);
            if m.screen == Screen::Packages {
                fx.push(Effect::LoadPackages {
                    status: m.list.status.clone(),
                });
            }
            fx
        }
    }
}

/// The dashboard's counts, reloaded only while they are on screen: going back to the
/// dashboard loads them anyway, and the query reads the facility's whole history.
fn stats_if_shown(m: &Model) -> Vec<Effect> {
    if m.screen == Screen::Dashboard {
        vec![Effect::LoadStats]
    } else {
        vec![]
    }
}

/// Whether the focused element takes text (letters are text, not commands).
pub fn typing(m: &Model) -> bool {
    match m.screen {
        Screen::Intake => m.intake.step != IntakeStep::ConfirmChecksum,
        Screen::Pickup => m.pickup.step != PickupStep::Select,
        Screen::Recipients => true,
        Screen::Detail => m.correction.is_some(),
        Screen::Packages => m.list.filtering,
        Screen::Admin => m.admin.filtering || super::admin_tabs::typing(&m.admin),
        Screen::Dashboard | Screen::Reports => false,
    }
}

/// Locks a kiosk: everything the last staff member had open is dropped.
fn lock(m: &mut Model) -> Vec<Effect> {
    super::kiosk::lock(m)
}

fn on_key(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    if m.locked() {
        return super::kiosk::lock_key(m, key);
    }
    if m.help {
        m.help = false;
        return vec![];
    }
    let action = keymap::lookup(m.screen, typing(m), key);
    match action {
        Some(Action::Help) => {
            m.help = true;
            return vec![];
        }
        Some(Action::Quit) => {
            m.quit = true;
            return vec![Effect::Quit];
        }
        Some(Action::GoIntake) => return goto(m, Screen::Intake),
        Some(Action::GoPickup) => return goto(m, Screen::Pickup),
        Some(Action::GoPackages) => return goto(m, Screen::Packages),
        Some(Action::GoRecipients) => return goto(m, Screen::Recipients),
        Some(Action::GoAdmin) => return goto(m, Screen::Admin),
        Some(Action::GoReports) => return goto(m, Screen::Reports),
        Some(Action::Lock) if m.kiosk.is_some() => return lock(m),
        _ => {}
    }
    match m.screen {
        Screen::Admin => admin_key(m, key, action),
        Screen::Reports => super::reports_screen::key(m, action),
        Screen::Dashboard => match action {
            Some(Action::Back) => {
                m.status = None;
                vec![]
            }
            _ => vec![],
        },
        Screen::Intake => intake_key(m, key, action),
        Screen::Pickup => pickup_key(m, key, action),
        Screen::Packages => packages_key(m, key, action),
        Screen::Detail => detail_key(m, key, action),
        Screen::Recipients => {
            if let Consumed(fx) = super::recipients_admin::on_key(m, key, action) {
                return fx;
            }
            match action {
                Some(Action::Back) => goto(m, Screen::Dashboard),
                Some(Action::Up | Action::Down) => {
                    move_search_cursor(m, action);
                    vec![]
                }
                Some(Action::ShowInactive) => {
                    m.search.include_inactive = !m.search.include_inactive;
                    search(m)
                }
                Some(Action::Confirm) => match m.search.selected() {
                    Some(f) if m.me.role.can_handle_packages() => {
                        let id = f.recipient.id;
                        m.pickup = Default::default();
                        vec![Effect::WaitingFor(id)]
                    }
                    _ => vec![],
                },
                _ => edit_search(m, key),
            }
        }
    }
}

fn load_admin_tab(m: &mut Model) -> Vec<Effect> {
    if let Consumed(fx) = super::admin_tabs::load(m) {
        return fx;
    }
    vec![match m.admin.tab {
        AdminTab::Audit => Effect::LoadAudit(m.admin.audit_filter.text()),
        AdminTab::Security => Effect::LoadScorecard,
        _ => Effect::LoadMembers,
    }]
}

fn admin_key(m: &mut Model, key: KeyEvent, action: Option<Action>) -> Vec<Effect> {
    if let Consumed(fx) = super::admin_tabs::on_key(m, key, action) {
        return fx;
    }
    let a = &mut m.admin;
    if a.filtering {
        match action {
            Some(Action::Back) => {
                a.audit_filter.clear();
                a.filtering = false;
                return load_admin_tab(m);
            }
            Some(Action::Confirm) => {
                a.filtering = false;
                return load_admin_tab(m);
            }
            _ => {
                a.audit_filter.edit(key);
                return vec![];
            }
        }
    }
    match action {
        Some(Action::Back) => goto(m, Screen::Dashboard),
        Some(Action::NextField) => {
            let i = AdminTab::ALL.iter().position(|t| *t == a.tab).unwrap_or(0);
            a.tab = AdminTab::ALL[(i + 1) % AdminTab::ALL.len()];
            a.cursor = 0;
            load_admin_tab(m)
        }
        Some(Action::Refresh) => load_admin_tab(m),
        Some(Action::Up) => {
            a.cursor = a.cursor.saturating_sub(1);
            vec![]
        }
        Some(Action::Down) => {
            let n = match a.tab {
                AdminTab::Members => a.members.len(),
                AdminTab::Audit => a.audit.len(),
                _ => 0,
            };
            a.cursor = (a.cursor + 1).min(n.saturating_sub(1));
            vec![]
        }
        Some(Action::Filter) if a.tab == AdminTab::Audit => {
            a.filtering = true;
            vec![]
        }
        Some(Action::CycleRole) if a.tab == AdminTab::Members => {
            let Some(member) = a.members.get(a.cursor) else {
                return vec![];
            };
            let next = match member.role.as_str() {
                "viewer" => Role::Operator,
                "operator" => Role::Admin,
                _ => Role::Viewer,
            };
            vec![Effect::UpdateMember {
                user_id: member.user_id,
                role: Some(next),
                disabled: None,
            }]
        }
        Some(Action::ToggleDisabled) if a.tab == AdminTab::Members => {
            let Some(member) = a.members.get(a.cursor) else {
                return vec![];
            };
            vec![Effect::UpdateMember {
                user_id: member.user_id,
                role: None,
                disabled: Some(!member.disabled),
            }]
        }
        _ => vec![],
    }
}

fn detail_key(m: &mut Model, key: KeyEvent, action: Option<Action>) -> Vec<Effect> {
    let Some(c) = m.correction.as_mut() else {
        let kind = match action {
            Some(Action::Back) => return goto(m, m.detail_from),
            Some(Action::Move) => CorrectionKind::Move,
            Some(Action::ReturnToSender) => CorrectionKind::ReturnToSender,
            Some(Action::Lost) => CorrectionKind::Lost,
            Some(Action::Assign) => CorrectionKind::Assign,
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
            m.note("this package already has its recipient", Tone::Warning);
        } else if m
            .detail
            .as_ref()
            .is_some_and(|(p, _)| p.status == "waiting")
        {
            m.correction = Some(Correction::new(kind));
            if kind == CorrectionKind::Assign {
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
    if c.kind == CorrectionKind::Assign {
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
                let fx = vec![Effect::AssignRecipient {
                    id: p.id,
                    recipient: found.recipient.id,
                }];
                if let Some(c) = m.correction.as_mut() {
                    c.saving = true;
                }
                fx
            }
            _ => edit_search(m, key),
        };
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
                CorrectionKind::Move => Change::Move {
                    to: c.location.text(),
                },
                CorrectionKind::ReturnToSender => Change::ReturnToSender,
                CorrectionKind::Lost => Change::Lost,
                CorrectionKind::Assign => return vec![],
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

fn goto(m: &mut Model, screen: Screen) -> Vec<Effect> {
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
        Screen::Admin => load_admin_tab(m),
        Screen::Dashboard => vec![Effect::LoadStats],
        Screen::Intake => {
            if !m.intake.committing && m.intake.step == IntakeStep::ConfirmChecksum {
                m.intake.step = IntakeStep::Scan;
            }
            vec![]
        }
        Screen::Pickup => {
            if !m.pickup.committing {
                m.pickup = Default::default();
            }
            vec![]
        }
        Screen::Packages => {
            m.list.loading = true;
            vec![Effect::LoadPackages {
                status: m.list.status.clone(),
            }]
        }
        Screen::Recipients => search(m),
        Screen::Detail => vec![],
        Screen::Reports => super::reports_screen::load(m),
    }
}

/// Starts a search for the current query; results for older queries will be ignored.
pub(crate) fn search(m: &mut Model) -> Vec<Effect> {
    let seq = m.next_seq();
    m.search.seq = seq;
    vec![Effect::Search {
        seq,
        query: m.search.query.text(),
        include_inactive: m.search.include_inactive,
    }]
}

fn edit_search(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    if m.search.query.edit(key) {
        search(m)
    } else {
        vec![]
    }
}

fn move_search_cursor(m: &mut Model, action: Option<Action>) {
    let n = m.search.results.len();
    if n == 0 {
        return;
    }
    m.search.cursor = match action {
        Some(Action::Up) => m.search.cursor.saturating_sub(1),
        _ => (m.search.cursor + 1).min(n - 1),
    };
}

/// Our key event as the text area's input.
fn textarea_input(key: KeyEvent) -> ratatui_textarea::Input {
    use ratatui_textarea::Key;
    let k = match key.code {
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Enter => Key::Enter,
        KeyCode::Backspace => Key::Backspace,
        KeyCode::Delete => Key::Delete,
        KeyCode::Left => Key::Left,
        KeyCode::Right => Key::Right,
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::Home => Key::Home,
        KeyCode::End => Key::End,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
        KeyCode::Tab | KeyCode::BackTab => Key::Tab,
        KeyCode::Esc => Key::Esc,
        KeyCode::F(n) => Key::F(n),
        KeyCode::Insert => Key::Null,
    };
    ratatui_textarea::Input {
        key: k,
        ctrl: key.mods.contains(Mods::CTRL),
        alt: key.mods.contains(Mods::ALT),
        shift: key.mods.contains(Mods::SHIFT),
    }
}

fn reset_scan(m: &mut Model) {
    let f = &mut m.intake;
    f.step = IntakeStep::Scan;
    f.note = crate::app::model::note_area();
    f.on_note = false;
    f.tracking.clear();
    f.parsed = None;
    f.committing = false;
    f.flags = Default::default();
    if !f.batch {
        f.recipient = None;
    }
}

fn intake_key(m: &mut Model, key: KeyEvent, action: Option<Action>) -> Vec<Effect> {
    if m.intake.committing {
        return vec![]; // one commit at a time; its answer will come
    }
    match action {
        Some(Action::Batch) => {
            m.intake.batch = !m.intake.batch;
            let s = if m.intake.batch {
                "batch on: the recipient stays for the next scan"
            } else {
                "batch off"
            };
            m.note(s, Tone::Info);
            return vec![];
        }
        Some(Action::InternalId) if m.intake.step == IntakeStep::Scan => {
            // No tracking number: the server assigns a PT- id to write on the parcel.
            m.intake.tracking.clear();
            m.intake.parsed = None;
            return to_recipient_step(m);
        }
        _ => {}
    }
    match m.intake.step {
        IntakeStep::Scan => match action {
            Some(Action::Back) => goto(m, Screen::Dashboard),
            Some(Action::Confirm) => scanned(m),
            _ => {
                m.intake.tracking.edit(key);
                vec![]
            }
        },
        IntakeStep::ConfirmChecksum => match action {
            Some(Action::Confirm) => to_recipient_step(m),
            Some(Action::Back) => {
                reset_scan(m);
                m.note("scan again", Tone::Info);
                vec![]
            }
            _ => vec![],
        },
        IntakeStep::Recipient => match action {
            Some(Action::Back) => {
                reset_scan(m);
                vec![]
            }
            Some(Action::Up | Action::Down) => {
                move_search_cursor(m, action);
                vec![]
            }
            Some(Action::Unmatched) => {
                m.intake.recipient = Some(Chosen {
                    id: None,
                    label: "(unmatched: resolve later)".into(),
                });
                m.intake.step = IntakeStep::Details;
                vec![]
            }
            Some(Action::Confirm) => {
                if let Some(f) = m.search.selected() {
                    m.intake.recipient = Some(Chosen {
                        id: Some(f.recipient.id),
                        label: format!("{} · {}", f.recipient.name, f.recipient.unit),
                    });
                    m.intake.step = IntakeStep::Details;
                } else {
                    m.note("no recipient selected (Ctrl-U: unmatched)", Tone::Warning);
                }
                vec![]
            }
            _ => edit_search(m, key),
        },
        IntakeStep::Details if m.intake.on_note => match action {
            Some(Action::NextField) => {
                m.intake.on_note = false;
                vec![]
            }
            Some(Action::Save) => commit_intake(m),
            Some(Action::Back) => {
                m.intake.on_note = false;
                vec![]
            }
            _ => {
                let note = &mut m.intake.note;
                let len: usize = note.lines().iter().map(|l| l.chars().count() + 1).sum();
                let grows = matches!(key.code, KeyCode::Char(_) | KeyCode::Enter);
                if len < crate::app::model::NOTE_MAX || !grows {
                    note.input(textarea_input(key));
                }
                vec![]
            }
        },
        IntakeStep::Details => match action {
            Some(Action::Back) => {
                m.intake.step = IntakeStep::Recipient;
                vec![]
            }
            Some(Action::NextField) => {
                m.intake.on_note = true;
                vec![]
            }
            Some(Action::Save) => commit_intake(m),
            Some(Action::Perishable) => toggle(&mut m.intake.flags.perishable),
            Some(Action::Oversized) => toggle(&mut m.intake.flags.oversized),
            Some(Action::Damaged) => toggle(&mut m.intake.flags.damaged),
            Some(Action::Signature) => toggle(&mut m.intake.flags.signature_required),
            Some(Action::Confirm) => commit_intake(m),
            _ => {
                m.intake.location.edit(key);
                vec![]
            }
        },
    }
}

fn toggle(b: &mut bool) -> Vec<Effect> {
    *b = !*b;
    vec![]
}

/// Enter on the scan field: parse, warn on a bad check digit, look for a waiting twin.
fn scanned(m: &mut Model) -> Vec<Effect> {
    let text = m.intake.tracking.text();
    if text.trim().is_empty() {
        m.note(
            "scan or type a tracking number (Ctrl-N: none on the parcel)",
            Tone::Info,
        );
        return vec![];
    }
    let (tracking, _) = match normalize_tracking(&text) {
        Ok(t) => t,
        Err(e) => {
            m.note(e.to_string(), Tone::Error);
            return vec![];
        }
    };
    let parsed = crate::label::parse(&text);
    let bad_check = parsed.checksum == Checksum::Invalid;
    m.intake.tracking.set(&tracking);
    m.intake.parsed = Some(parsed);
    let seq = m.next_seq();
    m.intake.check_seq = seq;
    let mut fx = vec![Effect::CheckWaiting { seq, tracking }];
    if bad_check {
        m.intake.step = IntakeStep::ConfirmChecksum;
        m.note(
            "check digit does not match: Enter to accept anyway, Esc to scan again",
            Tone::Warning,
        );
    } else {
        fx.extend(to_recipient_step(m));
    }
    fx
}

fn to_recipient_step(m: &mut Model) -> Vec<Effect> {
    if m.intake.batch && m.intake.recipient.is_some() {
        m.intake.step = IntakeStep::Details;
        return vec![];
    }
    m.intake.step = IntakeStep::Recipient;
    m.search.query.clear();
    search(m)
}

fn commit_intake(m: &mut Model) -> Vec<Effect> {
    let Some(chosen) = m.intake.recipient.clone() else {
        m.intake.step = IntakeStep::Recipient;
        return vec![];
    };
    m.intake.committing = true;
    // The re-scan check of this number may still be on its way; answered now it would
    // report the parcel being saved as "already waiting" (the commit itself deduplicates).
    m.intake.check_seq = 0;
    let f = &m.intake;
    vec![Effect::CommitIntake(IntakeRequest {
        tracking: f.tracking.text(),
        recipient_id: chosen.id,
        location: f.location.text(),
        perishable: f.flags.perishable,
        oversized: f.flags.oversized,
        damaged: f.flags.damaged,
        signature_required: f.flags.signature_required,
        note: f.note.lines().join("\n"),
    })]
}

fn on_intake_done(m: &mut Model, res: Result<crate::db::packages::Intake, String>) -> Vec<Effect> {
    m.intake.committing = false;
    match res {
        Ok(i) => {
            let p = &i.package;
            let who = p.recipient_name.as_deref().unwrap_or("unmatched");
            if i.created {
                m.intake.tally += 1;
                let line = format!(
                    "received {} for {who} · code {}",
                    p.tracking,
                    p.pickup_code.as_deref().unwrap_or("-")
                );
                m.note(
                    format!("#{} {line} · {} this run", p.id, m.intake.tally),
                    Tone::Success,
                );
                m.log_activity(format!("{} {line}", m.me.login));
            } else {
                m.note(
                    format!(
                        "{} was already waiting (#{}): not recorded twice",
                        p.tracking, p.id
                    ),
                    Tone::Warning,
                );
            }
            reset_scan(m);
            stats_if_shown(m)
        }
        Err(e) => {
            // Keep everything typed: the clerk retries with Enter.
            m.note(format!("not recorded: {e} (Enter to retry)"), Tone::Error);
            vec![]
        }
    }
}

fn pickup_key(m: &mut Model, key: KeyEvent, action: Option<Action>) -> Vec<Effect> {
    if m.pickup.committing {
        return vec![];
    }
    match m.pickup.step {
        PickupStep::Code => match action {
            Some(Action::Back) => goto(m, Screen::Dashboard),
            Some(Action::ByRecipient) => {
                m.pickup.step = PickupStep::Search;
                search(m)
            }
            Some(Action::Confirm) => {
                // Six digits are a pickup code; anything else is a scanned parcel.
                let text = m.pickup.code.text();
                let code = text.trim();
                if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
                    vec![Effect::FindByCode(code.to_string())]
                } else if code.is_empty() {
                    m.note(
                        "type the 6-digit pickup code or scan the parcel (Ctrl-F: by recipient)",
                        Tone::Info,
                    );
                    vec![]
                } else {
                    match normalize_tracking(code) {
                        Ok((tracking, _)) => vec![Effect::FindByTracking(tracking)],
                        Err(e) => {
                            m.note(e.to_string(), Tone::Error);
                            vec![]
                        }
                    }
                }
            }
            _ => {
                m.pickup.code.edit(key);
                vec![]
            }
        },
        PickupStep::Search => match action {
            Some(Action::Back) => {
                m.pickup.step = PickupStep::Code;
                vec![]
            }
            Some(Action::Up | Action::Down) => {
                move_search_cursor(m, action);
                vec![]
            }
            Some(Action::Confirm) => match m.search.selected() {
                Some(f) => vec![Effect::WaitingFor(f.recipient.id)],
                None => vec![],
            },
            _ => edit_search(m, key),
        },
        PickupStep::Select => {
            let n = m.pickup.packages.len();
            match action {
                Some(Action::Back) => {
                    m.pickup = Default::default();
                    vec![]
                }
                Some(Action::Up) => {
                    m.pickup.cursor = m.pickup.cursor.saturating_sub(1);
                    vec![]
                }
                Some(Action::Down) => {
                    m.pickup.cursor = (m.pickup.cursor + 1).min(n.saturating_sub(1));
                    vec![]
                }
                Some(Action::Toggle) => {
                    if let Some(s) = m.pickup.selected.get_mut(m.pickup.cursor) {
                        *s = !*s;
                    }
                    vec![]
                }
                Some(Action::Confirm) => {
                    if m.pickup.chosen_ids().is_empty() {
                        m.note("select at least one package (Space)", Tone::Warning);
                    } else {
                        m.pickup.step = PickupStep::Receiver;
                    }
                    vec![]
                }
                _ => vec![],
            }
        }
        PickupStep::Receiver => match action {
            Some(Action::Back) => {
                m.pickup.step = PickupStep::Select;
                vec![]
            }
            Some(Action::Proxy) => toggle(&mut m.pickup.proxy),
            Some(Action::Confirm) => {
                let receiver = m.pickup.receiver.text();
                if receiver.trim().is_empty() {
                    m.note("the receiver's name is required", Tone::Warning);
                    return vec![];
                }
                m.pickup.committing = true;
                vec![Effect::CommitPickup {
                    ids: m.pickup.chosen_ids(),
                    handover: Handover {
                        receiver,
                        proxy: m.pickup.proxy,
                    },
                }]
            }
            _ => {
                m.pickup.receiver.edit(key);
                vec![]
            }
        },
    }
}

fn packages_key(m: &mut Model, key: KeyEvent, action: Option<Action>) -> Vec<Effect> {
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
        Some(Action::Back) => goto(m, Screen::Dashboard),
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

fn on_paste(m: &mut Model, text: &str) -> Vec<Effect> {
    if !typing(m) {
        return vec![];
    }
    // A scanner in paste mode sends the number and a newline: treat it like typing + Enter.
    let first = text.lines().next().unwrap_or("");
    let enter = text.contains('\n');
    match m.screen {
        Screen::Intake => match m.intake.step {
            IntakeStep::Scan => {
                m.intake.tracking.insert_str(first);
                if enter { scanned(m) } else { vec![] }
            }
            IntakeStep::Details => {
                m.intake.location.insert_str(first);
                vec![]
            }
            IntakeStep::Recipient => {
                m.search.query.insert_str(first);
                search(m)
            }
            IntakeStep::ConfirmChecksum => vec![],
        },
        Screen::Pickup => match m.pickup.step {
            PickupStep::Code => {
                m.pickup.code.insert_str(first);
                if enter {
                    let enter_key = KeyEvent {
                        code: KeyCode::Enter,
                        mods: crate::term::input::Mods::NONE,
                    };
                    pickup_key(m, enter_key, Some(Action::Confirm))
                } else {
                    vec![]
                }
            }
            PickupStep::Receiver => {
                m.pickup.receiver.insert_str(first);
                vec![]
            }
            PickupStep::Search => {
                m.search.query.insert_str(first);
                search(m)
            }
            PickupStep::Select => vec![],
        },
        Screen::Recipients => {
            if let Consumed(fx) = super::recipients_admin::on_paste(m, text) {
                return fx;
            }
            m.search.query.insert_str(first);
            search(m)
        }
        Screen::Admin if !m.admin.filtering => super::admin_tabs::on_paste(m, text),
        _ => vec![],
    }
}

/// A custody event as the dashboard's activity list shows it, in the facility's time zone:
/// `12-05 09:14 clerk    received   1Z5R89390357567127 Ada Lovelace`.
fn activity_line(e: &crate::ops::RecentEvent, zone: chrono_tz::Tz) -> String {
    format!(
        "{} {:<8} {:<10} {} {}",
        e.at.with_timezone(&zone).format("%m-%d %H:%M"),
        e.actor.as_deref().unwrap_or("-"),
        e.kind.replace('_', " "),
        e.tracking,
        e.recipient.as_deref().unwrap_or_default()
    )
}
