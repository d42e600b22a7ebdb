//! The russh `Handler` for a connection: authentication callbacks (publickey,
//! keyboard-interactive) and channel requests (pty, env, shell, exec, data, close).

use super::*;

impl Handler for Conn {
    type Error = anyhow::Error;

    async fn auth_none(&mut self, _user: &str) -> Result<Auth, Self::Error> {
        Ok(Auth::reject())
    }

    /// The offered-key probe: may this key be tried? Never authenticates.
    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        offer: PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        let user = SshUser::parse(user);
        if user.login == crate::auth::login::KIOSK_LOGIN {
            return Ok(
                match self.shared.auth.device(&user, offer.public_key).await {
                    Ok(_) => Auth::Accept,
                    Err(f) => self.refuse(f),
                },
            );
        }
        match self.shared.auth.key_may_sign(&user, offer.public_key).await {
            Ok(true) => Ok(Auth::Accept),
            Ok(false) => Ok(self.reject()),
            Err(f) => Ok(self.refuse(f)),
        }
    }

    /// Called by russh only after the signature verified: identity is bound here.
    async fn auth_publickey(
        &mut self,
        user: &str,
        key: russh::server::VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        let user = SshUser::parse(user);
        if user.login == crate::auth::login::KIOSK_LOGIN {
            return Ok(match self.shared.auth.device(&user, key.public_key).await {
                Ok(device) => {
                    tracing::info!(device = %device.name, facility = %device.slug,
                        peer = %self.peer, "kiosk device connected");
                    Metrics::inc(&self.shared.metrics.auth_ok_publickey);
                    self.method = format!("device {}", pubkey::fingerprint(key.public_key));
                    self.kiosk = Some(device);
                    self.authed.store(true, Ordering::Release);
                    self.slot.authenticated();
                    Auth::Accept
                }
                Err(f) => {
                    tracing::warn!(peer = %self.peer, reason = f.as_str(), "kiosk device refused");
                    self.refuse(f)
                }
            });
        }
        match self
            .shared
            .auth
            .publickey(&user, key.public_key, self.peer.ip())
            .await
        {
            Ok(p) => {
                Metrics::inc(&self.shared.metrics.auth_ok_publickey);
                let method = format!("publickey {}", pubkey::fingerprint(key.public_key));
                Ok(self.accept(p, method))
            }
            Err(f) if f.is_facility_mistake() => Ok(self.accept_unbound(&user).await),
            Err(f) => Ok(self.refuse(f)),
        }
    }

    async fn auth_keyboard_interactive<'a>(
        &'a mut self,
        user: &str,
        _submethods: &str,
        response: Option<Response<'a>>,
    ) -> Result<Auth, Self::Error> {
        let Some(mut response) = response else {
            self.kbd = Kbd::AwaitPassword;
            return Ok(Self::prompt("Password: "));
        };
        let answer = response.next().unwrap_or_default();
        let answer = String::from_utf8_lossy(&answer).into_owned();
        match std::mem::replace(&mut self.kbd, Kbd::Idle) {
            Kbd::AwaitPassword => {
                // Always ask for the code, right password or not: the reply must not
                // reveal which part was wrong, or whether the login exists.
                self.kbd = Kbd::AwaitCode { password: answer };
                Ok(Self::prompt("Verification code: "))
            }
            Kbd::AwaitCode { password } => {
                let user = SshUser::parse(user);
                match self
                    .shared
                    .auth
                    .password_totp(&user, password, &answer, self.peer.ip())
                    .await
                {
                    Ok(p) => {
                        Metrics::inc(&self.shared.metrics.auth_ok_password);
                        Ok(self.accept(p, "password+totp".into()))
                    }
                    Err(f) if f.is_facility_mistake() => Ok(self.accept_unbound(&user).await),
                    Err(f) => Ok(self.refuse(f)),
                }
            }
            Kbd::Idle => Ok(self.reject()),
        }
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        // Channels the server closed never get `channel_close`: prune finished ones.
        self.channels
            .retain(|_, c| c.task.as_ref().is_none_or(|t| !t.is_finished()));
        let authed = self.principal.is_some() || self.kiosk.is_some() || self.unbound.is_some();
        if !authed || self.channels.len() >= self.shared.limits.max_channels {
            reply
                .reject(russh::ChannelOpenFailure::ResourceShortage)
                .await;
            return Ok(());
        }
        // Input arrives through `data`; an unread read half would stall the connection.
        let (read_half, write_half) = channel.split();
        drop(read_half);
        self.channels.insert(
            write_half.id(),
            Chan {
                writer: Some(write_half),
                pty: None,
                colorterm: None,
                theme: None,
                input: None,
                task: None,
                stdin: None,
            },
        );
        reply.accept().await;
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        term: &str,
        col_width: u32,
        row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        match self.channels.get_mut(&channel) {
            Some(chan) if chan.task.is_none() => {
                chan.pty = Some(session::Pty {
                    term: term.chars().take(64).collect(),
                    colorterm: None,
                    cols: clamp_dim(col_width, 80),
                    rows: clamp_dim(row_height, 24),
                });
                session.channel_success(channel)?;
            }
            _ => session.channel_failure(channel)?,
        }
        Ok(())
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        variable_name: &str,
        variable_value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        // COLORTERM (truecolor detection) and PACKTRACK_THEME (the user's theme choice,
        // `ssh -o SetEnv=PACKTRACK_THEME=light`); nothing else is taken from the client.
        let Some(chan) = self.channels.get_mut(&channel) else {
            session.channel_failure(channel)?;
            return Ok(());
        };
        let value: String = variable_value.chars().take(32).collect();
        match variable_name {
            "COLORTERM" => chan.colorterm = Some(value),
            "PACKTRACK_THEME" if crate::ui::Theme::builtin(&value).is_some() => {
                chan.theme = Some(value);
            }
            _ => {
                session.channel_failure(channel)?;
                return Ok(());
            }
        }
        session.channel_success(channel)?;
        Ok(())
    }

    async fn window_change_request(
        &mut self,
        channel: ChannelId,
        col_width: u32,
        row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        let (cols, rows) = (clamp_dim(col_width, 80), clamp_dim(row_height, 24));
        if let Some(chan) = self.channels.get_mut(&channel) {
            match &chan.input {
                Some(tx) => {
                    let _ = tx.try_send(Input::Resize { cols, rows });
                }
                // Resized before the shell started: the session will start at this size.
                None => {
                    if let Some(pty) = chan.pty.as_mut() {
                        pty.cols = cols;
                        pty.rows = rows;
                    }
                }
            }
        }
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        // No terminal and no command (`ssh -T host`, a script piping into ssh): a full
        // screen drawn into a pipe helps nobody. Say how to get either, like a user error.
        // (An unbound login still gets its own hint from `spawn_task`.)
        if self.unbound.is_none()
            && let Some(chan) = self.channels.get_mut(&channel)
            && chan.pty.is_none()
            && chan.task.is_none()
            && let Some(writer) = chan.writer.take()
        {
            let stdout = if self.principal.is_some() {
                crate::ssh::exec::HELP.to_string()
            } else {
                String::new()
            };
            tracing::info!(peer = %self.peer, "shell without a terminal: answered with help");
            let shared = self.shared.clone();
            tokio::spawn(async move {
                let _ = write_exec(&writer, stdout, NO_TERMINAL.into(), 1, &shared).await;
            });
            session.channel_success(channel)?;
            return Ok(());
        }
        Ok(self.spawn_task(channel, None, session)?)
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if data.len() > crate::ssh::limits::MAX_COMMAND_LINE {
            // A bare channel failure left clients (OpenSSH says nothing) guessing: answer
            // like any user error, with what the limit is, and leave a trace in the log.
            tracing::warn!(peer = %self.peer, bytes = data.len(),
                "exec refused: command line over the limit");
            let Some(writer) = self
                .channels
                .get_mut(&channel)
                .and_then(|c| c.writer.take())
            else {
                session.channel_failure(channel)?;
                return Ok(());
            };
            let msg = format!(
                "the command line is {} bytes; the most is {} (8 KiB)\n",
                data.len(),
                crate::ssh::limits::MAX_COMMAND_LINE
            );
            let shared = self.shared.clone();
            tokio::spawn(async move {
                let _ = write_exec(&writer, String::new(), msg, 1, &shared).await;
            });
            session.channel_success(channel)?;
            return Ok(());
        }
        let line = String::from_utf8_lossy(data).into_owned();
        // A command that reads stdin waits for the client's EOF. Only admins may run one,
        // so only they can make the server buffer input (bounded by the import limit);
        // anyone else runs it at once and is refused.
        if crate::ssh::exec::reads_stdin(&line)
            && self.principal.as_ref().is_some_and(|p| p.may_administer())
        {
            match self.channels.get_mut(&channel) {
                Some(chan) if chan.writer.is_some() && chan.stdin.is_none() => {
                    chan.stdin = Some((line, Vec::new()));
                    session.channel_success(channel)?;
                }
                _ => session.channel_failure(channel)?,
            }
            return Ok(());
        }
        Ok(self.spawn_task(channel, Some(line), session)?)
    }

    async fn data(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some((_, buf)) = self
            .channels
            .get_mut(&channel)
            .and_then(|c| c.stdin.as_mut())
        {
            // One byte over the limit is kept so the import can say the input is too large.
            let room = (crate::config::MAX_IMPORT_BYTES as usize + 1).saturating_sub(buf.len());
            buf.extend_from_slice(&data[..data.len().min(room)]);
            return Ok(());
        }
        let Some(tx) = self.channels.get(&channel).and_then(|c| c.input.as_ref()) else {
            return Ok(());
        };
        // Scheduled backups wait for the sessions to be quiet (backup::pace).
        crate::backup::pace::input_seen();
        if let Err(mpsc::error::TrySendError::Full(_)) = tx.try_send(Input::Data(
            Bytes::copy_from_slice(data),
            tokio::time::Instant::now(),
        )) {
            // Never block the connection on a busy session: the input queue is bounded
            // and a session that does not drain it loses the excess. Reported at most once
            // a second: a client must not be able to flood the log. (A session that has
            // ended drops its input silently.)
            if self
                .dropped_warned
                .is_none_or(|t| t.elapsed() >= Duration::from_secs(1))
            {
                self.dropped_warned = Some(Instant::now());
                tracing::warn!(peer = %self.peer, "input dropped: session input queue full");
            }
        }
        Ok(())
    }

    async fn channel_eof(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some((line, data)) = self.channels.get_mut(&channel).and_then(|c| c.stdin.take()) {
            if !self.spawn_task_with(channel, Some(line), Some(data), session.handle())? {
                session.close(channel)?;
            }
            return Ok(());
        }
        if let Some(tx) = self.channels.get(&channel).and_then(|c| c.input.as_ref()) {
            let _ = tx.try_send(Input::Eof);
        }
        Ok(())
    }

    async fn channel_close(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(chan) = self.channels.remove(&channel)
            && let Some(t) = chan.task
        {
            t.abort();
        }
        Ok(())
    }
}

/// The answer to a shell request without a terminal (one line on stderr, exit 1).
pub(super) const NO_TERMINAL: &str = "packtrack: no terminal: use `ssh -t HOST` for the \
     interface, or `ssh HOST COMMAND` (`ssh HOST help` lists them)\n";

/// Terminal dimensions as the client reports them, bounded to something drawable; 0 means
/// the client does not know (no local terminal), so assume the classic size.
pub(super) fn clamp_dim(v: u32, unknown: u16) -> u16 {
    if v == 0 { unknown } else { v.min(1000) as u16 }
}
