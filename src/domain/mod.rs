//! Domain newtypes and rules. No IO.

mod device;
mod key;
pub mod limits;
pub mod net;
pub mod parcel;
pub mod pin;
mod principal;
mod role;
pub mod text;

pub use device::{Device, KIOSK_LOGIN};
pub use key::KeyInfo;
pub use parcel::{AddressedTo, FieldError, Flag, Flags, Location, Note, PickupCode};
pub use principal::{Principal, Source};
pub use role::Role;

/// A facility (tenant) id. Only ever taken from an authenticated [`Principal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FacilityId(pub i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(pub i64);

/// Validates a login name: lower-case letters, digits, `.`, `_`, `-`; 1–63 characters.
pub fn valid_login(login: &str) -> bool {
    let mut chars = login.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && login.len() <= limits::LOGIN_MAX
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
}

/// Why `login` cannot be a new user's login (`None`: it can): the rules of `valid_login`,
/// and `kiosk`, which kiosk terminals log in as. The admin CLI's `user add` and the admin
/// console's new member form both ask this.
pub fn login_problem(login: &str) -> Option<String> {
    if login == KIOSK_LOGIN {
        return Some("`kiosk` is reserved for kiosk terminals (kiosk+FACILITY)".into());
    }
    (!valid_login(login)).then(|| {
        format!(
            "invalid login `{}`: use 1-63 lower-case letters, digits, '.', '_' and '-'",
            text::escape(login, &[])
        )
    })
}

/// Validates a facility slug: lower-case letters, digits and `-`; 1–40 characters.
pub fn valid_slug(slug: &str) -> bool {
    let mut chars = slug.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && slug.len() <= limits::SLUG_MAX
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

#[cfg(test)]
mod tests;
