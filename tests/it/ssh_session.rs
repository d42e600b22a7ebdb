//! PTY sessions and exec commands end to end: the screen through a `vt100` parser,
//! resize, quit, idle timeout, dropped connections, shutdown; exec output and status.

use std::sync::Arc;
use std::time::{Duration, Instant};

use packtrack::domain::Role;
use packtrack::ssh::limits::Limits;
use russh::keys::PrivateKey;

use super::ssh_support::{Client, LEAVE_TAIL, STEP, Shell, TestServer, test_limits};

const SLUG: &str = "harbor";
const NAME: &str = "Harbor Street Mailroom";

async fn setup(limits: Limits) -> (TestServer, Arc<PrivateKey>, String) {
    let s = TestServer::start(limits).await;
    s.facility(SLUG, NAME).await;
    let key = s.key_user("clerk", SLUG, Role::Operator).await;
    (s, key, format!("clerk+{SLUG}"))
}

async fn first_screen(c: &Client, cols: u16, rows: u16) -> Shell {
    let mut sh = c.shell(cols, rows).await;
    sh.wait_text(NAME).await;
    sh
}

/// The screen was handed back: main screen active, and the restore sequence was sent.
fn assert_restored(sh: &Shell) {
    assert!(
        !sh.screen().alternate_screen(),
        "still on the alternate screen"
    );
    assert!(sh.raw_text().contains(LEAVE_TAIL), "no restore sequence");
    assert!(!sh.screen().hide_cursor(), "cursor left hidden");
    assert!(!sh.screen().bracketed_paste(), "bracketed paste left on");
}

/// The interface is laid out for `cols`×`rows`: boxes from the second row down to the
/// third-last, key hints on the last row.
fn laid_out_for(sh: &Shell, cols: u16, rows: u16) -> bool {
    sh.cell(1, 0) == "┌"
        && sh.cell(1, cols - 1) == "┐"
        && sh.cell(rows - 3, 0) == "└"
        && sh.cell(rows - 3, cols - 1) == "┘"
        && sh
            .screen()
            .rows(0, cols)
            .nth(usize::from(rows - 1))
            .is_some_and(|last| last.contains("q quit"))
}

#[tokio::test]
async fn first_screen_shows_facility_user_and_role() {
    let (s, key, user) = setup(test_limits()).await;
    let c = s.login_key(&user, &key).await;
    let mut sh = first_screen(&c, 80, 24).await;
    sh.wait_for("the dashboard at 80x24", |sh| laid_out_for(sh, 80, 24))
        .await;
    let text = sh.text();
    assert!(
        sh.screen().alternate_screen(),
        "not on the alternate screen"
    );
    assert!(
        text.lines()
            .next()
            .is_some_and(|head| head.contains(&format!("{NAME} · clerk (operator)"))),
        "{text}"
    );
    assert_eq!(s.handle().active_sessions(), 1);
}

#[tokio::test]
async fn resize_redraws_at_the_new_size() {
    let (s, key, user) = setup(test_limits()).await;
    let c = s.login_key(&user, &key).await;
    let mut sh = first_screen(&c, 80, 24).await;
    sh.wait_for("the dashboard at 80x24", |sh| laid_out_for(sh, 80, 24))
        .await;

    sh.resize(100, 30).await;
    sh.wait_for("the dashboard redrawn at 100x30", |sh| {
        laid_out_for(sh, 100, 30)
    })
    .await;
    // Nothing of the old frame is left: its bottom corners are inside the new boxes.
    assert_eq!(sh.cell(21, 0), "│", "{}", sh.text());
    assert_ne!(sh.cell(21, 79), "┘", "{}", sh.text());
    assert!(sh.text().contains(NAME));

    // Shrinking below the minimum switches to the enlarge message.
    sh.resize(30, 8).await;
    sh.wait_text("Enlarge").await;
    assert!(sh.flat().contains("30x8"), "{}", sh.text());
    // And back.
    sh.resize(60, 20).await;
    sh.wait_for("the dashboard redrawn at 60x20", |sh| {
        laid_out_for(sh, 60, 20)
    })
    .await;
    assert!(!sh.flat().contains("Enlarge"), "{}", sh.text());
    assert!(sh.text().contains(NAME));
}

#[tokio::test]
async fn q_restores_the_screen_and_exits_zero() {
    let (s, key, user) = setup(test_limits()).await;
    let c = s.login_key(&user, &key).await;
    let mut sh = first_screen(&c, 80, 24).await;
    sh.send(b"q").await;
    sh.wait_text("Quit? y/n").await;
    sh.send(b"y").await;
    sh.wait_closed(STEP).await;
    assert!(
        sh.raw_text().ends_with(LEAVE_TAIL),
        "output does not end with the restore sequence: {:?}",
        &sh.raw_text()[sh.raw.len().saturating_sub(40)..]
    );
    assert_restored(&sh);
    assert_eq!(sh.exit, Some(0));
    s.eventually("no active sessions", |h| h.active_sessions() == 0)
        .await;
}

