//! Runs the admin console's tab effects (Keys, TOTP, Settings, Outbox with the operations
//! of `crate::ops_admin`; Channels and the new member form with `crate::ops`) and answers
//! with the tab's message. The translation lives here, not in
//! the operations, so `ops_admin` speaks only domain and ops types.

use crate::app::admin::{AdminEffect, AdminMsg};
use crate::app::{Failure, FailureKind};
use crate::domain::Principal;
use crate::error::AppError;
use crate::ops::Ops;

/// Runs one of the admin tabs' effects and answers with its message.
pub async fn run(effect: AdminEffect, ops: &Ops, p: &Principal) -> AdminMsg {
    match effect {
        AdminEffect::LoadKeys => AdminMsg::Keys(ops.member_keys(p).await.map_err(Failure::from)),
        AdminEffect::AddKey { user_id, line } => AdminMsg::KeyAdded(
            ops.add_member_key(p, user_id, &line)
                .await
                .map(|k| k.fingerprint)
                .map_err(Failure::from),
        ),
        AdminEffect::RevokeKey(id) => {
            AdminMsg::KeyRevoked(ops.revoke_member_key(p, id).await.map_err(Failure::from))
        }
        AdminEffect::TotpBegin(user_id) => AdminMsg::TotpStarted(
            ops.totp_begin(p, user_id)
                .await
                .map(Box::new)
                .map_err(Failure::from),
        ),
        AdminEffect::TotpConfirm {
            user_id,
            sealed,
            code,
        } => AdminMsg::TotpConfirmed(
            ops.totp_confirm(p, user_id, &sealed, &code)
                .await
                .map_err(Failure::from),
        ),
        AdminEffect::SetPin { user_id, pin } => AdminMsg::PinSet(
            ops.set_member_pin(p, user_id, &pin.0)
                .await
                .map_err(Failure::from),
        ),
        AdminEffect::TotpReset { user_id, reason } => AdminMsg::TotpReset(
            ops.totp_reset(p, user_id, &reason)
                .await
                .map_err(Failure::from),
        ),
        AdminEffect::LoadSettings => AdminMsg::Settings(
            ops.facility_settings(p)
                .await
                .map(Box::new)
                .map_err(Failure::from),
        ),
        AdminEffect::SaveSettings { before, after } => AdminMsg::SettingsSaved(
            ops.save_facility_settings(p, &before, &after)
                .await
                .map_err(Failure::from),
        ),
        AdminEffect::LoadOutbox => {
            AdminMsg::Outbox(ops.outbox(p).await.map(Box::new).map_err(Failure::from))
        }
        AdminEffect::LoadChannels => {
            AdminMsg::Channels(ops.channels(p).await.map_err(Failure::from))
        }
        AdminEffect::SaveChannel(form) => {
            AdminMsg::ChannelSaved(ops.save_channel(p, &form).await.map_err(Failure::from))
        }
        // Bounded by the test timeout inside; a slow receiver holds one of the session's
        // effect slots, never its input.
        AdminEffect::TestChannel { id, to } => {
            AdminMsg::ChannelTested(ops.test_channel(p, id, &to).await.map_err(Failure::from))
        }
        AdminEffect::AddMember(req) => {
            AdminMsg::MemberAdded(ops.add_member(p, &req).await.map_err(Failure::from))
        }
        AdminEffect::Retry(id) => {
            AdminMsg::Retried(ops.retry_notification(p, id).await.map(|()| id).map_err(
                |e| match e {
                    AppError::NotFound => Failure::new(
                        FailureKind::NotFound,
                        format!("notification #{id} is gone (pruned?)"),
                    ),
                    other => other.into(),
                },
            ))
        }
    }
}
