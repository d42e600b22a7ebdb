use super::restore::parse_until;
use super::*;
use crate::db::pg::archive::RecoverTo;

#[test]
fn base_names_round_trip_and_sort_by_time() {
    let at = DateTime::parse_from_rfc3339("2026-12-05T15:01:10.456Z")
        .unwrap()
        .with_timezone(&Utc);
    let name = base_name(at, "000000010000000000000003");
    assert_eq!(
        name,
        "packtrack-base-20261205T150110.456Z-000000010000000000000003.age"
    );
    assert_eq!(
        parse_base_name(&name),
        Some((at, "000000010000000000000003".to_string()))
    );
    assert_eq!(
        parse_base_name("packtrack-base-20261205T150110.456Z-../x.age"),
        None
    );
    assert_eq!(
        parse_base_name("packtrack-backup-20261205T150110.456Z.age"),
        None
    );
}

#[test]
fn only_what_postgres_archives_is_shipped() {
    assert!(is_archived_name("000000010000000000000003"));
    assert!(is_archived_name("00000002.history"));
    assert!(is_archived_name("000000010000000000000003.00000028.backup"));
    for not in [
        ".000000010000000000000003",
        "00000001000000000000000",
        "../etc/passwd",
        "000000010000000000000003.partial",
        "0000000G.history",
        "postgresql.conf",
    ] {
        assert!(!is_archived_name(not), "{not}");
    }
    assert_eq!(
        position("000000020000000000000003"),
        Some("0000000000000003")
    );
    assert_eq!(
        position("000000010000000000000003.00000028.backup"),
        Some("0000000000000003")
    );
    assert_eq!(position("00000002.history"), None);
}

#[test]
fn prune_keeps_the_newest_bases_and_the_wal_they_need() {
    let dir = tempfile::tempdir().unwrap();
    let wal = dir.path().join(WAL_DIR);
    std::fs::create_dir_all(&wal).unwrap();
    let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    for (at, seg) in [
        ("2026-12-01T00:00:00Z", "000000010000000000000002"),
        ("2026-12-02T00:00:00Z", "000000010000000000000005"),
        ("2026-12-03T00:00:00Z", "000000020000000000000009"),
    ] {
        std::fs::write(dir.path().join(base_name(t(at), seg)), b"x").unwrap();
    }
    for name in [
        "000000010000000000000002",
        "000000010000000000000004",
        "000000010000000000000005",
        "000000010000000000000005.00000028.backup",
        "00000002.history",
        "000000020000000000000009",
    ] {
        std::fs::write(wal.join(format!("{name}{WAL_SUFFIX}")), b"x").unwrap();
    }
    assert_eq!(
        prune(dir.path(), 2),
        3,
        "one base and two segments before it"
    );
    let mut left: Vec<String> = std::fs::read_dir(&wal)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            "000000010000000000000005.00000028.backup.gz.age",
            "000000010000000000000005.gz.age",
            "00000002.history.gz.age",
            "000000020000000000000009.gz.age",
        ]
    );
    assert_eq!(bases(dir.path()).len(), 2);
}

#[test]
fn until_reads_latest_rfc3339_and_plain_utc() {
    assert_eq!(parse_until("latest"), Ok(RecoverTo::Latest));
    let want = DateTime::parse_from_rfc3339("2026-12-05T14:03:00Z")
        .unwrap()
        .with_timezone(&Utc);
    assert_eq!(
        parse_until("2026-12-05T15:03:00+01:00"),
        Ok(RecoverTo::Time(want))
    );
    assert_eq!(
        parse_until("2026-12-05 14:03:00"),
        Ok(RecoverTo::Time(want))
    );
    assert_eq!(parse_until("2026-12-05 14:03"), Ok(RecoverTo::Time(want)));
    let err = parse_until("yesterday").unwrap_err();
    assert!(err.contains("expected `latest`"), "{err}");
}
