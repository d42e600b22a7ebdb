use super::*;

#[test]
fn ssh_user_forms() {
    assert_eq!(
        SshUser::parse("Clerk+Demo"),
        SshUser {
            login: "clerk".into(),
            slug: Some("demo".into())
        }
    );
    assert_eq!(SshUser::parse("clerk").slug, None);
    assert_eq!(SshUser::parse("a+b+c").slug.as_deref(), Some("b+c"));
}

#[test]
fn probe_failures_do_not_count_towards_lockout() {
    assert!(!Failure::UnknownKey.counts());
    assert!(Failure::BadPassword.counts());
    assert!(Failure::UnknownLogin.counts());
    assert!(!Failure::Locked.counts());
}
