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
mod tests {
    use super::*;

    // RFC 6238 appendix B test secret (ASCII "12345678901234567890"), SHA1.
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc6238_vectors() {
        // The RFC lists 8-digit codes; the 6-digit code is their last six digits.
        assert_eq!(code_at(RFC_SECRET, 59), "287082");
        assert_eq!(code_at(RFC_SECRET, 1111111109), "081804");
        assert_eq!(code_at(RFC_SECRET, 1234567890), "005924");
    }

    #[test]
    fn verify_window_and_format() {
        let t = 1_700_000_000;
        let code = code_at(RFC_SECRET, t);
        assert_eq!(verify(RFC_SECRET, &code, t), Some(t / STEP));
        assert_eq!(verify(RFC_SECRET, &code, t + STEP), Some(t / STEP));
        assert_eq!(verify(RFC_SECRET, &code, t - STEP), Some(t / STEP));
        assert_eq!(verify(RFC_SECRET, &code, t + 3 * STEP), None);
        assert_eq!(verify(RFC_SECRET, "12345", t), None);
        assert_eq!(verify(RFC_SECRET, "abcdef", t), None);
    }

    #[test]
    fn uri_is_sha1_6_digits_30s() {
        let uri = otpauth_uri(&[0u8; 20], "clerk@demo");
        assert!(uri.starts_with("otpauth://totp/"), "{uri}");
        assert!(uri.contains("secret="));
        assert!(!uri.contains("algorithm=SHA256"));
        assert!(qr_terminal(&uri).is_some());
    }

    #[test]
    fn enrollment_qr_fits_24_lines() {
        // Up to about 40 characters of `login@facility` the code is version 5 (37 modules):
        // 20 lines of half blocks with a one-module quiet zone, under the 21 lines a 24-line
        // terminal has below its header and above its status and key lines.
        let uri = otpauth_uri(&[0xA5u8; 20], "margaret.hamilton@north-hall");
        let qr = qr_matrix(&uri).unwrap();
        assert_eq!(qr.width, 37, "{uri}");
        let lines = qr.half_blocks(1);
        assert_eq!(lines.len(), 20);
        assert_eq!(lines[0].chars().count(), qr.width + 2);
        // The quiet zone is light (drawn), and the finder pattern's corner dark (blank).
        assert!(lines[0].chars().all(|c| c == '█' || c == '▀'));
        assert_eq!(lines[0].chars().nth(1), Some('▀'));
        assert_eq!(lines[1].chars().nth(1), Some(' '));
        assert_eq!(secret_base32(&[0u8; 20]), "A".repeat(32));
        assert!(!format!("{qr:?}").contains('█'));
    }
}
