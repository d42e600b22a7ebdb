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

/// A segment leaves the outbox only once its encrypted copy is on disk; a backup dir that
/// cannot take it leaves it where it was. The round trip gives back the same bytes.
#[test]
fn shipping_moves_a_segment_only_when_it_has_arrived() {
    use crate::backup::{DecryptWith, EncryptTo};
    let tmp = tempfile::tempdir().unwrap();
    let outbox = tmp.path().join("outbox");
    std::fs::create_dir_all(&outbox).unwrap();
    let segment: Vec<u8> = (0..(1u32 << 16)).flat_map(|i| i.to_le_bytes()).collect();
    let name = "000000010000000000000007";
    std::fs::write(outbox.join(name), &segment).unwrap();
    // The archiver's copy in progress and foreign files are not shipped.
    std::fs::write(outbox.join(format!(".{name}")), b"half").unwrap();
    std::fs::write(outbox.join("notes.txt"), b"x").unwrap();
    let id = age::x25519::Identity::generate();
    let key = EncryptTo::Recipient(id.to_public());
    let secrets = crate::secrets::SecretsKey::from_bytes(&[7; 32]);

    let blocked = tmp.path().join("file");
    std::fs::write(&blocked, b"").unwrap();
    assert!(ship::ship(&outbox, &blocked.join("wal"), &key, &secrets).is_err());
    assert!(outbox.join(name).exists(), "kept in the outbox");
    assert_eq!(
        ship::waiting(&outbox),
        1,
        "the copy in progress and notes.txt do not count"
    );

    let wal = tmp.path().join("wal");
    assert_eq!(ship::ship(&outbox, &wal, &key, &secrets).unwrap(), 1);
    assert!(
        !outbox.join(name).exists(),
        "gone from the outbox once shipped"
    );
    assert!(outbox.join(format!(".{name}")).exists());
    let shipped = wal.join(format!("{name}{WAL_SUFFIX}"));
    let bytes = std::fs::read(&shipped).unwrap();
    assert!(bytes.starts_with(b"age-encryption.org/v1"), "encrypted");
    mac::check(&secrets, &shipped).expect("signed by the installation");
    let other_install = crate::secrets::SecretsKey::from_bytes(&[8; 32]);
    assert!(mac::check(&other_install, &shipped).is_err());
    let back = tmp.path().join("back");
    ship::unpack_one(&shipped, &back, &DecryptWith::Identities(vec![id])).unwrap();
    assert_eq!(std::fs::read(&back).unwrap(), segment);
    let other = age::x25519::Identity::generate();
    let wrong = ship::unpack_one(&shipped, &back, &DecryptWith::Identities(vec![other]));
    assert!(matches!(
        wrong,
        Err(crate::backup::BackupError::WrongKey(_))
    ));
}

/// A file renamed, changed, or signed under another key does not pass.
#[test]
fn a_mac_binds_the_name_and_the_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let keys = crate::secrets::SecretsKey::from_bytes(&[7; 32]);
    let seg = tmp.path().join("000000010000000000000007.gz.age");
    std::fs::write(&seg, b"sealed bytes").unwrap();
    mac::sign(&keys, &seg, &seg).unwrap();
    mac::check(&keys, &seg).unwrap();

    let renamed = tmp.path().join("000000010000000000000009.gz.age");
    std::fs::copy(&seg, &renamed).unwrap();
    std::fs::copy(mac::sidecar(&seg), mac::sidecar(&renamed)).unwrap();
    let err = mac::check(&keys, &renamed).unwrap_err().to_string();
    assert!(err.contains("not authenticated"), "{err}");

    std::fs::write(&seg, b"sealed bytez").unwrap();
    assert!(mac::check(&keys, &seg).is_err(), "changed bytes");
    std::fs::remove_file(mac::sidecar(&seg)).unwrap();
    let err = mac::check(&keys, &seg).unwrap_err().to_string();
    assert!(err.contains("no .mac file"), "{err}");
}

#[test]
fn abandoned_base_backups_of_dead_processes_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let mine = format!(".{BASE_PREFIX}{}.partial", std::process::id());
    // Above the kernel's pid_max (2^22): no process has it.
    let dead = format!(".{BASE_PREFIX}{}.partial", 1u32 << 30);
    let other = ".000000010000000000000003.gz.age.partial";
    for f in [&mine, &dead, other] {
        std::fs::write(dir.path().join(f), b"half a base").unwrap();
    }
    base::remove_abandoned(dir.path());
    assert!(!dir.path().join(&dead).exists(), "a dead serve's base goes");
    assert!(dir.path().join(&mine).exists(), "one being written stays");
    assert!(
        dir.path().join(other).exists(),
        "not a base: not ours to judge"
    );
}

/// A stopping `serve` has no session left to yield to and a deadline to meet: its last pass
/// runs at the caller's priority. Lowered, it starved on a busy host and left the segment in
/// use in the data dir (seen in CI).
#[tokio::test]
async fn the_last_pass_at_shutdown_is_not_lowered() {
    use crate::backup::priority::{NICE, current_nice, current_policy};
    let here = (current_nice(), current_policy());
    let on = |pass: Pass| pass.run(|| (current_nice(), current_policy()));
    assert_eq!(
        on(Pass::Serving).await.unwrap(),
        (NICE, 5),
        "serving: lowered"
    );
    assert_eq!(
        on(Pass::Stopping).await.unwrap(),
        here,
        "stopping: as the caller"
    );
}

#[test]
fn a_base_that_failed_its_drill_is_set_aside_and_no_longer_counts() {
    let dir = tempfile::tempdir().unwrap();
    let at = DateTime::parse_from_rfc3339("2026-12-05T15:01:10Z")
        .unwrap()
        .with_timezone(&Utc);
    let base = dir.path().join(base_name(at, "000000010000000000000003"));
    std::fs::write(&base, b"base").unwrap();
    std::fs::write(mac::sidecar(&base), b"mac").unwrap();
    assert_eq!(bases(dir.path()).len(), 1);
    let aside = set_aside(&base);
    assert!(aside.exists() && !base.exists(), "{}", aside.display());
    assert!(!mac::sidecar(&base).exists(), "its MAC goes with it");
    assert!(
        bases(dir.path()).is_empty(),
        "restores and the prune skip it"
    );
}

/// Attack: whoever can write to the backup dir names a file as a newer base backup. The
/// drill after serve's next base restores the newest one, the planted file, which fails its
/// MAC check; the good base just written must not be set aside for it.
#[test]
fn a_planted_newer_base_does_not_get_the_new_base_set_aside() {
    let dir = tempfile::tempdir().unwrap();
    let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    let made = dir.path().join(base_name(
        t("2026-12-05T15:00:00Z"),
        "000000010000000000000003",
    ));
    let planted = dir.path().join(base_name(
        t("2026-12-05T15:00:01Z"),
        "000000010000000000000004",
    ));
    std::fs::write(&made, b"ours").unwrap();
    std::fs::write(&planted, b"theirs").unwrap();
    let said = after_failed_drill(dir.path(), &made);
    assert!(made.exists(), "the new base stays: {said}");
    assert!(said.contains("was it put there?"), "{said}");
    std::fs::remove_file(&planted).unwrap();
    let said = after_failed_drill(dir.path(), &made);
    assert!(
        !made.exists(),
        "a base that failed its own drill goes aside"
    );
    assert!(said.contains("set aside as"), "{said}");
}
