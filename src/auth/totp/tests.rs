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
