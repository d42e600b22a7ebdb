use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

#[test]
fn the_hosts_own_services_and_private_networks_are_not_public() {
    for (addr, what) in [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "shared"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("fd00:ec2::254", "unique local"),
        ("fc00::1", "unique local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("255.255.255.255", "broadcast"),
        ("192.0.0.192", "IETF"),
        ("198.18.0.1", "benchmarking"),
        // IPv6 spellings of IPv4 addresses are judged by the IPv4 address inside.
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "link-local"),
        ("64:ff9b::a9fe:a9fe", "link-local"),
        ("2002:7f00:1::", "loopback"),
        ("::7f00:1", "loopback"),
    ] {
        let why = non_public(ip(addr));
        assert!(
            why.is_some_and(|w| w.contains(what)),
            "{addr}: {why:?}, expected {what}"
        );
    }
}

#[test]
fn public_addresses_pass() {
    for addr in [
        "93.184.215.14",
        "8.8.8.8",
        "172.32.0.1",
        "100.128.0.1",
        "2606:4700::1111",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
    ] {
        assert_eq!(non_public(ip(addr)), None, "{addr}");
    }
}

#[test]
fn nets_parse_match_and_print() {
    let n: Nets = "10.0.0.0/8, 127.0.0.1,fd00::/8".parse().expect("list");
    assert!(n.contains(ip("10.200.3.4")));
    assert!(n.contains(ip("127.0.0.1")));
    assert!(!n.contains(ip("127.0.0.2")));
    assert!(n.contains(ip("::ffff:10.1.2.3")));
    assert!(n.contains(ip("fd12::1")));
    assert_eq!(n.to_string(), "10.0.0.0/8,127.0.0.1/32,fd00::/8");
    for bad in ["", ",", "10.0.0.0/33", "example.org"] {
        assert!(bad.parse::<Nets>().is_err(), "{bad:?} accepted");
    }
}
