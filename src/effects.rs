//! Runs the interface's effects against the database and search index, answering each
//! with a message. Errors become one clear line for the status bar (details in the log).

use crate::app::{Effect, Failure, FailureKind, Listed, Msg};
use crate::domain::Principal;
use crate::error::AppError;
use crate::ops::Ops;

mod admin;
mod recipients_admin;
mod reports;
pub mod runner;

pub use runner::Runner;

/// An effect's variant name, for timing logs (never its contents).
pub fn kind_name(e: &Effect) -> String {
    let debug = format!("{e:?}");
    debug
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Runs one effect; effects that report progress (the recipients import) send it to
/// `progress` before their answer. `None`: nothing to report (quit).
pub async fn run_with_progress(
    effect: Effect,
    ops: &Ops,
    p: &Principal,
    progress: &tokio::sync::mpsc::Sender<Msg>,
) -> Option<Msg> {
    match effect {
        Effect::RecipientsAdmin(e) => Some(recipients_admin::run(e, ops, p, Some(progress)).await),
        other => run(other, ops, p).await,
    }
}

/// Runs one effect. `None`: nothing to report (quit).
pub async fn run(effect: Effect, ops: &Ops, p: &Principal) -> Option<Msg> {
    Some(match effect {
        Effect::RecipientsAdmin(e) => recipients_admin::run(e, ops, p, None).await,
        // Quit, and the kiosk lock screen's effects, are handled by the session itself.
        Effect::Quit
        | Effect::Unlock { .. }
        | Effect::Lock
        | Effect::LookupPickupCode(_)
        | Effect::ConfirmPickup { .. } => return None,
        Effect::LoadStats => Msg::Stats(ops.stats(p).await.map_err(Failure::from)),
        Effect::LoadReports {
            seq,
            span,
            ends_ago,
        } => Msg::Reports {
            seq,
            data: crate::reports::overview(ops.db(), p, span, ends_ago)
                .await
                .map_err(Failure::from),
        },
        Effect::Day(e) => Msg::Day(reports::run(e, ops, p).await),
        Effect::LoadTrend => Msg::Trend(
            crate::reports::received_trend(ops.db(), p, crate::app::reports_screen::TREND_DAYS)
                .await
                .map_err(Failure::from),
        ),
        Effect::Search {
            seq,
            query,
            include_inactive,
        } => Msg::SearchResults {
            seq,
            found: ops
                .search_recipients_or_suggest(
                    p,
                    &query,
                    crate::app::recipients::SEARCH_LIMIT,
                    include_inactive,
                )
                .await
                .map_err(Failure::from),
        },
        Effect::CheckWaiting { seq, tracking } => {
            let package = match ops.find_waiting(p, &tracking).await {
                Ok(found) => found,
                Err(e) => {
                    tracing::warn!(error = %e, "re-scan check failed");
                    None
                }
            };
            Msg::Waiting { seq, package }
        }
        Effect::CommitIntake(req) => {
            Msg::IntakeDone(ops.intake(p, &req).await.map_err(Failure::from))
        }
        Effect::FindByCode(code) => {
            Msg::PickupList(ops.find_for_pickup(p, &code).await.map_err(|e| match e {
                AppError::NotFound => Failure::new(
                    FailureKind::NotFound,
                    format!("no waiting package has pickup code {code}"),
                ),
                other => other.into(),
            }))
        }
        Effect::FindByTracking(tracking) => {
            Msg::PickupList(ops.find_for_pickup_by_tracking(p, &tracking).await.map_err(
                |e| match e {
                    AppError::NotFound => Failure::new(
                        FailureKind::NotFound,
                        format!("{tracking} is not waiting here"),
                    ),
                    other => other.into(),
                },
            ))
        }
        Effect::WaitingFor(id) => {
            Msg::PickupList(ops.waiting_for(p, id).await.map_err(Failure::from))
        }
        Effect::CommitPickup { ids, handover } => {
            Msg::PickupDone(ops.pickup(p, &ids, &handover).await.map_err(Failure::from))
        }
        Effect::LoadProxies(recipient) => Msg::PickupProxies {
            recipient,
            names: ops
                .recipient_proxies(p, recipient)
                .await
                .map_err(Failure::from),
        },
        Effect::LoadPackages {
            status,
            search,
            oldest_first,
        } => {
            let q = crate::db::packages::ListQuery {
                status: status.as_deref(),
                search: &search,
                oldest_first,
                limit: 500,
            };
            Msg::Packages(
                ops.find_packages_counted(p, &q)
                    .await
                    .map(|(rows, total)| Listed { rows, total })
                    .map_err(Failure::from),
            )
        }
        Effect::LoadPackage(id) => {
            Msg::PackageDetail(ops.package(p, id).await.map_err(Failure::from))
        }
        Effect::LoadMembers => Msg::Members(ops.members(p).await.map_err(Failure::from)),
        Effect::UpdateMember {
            user_id,
            role,
            disabled,
        } => Msg::MemberUpdated(
            ops.update_member(p, user_id, role, disabled)
                .await
                .map_err(Failure::from),
        ),
        Effect::LoadAudit(filter) => Msg::Audit(ops.audit(p, &filter).await.map_err(Failure::from)),
        Effect::LoadScorecard => Msg::Scorecard(ops.scorecard(p).await.map_err(Failure::from)),
        Effect::Admin(e) => Msg::Admin(admin::run(e, ops, p).await),
        Effect::AssignRecipient { id, recipient } => {
            Msg::Changed(ops.assign(p, id, recipient).await.map_err(Failure::from))
        }
        Effect::ChangePackage { id, change, reason } => Msg::Changed(
            ops.change(p, id, &change, &reason)
                .await
                .map_err(Failure::from),
        ),
        Effect::Bulk { action, ids } => Msg::Bulk {
            action,
            outcome: ops.bulk(p, action, &ids).await.map_err(Failure::from),
        },
        Effect::CorrectPackage { id, edit } => {
            Msg::Changed(ops.correct(p, id, &edit).await.map_err(Failure::from))
        }
    })
}
