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
            (priority::current_nice(), priority::current_policy()),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    })
    .await
    .expect("the thread runs");
    assert_eq!(
        thread,
        (priority::NICE, 5),
        "the backup thread: nice 19, SCHED_IDLE"
    );
    // /proc/PID/stat: field 19 is the nice value; the command name (2) is in parentheses.
    // Field 41 is the scheduling policy (5: SCHED_IDLE).
    let after_comm = child.rsplit_once(')').expect("stat line").1;
    let field = |n: usize| -> i32 {
        after_comm
            .split_whitespace()
            .nth(n - 3)
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(
        field(19),
        priority::NICE,
        "a process it starts inherits the priority"
    );
    assert_eq!(field(41), 5, "and runs under SCHED_IDLE");
    // The caller's thread is untouched: the runtime's workers keep serving at full priority.
    assert_eq!(priority::current_nice(), 0);
    assert_eq!(priority::current_policy(), 0, "SCHED_OTHER");
}

#[test]
fn pace_waits_only_while_input_is_recent_and_never_past_its_maximum() {
    use super::pace::next;
    use std::time::Duration;
    let ms = Duration::from_millis;
    let (quiet, max) = (ms(500), ms(5000));
    // No session ever typed, or the last key is older than the quiet period: go on.
    assert_eq!(next(quiet, max, None, ms(0)), None);
    assert_eq!(next(quiet, max, Some(ms(500)), ms(0)), None);
    // A key 100 ms ago: sleep a little (at most 50 ms, so new keys are seen) and look again.
    assert_eq!(next(quiet, max, Some(ms(100)), ms(0)), Some(ms(50)));
    assert_eq!(next(quiet, max, Some(ms(490)), ms(0)), Some(ms(10)));
    // The wait's end comes first: the last sleep is what is left of it, then go on.
    assert_eq!(next(quiet, max, Some(ms(0)), ms(4990)), Some(ms(10)));
    assert_eq!(next(quiet, max, Some(ms(0)), max), None);
    // A zero budget (a run whose pause budget is spent) never waits.
    assert_eq!(next(quiet, Duration::ZERO, Some(ms(0)), ms(0)), None);
}
