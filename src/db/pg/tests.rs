use super::*;

#[test]
fn socket_dir_survives_the_shell_and_postgres_list_parsing() {
    assert_eq!(
        socket_dir_option(Path::new("/srv/pt/postgres")).unwrap(),
        r#"-k '"/srv/pt/postgres"'"#
    );
    // A quote for the shell, a comma and a double quote for postgres' list syntax.
    assert_eq!(
        socket_dir_option(Path::new(r#"/srv/o'neil, "x"/postgres"#)).unwrap(),
        r#"-k '"/srv/o'\''neil, ""x""/postgres"'"#
    );
}

/// `sleep` under the name `postgres`, with its working directory in `cwd`.
fn fake_postgres(bin_dir: &Path, cwd: &Path) -> std::process::Child {
    let fake = bin_dir.join("postgres");
    if !fake.exists() {
        fs::copy("/bin/sleep", &fake).unwrap();
    }
    Command::new(&fake)
        .arg("5")
        .current_dir(cwd)
        .spawn()
        .unwrap()
}

#[test]
fn another_clusters_postgres_is_not_our_postmaster() {
    let (bins, ours, theirs) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let mut other = fake_postgres(bins.path(), theirs.path());
    assert!(!is_postmaster_of(other.id() as i32, ours.path()));
    assert!(is_postmaster_of(other.id() as i32, theirs.path()));
    let _ = other.kill();
    let _ = other.wait();
    assert!(
        !is_postmaster_of(other.id() as i32, theirs.path()),
        "reaped"
    );
    // Not postgres, though in the data dir (an administrator's shell, say).
    let mut shell = Command::new("sleep")
        .arg("5")
        .current_dir(ours.path())
        .spawn()
        .unwrap();
    assert!(!is_postmaster_of(shell.id() as i32, ours.path()));
    let _ = shell.kill();
    let _ = shell.wait();
    assert!(!is_postmaster_of(std::process::id() as i32, ours.path()));
    assert!(!is_postmaster_of(0, ours.path()));
    assert!(!is_postmaster_of(-1, ours.path()));
}

#[test]
fn the_reason_a_replay_stopped_is_not_hidden_by_a_refused_connection() {
    let log = "\
2026-12-05 16:43:33.701 UTC [3339] LOG:  redo done at 0/3000148
2026-12-05 16:43:33.702 UTC [3339] FATAL:  recovery ended before configured recovery target was reached
2026-12-05 16:43:33.741 UTC [3340] FATAL:  the database system is in recovery mode
2026-12-05 16:43:33.750 UTC [3331] LOG:  startup process (PID 3339) exited with exit code 1";
    let why = archive::last_fatal_of(log).unwrap();
    assert!(
        why.contains("before configured recovery target was reached"),
        "{why}"
    );
    assert_eq!(
        archive::last_fatal_of("x FATAL:  the database system is starting up"),
        None
    );
}
