use super::*;

#[test]
fn created_private_reloaded_and_refused_when_readable() {
    let dir = tempfile::tempdir().unwrap();
    let k1 = load_or_create(dir.path()).unwrap();
    let mode = std::fs::metadata(path(dir.path()))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let k2 = load_or_create(dir.path()).unwrap();
    assert_eq!(k1.public_key().key_data(), k2.public_key().key_data());
    std::fs::set_permissions(path(dir.path()), std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(
        load_or_create(dir.path())
            .unwrap_err()
            .contains("chmod 600")
    );
}
