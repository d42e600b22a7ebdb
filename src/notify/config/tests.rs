use super::*;

#[test]
fn urls_are_checked_as_the_cli_always_did() {
    assert!(smtp_url("smtps://mail.example.org", true).is_ok());
    assert!(smtp_url("smtp://10.0.0.1:25?tls=none", true).is_err());
    assert!(smtp_url("https://mail.example.org", false).is_err());
    assert!(http_url("https://sms.example.org/v1/send?key=x").is_ok());
    assert!(http_url("ftp://127.0.0.1/sms").is_err());
    assert!(http_url("").is_err());
    assert!(http_url(&format!("https://x.example/{}", "a".repeat(URL_MAX))).is_err());
    // A refused value is quoted escaped.
    let e = http_url("\u{1b}]0;x\u{7}").unwrap_err();
    assert!(!e.contains('\u{1b}'), "{e:?}");
    assert!(from_address("mail@north.example").is_ok());
    assert!(from_address("Mail <mail@north.example>").is_err());
    assert!(webhook_secret("short").is_err());
    assert!(webhook_secret("0123456789abcdef").is_ok());
}

#[test]
fn shown_urls_hide_credentials_and_queries() {
    let u = Url::parse("https://acct:pw@sms.example.org/v1/send?api_key=s3cret#x").unwrap();
    assert!(hides_parts(&u));
    let shown = shown_url(&u);
    assert_eq!(
        shown,
        "https://sms.example.org/v1/send (credentials and query hidden)"
    );
    let plain = Url::parse("https://hooks.example.org/in").unwrap();
    assert!(!hides_parts(&plain));
    assert_eq!(shown_url(&plain), "https://hooks.example.org/in");
    assert_eq!(
        host_port(&Url::parse("smtps://mail.example.org").unwrap()),
        Some(("mail.example.org".into(), 465))
    );
    assert_eq!(
        host_port(&Url::parse("http://hooks.example.org/in").unwrap()),
        Some(("hooks.example.org".into(), 80))
    );
}
