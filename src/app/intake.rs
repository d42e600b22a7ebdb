//! Intake: scan a parcel, check for a waiting twin, choose the recipient, record location,
//! flags and a note, commit. A batch keeps the recipient (and location) for the next scan.

use super::effect::Effect;
use super::failure::Failure;
use super::keymap::Action;
use super::model::{Model, Screen, Tone};
use super::msg::Msg;
use super::recipients::{edit_search, move_search_cursor, search};
use super::text::TextField;
use crate::db::packages::Intake;
use crate::domain::AddressedTo;
use crate::domain::limits::LOCATION_MAX;
use crate::label::{Checksum, Parsed};
use crate::ops::{IntakeRequest, normalize_tracking};
use crate::term::input::{KeyCode, KeyEvent, Mods};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntakeStep {
    /// Waiting for a scan (or typed number).
    Scan,
    /// The check digit is wrong: accept anyway or rescan.
    ConfirmChecksum,
    /// Choosing the recipient.
    Recipient,
    /// Location and flags, then commit.
    Details,
}

use crate::domain::Flag;
pub use crate::domain::Flags;

/// The chosen recipient of an intake (`None` id: unmatched, resolve later).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    pub id: Option<i64>,
    pub label: String,
    /// Unmatched: the name typed in the search box, cleaned, kept with the parcel so that
    /// someone can match it later.
    pub addressed_to: Option<AddressedTo>,
}

impl Chosen {
    /// Unknown recipient (Ctrl-U), for the name typed in the search box (if any).
    pub fn unmatched(typed: &str) -> Self {
        let addressed_to = AddressedTo::clean(typed);
        let label = match &addressed_to {
            Some(name) => format!("unmatched · addressed to “{}”", name.as_str()),
            None => "(unmatched: resolve later)".into(),
        };
        Chosen {
            id: None,
            label,
            addressed_to,
        }
    }
}

#[derive(Debug, Clone)]
pub struct IntakeForm {
    pub step: IntakeStep,
    pub tracking: TextField,
    pub parsed: Option<Parsed>,
    pub recipient: Option<Chosen>,
    /// Sticky across a batch.
    pub location: TextField,
    pub flags: Flags,
    /// Batch mode keeps the recipient for the next scan.
    pub batch: bool,
    /// Packages recorded in this session's intake run.
    pub tally: u32,
    pub committing: bool,
    pub check_seq: u64,
    /// Optional note (multi-line); Tab moves between location and note.
    pub note: ratatui_textarea::TextArea<'static>,
    pub on_note: bool,
    /// A new scan arrived while a parcel was half done (not batch): Enter saves that one
    /// first, `d` drops it, Esc ignores the scan.
    pub asked: Option<String>,
    /// A scan to start once the commit on its way is answered (batch mode, scanning fast).
    pub queued: Option<String>,
}

/// Most characters in an intake note.
pub use crate::domain::limits::NOTE_MAX;

pub fn note_area() -> ratatui_textarea::TextArea<'static> {
    let mut t = ratatui_textarea::TextArea::default();
    t.set_placeholder_text("Note (optional) · Tab: location · Ctrl-S or Enter on location: save");
    t.set_cursor_line_style(ratatui::style::Style::default());
    t
}

impl Default for IntakeForm {
    fn default() -> Self {
        Self {
            step: IntakeStep::Scan,
            tracking: TextField::new(96),
            parsed: None,
            recipient: None,
            location: TextField::new(LOCATION_MAX),
            flags: Flags::default(),
            batch: false,
            tally: 0,
            committing: false,
            check_seq: 0,
            note: note_area(),
            on_note: false,
            asked: None,
            queued: None,
        }
    }
}

/// Entering the screen: a checksum question left open is dropped (not while committing); an
/// empty location starts at the facility's usual one.
pub(super) fn enter(m: &mut Model) -> Vec<Effect> {
    if !m.intake.committing && m.intake.step == IntakeStep::ConfirmChecksum {
        m.intake.step = IntakeStep::Scan;
    }
    if m.intake.location.text().is_empty() {
        let usual = default_location(m).to_string();
        m.intake.location.set(&usual);
    }
    vec![]
}

