use super::*;

const LINE: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl user@host";

#[test]
fn parses_and_fingerprints() {
    let k = parse_line(LINE).unwrap();
    assert_eq!(k.algorithm, "ssh-ed25519");
    assert!(k.fingerprint.starts_with("SHA256:"), "{}", k.fingerprint);
    assert_eq!(k.comment, "user@host");
    assert!(!k.public_key.contains("user@host"));
}

#[test]
fn rejects_garbage() {
    assert!(parse_line("").is_err());
    assert!(parse_line("ssh-ed25519 notbase64").is_err());
    assert!(parse_line("-----BEGIN OPENSSH PRIVATE KEY-----").is_err());
    assert!(parse_line(&format!("{LINE}\n{LINE}")).is_err());
}
