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
