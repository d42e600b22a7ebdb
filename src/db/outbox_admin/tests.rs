use super::*;

#[test]
fn targets_hide_credentials_and_paths() {
    assert_eq!(
        url_target("https://u:pw@hooks.example.org/x/y?token=abc"),
        "https://hooks.example.org"
    );
    assert_eq!(
        url_target("smtp://mail.example.org:25"),
        "smtp://mail.example.org:25"
    );
}

#[test]
fn recipients_are_masked() {
    let p = json!({"recipient": {"name": "Ada Lovelace", "email": "ada@example.org",
                                      "phone": "+15550101234"}});
    assert_eq!(masked_recipient("email", &p), "a**@example.org");
    assert_eq!(masked_recipient("sms", &p), "*********234");
    assert_eq!(masked_recipient("webhook", &p), "A** L*******");
    let e = scrub("550 no mailbox ada@example.org for Ada Lovelace", &p);
    assert!(!e.contains("ada@") && !e.contains("Lovelace"), "{e}");
    assert_eq!(
        scrub_addresses("rejected <bob@x.org>"),
        "rejected <b**@x.org>"
    );
}
