//! SSH authentication end to end: keys (probe vs. signature), password+TOTP, facility
//! binding, lockout, uniform failures.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use packtrack::domain::Role;
use russh::client::{AuthResult, KeyboardInteractiveAuthResponse as Kbd};
use russh::keys::agent::AgentIdentity;
use russh::keys::signature::Signer as _;
use russh::keys::ssh_encoding::Encode as _;
use russh::keys::{HashAlg, PrivateKey};

use super::ssh_support::{Client, TestServer, new_key, plain_failure, test_limits};

const SLUG: &str = "harbor";

async fn server() -> TestServer {
    let s = TestServer::start(test_limits()).await;
    s.facility(SLUG, "Harbor Street Mailroom").await;
    s
}

fn failed(r: &AuthResult) -> bool {
    match r {
        AuthResult::Success => false,
        AuthResult::Failure {
            remaining_methods,
            partial_success,
        } => plain_failure(remaining_methods, *partial_success),
    }
}

fn kbd_failed(r: &Kbd) -> bool {
    match r {
        Kbd::Failure {
            remaining_methods,
            partial_success,
        } => plain_failure(remaining_methods, *partial_success),
        _ => false,
    }
}

/// Whether the connection is authenticated: only then does the server open channels.
async fn can_open_channel(c: &Client) -> bool {
    matches!(
        tokio::time::timeout(Duration::from_secs(2), c.handle.channel_open_session()).await,
        Ok(Ok(_))
    )
}

