//! Length limits, each written once. The server checks them, the forms bound their fields by
//! them and the messages quote them, so a change here changes all three together.
//!
//! Counts are characters unless a doc says bytes.

/// Most characters in a shelf location: it is printed on the label and fits one table column.
pub const LOCATION_MAX: usize = 64;

/// Most characters in an intake note: enough for a paragraph, small enough to list quickly.
pub const NOTE_MAX: usize = 2000;

/// Most bytes in a normalized tracking number without a known carrier (the longest carrier
/// formats are well under this; anything longer is not a tracking number).
pub const TRACKING_MAX: usize = 64;

/// Fewest characters in a password set from the command line (NIST SP 800-63B's minimum).
pub const PASSWORD_MIN: usize = 8;

/// Fewest bytes in a webhook signing secret: 128 bits if it is random text.
pub const WEBHOOK_SECRET_MIN: usize = 16;
