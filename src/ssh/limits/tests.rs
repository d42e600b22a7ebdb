use super::*;

fn limiter(
    total: usize,
    per_ip: usize,
    startups_per_ip: usize,
    startups: usize,
) -> ConnectionLimiter {
    ConnectionLimiter::new(&Limits {
        max_connections: total,
        max_per_ip: per_ip,
        max_startups_per_ip: startups_per_ip,
        max_startups: startups,
        ..Limits::default()
    })
}

#[test]
fn per_ip_and_total_limits_release_on_drop() {
    let l = limiter(3, 2, 10, 100);
    let a: IpAddr = "10.0.0.1".parse().unwrap();
    let b: IpAddr = "10.0.0.2".parse().unwrap();
    let s1 = l.try_acquire(a).unwrap();
    let _s2 = l.try_acquire(a).unwrap();
    assert_eq!(l.try_acquire(a).err(), Some(Refusal::PerIp));
    let _s3 = l.try_acquire(b).unwrap();
    assert_eq!(l.try_acquire(b).err(), Some(Refusal::Total));
    drop(s1);
    let _s4 = l.try_acquire(a).unwrap();
    assert_eq!(l.active(), 3);
}

#[test]
fn one_address_cannot_hold_more_than_its_share_of_unauthenticated_connections() {
    let l = limiter(100, 50, 3, 100);
    let a: IpAddr = "10.0.0.1".parse().unwrap();
    let b: IpAddr = "10.0.0.2".parse().unwrap();
    let mut s: Vec<Slot> = (0..3).map(|_| l.try_acquire_with(a, 99).unwrap()).collect();
    assert_eq!(
        l.try_acquire_with(a, 99).err(),
        Some(Refusal::StartupsPerIp)
    );
    // Another address is not affected.
    let _b = l.try_acquire_with(b, 99).unwrap();
    // Authenticated connections of the same office address do not count (one NAT for
    // a whole building): its terminals log in while a flood is refused.
    s[0].authenticated();
    s[1].authenticated();
    let _more = l.try_acquire_with(a, 99).unwrap();
    assert_eq!(l.pending(), 3);
    assert_eq!(l.active(), 5);
    drop(s);
    assert_eq!(l.pending(), 2);
    assert_eq!(l.active(), 2);
}

#[test]
fn unauthenticated_connections_are_dropped_early_like_max_startups() {
    assert!(
        !early_drop(29, 100, 0),
        "below the start nothing is dropped"
    );
    assert!(early_drop(30, 100, 29), "at the start 30 % are");
    assert!(!early_drop(30, 100, 30));
    assert!(early_drop(65, 100, 64));
    assert!(!early_drop(65, 100, 65));
    assert!(early_drop(100, 100, 99), "at full every one is");
    let l = limiter(1000, 1000, 1000, 10);
    let slots: Vec<Slot> = (0..10u8)
        .map(|i| l.try_acquire_with(IpAddr::from([10, 0, 1, i]), 99).unwrap())
        .collect();
    assert_eq!(
        l.try_acquire_with("10.0.2.1".parse().unwrap(), 0).err(),
        Some(Refusal::Startups)
    );
    drop(slots);
    assert!(l.try_acquire_with("10.0.2.1".parse().unwrap(), 0).is_ok());
}
