//! The pure core of the interactive interface: `update(Model, Msg) -> (Model, Effects)`.
//! No IO and no clock here; effects run elsewhere and come back as messages.
//!
//! One room per feature, each owning its state, keys, pastes and answers: [`intake`],
//! [`pickup`], [`packages`] (list and detail), [`recipients`] (search, and management in
//! `recipients::admin`), [`dashboard`], [`admin`] (the console's tabs), [`reports_screen`],
//! [`kiosk`]. [`update`](mod@update) routes to them; [`scan`] routes a barcode scan.

pub mod admin;
pub mod dashboard;
pub mod effect;
pub mod event_state;
pub mod failure;
pub mod intake;
pub mod keymap;
pub mod kiosk;
pub mod model;
pub mod msg;
pub mod packages;
pub mod pickup;
pub mod recipients;
pub mod reports_screen;
pub mod scan;
pub mod text;
pub mod update;

#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;

pub use effect::Effect;
pub use failure::{Failure, FailureKind};
pub use model::Model;
pub use msg::{Listed, Msg};
pub use update::update;
