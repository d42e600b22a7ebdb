//! Side effects requested by `update`, run by `crate::effects`, answered with a `Msg`.

use crate::db::packages::{Change, Handover};
use crate::ops::IntakeRequest;

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Dashboard counts.
    LoadStats,
    /// Recipient search; `seq` lets the answer to an older keystroke be ignored.
    Search {
        seq: u64,
        query: String,
        include_inactive: bool,
    },
    /// Is this tracking number already waiting? (a re-scan opens that package)
    CheckWaiting {
        seq: u64,
        tracking: String,
    },
    CommitIntake(IntakeRequest),
    /// Waiting packages for a pickup code.
    FindByCode(String),
    /// Waiting packages of the recipient of a scanned parcel.
    FindByTracking(String),
    /// Waiting packages of a recipient.
    WaitingFor(i64),
    CommitPickup {
        ids: Vec<i64>,
        handover: Handover,
    },
    /// A resident's authorised proxies, for the pickup's proxy picker.
    LoadProxies(i64),
    /// The package list: by status (`None`: all), text search, oldest first (overdue).
    LoadPackages {
        status: Option<String>,
        search: String,
        oldest_first: bool,
    },
    LoadPackage(i64),
    AssignRecipient {
        id: i64,
        recipient: i64,
    },
    ChangePackage {
        id: i64,
        change: Change,
        reason: String,
    },
    /// Recipient, flags or note of a waiting package.
    CorrectPackage {
        id: i64,
        edit: crate::db::packages::Edit,
    },
    /// A bulk action on the package list's marked parcels.
    Bulk {
        action: crate::ops::Bulk,
        ids: Vec<i64>,
    },
    LoadMembers,
    UpdateMember {
        user_id: i64,
        role: Option<crate::domain::Role>,
        disabled: Option<bool>,
    },
    LoadAudit(String),
    LoadScorecard,
    /// The admin console's tabs (Keys, TOTP, Settings, Channels, Outbox, a new member).
    Admin(super::admin::AdminEffect),
    /// Recipients management (admins).
    RecipientsAdmin(super::recipients::admin::AdminEffect),
    /// The Reports screen: `span` local days ending `ends_ago` days before today.
    LoadReports {
        seq: u64,
        span: i64,
        ends_ago: i64,
    },
    /// The Reports screen's Parcels tab.
    Day(super::reports_screen::day::DayEffect),
    /// The dashboard's sparkline (received per day, last 14 days).
    LoadTrend,
    /// Kiosk: check a staff member's PIN, and TOTP code when the facility asks for it
    /// (the session swaps its principal on success).
    Unlock {
        login: String,
        pin: String,
        totp: Option<String>,
    },
    /// Self-service kiosk: the waiting packages of a pickup code.
    LookupPickupCode(String),
    /// Self-service kiosk: a staff member confirms the handover with their PIN (and code);
    /// the terminal stays locked.
    ConfirmPickup {
        login: String,
        pin: String,
        totp: Option<String>,
        code: String,
        ids: Vec<i64>,
    },
    /// Kiosk: forget the staff member.
    Lock,
    Quit,
}
