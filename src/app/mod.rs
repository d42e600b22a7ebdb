//! The pure core of the interactive interface: `update(Model, Msg) -> (Model, Effects)`.
//! No IO and no clock here; effects run elsewhere and come back as messages.

pub mod admin_keys;
pub mod admin_outbox;
pub mod admin_settings;
pub mod admin_tabs;
pub mod effect;
pub mod event_state;
pub mod keymap;
pub mod kiosk;
pub mod model;
pub mod msg;
pub mod recipients_admin;
pub mod reports_screen;
pub mod text;
pub mod update;

#[cfg(test)]
mod admin_tabs_tests;
#[cfg(test)]
mod tests;

pub use effect::Effect;
pub use model::Model;
pub use msg::Msg;
pub use update::update;
