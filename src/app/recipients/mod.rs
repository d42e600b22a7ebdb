//! The recipients screen (search, show inactive, start a pickup for the selected one) and
//! the recipient search that intake, pickup and corrections share. Management (admins)
//! lives in [`admin`], the CSV import in [`import`].

pub mod admin;
pub mod import;
pub mod proxies;

use super::effect::Effect;
use super::keymap::Action;
use super::model::{Model, Screen, Tone};
use super::msg::Msg;
use super::text::TextField;
use crate::ops::Found;
use crate::term::input::KeyEvent;

/// Results shown per search.
pub const SEARCH_LIMIT: usize = 50;

/// Search-as-you-type over recipients, shared by intake, pickup and the recipients screen.
#[derive(Debug, Clone)]
pub struct RecipientSearch {
    pub query: TextField,
    pub results: Vec<Found>,
    pub cursor: usize,
    /// Sequence number of the newest search sent; older answers are ignored.
    pub seq: u64,
    pub include_inactive: bool,
}

impl Default for RecipientSearch {
    fn default() -> Self {
        Self {
            query: TextField::new(80),
            results: Vec::new(),
            cursor: 0,
            seq: 0,
            include_inactive: false,
        }
    }
}

impl RecipientSearch {
    pub fn selected(&self) -> Option<&Found> {
        self.results.get(self.cursor)
    }
}

/// The search's answer; only the newest query's counts.
pub(super) fn on_msg(m: &mut Model, msg: Msg) -> Vec<Effect> {
    match msg {
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
        _ => vec![],
    }
}

/// Keys on the recipients screen: management first (admins), then the search.
pub(super) fn on_key(m: &mut Model, key: KeyEvent, action: Option<Action>) -> Vec<Effect> {
    if let super::event_state::Consumed(fx) = admin::on_key(m, key, action) {
        return fx;
    }
    match action {
        Some(Action::Back) => super::update::goto(m, Screen::Dashboard),
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

/// A paste: management's dialogs first, else the search field.
pub(super) fn on_paste(m: &mut Model, text: &str) -> Vec<Effect> {
    if let super::event_state::Consumed(fx) = admin::on_paste(m, text) {
        return fx;
    }
    m.search.query.insert_str(text.lines().next().unwrap_or(""));
    search(m)
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

pub(crate) fn edit_search(m: &mut Model, key: KeyEvent) -> Vec<Effect> {
    if m.search.query.edit(key) {
        search(m)
    } else {
        vec![]
    }
}

pub(crate) fn move_search_cursor(m: &mut Model, action: Option<Action>) {
    let n = m.search.results.len();
    if n == 0 {
        return;
    }
    m.search.cursor = match action {
        Some(Action::Up) => m.search.cursor.saturating_sub(1),
        _ => (m.search.cursor + 1).min(n - 1),
    };
}

/// Masks an email for lists: the first character of the local part and the domain.
pub fn mask_email(e: &str) -> String {
    match e.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

/// Masks a phone number for lists: its last two digits.
pub fn mask_phone(p: &str) -> String {
    let digits: Vec<char> = p.chars().filter(char::is_ascii_digit).collect();
    let tail: String = digits[digits.len().saturating_sub(2)..].iter().collect();
    format!("***{tail}")
}
