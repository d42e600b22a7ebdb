//! The SSH user name (`auth::login::SshUser::parse`), the first thing an unauthenticated
//! client controls: no panic on any Unicode, a bounded login, `LOGIN+SLUG` round trips, and
//! `is_login_name` exactly the `users.login` rule minus the kiosk's name (so nothing else
//! can reach a lockout counter).

use std::sync::LazyLock;

use packtrack::auth::login::{KIOSK_LOGIN, SshUser};
use proptest::prelude::*;
use regex::Regex;

use super::config;

/// The login rule, written out independently of `domain::valid_login`.
static LOGIN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("^[a-z0-9][a-z0-9._-]{0,62}$").expect("regex"));

/// Names a client may send: any Unicode, near-miss logins, long ones, separators.
fn user_name() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ \\t]?[a-zA-Z0-9._+:\\-]{0,70}[ \\t\\n]?",
        "[a-z0-9][a-z0-9._-]{0,70}(\\+[a-z0-9-]{0,45})?",
        "(kiosk|KIOSK|Kiosk)(\\+[a-z]{1,8})?",
        "[a-z\u{e9}\u{212a}\u{130}\u{ff41}\u{1f4e6}\\n\\x1b+]{0,300}",
    ]
}

proptest! {
    #![proptest_config(config(1))]

    /// Any name: no panic; the login and slug at most 128 characters together (the cut) and free of `+`
    /// (the first `+` starts the slug); `is_login_name` true exactly for the login rule
    /// less `kiosk`.
    #[test]
    fn ssh_user_name_parse_is_total_bounded_and_exact(name in user_name()) {
        let u = SshUser::parse(&name);
        prop_assert!(u.login.chars().count() <= 128, "{} chars", u.login.chars().count());
        let slug_len = u.slug.as_deref().map_or(0, |s| 1 + s.chars().count());
        prop_assert!(u.login.chars().count() + slug_len <= 128);
        prop_assert!(!u.login.contains('+'));
        let expected = LOGIN.is_match(&u.login) && u.login != KIOSK_LOGIN;
        prop_assert_eq!(u.is_login_name(), expected, "{:?}", u.login);
        // A name that names a login is as the client typed it, but for case and edges.
        if u.is_login_name() {
            let lower = name.trim().to_ascii_lowercase();
            prop_assert!(lower.starts_with(&u.login), "{:?} -> {:?}", name, u.login);
        }
    }

    /// `LOGIN+SLUG` for valid logins and slugs parses back to exactly them, also in upper
    /// case or with the blanks a client may add around it.
    #[test]
    fn login_plus_slug_round_trips(
        login in "[a-z0-9][a-z0-9._-]{0,62}",
        slug in prop::option::of("[a-z0-9][a-z0-9-]{0,39}"),
        upper in any::<bool>(),
        pad in "[ \\t]{0,2}",
    ) {
        let mut typed = match &slug {
            Some(s) => format!("{login}+{s}"),
            None => login.clone(),
        };
        if upper {
            typed = typed.to_ascii_uppercase();
        }
        let u = SshUser::parse(&format!("{pad}{typed}{pad}"));
        prop_assert_eq!(&u.login, &login);
        prop_assert_eq!(&u.slug, &slug);
        prop_assert_eq!(u.is_login_name(), login != KIOSK_LOGIN);
    }
}
