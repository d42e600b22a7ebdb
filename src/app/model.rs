//! The interface state. Plain data: cloned in tests, drawn by `ui`, changed only by `update`.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};

use crate::db::packages::{Event, Package};
use crate::domain::Role;
use crate::ops::Stats;

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

// Each room owns its state; the model is their composition.
pub use super::admin::{AdminState, AdminTab};
pub use super::intake::{Chosen, Flags, IntakeForm, IntakeStep, NOTE_MAX, note_area};
pub use super::kiosk::Kiosk;
pub use super::packages::{Correction, CorrectionKind, PackageList};
pub use super::pickup::{PickupForm, PickupStep};
pub use super::recipients::RecipientSearch;

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
    /// First help line shown: the overlay scrolls when the keys do not fit (80x24).
    pub help_scroll: usize,
    /// `q` was pressed: "Quit? y/n" waits for its answer.
    pub confirm_quit: bool,
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
    pub recipients_admin: super::recipients::admin::RecipientsAdmin,
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
            help_scroll: 0,
            confirm_quit: false,
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
        let needle = self.list.filter.text().trim().to_lowercase();
        let unit = crate::db::packages::unit_key(&needle);
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
                    || p.addressed_to
                        .as_deref()
                        .is_some_and(|n| n.to_lowercase().contains(&needle))
                    || p.recipient_unit.as_deref().is_some_and(|u| {
                        u.to_lowercase().contains(&needle)
                            || (!unit.is_empty()
                                && crate::db::packages::unit_key(u).contains(&unit))
                    })
            })
            .collect()
    }

    /// Whether a waiting package is overdue at the model's current time.
    pub fn is_overdue(&self, p: &Package) -> bool {
        p.status == "waiting" && (self.now - p.received_at).num_days() >= self.overdue_days
    }
}
