//! One interactive (PTY) session: input parsing, drawing, idle timeout, clean exit.

use std::time::Duration;

use bytes::Bytes;
use ratatui::layout::Rect;
use ratatui::prelude::CrosstermBackend;
use ratatui::{Terminal, TerminalOptions, Viewport};
use russh::ChannelWriteHalf;
use russh::server::Msg;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::input::{Event, InputParser, KeyCode, Mods};
use super::term::{self, ColorDepth};
use crate::ui::{self, SessionInfo};

/// A lone Esc is a key press once nothing followed it for this long.
const ESC_TIMEOUT: Duration = Duration::from_millis(30);

/// What the SSH handler forwards to a session.
#[derive(Debug)]
pub enum Input {
    Data(Bytes),
    Resize { cols: u16, rows: u16 },
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
    WriteStalled,
}

impl End {
    pub fn as_str(self) -> &'static str {
        match self {
            End::Quit => "quit",
            End::Idle => "idle timeout",
            End::Shutdown => "server shutdown",
            End::ClientGone => "client closed",
            End::WriteStalled => "client stopped reading",
        }
    }
}

pub struct Session {
    pub info: SessionInfo,
    pub pty: Pty,
    pub idle: Duration,
    pub write_stall: Duration,
}

/// Output through the channel, one frame at a time, with backpressure: a frame waits for
/// the client's SSH window, and a client that stops reading is dropped after a timeout.
struct Out {
    writer: ChannelWriteHalf<Msg>,
    stall: Duration,
    bytes: u64,
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
        self,
        writer: ChannelWriteHalf<Msg>,
        mut input: mpsc::Receiver<Input>,
        mut shutdown: watch::Receiver<bool>,
    ) -> (End, u64) {
        let mut out = Out {
            writer,
            stall: self.write_stall,
            bytes: 0,
        };
        let mut size = Rect::new(0, 0, self.pty.cols.max(1), self.pty.rows.max(1));
        let Ok(mut terminal) = Terminal::with_options(
            CrosstermBackend::new(Vec::with_capacity(8192)),
            TerminalOptions {
                viewport: Viewport::Fixed(size),
            },
        ) else {
            return (End::ClientGone, 0);
        };
        let mut parser = InputParser::new();
        let mut events = Vec::new();
        let mut last_input = Instant::now();

        let mut end = match out.send(term::ENTER.as_bytes().to_vec()).await {
            Ok(()) => None,
            Err(e) => Some(e),
        };
        let mut dirty = true;
        while end.is_none() {
            if dirty {
                dirty = false;
                if terminal.draw(|f| ui::draw_session(f, &self.info)).is_err() {
                    end = Some(End::ClientGone);
                    break;
                }
                let frame = std::mem::take(terminal.backend_mut().writer_mut());
                if let Err(e) = out.send(frame).await {
                    end = Some(e);
                    break;
                }
            }
            let esc_pending = parser.pending_escape();
            tokio::select! {
                msg = input.recv() => match msg {
                    Some(Input::Data(bytes)) => {
                        last_input = Instant::now();
                        parser.feed(&bytes, &mut events);
                    }
                    Some(Input::Resize { cols, rows }) => {
                        size = Rect::new(0, 0, cols.max(1), rows.max(1));
                        // A full repaint: the client's screen content after a resize is
                        // whatever its terminal made of it.
                        if terminal.resize(size).is_err() || terminal.clear().is_err() {
                            end = Some(End::ClientGone);
                        }
                        dirty = true;
                    }
                    Some(Input::Eof) | None => end = Some(End::ClientGone),
                },
                () = tokio::time::sleep(ESC_TIMEOUT), if esc_pending => {
                    parser.flush_timeout(&mut events);
                }
                () = tokio::time::sleep_until(last_input + self.idle) => end = Some(End::Idle),
                _ = shutdown.changed() => end = Some(End::Shutdown),
            }
            for ev in events.drain(..) {
                if is_quit(&ev) {
                    end = Some(End::Quit);
                }
            }
        }
        let end = end.unwrap_or(End::Quit);
        if !matches!(end, End::ClientGone | End::WriteStalled) {
            let mut bye = term::LEAVE.as_bytes().to_vec();
            match end {
                End::Idle => bye.extend_from_slice(
                    format!(
                        "packtrack: session closed after {} minutes without input\r\n",
                        self.idle.as_secs() / 60
                    )
                    .as_bytes(),
                ),
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
        (end, out.bytes)
    }
}

fn is_quit(ev: &Event) -> bool {
    match ev {
        Event::Key(k) => {
            matches!(k.code, KeyCode::Char('q') | KeyCode::Char('Q')) && k.mods == Mods::NONE
                || (k.code == KeyCode::Char('c') || k.code == KeyCode::Char('d'))
                    && k.mods.contains(Mods::CTRL)
        }
        Event::Paste(_) => false,
    }
}

/// Color depth for a PTY.
pub fn depth(pty: &Pty) -> ColorDepth {
    ColorDepth::from_term(&pty.term, pty.colorterm.as_deref())
}
