//! The admin console's footer: the keys of the tab shown, and of the dialog open in it.

use crate::app::model::Model;

/// The admin console's footer, for the tab (and what is being done in it).
pub fn hints(m: &Model) -> &'static [(&'static str, &'static str)] {
    use crate::app::admin::keys::KeysMode;
    use crate::app::admin::totp::TotpMode;
    use crate::app::model::AdminTab;
    let a = &m.admin;
    match a.tab {
        AdminTab::Members if a.new_member.is_some() => &[
            ("Tab", "next field"),
            ("Space", "change"),
            ("Ctrl-S", "create"),
            ("Esc", "cancel"),
        ],
        AdminTab::Members => &[
            ("Tab", "next tab"),
            ("n", "new member"),
            ("r", "role"),
            ("d", "disable"),
            ("/", "filter"),
            ("Esc", "back"),
        ],
        AdminTab::Audit => &[("Tab", "next tab"), ("/", "filter"), ("Esc", "back")],
        AdminTab::Security => &[("Tab", "next tab"), ("Ctrl-R", "refresh"), ("Esc", "back")],
        AdminTab::Keys => match a.keys.mode {
            KeysMode::Browse | KeysMode::Busy(_) => &[
                ("Tab", "next tab"),
                ("n", "add key"),
                ("x", "revoke"),
                ("Esc", "back"),
            ],
            KeysMode::PickMember { .. } => {
                &[("↑↓", "member"), ("Enter", "next"), ("Esc", "cancel")]
            }
            KeysMode::Paste { .. } => &[("paste", "key line"), ("Enter", "add"), ("Esc", "cancel")],
            KeysMode::ConfirmRevoke { .. } => &[("Enter", "revoke"), ("Esc", "keep")],
        },
        AdminTab::Totp => match a.totp.mode {
            TotpMode::Browse | TotpMode::Starting => &[
                ("Tab", "next tab"),
                ("n", "enroll"),
                ("x", "reset"),
                ("P", "kiosk PIN"),
                ("Esc", "back"),
            ],
            TotpMode::Enroll { .. } => &[("Enter", "confirm code"), ("Esc", "cancel")],
            TotpMode::Reset { .. } => &[("Enter", "reset"), ("Esc", "cancel")],
            TotpMode::Pin { .. } => &[("Enter", "set PIN"), ("Esc", "cancel")],
        },
        AdminTab::Settings if a.settings.editing.is_some() => {
            &[("Enter", "keep"), ("Esc", "cancel")]
        }
        AdminTab::Settings => &[
            ("Tab", "next tab"),
            ("Enter", "edit"),
            ("Space", "switch"),
            ("Ctrl-S", "save"),
            ("Esc", "back"),
        ],
        AdminTab::Channels if a.channels.editor.is_some() => &[
            ("Tab", "next field"),
            ("Ctrl-S", "save"),
            ("Ctrl-T", "send a test"),
            ("Esc", "close"),
        ],
        AdminTab::Channels => &[
            ("Tab", "next tab"),
            ("Enter", "set up"),
            ("n", "new webhook"),
            ("Esc", "back"),
        ],
        AdminTab::Outbox => &[
            ("Tab", "next tab"),
            ("t", "retry"),
            ("Ctrl-R", "refresh"),
            ("Esc", "back"),
        ],
    }
}
