//! Runs the recipients admin's effects. The import streams its progress as messages.

use tokio::sync::mpsc;

use crate::app::Failure;
use crate::app::Msg;
use crate::app::recipients::admin::{AdminEffect, AdminMsg};
use crate::app::recipients::proxies;
use crate::domain::Principal;
use crate::ops::Ops;

/// Where the audit log says a pasted import came from.
pub const PASTE_SOURCE: &str = "paste (admin console)";

pub async fn run(
    effect: AdminEffect,
    ops: &Ops,
    p: &Principal,
    progress: Option<&mpsc::Sender<Msg>>,
) -> Msg {
    Msg::RecipientsAdmin(match effect {
        AdminEffect::LoadForEdit(id) => {
            AdminMsg::Loaded(ops.recipient_for_edit(p, id).await.map_err(Failure::from))
        }
        AdminEffect::Create(fields) => AdminMsg::Saved(
            ops.create_recipient(p, &fields)
                .await
                .map_err(Failure::from),
        ),
        AdminEffect::Update { id, fields } => AdminMsg::Saved(
            ops.update_recipient(p, id, &fields)
                .await
                .map_err(Failure::from),
        ),
        AdminEffect::SetActive { id, active } => AdminMsg::Activated(
            ops.set_recipient_active(p, id, active)
                .await
                .map_err(Failure::from),
        ),
        AdminEffect::MergePreview { keep, duplicate } => AdminMsg::MergePreview(
            ops.merge_preview(p, keep, duplicate)
                .await
                .map_err(Failure::from),
        ),
        AdminEffect::Merge { keep, duplicate } => AdminMsg::Merged(
            ops.merge_recipients(p, keep, duplicate)
                .await
                .map_err(Failure::from),
        ),
        AdminEffect::LoadProxies(id) => proxies::answer(
            id,
            ops.recipient_proxies(p, id).await.map_err(Failure::from),
            false,
        ),
        AdminEffect::AddProxy { id, name } => proxies::answer(
            id,
            ops.add_recipient_proxy(p, id, &name)
                .await
                .map_err(Failure::from),
            true,
        ),
        AdminEffect::RemoveProxy { id, name } => proxies::answer(
            id,
            ops.remove_recipient_proxy(p, id, &name)
                .await
                .map_err(Failure::from),
            true,
        ),
        AdminEffect::PlanImport { csv, options } => AdminMsg::ImportPlan(
            ops.plan_import_with(p, csv.as_bytes(), &options)
                .await
                .map_err(Failure::from),
        ),
        AdminEffect::ApplyImport(plan) => {
            // Progress is best effort: a full queue skips a report, never blocks the write.
            let report = |done, total| {
                if let Some(tx) = progress {
                    let _ = tx.try_send(Msg::RecipientsAdmin(AdminMsg::ImportProgress {
                        done,
                        total,
                    }));
                }
            };
            AdminMsg::ImportDone(
                ops.apply_import(p, &plan, PASTE_SOURCE, report)
                    .await
                    .map(|done| done.counts)
                    .map_err(Failure::from),
            )
        }
    })
}
