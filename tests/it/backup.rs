//! Backups (issue 18): the real binary from backup to a restored server a clerk logs in to,
//! refusals of damaged files and wrong keys, and a backup taken while intakes keep coming.
//! Each throw-away cluster costs seconds, so the steps share as few clusters as they can.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use age::secrecy::ExposeSecret;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use packtrack::backup::{self, DecryptWith, EncryptTo};
use packtrack::db::Database;
use packtrack::db::packages::{self, NewPackage};
use packtrack::db::testing::TestCluster;
use packtrack::domain::Role;
use russh::keys::PrivateKey;

use crate::ssh_support::{Client, new_key};
use crate::support::{Run, Sandbox, fresh_db, member};

/// An age key pair: the identity file (written 0600 in `dir`) and the public key.
fn age_keys(dir: &Path, name: &str) -> (PathBuf, String) {
    let id = age::x25519::Identity::generate();
    let path = dir.join(name);
    std::fs::write(&path, format!("{}\n", id.to_string().expose_secret())).unwrap();
    (path, id.to_public().to_string())
}

fn arg(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A copy of `file` with one byte changed at `at` (a fraction of the length), or cut there.
fn damaged(file: &Path, at: f64, cut: bool) -> PathBuf {
    let mut bytes = std::fs::read(file).unwrap();
    let i = (bytes.len() as f64 * at) as usize;
    let out = file.with_extension(if cut { "cut" } else { "flipped" });
    if cut {
        bytes.truncate(i);
    } else {
        bytes[i] ^= 0x40;
    }
    std::fs::write(&out, bytes).unwrap();
    out
}

fn refused(run: &Run, what: &str) {
    assert!(!run.ok, "expected a refusal ({what}):\n{run:?}");
    assert!(run.stderr.contains(what), "expected `{what}` in:\n{run:?}");
}

#[tokio::test]
async fn backup_verify_restore_then_serve_and_log_in() {
    let s1 = Sandbox::new();
    s1.ok(&["admin", "demo"], None);
    let key = new_key();
    let pubfile = s1.path().join("clerk.pub");
    std::fs::write(&pubfile, key.public_key().to_openssh().unwrap()).unwrap();
    s1.ok(
        &[
            "admin",
            "user",
            "add-key",
            "--login",
            "clerk",
            "--key-file",
            arg(&pubfile),
        ],
        None,
    );
    let waiting = s1.psql("SELECT tracking FROM packages WHERE status = 'waiting' ORDER BY id");
    let waiting: Vec<&str> = waiting.lines().collect();
    assert!(!waiting.is_empty());

    // --- backup to a recipient key: this host could not read it --------------------------
    let (identity, recipient) = age_keys(s1.path(), "backup.key");
    let out = s1.path().join("backups");
    let run = s1.ok(
        &[
            "admin",
            "backup",
            "--to",
            arg(&out),
            "--recipient",
            &recipient,
        ],
        None,
    );
    let file = PathBuf::from(run.stdout.lines().last().unwrap());
    assert!(file.is_file(), "{run:?}");
    let names: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 1, "no partial file left behind: {names:?}");
    let bytes = std::fs::read(&file).unwrap();
    assert!(
        !bytes
            .windows(waiting[0].len())
            .any(|w| w == waiting[0].as_bytes()),
        "no plaintext tracking number in the file"
    );

    // --- verify: the drill ------------------------------------------------------------
    let run = s1.ok(
        &[
            "admin",
            "backup",
            "verify",
            arg(&file),
            "--identity",
            arg(&identity),
        ],
        None,
    );
    assert!(run.stdout.starts_with("backup OK:"), "{run:?}");
    assert!(run.stdout.contains("restored and verified in"), "{run:?}");
    let recorded = s1.psql("SELECT kind || ':' || ok::int FROM backup_status() ORDER BY kind");
    assert_eq!(recorded, "backup:1\nverify:1");

    // --- refusals: damage anywhere names the part; wrong keys say so ---------------------
    let flipped = damaged(&file, 0.5, false);
    let run = s1.run(
        &[
            "admin",
            "backup",
            "verify",
            arg(&flipped),
            "--identity",
            arg(&identity),
        ],
        None,
    );
    refused(&run, "part `database.dump`");
    let cut = damaged(&file, 0.8, true);
    let run = s1.run(
        &[
            "admin",
            "backup",
            "verify",
            arg(&cut),
            "--identity",
            arg(&identity),
        ],
        None,
    );
    refused(&run, "part `");
    refused(&run, "truncated");
    let drills = || s1.psql("SELECT count(*) FROM backup_runs WHERE kind = 'verify'");
    let drills_before_wrong_keys = drills();
    let (other, _) = age_keys(s1.path(), "other.key");
    let run = s1.run(
        &[
            "admin",
            "backup",
            "verify",
            arg(&file),
            "--identity",
            arg(&other),
        ],
        None,
    );
    refused(&run, "wrong identity");
    let run = s1.run(
        &[
            "admin",
            "backup",
            "verify",
            arg(&file),
            "--passphrase-stdin",
        ],
        Some("guess\n"),
    );
    refused(&run, "not a passphrase");
    let recorded =
        s1.psql("SELECT ok FROM backup_runs WHERE kind = 'verify' ORDER BY id DESC LIMIT 1");
    assert_eq!(
        recorded, "f",
        "a failed drill (the damaged files) is recorded too"
    );
    assert_eq!(
        drills(),
        drills_before_wrong_keys,
        "a wrong key is a typo, not a drill: nothing is recorded"
    );
    assert!(
        run.stderr.contains("not recorded as a restore drill"),
        "{run:?}"
    );

    // --- restore on a new host --------------------------------------------------------
    let s2 = Sandbox::new();
    let run = s2.run(
        &["admin", "restore", arg(&file), "--identity", arg(&identity)],
        None,
    );
    refused(&run, "secrets key file");
    assert!(
        !s2.data_dir().join("postgres").exists(),
        "a refused restore creates no cluster"
    );
    // The keys dir is kept apart from backups; the operator brings it.
    std::fs::create_dir_all(s2.keys_dir()).unwrap();
    for f in std::fs::read_dir(s1.keys_dir()).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), s2.keys_dir().join(f.file_name())).unwrap();
    }
    // A damaged file is refused, and leaves the target as empty as it was.
    let run = s2.run(
        &[
            "admin",
            "restore",
            arg(&flipped),
            "--identity",
            arg(&identity),
        ],
        None,
    );
    refused(&run, "part `database.dump`");
    let run = s2.ok(
        &["admin", "restore", arg(&file), "--identity", arg(&identity)],
        None,
    );
    assert!(run.stdout.starts_with("restored:"), "{run:?}");
    let run = s2.run(
        &["admin", "restore", arg(&file), "--identity", arg(&identity)],
        None,
    );
    refused(&run, "not empty");
    assert!(s2.data_dir().join("audit-checkpoints").is_file());
    s2.ok(&["admin", "audit", "verify"], None);

    // --- the restored server lets the clerk in and has the packages ---------------------
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_packtrack"))
        .arg("--data-dir")
        .arg(s2.data_dir())
        .arg("--keys-dir")
        .arg(s2.keys_dir())
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .current_dir(s2.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    loop {
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(l) if l.starts_with("listening on") => break,
            Ok(_) => {}
            Err(e) => {
                let _ = child.kill();
                panic!("restored server did not start: {e}");
            }
        }
    }
    let host = PrivateKey::read_openssh_file(s2.keys_dir().join("ssh_host_ed25519_key")).unwrap();
    let mut client = Client::connect(
        format!("127.0.0.1:{port}").parse().unwrap(),
        host.public_key().clone(),
    )
    .await;
    assert!(client.pubkey("clerk+demo", Arc::new(key)).await.success());
    let listed = client.exec("packages list --status waiting").await;
    assert!(
        waiting.iter().any(|t| listed.stdout.contains(t)),
        "restored packages listed:\n{}",
        listed.stdout
    );
    drop(client);
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    assert!(child.wait().unwrap().success());
}

