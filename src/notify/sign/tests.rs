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
