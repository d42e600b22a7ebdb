use super::*;

fn info() -> Info {
    Info {
        format: super::super::FORMAT,
        packtrack_version: "t".into(),
        created_at: chrono::DateTime::UNIX_EPOCH,
        source: "embedded".into(),
        secrets_key_id: None,
    }
}

fn sample() -> Vec<u8> {
    let mut w = Writer::new(Vec::new(), &info()).unwrap();
    w.begin("a").unwrap();
    w.data(&vec![7u8; MAX_DATA + 10]).unwrap();
    w.end().unwrap();
    let m = Manifest {
        info: info(),
        server_version: "15".into(),
        migration_level: 13,
        facilities: vec![],
        row_counts: Default::default(),
        parts: w.parts().to_vec(),
    };
    w.finish(&m).unwrap()
}

#[test]
fn round_trip_and_a_changed_byte_is_refused_with_its_part() {
    let bytes = sample();
    let mut r = Reader::new(&bytes[..]).unwrap();
    assert!(matches!(r.next_item().unwrap(), Item::Part(n) if n == "a"));
    assert_eq!(r.read_part_to_vec(2 << 20).unwrap().len(), MAX_DATA + 10);
    assert!(matches!(r.next_item().unwrap(), Item::Manifest(_)));

    // Unencrypted, the reader still catches a change through the part's hash; inside
    // age the stream's authentication catches it first.
    let mut bad = bytes.clone();
    let at = bad.len() / 2;
    bad[at] ^= 1;
    let mut r = Reader::new(&bad[..]).unwrap();
    assert!(matches!(r.next_item().unwrap(), Item::Part(n) if n == "a"));
    let err = r.skip_part().unwrap_err().to_string();
    assert!(err.contains("part `a`"), "{err}");

    // Cut off inside the part.
    let mut r = Reader::new(&bytes[..bytes.len() / 2]).unwrap();
    r.next_item().unwrap();
    let err = r.skip_part().unwrap_err().to_string();
    assert!(
        err.contains("part `a`") && err.contains("truncated"),
        "{err}"
    );
}
