use super::*;

#[test]
fn backoff_doubles_caps_and_jitters_within_half() {
    let cfg = WorkerConfig::default();
    assert_eq!(backoff(&cfg, 1, 0.5), Duration::from_millis(3750));
    assert_eq!(backoff(&cfg, 1, 0.0), Duration::from_millis(2500));
    assert_eq!(backoff(&cfg, 2, 0.0), Duration::from_secs(5));
    assert_eq!(backoff(&cfg, 4, 0.0), Duration::from_secs(20));
    assert_eq!(backoff(&cfg, 30, 0.0), Duration::from_secs(1800));
    assert_eq!(backoff(&cfg, i32::MAX, 0.0), Duration::from_secs(1800));
    assert!(backoff(&cfg, 40, 0.999) <= cfg.max_backoff);
    for _ in 0..100 {
        let u = jitter();
        assert!((0.0..1.0).contains(&u));
    }
}

fn worker() -> Worker {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .connect_lazy("postgres://nobody@127.0.0.1:1/none")
        .expect("lazy pool");
    let cfg = WorkerConfig {
        base_backoff: Duration::from_secs(3600),
        max_backoff: Duration::from_secs(36_000),
        ..WorkerConfig::default()
    };
    Worker::new(pool, SecretsKey::from_bytes(&[1u8; 32]), cfg).expect("worker")
}

/// Lets every pause run out (instead of waiting for it).
fn expire(w: &Worker) {
    for f in w.failing.lock().unwrap().values_mut() {
        if f.until.is_some() {
            f.until = Some(Instant::now());
        }
    }
}

#[tokio::test]
async fn failing_integrations_pause_double_and_resume_on_success() {
    let w = worker();
    // Failures short of the threshold, or interrupted by a success, pause nothing.
    w.record(Some(7), false);
    w.record(Some(7), false);
    w.record(Some(7), true);
    w.record(Some(7), false);
    w.record(None, false);
    assert!(w.paused().is_empty());
    w.record(Some(7), false);
    w.record(Some(7), false);
    assert_eq!(w.paused(), vec![7]);
    let first = w.failing.lock().unwrap()[&7];
    assert_eq!((first.streak, first.pauses), (3, 1));
    // More failures of rows already in flight do not extend the pause.
    w.record(Some(7), false);
    let f = w.failing.lock().unwrap()[&7];
    assert_eq!((f.pauses, f.until), (1, first.until));
    // Other integrations are unaffected.
    w.record(Some(8), false);
    assert_eq!(w.paused(), vec![7]);
    // Run out: claimed again; one more failure pauses it again, longer.
    expire(&w);
    assert!(w.paused().is_empty());
    w.record(Some(7), false);
    assert_eq!(w.paused(), vec![7]);
    let second = w.failing.lock().unwrap()[&7];
    assert_eq!(second.pauses, 2);
    let len = |f: Failing| f.until.unwrap().saturating_duration_since(Instant::now());
    // ½-1 h, then 1-2 h (the rows' schedule, doubled).
    assert!(len(second) >= Duration::from_secs(3590), "{second:?}");
    assert!(len(first) <= Duration::from_secs(3600), "{first:?}");
    // One success resumes it at once, from scratch.
    w.record(Some(7), true);
    assert!(w.paused().is_empty());
    assert!(!w.failing.lock().unwrap().contains_key(&7));
}

#[test]
fn quiet_hours() {
    let at = |h: u32, m: u32| -> DateTime<Utc> {
        format!("2026-03-01T{h:02}:{m:02}:17Z").parse().unwrap()
    };
    // 22:00-07:00, wrapping past midnight.
    assert_eq!(
        quiet_until(at(23, 30), 22, 7),
        Some("2026-03-02T07:00:00Z".parse().unwrap())
    );
    assert_eq!(
        quiet_until(at(3, 5), 22, 7),
        Some("2026-03-01T07:00:00Z".parse().unwrap())
    );
    assert_eq!(quiet_until(at(7, 0), 22, 7), None);
    assert_eq!(quiet_until(at(12, 0), 22, 7), None);
    assert_eq!(
        quiet_until(at(22, 0), 22, 7),
        Some("2026-03-02T07:00:00Z".parse().unwrap())
    );
    // 13:00-15:00 the same day.
    assert_eq!(
        quiet_until(at(14, 59), 13, 15),
        Some("2026-03-01T15:00:00Z".parse().unwrap())
    );
    assert_eq!(quiet_until(at(15, 0), 13, 15), None);
    assert_eq!(quiet_until(at(12, 59), 13, 15), None);
    assert_eq!(quiet_until(at(5, 0), 9, 9), None);
}
