//! The medicine round on the server: the delivery robot's QR scan (shared by HTTP and MQTT)
//! and the worker that puts delivered medicines back to `to_do` at the configured local times.
//!
//! The reset worker is safe with any number of instances: each round is claimed per ward in
//! the database (`wards.medication_reset_at`), so whichever instance comes first resets it and
//! the others find it done; a round missed while every instance was down is caught up by the
//! next pass.

use std::time::Duration;

use chrono::{DateTime, Offset, TimeZone, Utc};
use docde_domain::ward::medication::ResetSchedule;
use docde_store::StoreError;
use docde_store::ward::medication::{self, Medication, ResetScope};
use docde_store::ward::{WardConflict, WardError};
use tokio::task::JoinHandle;

use super::wake;
use crate::auth::principal::DevicePrincipal;
use crate::state::AppState;

/// How often the reset worker looks for a round that has begun.
const RESET_EVERY: Duration = Duration::from_secs(20);
/// The longest QR code accepted (the predecessor's codes are short identifiers).
pub const MAX_QR_LEN: usize = 200;

/// What a scan did.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub medication: Medication,
    /// The medicine was already delivered in this round (the scan changed nothing).
    pub already_delivered: bool,
}

/// Why a scan was refused.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("no medicine of this hospital has this QR code")]
    UnknownCode,
    #[error("the QR code must be 1 to {MAX_QR_LEN} characters")]
    BadCode,
    #[error("the patient of this medicine has been discharged")]
    AdmissionClosed,
    #[error("unexpected conflict {0}")]
    Unexpected(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DeliveryError {
    pub fn code(&self) -> &'static str {
        match self {
            DeliveryError::UnknownCode => "unknown_qr_code",
            DeliveryError::BadCode => "invalid_qr_code",
            DeliveryError::AdmissionClosed => "admission_closed",
            DeliveryError::Store(_) | DeliveryError::Unexpected(_) => "internal",
        }
    }
}

/// The robot `device` scanned `qr_code`: marks that medicine (of the device's hospital only)
/// delivered. A second scan in the same round is answered as a success that changed nothing,
/// so a robot retrying after a lost answer sees the same result.
pub async fn deliver(
    state: &AppState,
    device: &DevicePrincipal,
    qr_code: &str,
    now: DateTime<Utc>,
) -> Result<Delivery, DeliveryError> {
    let qr_code = qr_code.trim();
    if qr_code.is_empty() || qr_code.chars().count() > MAX_QR_LEN {
        return Err(DeliveryError::BadCode);
    }
    match medication::deliver(&state.store, device.hospital_id, qr_code, device.id, now).await {
        Ok((medication, _)) => {
            wake(state, medication.ward_id).await;
            metrics::counter!("ward_medication_deliveries_total", "outcome" => "delivered")
                .increment(1);
            Ok(Delivery {
                medication,
                already_delivered: false,
            })
        }
        Err(WardError::Conflict(WardConflict::AlreadyDelivered)) => {
            let medication = medication::find_by_qr(&state.store, device.hospital_id, qr_code)
                .await?
                .ok_or(DeliveryError::UnknownCode)?;
            metrics::counter!("ward_medication_deliveries_total", "outcome" => "repeated")
                .increment(1);
            Ok(Delivery {
                medication,
                already_delivered: true,
            })
        }
        Err(WardError::Conflict(WardConflict::AdmissionClosed)) => {
            Err(DeliveryError::AdmissionClosed)
        }
        Err(WardError::NotFound(_)) => Err(DeliveryError::UnknownCode),
        Err(WardError::Conflict(other)) => Err(DeliveryError::Unexpected(other.code())),
        Err(WardError::Store(e)) => Err(DeliveryError::Store(e)),
    }
}

/// The reset worker (see the module docs).
pub fn spawn_reset(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = reset_round(&state, Utc::now()).await {
                tracing::warn!(error = %e, "medication reset round failed");
            }
            tokio::select! {
                _ = state.shutdown.cancelled() => return,
                _ = tokio::time::sleep(RESET_EVERY) => {}
            }
        }
    })
}

/// Resets, in every hospital with wards, the round that began last at or before `now` (in the
/// hospital's time zone), unless some instance already did. Returns how many medicines went
/// back to `to_do`.
pub async fn reset_round(state: &AppState, now: DateTime<Utc>) -> Result<u64, StoreError> {
    let times = state.config.medication.times();
    let mut total = 0;
    for (hospital_id, zone) in medication::hospitals_with_wards(&state.store).await? {
        // The offset in force now: exact for zones without daylight saving (Asia/Seoul), and
        // within the hour of a change for the others.
        let offset = crate::booking::document::zone(&zone)
            .offset_from_utc_datetime(&now.naive_utc())
            .fix();
        let Ok(schedule) = ResetSchedule::new(times.iter().copied(), offset) else {
            return Ok(0);
        };
        let round = schedule.latest_reset_at_or_before(now);
        let n =
            medication::reset(&state.store, ResetScope::Hospital(hospital_id), round, now).await?;
        total += n;
    }
    Ok(total)
}
