//! The SSH user name (`LOGIN+SLUG`) and the ways a login fails.

use super::*;

/// `LOGIN+SLUG` or `LOGIN`, as typed in `ssh LOGIN+SLUG@host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshUser {
    pub login: String,
    pub slug: Option<String>,
}

/// Longest SSH user name looked at: a login (63) + `+` + a slug (40), with room to spare.
/// Longer names cannot be a login; they are cut before anything copies them around.
pub(super) const MAX_USER_NAME: usize = 128;

impl SshUser {
    pub fn parse(user: &str) -> Self {
        let cut = user
            .char_indices()
            .nth(MAX_USER_NAME)
            .map_or(user, |(i, _)| &user[..i]);
        let user = cut.trim().to_ascii_lowercase();
        match user.split_once('+') {
            Some((login, slug)) => Self {
                login: login.to_string(),
                slug: Some(slug.to_string()),
            },
            None => Self {
                login: user,
                slug: None,
            },
        }
    }

    /// What lockout counts against: the login (also for logins that do not exist).
    pub(super) fn lockout_key(&self) -> &str {
        &self.login
    }

    /// Whether the login part can be a person's login (the `users.login` rule). Anything
    /// else — `pickup-code:device:1`, a name with control characters — names nobody: it
    /// is refused without hashing and without touching any counter.
    pub fn is_login_name(&self) -> bool {
        crate::domain::valid_login(&self.login) && self.login != KIOSK_LOGIN
    }
}

/// Why a login failed (for the log only; the client never learns it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    UnknownLogin,
    BadPassword,
    BadCode,
    CodeReused,
    NoTotp,
    Disabled,
    NoMembership,
    /// Several facilities and none named (`dave` instead of `dave+north`).
    Ambiguous,
    Locked,
    PeerLocked,
    UnknownKey,
    KeyNotValidHere,
    Quarantined,
    NoPin,
    /// Not a possible login name (see [`SshUser::is_login_name`]).
    NotALogin,
    /// The hashing queue is full, or this address already has its share of it.
    Busy,
    Internal,
}

impl Failure {
    pub fn as_str(self) -> &'static str {
        match self {
            Failure::UnknownLogin => "unknown login",
            Failure::BadPassword => "wrong password",
            Failure::BadCode => "wrong verification code",
            Failure::CodeReused => "verification code already used",
            Failure::NoTotp => "no TOTP enrolled",
            Failure::Disabled => "user disabled",
            Failure::NoMembership => "no membership for the facility",
            Failure::Ambiguous => "several facilities, none named",
            Failure::Locked => "login locked after repeated failures",
            Failure::PeerLocked => "peer address locked after repeated failures",
            Failure::UnknownKey => "key not registered for this login",
            Failure::KeyNotValidHere => "key valid only in another facility",
            Failure::Quarantined => "device quarantined",
            Failure::NoPin => "no kiosk PIN set",
            Failure::NotALogin => "not a login name",
            Failure::Busy => "password hashing busy",
            Failure::Internal => "internal error",
        }
    }

    /// Failures that may be guesses at a secret count towards lockout. Not counted:
    /// attempts refused because of a lock (they do not extend it), refusals before any
    /// secret was checked, and honest mistakes after the secret was right — a facility the
    /// person is not in, no facility named when they have several, a code used twice
    /// within its step.
    pub fn counts(self) -> bool {
        matches!(
            self,
            Failure::UnknownLogin
                | Failure::BadPassword
                | Failure::BadCode
                | Failure::NoTotp
                | Failure::Disabled
                | Failure::NoPin
        )
    }

    /// The person proved who they are but the facility part of the login did not work:
    /// they get in far enough to be told which logins would (see `ssh::server`).
    pub fn is_facility_mistake(self) -> bool {
        matches!(self, Failure::NoMembership | Failure::Ambiguous)
    }
}
