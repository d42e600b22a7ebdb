//! A kiosk session's checks, run off the session loop: the terminal's settings, unlocking
//! (PIN, or PIN + TOTP), and self-service pickup (code lookup, staff confirmation). Each
//! answers through the session's kiosk channel as a [`Reply`].

use tokio::sync::mpsc;

use super::session::KioskSetup;
use crate::app::Msg as AppMsg;
use crate::app::{Failure, FailureKind};
use crate::db::kiosk::{self, KioskSettings};
use crate::domain::Principal;
use crate::ops::Ops;

/// What a kiosk check answers.
#[derive(Debug)]
pub enum Reply {
    /// The settings now: the session takes the relock time, the screen the rest.
    Settings(KioskSettings),
    /// An unlock: who is at the terminal now.
    Unlocked(Result<Principal, Failure>),
    /// Anything else, straight to the interface.
    Msg(AppMsg),
}

/// What a staff member typed on the lock screen.
pub struct Credentials {
    pub login: String,
    pub pin: String,
    /// The TOTP code, when the screen asked for one.
    pub totp: Option<String>,
}

/// The refusal of a PIN (or PIN + code): one message whatever was wrong.
fn refused(pin_totp: bool) -> Failure {
    let text = if pin_totp {
        "wrong login, PIN or code"
    } else {
        "wrong login or PIN"
    };
    Failure::new(FailureKind::Forbidden, text)
}

/// Reads the settings and sends them; the default ones when the database does not answer
/// (the session keeps working, the next unlock reads again).
async fn settings(k: &KioskSetup, ops: &Ops, tx: &mpsc::Sender<Reply>) -> KioskSettings {
    let s = match kiosk::settings(ops.db(), &k.device).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, device = %k.device.name, "kiosk settings not read");
            KioskSettings {
                relock: k.relock,
                ..KioskSettings::default()
            }
        }
    };
    let _ = tx.send(Reply::Settings(s)).await;
    s
}

/// The staff member behind a PIN (and code, when the facility asks for one), with the
/// settings read just before.
async fn staff(
    k: &KioskSetup,
    ops: &Ops,
    tx: &mpsc::Sender<Reply>,
    c: Credentials,
) -> Result<Principal, Failure> {
    let s = settings(k, ops, tx).await;
    let code = match (s.pin_totp, c.totp) {
        (true, Some(code)) => Some(code),
        // The setting was switched on since the screen was drawn: the screen now asks.
        (true, None) => {
            return Err(Failure::new(
                FailureKind::Invalid,
                "this facility asks for your authenticator code after the PIN",
            ));
        }
        (false, _) => None,
    };
    k.auth
        .kiosk_unlock(&c.login, c.pin, code.as_deref(), &k.device, k.peer)
        .await
        .map_err(|_| refused(s.pin_totp))
}

/// At session start: the settings.
pub fn start(k: &KioskSetup, ops: &Ops, tx: &mpsc::Sender<Reply>) {
    let (k, ops, tx) = (k.clone(), ops.clone(), tx.clone());
    tokio::spawn(async move {
        settings(&k, &ops, &tx).await;
    });
}

/// Unlock with login, PIN and maybe a code.
pub fn unlock(k: &KioskSetup, ops: &Ops, tx: &mpsc::Sender<Reply>, c: Credentials) {
    let (k, ops, tx) = (k.clone(), ops.clone(), tx.clone());
    tokio::spawn(async move {
        let res = staff(&k, &ops, &tx, c).await;
        let _ = tx.send(Reply::Unlocked(res)).await;
    });
}

/// Self-service: a recipient's pickup code.
pub fn lookup(k: &KioskSetup, ops: &Ops, tx: &mpsc::Sender<Reply>, code: String) {
    let (k, ops, tx) = (k.clone(), ops.clone(), tx.clone());
    tokio::spawn(async move {
        let res = kiosk::lookup_code(ops.db(), &k.device, &k.peer.to_string(), &code)
            .await
            .map(|found| found.packages)
            .map_err(Failure::from);
        let _ = tx.send(Reply::Msg(AppMsg::PickupCodeFound(res))).await;
    });
}

/// Self-service: a staff member confirms the handover with their PIN (and code). The
/// terminal stays locked; the pickup is theirs, at this device.
pub fn confirm(
    k: &KioskSetup,
    ops: &Ops,
    tx: &mpsc::Sender<Reply>,
    c: Credentials,
    code: String,
    ids: Vec<i64>,
) {
    let (k, ops, tx) = (k.clone(), ops.clone(), tx.clone());
    tokio::spawn(async move {
        let res = match staff(&k, &ops, &tx, c).await {
            Ok(p) => kiosk::handover(ops.db(), &p, &code, &ids)
                .await
                .map(|done| {
                    tracing::info!(login = %p.login(), device = %k.device.name,
                        packages = done.len(), "self-service pickup handed over");
                    (p.login().to_string(), done.len())
                })
                .map_err(|e| {
                    let f = Failure::from(e);
                    let text = format!("not handed over: {f}");
                    f.with_text(text)
                }),
            Err(e) => Err(e),
        };
        let _ = tx.send(Reply::Msg(AppMsg::PickupConfirmed(res))).await;
    });
}
