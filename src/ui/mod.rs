//! Views: pure functions from state to a ratatui frame. They draw and never mutate.

mod admin;
mod app;
pub(crate) mod dashboard;
mod intake;
mod lock;
mod packages;
mod pickup;
mod recipients;
mod reports;
pub mod theme;
pub mod widgets;

pub use app::{MIN_HEIGHT, MIN_WIDTH, view};
pub use theme::Theme;

#[cfg(test)]
mod admin_tabs_tests;
#[cfg(test)]
mod recipients_tests;
#[cfg(test)]
mod tests;
