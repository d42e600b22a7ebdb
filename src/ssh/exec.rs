//! Exec commands (`ssh host COMMAND`): plain output, exit 0 on success, 1 on a user error
//! with one line on stderr.

use crate::db::Db;
use crate::domain::Principal;

/// What a command printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub status: u32,
}

impl Output {
    fn ok(stdout: String) -> Self {
        Self {
            stdout,
            stderr: String::new(),
            status: 0,
        }
    }

    fn user_error(msg: impl std::fmt::Display) -> Self {
        Self {
            stdout: String::new(),
            stderr: format!("{msg}\n"),
            status: 1,
        }
    }
}

const HELP: &str = "\
packtrack commands (ssh HOST COMMAND):
  whoami      print LOGIN FACILITY ROLE
  help        this text
Without a command (and with a terminal), ssh opens the full-screen interface.
";

/// Runs one command line for an authenticated principal.
pub async fn run(line: &str, principal: &Principal, _db: &Db) -> Output {
    let args = match shell_words::split(line) {
        Ok(a) => a,
        Err(e) => return Output::user_error(format!("cannot parse the command line: {e}")),
    };
    let Some((cmd, rest)) = args.split_first() else {
        return Output::ok(HELP.to_string());
    };
    match (cmd.as_str(), rest) {
        ("whoami", []) => Output::ok(format!(
            "{} {} {}\n",
            principal.login(),
            principal.slug(),
            principal.role()
        )),
        ("help" | "--help" | "-h", _) => Output::ok(HELP.to_string()),
        ("whoami", _) => Output::user_error("whoami takes no arguments"),
        (other, _) => Output::user_error(format!("unknown command `{other}`; try `help`")),
    }
}
