use super::*;

#[test]
fn tls_mode_from_url() {
    let e = |u, c| endpoint(u, c).map_err(|e| e.message);
    assert_eq!(
        e("smtps://mail.example.org", true),
        Ok(("mail.example.org".into(), 465, TlsMode::Wrapper))
    );
    assert_eq!(
        e("smtp://mail.example.org:2525", true),
        Ok(("mail.example.org".into(), 2525, TlsMode::Required))
    );
    assert_eq!(
        e("smtp://10.0.0.1:25", true),
        Ok(("10.0.0.1".into(), 25, TlsMode::Required))
    );
    // Plain only when the URL says so.
    assert_eq!(
        e("smtp://127.0.0.1:2525?tls=none", true),
        Ok(("127.0.0.1".into(), 2525, TlsMode::None))
    );
    assert_eq!(
        e("smtp://relay.lan?tls=none", false),
        Ok(("relay.lan".into(), 25, TlsMode::None))
    );
    assert_eq!(
        e("smtp://[::1]:25?tls=none", true),
        Ok(("::1".into(), 25, TlsMode::None))
    );
    assert_eq!(
        e("smtp://mail.example.org?tls=starttls", false),
        Ok(("mail.example.org".into(), 587, TlsMode::Required))
    );
    // A password never goes plain over a network; typos are not read as "plain".
    assert!(e("smtp://10.0.0.1:25?tls=none", true).is_err());
    assert!(e("smtp://mail.example.org?tls=off", false).is_err());
    assert!(e("smtp://mail.example.org?starttls=no", false).is_err());
    assert!(e("smtps://mail.example.org?tls=none", false).is_err());
    assert!(e("http://mail.example.org", false).is_err());
    assert!(e("smtp://", false).is_err());
}

#[test]
fn smtp_without_tls_option_never_falls_back_to_plain() {
    // Before: `smtp://HOST` without a password, or to localhost, sent in clear text when
    // the server (or a man in the middle stripping the offer) did not offer STARTTLS.
    let e = |u, c| endpoint(u, c).map(|(_, _, m)| m).map_err(|e| e.message);
    for (url, creds) in [
        ("smtp://mail.example.org", false),
        ("smtp://localhost", true),
        ("smtp://127.0.0.1:2525", false),
        ("smtp://[::1]:25", true),
    ] {
        assert_eq!(e(url, creds), Ok(TlsMode::Required), "{url}");
    }
}

#[test]
fn message_has_both_parts_and_the_delivery_id() {
    let mail = Email {
        subject: "A parcel is waiting for you".into(),
        text: "plain body".into(),
        html: "<p>html body</p>".into(),
    };
    let m = message(
        "Mailroom <mail@north.example>",
        "Ada L",
        "ada@example.org",
        &mail,
        "d-1",
    )
    .unwrap();
    let raw = String::from_utf8(m.formatted()).unwrap();
    assert!(raw.contains("Message-ID: <d-1@north.example>"), "{raw}");
    assert!(raw.contains("multipart/alternative"));
    assert!(raw.contains("text/plain") && raw.contains("text/html"));
    assert!(raw.contains("plain body") && raw.contains("html body"));
    assert!(message("not an address", "A", "ada@example.org", &mail, "d").is_err());
    let err = message("m@x.example", "A", "nope", &mail, "d").unwrap_err();
    assert!(err.permanent);
}
