//! Kiosk unlock PINs: long enough and not one of the first guesses.
//!
//! A PIN unlocks a shared counter terminal as its staff member. Ten wrong PINs per
//! terminal per 15 minutes leave an attacker at the counter about a thousand tries a day:
//! against six random digits that is one chance in a thousand, against `123456` or the
//! member's `000000` it is the first try.

/// Shortest and longest PIN.
pub const PIN_MIN: usize = 6;
pub const PIN_MAX: usize = 12;

/// Why a PIN was refused; the message names the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    #[error("a kiosk PIN is 6 to 12 digits")]
    Shape,
    #[error("that PIN is too easy to guess (like 123456, 000000 or 121212)")]
    Trivial,
}

/// Checks a new PIN (existing PINs keep working; this is applied when one is set).
pub fn check(pin: &str) -> Result<(), PinError> {
    let d = pin.as_bytes();
    if !(PIN_MIN..=PIN_MAX).contains(&d.len()) || !d.iter().all(u8::is_ascii_digit) {
        return Err(PinError::Shape);
    }
    if is_run(d) || repeats_with_short_period(d) {
        return Err(PinError::Trivial);
    }
    Ok(())
}

/// Every digit one up (or one down) from the last, wrapping: 123456, 987654, 890123.
fn is_run(d: &[u8]) -> bool {
    let step = |a: u8, b: u8| (b + 10 - a) % 10;
    let first = step(d[0], d[1]);
    (first == 1 || first == 9) && d.windows(2).all(|w| step(w[0], w[1]) == first)
}

/// A pattern of one to three digits over and over: 000000, 121212, 123123.
fn repeats_with_short_period(d: &[u8]) -> bool {
    (1..=3).any(|p| d.iter().enumerate().skip(p).all(|(i, c)| *c == d[i - p]))
}

#[cfg(test)]
mod tests;
