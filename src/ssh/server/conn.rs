//! One connection's state: authentication progress, its session channels and the tasks
//! that serve them, with panic containment and the active-session count.

use super::*;

/// Keyboard-interactive progress. The password is kept only until the code arrives.
pub(super) enum Kbd {
    Idle,
    AwaitPassword,
    AwaitCode { password: String },
}

pub(super) struct Chan {
    pub(super) writer: Option<ChannelWriteHalf<Msg>>,
    pub(super) pty: Option<session::Pty>,
    pub(super) colorterm: Option<String>,
    pub(super) theme: Option<String>,
    pub(super) input: Option<mpsc::Sender<Input>>,
    pub(super) task: Option<JoinHandle<()>>,
    /// An exec command that reads stdin (`recipients import`): its line and the data so
    /// far; it runs at the client's EOF.
    pub(super) stdin: Option<(String, Vec<u8>)>,
}

/// The russh handler of one connection.
pub(super) struct Conn {
    pub(super) shared: Arc<Shared>,
    pub(super) peer: SocketAddr,
    pub(super) slot: Slot,
    pub(super) authed: Arc<AtomicBool>,
    pub(super) principal: Option<Principal>,
    /// The person proved who they are, but the login named no facility (and they have
    /// several) or one they are not in: every channel gets this hint and exit status 1.
    /// The connection stays under the pre-authentication deadline.
    pub(super) unbound: Option<String>,
    /// A kiosk terminal (device key); staff unlock it with their PIN.
    pub(super) kiosk: Option<crate::auth::login::Device>,
    /// "publickey SHA256:…" or "password+totp", for the session log.
    pub(super) method: String,
    pub(super) kbd: Kbd,
    pub(super) channels: HashMap<ChannelId, Chan>,
    /// Closes the whole connection (a session whose client stopped reading).
    pub(super) kill: Arc<tokio::sync::Notify>,
    /// Closes the connection with "service temporarily unavailable" (authentication could
    /// not be checked).
    pub(super) unavailable: Arc<tokio::sync::Notify>,
    /// When input was last reported dropped (reported at most once a second).
    pub(super) dropped_warned: Option<Instant>,
}

impl Conn {
    pub(super) fn prompt(text: &'static str) -> Auth {
        Auth::Partial {
            name: Cow::Borrowed("packtrack"),
            instructions: Cow::Borrowed(""),
            prompts: Cow::Owned(vec![(Cow::Borrowed(text), false)]),
        }
    }

    pub(super) fn accept(&mut self, principal: Principal, method: String) -> Auth {
        self.principal = Some(principal);
        self.method = method;
        self.authed.store(true, Ordering::Release);
        self.slot.authenticated();
        Auth::Accept
    }

    /// Right credentials, wrong facility part: let them in far enough to read the hint
    /// (refused when they have no facility at all).
    pub(super) async fn accept_unbound(&mut self, user: &SshUser) -> Auth {
        match self.shared.auth.facility_hint(user).await {
            Some(hint) => {
                self.unbound = Some(hint);
                Auth::Accept
            }
            None => self.reject(),
        }
    }

    pub(super) fn reject(&self) -> Auth {
        Metrics::inc(&self.shared.metrics.auth_failed);
        Auth::reject()
    }

    /// A failed check: a refusal, or — when the database could not answer — a disconnect
    /// that says the service is unavailable (never counted as a failed login).
    pub(super) fn refuse(&self, f: Failure) -> Auth {
        if f == Failure::Internal {
            Metrics::inc(&self.shared.metrics.auth_unavailable);
            self.unavailable.notify_one();
            return Auth::reject();
        }
        self.reject()
    }

    /// Starts the task that owns a channel's output.
    pub(super) fn spawn_task(
        &mut self,
        channel: ChannelId,
        exec: Option<String>,
        session: &mut Session,
    ) -> Result<(), russh::Error> {
        if self.spawn_task_with(channel, exec, None, session.handle())? {
            session.channel_success(channel)
        } else {
            session.channel_failure(channel)
        }
    }

