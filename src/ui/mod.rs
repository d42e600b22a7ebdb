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
pub(crate) mod testing;
#[cfg(test)]
mod tests;
