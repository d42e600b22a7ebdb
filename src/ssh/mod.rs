//! The SSH front door: limits → authentication → facility binding → PTY → app.

pub mod exec; // exec commands (`ssh host whoami`)
pub mod hostkey; // the server's Ed25519 host key
pub mod kiosk; // a kiosk session's checks: settings, unlock, self-service pickup
pub mod limits; // connection limits and tunables
pub mod server; // russh handler, accept loop, shutdown
pub mod session; // one interactive PTY session
