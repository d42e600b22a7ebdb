//! One interactive (PTY) session: input parsing, drawing, idle timeout, clean exit.
//!
//! Here: the session's event loop, one function on purpose (input, ticks, live events and
//! the effect runner interleave in one `select!`, and it reads better whole); `recheck`
//! (access re-read mid-session), `feed` (live events).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ratatui::layout::{Rect, Size};
use ratatui::{Terminal, TerminalOptions, Viewport};
use russh::ChannelWriteHalf;
use russh::server::Msg;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use chrono::Utc;
use tokio::sync::broadcast;

use crate::app::model::Me;
use crate::app::{Effect, Model, Msg as AppMsg, update};
use crate::auth::login::{Authenticator, Device};
use crate::domain::Principal;
use crate::effects::Runner;
use crate::error::DbError;
use crate::live::{self, LiveEvent};
use crate::metrics::Metrics;
use crate::ops::Ops;
use crate::term::input::{Event, InputParser, PASTE_IDLE};
use crate::term::scan::{Item, ScanDetector};
use crate::term::wire::WireBackend;
use crate::term::{self, ColorDepth};
use crate::ui::{self, Theme};

mod feed;
mod recheck;
use feed::*;

/// A lone Esc is a key press once nothing followed it for this long.
const ESC_TIMEOUT: Duration = Duration::from_millis(30);

/// Other clerks' package changes are applied in batches, at most one per this long: every
/// event used to cost every open session of the facility a redraw and a reload (measured with
/// 16 clerks recording parcels: most of the server's CPU; docs/PERFORMANCE.md, issue 8).
const LIVE_BATCH: Duration = Duration::from_millis(100);

/// Messages handled in one go before the session task yields its worker thread.
const YIELD_EVERY: usize = 256;

/// What the SSH handler forwards to a session.
#[derive(Debug)]
pub enum Input {
    /// Bytes from the client and when they arrived (the scan recogniser reads the keys'
    /// timing; stamped on arrival, so a session that was busy does not see queued typing as
    /// a burst).
    Data(Bytes, Instant),
    Resize {
        cols: u16,
        rows: u16,
    },
    Eof,
}

/// Terminal details from the PTY request.
#[derive(Debug, Clone)]
pub struct Pty {
    pub term: String,
    pub colorterm: Option<String>,
    pub cols: u16,
    pub rows: u16,
}

/// How a session ended (for the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Quit,
    Idle,
    Shutdown,
    ClientGone,
    InputClosed,
    WriteStalled,
    /// An admin disabled the membership (or the user) while the session was open.
    AccessRevoked,
    /// The kiosk device was quarantined.
    Quarantined,
    /// The periodic re-check of the session's access failed (database error): fail closed.
    Unconfirmed,
    /// The session task panicked (a bug); the server answered the client for it.
    Panicked,
}

impl End {
    pub fn as_str(self) -> &'static str {
        match self {
            End::Quit => "quit",
            End::Idle => "idle timeout",
            End::Shutdown => "server shutdown",
            End::ClientGone => "client closed",
            End::InputClosed => "client input ended",
            End::WriteStalled => "client stopped reading",
            End::AccessRevoked => "access revoked",
            End::Quarantined => "device quarantined",
            End::Unconfirmed => "access could not be confirmed",
            End::Panicked => "internal error (panic)",
        }
    }
}

/// A kiosk terminal's session: who unlocks it and how long it stays unlocked.
#[derive(Clone)]
pub struct KioskSetup {
    pub device: Device,
    pub auth: Authenticator,
    pub peer: std::net::IpAddr,
    /// Locks itself after this long without input: the server's default until the
    /// facility's `kiosk_relock_secs` is read (at start and at every unlock).
    pub relock: Duration,
}