#[tokio::test]
async fn a_tiny_terminal_gets_the_enlarge_message() {
    let (s, key, user) = setup(test_limits()).await;
    let c = s.login_key(&user, &key).await;
    let mut sh = c.shell(20, 5).await;
    sh.wait_text("Enlarge").await;
    let flat = sh.flat();
    assert!(
        flat.contains(&format!(
            "{}x{}",
            packtrack::ui::MIN_WIDTH,
            packtrack::ui::MIN_HEIGHT
        )),
        "{}",
        sh.text()
    );
    assert!(!flat.contains(NAME), "the full layout drawn into 20x5");
    // Ctrl-C still quits there.
    sh.send(b"\x03").await;
    sh.wait_closed(STEP).await;
    assert_restored(&sh);
    assert_eq!(sh.exit, Some(0));
}

#[tokio::test]
async fn end_of_input_ends_the_session_cleanly() {
    let (s, key, user) = setup(test_limits()).await;
    let c = s.login_key(&user, &key).await;
    let mut sh = first_screen(&c, 80, 24).await;
    // The client's stdin ends (e.g. `ssh -tt host < file`): no hang, screen restored.
    sh.eof().await;
    sh.wait_closed(STEP).await;
    assert_restored(&sh);
    assert_eq!(sh.exit, Some(0));
    s.eventually("no active sessions", |h| h.active_sessions() == 0)
        .await;
}

/// The client vanishes without a word (its runtime, and with it the socket, is gone):
/// the session task ends and its resources are freed.
#[tokio::test]
async fn a_dropped_connection_ends_the_session() {
    let (s, key, user) = setup(test_limits()).await;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("client runtime");
    let (addr, host_key) = (s.addr(), s.handle().host_key.clone());
    // The client's connection task runs on `rt`.
    let mut c = rt
        .spawn(async move { Client::connect(addr, host_key).await })
        .await
        .expect("connect task");
    assert!(c.pubkey(&user, key.clone()).await.success());
    let sh = first_screen(&c, 80, 24).await;
    let other = s.login_key(&user, &key).await;
    let other_shell = first_screen(&other, 80, 24).await;
    assert_eq!(s.handle().active_sessions(), 2);
    assert_eq!(s.handle().connections(), 2);

    rt.shutdown_background();
    drop(sh);
    drop(c);
    s.eventually("the dropped session to end", |h| {
        h.active_sessions() == 1 && h.connections() == 1
    })
    .await;
    // The other session is untouched and still answers.
    assert_eq!(other.exec("whoami").await.stdout, "clerk harbor operator\n");
    assert_eq!(s.handle().active_sessions(), 1);
    drop(other_shell);
    other
        .handle
        .disconnect(russh::Disconnect::ByApplication, "bye", "en")
        .await
        .expect("disconnect");
    s.eventually("all sessions to end", |h| {
        h.active_sessions() == 0 && h.connections() == 0
    })
    .await;
}

#[tokio::test]
async fn idle_timeout_ends_the_session_and_restores_the_screen() {
    let limits = Limits {
        idle: Duration::from_secs(1),
        ..test_limits()
    };
    let (s, key, user) = setup(limits).await;
    let c = s.login_key(&user, &key).await;
    let started = Instant::now();
    let mut sh = first_screen(&c, 80, 24).await;
    sh.wait_closed(STEP).await;
    let after = started.elapsed();
    println!("idle session closed after {after:?}");
    assert!(after >= Duration::from_secs(1), "closed after {after:?}");
    assert_restored(&sh);
    assert!(
        sh.text().contains("without input"),
        "no idle message on the main screen:\n{}",
        sh.text()
    );
    assert_eq!(sh.exit, Some(0));
    s.eventually("no active sessions", |h| h.active_sessions() == 0)
        .await;
}

#[tokio::test]
async fn server_shutdown_restores_the_screen_of_an_open_session() {
    let (mut s, key, user) = setup(test_limits()).await;
    let c = s.login_key(&user, &key).await;
    let mut sh = first_screen(&c, 80, 24).await;
    let addr = s.addr();
    let shutdown = tokio::spawn(s.take_handle().shutdown());
    sh.wait_closed(STEP).await;
    assert_restored(&sh);
    assert!(
        sh.text().contains("shutting down"),
        "no shutdown message:\n{}",
        sh.text()
    );
    assert_eq!(sh.exit, Some(0));
    drop(sh);
    drop(c);
    tokio::time::timeout(STEP, shutdown)
        .await
        .expect("shutdown finishes")
        .expect("shutdown task");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "still accepting after shutdown"
    );
}

