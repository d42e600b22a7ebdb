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
