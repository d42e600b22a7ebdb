//! Pickup: find the waiting packages by pickup code, a scanned parcel or the recipient; the
//! list shows who they are for and each parcel's flags and note, and one Enter hands the
//! selected ones to the pre-filled resident. Damaged parcels are confirmed (`y`) first;
//! Ctrl-P from the list names a proxy instead: the resident's authorised proxies are offered
//! (↑/↓ picks one), or the clerk types a name, which is then shown as not on the list.

use super::effect::Effect;
use super::keymap::Action;
use super::model::{Model, Screen, Tone};
use super::msg::Msg;
use super::recipients::{edit_search, move_search_cursor, search};
use super::text::TextField;
use crate::db::packages::{Handover, Package};
use crate::ops::normalize_tracking;
use crate::term::input::{KeyCode, KeyEvent};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickupStep {
    /// Type or scan a pickup code (or switch to recipient search).
    Code,
    /// Search the recipient instead.
    Search,
    /// The recipient's waiting packages, all selected; Enter hands them over.
    Select,
    /// Editing who takes them (a proxy, Ctrl-P; or Tab to correct the name).
    Receiver,
}

#[derive(Debug, Clone)]
pub struct PickupForm {
    pub step: PickupStep,
    pub code: TextField,
    pub packages: Vec<Package>,
    pub selected: Vec<bool>,
    pub cursor: usize,
    pub receiver: TextField,
    pub proxy: bool,
    pub committing: bool,
    /// The resident's name: the receiver unless a proxy collects.
    pub resident: String,
    /// Damaged parcels are selected and the clerk was asked to confirm them (`y`).
    pub asking_damaged: bool,
    /// The resident's authorised proxies (loaded on Ctrl-P; `None` until they arrive).
    pub proxies: Option<Vec<String>>,
    /// The proxy picked from the list with ↑/↓ (`None`: the name is typed).
    pub proxy_pick: Option<usize>,
}

impl Default for PickupForm {
    fn default() -> Self {
        Self {
            step: PickupStep::Code,
            code: TextField::new(96),
            packages: Vec::new(),
            selected: Vec::new(),
            cursor: 0,
            receiver: TextField::new(100),
            proxy: false,
            committing: false,
            resident: String::new(),
            asking_damaged: false,
            proxies: None,
            proxy_pick: None,
        }
    }
}

impl PickupForm {
    pub fn chosen_ids(&self) -> Vec<i64> {
        self.packages
            .iter()
            .zip(&self.selected)
            .filter(|(_, s)| **s)
            .map(|(p, _)| p.id)
            .collect()
    }

    /// The resident whose list this is (the first parcel's; a list is one resident's).
    pub fn recipient_id(&self) -> Option<i64> {
        self.packages.first().and_then(|p| p.recipient_id)
    }

    /// Whether the receiver's name is on the resident's list (ignoring case), as the server
    /// will decide again at the handover.
    pub fn proxy_authorised(&self) -> bool {
        let name = self.receiver.text();
        let name = name.trim().to_lowercase();
        self.proxies
            .as_ref()
            .is_some_and(|l| l.iter().any(|n| n.to_lowercase() == name))
    }

    /// How many of the selected parcels are marked damaged.
    pub fn damaged_chosen(&self) -> usize {
        self.packages
            .iter()
            .zip(&self.selected)
            .filter(|(p, s)| **s && p.handling.as_ref().is_some_and(|h| h.flags.damaged))
            .count()
    }
}

/// Entering the screen starts over, unless a handover is on its way.
pub(super) fn enter(m: &mut Model) -> Vec<Effect> {
    if !m.pickup.committing {
        m.pickup = Default::default();
    }
    vec![]
}

/// The pickup's answers: the packages found and the handover recorded.
pub(super) fn on_msg(m: &mut Model, msg: Msg) -> Vec<Effect> {
    match msg {
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
                    m.pickup.resident = name;
                    m.pickup.proxy = false;
                    m.pickup.proxies = None;
                    m.pickup.proxy_pick = None;
                    m.pickup.asking_damaged = false;
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
                        "{} handed over {} package{} to {name}{}",
                        m.me.login,
                        done.len(),
                        if done.len() == 1 { "" } else { "s" },
                        match (m.pickup.proxy, m.pickup.proxy_authorised()) {
                            (true, true) => " (authorised proxy)",
                            (true, false) => " (proxy)",
                            _ => "",
                        }
                    );
                    m.note(line.clone(), Tone::Success);
                    m.log_activity(line);
                    m.pickup = Default::default();
                    super::dashboard::stats_if_shown(m)
                }
                Err(e) => {
                    m.note(format!("pickup not recorded: {e}"), Tone::Error);
                    vec![]
                }
            }
        }
        Msg::PickupProxies { recipient, names } => {
            // Only for the list still open in proxy mode (an answer may arrive late).
            if m.pickup.proxy && m.pickup.recipient_id() == Some(recipient) {
                match names {
                    Ok(names) => m.pickup.proxies = Some(names),
                    Err(e) => m.note(format!("authorised proxies not loaded: {e}"), Tone::Error),
                }
            }
            vec![]
        }
        _ => vec![],
    }
}