    /// Starts the task; `false`: refused. `stdin`: what an exec command read (its reply
    /// was sent already).
    pub(super) fn spawn_task_with(
        &mut self,
        channel: ChannelId,
        exec: Option<String>,
        stdin: Option<Vec<u8>>,
        handle: server::Handle,
    ) -> Result<bool, russh::Error> {
        if let Some(hint) = &self.unbound {
            let Some(chan) = self.channels.get_mut(&channel) else {
                return Ok(false);
            };
            let Some(writer) = chan.writer.take() else {
                return Ok(false);
            };
            // A terminal in raw mode needs the carriage return.
            let eol = if chan.pty.is_some() { "\r\n" } else { "\n" };
            let shared = self.shared.clone();
            let msg = format!("packtrack: {hint}{eol}");
            tokio::spawn(async move {
                let _ = write_exec(&writer, String::new(), msg, 1, &shared).await;
            });
            return Ok(true);
        }
        // Everyone but a kiosk has a principal by now.
        if self.principal.is_none() && self.kiosk.is_none() {
            return Ok(false);
        }
        let principal = self.principal.clone();
        let kiosk = self.kiosk.clone();
        let Some(chan) = self.channels.get_mut(&channel) else {
            return Ok(false);
        };
        let Some(writer) = chan.writer.take() else {
            // Only one shell or exec per channel.
            return Ok(false);
        };
        let shared = self.shared.clone();
        let peer = self.peer;
        let method = self.method.clone();
        // Only a write *stall* closes the connection (a client's other channels share the
        // same stalled socket); a client closing its channel early is no reason.
        let kill = self.kill.clone();
        Metrics::inc(&shared.metrics.sessions_active);
        Metrics::inc(&shared.metrics.sessions_total);
        let guard = ActiveGuard(shared.metrics.clone());
        match (exec, principal) {
            (Some(line), Some(principal)) => {
                chan.task = Some(tokio::spawn(async move {
                    let _guard = guard;
                    let started = Instant::now();
                    // Output a command streams (large exports) goes out as it comes, with
                    // the same stall limit as everything else; the rest at the end.
                    let (tx, rx) = mpsc::channel::<Vec<u8>>(4);
                    let stall = shared.limits.write_stall;
                    let w = &writer;
                    let pump = async move {
                        let mut rx = rx;
                        let mut sent = 0usize;
                        while let Some(chunk) = rx.recv().await {
                            sent += chunk.len();
                            match tokio::time::timeout(stall, w.data_bytes(Bytes::from(chunk)))
                                .await
                            {
                                Ok(Ok(())) => {}
                                // Dropping the receiver tells the command the client is gone.
                                _ => return (sent, false),
                            }
                        }
                        (sent, true)
                    };
                    let run = crate::ssh::exec::run_full(
                        &line,
                        stdin.as_deref(),
                        &principal,
                        &shared.ops,
                        Some(tx),
                    );
                    // A panic in the command (a bug) must still answer the client.
                    let run = contain(run, || {
                        tracing::error!(
                            login = %principal.login(), facility = %principal.slug(), %peer,
                            command = %crate::logging::Clean(line.split_whitespace().next().unwrap_or("")),
                            "exec command panicked"
                        );
                        crate::ssh::exec::Output {
                            stdout: String::new(),
                            stderr: INTERNAL_ERROR.into(),
                            status: 70,
                        }
                    });
                    let (out, (streamed, alive)) = tokio::join!(run, pump);
                    let bytes = streamed + out.stdout.len() + out.stderr.len();
                    if alive {
                        let _ =
                            write_exec(&writer, out.stdout, out.stderr, out.status, &shared).await;
                    }
                    tracing::info!(
                        login = %principal.login(), facility = %principal.slug(), %peer,
                        auth = %method,
                        command = %crate::logging::Clean(line.split_whitespace().next().unwrap_or("")),
                        duration_ms = started.elapsed().as_millis() as u64, bytes,
                        "exec"
                    );
                }));
            }
            (Some(_), None) => {
                // A kiosk device has no commands: say so, like any user error.
                chan.task = Some(tokio::spawn(async move {
                    let _guard = guard;
                    let msg = "kiosk terminals have no commands; log in as yourself\n";
                    let _ = write_exec(&writer, String::new(), msg.into(), 1, &shared).await;
                }));
            }
            (None, principal) => {
                let pty = chan.pty.clone().unwrap_or(session::Pty {
                    term: "dumb".into(),
                    colorterm: None,
                    cols: 80,
                    rows: 24,
                });
                let pty = session::Pty {
                    colorterm: chan.colorterm.clone(),
                    ..pty
                };
                let (tx, rx) = mpsc::channel(shared.limits.input_queue);
                chan.input = Some(tx);
                let (who, slug, facility) = match (&principal, &kiosk) {
                    (Some(p), _) => (p.login().to_string(), p.slug().to_string(), p.facility()),
                    (None, Some(d)) => (format!("kiosk:{}", d.name), d.slug.clone(), d.facility),
                    (None, None) => return Ok(false),
                };
                let sess = session::Session {
                    theme: chan.theme.clone(),
                    principal,
                    kiosk: kiosk.map(|device| session::KioskSetup {
                        device,
                        auth: shared.auth.clone(),
                        peer: peer.ip(),
                        relock: shared.limits.kiosk_relock,
                    }),
                    pty: pty.clone(),
                    idle: shared.limits.idle,
                    write_stall: shared.limits.write_stall,
                    ops: shared.ops.clone(),
                    live: Some(shared.live.subscribe(facility)),
                    auth_key: method.strip_prefix("publickey ").map(str::to_string),
                    auth_totp: method == "password+totp",
                    recheck: shared.limits.recheck,
                    metrics: shared.metrics.clone(),
                };
                chan.task = Some(tokio::spawn(async move {
                    let _guard = guard;
                    let started = Instant::now();
                    tracing::info!(
                        login = %who, facility = %slug, %peer,
                        auth = %method, term = %crate::logging::Clean(&pty.term), cols = pty.cols, rows = pty.rows,
                        "session start"
                    );
                    // A panic in the session (a bug) still gives the client its terminal
                    // back, a line saying what happened and an exit status.
                    let run = sess.run(writer, rx, shared.shutdown.clone());
                    let (end, bytes) = contain(run, || (session::End::Panicked, 0)).await;
                    if end == session::End::Panicked {
                        tracing::error!(login = %who, facility = %slug, %peer, "session panicked");
                        answer_panic(&handle, channel, true).await;
                    }
                    if end == session::End::WriteStalled {
                        kill.notify_one();
                    }
                    tracing::info!(
                        login = %who, facility = %slug, %peer,
                        auth = %method, term = %crate::logging::Clean(&pty.term), cols = pty.cols, rows = pty.rows,
                        duration_s = started.elapsed().as_secs(), bytes, end = end.as_str(),
                        "session end"
                    );
                }));
            }
        }
        Ok(true)
    }
}