/// Intakes keep committing while the backup runs: every intake acknowledged before the
/// backup began is in it, and the restored database matches the manifest (one snapshot).
#[tokio::test]
async fn a_backup_during_concurrent_intakes_holds_every_acknowledged_intake() {
    let db = fresh_db().await;
    let p = member(&db, "north", "ann", Role::Operator).await;
    let app = db.app(4).await.unwrap();
    let acked = Arc::new(Mutex::new(Vec::<i64>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let (app, p, acked, stop) = (app.clone(), p.clone(), acked.clone(), stop.clone());
            tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let mut tx = app.tenant(&p).await.unwrap();
                    let new = NewPackage {
                        tracking: format!("TBA{w}{i:011}"),
                        location: "shelf B".try_into().unwrap(),
                        ..Default::default()
                    };
                    let got = packages::intake(&mut tx, &new).await.unwrap();
                    tx.commit().await.unwrap();
                    acked.lock().unwrap().push(got.package.id);
                    i += 1;
                }
            })
        })
        .collect();
    while acked.lock().unwrap().len() < 30 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before: Vec<i64> = acked.lock().unwrap().clone();

    let tmp = tempfile::tempdir().unwrap();
    let id = age::x25519::Identity::generate();
    let owner = db.owner_pool().await.unwrap();
    let src = backup::make::Source {
        owner: &owner,
        client: backup::PgClient::of(&db),
        data_dir: tmp.path(),
        keys_dir: tmp.path(),
        pace: None,
    };
    let made = backup::make::make(
        &src,
        tmp.path(),
        &EncryptTo::Recipient(id.to_public()),
        false,
    )
    .await
    .unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    assert!(
        acked.lock().unwrap().len() > before.len(),
        "intakes went on during the backup"
    );

    // Restore into a new, empty database on the shared cluster, reached as an external
    // server would be (DATABASE_URL: pg_restore from the installed tools, password out of
    // the URL).
    let cluster = TestCluster::shared();
    let name = format!("bk{}_{}", std::process::id(), made.manifest.packages());
    let empty = Database::embedded(cluster.cluster().clone(), &name)
        .await
        .unwrap();
    let target = Database::open(&packtrack::config::Config {
        data_dir: tmp.path().to_path_buf(),
        keys_dir: tmp.path().to_path_buf(),
        database_url: Some(empty.owner_url().to_string()),
    })
    .await
    .unwrap();
    assert!(target.cluster().is_none());
    let verdict = backup::restore::restore(
        &backup::restore::Target {
            db: &target,
            data_dir: tmp.path(),
            keys_dir: tmp.path(),
            without_secrets_key: false,
        },
        &made.path,
        DecryptWith::Identities(vec![id]),
    )
    .await
    .unwrap();
    assert_eq!(verdict.manifest.packages(), made.manifest.packages());
    let restored = target.owner_pool().await.unwrap();
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM packages")
        .fetch_all(&restored)
        .await
        .unwrap();
    assert_eq!(ids.len() as i64, made.manifest.packages());
    for id in &before {
        assert!(ids.contains(id), "acknowledged intake {id} missing");
    }
    restored.close().await;
}

