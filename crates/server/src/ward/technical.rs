//! The technical-alarm worker: every few seconds, on every instance, it looks at each ward's
//! bound devices and newest values and raises or clears `device_silent` (nothing heard from a
//! device for `device_silent_secs`, per ward or patient) and `sensor_off` (a probe kind stopped
//! while its device reports others; the rule is `docde_domain::ward::alarm::technical`).
//!
//! Safe with N instances without a lease: `alarms::raise` opens at most one alarm per
//! (admission or bed, kind) and tells only the one caller that inserted it that it is
//! [`Raised::New`]; a resolve loses with a conflict to a concurrent one. So a condition seen by
//! every instance still makes one alarm, and the `device` event (`offline` / `online`) is
//! written once, by the instance whose raise or resolve won. A device that reports again
//! clears its `device_silent` within one period. Low battery comes from battery samples (the
//! sample evaluator), not from here.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};
use docde_domain::ward::alarm::technical::{Newest, sensor_back, sensor_off, silent_for};
use docde_domain::ward::alarm::{AlarmKind, EscalationPolicy, next_escalation_at};
use docde_store::ward::admissions::Admission;
use docde_store::ward::alarms::{self, Alarm, NewAlarm, Raised};
use docde_store::ward::beds::{self, BoundDevice};
use docde_store::ward::events::{self, EventKind, NewEvent};
use docde_store::ward::{WardError, samples};
use tokio::task::JoinHandle;
use uuid::Uuid;

use docde_domain::ward::alarm::{ThresholdOverrides, Thresholds};
use docde_store::ward::thresholds as stored_thresholds;

use super::thresholds::merged;
use super::wake;
use crate::state::AppState;

/// Runs [`check`] every `every` until shutdown.
pub fn spawn(state: AppState, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = state.shutdown.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
            if let Err(e) = check(&state, Utc::now()).await {
                tracing::warn!(error = %e, "technical alarm check failed");
            }
        }
    })
}

/// What one round changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    pub raised: usize,
    pub cleared: usize,
}

/// One round at `now` over every ward with a bound device.
pub async fn check(state: &AppState, now: DateTime<Utc>) -> Result<Checked, WardError> {
    let mut by_ward: BTreeMap<Uuid, Vec<BoundDevice>> = BTreeMap::new();
    for device in beds::bound_devices(&state.store).await? {
        by_ward.entry(device.ward_id).or_default().push(device);
    }
    let mut total = Checked::default();
    for (ward_id, devices) in by_ward {
        let round = check_ward(state, ward_id, &devices, now).await?;
        if round != Checked::default() {
            wake(state, ward_id).await;
        }
        total.raised += round.raised;
        total.cleared += round.cleared;
    }
    Ok(total)
}

fn key_of(alarm: &Alarm) -> Uuid {
    alarm.admission_id.unwrap_or(alarm.bed_id)
}

