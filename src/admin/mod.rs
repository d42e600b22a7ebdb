//! The admin CLI's actions (`packtrack admin …`): the root of trust on the server host.

pub mod demo;
pub mod import;
