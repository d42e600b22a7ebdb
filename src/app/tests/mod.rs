//! Transitions of the pure core by room (intake, pickup, packages) and what every screen
//! shares (session); the fixtures they share are here.

use super::effect::Effect;
use super::model::{IntakeStep, Me, Model, PickupStep, Screen, Tone};
use super::msg::Msg;
use super::testing::{ctrl, key, kiosk_model, model_as, pkg, typed};
use super::update::update;
use crate::app::{Failure, FailureKind};
use crate::db::packages::Intake;
use crate::db::recipients::Recipient;
use crate::domain::Role;
use crate::ops::Found;
use crate::search::{Field, Hit};
use crate::term::input::KeyCode;

fn model(role: Role) -> Model {
    model_as("clerk", role)
}

fn results(m: &mut Model) {
    let seq = m.search.seq;
    update(
        m,
        Msg::SearchResults {
            seq,
            found: Ok(vec![Found {
                recipient: Recipient {
                    id: 7,
                    name: "Ada Lovelace".into(),
                    unit: "A-101".into(),
                    email: None,
                    phone: None,
                    aliases: vec![],
                    active: true,
                },
                hit: Hit {
                    id: 7,
                    score: 1,
                    field: Field::Name,
                    indices: vec![],
                    suggested: false,
                },
            }]),
        },
    );
}

/// Scan → recipient → location → commit; returns the commit effect.
fn intake_to_commit(m: &mut Model, tracking: &str) -> Vec<Effect> {
    typed(m, tracking);
    let fx = update(m, key(KeyCode::Enter));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::CheckWaiting { tracking: t, .. } if t == tracking)),
        "{fx:?}"
    );
    if m.intake.step == IntakeStep::Recipient {
        results(m);
        update(m, key(KeyCode::Enter));
    }
    assert_eq!(m.intake.step, IntakeStep::Details);
    update(m, key(KeyCode::Enter))
}

mod bulk;
mod intake;
mod packages;
mod pickup;
mod session;
