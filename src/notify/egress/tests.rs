use super::*;

fn url(s: &str) -> url::Url {
    url::Url::parse(s).expect("url")
}

#[test]
fn literal_addresses_in_any_spelling_are_refused() {
    let e = Egress::default();
    for u in [
        "http://127.0.0.1:9222/metrics",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://127.1/",
        "http://[::1]:5432/",
        "http://[::ffff:127.0.0.1]/",
        "http://169.254.169.254/latest/meta-data/",
        "https://10.0.0.5/hook",
        "http://0.0.0.0:2222/",
        "smtp://127.0.0.1:25",
        "smtp://[fe80::1]:25",
    ] {
        let err = e.check_url(&url(u)).expect_err(u);
        assert!(err.message.starts_with("refused: "), "{u}: {err}");
        assert!(err.message.contains("--notify-allow-private"), "{err}");
    }
    for u in [
        "https://hooks.example.org/x",
        "http://93.184.215.14/",
        "smtp://mail.example.org",
    ] {
        assert!(e.check_url(&url(u)).is_ok(), "{u}");
    }
}

#[test]
fn the_hosts_allow_list_opens_exactly_its_networks() {
    let e = Egress::allowing("10.0.0.0/8,127.0.0.1".parse().expect("nets"));
    assert!(e.check_url(&url("http://10.9.8.7/")).is_ok());
    assert!(e.check_url(&url("http://127.0.0.1:8080/")).is_ok());
    assert!(e.check_url(&url("http://127.0.0.2/")).is_err());
    assert!(e.check_url(&url("http://192.168.1.1/")).is_err());
    assert!(e.check_url(&url("http://169.254.169.254/")).is_err());
}

#[tokio::test]
async fn a_name_for_loopback_is_refused_when_resolved() {
    let e = Egress::default();
    let err = e.resolve("localhost", 25).await.expect_err("localhost");
    assert!(err.message.contains("localhost ("), "{err}");
    assert!(err.message.contains("loopback"), "{err}");
    assert!(e.vet("localhost", 25).await.is_err());
    assert!(e.vet("127.0.0.1", 25).await.is_err());
    let ok = Egress::allowing("127.0.0.0/8,::1".parse().expect("nets"));
    let addrs = ok.resolve("localhost", 25).await.expect("allowed");
    assert!(addrs.iter().all(|a| a.port() == 25 && a.ip().is_loopback()));
    assert!(ok.vet("localhost", 25).await.is_ok());
}
