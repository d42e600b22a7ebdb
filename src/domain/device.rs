//! Kiosk terminals as the rest of the code sees them once their device key checked out.

use super::FacilityId;

/// The SSH user name of kiosk terminals (`kiosk+SLUG`); no person can have this login.
pub const KIOSK_LOGIN: &str = "kiosk";

/// A kiosk terminal that authenticated with its device key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub facility: FacilityId,
    pub slug: String,
    pub facility_name: String,
    pub id: i64,
    pub name: String,
    pub self_service: bool,
}
