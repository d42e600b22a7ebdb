//! `packtrack serve` as a child process, for the tests that need the real binary (the
//! README's command, fault injection, shutdown paths, what reaches the log): started on a
//! free port with the sandbox's data and keys dirs, waited for until `listening on`, its
//! stdout and stderr kept line by line for assertions and failure messages, stopped on drop.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use russh::keys::{PrivateKey, PublicKey};

use crate::ssh_support::new_key;
use crate::support::Sandbox;

/// Far above the 10 s budget (measured by scripts/fault-sigterm.sh): the old code took
/// minutes, and a loaded CI machine must not make this flaky.
pub const EXIT_LIMIT: Duration = Duration::from_secs(25);
/// How long a cold start (initdb, migrations, demo data) may take on a loaded machine.
const START_LIMIT: Duration = Duration::from_secs(120);

/// A running `packtrack serve`; stopped (SIGTERM, then SIGKILL) on drop if still running.
pub struct Served {
    child: Child,
    pub addr: SocketAddr,
    stderr: Arc<Mutex<Vec<String>>>,
    stdout: Arc<Mutex<Vec<String>>>,
    stdout_reader: Option<std::thread::JoinHandle<()>>,
}

impl Served {
    /// Starts `packtrack --data-dir DATA --keys-dir KEYS serve ARGS --listen 127.0.0.1:PORT`
    /// with `HOME` (and the working directory) set to `home`, logging at info level (stderr is a
    /// pipe, so without colour), and waits for `listening on`.
    pub fn start(data_dir: &Path, keys_dir: &Path, home: &Path, args: &[&str]) -> Self {
        Self::start_env(data_dir, keys_dir, home, args, &[])
    }

    /// [`Served::start`] with these environment variables set (after the ones it clears).
    pub fn start_env(
        data_dir: &Path,
        keys_dir: &Path,
        home: &Path,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Self {
        let port = free_port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_packtrack"))
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--keys-dir")
            .arg(keys_dir)
            .arg("serve")
            .args(args)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env("HOME", home)
            .env_remove("DATABASE_URL")
            .env_remove("PACKTRACK_DATA_DIR")
            .env_remove("PACKTRACK_KEYS_DIR")
            .env_remove("PACKTRACK_LOG")
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .current_dir(home)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn packtrack serve");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let pipe = child.stderr.take().expect("stderr pipe");
        let lines = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let listening = line.starts_with("listening on");
                // Kept before the start is announced, so a test that reads the log right
                // after `start` returns finds the line.
                lines.lock().unwrap().push(line);
                if listening {
                    let _ = tx.send(());
                }
            }
        });
        let pipe = child.stdout.take().expect("stdout pipe");
        let lines = stdout.clone();
        let stdout_reader = std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        let mut served = Self {
            child,
            addr: format!("127.0.0.1:{port}").parse().unwrap(),
            stderr,
            stdout,
            stdout_reader: Some(stdout_reader),
        };
        if rx.recv_timeout(START_LIMIT).is_err() {
            let _ = served.child.kill();
            panic!("serve did not start:\n{}", served.log());
        }
        served
    }

    /// What the server wrote to stderr so far (its log), one line per line.
    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    /// The log's lines so far.
    pub fn log_lines(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// Everything the server wrote to stdout, once it has exited (the reader is joined so
    /// no line is missed).
    pub fn stdout_after_exit(&mut self) -> String {
        if let Some(reader) = self.stdout_reader.take() {
            let _ = reader.join();
        }
        self.stdout.lock().unwrap().join("\n")
    }

    pub fn signal(&self, sig: Signal) {
        kill(Pid::from_raw(self.child.id() as i32), sig).expect("signal serve");
    }

    /// SIGTERM; the process must exit cleanly within [`EXIT_LIMIT`], without a panic.
    pub fn terminate_ok(&mut self, what: &str) {
        self.signal(Signal::SIGTERM);
        let status = self.wait_exit(EXIT_LIMIT);
        // The readers see the pipes close once the process is gone; give the last lines a
        // moment to land before they are asserted on.
        std::thread::sleep(Duration::from_millis(50));
        let log = self.log();
        assert!(
            status.is_some(),
            "serve did not exit on SIGTERM {what}:\n{log}"
        );
        assert!(
            status.is_some_and(|st| st.success()),
            "serve exited with {status:?} on SIGTERM {what}:\n{log}"
        );
        assert!(!log.contains("panicked"), "{log}");
    }

    /// Waits for the process to exit, at most `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Served {
    /// A clean stop first: a killed `serve` leaves its embedded PostgreSQL running, orphaned
    /// in a sandbox directory that is removed next. SIGKILL only if it does not exit in time.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = kill(Pid::from_raw(self.child.id() as i32), Signal::SIGTERM);
            if self.wait_exit(EXIT_LIMIT).is_some() {
                return;
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sandbox {
    /// `serve ARGS` on this sandbox's data and keys dirs, with the sandbox as `HOME`.
    pub fn serve(&self, args: &[&str]) -> Served {
        Served::start(&self.data_dir(), &self.keys_dir(), self.path(), args)
    }

    /// `serve ARGS` with `home` as `HOME` (e.g. one made by [`Sandbox::home_with_key`]).
    pub fn serve_from(&self, home: &Path, args: &[&str]) -> Served {
        Served::start(&self.data_dir(), &self.keys_dir(), home, args)
    }

    /// A newcomer's home directory with one key pair as `ssh-keygen` leaves it, which
    /// `serve --demo` registers for the demo users.
    pub fn home_with_key(&self) -> (PathBuf, Arc<PrivateKey>) {
        let home = self.path().join("home");
        std::fs::create_dir_all(home.join(".ssh")).unwrap();
        let key = new_key();
        std::fs::write(
            home.join(".ssh/id_ed25519.pub"),
            key.public_key().to_openssh().unwrap(),
        )
        .unwrap();
        (home, Arc::new(key))
    }

    /// The host key the server created in the keys dir, pinned like a known_hosts entry.
    pub fn host_key(&self) -> PublicKey {
        host_key(&self.keys_dir())
    }
}

/// The host key in `keys_dir`.
pub fn host_key(keys_dir: &Path) -> PublicKey {
    PrivateKey::read_openssh_file(keys_dir.join("ssh_host_ed25519_key"))
        .expect("host key written 0600 in the keys dir")
        .public_key()
        .clone()
}

pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}
