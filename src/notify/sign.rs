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
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef-webhook";

    #[test]
    fn known_answer() {
        // `printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec-test`
        assert_eq!(
            sign(b"whsec-test", 1_700_000_000, br#"{"a":1}"#),
            "sha256=fed7a1a6c799a6367d73724d76bc70c16678908a32a879cd1ded6565ac05cece"
        );
        // RFC 4231 test case 2: the HMAC itself.
        let mut m = HmacSha256::new_from_slice(b"Jefe").unwrap();
        m.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(m.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn verifies_and_rejects() {
        let now = 1_800_000_000;
        let body = br#"{"delivery_id":"x","event":"intake"}"#;
        let sig = sign(SECRET, now, body);
        let ts = now.to_string();
        assert_eq!(verify(SECRET, &ts, body, &sig, now), Ok(()));
        assert_eq!(
            verify(SECRET, &ts, body, &sig, now + TOLERANCE_SECS),
            Ok(())
        );
        assert!(
            verify(
                SECRET,
                &ts,
                br#"{"delivery_id":"y","event":"intake"}"#,
                &sig,
                now
            )
            .is_err()
        );
        assert!(verify(b"another secret!!", &ts, body, &sig, now).is_err());
        assert_eq!(
            verify(SECRET, &ts, body, &sig, now + TOLERANCE_SECS + 1),
            Err("timestamp too old (replay?)")
        );
        assert_eq!(
            verify(SECRET, &ts, body, &sig, now - TOLERANCE_SECS - 1),
            Err("timestamp in the future")
        );
        // The timestamp is under the MAC: moving it forward breaks the signature.
        assert_eq!(
            verify(SECRET, &(now + 100).to_string(), body, &sig, now + 100),
            Err("signature does not match")
        );
        assert!(verify(SECRET, "soon", body, &sig, now).is_err());
        assert!(verify(SECRET, &ts, body, sig.trim_start_matches("sha256="), now).is_err());
        assert!(verify(SECRET, &ts, body, "sha256=zz", now).is_err());
    }
}
