//! Test fixtures shared by the app's unit tests: a model at a fixed instant, keys as
//! messages, typing, recipients as search results.

use chrono::{DateTime, TimeZone, Utc};

use super::effect::Effect;
use super::model::{Me, Model};
use super::msg::Msg;
use super::update::update;
use crate::db::recipients::Recipient;
use crate::domain::Role;
use crate::ops::Found;
use crate::search::{Field, Hit};
use crate::term::input::{KeyCode, KeyEvent, Mods};

/// The instant every test model starts at: 2026-11-24 12:00 UTC.
pub(crate) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
}

/// An 80x24 session of `login` with `role` in the demo facility.
pub(crate) fn model_as(login: &str, role: Role) -> Model {
    Model::new(
        Me {
            login: login.into(),
            slug: "demo".into(),
            facility_name: "Demo".into(),
            role,
        },
        80,
        24,
        now(),
    )
}

/// An 80x24 kiosk terminal, locked.
pub(crate) fn kiosk_model() -> Model {
    Model::new_kiosk("Demo", "demo", "Front desk 2", 80, 24, now())
}

pub(crate) fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent {
        code,
        mods: Mods::NONE,
    })
}

pub(crate) fn ch(c: char) -> Msg {
    key(KeyCode::Char(c))
}

pub(crate) fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent {
        code: KeyCode::Char(c),
        mods: Mods::CTRL,
    })
}

/// Types `text` key by key; the effects of all keystrokes.
pub(crate) fn typed(m: &mut Model, text: &str) -> Vec<Effect> {
    text.chars().flat_map(|c| update(m, ch(c))).collect()
}

pub(crate) fn recipient(id: i64, name: &str, unit: &str) -> Recipient {
    Recipient {
        id,
        name: name.into(),
        unit: unit.into(),
        email: Some("ada@example.org".into()),
        phone: Some("+15550101234".into()),
        aliases: vec!["Ada".into()],
        active: true,
    }
}

/// A search result on the name.
pub(crate) fn found(id: i64, name: &str, unit: &str) -> Found {
    Found {
        recipient: recipient(id, name, unit),
        hit: Hit {
            id,
            score: 100,
            field: Field::Name,
            indices: vec![],
            suggested: false,
        },
    }
}

/// Waiting package `id` for Ada Lovelace (recipient 7, A-101) on Shelf A, code 123456.
pub(crate) fn pkg(id: i64, tracking: &str) -> crate::db::packages::Package {
    crate::db::packages::Package {
        id,
        tracking: tracking.into(),
        carrier: Some("ups".into()),
        recipient_id: Some(7),
        recipient_name: Some("Ada Lovelace".into()),
        recipient_unit: Some("A-101".into()),
        status: "waiting".into(),
        location: "Shelf A".into(),
        pickup_code: Some("123456".into()),
        addressed_to: None,
        received_at: Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap(),
        picked_up_at: None,
        handling: None,
    }
}
