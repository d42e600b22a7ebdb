//! The pure core of the interactive interface: `update(Model, Msg) -> (Model, Effects)`.
//! No IO and no clock here; effects run elsewhere and come back as messages.

pub mod effect;
pub mod keymap;
pub mod kiosk;
pub mod model;
pub mod msg;
pub mod reports_screen;
pub mod text;
pub mod update;

#[cfg(test)]
mod tests;

pub use effect::Effect;
pub use model::Model;
pub use msg::Msg;
pub use update::update;
