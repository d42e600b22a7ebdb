//! Number formats of the reports screen.

#[test]
fn numbers_read_well() {
    assert_eq!(super::thousands(0), "0");
    assert_eq!(super::thousands(999), "999");
    assert_eq!(super::thousands(1000), "1,000");
    assert_eq!(super::thousands(1_234_567), "1,234,567");
    assert_eq!(super::human_hours(5.25), "5.2h");
    assert_eq!(super::human_hours(37.5), "1d 13.5h");
}