pub struct Session {
    /// A theme the user asked for; by default it follows the terminal's colors.
    pub theme: Option<String>,
    /// Who is at the terminal; `None` on a locked kiosk.
    pub principal: Option<Principal>,
    pub kiosk: Option<KioskSetup>,
    pub pty: Pty,
    pub idle: Duration,
    pub write_stall: Duration,
    pub ops: Ops,
    pub live: Option<broadcast::Receiver<LiveEvent>>,
    /// The fingerprint of the SSH key the member logged in with: revoking it (admin
    /// console) ends the session.
    pub auth_key: Option<String>,
    /// Logged in with password+TOTP: a TOTP reset (admin console) ends the session.
    pub auth_totp: bool,
    /// How often the session re-reads its principal from the database, whatever the live
    /// notifications said (they can be lost): a revocation takes effect within this long.
    pub recheck: Duration,
    pub metrics: Arc<Metrics>,
}

/// Output through the channel, one frame at a time, with backpressure: a frame waits for
/// the client's SSH window, and a client that stops reading is dropped after a timeout.
struct Out {
    writer: ChannelWriteHalf<Msg>,
    stall: Duration,
    bytes: u64,
    /// Set while the session runs: see [`Out`]'s `Drop`.
    running: Option<Running>,
}

/// Who a running session is, for the log line of an end `run` never returned from.
struct Running {
    who: String,
    facility: String,
    started: Instant,
}

/// The caller logs "session end" with how `run` ended. When the connection goes away, the
/// server aborts the session's task instead (`Conn`'s `Drop`, a channel close), `run` never
/// returns, and only "session start" was in the log: dropping a still-running session's
/// output logs its end.
impl Drop for Out {
    fn drop(&mut self) {
        if let Some(r) = self.running.take() {
            tracing::info!(
                login = %r.who, facility = %r.facility,
                duration_s = r.started.elapsed().as_secs(), bytes = self.bytes,
                end = "connection lost", "session end"
            );
        }
    }
}

impl Out {
    async fn send(&mut self, data: Vec<u8>) -> Result<(), End> {
        if data.is_empty() {
            return Ok(());
        }
        self.bytes += data.len() as u64;
        match tokio::time::timeout(self.stall, self.writer.data_bytes(data)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(End::ClientGone),
            Err(_) => Err(End::WriteStalled),
        }
    }
}

