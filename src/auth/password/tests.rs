use super::*;

#[tokio::test]
async fn hash_and_verify() {
    let h = hash("correct horse".into()).await;
    assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
    assert_eq!(
        verify("correct horse".into(), Some(h.clone())).await,
        Ok(true)
    );
    assert_eq!(verify("wrong horse".into(), Some(h)).await, Ok(false));
    assert_eq!(verify("anything".into(), None).await, Ok(false));
    assert_eq!(
        verify("x".into(), Some("not a phc string".into())).await,
        Ok(false)
    );
}

/// Hashes made with other parameters (an older default, another tool) still verify,
/// and the pool's memory does not have to match them.
#[test]
fn verifies_hashes_with_other_parameters() {
    let params = Params::new(8 * 1024, 3, 1, None).expect("params");
    let salt = SaltString::encode_b64(b"0123456789abcdef").expect("salt");
    let phc = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(b"pin 4711", &salt)
        .expect("hash")
        .to_string();
    let mut memory = vec![Block::default(); 16];
    assert!(verify_in(b"pin 4711", &phc, &mut memory));
    assert!(!verify_in(b"pin 4712", &phc, &mut memory));
    // Argon2i hashes too (the algorithm comes from the string).
    let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, Params::default())
        .hash_password(b"pw", &salt)
        .expect("hash")
        .to_string();
    assert!(verify_in(b"pw", &argon2i, &mut memory));
}

/// A stored hash that asks for gigabytes is refused, not computed.
#[test]
fn absurd_memory_cost_is_refused() {
    let phc = "$argon2id$v=19$m=4194304,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$\
                   aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";
    let mut memory = Vec::new();
    assert!(!verify_in(b"pw", phc, &mut memory));
    assert!(memory.is_empty());
}

/// A full queue answers at once instead of queueing without bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_flood_is_refused_at_once_when_the_queue_is_full() {
    let tasks: Vec<_> = (0..64)
        .map(|i| tokio::spawn(verify(format!("guess {i}"), None)))
        .collect();
    let mut busy = 0;
    for t in tasks {
        if t.await.expect("task") == Err(Busy) {
            busy += 1;
        }
    }
    assert!(busy > 0, "64 verifications at once all queued");
}