/// `serve --backup-dir … --backup-keep 2`: each run writes, verifies, then prunes to the
/// newest two; a run that cannot write is recorded as failed and removes nothing.
#[tokio::test]
async fn scheduled_backups_rotate_after_verifying() {
    use packtrack::backup::schedule::{Job, Outcome, Schedule, once};
    let db = fresh_db().await;
    member(&db, "north", "ann", Role::Operator).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("backups");
    let id = age::x25519::Identity::generate();
    let owner = db.owner_pool().await.unwrap();
    let job = |dir: PathBuf| Job {
        owner: owner.clone(),
        client: backup::PgClient::of(&db),
        data_dir: tmp.path().to_path_buf(),
        keys_dir: tmp.path().to_path_buf(),
        schedule: Schedule {
            dir,
            every: Duration::from_secs(3600),
            keep: 2,
            key: EncryptTo::Recipient(id.to_public()),
            check: Some(DecryptWith::Identities(vec![id.clone()])),
            pace: None,
        },
    };
    let job = job(dir.clone());
    let mut files = Vec::new();
    for _ in 0..3 {
        match once(&job).await {
            Outcome::Verified { file, .. } => files.push(file),
            other => panic!("{other:?}"),
        }
    }
    let mut left: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    left.sort();
    assert_eq!(
        left,
        files[1..].to_vec(),
        "the oldest went, nothing partial stayed"
    );

    // A directory that cannot be created (a file is in the way).
    let blocked = tmp.path().join("file");
    std::fs::write(&blocked, b"").unwrap();
    let mut broken = job;
    broken.schedule.dir = blocked.join("backups");
    assert!(matches!(once(&broken).await, Outcome::Failed(_)));
    let (ok, detail): (bool, String) = sqlx::query_as(
        "SELECT ok, detail FROM backup_runs WHERE kind = 'backup' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&broken.owner)
    .await
    .unwrap();
    assert!(!ok && detail.starts_with("backup failed"), "{detail}");
    let verified: i64 =
        sqlx::query_scalar("SELECT count(*) FROM backup_runs WHERE kind = 'verify' AND ok")
            .fetch_one(&broken.owner)
            .await
            .unwrap();
    assert_eq!(verified, 3);
}
