//! TOTP (RFC 6238): SHA1, 6 digits, 30-second steps, ±1 step of clock skew.

use totp_rs::{Algorithm, TOTP};

pub const DIGITS: usize = 6;
pub const STEP: u64 = 30;
pub const ISSUER: &str = "packtrack";

/// A fresh 160-bit secret.
pub fn new_secret() -> Vec<u8> {
    crate::secrets::random_bytes::<20>().to_vec()
}

fn totp(secret: &[u8], account: &str) -> TOTP {
    TOTP::new_unchecked(
        Algorithm::SHA1,
        DIGITS,
        1,
        STEP,
        secret.to_vec(),
        Some(ISSUER.to_string()),
        account.to_string(),
    )
}

/// The `otpauth://totp/...` URI an authenticator app enrolls from.
pub fn otpauth_uri(secret: &[u8], account: &str) -> String {
    totp(secret, account).get_url()
}

/// The code for a given unix time (tests and the enrollment confirmation use it).
pub fn code_at(secret: &[u8], unix: u64) -> String {
    totp(secret, "x").generate(unix)
}

/// Checks `code` at `unix` time and returns the matching time step (±1 step). The caller
/// must reject a step at or below the last accepted one, so a code works only once.
pub fn verify(secret: &[u8], code: &str, unix: u64) -> Option<u64> {
    let code = code.trim();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = unix / STEP;
    // Oldest step first, so when two steps match (they never should) the smallest wins.
    [now.saturating_sub(1), now, now + 1]
        .into_iter()
        .find(|&step| constant_time_eq(code_at(secret, step * STEP).as_bytes(), code.as_bytes()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Renders a QR code of `text` for a terminal (two rows of modules per line).
pub fn qr_terminal(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::unicode::Dense1x2>()
            .dark_color(qrcode::render::unicode::Dense1x2::Light)
            .light_color(qrcode::render::unicode::Dense1x2::Dark)
            .quiet_zone(true)
            .build(),
    )
}

/// The secret in base32, for typing into an authenticator app by hand.
pub fn secret_base32(secret: &[u8]) -> String {
    totp(secret, "x").get_secret_base32()
}

/// A QR code of `text` as rows of modules (`true`: dark), at the lowest error correction
/// level so an enrollment URI fits a 24-line terminal in half-block characters.
#[derive(Clone, PartialEq, Eq)]
pub struct QrMatrix {
    pub width: usize,
    pub dark: Vec<bool>,
}

impl std::fmt::Debug for QrMatrix {
    // The matrix encodes a secret: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "QrMatrix({0}x{0}, redacted)", self.width)
    }
}

pub fn qr_matrix(text: &str) -> Option<QrMatrix> {
    let code =
        qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::L).ok()?;
    let width = code.width();
    let dark = code
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    Some(QrMatrix { width, dark })
}

impl QrMatrix {
    fn at(&self, x: isize, y: isize) -> bool {
        let w = self.width as isize;
        (0..w).contains(&x) && (0..w).contains(&y) && self.dark[(y * w + x) as usize]
    }

    /// Lines of half-block characters, two module rows per line, with a `quiet` zone of
    /// light modules around. Light modules are drawn (the terminal's foreground), dark ones
    /// left blank, as `qr_terminal` does: on a dark terminal that reads as dark-on-light.
    pub fn half_blocks(&self, quiet: usize) -> Vec<String> {
        let q = quiet as isize;
        let size = self.width as isize + 2 * q;
        (0..size)
            .step_by(2)
            .map(|row| {
                (0..size)
                    .map(|col| {
                        let light = |r: isize| r < size && !self.at(col - q, r - q);
                        match (light(row), light(row + 1)) {
                            (true, true) => '█',
                            (true, false) => '▀',
                            (false, true) => '▄',
                            (false, false) => ' ',
                        }
                    })
                    .collect()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
