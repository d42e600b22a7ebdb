//! The dashboard: the facility's counts, the sparkline's trigger, and the activity list
//! (this session's lines and other sessions' live events).

use super::effect::Effect;
use super::keymap::Action;
use super::model::{Model, Screen};
use super::msg::Msg;

/// The dashboard's answers: its counts and other sessions' live events.
pub(super) fn on_msg(m: &mut Model, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Stats(Ok(s)) => {
            m.overdue_days = s.overdue_days;
            if let Ok(tz) = s.time_zone.parse() {
                m.tz = tz;
            }
            if !s.recent.is_empty() {
                m.activity = s.recent.iter().map(|e| activity_line(e, m.tz)).collect();
            }
            m.stats = Some(s);
            // The sparkline comes with the counts, at most once a minute.
            if m.trend.stale(m.now) {
                m.trend.at = Some(m.now);
                vec![Effect::LoadTrend]
            } else {
                vec![]
            }
        }
        // As before the rooms: the package list's spinner stops too.
        Msg::Stats(Err(e)) => super::packages::load_failed(m, e),
        Msg::Live { kind, by, ids } => {
            if by != m.me.login {
                let what = match kind.as_str() {
                    "intake" => "received",
                    "pickup" => "handed over",
                    other => other,
                };
                m.log_activity(format!("{by} {what} {} package(s)", ids.len()));
            }
            // Only what is on screen: the counts are the dashboard's (going back to it
            // reloads them), and every session of the facility gets every event, so a busy
            // intake desk would otherwise cost each open session a stats query per parcel.
            let mut fx = stats_if_shown(m);
            if m.screen == Screen::Packages {
                fx.push(super::packages::load(m));
            }
            fx
        }
        _ => vec![],
    }
}

/// Esc on the dashboard clears the status line.
pub(super) fn on_key(m: &mut Model, action: Option<Action>) -> Vec<Effect> {
    if action == Some(Action::Back) {
        m.status = None;
    }
    vec![]
}

/// The dashboard's counts, reloaded only while they are on screen: going back to the
/// dashboard loads them anyway, and the query reads the facility's whole history.
pub(super) fn stats_if_shown(m: &Model) -> Vec<Effect> {
    if m.screen == Screen::Dashboard {
        vec![Effect::LoadStats]
    } else {
        vec![]
    }
}

/// A custody event as the dashboard's activity list shows it, in the facility's time zone:
/// `12-05 09:14 clerk    received   1Z5R89390357567127 Ada Lovelace`.
fn activity_line(e: &crate::ops::RecentEvent, zone: chrono_tz::Tz) -> String {
    format!(
        "{} {:<8} {:<10} {} {}",
        e.at.with_timezone(&zone).format("%m-%d %H:%M"),
        e.actor.as_deref().unwrap_or("-"),
        e.kind.replace('_', " "),
        e.tracking,
        e.recipient.as_deref().unwrap_or_default()
    )
}