/// Keys on the pickup screen, by step; nothing while a handover is on its way.
pub(super) fn on_key(m: &mut Model, key: KeyEvent, action: Option<Action>) -> Vec<Effect> {
    if m.pickup.committing {
        return vec![];
    }
    if m.pickup.asking_damaged {
        return answer_damaged(m, key, action);
    }
    match m.pickup.step {
        PickupStep::Code => match action {
            Some(Action::Back) => super::update::goto(m, Screen::Dashboard),
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
                Some(Action::Proxy) => start_proxy(m),
                Some(Action::NextField) => {
                    m.pickup.step = PickupStep::Receiver;
                    vec![]
                }
                Some(Action::Confirm) => hand_over(m),
                _ => vec![],
            }
        }
        PickupStep::Receiver => match action {
            Some(Action::Back) => {
                // Back to the list, and to the resident as the receiver.
                m.pickup.step = PickupStep::Select;
                m.pickup.proxy = false;
                m.pickup.proxy_pick = None;
                let name = m.pickup.resident.clone();
                m.pickup.receiver.set(&name);
                vec![]
            }
            Some(Action::Proxy) => {
                m.pickup.proxy = !m.pickup.proxy;
                if m.pickup.proxy && m.pickup.proxies.is_none() {
                    return load_proxies(m);
                }
                vec![]
            }
            Some(Action::Up | Action::Down) if m.pickup.proxy => {
                pick_proxy(m, action == Some(Action::Down));
                vec![]
            }
            Some(Action::Confirm) => hand_over(m),
            _ => {
                if m.pickup.proxy_pick.take().is_some() && typed_text(key) {
                    // Typing over a picked name starts a different one.
                    m.pickup.receiver.clear();
                }
                m.pickup.receiver.edit(key);
                vec![]
            }
        },
    }
}

/// Ctrl-P on the list: someone else collects. Their name is picked from the resident's
/// authorised proxies (loaded now) or typed.
fn start_proxy(m: &mut Model) -> Vec<Effect> {
    m.pickup.proxy = true;
    m.pickup.proxy_pick = None;
    m.pickup.receiver.clear();
    m.pickup.step = PickupStep::Receiver;
    m.note(
        format!(
            "proxy for {}: ↑/↓ pick an authorised proxy or type who collects · Enter: hand over",
            m.pickup.resident
        ),
        Tone::Info,
    );
    load_proxies(m)
}

fn load_proxies(m: &mut Model) -> Vec<Effect> {
    match m.pickup.recipient_id() {
        Some(id) => vec![Effect::LoadProxies(id)],
        // An unmatched parcel's collector cannot be on anyone's list.
        None => {
            m.pickup.proxies = Some(Vec::new());
            vec![]
        }
    }
}

/// ↑/↓ in proxy mode: the next or previous authorised proxy becomes the receiver; above the
/// first, back to a typed (empty) name.
fn pick_proxy(m: &mut Model, down: bool) {
    let n = m.pickup.proxies.as_ref().map_or(0, Vec::len);
    if n == 0 {
        return;
    }
    let next = match (m.pickup.proxy_pick, down) {
        (None, true) => Some(0),
        (None, false) => None,
        (Some(i), true) => Some((i + 1).min(n - 1)),
        (Some(0), false) => None,
        (Some(i), false) => Some(i - 1),
    };
    m.pickup.proxy_pick = next;
    let name = next
        .and_then(|i| m.pickup.proxies.as_ref().and_then(|l| l.get(i)))
        .cloned()
        .unwrap_or_default();
    m.pickup.receiver.set(&name);
}

/// A key that puts or removes text (not a cursor move).
fn typed_text(key: KeyEvent) -> bool {
    matches!(
        key.code,
        KeyCode::Char(_) | KeyCode::Backspace | KeyCode::Delete
    )
}

