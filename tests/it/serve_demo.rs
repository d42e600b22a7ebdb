//! The README's first command, as a newcomer runs it: `packtrack serve --demo` on a fresh
//! data dir creates its private cluster and demo data, prints the `ssh` line, registers the
//! newcomer's `~/.ssh/id_*.pub`, lets that key in, and stops its cluster on SIGTERM.

use crate::ssh_support::Client;
use crate::support::Sandbox;

#[tokio::test]
async fn serve_demo_prints_the_ssh_line_and_lets_the_newcomers_key_in() {
    let s = Sandbox::new();
    // The newcomer's home, with one key pair as `ssh-keygen` leaves it.
    let (home, key) = s.home_with_key();
    let mut served = s.serve_from(&home, &["--demo"]);
    let port = served.addr.port();
    assert!(
        served
            .log_lines()
            .contains(&format!("listening on 127.0.0.1:{port}")),
        "{}",
        served.log()
    );
    let mut client = Client::connect(served.addr, s.host_key()).await;
    let auth = client.pubkey("clerk+demo", key).await;
    assert!(
        auth.success(),
        "the newcomer's key logs in as the demo clerk"
    );
    let mut shell = client.shell(80, 24).await;
    shell.wait_text("Demo Mailroom").await;
    shell.wait_text("q quit").await;
    drop(shell);
    drop(client);

    served.terminate_ok("after the newcomer's session");
    let stdout = served.stdout_after_exit();
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
