//! Kiosk terminals: the settings a kiosk session follows, and self-service pickup.
//!
//! A locked kiosk acts for nobody. What it may do without a staff member — read its own
//! settings, look up a pickup code on a self-service terminal — runs in a tenant
//! transaction scoped to the device's facility (`Scope::Device`: no user, role viewer,
//! attributed to `kiosk:NAME` in the audit log). The handover itself needs a staff member's
//! PIN and runs as that member, like any other pickup.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::tenant::Scope;
use super::{Db, TenantTx, audit, packages};
use crate::domain::{Device, PickupCode, Principal};
use crate::error::{AppError, DbError};

/// Relock time when the facility has none (`settings.kiosk_relock_secs`).
pub const DEFAULT_RELOCK_SECS: u64 = 120;
/// The shortest and longest relock time a facility can set; values outside are clamped.
pub const RELOCK_SECS_MIN: u64 = 5;
pub const RELOCK_SECS_MAX: u64 = 3600;

/// Wrong pickup codes allowed per self-service terminal within [`CODE_WINDOW`]; then the
/// terminal takes no codes until the window has passed (a million codes cannot be tried
/// five at a time).
pub const CODE_THRESHOLD: i64 = 5;
pub const CODE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// What a kiosk session follows: the facility's settings and the device's flag, read when
/// the session starts and again at every unlock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KioskSettings {
    /// Lock after this long without input (`settings.kiosk_relock_secs`, default 120 s).
    pub relock: Duration,
    /// Unlocking asks for the staff member's TOTP code after the PIN
    /// (`settings.kiosk_pin_totp`, default false).
    pub pin_totp: bool,
    /// Recipients may look up their pickup code here (`devices.self_service`).
    pub self_service: bool,
    /// The facility's time zone, for the lock screen's clock.
    pub time_zone: chrono_tz::Tz,
}

impl Default for KioskSettings {
    fn default() -> Self {
        Self {
            relock: Duration::from_secs(DEFAULT_RELOCK_SECS),
            pin_totp: false,
            self_service: false,
            time_zone: chrono_tz::UTC,
        }
    }
}

/// `kiosk_relock_secs`: an integer (or a string of digits), clamped to
/// [`RELOCK_SECS_MIN`]..=[`RELOCK_SECS_MAX`]; anything else is the default.
pub fn relock_from(v: Option<&Value>) -> Duration {
    let secs = match v {
        Some(Value::Number(n)) => n
            .as_u64()
            .or_else(|| n.as_i64().map(|i| i.max(0).unsigned_abs())),
        Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    Duration::from_secs(secs.map_or(DEFAULT_RELOCK_SECS, |s| {
        s.clamp(RELOCK_SECS_MIN, RELOCK_SECS_MAX)
    }))
}

/// `kiosk_pin_totp`: `true` (or the string `"true"`) turns it on; anything else is off.
pub fn flag_from(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.trim().eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// A transaction for a locked kiosk: the device's facility, nobody logged in.
async fn device_tx(db: &Db, device: &Device, peer: &str) -> Result<TenantTx<'static>, DbError> {
    TenantTx::begin(
        db.pool(),
        db.route(),
        Some(db.notifier()),
        Scope::Device {
            facility: device.facility,
            slug: device.slug.clone(),
            device_id: device.id,
            label: format!("kiosk:{}", device.name),
            source: format!("kiosk {} ({peer})", device.name),
        },
    )
    .await
}

/// The kiosk's settings now. A device that is gone or quarantined reads as not
/// self-service (the live channel ends its session anyway).
pub async fn settings(db: &Db, device: &Device) -> Result<KioskSettings, DbError> {
    let mut tx = device_tx(db, device, "-").await?;
    type Row = (Option<Value>, Option<Value>, Option<bool>, String);
    let row: Option<Row> = sqlx::query_as(
        "SELECT f.settings->'kiosk_relock_secs', f.settings->'kiosk_pin_totp', \
                (SELECT d.self_service AND d.quarantined_at IS NULL FROM devices d \
                  WHERE d.facility_id = f.id AND d.id = $2), f.time_zone \
         FROM facilities f WHERE f.id = $1",
    )
    .bind(device.facility.0)
    .bind(device.id)
    .fetch_optional(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(match row {
        Some((relock, pin_totp, self_service, zone)) => KioskSettings {
            relock: relock_from(relock.as_ref()),
            pin_totp: flag_from(pin_totp.as_ref()),
            self_service: self_service.unwrap_or(false),
            time_zone: zone.parse().unwrap_or(chrono_tz::UTC),
        },
        None => KioskSettings::default(),
    })
}

/// A waiting package as a self-service terminal shows it: nothing that names anyone, and
/// only the end of the tracking number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaskedPackage {
    pub id: i64,
    /// `…1234`: the last four characters of the tracking number.
    pub tracking: String,
    pub carrier: Option<String>,
    pub location: String,
    pub received_at: DateTime<Utc>,
}

impl MaskedPackage {
    pub fn from_package(p: &packages::Package) -> Self {
        let chars: Vec<char> = p.tracking.chars().collect();
        let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
        Self {
            id: p.id,
            tracking: format!("…{tail}"),
            carrier: p.carrier.clone(),
            location: p.location.clone(),
            received_at: p.received_at,
        }
    }
}

/// What a pickup code found: the code's recipient's waiting packages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeLookup {
    pub packages: Vec<MaskedPackage>,
}

