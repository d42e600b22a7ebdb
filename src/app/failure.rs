//! Why an effect failed, as the interface needs it: a kind to decide on (not found,
//! forbidden, invalid input, conflict, unavailable) and the one line the status bar shows.
//! Messages carry this instead of a bare `String`; its `Display` is exactly that line.

use crate::error::AppError;

/// What kind of failure: enough for the interface to decide (retry, re-prompt, give up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    NotFound,
    /// Not allowed for this member (or on this terminal).
    Forbidden,
    /// The input was refused; the text says what to change.
    Invalid,
    /// The change clashes with what is there (a duplicate, a concurrent change).
    Conflict,
    /// The database or a service could not do it now; trying again may work.
    Unavailable,
}

/// A failed effect: its kind and the user's line (database detail stays in the log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: FailureKind,
    pub text: String,
}

impl Failure {
    pub fn new(kind: FailureKind, text: impl Into<String>) -> Self {
        Self {
            kind,
            text: text.into(),
        }
    }

    /// The same kind, told in the words of the screen that asked (e.g. which code was not
    /// found).
    pub fn with_text(self, text: impl Into<String>) -> Self {
        Self::new(self.kind, text)
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// The status bar takes the line as it is.
impl From<Failure> for String {
    fn from(f: Failure) -> String {
        f.text
    }
}

/// An operation's error as the interface shows it: the line is [`AppError::user_message`]
/// (which logs a database error's detail).
impl From<AppError> for Failure {
    fn from(e: AppError) -> Self {
        let kind = match &e {
            AppError::NotFound => FailureKind::NotFound,
            AppError::PermissionDenied => FailureKind::Forbidden,
            AppError::Invalid(_) => FailureKind::Invalid,
            AppError::Conflict(_) => FailureKind::Conflict,
            AppError::Db(_) | AppError::Secrets(_) => FailureKind::Unavailable,
        };
        Self::new(kind, e.user_message())
    }
}
