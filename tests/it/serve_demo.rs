//! The README's first command, as a newcomer runs it: `packtrack serve --demo` on a fresh
//! data dir creates its private cluster and demo data, prints the `ssh` line, registers the
//! newcomer's `~/.ssh/id_*.pub`, lets that key in, and stops its cluster on SIGTERM.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use russh::keys::PrivateKey;

use crate::ssh_support::{Client, new_key};
use crate::support::Sandbox;

#[tokio::test]
async fn serve_demo_prints_the_ssh_line_and_lets_the_newcomers_key_in() {
    let s = Sandbox::new();
    // The newcomer's home, with one key pair as `ssh-keygen` leaves it.
    let home = s.path().join("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    let key = new_key();
    std::fs::write(
        home.join(".ssh/id_ed25519.pub"),
        key.public_key().to_openssh().unwrap(),
    )
    .unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_packtrack"))
        .arg("--data-dir")
        .arg(s.data_dir())
        .arg("--keys-dir")
        .arg(s.keys_dir())
        .args(["serve", "--demo", "--listen", &format!("127.0.0.1:{port}")])
        .env("HOME", &home)
        .env_remove("DATABASE_URL")
        .env_remove("PACKTRACK_DATA_DIR")
        .env_remove("PACKTRACK_KEYS_DIR")
        .env("RUST_LOG", "warn")
        .current_dir(s.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn packtrack serve --demo");
    // stderr: wait for "listening on"; keep the rest for the failure message.
    let (tx, rx) = mpsc::channel::<String>();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let listening = loop {
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(line) if line.starts_with("listening on") => break line,
            Ok(line) => seen.push(line),
            Err(e) => {
                let _ = child.kill();
                panic!(
                    "no `listening on` ({e}); stderr so far:\n{}",
                    seen.join("\n")
                );
            }
        }
    };
    assert_eq!(listening, format!("listening on 127.0.0.1:{port}"));

    // The host key the server created, pinned like a known_hosts entry.
    let host = PrivateKey::read_openssh_file(s.keys_dir().join("ssh_host_ed25519_key"))
        .expect("host key written 0600 in the keys dir");
    let mut client = Client::connect(
        format!("127.0.0.1:{port}").parse().unwrap(),
        host.public_key().clone(),
    )
    .await;
    let auth = client.pubkey("clerk+demo", Arc::new(key.clone())).await;
    assert!(
        auth.success(),
        "the newcomer's key logs in as the demo clerk"
    );
    let mut shell = client.shell(80, 24).await;
    shell.wait_text("Demo Mailroom").await;
    shell.wait_text("q quit").await;
    drop(shell);
    drop(client);

    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "serve exits cleanly on SIGTERM: {status:?}"
    );
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    assert!(
        stdout.contains(&format!("ssh -p {port} admin+demo@127.0.0.1")),
        "the printed ssh line:\n{stdout}"
    );
    assert!(
        !stdout.contains("no ~/.ssh/id_*.pub found"),
        "the key was found:\n{stdout}"
    );
    s.assert_cluster_stopped();
}
