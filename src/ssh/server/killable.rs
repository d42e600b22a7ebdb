//! A TCP stream the server can cut: the shutdown path and the per-connection kill switch.

/// The connection's TCP stream with a kill switch: once the sender is dropped, every
/// read and write fails.
pub(super) struct Killable {
    pub(super) inner: tokio::net::TcpStream,
    pub(super) killed: Option<tokio::sync::oneshot::Receiver<()>>,
}

impl Killable {
    pub(super) fn alive(&mut self, cx: &mut std::task::Context<'_>) -> std::io::Result<()> {
        if let Some(rx) = self.killed.as_mut() {
            if std::pin::Pin::new(rx).poll(cx).is_pending() {
                return Ok(());
            }
            self.killed = None;
        }
        Err(std::io::ErrorKind::ConnectionAborted.into())
    }
}

impl tokio::io::AsyncRead for Killable {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if let Err(e) = this.alive(cx) {
            return std::task::Poll::Ready(Err(e));
        }
        let res = std::pin::Pin::new(&mut this.inner).poll_read(cx, buf);
        if res.is_ready() {
            // Acknowledge at once: with delayed ACKs a client's small key-exchange packet
            // waited ~40 ms on Nagle (measured, docs/PERFORMANCE.md). The kernel clears
            // the flag again after use, so it is set after every read.
            let _ = this.inner.set_quickack(true);
        }
        res
    }
}

impl tokio::io::AsyncWrite for Killable {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        if let Err(e) = this.alive(cx) {
            return std::task::Poll::Ready(Err(e));
        }
        std::pin::Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if let Err(e) = this.alive(cx) {
            return std::task::Poll::Ready(Err(e));
        }
        std::pin::Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