/// The message a locked-out terminal shows; the same whether the last code was right.
pub const LOCKED_OUT: &str =
    "too many wrong pickup codes at this terminal; please ask at the counter";
/// The message for a code that finds nothing (wrong, or everything already collected).
pub const NO_MATCH: &str = "no waiting packages for that code; check it or ask at the counter";

/// Wrong codes typed at this device within [`CODE_WINDOW`]. Kept in `guess_failures`
/// by device id: nothing typed as an SSH login name can reach this counter.
async fn wrong_codes(tx: &mut TenantTx<'_>, device: &Device) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM guess_failures \
         WHERE facility_id = $1 AND device_id = $2 AND kind = 'kiosk_code' \
           AND at > now() - make_interval(secs => $3)",
    )
    .bind(device.facility.0)
    .bind(device.id)
    .bind(CODE_WINDOW.as_secs_f64())
    .fetch_one(tx.conn())
    .await?)
}

/// Wrong kiosk PINs within the lockout window: for this staff member (at any kiosk of
/// the facility; `None` when the typed login does not exist) and at this device.
pub async fn pin_failures(
    db: &Db,
    device: &Device,
    user_id: Option<i64>,
) -> Result<(i64, i64), DbError> {
    let mut tx = device_tx(db, device, "-").await?;
    let counts = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE user_id = $3), count(*) FILTER (WHERE device_id = $2) \
         FROM guess_failures WHERE facility_id = $1 AND kind = 'kiosk_pin' \
           AND at > now() - make_interval(secs => $4)",
    )
    .bind(device.facility.0)
    .bind(device.id)
    .bind(user_id)
    .bind(crate::config::LOCKOUT_WINDOW.as_secs_f64())
    .fetch_one(tx.conn())
    .await?;
    tx.rollback().await?;
    Ok(counts)
}

