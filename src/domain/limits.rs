//! Length limits, each written once. The server checks them, the forms bound their fields by
//! them and the messages quote them, so a change here changes all three together.
//!
//! Counts are characters unless a doc says bytes.

/// Most characters in a shelf location: it is printed on the label and fits one table column.
pub const LOCATION_MAX: usize = 64;

/// Most characters kept of the name on an unmatched parcel ("addressed to"): what fits the
/// search box it was typed in.
pub const ADDRESSED_TO_MAX: usize = 80;

/// Most characters in an intake note: enough for a paragraph, small enough to list quickly.
pub const NOTE_MAX: usize = 2000;

/// Most bytes in a normalized tracking number without a known carrier (the longest carrier
/// formats are well under this; anything longer is not a tracking number).
pub const TRACKING_MAX: usize = 64;

/// Fewest characters in a password set from the command line (NIST SP 800-63B's minimum).
pub const PASSWORD_MIN: usize = 8;

/// Fewest bytes in a webhook signing secret: 128 bits if it is random text.
pub const WEBHOOK_SECRET_MIN: usize = 16;

/// Most characters in a recipient's name: longer than any real name, short enough for a row.
pub const NAME_MAX: usize = 200;

/// Most characters in a recipient's unit (apartment, room, department code).
pub const UNIT_MAX: usize = 32;

/// Most characters in one alias of a recipient.
pub const ALIAS_MAX: usize = 100;

/// Most characters in one authorised proxy's name ("Sam Lee (partner)"); migration 0020
/// checks the same bound.
pub const PROXY_NAME_MAX: usize = 80;

/// Most authorised proxies per resident: a short list to pick from at the counter, not a
/// directory (migration 0020 checks the same bound).
pub const PROXIES_MAX: usize = 5;

/// Most bytes in an email address (RFC 5321's path limit less the angle brackets).
pub const EMAIL_MAX: usize = 254;

/// Most bytes in an email address's local part (RFC 5321).
pub const EMAIL_LOCAL_MAX: usize = 64;

/// Most bytes in a login name: a Unix user name's usual bound, and short in an SSH prompt.
pub const LOGIN_MAX: usize = 63;

/// Most bytes in a facility slug: it is part of logins and file names.
pub const SLUG_MAX: usize = 40;

/// Most characters in a facility's display name (the settings tab and the dashboard title).
pub const FACILITY_NAME_MAX: usize = 200;

/// Most bytes in an IANA time zone name; the longest real ones are about 30.
pub const TIME_ZONE_MAX: usize = 64;

/// Most parcels one bulk action (remind, return to sender) touches: as many as the package
/// list loads, so "mark all" never marks more than one batch (one transaction).
pub const BULK_MAX: usize = 500;
