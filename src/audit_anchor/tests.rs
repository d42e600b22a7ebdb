use super::*;

fn head(facility: i64, seq: i64, hash: u8) -> Head {
    Head {
        facility,
        slug: format!("f{facility}"),
        seq,
        hash: vec![hash; 32],
    }
}

fn anchor() -> (tempfile::TempDir, Anchor) {
    let dir = tempfile::tempdir().expect("temp dir");
    let a = Anchor::new(dir.path(), SecretsKey::from_bytes(&[9u8; 32]));
    (dir, a)
}

fn write(a: &Anchor, heads: Vec<Head>) -> Checkpoint {
    let mut f = a.lock(true).unwrap().unwrap();
    let (latest, complete) = a.read(&mut f).unwrap();
    a.append(&mut f, complete, latest.as_ref(), heads).unwrap()
}

#[test]
fn checkpoints_chain_and_read_back() {
    let (_d, a) = anchor();
    assert_eq!(a.latest().unwrap(), None);
    write(&a, vec![head(1, 3, 1)]);
    let second = write(&a, vec![head(1, 5, 2), head(2, 1, 3)]);
    assert_eq!(second.n, 2);
    assert_eq!(a.latest().unwrap(), Some(second));
}

#[test]
fn a_line_signed_with_another_key_is_forged() {
    let (dir, a) = anchor();
    write(&a, vec![head(1, 3, 1)]);
    let other = Anchor::new(dir.path(), SecretsKey::from_bytes(&[8u8; 32]));
    assert!(matches!(
        other.latest(),
        Err(AnchorError::Forged { n: 1, .. })
    ));
}

#[test]
fn removing_a_middle_line_breaks_the_file_chain() {
    let (_d, a) = anchor();
    for seq in 1..=3 {
        write(&a, vec![head(1, seq, seq as u8)]);
    }
    let text = std::fs::read_to_string(a.path()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(a.path(), format!("{}\n{}\n", lines[0], lines[2])).unwrap();
    assert!(matches!(
        a.latest(),
        Err(AnchorError::Corrupt { line: 2, .. })
    ));
}

#[test]
fn a_torn_last_line_is_ignored_and_replaced() {
    let (_d, a) = anchor();
    let first = write(&a, vec![head(1, 1, 1)]);
    let mut f = OpenOptions::new().append(true).open(a.path()).unwrap();
    f.write_all(b"{\"n\":2,\"at\"").unwrap();
    assert_eq!(a.latest().unwrap(), Some(first));
    let second = write(&a, vec![head(1, 2, 2)]);
    assert_eq!(a.latest().unwrap(), Some(second));
}

#[test]
fn a_full_file_rotates_and_the_chain_continues() {
    let (dir, a) = anchor();
    let first = write(&a, vec![head(1, 1, 1)]);
    // Pad the file past the rotation size with a valid-looking history: simplest is
    // to grow it with a torn tail, which `read` ignores and the rotation leaves behind.
    let mut f = OpenOptions::new().append(true).open(a.path()).unwrap();
    f.write_all(&vec![b'x'; ROTATE_AT as usize]).unwrap();
    assert_eq!(a.latest().unwrap(), Some(first.clone()));
    let second = write(&a, vec![head(1, 2, 2)]);
    assert_eq!(second.n, 2);
    assert!(dir.path().join("audit-checkpoints.1").exists());
    assert!(std::fs::metadata(a.path()).unwrap().len() < 1024);
    assert_eq!(a.latest().unwrap(), Some(second.clone()));
    let third = write(&a, vec![head(1, 3, 3)]);
    assert_eq!(a.latest().unwrap(), Some(third));
}

#[test]
fn plan_keeps_the_anchor_of_a_chain_that_lost_its_entry() {
    let anchored = vec![head(1, 5, 1), head(2, 7, 2), head(3, 2, 3)];
    let current = vec![head(1, 9, 4), head(2, 4, 5), head(4, 1, 6)];
    // 1 still holds seq 5; 2 lost seq 7; 3 lost its whole chain.
    let found = vec![Some(vec![1; 32]), None, None];
    let (heads, regressed) = plan(&anchored, &current, &found);
    assert_eq!(
        heads,
        vec![head(1, 9, 4), head(2, 7, 2), head(3, 2, 3), head(4, 1, 6)]
    );
    assert_eq!(
        regressed
            .iter()
            .map(|r| r.facility.as_str())
            .collect::<Vec<_>>(),
        ["f2", "f3"]
    );
}

#[test]
fn compare_names_truncated_gone_and_rewritten_chains() {
    let checkpoint = Checkpoint {
        n: 4,
        at: Utc::now(),
        heads: vec![head(1, 5, 1), head(2, 7, 2), head(3, 2, 3), head(5, 1, 7)],
        line_hash: [0; 32],
    };
    let current = vec![head(1, 5, 1), head(2, 4, 5), head(5, 3, 8)];
    let found = vec![Some(vec![1; 32]), None, None, Some(vec![9; 32])];
    let f = compare(&checkpoint, &current, &found);
    assert_eq!(
        f,
        vec![
            Finding::Truncated {
                facility: "f2".into(),
                anchored_seq: 7,
                head_seq: 4,
                checkpoint: 4
            },
            Finding::ChainGone {
                facility: "f3".into(),
                anchored_seq: 2,
                checkpoint: 4
            },
            Finding::Rewritten {
                facility: "f5".into(),
                anchored_seq: 1,
                checkpoint: 4
            },
        ]
    );
}