// ---------------------------------------------------------------------------------------
// Exec
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn exec_status_stderr_and_quoting() {
    let (s, key, user) = setup(test_limits()).await;
    let c = s.login_key(&user, &key).await;

    let out = c.exec("frobnicate --now").await;
    assert_eq!(out.status, Some(1), "{out:?}");
    assert_eq!(out.stdout, "", "{out:?}");
    assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
    assert!(
        out.stderr.ends_with('\n') && out.stderr.contains("frobnicate"),
        "{out:?}"
    );

    // Quotes group words: one argument "x y", which whoami does not take.
    let out = c.exec("whoami \"x y\"").await;
    assert_eq!(out.status, Some(1), "{out:?}");
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
    assert!(out.stderr.contains("argument"), "{out:?}");

    // Quotes are removed by the shell-style split.
    let out = c.exec("'who'\"ami\"").await;
    assert_eq!(out.stdout, "clerk harbor operator\n", "{out:?}");
    assert_eq!(out.status, Some(0));

    // An unbalanced quote is a user error, not a crash.
    let out = c.exec("whoami \"x").await;
    assert_eq!(out.status, Some(1), "{out:?}");
    assert_eq!(out.stderr.lines().count(), 1, "{out:?}");

    let out = c.exec("help").await;
    assert_eq!(out.status, Some(0));
    assert!(out.stdout.contains("whoami"), "{out:?}");
    assert_eq!(out.stderr, "");

    // Several commands on one connection, each its own session; none left behind.
    s.eventually("no active sessions", |h| h.active_sessions() == 0)
        .await;
    assert!(
        s.metrics()
            .sessions_total
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 5
    );
}

// ---------------------------------------------------------------------------------------
// The real OpenSSH client
// ---------------------------------------------------------------------------------------

