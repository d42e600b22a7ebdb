use super::Clean;

#[test]
fn log_field_cannot_forge_a_line() {
    let login = "x\n2099-01-01T00:00:00Z  INFO login succeeded login=admin\x1b[2J\x07\r";
    let shown = format!("login={}", Clean(login));
    assert_eq!(shown.lines().count(), 1, "{shown}");
    assert!(!shown.chars().any(|c| c.is_control()), "{shown:?}");
    assert_eq!(
        shown,
        "login=x\\u000a2099-01-01T00:00:00Z  INFO login succeeded login=admin\\u001b[2J\\u0007\\u000d"
    );
    // Bidi overrides and C1 controls too; ordinary text untouched.
    assert_eq!(
        Clean("\u{202e}nimda\u{9b}").to_string(),
        "\\u202enimda\\u009b"
    );
    assert_eq!(Clean("clerk+north").to_string(), "clerk+north");
}

#[test]
fn log_field_forgery_is_escaped_by_the_subscriber_too() {
    // What a subscriber writes for `%Clean(..)`: one line whatever the input.
    use std::sync::{Arc, Mutex};
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf::default();
    let w = buf.clone();
    let sub = tracing_subscriber::fmt()
        .with_writer(move || w.clone())
        .with_ansi(false)
        .compact()
        .finish();
    let forged = "admin\n2099-01-01T00:00:00Z  INFO login succeeded login=admin";
    tracing::subscriber::with_default(sub, || {
        tracing::info!(login = %Clean(forged), "login failed");
    });
    let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains("login failed"));
}
