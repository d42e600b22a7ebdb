//! A barcode scan, on whatever screen is open: one [`Msg::Scan`](super::Msg::Scan) with the
//! whole number (the session recognises it, `term::scan`), never keys. Routed so that a scan
//! means "this parcel" everywhere and never types into a field or triggers a shortcut:
//!
//! - intake: the room decides (start it, save the current parcel first in batch mode, or ask);
//! - pickup: find by the parcel, or tick it in the resident's list (or warn);
//! - a dialog or form of the admin console (a channel's settings, a new member, a key, a PIN):
//!   a note, nothing else. The form stays as it was, and what arrived is not shown anywhere:
//!   a password manager that types a password quickly and presses Enter looks like a scanner,
//!   and that text must not end up on the intake screen;
//! - every other screen (dashboard, packages, detail, reports, recipients, the admin
//!   console's lists): open intake with it, as if scanned there. Those screens' fields (a recipient
//!   search, a form, a correction) are no place for a tracking number, and the clerk's
//!   reflex with a parcel in hand is to log it; what was typed there stays where it was;
//! - a viewer, who cannot record parcels, gets a note instead;
//! - a locked kiosk ignores it with a note: its fields are a login, a PIN and a 6-digit
//!   pickup code, none of which a tracking number may fill.

use super::effect::Effect;
use super::model::{Model, Screen, Tone};
use super::{intake, pickup};

/// Routes one scan (see the module docs).
pub(super) fn on_scan(m: &mut Model, text: &str) -> Vec<Effect> {
    if m.locked() {
        m.note(
            "a parcel was scanned: unlock first (staff) or type your 6-digit pickup code",
            Tone::Info,
        );
        return vec![];
    }
    m.help = false;
    // A scan is not the answer to a bulk action's "y/n": the question goes, the marks stay.
    if m.list.confirm.take().is_some() {
        m.status = None;
    }
    match m.screen {
        Screen::Admin if super::admin::typing(&m.admin) => {
            m.note(
                "scanned input ignored while a form is open: Esc closes it, then scan again",
                Tone::Info,
            );
            vec![]
        }
        Screen::Intake => intake::on_scan(m, text),
        Screen::Pickup => pickup::on_scan(m, text),
        _ if !m.me.role.can_handle_packages() => {
            m.note(
                format!("scanned {text}: viewers can look, not record parcels"),
                Tone::Warning,
            );
            vec![]
        }
        _ => {
            let mut fx = super::update::goto(m, Screen::Intake);
            fx.extend(intake::on_scan(m, text));
            fx
        }
    }
}

#[cfg(test)]
mod tests;
