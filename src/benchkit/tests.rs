use super::*;

#[test]
fn nearest_rank() {
    let s: Vec<f64> = (1..=100).map(f64::from).collect();
    assert_eq!(pct(&s, 50.0), 50.0);
    assert_eq!(pct(&s, 99.0), 99.0);
    assert_eq!(pct(&s, 100.0), 100.0);
    assert_eq!(pct(&s, 0.0), 1.0);
    assert_eq!(pct(&[7.0], 99.0), 7.0);
    assert!(pct::<f64>(&[], 50.0).is_nan());
    assert_eq!(pct::<Duration>(&[], 50.0), Duration::ZERO);
    assert_eq!(median(&[3.0, 1.0, 2.0, 4.0]), 2.0);
}

#[test]
fn summary_sorts_and_handles_empty() {
    let s = Summary::of_ms(&[3.0, 1.0, 2.0]);
    assert_eq!((s.n, s.min, s.p50, s.max, s.mean), (3, 1.0, 2.0, 3.0, 2.0));
    assert!(Summary::of_ms(&[]).p50.is_nan());
    let d = Summary::of(&[Duration::from_millis(4)]);
    assert_eq!(d.p99, 4.0);
}
