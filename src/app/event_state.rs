//! Whether a room took a key or a paste: [`EventState::Consumed`] with the effects it asks
//! for, or [`EventState::NotConsumed`] so the caller's own keys (leaving, switching tabs,
//! the read-only screen underneath) get their turn.

use super::effect::Effect;

#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub enum EventState {
    /// Handled here; these effects run (maybe none).
    Consumed(Vec<Effect>),
    /// Not this room's: the caller handles it.
    NotConsumed,
}

pub use EventState::{Consumed, NotConsumed};

impl EventState {
    /// Handled, nothing to run.
    pub const DONE: EventState = Consumed(Vec::new());

    /// The effects when consumed, else what `fallback` answers.
    pub fn or_else(self, fallback: impl FnOnce() -> Vec<Effect>) -> Vec<Effect> {
        match self {
            Consumed(fx) => fx,
            NotConsumed => fallback(),
        }
    }
}

impl From<Vec<Effect>> for EventState {
    fn from(fx: Vec<Effect>) -> Self {
        Consumed(fx)
    }
}
