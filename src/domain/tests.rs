use super::*;

#[test]
fn logins_and_slugs() {
    assert!(valid_login("clerk"));
    assert!(valid_login("a.b-c_1"));
    assert!(!valid_login(""));
    assert!(!valid_login("Clerk"));
    assert!(!valid_login("-x"));
    assert!(!valid_login("a+b"));
    assert!(valid_slug("demo"));
    assert!(valid_slug("north-campus-2"));
    assert!(!valid_slug("north_campus"));
    assert!(!valid_slug(&"a".repeat(41)));
}

#[test]
fn new_logins_follow_the_rules_and_never_take_kiosk() {
    assert_eq!(login_problem("ada.l"), None);
    assert!(login_problem("kiosk").is_some_and(|e| e.contains("reserved")));
    assert!(login_problem("Ada").is_some_and(|e| e.contains("invalid login")));
    // The refused name is quoted escaped: an escape sequence never reaches a screen.
    let e = login_problem("a\u{1b}[2J").expect("refused");
    assert!(!e.contains('\u{1b}'), "{e:?}");
}
