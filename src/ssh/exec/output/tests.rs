use super::*;

#[test]
fn output_escapes_terminal_sequences_but_keeps_layout() {
    let out = Output {
        stdout: "1  Shelf \x1b]0;owned\x07\x1b[2J\tB\n".into(),
        stderr: "bad \u{9b}\n".into(),
        status: 1,
    }
    .cleaned();
    assert_eq!(out.stdout, "1  Shelf \\u001b]0;owned\\u0007\\u001b[2J\tB\n");
    assert_eq!(out.stderr, "bad \\u009b\n");
    assert_eq!(out.status, 1);
}

#[test]
fn json_stays_json() {
    let json =
        serde_json::to_string(&serde_json::json!({"l": "a\u{7f}\u{9b}\u{202e}b\x1b"})).unwrap();
    let out = text::escape(&json, &KEEP);
    assert!(!out.chars().any(|c| text::forbidden(c).is_some()));
    let back: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(back["l"], "a\u{7f}\u{9b}\u{202e}b\x1b");
}

#[test]
fn a_character_split_across_chunks_is_kept_whole() {
    // U+009B (CSI) is C2 9B in UTF-8; U+00E9 is C3 A9.
    let mut buf = b"caf\xc3".to_vec();
    assert_eq!(clean_prefix(&mut buf), "caf");
    assert_eq!(buf, b"\xc3");
    buf.extend_from_slice(b"\xa9 \xc2");
    assert_eq!(clean_prefix(&mut buf), "é ");
    buf.extend_from_slice(b"\x9b2J\xff!");
    assert_eq!(clean_prefix(&mut buf), "\\u009b2J\u{fffd}!");
    assert!(buf.is_empty());
}

#[tokio::test]
async fn stream_relay_escapes_and_closes() {
    let (out_tx, mut out_rx) = mpsc::channel(8);
    let tx = clean_stream(out_tx);
    tx.send(b"a\x1b[2J\xc2".to_vec()).await.unwrap();
    tx.send(b"\x9b\n".to_vec()).await.unwrap();
    drop(tx);
    let mut all = Vec::new();
    while let Some(c) = out_rx.recv().await {
        all.extend(c);
    }
    assert_eq!(String::from_utf8(all).unwrap(), "a\\u001b[2J\\u009b\n");
}
