//! Everything that can happen to the interface.

use crate::db::packages::{Event, Intake, Package, Total};
use crate::ops::{Found, Stats};
use crate::term::input::KeyEvent;

use super::failure::Failure;

#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    Paste(String),
    /// A barcode scan: the whole number, recognised by the session from the keys' timing
    /// (`term::scan`). Never seen as keys.
    Scan(String),
    Resize {
        cols: u16,
        rows: u16,
    },
    /// The clock, for ages and "today" (the core has no clock of its own).
    Tick(chrono::DateTime<chrono::Utc>),
    Stats(Result<Stats, Failure>),
    SearchResults {
        seq: u64,
        found: Result<Vec<Found>, Failure>,
    },
    Waiting {
        seq: u64,
        package: Option<Package>,
    },
    IntakeDone(Result<Intake, Failure>),
    PickupList(Result<Vec<Package>, Failure>),
    PickupDone(Result<Vec<Package>, Failure>),
    /// A resident's authorised proxies (the pickup's proxy picker).
    PickupProxies {
        recipient: i64,
        names: Result<Vec<String>, Failure>,
    },
    Packages(Result<Listed, Failure>),
    PackageDetail(Result<(Package, Vec<Event>), Failure>),
    Changed(Result<Package, Failure>),
    /// What a bulk action on the marked parcels did.
    Bulk {
        action: crate::ops::Bulk,
        outcome: Result<crate::db::packages::BulkOutcome, Failure>,
    },
    /// Kiosk unlock result: who is now at the terminal.
    Unlocked(Result<super::model::Me, Failure>),
    /// Kiosk: lock now (idle timeout).
    Lock,
    /// The facility's time zone (a kiosk learns it before anyone unlocks).
    TimeZone(chrono_tz::Tz),
    /// Kiosk: the facility's and the device's settings, as read at start and at unlock.
    KioskSettings {
        pin_totp: bool,
        self_service: bool,
    },
    /// The Reports screen's data for the request `seq`.
    Reports {
        seq: u64,
        data: Result<crate::reports::Overview, Failure>,
    },
    /// Answers for the Reports screen's Parcels tab (a day's parcels, the export request).
    Day(super::reports_screen::day::DayMsg),
    /// The dashboard's sparkline: packages received per day, oldest first.
    Trend(Result<Vec<u64>, Failure>),
    /// Self-service: the waiting packages a pickup code found (masked).
    PickupCodeFound(Result<Vec<crate::db::kiosk::MaskedPackage>, Failure>),
    /// Self-service: the handover a staff member confirmed (their login, packages).
    PickupConfirmed(Result<(String, usize), Failure>),
    Members(Result<Vec<crate::db::members::Member>, Failure>),
    MemberUpdated(Result<(), Failure>),
    Audit(Result<Vec<crate::db::members::AuditRow>, Failure>),
    Scorecard(Result<crate::db::members::Scorecard, Failure>),
    /// Answers for the admin console's tabs (Keys, TOTP, Settings, Channels, Outbox, a new
    /// member).
    Admin(super::admin::AdminMsg),
    /// Answers to the recipients admin's effects.
    RecipientsAdmin(super::recipients::admin::AdminMsg),
    /// Another session (maybe on another server) changed packages of this facility.
    Live {
        kind: String,
        by: String,
        ids: Vec<i64>,
    },
}

/// A page of the package list and how many packages match its query in all, so a cut
/// list says "500 of 5123" instead of passing its page off as everything.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub rows: Vec<Package>,
    pub total: Total,
}

impl From<Vec<Package>> for Listed {
    /// Rows that are the whole answer.
    fn from(rows: Vec<Package>) -> Self {
        let total = Total::Exact(i64::try_from(rows.len()).unwrap_or(i64::MAX));
        Self { rows, total }
    }
}
