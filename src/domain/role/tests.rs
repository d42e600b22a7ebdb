use super::*;

#[test]
fn role_permissions() {
    assert!(Role::Admin.can_administer() && Role::Admin.can_handle_packages());
    assert!(!Role::Operator.can_administer() && Role::Operator.can_handle_packages());
    assert!(!Role::Viewer.can_administer() && !Role::Viewer.can_handle_packages());
    for r in [Role::Admin, Role::Operator, Role::Viewer] {
        assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
    }
    assert!("root".parse::<Role>().is_err());
}