impl Session {
    /// Runs until the user quits, goes idle, the client leaves or the server shuts down.
    /// Returns how it ended and the bytes sent.
    pub async fn run(
        mut self,
        writer: ChannelWriteHalf<Msg>,
        mut input: mpsc::Receiver<Input>,
        mut shutdown: watch::Receiver<bool>,
    ) -> (End, u64) {
        let mut out = Out {
            writer,
            stall: self.write_stall,
            bytes: 0,
            running: None,
        };
        let size = Rect::new(0, 0, self.pty.cols.max(1), self.pty.rows.max(1));
        let Ok(mut terminal) = Terminal::with_options(
            WireBackend::cleared(Size::new(size.width, size.height)),
            TerminalOptions {
                viewport: Viewport::Fixed(size),
            },
        ) else {
            return (End::ClientGone, 0);
        };
        let depth = depth(&self.pty);
        // A mono terminal stays mono whatever was asked: colors would be garbage there.
        let theme = match &self.theme {
            Some(name) if depth != ColorDepth::Mono => Theme::builtin(name),
            _ => None,
        }
        .unwrap_or_else(|| Theme::for_depth(depth));
        let mut model = match (&self.principal, &self.kiosk) {
            (Some(p), _) => Model::new(
                Me {
                    login: p.login().to_string(),
                    slug: p.slug().to_string(),
                    facility_name: p.facility_name().to_string(),
                    role: p.role(),
                },
                size.width,
                size.height,
                Utc::now(),
            ),
            (None, Some(k)) => {
                let mut m = Model::new_kiosk(
                    &k.device.facility_name,
                    &k.device.slug,
                    &k.device.name,
                    size.width,
                    size.height,
                    Utc::now(),
                );
                // As the device logged in; the facility's settings follow in a moment.
                update(
                    &mut m,
                    AppMsg::KioskSettings {
                        pin_totp: false,
                        self_service: k.device.self_service,
                    },
                );
                m
            }
            (None, None) => return (End::AccessRevoked, 0),
        };
        out.running = Some(Running {
            who: match (&self.principal, &self.kiosk) {
                (Some(p), _) => p.login().to_string(),
                (None, Some(k)) => format!("kiosk:{}", k.device.name),
                (None, None) => String::new(),
            },
            facility: model.me.slug.clone(),
            started: Instant::now(),
        });
        // Kiosk checks answer here; the principal changes only in this task.
        let (kiosk_tx, mut kiosk_replies) = mpsc::channel::<super::kiosk::Reply>(8);
        if let Some(k) = &self.kiosk {
            super::kiosk::start(k, &self.ops, &kiosk_tx);
        }
        // Effects answer through this queue. They run as tasks the runner owns: bounded in
        // number, searches coalesced (the latest wins), all aborted when the session ends.
        let (results_tx, mut results) = mpsc::channel::<AppMsg>(64);
        let mut runner = Runner::new(self.ops.clone(), results_tx, self.metrics.clone());
        // Nobody at a locked kiosk: nothing to load until someone unlocks it.
        let spawn = |runner: &mut Runner, effect: Effect, principal: &Option<Principal>| {
            if let Some(p) = principal {
                runner.push(effect, p);
            }
        };
        spawn(&mut runner, Effect::LoadStats, &self.principal);
        let mut parser = InputParser::new();
        let mut events = Vec::new();
        // A barcode scanner's burst becomes one `Msg::Scan`, never keys (issue 16).
        let mut scans = ScanDetector::new();
        let mut items: Vec<Item> = Vec::new();
        let mut last_input = Instant::now();
        let mut live_batch: Vec<LiveEvent> = Vec::new();
        let mut live_due: Option<Instant> = None;
        let mut tick = tokio::time::interval(Duration::from_secs(30));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let recheck_every = self.recheck.max(Duration::from_millis(10));
        let mut recheck = tokio::time::interval_at(Instant::now() + recheck_every, recheck_every);
        recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

        let mut end = out.send(term::ENTER.as_bytes().to_vec()).await.err();
        let mut dirty = true;
        while end.is_none() {
            if dirty {
                dirty = false;
                if terminal.draw(|f| ui::view(f, &model, &theme)).is_err() {
                    end = Some(End::ClientGone);
                    break;
                }
                let frame = terminal.backend_mut().take();
                if let Err(e) = out.send(frame).await {
                    end = Some(e);
                    break;
                }
            }
            let esc_pending = parser.pending_escape();
            let paste_pending = parser.pending_paste();
            let scan_due = scans.deadline().map(Instant::from_std);
            // When this turn's events arrived: the chunk's stamp, or now for a timeout.
            let mut arrived = Instant::now();
            let mut msgs: Vec<AppMsg> = Vec::new();
            tokio::select! {
                // While too many writes wait for a slot, input waits too (and the input
                // queue's bound applies): typing faster than the database never piles up work.
                msg = input.recv(), if !runner.saturated() => match msg {
                    Some(Input::Data(bytes, at)) => {
                        last_input = Instant::now();
                        arrived = at;
                        parser.feed(&bytes, &mut events);
                    }
                    Some(Input::Resize { cols, rows }) => {
                        let size = Rect::new(0, 0, cols.max(1), rows.max(1));
                        // A full repaint: after a resize the client's screen holds whatever
                        // its terminal made of the old frame. Not `Terminal::resize`/`clear`:
                        // they ask the backend for its size and cursor position, which
                        // crossterm answers from the server's own tty (an error without
                        // one). A new terminal has an empty back buffer: the next draw
                        // paints everything, after the backend's reset and clear.
                        match Terminal::with_options(
                            WireBackend::cleared(Size::new(size.width, size.height)),
                            TerminalOptions {
                                viewport: Viewport::Fixed(size),
                            },
                        ) {
                            Ok(t) => terminal = t,
                            Err(_) => end = Some(End::ClientGone),
                        }
                        msgs.push(AppMsg::Resize { cols: size.width, rows: size.height });
                    }
                    // The client's input ended (`ssh -tt host < file`): finish cleanly.
                    Some(Input::Eof) => end = Some(End::InputClosed),
                    None => end = Some(End::ClientGone),
                },
                Some(msg) = results.recv() => msgs.push(msg),
                () = runner.reap() => {}
                Some(reply) = kiosk_replies.recv() => match reply {
                    super::kiosk::Reply::Unlocked(res) => {
                        msgs.push(AppMsg::Unlocked(res.map(|p| {
                            let me = Me {
                                login: p.login().to_string(),
                                slug: p.slug().to_string(),
                                facility_name: p.facility_name().to_string(),
                                role: p.role(),
                            };
                            self.principal = Some(p);
                            me
                        })));
                    }
                    super::kiosk::Reply::Settings(s) => {
                        if let Some(k) = self.kiosk.as_mut() {
                            k.relock = s.relock;
                        }
                        msgs.push(AppMsg::TimeZone(s.time_zone));
                        msgs.push(AppMsg::KioskSettings {
                            pin_totp: s.pin_totp,
                            self_service: s.self_service,
                        });
                    }
                    super::kiosk::Reply::Msg(msg) => msgs.push(msg),
                },
                ev = recv_live(&mut self.live) => match ev {
                    // Notifications may have been lost (a lagging receiver, the listener
                    // reconnected): whatever they said about this member, read it now.
                    Some(Live::Missed) => {
                        if let Err(e) = self.recheck(&mut model, &mut runner).await {
                            end = Some(e);
                        }
                    }
                    Some(Live::Event(ev)) => {
                        let me = self.principal.as_ref().map(|p| p.user().0);
                        if ev.kind == "member" && me.is_some_and(|id| ev.ids.contains(&id)) {
                            // An admin changed this member: the new role applies now, and a
                            // disabled member's session ends.
                            if let Err(e) = self.recheck(&mut model, &mut runner).await {
                                end = Some(e);
                            }
                        }
                        if ev.kind == "device"
                            && self.kiosk.as_ref().is_some_and(|k| ev.ids.contains(&k.device.id))
                        {
                            end = Some(End::Quarantined);
                        }
                        if matches!(ev.kind.as_str(), "member" | "device") {
                            msgs.push(AppMsg::Live { kind: ev.kind, by: ev.by, ids: ev.ids });
                        } else {
                            live_batch.push(ev);
                            live_due.get_or_insert_with(|| Instant::now() + LIVE_BATCH);
                        }
                    }
                    None => {}
                },
                // Certain revocation: a lost notification delays it by at most this long.
                _ = recheck.tick() => {
                    if let Err(e) = self.recheck(&mut model, &mut runner).await {
                        end = Some(e);
                    }
                }
                () = tokio::time::sleep_until(live_due.unwrap_or_else(Instant::now)), if live_due.is_some() => {
                    live_due = None;
                    for (kind, by, ids) in merge_live(std::mem::take(&mut live_batch)) {
                        msgs.push(AppMsg::Live { kind, by, ids });
                    }
                }
                // Unlocked, it locks; locked, what was typed or found on screen is cleared.
                () = tokio::time::sleep_until(last_input + self.kiosk.as_ref().map_or(self.idle, |k| k.relock)),
                    if self.kiosk.is_some() && (!model.locked() || model.lock_screen_has_input()) => {
                    msgs.push(AppMsg::Lock);
                }
                _ = tick.tick() => msgs.push(AppMsg::Tick(Utc::now())),
                () = tokio::time::sleep(ESC_TIMEOUT), if esc_pending => {
                    parser.flush_timeout(&mut events);
                }
                // A paste whose end marker did not come: keys are keys again.
                () = tokio::time::sleep_until(last_input + PASTE_IDLE), if paste_pending => {
                    parser.flush_paste(&mut events);
                }
                // Held letters: the run went quiet, so they are keys (or a scan without Enter).
                () = tokio::time::sleep_until(scan_due.unwrap_or_else(Instant::now)), if scan_due.is_some() => {
                    scans.flush(Instant::now().into_std(), &mut items);
                }
                // A kiosk is never disconnected for idleness: it locks (above) and waits.
                () = tokio::time::sleep_until(last_input + self.idle), if self.kiosk.is_none() => {
                    end = Some(End::Idle);
                }
                _ = shutdown.changed() => end = Some(End::Shutdown),
            }
            for ev in events.drain(..) {
                scans.push(ev, arrived.into_std(), &mut items);
            }
            for item in items.drain(..) {
                msgs.push(match item {
                    Item::Event(Event::Key(k)) => AppMsg::Key(k),
                    Item::Event(Event::Paste(text)) => AppMsg::Paste(text),
                    Item::Scan(text) => AppMsg::Scan(text),
                });
            }
            // Reloads asked for more than once in one turn (a batch of live events) run once.
            let mut reloads: Vec<Effect> = Vec::new();
            for (i, msg) in msgs.into_iter().enumerate() {
                // A burst of input (a paste, a flood) is thousands of keys: give the worker
                // thread back now and then so other sessions' keystrokes are not held up.
                if i > 0 && i % YIELD_EVERY == 0 {
                    tokio::task::yield_now().await;
                }
                // The answer to an older keystroke changes nothing (`update` drops it): no
                // redraw (typing fast, or pasting, leaves one behind per key).
                let stale =
                    matches!(&msg, AppMsg::SearchResults { seq, .. } if *seq != model.search.seq);
                dirty |= !stale;
                for effect in update(&mut model, msg) {
                    match effect {
                        Effect::Lock => {
                            self.principal = None;
                            // The next person may find other settings (self-service, TOTP).
                            if let Some(k) = &self.kiosk {
                                super::kiosk::start(k, &self.ops, &kiosk_tx);
                            }
                        }
                        Effect::Unlock { login, pin, totp } => {
                            if let Some(k) = &self.kiosk {
                                let c = super::kiosk::Credentials { login, pin, totp };
                                super::kiosk::unlock(k, &self.ops, &kiosk_tx, c);
                            }
                        }
                        Effect::LookupPickupCode(code) => {
                            if let Some(k) = &self.kiosk {
                                super::kiosk::lookup(k, &self.ops, &kiosk_tx, code);
                            }
                        }
                        Effect::ConfirmPickup {
                            login,
                            pin,
                            totp,
                            code,
                            ids,
                        } => {
                            if let Some(k) = &self.kiosk {
                                let c = super::kiosk::Credentials { login, pin, totp };
                                super::kiosk::confirm(k, &self.ops, &kiosk_tx, c, code, ids);
                            }
                        }
                        Effect::LoadStats | Effect::LoadPackages { .. } => {
                            if !reloads.contains(&effect) {
                                reloads.push(effect);
                            }
                        }
                        effect => spawn(&mut runner, effect, &self.principal),
                    }
                }
            }
            for effect in reloads {
                spawn(&mut runner, effect, &self.principal);
            }
            if model.quit && end.is_none() {
                end = Some(End::Quit);
            }
        }
        let end = end.unwrap_or(End::Quit);
        if !matches!(end, End::ClientGone | End::WriteStalled) {
            let mut bye = term::LEAVE.as_bytes().to_vec();
            match end {
                End::Idle => bye.extend_from_slice(
                    format!(
                        "packtrack: session closed after {} without input\r\n",
                        human_duration(self.idle)
                    )
                    .as_bytes(),
                ),
                End::Quarantined => {
                    bye.extend_from_slice(
                        b"packtrack: this terminal was taken out of service by an admin\r\n",
                    );
                }
                End::Unconfirmed => {
                    bye.extend_from_slice(
                        b"packtrack: your access could not be confirmed; log in again\r\n",
                    );
                }
                End::AccessRevoked => {
                    bye.extend_from_slice(
                        b"packtrack: your access to this facility was changed by an admin\r\n",
                    );
                }
                End::Shutdown => {
                    bye.extend_from_slice(b"packtrack: the server is shutting down\r\n");
                }
                _ => {}
            }
            if out.send(bye).await.is_ok() {
                let _ = out.writer.exit_status(0).await;
                let _ = out.writer.eof().await;
                let _ = out.writer.close().await;
            }
        }
        // `run` returns: the caller logs the end with how it ended.
        out.running = None;
        (end, out.bytes)
    }
}

/// "10 minutes", "1 minute", "45 seconds".
fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    let (n, unit) = if s >= 60 && s.is_multiple_of(60) {
        (s / 60, "minute")
    } else {
        (s, "second")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// Color depth for a PTY.
pub fn depth(pty: &Pty) -> ColorDepth {
    ColorDepth::from_term(&pty.term, pty.colorterm.as_deref())
}

#[cfg(test)]
mod tests;
