//! Webhook signatures: `X-Packtrack-Signature: sha256=<hex HMAC-SHA256(secret, "TS.BODY")>`
//! with `X-Packtrack-Timestamp: TS` (unix seconds). The timestamp is inside the MAC, so a
//! receiver that checks its age rejects replays of an old delivery; the delivery id in the
//! body lets it drop a retry it has already processed.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How far a timestamp may be from the receiver's clock, either way.
pub const TOLERANCE_SECS: i64 = 5 * 60;

fn mac(secret: &[u8], ts: i64, body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(ts.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `X-Packtrack-Signature` value for `body` sent at `ts`: `sha256=` and 64 hex digits.
pub fn sign(secret: &[u8], ts: i64, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(mac(secret, ts, body).finalize().into_bytes())
    )
}

/// What a receiver does with a delivery: checks the signature over the timestamp header
/// and the raw body (in constant time) and that the timestamp is within five minutes of
/// `now_unix`. The error says which check failed.
pub fn verify(
    secret: &[u8],
    ts_header: &str,
    body: &[u8],
    sig_header: &str,
    now_unix: i64,
) -> Result<(), &'static str> {
    let ts: i64 = ts_header
        .trim()
        .parse()
        .map_err(|_| "timestamp is not unix seconds")?;
    let hex_sig = sig_header
        .trim()
        .strip_prefix("sha256=")
        .ok_or("signature does not start with sha256=")?;
    let sig = hex::decode(hex_sig).map_err(|_| "signature is not hex")?;
    // The MAC first: a forged request learns nothing from the clock check.
    mac(secret, ts, body)
        .verify_slice(&sig)
        .map_err(|_| "signature does not match")?;
    if now_unix.saturating_sub(ts) > TOLERANCE_SECS {
        return Err("timestamp too old (replay?)");
    }
    if ts.saturating_sub(now_unix) > TOLERANCE_SECS {
        return Err("timestamp in the future");
    }
    Ok(())
}

#[cfg(test)]
mod tests;
