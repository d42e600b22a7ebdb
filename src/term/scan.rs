//! Telling a barcode scanner from a person: key events with their arrival times in, the same
//! events (in order) or one whole scan out. Pure: the caller passes the instants and asks
//! [`ScanDetector::deadline`] when to call [`ScanDetector::flush`].
//!
//! A scanner types a tracking number and Enter within a few milliseconds per key; over SSH the
//! keys arrive in one packet or a few close together. A person cannot type eight keys at less
//! than [`GAP`] apart. So letters and digits are held back while they arrive that fast:
//!
//! - the run ends in Enter and has at least [`MIN_SCAN`] characters: a scan (the Enter, and
//!   the LF of a CRLF, which the parser already folds, belong to it);
//! - the run goes quiet without Enter (scanners set up without a suffix): a scan when it is at
//!   least [`MIN_BARE`] characters and reads as a tracking number (a known carrier format or a
//!   valid check digit), else its keys;
//! - anything else (a short run, a space, a modified key, a paste) lets the held keys go,
//!   unchanged and in order, and the rest of that packet passes through too, so a paste
//!   without bracketed-paste mode ("Aria Kowalski" + Enter, one packet) is never taken for a
//!   scan. The next packet starts afresh: a scan may follow typing closely.
//!
//! Holding back costs a person's letters at most [`GAP`] (30 ms) before they are shown; every
//! other key passes at once. Deciding on the Enter and undoing what the keys already did would
//! show letters sooner, but undoing means restoring the model and withdrawing effects already
//! started (a Reports query, a search), which holding never needs.
//!
//! Bracketed pastes are never scans: they arrive as [`Event::Paste`] and pass through.

use std::time::{Duration, Instant};

use super::input::{Event, KeyCode, KeyEvent};

/// Keys closer together than this belong to one run (a scanner types a key every 1–10 ms;
/// a person rarely two within 30 ms, never eight in a row).
pub const GAP: Duration = Duration::from_millis(30);
/// The shortest run ending in Enter taken as a scan (tracking numbers have 10 and more
/// characters; pickup codes, 6 digits, are typed).
pub const MIN_SCAN: usize = 8;
/// The shortest run without Enter taken as a scan, and only when it reads as a tracking number.
pub const MIN_BARE: usize = 10;
/// A run longer than this is no barcode: it passes through as keys.
pub const MAX_SCAN: usize = 64;

/// What comes out: an event as it came in, or a recognised scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Event(Event),
    /// The scanned text, without its Enter.
    Scan(String),
}

#[derive(Debug, Default)]
enum State {
    /// Nothing held.
    #[default]
    Idle,
    /// Letters and digits of a run that may be a scan.
    Holding(String),
    /// The packet turned out not to be a scan: its remaining keys pass.
    Spoiled,
}

/// See the module docs.
#[derive(Debug, Default)]
pub struct ScanDetector {
    state: State,
    /// When the last key of the current run arrived.
    last: Option<Instant>,
}

impl ScanDetector {
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// One event that arrived at `at` (instants never go back).
    pub fn push(&mut self, ev: Event, at: Instant, out: &mut Vec<Item>) {
        // A quiet gap since the last key ends the run before this event counts.
        if self
            .last
            .is_some_and(|last| at.saturating_duration_since(last) > GAP)
        {
            self.resolve_quiet(out);
        }
        // A later packet is a new start (keys of one packet share their instant).
        if matches!(self.state, State::Spoiled) && self.last != Some(at) {
            self.state = State::Idle;
        }
        let key = match &ev {
            Event::Key(k) => Some(*k),
            Event::Paste(_) => None,
        };
        match (&mut self.state, key) {
            (State::Idle | State::Holding(_), Some(k)) if scan_char(k).is_some() => {
                let c = scan_char(k).unwrap_or_default();
                match &mut self.state {
                    State::Holding(buf) if buf.len() < MAX_SCAN => buf.push(c),
                    State::Holding(_) => {
                        // Too long for a barcode: a flood of keys, let it all through.
                        self.release(out);
                        self.state = State::Spoiled;
                        out.push(Item::Event(ev));
                    }
                    _ => self.state = State::Holding(c.to_string()),
                }
                self.last = Some(at);
            }
            (State::Holding(buf), Some(k))
                if k.code == KeyCode::Enter && k.mods.is_empty() && buf.len() >= MIN_SCAN =>
            {
                let text = std::mem::take(buf);
                self.state = State::Idle;
                self.last = None;
                out.push(Item::Scan(text));
            }
            (State::Holding(_), _) => {
                self.release(out);
                self.state = State::Spoiled;
                self.last = Some(at);
                out.push(Item::Event(ev));
            }
            (State::Spoiled, Some(_)) => {
                self.last = Some(at);
                out.push(Item::Event(ev));
            }
            (State::Idle | State::Spoiled, _) => {
                // A key that cannot start a scan, or a paste: nothing held, pass it on, and
                // the rest of its packet too.
                self.state = State::Spoiled;
                self.last = Some(at);
                out.push(Item::Event(ev));
            }
        }
    }

    /// When the held keys must be decided if nothing else arrives: call [`Self::flush`] then.
    #[must_use]
    pub fn deadline(&self) -> Option<Instant> {
        match self.state {
            State::Holding(_) => self.last.map(|t| t + GAP),
            _ => None,
        }
    }

    /// Nothing arrived until `now`: once the run is over (see [`Self::deadline`]), its keys
    /// go out, or its scan.
    pub fn flush(&mut self, now: Instant, out: &mut Vec<Item>) {
        if self
            .last
            .is_some_and(|last| now.saturating_duration_since(last) >= GAP)
        {
            self.resolve_quiet(out);
        }
    }

    /// Whether keys are held back (for tests and the session's timer).
    #[must_use]
    pub fn holding(&self) -> bool {
        matches!(self.state, State::Holding(_))
    }

    /// The run went quiet: a tracking-shaped run without Enter is a scan, else its keys.
    fn resolve_quiet(&mut self, out: &mut Vec<Item>) {
        if let State::Holding(buf) = &self.state
            && bare_scan(buf)
        {
            out.push(Item::Scan(buf.clone()));
            self.state = State::Idle;
        } else {
            self.release(out);
        }
        self.state = State::Idle;
        self.last = None;
    }

    /// The held keys go out as they came.
    fn release(&mut self, out: &mut Vec<Item>) {
        if let State::Holding(buf) = std::mem::take(&mut self.state) {
            out.extend(
                buf.chars()
                    .map(|c| Item::Event(Event::Key(KeyEvent::from(KeyCode::Char(c))))),
            );
        }
    }
}

/// The character a key adds to a possible scan: an unmodified ASCII letter or digit (shift is
/// folded into the char). Barcodes of tracking numbers hold nothing else; '-' and spaces
/// come only from people.
fn scan_char(k: KeyEvent) -> Option<char> {
    match k.code {
        KeyCode::Char(c) if k.mods.is_empty() && c.is_ascii_alphanumeric() => Some(c),
        _ => None,
    }
}

/// A run without Enter is a scan only when it is long and reads as a tracking number: a
/// known carrier format or a valid check digit, and not one key repeated (a held key's
/// auto-repeat can be as fast as a scanner).
fn bare_scan(text: &str) -> bool {
    if text.len() < MIN_BARE {
        return false;
    }
    let first = text.chars().next();
    if text.chars().all(|c| Some(c) == first) {
        return false;
    }
    let parsed = crate::label::parse(text);
    parsed.carrier.is_some() || parsed.checksum == crate::label::Checksum::Valid
}

#[cfg(test)]
mod tests;
