use super::*;

#[test]
fn seal_roundtrip_and_owner_binding() {
    let key = SecretsKey::from_bytes(&[7u8; 32]);
    let sealed = key.seal("user:1", b"JBSWY3DPEHPK3PXP");
    assert_eq!(key.open("user:1", &sealed).unwrap(), b"JBSWY3DPEHPK3PXP");
    assert!(matches!(
        key.open("user:2", &sealed),
        Err(SecretsError::Open)
    ));
}

#[test]
fn nonces_are_unique_per_seal() {
    let key = SecretsKey::from_bytes(&[1u8; 32]);
    let a = key.seal("f:1", b"same");
    let b = key.seal("f:1", b"same");
    assert_ne!(a[5..HEADER_LEN], b[5..HEADER_LEN]);
    assert_ne!(a, b);
}

#[test]
fn tampering_and_wrong_key_fail() {
    let key = SecretsKey::from_bytes(&[1u8; 32]);
    let mut sealed = key.seal("f:1", b"secret");
    let last = sealed.len() - 1;
    sealed[last] ^= 1;
    assert!(key.open("f:1", &sealed).is_err());
    let other = SecretsKey::from_bytes(&[2u8; 32]);
    assert!(other.open("f:1", &key.seal("f:1", b"x")).is_err());
    assert!(matches!(
        key.open("f:1", b"short"),
        Err(SecretsError::Malformed)
    ));
}

#[test]
fn key_file_created_private_and_reloaded() {
    let dir = tempfile::tempdir().unwrap();
    let k1 = SecretsKey::load_or_create(dir.path()).unwrap();
    let mode = fs::metadata(SecretsKey::path(dir.path()))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let k2 = SecretsKey::load_or_create(dir.path()).unwrap();
    assert_eq!(k1.open("a", &k2.seal("a", b"v")).unwrap(), b"v");
    fs::set_permissions(
        SecretsKey::path(dir.path()),
        fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    assert!(SecretsKey::load_or_create(dir.path()).is_err());
}

#[test]
fn rotation_keeps_old_values_open_and_seals_with_the_new_key() {
    let dir = tempfile::tempdir().unwrap();
    let k = SecretsKey::load_or_create(dir.path()).unwrap();
    let old_id = k.id_hex();
    let before = k.seal("facility:1", b"smtp-password");
    // Another process (a running server) loaded the ring before the rotation.
    let other = SecretsKey::load_or_create(dir.path()).unwrap();
    k.rotate().unwrap();
    assert_ne!(k.id_hex(), old_id);
    let after = k.seal("facility:1", b"smtp-password");
    assert_eq!(&after[1..5], hex::decode(k.id_hex()).unwrap().as_slice());
    assert_eq!(k.open("facility:1", &before).unwrap(), b"smtp-password");
    // The other process re-reads the key file for a key it does not know.
    assert_eq!(other.open("facility:1", &after).unwrap(), b"smtp-password");
    let mode = fs::metadata(SecretsKey::path(dir.path()))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn random_token_has_requested_length_and_varies() {
    let a = random_token(24);
    assert_eq!(a.len(), 24);
    assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
    assert_ne!(a, random_token(24));
}