/// The facility's usual location (`settings.default_location`, read with the dashboard's
/// counts); empty when none is set or the counts have not loaded.
pub fn default_location(m: &Model) -> &str {
    m.stats.as_ref().map_or("", |s| s.default_location.as_str())
}

/// Whether the location on screen is not the usual one: it was carried over from the
/// previous parcel (the location is sticky) or typed, and a parcel saved there by habit goes
/// missing, so the screen marks it.
pub fn unusual_location(m: &Model) -> bool {
    let here = m.intake.location.text();
    !here.trim().is_empty() && here.trim() != default_location(m).trim()
}

/// The intake's answers: the re-scan check and the commit.
pub(super) fn on_msg(m: &mut Model, msg: Msg) -> Vec<Effect> {
    match msg {
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
        _ => vec![],
    }
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
    f.note = note_area();
    f.on_note = false;
    f.tracking.clear();
    f.parsed = None;
    f.committing = false;
    f.flags = Default::default();
    f.asked = None;
    if !f.batch {
        f.recipient = None;
    }
}

/// Keys on the intake screen, by step; nothing while a commit is on its way.
pub(super) fn on_key(m: &mut Model, key: KeyEvent, action: Option<Action>) -> Vec<Effect> {
    if m.intake.committing {
        return vec![]; // one commit at a time; its answer will come
    }
    if m.intake.asked.is_some() {
        return answer_scan_question(m, key);
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
        // The flags are on the box from the first look at it: they toggle at every step
        // (they are not text, so no field loses a key) and stay with this parcel.
        Some(Action::Perishable) => return toggle(&mut m.intake.flags, Flag::Perishable),
        Some(Action::Oversized) => return toggle(&mut m.intake.flags, Flag::Oversized),
        Some(Action::Damaged) => return toggle(&mut m.intake.flags, Flag::Damaged),
        Some(Action::Signature) => return toggle(&mut m.intake.flags, Flag::Signature),
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
            Some(Action::Back) => super::update::goto(m, Screen::Dashboard),
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
                // What the clerk typed is what the label says: kept for whoever matches it.
                m.intake.recipient = Some(Chosen::unmatched(&m.search.query.text()));
                m.intake.step = IntakeStep::Details;
                vec![]
            }
            Some(Action::Confirm) => {
                if let Some(f) = m.search.selected() {
                    m.intake.recipient = Some(Chosen {
                        id: Some(f.recipient.id),
                        label: format!("{} · {}", f.recipient.name, f.recipient.unit),
                        addressed_to: None,
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
                if len < NOTE_MAX || !grows {
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
            Some(Action::Confirm) => commit_intake(m),
            _ => {
                m.intake.location.edit(key);
                vec![]
            }
        },
    }
}

fn toggle(flags: &mut Flags, flag: Flag) -> Vec<Effect> {
    flags.toggle(flag);
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
        flags: f.flags,
        note: f.note.lines().join("\n"),
        addressed_to: chosen
            .addressed_to
            .as_ref()
            .map_or_else(String::new, |a| a.as_str().to_string()),
    })]
}

fn on_intake_done(m: &mut Model, res: Result<Intake, Failure>) -> Vec<Effect> {
    m.intake.committing = false;
    match res {
        Ok(i) => {
            let p = &i.package;
            let next = m.intake.queued.take();
            let who = match (&p.recipient_name, &p.addressed_to) {
                (Some(name), _) => name.clone(),
                (None, Some(typed)) => format!("“{typed}” (unmatched)"),
                (None, None) => "unmatched".into(),
            };
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
            let mut fx = super::dashboard::stats_if_shown(m);
            if let Some(text) = next {
                // The scan that saved this parcel starts the next one; the saved parcel's
                // note stays visible unless the new scan has something to say.
                let saved = m.status.clone();
                fx.extend(start_scan(m, &text));
                if m.status.is_none() {
                    m.status = saved;
                }
            }
            fx
        }
        Err(e) => {
            // Keep everything typed: the clerk retries with Enter.
            let again = if m.intake.queued.take().is_some() {
                "; then scan the next parcel again"
            } else {
                ""
            };
            m.note(
                format!("not recorded: {e} (Enter to retry){again}"),
                Tone::Error,
            );
            vec![]
        }
    }
}

