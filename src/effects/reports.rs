//! Runs the Reports screen's Parcels tab effects with `crate::reports` and answers with the
//! tab's message.

use crate::app::Failure;
use crate::app::reports_screen::day::{DayEffect, DayMsg};
use crate::domain::Principal;
use crate::ops::Ops;

pub async fn run(effect: DayEffect, ops: &Ops, p: &Principal) -> DayMsg {
    match effect {
        DayEffect::Load { seq, day, offset } => DayMsg::Page {
            seq,
            data: crate::reports::day_page(ops.db(), p, day, offset)
                .await
                .map_err(Failure::from),
        },
        DayEffect::Export(day) => DayMsg::Exported(
            crate::reports::request_day_export(ops.db(), p, day)
                .await
                .map_err(Failure::from),
        ),
    }
}
