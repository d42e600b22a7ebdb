//! Algorithms and russh settings: what the server offers and how long it waits.

use super::*;

/// Modern algorithms only: hybrid post-quantum / curve25519 key exchange with strict-kex,
/// AEAD ciphers, ETM MACs (only used with non-AEAD ciphers, of which we offer none).
pub fn preferred() -> Preferred {
    Preferred {
        kex: Cow::Borrowed(&[
            kex::MLKEM768X25519_SHA256,
            kex::CURVE25519,
            kex::CURVE25519_PRE_RFC_8731,
            kex::EXTENSION_SUPPORT_AS_SERVER,
            kex::EXTENSION_SUPPORT_AS_CLIENT,
            kex::EXTENSION_OPENSSH_STRICT_KEX_AS_SERVER,
            kex::EXTENSION_OPENSSH_STRICT_KEX_AS_CLIENT,
        ]),
        // On a server this is both the host key algorithms (filtered to our Ed25519 key)
        // and `server-sig-algs`, the user key signatures we accept.
        key: Cow::Borrowed(&[
            Algorithm::Ed25519,
            Algorithm::Ecdsa {
                curve: EcdsaCurve::NistP256,
            },
            Algorithm::Rsa {
                hash: Some(HashAlg::Sha512),
            },
            Algorithm::Rsa {
                hash: Some(HashAlg::Sha256),
            },
        ]),
        host_key_certificates: Cow::Borrowed(&[]),
        cipher: Cow::Borrowed(&[cipher::CHACHA20_POLY1305, cipher::AES_256_GCM]),
        mac: Cow::Borrowed(&[mac::HMAC_SHA512_ETM, mac::HMAC_SHA256_ETM]),
        compression: Cow::Borrowed(&[compression::NONE]),
    }
}

pub(super) fn config(host_key: PrivateKey, limits: &Limits) -> server::Config {
    server::Config {
        server_id: russh::SshId::Standard(Cow::Owned(format!(
            "SSH-2.0-packtrack_{}",
            env!("CARGO_PKG_VERSION")
        ))),
        // Advertised methods; `password` is also refused by not implementing it.
        methods: MethodSet::from(&[MethodKind::PublicKey, MethodKind::KeyboardInteractive][..]),
        auth_rejection_time: limits.auth_rejection,
        // The client's first `none` probe is not a guess; answer it at once.
        auth_rejection_time_initial: Some(Duration::ZERO),
        keys: vec![host_key],
        max_auth_attempts: limits.max_auth_attempts,
        // Backstop only: the app enforces the real idle timeout on input.
        inactivity_timeout: Some(limits.idle + Duration::from_secs(300)),
        keepalive_interval: Some(limits.keepalive),
        keepalive_max: 3,
        nodelay: true,
        preferred: preferred(),
        ..Default::default()
    }
}
