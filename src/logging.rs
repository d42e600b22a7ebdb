//! Tracing setup and masking of personal data in logs.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber: human-readable or JSON lines on stderr, filtered by
/// `PACKTRACK_LOG` (or `RUST_LOG`), defaulting to `default_level`.
pub fn init(json: bool, default_level: &str) {
    let filter = std::env::var("PACKTRACK_LOG")
        .ok()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(format!("{default_level},sqlx=warn,russh=warn")));
    // Colours only for a person at a terminal: a log file or journal gets plain lines (no
    // escape sequences of our own, and none of anyone else's: see `Clean`).
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false);
    // A second init (tests) is harmless: keep the first subscriber.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.compact().try_init()
    };
}

/// A log field that carries someone's input (a login name as typed, a command line): shown
/// with every control character, line break and bidi override escaped (`\u001b`, `\u000a`),
/// so input can neither start a forged log line nor drive the terminal of whoever reads the
/// log. Use it as `field = %Clean(&text)`.
#[derive(Clone, Copy)]
pub struct Clean<'a>(pub &'a str);

impl std::fmt::Display for Clean<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        crate::domain::text::escape_into(f, self.0, &[])
    }
}

impl std::fmt::Debug for Clean<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// Masks personal data for logs: enough to tell records apart while debugging, not enough
/// to identify a resident.
pub mod mask {
    /// `Ada Lovelace` → `A** L*******`.
    pub fn name(name: &str) -> String {
        name.split_whitespace()
            .map(|w| {
                let mut chars = w.chars();
                let first = chars.next().map(String::from).unwrap_or_default();
                first + &"*".repeat(chars.count())
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// `ada@example.org` → `a**@example.org`.
    pub fn email(email: &str) -> String {
        match email.split_once('@') {
            Some((local, domain)) => format!("{}@{domain}", name(local)),
            None => name(email),
        }
    }

    /// `+15550101234` → `********234`: the last three digits only.
    pub fn phone(phone: &str) -> String {
        let n = phone.chars().count();
        phone
            .chars()
            .enumerate()
            .map(|(i, c)| if i + 3 < n { '*' } else { c })
            .collect()
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn masks() {
            assert_eq!(name("Ada Lovelace"), "A** L*******");
            assert_eq!(name("Björn"), "B****");
            assert_eq!(email("ada@example.org"), "a**@example.org");
            assert_eq!(email("garbage"), "g******");
            assert_eq!(phone("+15550101234"), "*********234");
            assert_eq!(phone("12"), "12");
        }
    }
}

#[cfg(test)]
mod tests;
