use super::*;

#[test]
fn intervals() {
    assert_eq!(parse_every("24h"), Ok(Duration::from_secs(86400)));
    assert_eq!(parse_every("7d"), Ok(Duration::from_secs(7 * 86400)));
    assert_eq!(parse_every("90m"), Ok(Duration::from_secs(5400)));
    assert!(parse_every("10s").is_err());
    assert!(parse_every("h").is_err());
    assert!(parse_every("3w").is_err());
}
