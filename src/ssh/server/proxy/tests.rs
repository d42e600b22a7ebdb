use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};

use proptest::prelude::*;

use super::*;

/// Reads a header from `bytes`; also returns what was left unread.
fn read(bytes: &[u8]) -> (Result<Option<SocketAddr>, BadHeader>, Vec<u8>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut r = bytes;
        let res = read_header(&mut r).await;
        (res, r.to_vec())
    })
}

fn v2(command: ppp::v2::Command, from: SocketAddr, to: SocketAddr, tlv: &[u8]) -> Vec<u8> {
    let version_command = ppp::v2::Version::Two as u8 | command as u8;
    let mut b =
        ppp::v2::Builder::with_addresses(version_command, ppp::v2::Protocol::Stream, (from, to));
    if !tlv.is_empty() {
        b = b.write_tlv(ppp::v2::Type::NoOp, tlv).expect("tlv");
    }
    b.build().expect("v2 header")
}

const SSH: &[u8] = b"SSH-2.0-OpenSSH_10.0\r\n";

#[test]
fn cidrs_parse_and_match() {
    let t: TrustedProxies = "10.0.0.0/8, 127.0.0.1,fd00::/8".parse().expect("list");
    assert!(t.trusts("10.200.3.4".parse().expect("ip")));
    assert!(t.trusts("127.0.0.1".parse().expect("ip")));
    assert!(!t.trusts("127.0.0.2".parse().expect("ip")));
    assert!(!t.trusts("11.0.0.1".parse().expect("ip")));
    assert!(t.trusts("fd12::1".parse().expect("ip")));
    // A dual-stack listener sees IPv4 peers as IPv4-mapped IPv6.
    assert!(t.trusts("::ffff:10.1.2.3".parse().expect("ip")));
    assert_eq!(t.to_string(), "10.0.0.0/8,127.0.0.1/32,fd00::/8");
    let odd: TrustedProxies = "192.168.1.128/25".parse().expect("list");
    assert!(odd.trusts("192.168.1.200".parse().expect("ip")));
    assert!(!odd.trusts("192.168.1.100".parse().expect("ip")));
    let any: TrustedProxies = "0.0.0.0/0".parse().expect("list");
    assert!(any.trusts("1.2.3.4".parse().expect("ip")));
    for bad in [
        "",
        "10.0.0.0/33",
        "fd00::/129",
        "example.org",
        "10.0.0.0/x",
        ",",
    ] {
        assert!(bad.parse::<TrustedProxies>().is_err(), "{bad:?} accepted");
    }
}

#[test]
fn v1_gives_the_client_and_leaves_the_ssh_bytes() {
    let mut bytes = b"PROXY TCP4 203.0.113.7 10.0.0.5 51234 2222\r\n".to_vec();
    bytes.extend_from_slice(SSH);
    let (res, rest) = read(&bytes);
    assert_eq!(res, Ok(Some("203.0.113.7:51234".parse().expect("addr"))));
    assert_eq!(rest, SSH);
    let (res, rest) = read(b"PROXY TCP6 2001:db8::7 2001:db8::1 4000 22\r\nSSH-");
    assert_eq!(res, Ok(Some("[2001:db8::7]:4000".parse().expect("addr"))));
    assert_eq!(rest, b"SSH-");
    // UNKNOWN: the proxy's own connection stands.
    assert_eq!(read(b"PROXY UNKNOWN\r\nSSH-").0, Ok(None));
}

#[test]
fn v2_proxy_and_local() {
    let from: SocketAddr = "198.51.100.9:40000".parse().expect("addr");
    let to: SocketAddr = "10.0.0.5:2222".parse().expect("addr");
    let mut bytes = v2(ppp::v2::Command::Proxy, from, to, b"vpce-0123");
    bytes.extend_from_slice(SSH);
    let (res, rest) = read(&bytes);
    assert_eq!(res, Ok(Some(from)));
    assert_eq!(rest, SSH);
    let (res, rest) = read(&v2(ppp::v2::Command::Local, from, to, b""));
    assert_eq!(res, Ok(None));
    assert!(rest.is_empty());
}