async fn check_ward(
    state: &AppState,
    ward_id: Uuid,
    devices: &[BoundDevice],
    now: DateTime<Utc>,
) -> Result<Checked, WardError> {
    let store = &state.store;
    let open = alarms::open_for_ward(store, ward_id).await?;
    let beds = samples::latest_per_bed(store, ward_id).await?;
    // The ward's and its patients' limits, read once for the round.
    let ward_overrides = stored_thresholds::of_ward(store, ward_id)
        .await?
        .map(|s| s.value)
        .unwrap_or_default();
    let patients: HashMap<Uuid, ThresholdOverrides> =
        stored_thresholds::of_open_admissions_in_ward(store, ward_id)
            .await?
            .into_iter()
            .collect();
    let none = ThresholdOverrides::default();
    let limits = |admission: Option<&Admission>| -> Thresholds {
        let id = admission.map(|a| a.id);
        let patient = id.and_then(|a| patients.get(&a)).unwrap_or(&none);
        merged(state, ward_id, id, &ward_overrides, patient)
    };
    let in_bed: HashMap<Uuid, &Admission> = beds
        .iter()
        .filter_map(|b| Some((b.bed.id, b.admission.as_ref()?)))
        .collect();
    let mut done = Checked::default();
    // The ward's escalation delays, read only if this round raises something.
    let policy = tokio::sync::OnceCell::new();
    let policy = || policy.get_or_try_init(|| super::escalation_policy(state, ward_id));

    // Silent devices: raise where nothing is open yet for the bed's patient (or empty bed).
    for device in devices {
        let admission = in_bed.get(&device.bed_id).copied();
        let t = limits(admission);
        let Some(quiet) = silent_for(device.last_seen_at, now, &t) else {
            continue;
        };
        let key = admission.map_or(device.bed_id, |a| a.id);
        if open
            .iter()
            .any(|a| a.kind == AlarmKind::DeviceSilent && key_of(a) == key)
        {
            continue;
        }
        let new = new_alarm(
            policy().await?,
            device.bed_id,
            admission,
            device.device_id,
            AlarmKind::DeviceSilent,
            quiet.num_seconds() as f64,
            now,
        );
        let raised = alarms::raise(store, &new).await?;
        crate::ward::push::wake_if_queued(state, &raised).await;
        if let Raised::New { alarm, .. } = raised {
            device_event(state, &alarm, device, "offline", now).await;
            done.raised += 1;
        }
    }
    // Open silences clear once their device is heard from again (or is no longer bound).
    for alarm in open.iter().filter(|a| a.kind == AlarmKind::DeviceSilent) {
        let device = devices
            .iter()
            .find(|d| Some(d.device_id) == alarm.device_id);
        let still_silent = match device {
            Some(d) => {
                let admission = in_bed.get(&d.bed_id).copied();
                let t = limits(admission);
                silent_for(d.last_seen_at, now, &t).is_some()
            }
            None => false,
        };
        if still_silent {
            continue;
        }
        let note = if device.is_some() {
            "device reporting again"
        } else {
            "device unbound"
        };
        if resolve(state, alarm, note, now).await? {
            if let Some(d) = device {
                device_event(state, alarm, d, "online", now).await;
            }
            done.cleared += 1;
        }
    }
    // Sensor off, per admitted patient, from this stay's newest values.
    for bed in &beds {
        let Some(admission) = &bed.admission else {
            continue;
        };
        let newest: Vec<Newest<Uuid>> = bed
            .latest
            .iter()
            .filter(|l| l.measured_at >= admission.admitted_at)
            .map(|l| Newest {
                kind: l.kind,
                measured_at: l.measured_at,
                device: l.device_id,
            })
            .collect();
        let t = limits(Some(admission));
        let current = open
            .iter()
            .find(|a| a.kind == AlarmKind::SensorOff && a.admission_id == Some(admission.id));
        match current {
            None => {
                let Some((probe, missing)) = sensor_off(&newest, now, &t) else {
                    continue;
                };
                let Some(device) = newest.iter().find(|n| n.kind == probe).map(|n| n.device) else {
                    continue;
                };
                let new = new_alarm(
                    policy().await?,
                    bed.bed.id,
                    Some(admission),
                    device,
                    AlarmKind::SensorOff,
                    missing.num_seconds() as f64,
                    now,
                );
                let raised = alarms::raise(store, &new).await?;
                crate::ward::push::wake_if_queued(state, &raised).await;
                if let Raised::New { .. } = raised {
                    done.raised += 1;
                }
            }
            Some(alarm) => {
                if sensor_back(&newest, now, &t)
                    && resolve(state, alarm, "sensor reporting again", now).await?
                {
                    done.cleared += 1;
                }
            }
        }
    }
    Ok(done)
}

#[allow(clippy::too_many_arguments)]
fn new_alarm(
    policy: &EscalationPolicy,
    bed_id: Uuid,
    admission: Option<&Admission>,
    device_id: Uuid,
    kind: AlarmKind,
    value: f64,
    now: DateTime<Utc>,
) -> NewAlarm {
    let priority = kind.priority();
    NewAlarm {
        bed_id,
        admission_id: admission.map(|a| a.id),
        device_id: Some(device_id),
        kind,
        priority,
        value: Some(value),
        raised_at: now,
        next_escalation_at: next_escalation_at(priority, now, false, None, policy),
    }
}

/// Resolves by the system; `false` if someone else resolved it first.
async fn resolve(
    state: &AppState,
    alarm: &Alarm,
    note: &str,
    now: DateTime<Utc>,
) -> Result<bool, WardError> {
    match alarms::resolve(&state.store, alarm.id, None, Some(note), now).await {
        Ok(_) => {
            state.ward.forget(key_of(alarm), alarm.kind);
            Ok(true)
        }
        Err(WardError::Conflict(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// A `device` event for the nurse station. Written after the alarm's own commit: a failure
/// here loses only the notice (the alarm and its `alarm` event are stored), so it is logged.
async fn device_event(
    state: &AppState,
    alarm: &Alarm,
    device: &BoundDevice,
    status: &str,
    now: DateTime<Utc>,
) {
    let event = NewEvent {
        ward_id: alarm.ward_id,
        patient_id: alarm.patient_id,
        kind: EventKind::Device,
        payload: serde_json::json!({
            "device_id": device.device_id,
            "bed_id": device.bed_id,
            "status": status,
            "last_seen_at": device.last_seen_at,
        }),
        at: now,
    };
    if let Err(e) = events::append(&state.store, &[event]).await {
        tracing::warn!(error = %e, device_id = %device.device_id, "could not write a device event");
    }
}
