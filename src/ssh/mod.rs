//! The SSH front door.

pub mod input; // bytes from the PTY -> key events (stateful, pure)