/// Records a wrong kiosk PIN, and forgets those older than the lockout window.
pub async fn record_pin_failure(
    db: &Db,
    device: &Device,
    user_id: Option<i64>,
) -> Result<(), DbError> {
    let mut tx = device_tx(db, device, "-").await?;
    super::guesses::prune(&mut tx).await?;
    sqlx::query(
        "INSERT INTO guess_failures (facility_id, kind, device_id, user_id) \
         VALUES ($1, 'kiosk_pin', $2, $3)",
    )
    .bind(device.facility.0)
    .bind(device.id)
    .bind(user_id)
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A recipient typed their pickup code at a self-service terminal. Wrong codes count per
/// device; after [`CODE_THRESHOLD`] within [`CODE_WINDOW`] the terminal refuses codes
/// (right ones too) until the window has passed. Every lookup, wrong code and lockout is in
/// the audit log (never the code itself).
pub async fn lookup_code(
    db: &Db,
    device: &Device,
    peer: &str,
    code: &str,
) -> Result<CodeLookup, AppError> {
    let code = PickupCode::parse(code).map_err(|e| AppError::Invalid(e.to_string()))?;
    let mut tx = device_tx(db, device, peer).await?;
    let allowed: Option<bool> = sqlx::query_scalar(
        "SELECT self_service AND quarantined_at IS NULL FROM devices \
         WHERE facility_id = $1 AND id = $2",
    )
    .bind(device.facility.0)
    .bind(device.id)
    .fetch_optional(tx.conn())
    .await?;
    if allowed != Some(true) {
        return Err(AppError::Invalid(
            "self-service pickup is not enabled at this terminal".into(),
        ));
    }
    if wrong_codes(&mut tx, device).await? >= CODE_THRESHOLD {
        tx.rollback().await?;
        tracing::warn!(device = %device.name, %peer, "pickup code refused: terminal locked out");
        return Err(AppError::Invalid(LOCKED_OUT.into()));
    }
    let Some(found) = packages::find_by_code(&mut tx, &code).await? else {
        // Per device, not under the peer address: wrong codes must not count towards the
        // address's SSH login lockout (several terminals may share one address).
        super::guesses::prune(&mut tx).await?;
        sqlx::query(
            "INSERT INTO guess_failures (facility_id, kind, device_id) VALUES ($1, 'kiosk_code', $2)",
        )
        .bind(device.facility.0)
        .bind(device.id)
        .execute(tx.conn())
        .await?;
        let n = wrong_codes(&mut tx, device).await?;
        audit::record(
            &mut tx,
            "kiosk.pickup_code.wrong",
            &device.name,
            json!({ "device_id": device.id, "peer": peer, "recent": n }),
        )
        .await?;
        if n >= CODE_THRESHOLD {
            audit::record(
                &mut tx,
                "kiosk.pickup_code.lockout",
                &device.name,
                json!({ "device_id": device.id, "peer": peer, "wrong_codes": n,
                        "window_secs": CODE_WINDOW.as_secs() }),
            )
            .await?;
        }
        tx.commit().await?;
        tracing::warn!(device = %device.name, %peer, recent = n, "wrong pickup code");
        return Err(AppError::Invalid(if n >= CODE_THRESHOLD {
            LOCKED_OUT.into()
        } else {
            NO_MATCH.into()
        }));
    };
    let list = match found.recipient_id {
        Some(r) => packages::waiting_for(&mut tx, r).await?,
        None => vec![found],
    };
    audit::record(
        &mut tx,
        "kiosk.pickup_code.lookup",
        &device.name,
        json!({ "device_id": device.id, "peer": peer,
                "packages": list.iter().map(|p| p.id).collect::<Vec<_>>() }),
    )
    .await?;
    tx.commit().await?;
    Ok(CodeLookup {
        packages: list.iter().map(MaskedPackage::from_package).collect(),
    })
}

/// A staff member confirmed a self-service pickup at a kiosk with their PIN: the packages
/// the code showed are handed over in the normal pickup transaction, as that member at that
/// device, to the code's recipient. The code is checked again (the packages must still be
/// waiting for the same recipient). Audited as `kiosk.self_service.handover`.
pub async fn handover(
    db: &Db,
    p: &Principal,
    code: &str,
    ids: &[i64],
) -> Result<Vec<packages::Package>, AppError> {
    if !p.role().can_handle_packages() {
        return Err(AppError::PermissionDenied);
    }
    let Some(device_id) = p.source().device_id() else {
        return Err(AppError::Invalid(
            "a self-service handover is confirmed at a kiosk".into(),
        ));
    };
    let (Ok(code), false) = (PickupCode::parse(code), ids.is_empty()) else {
        return Err(AppError::Invalid("no packages to hand over".into()));
    };
    let mut tx = db.tenant(p).await?;
    let found = packages::find_by_code(&mut tx, &code)
        .await?
        .ok_or_else(|| {
            AppError::Conflict(
                "those packages are no longer waiting; look the code up again".into(),
            )
        })?;
    let waiting = match found.recipient_id {
        Some(r) => packages::waiting_for(&mut tx, r).await?,
        None => vec![found.clone()],
    };
    if !ids.iter().all(|id| waiting.iter().any(|w| w.id == *id)) {
        return Err(AppError::Conflict(
            "those packages are no longer waiting for this code; look the code up again".into(),
        ));
    }
    let receiver = found
        .recipient_name
        .clone()
        .unwrap_or_else(|| "pickup code holder".into());
    let done = packages::pickup(
        &mut tx,
        ids,
        &packages::Handover {
            receiver: receiver.clone(),
            proxy: false,
        },
    )
    .await?;
    audit::record(
        &mut tx,
        "kiosk.self_service.handover",
        &receiver,
        json!({ "device_id": device_id, "packages": ids }),
    )
    .await?;
    tx.commit().await?;
    Ok(done)
}

/// Whether the device may still be used: registered and not quarantined. Sessions re-check
/// this periodically, whether or not the quarantine's notification arrived.
pub async fn device_in_service(db: &Db, device: &Device) -> Result<bool, DbError> {
    let mut tx = device_tx(db, device, "-").await?;
    let ok: Option<bool> = sqlx::query_scalar(
        "SELECT quarantined_at IS NULL FROM devices WHERE facility_id = $1 AND id = $2",
    )
    .bind(device.facility.0)
    .bind(device.id)
    .fetch_optional(tx.conn())
    .await?;
    tx.commit().await?;
    Ok(ok == Some(true))
}

#[cfg(test)]
mod tests;
