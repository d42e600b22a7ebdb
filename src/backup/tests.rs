use super::*;

#[test]
fn the_password_leaves_the_url() {
    let (url, pw) = split_password("postgresql://o:p%40ss@localhost:5432/db?host=/x/y");
    assert_eq!(pw.as_deref(), Some("p@ss"));
    assert!(
        !url.contains("p%40ss") && url.contains("host=/x/y"),
        "{url}"
    );
    assert_eq!(split_password("postgresql://o@h/db").1, None);
}

#[tokio::test]
async fn backup_work_and_its_child_processes_run_at_low_priority() {
    let (thread, child) = priority::background("test", || {
        let out = std::process::Command::new("sh")
            .args(["-c", "cat /proc/self/stat"])
            .output()
            .expect("sh runs");
        (
            priority::current_nice(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    })
    .await
    .expect("the thread runs");
    assert_eq!(thread, priority::NICE, "the backup thread itself");
    // /proc/PID/stat: field 19 is the nice value; the command name (2) is in parentheses.
    let after_comm = child.rsplit_once(')').expect("stat line").1;
    let nice: i32 = after_comm
        .split_whitespace()
        .nth(16)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        nice,
        priority::NICE,
        "a process it starts inherits the priority"
    );
    // The caller's thread is untouched: the runtime's workers keep serving at full priority.
    assert_eq!(priority::current_nice(), 0);
}
