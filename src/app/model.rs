//! The interface state. Plain data: cloned in tests, drawn by `ui`, changed only by `update`.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};

use super::text::TextField;
use crate::db::packages::{Event, Package};
use crate::domain::Role;
use crate::domain::limits::LOCATION_MAX;
use crate::label::Parsed;
use crate::ops::{Found, Stats};

/// Who is logged in, where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Me {
    pub login: String,
    pub slug: String,
    pub facility_name: String,
    pub role: Role,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Screen {
    Dashboard,
    Intake,
    Pickup,
    Packages,
    Detail,
    Recipients,
    Admin,
    Reports,
}

impl Screen {
    pub fn title(self) -> &'static str {
        match self {
            Screen::Dashboard => "Dashboard",
            Screen::Intake => "Intake",
            Screen::Pickup => "Pickup",
            Screen::Packages => "Packages",
            Screen::Detail => "Package",
            Screen::Recipients => "Recipients",
            Screen::Admin => "Admin",
            Screen::Reports => "Reports",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Info,
    Success,
    Warning,
    Error,
}

/// Search-as-you-type over recipients, shared by intake, pickup and the recipients screen.
#[derive(Debug, Clone)]
pub struct RecipientSearch {
    pub query: TextField,
    pub results: Vec<Found>,
    pub cursor: usize,
    /// Sequence number of the newest search sent; older answers are ignored.
    pub seq: u64,
    pub include_inactive: bool,
}

impl Default for RecipientSearch {
    fn default() -> Self {
        Self {
            query: TextField::new(80),
            results: Vec::new(),
            cursor: 0,
            seq: 0,
            include_inactive: false,
        }
    }
}

impl RecipientSearch {
    pub fn selected(&self) -> Option<&Found> {
        self.results.get(self.cursor)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntakeStep {
    /// Waiting for a scan (or typed number).
    Scan,
    /// The check digit is wrong: accept anyway or rescan.
    ConfirmChecksum,
    /// Choosing the recipient.
    Recipient,
    /// Location and flags, then commit.
    Details,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    pub perishable: bool,
    pub oversized: bool,
    pub damaged: bool,
    pub signature_required: bool,
}

/// The chosen recipient of an intake (`None` id: unmatched, resolve later).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    pub id: Option<i64>,
    pub label: String,
}

#[derive(Debug, Clone)]
pub struct IntakeForm {
    pub step: IntakeStep,
    pub tracking: TextField,
    pub parsed: Option<Parsed>,
    pub recipient: Option<Chosen>,
    /// Sticky across a batch.
    pub location: TextField,
    pub flags: Flags,
    /// Batch mode keeps the recipient for the next scan.
    pub batch: bool,
    /// Packages recorded in this session's intake run.
    pub tally: u32,
    pub committing: bool,
    pub check_seq: u64,
    /// Optional note (multi-line); Tab moves between location and note.
    pub note: ratatui_textarea::TextArea<'static>,
    pub on_note: bool,
}

/// Most characters in an intake note.
pub use crate::domain::limits::NOTE_MAX;

pub fn note_area() -> ratatui_textarea::TextArea<'static> {
    let mut t = ratatui_textarea::TextArea::default();
    t.set_placeholder_text("Note (optional) · Tab: location · Ctrl-S or Enter on location: save");
    t.set_cursor_line_style(ratatui::style::Style::default());
    t
}

impl Default for IntakeForm {
    fn default() -> Self {
        Self {
            step: IntakeStep::Scan,
            tracking: TextField::new(96),
            parsed: None,
            recipient: None,
            location: TextField::new(LOCATION_MAX),
            flags: Flags::default(),
            batch: false,
            tally: 0,
            committing: false,
            check_seq: 0,
            note: note_area(),
            on_note: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickupStep {
    /// Type or scan a pickup code (or switch to recipient search).
    Code,
    /// Search the recipient instead.
    Search,
    /// The recipient's waiting packages, all selected.
    Select,
    /// Who takes them.
    Receiver,
}

#[derive(Debug, Clone)]
pub struct PickupForm {
    pub step: PickupStep,
    pub code: TextField,
    pub packages: Vec<Package>,
    pub selected: Vec<bool>,
    pub cursor: usize,
    pub receiver: TextField,
    pub proxy: bool,
    pub committing: bool,
}

impl Default for PickupForm {
    fn default() -> Self {
        Self {
            step: PickupStep::Code,
            code: TextField::new(96),
            packages: Vec::new(),
            selected: Vec::new(),
            cursor: 0,
            receiver: TextField::new(100),
            proxy: false,
            committing: false,
        }
    }
}

impl PickupForm {
    pub fn chosen_ids(&self) -> Vec<i64> {
        self.packages
            .iter()
            .zip(&self.selected)
            .filter(|(_, s)| **s)
            .map(|(p, _)| p.id)
            .collect()
    }
}

pub use super::kiosk::Kiosk;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminTab {
    Members,
    Audit,
    Security,
    Keys,
    Totp,
    Settings,
    Outbox,
}

impl AdminTab {
    pub const ALL: [AdminTab; 7] = [
        AdminTab::Members,
        AdminTab::Audit,
        AdminTab::Security,
        AdminTab::Keys,
        AdminTab::Totp,
        AdminTab::Settings,
        AdminTab::Outbox,
    ];

    pub fn title(self) -> &'static str {
        match self {
            AdminTab::Members => "Members",
            AdminTab::Audit => "Audit",
            AdminTab::Security => "Security",
            AdminTab::Keys => "Keys",
            AdminTab::Totp => "TOTP",
            AdminTab::Settings => "Settings",
            AdminTab::Outbox => "Outbox",
        }
    }

    /// For narrow terminals, where all full titles do not fit.
    pub fn short_title(self) -> &'static str {
        match self {
            AdminTab::Members => "Memb",
            AdminTab::Audit => "Audit",
            AdminTab::Security => "Sec",
            AdminTab::Keys => "Keys",
            AdminTab::Totp => "TOTP",
            AdminTab::Settings => "Set",
            AdminTab::Outbox => "Out",
        }
    }
}

#[derive(Debug, Clone)]
pub struct AdminState {
    pub tab: AdminTab,
    pub members: Vec<crate::db::members::Member>,
    pub cursor: usize,
    pub audit: Vec<crate::db::members::AuditRow>,
    pub audit_filter: TextField,
    pub filtering: bool,
    pub scorecard: Option<crate::db::members::Scorecard>,
    pub keys: super::admin_keys::KeysTab,
    pub totp: super::admin_keys::TotpTab,
    pub settings: super::admin_settings::SettingsTab,
    pub outbox: super::admin_outbox::OutboxTab,
}

impl Default for AdminState {
    fn default() -> Self {
        Self {
            tab: AdminTab::Members,
            members: Vec::new(),
            cursor: 0,
            audit: Vec::new(),
            audit_filter: TextField::new(40),
            filtering: false,
            scorecard: None,
            keys: Default::default(),
            totp: Default::default(),
            settings: Default::default(),
            outbox: Default::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorrectionKind {
    /// Give an unmatched package its recipient (search instead of a reason).
    Assign,
    Move,
    ReturnToSender,
    Lost,
}

impl CorrectionKind {
    pub fn title(self) -> &'static str {
        match self {
            CorrectionKind::Assign => "Assign the recipient",
            CorrectionKind::Move => "Move to another location",
            CorrectionKind::ReturnToSender => "Return to sender",
            CorrectionKind::Lost => "Mark as lost",
        }
    }
}

/// A correction to the package on the detail screen, being filled in.
#[derive(Debug, Clone)]
pub struct Correction {
    pub kind: CorrectionKind,
    pub location: TextField,
    pub reason: TextField,
    /// Focus: the reason field (a move asks for the location first).
    pub on_reason: bool,
    pub saving: bool,
}

impl Correction {
    pub fn new(kind: CorrectionKind) -> Self {
        Self {
            kind,
            location: TextField::new(LOCATION_MAX),
            reason: TextField::new(200),
            on_reason: kind != CorrectionKind::Move,
            saving: false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct PackageList {
    /// `None`: every status.
    pub status: Option<String>,
    pub rows: Vec<Package>,
    /// Index into [`PackageList::visible`].
    pub cursor: usize,
    pub loading: bool,
    /// Narrows the loaded rows: tracking, carrier, recipient or location contain it.
    pub filter: TextField,
    pub filtering: bool,
    pub overdue_only: bool,
}

impl Default for PackageList {
    fn default() -> Self {
        Self {
            status: None,
            rows: Vec::new(),
            cursor: 0,
            loading: false,
            filter: TextField::new(40),
            filtering: false,
            overdue_only: false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Model {
    pub me: Me,
    pub screen: Screen,
    /// Where Esc goes from the package detail.
    pub detail_from: Screen,
    pub cols: u16,
    pub rows: u16,
    pub now: DateTime<Utc>,
    pub help: bool,
    pub status: Option<(String, Tone)>,
    pub stats: Option<Stats>,
    /// Newest first, bounded.
    pub activity: VecDeque<String>,
    pub overdue_days: i64,
    /// The facility's time zone: every time shown is local to the mailroom.
    pub tz: chrono_tz::Tz,
    pub seq: u64,
    pub search: RecipientSearch,
    pub intake: IntakeForm,
    pub pickup: PickupForm,
    pub list: PackageList,
    pub detail: Option<(Package, Vec<Event>)>,
    pub correction: Option<Correction>,
    pub admin: AdminState,
    /// Recipients management on the recipients screen (admins).
    pub recipients_admin: super::recipients_admin::RecipientsAdmin,
    /// Set on kiosk terminals.
    pub kiosk: Option<Kiosk>,
    pub reports: super::reports_screen::ReportsState,
    /// The dashboard's sparkline of packages received per day.
    pub trend: super::reports_screen::Trend,
    pub quit: bool,
}

pub const ACTIVITY_LINES: usize = 8;

impl Model {
    pub fn new(me: Me, cols: u16, rows: u16, now: DateTime<Utc>) -> Self {
        Self {
            me,
            screen: Screen::Dashboard,
            detail_from: Screen::Packages,
            cols,
            rows,
            now,
            help: false,
            status: None,
            stats: None,
            activity: VecDeque::new(),
            overdue_days: 3,
            tz: chrono_tz::UTC,
            seq: 0,
            search: RecipientSearch::default(),
            intake: IntakeForm::default(),
            pickup: PickupForm::default(),
            list: PackageList {
                status: Some("waiting".into()),
                ..PackageList::default()
            },
            detail: None,
            correction: None,
            admin: AdminState::default(),
            recipients_admin: Default::default(),
            kiosk: None,
            reports: Default::default(),
            trend: Default::default(),
            quit: false,
        }
    }

    /// A kiosk terminal's model: locked, nobody logged in yet.
    pub fn new_kiosk(
        facility_name: &str,
        slug: &str,
        device: &str,
        cols: u16,
        rows: u16,
        now: DateTime<Utc>,
    ) -> Self {
        let mut m = Self::new(
            Me {
                login: String::new(),
                slug: slug.to_string(),
                facility_name: facility_name.to_string(),
                role: Role::Viewer,
            },
            cols,
            rows,
            now,
        );
        m.kiosk = Some(Kiosk::new(device));
        m
    }

    /// Whether the kiosk lock screen is showing.
    pub fn locked(&self) -> bool {
        self.kiosk.as_ref().is_some_and(|k| k.locked)
    }

    /// A time as the mailroom's clocks show it.
    pub fn local(&self, at: DateTime<Utc>) -> DateTime<chrono_tz::Tz> {
        at.with_timezone(&self.tz)
    }

    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    pub fn note(&mut self, text: impl Into<String>, tone: Tone) {
        self.status = Some((text.into(), tone));
    }

    pub fn log_activity(&mut self, line: String) {
        self.activity.push_front(line);
        self.activity.truncate(ACTIVITY_LINES);
    }

    /// The package rows after the text and overdue filters, in list order.
    pub fn visible(&self) -> Vec<&Package> {
        let needle = self.list.filter.text().to_lowercase();
        self.list
            .rows
            .iter()
            .filter(|p| !self.list.overdue_only || self.is_overdue(p))
            .filter(|p| {
                needle.is_empty()
                    || p.tracking.to_lowercase().contains(&needle)
                    || p.carrier.as_deref().unwrap_or("").contains(&needle)
                    || p.location.to_lowercase().contains(&needle)
                    || p.recipient_name
                        .as_deref()
                        .is_some_and(|n| n.to_lowercase().contains(&needle))
            })
            .collect()
    }

    /// Whether a waiting package is overdue at the model's current time.
    pub fn is_overdue(&self, p: &Package) -> bool {
        p.status == "waiting" && (self.now - p.received_at).num_days() >= self.overdue_days
    }
}