/// A paste: the first line goes where typing would; a newline after it is Enter on the scan.
pub(super) fn on_paste(m: &mut Model, first: &str, enter: bool) -> Vec<Effect> {
    match m.intake.step {
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
    }
}

/// A scan on the intake screen (other screens open intake and come here, `app::scan`): the
/// number never lands in a field or a shortcut. An empty scan step, or the check-digit
/// question (a rescan answers it), starts the parcel; a parcel half done is saved first in
/// batch mode with its recipient chosen, otherwise the clerk is asked.
pub(super) fn on_scan(m: &mut Model, text: &str) -> Vec<Effect> {
    if m.intake.committing {
        // The previous parcel is on its way: this one starts when it is saved.
        m.intake.queued = Some(text.to_string());
        return vec![];
    }
    match m.intake.step {
        IntakeStep::Scan => start_scan(m, text),
        IntakeStep::ConfirmChecksum => {
            reset_scan(m);
            start_scan(m, text)
        }
        IntakeStep::Recipient | IntakeStep::Details => {
            let current = m.intake.tracking.text();
            if !current.is_empty() && same_number(&current, text) {
                m.note(
                    format!("{current} is the parcel on screen: scanned twice"),
                    Tone::Info,
                );
                return vec![];
            }
            if m.intake.batch && saveable(m) {
                m.intake.queued = Some(text.to_string());
                return commit_intake(m);
            }
            m.intake.asked = Some(text.to_string());
            let what = if saveable(m) {
                "Enter: save this one first · d: drop it · Esc: ignore"
            } else {
                "Enter or d: drop this unsaved parcel · Esc: ignore"
            };
            m.note(format!("scanned {}: {what}", tail(text)), Tone::Warning);
            vec![]
        }
    }
}

/// The scan field gets the whole number, replacing anything half typed, and is entered.
fn start_scan(m: &mut Model, text: &str) -> Vec<Effect> {
    m.status = None;
    m.intake.tracking.set(text);
    scanned(m)
}

/// Whether Enter would save the parcel on screen (it has its recipient).
fn saveable(m: &Model) -> bool {
    m.intake.step == IntakeStep::Details && m.intake.recipient.is_some()
}

fn same_number(a: &str, b: &str) -> bool {
    let norm = |t: &str| normalize_tracking(t).map_or_else(|_| t.to_string(), |(n, _)| n);
    norm(a) == norm(b)
}

/// The end of a long number, enough to tell parcels apart on an 80-column status line.
fn tail(text: &str) -> String {
    let n = text.chars().count();
    if n <= 12 {
        return text.to_string();
    }
    let end: String = text.chars().skip(n - 10).collect();
    format!("…{end}")
}

/// The answer to "a new scan, and a parcel half done": any other key is ignored meanwhile,
/// so nothing is typed under the question.
fn answer_scan_question(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    let plain = key.mods.is_empty() || key.mods == Mods::SHIFT;
    match key.code {
        KeyCode::Enter if plain && saveable(m) => {
            m.intake.queued = m.intake.asked.take();
            commit_intake(m)
        }
        KeyCode::Enter | KeyCode::Char('d' | 'D') | KeyCode::Delete if plain => {
            let Some(text) = m.intake.asked.take() else {
                return vec![];
            };
            let dropped = m.intake.tracking.text();
            reset_scan(m);
            let fx = start_scan(m, &text);
            if m.status.is_none() {
                m.note(format!("{dropped} dropped, not recorded"), Tone::Info);
            }
            fx
        }
        KeyCode::Esc => {
            m.intake.asked = None;
            m.note("scan ignored: carry on with this parcel", Tone::Info);
            vec![]
        }
        _ => vec![],
    }
}