/// The answer to "damaged parcels: does the receiver take them?": `y` hands over, Esc goes
/// back to the list; any other key is ignored so nothing is typed under the question.
fn answer_damaged(m: &mut Model, key: KeyEvent, action: Option<Action>) -> Vec<Effect> {
    match (key.code, action) {
        (KeyCode::Char('y' | 'Y'), _) => commit(m),
        (_, Some(Action::Back)) => {
            m.pickup.asking_damaged = false;
            m.note("not handed over", Tone::Info);
            vec![]
        }
        _ => vec![],
    }
}

/// Enter on the list or the receiver's name: hand over what is selected, asking first when
/// some of it is damaged.
fn hand_over(m: &mut Model) -> Vec<Effect> {
    if m.pickup.chosen_ids().is_empty() {
        m.note("select at least one package (Space)", Tone::Warning);
        return vec![];
    }
    if m.pickup.receiver.text().trim().is_empty() {
        m.pickup.step = PickupStep::Receiver;
        m.note("the receiver's name is required", Tone::Warning);
        return vec![];
    }
    let damaged = m.pickup.damaged_chosen();
    if damaged > 0 {
        m.pickup.asking_damaged = true;
        m.note(
            format!("{damaged} DAMAGED: y: the receiver has seen it and takes it · Esc: back"),
            Tone::Warning,
        );
        return vec![];
    }
    commit(m)
}

fn commit(m: &mut Model) -> Vec<Effect> {
    m.pickup.asking_damaged = false;
    m.pickup.committing = true;
    m.status = None;
    vec![Effect::CommitPickup {
        ids: m.pickup.chosen_ids(),
        handover: Handover {
            receiver: m.pickup.receiver.text().trim().to_string(),
            proxy: m.pickup.proxy,
        },
    }]
}

/// A paste: a code followed by a newline is looked up at once (a scanner in paste mode).
pub(super) fn on_paste(m: &mut Model, first: &str, enter: bool) -> Vec<Effect> {
    match m.pickup.step {
        PickupStep::Code => {
            m.pickup.code.insert_str(first);
            if enter {
                let enter_key = KeyEvent {
                    code: KeyCode::Enter,
                    mods: crate::term::input::Mods::NONE,
                };
                on_key(m, enter_key, Some(Action::Confirm))
            } else {
                vec![]
            }
        }
        PickupStep::Receiver => {
            if m.pickup.proxy_pick.take().is_some() {
                m.pickup.receiver.clear();
            }
            m.pickup.receiver.insert_str(first);
            vec![]
        }
        PickupStep::Search => {
            m.search.query.insert_str(first);
            search(m)
        }
        PickupStep::Select => vec![],
    }
}

/// A scan on the pickup screen (`app::scan`): before a resident is found it finds them by the
/// parcel, as the code field would (never typed into the recipient search); with their list
/// open it ticks that parcel, or warns that it is someone else's.
pub(super) fn on_scan(m: &mut Model, text: &str) -> Vec<Effect> {
    if m.pickup.committing {
        m.note(
            "a handover is being recorded: scan again in a moment",
            Tone::Warning,
        );
        return vec![];
    }
    match m.pickup.step {
        PickupStep::Code | PickupStep::Search => {
            m.pickup.step = PickupStep::Code;
            m.pickup.code.set(text);
            let enter = KeyEvent {
                code: KeyCode::Enter,
                mods: crate::term::input::Mods::NONE,
            };
            on_key(m, enter, Some(Action::Confirm))
        }
        PickupStep::Select | PickupStep::Receiver => {
            let tracking = normalize_tracking(text).map_or_else(|_| text.to_string(), |(t, _)| t);
            let found = m
                .pickup
                .packages
                .iter()
                .position(|p| p.tracking == tracking || p.tracking == text);
            match found {
                Some(i) => {
                    // The selection changes under a damaged-parcel question: ask again.
                    m.pickup.asking_damaged = false;
                    if let Some(s) = m.pickup.selected.get_mut(i) {
                        *s = true;
                    }
                    m.pickup.cursor = i;
                    let n = m.pickup.chosen_ids().len();
                    m.note(
                        format!(
                            "{tracking} ticked · {n} of {} selected",
                            m.pickup.packages.len()
                        ),
                        Tone::Success,
                    );
                }
                None => m.note(
                    format!("{tracking}: not this resident's parcel"),
                    Tone::Warning,
                ),
            }
            vec![]
        }
    }
}