// ---------------------------------------------------------------------------------------
// Public keys
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn key_login_binds_the_principal() {
    let s = server().await;
    let key = s.key_user("clerk", SLUG, Role::Operator).await;
    let c = s.login_key(&format!("clerk+{SLUG}"), &key).await;
    let out = c.exec("whoami").await;
    assert_eq!(out.stdout, format!("clerk {SLUG} operator\n"), "{out:?}");
    assert_eq!(out.status, Some(0));
    assert_eq!(out.stderr, "");
    assert_eq!(s.metrics().auth_ok_publickey.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn a_registered_key_cannot_log_in_as_another_user() {
    let s = server().await;
    let alice = s.key_user("alice", SLUG, Role::Admin).await;
    let _bob = s.key_user("bob", SLUG, Role::Viewer).await;

    let mut c = s.connect().await;
    let r = c.pubkey(&format!("bob+{SLUG}"), alice.clone()).await;
    assert!(failed(&r), "alice's key logged in as bob: {r:?}");
    let r = c.pubkey("bob", alice.clone()).await;
    assert!(failed(&r), "alice's key logged in as bob: {r:?}");
    assert!(!can_open_channel(&c).await);
    assert_eq!(s.metrics().auth_ok_publickey.load(Ordering::Relaxed), 0);

    // The same key as its owner works, so the refusal above was about the user.
    let c = s.login_key(&format!("alice+{SLUG}"), &alice).await;
    assert_eq!(
        c.exec("whoami").await.stdout,
        format!("alice {SLUG} admin\n")
    );
}

/// A `Signer` for `authenticate_publickey_with`: the client sends the unsigned probe
/// first and asks the signer only after the server answered PK_OK.
struct TestSigner {
    /// `None`: decline to sign (the client abandons the attempt: probe only).
    /// `Some(k)`: sign with `k` (which need not match the offered public key).
    sign_with: Option<PrivateKey>,
    asked: bool,
}

#[derive(Debug)]
enum SignerError {
    Declined,
    Failed(#[allow(dead_code)] String),
}

impl From<russh::SendError> for SignerError {
    fn from(_: russh::SendError) -> Self {
        SignerError::Failed("send".into())
    }
}

impl russh::Signer for TestSigner {
    type Error = SignerError;

    async fn auth_sign(
        &mut self,
        _key: &AgentIdentity,
        _hash_alg: Option<HashAlg>,
        to_sign: Vec<u8>,
    ) -> Result<Vec<u8>, SignerError> {
        self.asked = true;
        let Some(key) = &self.sign_with else {
            return Err(SignerError::Declined);
        };
        // What russh appends itself: the signature blob as an SSH string.
        let sig: russh::keys::ssh_key::Signature = key
            .try_sign(&to_sign)
            .map_err(|e| SignerError::Failed(e.to_string()))?;
        let mut out = to_sign;
        sig.encode_prefixed(&mut out)
            .map_err(|e| SignerError::Failed(e.to_string()))?;
        Ok(out)
    }
}

async fn offer(
    c: &mut Client,
    user: &str,
    public_of: &PrivateKey,
    sign_with: Option<PrivateKey>,
) -> (Result<AuthResult, SignerError>, bool) {
    let mut signer = TestSigner {
        sign_with,
        asked: false,
    };
    let r = tokio::time::timeout(
        Duration::from_secs(10),
        c.handle.authenticate_publickey_with(
            user,
            public_of.public_key().clone(),
            None,
            &mut signer,
        ),
    )
    .await
    .expect("publickey attempt timed out");
    (r, signer.asked)
}

/// Regression test for the probe-vs-verify bug class: the offered-key probe may only say
/// "you may try this key"; identity is bound only after a signature verifies.
#[tokio::test]
async fn offering_a_key_without_a_valid_signature_never_authenticates() {
    let s = server().await;
    let key = s.key_user("clerk", SLUG, Role::Operator).await;
    let user = format!("clerk+{SLUG}");
    let ok = || s.metrics().auth_ok_publickey.load(Ordering::Relaxed);

    // 1. The registered key, probe only: the server answers PK_OK (the signer is asked),
    //    but without a signature nothing is authenticated.
    let mut c = s.connect().await;
    let (r, asked) = offer(&mut c, &user, &key, None).await;
    assert!(
        asked,
        "the server did not accept the probe of a registered key"
    );
    assert!(matches!(r, Err(SignerError::Declined)), "{r:?}");
    let none = c.handle.authenticate_none(&user).await.expect("none");
    assert!(!none.success(), "a probe authenticated the connection");
    assert!(
        !can_open_channel(&c).await,
        "channel opened after a bare probe"
    );
    assert_eq!(ok(), 0);

    // 2. The registered public key with a signature by another private key.
    let mut c = s.connect().await;
    let (r, asked) = offer(&mut c, &user, &key, Some(new_key())).await;
    assert!(asked);
    let r = r.expect("attempt completes");
    assert!(failed(&r), "a wrong signature authenticated: {r:?}");
    assert!(!can_open_channel(&c).await);
    assert_eq!(ok(), 0);

    // 3. An unregistered key via the plain API (probe, then signature): refused at the
    //    probe, never verified.
    let mut c = s.connect().await;
    let r = c.pubkey(&user, Arc::new(new_key())).await;
    assert!(failed(&r), "{r:?}");
    let stranger = new_key();
    let (r, asked) = offer(&mut c, &user, &stranger, Some(stranger.clone())).await;
    assert!(
        !asked,
        "the server accepted the probe of an unregistered key"
    );
    assert!(failed(&r.expect("attempt completes")));
    assert!(!can_open_channel(&c).await);
    assert_eq!(ok(), 0);
    // The two refused probes were counted as failures.
    assert!(s.metrics().auth_failed.load(Ordering::Relaxed) >= 2);

    // Control: the same signer with the right private key does log in, so the refusals
    // above were about the signature.
    let mut c = s.connect().await;
    let (r, asked) = offer(&mut c, &user, &key, Some((*key).clone())).await;
    assert!(asked);
    assert!(r.expect("attempt completes").success());
    assert_eq!(ok(), 1);
    assert_eq!(
        c.exec("whoami").await.stdout,
        format!("clerk {SLUG} operator\n")
    );
}

#[tokio::test]
async fn facility_binding_by_user_name() {
    let s = server().await;
    s.facility("annex", "Annex Mailroom").await;
    s.facility("north", "North Mailroom").await;
    let solo = s.key_user("solo", SLUG, Role::Operator).await;
    let multi = s.key_user("multi", SLUG, Role::Viewer).await;
    s.member("multi", "annex", Role::Admin).await;

    // LOGIN+SLUG without a membership of SLUG gives no session, with a valid key: only
    // the logins that would work (a facility that exists answers like one that does not).
    for user in ["solo+annex", "solo+nowhere"] {
        let mut c = s.connect().await;
        assert!(!failed(&c.pubkey(user, solo.clone()).await));
        let out = c.exec("whoami").await;
        assert_eq!(out.stdout, "", "{user}");
        assert_eq!(
            out.stderr,
            "packtrack: solo is not a member of that facility; log in as solo+harbor\n"
        );
        assert_eq!(out.status, Some(1));
    }

    // Plain LOGIN with exactly one membership binds it.
    let c = s.login_key("solo", &solo).await;
    assert_eq!(
        c.exec("whoami").await.stdout,
        format!("solo {SLUG} operator\n")
    );

    // Plain LOGIN with two memberships is ambiguous (and says so); naming one works.
    let mut c = s.connect().await;
    assert!(!failed(&c.pubkey("multi", multi.clone()).await));
    let out = c.exec("whoami").await;
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.contains("log in as multi+annex or multi+harbor"),
        "{out:?}"
    );
    let c = s.login_key("multi+annex", &multi).await;
    assert_eq!(c.exec("whoami").await.stdout, "multi annex admin\n");
    let c = s.login_key(&format!("multi+{SLUG}"), &multi).await;
    assert_eq!(
        c.exec("whoami").await.stdout,
        format!("multi {SLUG} viewer\n")
    );
}

// ---------------------------------------------------------------------------------------
// Password + TOTP
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn password_and_totp_login() {
    let s = server().await;
    let creds = s.password_user("clerk", SLUG, Role::Operator).await;
    let mut c = s.connect().await;
    let (r, prompts) = c
        .kbd(&format!("clerk+{SLUG}"), &creds.password, &creds.code())
        .await;
    assert!(matches!(r, Kbd::Success), "{r:?}");
    assert_eq!(
        prompts,
        vec![
            ("Password: ".to_string(), false),
            ("Verification code: ".to_string(), false)
        ]
    );
    assert_eq!(
        c.exec("whoami").await.stdout,
        format!("clerk {SLUG} operator\n")
    );
    assert_eq!(s.metrics().auth_ok_password.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn wrong_code_and_reused_code_fail() {
    let s = server().await;
    let creds = s.password_user("clerk", SLUG, Role::Operator).await;
    let user = format!("clerk+{SLUG}");

    let mut c = s.connect().await;
    let (r, _) = c.kbd(&user, &creds.password, &creds.wrong_code()).await;
    assert!(kbd_failed(&r), "a wrong code logged in: {r:?}");
    assert!(!can_open_channel(&c).await);

    let code = creds.code();
    let mut c = s.connect().await;
    let (r, _) = c.kbd(&user, &creds.password, &code).await;
    assert!(matches!(r, Kbd::Success), "first use of the code: {r:?}");

    // The same code again (still inside its time window) is refused.
    let mut c = s.connect().await;
    let (r, _) = c.kbd(&user, &creds.password, &code).await;
    assert!(kbd_failed(&r), "a code was accepted twice: {r:?}");
    assert!(!can_open_channel(&c).await);
}

#[tokio::test]
async fn a_code_spent_on_a_failed_facility_binding_is_not_lost() {
    let s = server().await;
    s.facility("annex", "Annex Mailroom").await;
    let creds = s.password_user("clerk", SLUG, Role::Operator).await;
    let code = creds.code();
    let mut c = s.connect().await;
    let (r, _) = c.kbd("clerk+annex", &creds.password, &code).await;
    assert!(matches!(r, Kbd::Success), "{r:?}");
    let out = c.exec("whoami").await;
    assert_eq!(out.stdout, "", "bound to a facility without membership");
    assert_eq!(out.status, Some(1));
    let mut c = s.connect().await;
    let (r, _) = c
        .kbd(&format!("clerk+{SLUG}"), &creds.password, &code)
        .await;
    assert!(matches!(r, Kbd::Success), "{r:?}");
}

#[tokio::test]
async fn the_password_method_is_refused() {
    let s = server().await;
    let creds = s.password_user("clerk", SLUG, Role::Operator).await;
    let mut c = s.connect().await;
    let r = tokio::time::timeout(
        Duration::from_secs(10),
        c.handle
            .authenticate_password(format!("clerk+{SLUG}"), creds.password.clone()),
    )
    .await
    .expect("password attempt timed out")
    .expect("password attempt");
    match &r {
        AuthResult::Failure {
            remaining_methods, ..
        } => assert!(
            !remaining_methods.contains(&russh::MethodKind::Password),
            "{remaining_methods:?}"
        ),
        AuthResult::Success => panic!("the password method logged in"),
    }
    assert!(!can_open_channel(&c).await);
}

#[tokio::test]
async fn lockout_after_five_failures_spares_other_logins() {
    let s = server().await;
    let creds = s.password_user("clerk", SLUG, Role::Operator).await;
    let other = s.password_user("other", SLUG, Role::Viewer).await;
    let user = format!("clerk+{SLUG}");

    // One connection per attempt: the lock is per login, across connections, and a single
    // connection would run into the pre-auth deadline of the test limits on a busy machine.
    for i in 0..5 {
        let mut c = s.connect().await;
        let (r, _) = c.kbd(&user, "not the password", &creds.code()).await;
        assert!(kbd_failed(&r), "attempt {i}: {r:?}");
    }
    // Locked: the right password and a fresh code fail, exactly like a wrong password.
    let mut c = s.connect().await;
    let (r, prompts) = c.kbd(&user, &creds.password, &creds.code()).await;
    assert!(kbd_failed(&r), "locked login got in: {r:?}");
    assert_eq!(prompts.len(), 2, "a locked login is still asked for both");
    assert!(!can_open_channel(&c).await);
    let mut c = s.connect().await;
    let (r, _) = c.kbd(&user, &creds.password, &creds.code()).await;
    assert!(kbd_failed(&r), "still locked on a new connection: {r:?}");
    assert_eq!(
        s.failures_recorded("clerk").await,
        5,
        "refusals by lock extend it"
    );

    // Another login from the same address is not affected.
    let mut c = s.connect().await;
    let (r, _) = c
        .kbd(&format!("other+{SLUG}"), &other.password, &other.code())
        .await;
    assert!(matches!(r, Kbd::Success), "{r:?}");
    assert_eq!(
        c.exec("whoami").await.stdout,
        format!("other {SLUG} viewer\n")
    );
}

/// Unknown and known logins fail the same way, each after at least the fixed rejection
/// delay. The times are printed, not compared: the machine is noisy.
#[tokio::test]
async fn unknown_and_known_login_failures_look_alike() {
    let s = server().await;
    let creds = s.password_user("clerk", SLUG, Role::Operator).await;
    let delay = s.limits.auth_rejection;

    let mut c = s.connect().await;
    // Warm-up, so one-time costs (the dummy hash) land in neither measurement.
    let _ = c.kbd("warmup", "x", "000000").await;
    let mut c = s.connect().await;
    let t = Instant::now();
    let (unknown, unknown_prompts) = c.kbd(&format!("nobody+{SLUG}"), "guess", "123456").await;
    let unknown_time = t.elapsed();
    let mut c = s.connect().await;
    let t = Instant::now();
    let (known, known_prompts) = c
        .kbd(&format!("clerk+{SLUG}"), "wrong password", &creds.code())
        .await;
    let known_time = t.elapsed();
    println!("failure times: unknown login {unknown_time:?}, known login {known_time:?}");

    assert!(kbd_failed(&unknown), "{unknown:?}");
    assert!(kbd_failed(&known), "{known:?}");
    assert_eq!(unknown_prompts, known_prompts);
    assert!(
        unknown_time >= delay,
        "unknown login failed after {unknown_time:?}"
    );
    assert!(
        known_time >= delay,
        "known login failed after {known_time:?}"
    );
}

#[tokio::test]
async fn a_disabled_user_fails_like_a_wrong_password() {
    let s = server().await;
    let creds = s.password_user("gone", SLUG, Role::Operator).await;
    let key = s.add_key("gone").await;
    let active = s.password_user("active", SLUG, Role::Operator).await;
    s.owner_sql(
        "UPDATE users SET disabled_at = now() WHERE login = $1",
        "gone",
    )
    .await;
    let delay = s.limits.auth_rejection;

    // Right password and code of a disabled user …
    let mut c = s.connect().await;
    let t = Instant::now();
    let (disabled, disabled_prompts) = c
        .kbd(&format!("gone+{SLUG}"), &creds.password, &creds.code())
        .await;
    let disabled_time = t.elapsed();
    // … against a wrong password of an active user.
    let mut c = s.connect().await;
    let t = Instant::now();
    let (wrong, wrong_prompts) = c
        .kbd(&format!("active+{SLUG}"), "wrong password", &active.code())
        .await;
    let wrong_time = t.elapsed();
    println!("failure times: disabled user {disabled_time:?}, wrong password {wrong_time:?}");
    assert!(kbd_failed(&disabled), "{disabled:?}");
    assert!(kbd_failed(&wrong), "{wrong:?}");
    assert_eq!(disabled_prompts, wrong_prompts);
    assert!(disabled_time >= delay && wrong_time >= delay);

    // The disabled user's key is not even accepted as a probe, like an unknown key.
    let mut c = s.connect().await;
    let (r, asked) = offer(&mut c, &format!("gone+{SLUG}"), &key, Some((*key).clone())).await;
    assert!(!asked, "the probe of a disabled user's key was accepted");
    assert!(failed(&r.expect("attempt completes")));
    assert!(failed(
        &c.pubkey(&format!("gone+{SLUG}"), key.clone()).await
    ));
    assert!(!can_open_channel(&c).await);
    assert_eq!(s.metrics().auth_ok_publickey.load(Ordering::Relaxed), 0);
    assert_eq!(s.metrics().auth_ok_password.load(Ordering::Relaxed), 0);
}