#[test]
fn refusals() {
    assert_eq!(read(SSH).0, Err(BadHeader::Missing));
    assert_eq!(read(b"PROX").0, Err(BadHeader::Closed));
    assert_eq!(read(b"PROXY TCP4 1.2.3.4").0, Err(BadHeader::Closed));
    assert_eq!(
        read(b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 extra junk\r\n").0,
        Err(BadHeader::Malformed)
    );
    let long = format!("PROXY {}\r\n", "A".repeat(200));
    assert_eq!(read(long.as_bytes()).0, Err(BadHeader::TooLong));
    // A v2 header announcing more than the cap is refused before its body is read.
    let mut big = V2_SIGNATURE.to_vec();
    big.extend_from_slice(&[0x21, 0x11, 0xff, 0xff]);
    assert_eq!(read(&big).0, Err(BadHeader::TooLong));
    // Signature, then a bad version.
    let mut bad = V2_SIGNATURE.to_vec();
    bad.extend_from_slice(&[0x31, 0x11, 0x00, 0x0c]);
    bad.extend_from_slice(&[0; 12]);
    assert_eq!(read(&bad).0, Err(BadHeader::Malformed));
}

#[test]
fn the_sniffer_knows_a_header_from_ssh() {
    assert_eq!(classify(b""), Start::Undecided);
    assert_eq!(classify(b"PRO"), Start::Undecided);
    assert_eq!(classify(b"PROXY "), Start::Header);
    assert_eq!(classify(b"\r\n\r\n"), Start::Undecided);
    assert_eq!(classify(V2_SIGNATURE), Start::Header);
    assert_eq!(classify(b"S"), Start::Other);
    assert_eq!(classify(SSH), Start::Other);
    assert_eq!(classify(b"PROXX"), Start::Other);
}

fn socket_addr() -> impl Strategy<Value = SocketAddr> {
    prop_oneof![
        (any::<u32>(), any::<u16>())
            .prop_map(|(ip, port)| SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::from(ip), port))),
        (any::<u128>(), any::<u16>()).prop_map(|(ip, port)| SocketAddr::V6(SocketAddrV6::new(
            Ipv6Addr::from(ip),
            port,
            0,
            0
        ))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any bytes: no panic, and never more taken than the caps allow.
    #[test]
    fn any_bytes_are_read_within_the_caps(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let (_, rest) = read(&bytes);
        prop_assert!(bytes.len() - rest.len() <= V2_FIXED + V2_MAX_BODY);
    }

    /// Headers written by a real writer come back exactly, and whatever follows is untouched.
    #[test]
    fn written_headers_come_back(
        from in socket_addr(),
        to_port in any::<u16>(),
        tlv in proptest::collection::vec(any::<u8>(), 0..64),
        after in proptest::collection::vec(any::<u8>(), 0..64),
        text in any::<bool>(),
    ) {
        let to = match from {
            SocketAddr::V4(_) => SocketAddr::new(Ipv4Addr::LOCALHOST.into(), to_port),
            SocketAddr::V6(_) => SocketAddr::new(Ipv6Addr::LOCALHOST.into(), to_port),
        };
        let mut bytes = if text {
            let family = if from.is_ipv4() { "TCP4" } else { "TCP6" };
            format!("PROXY {family} {} {} {} {}\r\n", from.ip(), to.ip(), from.port(), to.port())
                .into_bytes()
        } else {
            v2(ppp::v2::Command::Proxy, from, to, &tlv)
        };
        bytes.extend_from_slice(&after);
        let (res, rest) = read(&bytes);
        prop_assert_eq!(res, Ok(Some(from)));
        prop_assert_eq!(rest, after);
    }
}
