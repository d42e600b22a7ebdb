//! Notifications through a transactional outbox: intake and pickup add outbox rows in their
//! own transaction (so a notification exists exactly when the change does), and a worker
//! delivers them later. A slow or dead mail server therefore never slows down intake.

pub mod config;
pub mod egress;
pub mod email;
pub mod http;
pub mod send;
pub mod sign;
pub mod templates;
pub mod worker;

// Queueing is part of the database transaction that makes the change (intake, pickup), so
// it lives with the database code; re-exported here, where delivery is.
pub use crate::db::outbox::enqueue;

/// Why one delivery attempt failed: a short message for `outbox.last_error` and the
/// integration's `last_error` (never a secret), and whether retrying can help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryError {
    pub message: String,
    /// Retrying cannot help (no address, integration removed): dead-letter now.
    pub permanent: bool,
}

impl DeliveryError {
    /// A failure worth retrying (receiver down, timeout, 5xx).
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            message: short(message.into()),
            permanent: false,
        }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            message: short(message.into()),
            permanent: true,
        }
    }
}

impl std::fmt::Display for DeliveryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// One line of at most 300 characters.
fn short(message: String) -> String {
    let line: String = message
        .chars()
        .map(|c| {
            // A receiver's answer is shown in the console and logged: no controls, no bidi.
            if c.is_control() || crate::domain::text::forbidden(c).is_some() {
                ' '
            } else {
                c
            }
        })
        .collect();
    let line = line.trim();
    match line.char_indices().nth(300) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_string(),
    }
}
