//! Scheduled backups step aside while a clerk types (`backup::pace`), over a real SSH
//! session of an in-process server: its keys are what holds the backup back.
//!
//! The in-process test is one test: the pause counter and the input clock are per process,
//! and only it runs paced backups in this process, so its numbers are its own. The other
//! runs `serve` and `admin backup` as processes of their own.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use packtrack::backup::pace::{self, Pace};
use packtrack::backup::schedule::{Job, Outcome, Schedule, once};
use packtrack::backup::{self, DecryptWith, EncryptTo};
use packtrack::domain::Role;

use crate::ssh_support::{Client, Shell, TestServer, test_limits};
use crate::support::Sandbox;

fn job(server: &TestServer, owner: &sqlx::PgPool, dir: &Path, pace: Option<Pace>) -> Job {
    let id = age::x25519::Identity::generate();
    Job {
        owner: owner.clone(),
        client: backup::PgClient::of(&server.db),
        data_dir: dir.to_path_buf(),
        keys_dir: dir.to_path_buf(),
        schedule: Schedule {
            dir: dir.join("backups"),
            every: Duration::from_secs(3600),
            keep: 2,
            key: EncryptTo::Recipient(id.to_public()),
            check: Some(DecryptWith::Identities(vec![id])),
            pace,
        },
    }
}

/// Types search letters a clerk's pace apart until `stop`, or `keys` of them.
async fn type_letters(shell: &Shell, keys: usize, stop: &AtomicBool) {
    for i in 0..keys {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let letter = [b'a' + (i % 26) as u8];
        shell.send(&letter).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn run_while_typing(job: &Job, shell: &Shell, keys: usize) -> (Outcome, Duration) {
    let stop = AtomicBool::new(false);
    let before = pace::paused_total();
    let run = async {
        let outcome = once(job).await;
        stop.store(true, Ordering::Relaxed);
        outcome
    };
    let (outcome, ()) = tokio::join!(run, type_letters(shell, keys, &stop));
    (outcome, pace::paused_total().saturating_sub(before))
}

#[tokio::test]
async fn a_scheduled_backup_waits_while_a_clerk_types_and_nonstop_typing_cannot_hold_it() {
    let server = TestServer::start(test_limits()).await;
    server.facility("north", "North Hall").await;
    let key = server.key_user("clerk", "north", Role::Operator).await;
    let client = server.login_key("clerk+north", &key).await;
    let mut shell = client.shell(80, 24).await;
    shell.wait_text("Dashboard").await;
    shell.send(b"r").await;
    shell.wait_text("Recipients (").await;
    let owner = server.db.owner_pool().await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let verified = |o: &Outcome| matches!(o, Outcome::Verified { .. });

    // Two seconds of typing: the run waits for half a second of quiet before it starts.
    let paced = Pace::default();
    let (outcome, waited) =
        run_while_typing(&job(&server, &owner, tmp.path(), Some(paced)), &shell, 20).await;
    assert!(verified(&outcome), "{outcome:?}");
    assert!(
        waited >= Duration::from_secs(1),
        "waited {waited:?} while a clerk typed"
    );

    // `serve --backup-no-pace`: the same typing holds nothing back.
    let (outcome, waited) =
        run_while_typing(&job(&server, &owner, tmp.path(), None), &shell, 20).await;
    assert!(verified(&outcome), "{outcome:?}");
    assert_eq!(waited, Duration::ZERO);

    // The attack: a logged-in user types without pause to keep backups (and the snapshot
    // they hold open) from ever running. The run's pause budget ends the waiting: it
    // finishes having waited about `run_max` (threads of one run may wait side by side).
    let budget = Pace {
        run_max: Duration::from_secs(1),
        ..Pace::default()
    };
    let (outcome, waited) = run_while_typing(
        &job(&server, &owner, tmp.path(), Some(budget)),
        &shell,
        usize::MAX,
    )
    .await;
    assert!(verified(&outcome), "{outcome:?}");
    assert!(
        waited >= Duration::from_millis(500) && waited <= Duration::from_secs(3),
        "nonstop typing held the run for {waited:?} with a 1 s budget"
    );
}

/// `admin backup` from a shell (or cron) on the server's host waits for the server's clerks
/// too: `serve` publishes its sessions' input clock as `DATA_DIR/.input-clock`.
#[tokio::test]
async fn a_backup_from_a_shell_waits_while_the_servers_clerks_type() {
    let sandbox = Arc::new(Sandbox::new());
    let (home, key) = sandbox.home_with_key();
    let served = sandbox.serve_from(&home, &["--demo"]);
    let mut client = Client::connect(served.addr, sandbox.host_key()).await;
    assert!(client.pubkey("clerk+demo", key).await.success());
    let mut shell = client.shell(80, 24).await;
    shell.wait_text("Dashboard").await;
    shell.send(b"r").await;
    shell.wait_text("Recipients (").await;
    let recipient = age::x25519::Identity::generate().to_public().to_string();

    for (flags, waits) in [(&[][..], true), (&["--no-pace"][..], false)] {
        let stop = AtomicBool::new(false);
        let (s, r) = (sandbox.clone(), recipient.clone());
        let out = sandbox.path().join("backups");
        let cli = async {
            // Typing first, so the backup meets a clerk at work.
            tokio::time::sleep(Duration::from_millis(300)).await;
            let run = tokio::task::spawn_blocking(move || {
                let mut args = vec!["admin", "backup", "--to", out.to_str().unwrap()];
                args.extend(["--recipient", &r]);
                args.extend(flags);
                s.ok(&args, None)
            })
            .await
            .unwrap();
            stop.store(true, Ordering::Relaxed);
            run
        };
        let (run, ()) = tokio::join!(cli, type_letters(&shell, 40, &stop));
        assert_eq!(
            run.stderr
                .contains("for the server's sessions to pause typing"),
            waits,
            "{flags:?}: {run:?}"
        );
    }
    drop(served);
}
