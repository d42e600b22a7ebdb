use super::{FacilityId, Role, UserId};

/// Where an authenticated principal acts from; recorded with every custody event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The admin CLI on the server host.
    Cli,
    /// An SSH session from this peer address.
    Ssh { peer: String },
    /// A kiosk terminal (a registered device), unlocked by the principal's PIN.
    Kiosk {
        device_id: i64,
        device: String,
        peer: String,
    },
}

impl Source {
    /// The kiosk device, when acting from one.
    pub fn device_id(&self) -> Option<i64> {
        match self {
            Source::Kiosk { device_id, .. } => Some(*device_id),
            _ => None,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Source::Cli => "cli".into(),
            Source::Ssh { peer } => format!("ssh {peer}"),
            Source::Kiosk { device, peer, .. } => format!("kiosk {device} ({peer})"),
        }
    }
}

/// An authenticated member of one facility: the only thing a tenant transaction can be
/// opened from. Fields are private and the constructor is crate-private, so code outside
/// the authentication path and the admin CLI cannot conjure one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    user: UserId,
    login: String,
    facility: FacilityId,
    slug: String,
    facility_name: String,
    role: Role,
    source: Source,
}

impl Principal {
    pub(crate) fn new(
        user: UserId,
        login: String,
        facility: FacilityId,
        slug: String,
        facility_name: String,
        role: Role,
        source: Source,
    ) -> Self {
        Self {
            user,
            login,
            facility,
            slug,
            facility_name,
            role,
            source,
        }
    }

    pub fn user(&self) -> UserId {
        self.user
    }
    pub fn login(&self) -> &str {
        &self.login
    }
    pub fn facility(&self) -> FacilityId {
        self.facility
    }
    pub fn slug(&self) -> &str {
        &self.slug
    }
    pub fn facility_name(&self) -> &str {
        &self.facility_name
    }
    pub fn role(&self) -> Role {
        self.role
    }
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// Whether this session may use admin functions: an admin, and not at a kiosk (a
    /// shared counter terminal, unlocked by PIN, never shows or runs admin views, whatever
    /// the staff member's role). The one check every admin operation in `ops` uses.
    pub fn may_administer(&self) -> bool {
        self.role.can_administer() && self.source.device_id().is_none()
    }
}