fn ssh_args(key: &std::path::Path, port: u16) -> Vec<String> {
    [
        "-F",
        "/dev/null",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "BatchMode=yes",
        "-o",
        "LogLevel=ERROR",
        "-i",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([key.display().to_string(), "-p".into(), port.to_string()])
    .collect()
}

#[tokio::test]
async fn openssh_client_smoke() {
    if !std::process::Command::new("which")
        .arg("ssh")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        println!("note: no `ssh` binary installed; skipping the OpenSSH smoke test");
        return;
    }
    let (s, _key, user) = setup(test_limits()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let key_path = dir.path().join("id_ed25519");
    let keygen = tokio::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "smoke", "-f"])
        .arg(&key_path)
        .output()
        .await
        .expect("run ssh-keygen");
    assert!(keygen.status.success(), "{keygen:?}");
    let line = std::fs::read_to_string(key_path.with_extension("pub")).expect("public key");
    s.register_key_line("clerk", &line).await;
    let port = s.addr().port();
    let target = format!("{user}@127.0.0.1");

    // Exec.
    let out = tokio::time::timeout(
        STEP,
        tokio::process::Command::new("ssh")
            .args(ssh_args(&key_path, port))
            .arg(&target)
            .arg("whoami")
            .stdin(std::process::Stdio::null())
            .output(),
    )
    .await
    .expect("ssh whoami in time")
    .expect("run ssh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout {stdout:?} stderr {stderr:?}"
    );
    assert_eq!(
        stdout,
        format!("clerk {SLUG} operator\n"),
        "stderr {stderr:?}"
    );

    // An unknown command: exit status 1 passed through, one line on stderr.
    let out = tokio::time::timeout(
        STEP,
        tokio::process::Command::new("ssh")
            .args(ssh_args(&key_path, port))
            .arg(&target)
            .arg("frobnicate")
            .stdin(std::process::Stdio::null())
            .output(),
    )
    .await
    .expect("ssh frobnicate in time")
    .expect("run ssh");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).lines().count(),
        1,
        "{out:?}"
    );

    // A forced PTY (`ssh -tt`): the screen comes up, `q` quits with status 0.
    let mut child = tokio::process::Command::new("ssh")
        .args(ssh_args(&key_path, port))
        .arg("-tt")
        .arg(&target)
        .env("TERM", "xterm-256color")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn ssh -tt");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut seen = Vec::new();
    tokio::time::timeout(STEP, async {
        use tokio::io::AsyncReadExt;
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&seen).contains(NAME) {
            let n = stdout.read(&mut buf).await.expect("read ssh output");
            assert!(
                n > 0,
                "ssh ended early: {:?}",
                String::from_utf8_lossy(&seen)
            );
            seen.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .expect("first screen through ssh -tt");
    {
        use tokio::io::AsyncWriteExt;
        stdin.write_all(b"q").await.expect("send q");
        stdin.flush().await.expect("flush");
        // The answer to "Quit? y/n" comes after the question, as a person types it.
        tokio::time::sleep(Duration::from_millis(300)).await;
        stdin.write_all(b"y").await.expect("send y");
        stdin.flush().await.expect("flush");
    }
    let status = tokio::time::timeout(STEP, async {
        use tokio::io::AsyncReadExt;
        let mut rest = Vec::new();
        stdout.read_to_end(&mut rest).await.expect("read rest");
        seen.extend_from_slice(&rest);
        child.wait().await.expect("ssh exits")
    })
    .await
    .expect("ssh -tt ends after q");
    drop(stdin);
    assert_eq!(status.code(), Some(0));
    let text = String::from_utf8_lossy(&seen);
    assert!(text.contains(LEAVE_TAIL), "screen not restored: {text:?}");
}

/// `ssh -T host`: no terminal, no command. A short help and exit 1, not a full screen drawn
/// into a pipe.
#[tokio::test]
async fn a_shell_without_a_terminal_prints_help_and_exits() {
    let (s, key, user) = setup(test_limits()).await;
    let c = s.login_key(&user, &key).await;
    let out = c.shell_without_pty().await;
    assert_eq!(out.status, Some(1), "{out:?}");
    assert!(out.stdout.contains("packages list"), "{out:?}");
    assert!(
        !out.stdout.contains('\x1b'),
        "escape sequences in a pipe: {out:?}"
    );
    assert_eq!(out.stderr.lines().count(), 1, "{out:?}");
    assert!(out.stderr.contains("ssh -t"), "{out:?}");
    // The connection is still good for a command.
    assert_eq!(c.exec("whoami").await.status, Some(0));
}

/// A client that vanishes (its connection dropped mid-session, no quit, no channel close
/// of its own) still leaves "session end" with the duration in the log, not only
/// "session start". The real binary, for its real log.
#[tokio::test]
async fn a_vanished_client_still_logs_its_session_end() {
    let sandbox = crate::support::Sandbox::new();
    let (home, key) = sandbox.home_with_key();
    let served = sandbox.serve_from(&home, &["--demo"]);
    let mut client = Client::connect(served.addr, sandbox.host_key()).await;
    assert!(client.pubkey("clerk+demo", key.clone()).await.success());
    let mut sh = client.shell(80, 24).await;
    sh.wait_text("Demo Mailroom").await;
    // The log reaches the test through a pipe and a reader thread: wait for the line.
    let starts = || {
        served
            .log_lines()
            .iter()
            .filter(|l| l.contains("session start"))
            .count()
    };
    let deadline = Instant::now() + STEP;
    while starts() == 0 {
        assert!(
            Instant::now() < deadline,
            "no session start:\n{}",
            served.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(starts(), 1, "{}", served.log());
    drop(sh);
    drop(client);
    let deadline = Instant::now() + STEP;
    let end = loop {
        if let Some(l) = served
            .log_lines()
            .into_iter()
            .find(|l| l.contains("session end"))
        {
            break l;
        }
        assert!(
            Instant::now() < deadline,
            "no session end logged:\n{}",
            served.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        end.contains("login=clerk") && end.contains("duration_s="),
        "{end}"
    );

    // A command line over the 8 KiB limit: a message for the client, a line in the log.
    let mut client = Client::connect(served.addr, sandbox.host_key()).await;
    assert!(client.pubkey("clerk+demo", key).await.success());
    let out = client
        .exec(&format!("recipients search {}", "a".repeat(9000)))
        .await;
    assert_eq!(out.status, Some(1), "{out:?}");
    assert!(out.stderr.contains("8 KiB"), "{out:?}");
    let logged = || {
        served
            .log_lines()
            .iter()
            .any(|l| l.contains("command line over the limit"))
    };
    let deadline = Instant::now() + STEP;
    while !logged() {
        assert!(Instant::now() < deadline, "not logged:\n{}", served.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An unfinished bracketed paste over real SSH: after the paste went quiet, `q` is a key
/// again (it asks "Quit? y/n") instead of more paste.
#[tokio::test]
async fn an_unfinished_paste_gives_the_keys_back() {
    let (s, key, user) = setup(test_limits()).await;
    let c = s.login_key(&user, &key).await;
    let mut sh = first_screen(&c, 80, 24).await;
    sh.send(b"\x1b[200~hello").await;
    sh.send(&vec![b'x'; 100 * 1024]).await;
    tokio::time::sleep(packtrack::term::input::PASTE_IDLE + Duration::from_millis(300)).await;
    sh.send(b"q").await;
    sh.wait_text("Quit? y/n").await;
    sh.send(b"y").await;
    sh.wait_closed(STEP).await;
    assert_eq!(sh.exit, Some(0));
}