/// What a client is told when its command or session hit a bug (the log has the detail).
pub(super) const INTERNAL_ERROR: &str =
    "packtrack: internal error (logged); please try again, or tell your administrator\n";

/// Runs `fut`; if it panics, the panic is caught (the process's panic hook has already
/// logged it) and `on_panic` gives the answer instead, so a per-connection task never dies
/// silently and leaves its client waiting for an exit status.
pub(super) async fn contain<T>(
    fut: impl std::future::Future<Output = T>,
    on_panic: impl FnOnce() -> T,
) -> T {
    use futures_util::FutureExt as _;
    match std::panic::AssertUnwindSafe(fut).catch_unwind().await {
        Ok(v) => v,
        Err(_) => on_panic(),
    }
}

/// Tells a client whose session panicked, through the connection's handle (the session's
/// own writer went down with it): the terminal restored, the message, exit status 70, close.
pub(super) async fn answer_panic(handle: &server::Handle, channel: ChannelId, pty: bool) {
    let msg = if pty {
        format!(
            "{}\r\n{}",
            crate::term::LEAVE,
            INTERNAL_ERROR.replace('\n', "\r\n")
        )
    } else {
        INTERNAL_ERROR.to_string()
    };
    let send = async {
        let _ = handle
            .extended_data(channel, 1, bytes::Bytes::from(msg))
            .await;
        let _ = handle.exit_status_request(channel, 70).await;
        let _ = handle.eof(channel).await;
        let _ = handle.close(channel).await;
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), send).await;
}

/// Decrements the active-session gauge when a session task ends, however it ends.
pub(super) struct ActiveGuard(pub(super) Arc<Metrics>);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        Metrics::dec(&self.0.sessions_active);
    }
}

pub(super) async fn write_exec(
    w: &ChannelWriteHalf<Msg>,
    stdout: String,
    stderr: String,
    status: u32,
    shared: &Shared,
) -> Result<(), ()> {
    let stall = shared.limits.write_stall;
    let send = async {
        if !stdout.is_empty() {
            w.data_bytes(Bytes::from(stdout)).await.map_err(|_| ())?;
        }
        if !stderr.is_empty() {
            w.extended_data_bytes(1, Bytes::from(stderr))
                .await
                .map_err(|_| ())?;
        }
        w.exit_status(status).await.map_err(|_| ())?;
        w.eof().await.map_err(|_| ())?;
        w.close().await.map_err(|_| ())
    };
    tokio::time::timeout(stall, send).await.map_err(|_| ())?
}

impl Drop for Conn {
    fn drop(&mut self) {
        // The connection is gone: no session task may outlive it.
        for (_, chan) in self.channels.drain() {
            if let Some(t) = chan.task {
                t.abort();
            }
        }
    }
}
