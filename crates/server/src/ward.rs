//! Ward monitoring's server side: the group-commit sample writer, the alarm evaluator that
//! turns stored samples (and the NEWS2 score of the latest vitals) into raise/clear decisions
//! applied through the store, the wake-ups that tell nurse-station streams to re-read the
//! ward event log, and the escalation worker (its outgoing webhook posts are [`webhook`]'s).
//! The limits per ward and patient are [`thresholds`], the periodic silent-device and
//! sensor-off check [`technical`], and NEWS2's per-patient view and change announcements
//! [`news2`].
//!
//! What matters lives in the database: the samples, the open alarms (one per admission and
//! kind, enforced there) and the event log the streams replay. The evaluator's memory (onset
//! delays in progress) is soft and per instance; a first sight of an admission restores the
//! alarms already open for it, and `raise` is idempotent, so a restart or a second instance
//! never opens a second alarm of a kind.

pub mod fanout;
pub mod ingest;
pub mod medication;
pub mod mqtt;
pub mod news2;
pub mod push;
pub mod retention;
pub mod rollup;
pub mod technical;
pub mod thresholds;
pub mod webhook;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use docde_domain::ward::alarm::{
    AlarmEvaluator, AlarmKind, Decision, EscalationPolicy, Thresholds, escalation_due,
    next_escalation_at,
};
use docde_domain::ward::news2::{News2, Observations, Spo2Scale};
use docde_domain::ward::{Acvpu, IvLevel, Sample, SampleValue, Unit, VitalKind};
use docde_store::ward::alarms::{self, NewAlarm};
use docde_store::ward::samples::LatestSample;
use docde_store::ward::{SampleWriter, WardError, context, escalation};
use docde_store::{Store, StoreError};
use futures::FutureExt;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::batched_reads::BatchedReads;
use crate::state::AppState;

/// How far ahead of the server clock a device's `measured_at` may be.
pub const FUTURE_TOLERANCE: TimeDelta = TimeDelta::seconds(30);
/// The most samples one HTTP batch may carry.
pub const MAX_BATCH: usize = 1000;
/// Vitals older than this do not count towards NEWS2 (a stale normal reading would hide a
/// deterioration).
pub const NEWS2_MAX_AGE: TimeDelta = TimeDelta::minutes(15);
/// How often the escalation worker looks for due alarms, and how long its claim lasts.
const ESCALATION_EVERY: Duration = Duration::from_secs(1);
const ESCALATION_LEASE: TimeDelta = TimeDelta::seconds(30);

/// The bus topic whose messages wake a ward's streams (they carry no data).
pub fn ward_topic(ward_id: Uuid) -> String {
    format!("ward:{ward_id}")
}

/// Ward monitoring's shared parts, one per instance.
pub struct Ward {
    pub writer: SampleWriter,
    /// Group commit of NEWS2 changes (see `docde_store::ward::news2::Announcer`).
    pub announcer: docde_store::ward::news2::Announcer,
    /// The default limits; [`thresholds::merged`] applies the ward's and patient's overrides.
    pub thresholds: Thresholds,
    pub escalation: EscalationPolicy,
    evaluator: Mutex<AlarmEvaluator<Uuid>>,
    /// Evaluator keys whose open alarms were restored from the database.
    restored: Mutex<HashSet<Uuid>>,
    /// MQTT ingest's connection state (readiness).
    pub mqtt: mqtt::MqttStatus,
    /// One log reader per ward for all of its live streams.
    pub fanout: fanout::WardFanout,
    /// The VAPID key pair web push messages are signed with.
    pub push: push::keys::PushKeys,
    /// The shared reads of devices' evaluation contexts: concurrent ingest requests' contexts
    /// come from one query, read after their samples' commit.
    pub contexts: ContextReads,
}

/// Device id → its [`context::DeviceContext`] now (a device bound to no bed has none).
pub type ContextReads = BatchedReads<Uuid, context::DeviceContext>;

fn context_reads() -> ContextReads {
    BatchedReads::new(|store, ids| {
        async move { context::of_devices(&store, &ids, Utc::now()).await }.boxed()
    })
}

impl std::fmt::Debug for Ward {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ward").finish_non_exhaustive()
    }
}

impl Ward {
    pub fn start(store: &Store) -> Arc<Self> {
        let writers = if store.dialect() == "postgres" { 4 } else { 1 };
        let (writer, _) = SampleWriter::spawn(store.clone(), writers);
        let (announcer, _) = docde_store::ward::news2::Announcer::spawn(store.clone());
        Arc::new(Self {
            writer,
            announcer,
            thresholds: Thresholds::default(),
            escalation: EscalationPolicy::default(),
            evaluator: Mutex::new(AlarmEvaluator::new()),
            restored: Mutex::new(HashSet::new()),
            mqtt: mqtt::MqttStatus::default(),
            fanout: fanout::WardFanout::default(),
            push: push::keys::PushKeys::default(),
            contexts: context_reads(),
        })
    }

    /// A person closed an alarm: the condition must persist again before a new one opens.
    pub fn forget(&self, key: Uuid, kind: AlarmKind) {
        if let Ok(mut evaluator) = self.evaluator.lock() {
            evaluator.forget(&key, kind);
        }
    }
}

/// Rebuilds a checked sample from a stored latest value (for NEWS2).
pub fn sample_of(latest: &LatestSample) -> Option<Sample> {
    let v = latest.value;
    let value = match latest.kind {
        VitalKind::Consciousness => {
            SampleValue::Consciousness(Acvpu::from_rank(u8::try_from(v as i64).ok()?)?)
        }
        VitalKind::SupplementalOxygen => SampleValue::SupplementalOxygen(v != 0.0),
        VitalKind::NurseCall => SampleValue::NurseCall(v != 0.0),
        VitalKind::IvBag => match latest.unit {
            Some(Unit::Millilitre) => SampleValue::IvBag(IvLevel::Millilitres(v)),
            _ => SampleValue::IvBag(IvLevel::Percent(v)),
        },
        _ => SampleValue::Number(v),
    };
    Sample::new(latest.kind, value, latest.measured_at).ok()
}

/// NEWS2 (scale 1) of a patient's latest vitals at `now`; `None` when nothing recent is known.
pub fn news2_of(latest: &[LatestSample], now: DateTime<Utc>) -> Option<News2> {
    let samples: Vec<Sample> = latest.iter().filter_map(sample_of).collect();
    let obs = Observations::from_latest(&samples, now, NEWS2_MAX_AGE);
    let score = News2::score(&obs, Spo2Scale::Scale1);
    score.sub_scores().next().is_some().then_some(score)
}

/// Evaluates the samples a device just stored and applies the decisions. Returns whether any
/// event was written (the caller then wakes the ward's streams).
pub async fn evaluate(
    state: &AppState,
    device_id: Uuid,
    stored: &[Sample],
    now: DateTime<Utc>,
) -> Result<bool, WardError> {
    let store = &state.store;
    let ward = &state.ward;
    // Bed, stay, the patient's latest values, the NEWS2 last announced and the threshold
    // overrides: one read, shared with the other devices' requests waiting for theirs.
    let Some(context::DeviceContext {
        bed,
        admission,
        latest,
        announced,
        ward_overrides,
        patient_overrides,
    }) = ward.contexts.get(store, device_id).await?
    else {
        return Ok(false);
    };
    let key = admission.as_ref().map_or(bed.id, |a| a.id);
    let first_sight = ward.restored.lock().is_ok_and(|mut r| r.insert(key));
    if first_sight {
        let open = alarms::open_for_ward(store, bed.ward_id).await?;
        let mut evaluator = ward.evaluator.lock().expect("evaluator lock");
        for alarm in open
            .iter()
            .filter(|a| a.admission_id.unwrap_or(a.bed_id) == key)
        {
            evaluator.restore(&key, alarm.kind);
        }
    }
    let limits = thresholds::merged(
        state,
        bed.ward_id,
        admission.as_ref().map(|a| a.id),
        &ward_overrides,
        &patient_overrides,
    );
    let news2 = match &admission {
        Some(_) => news2_of(&latest, now),
        None => None,
    };
    // Only what was measured during this stay is about this patient (the store attributes
    // samples by measurement time the same way).
    let since = admission.as_ref().map(|a| a.admitted_at);
    let mut ordered: Vec<&Sample> = stored
        .iter()
        .filter(|s| since.is_none_or(|t| s.measured_at() >= t))
        .collect();
    ordered.sort_by_key(|s| s.measured_at());
    let decisions: Vec<Decision> = {
        let mut evaluator = ward.evaluator.lock().expect("evaluator lock");
        let mut out = Vec::new();
        for sample in ordered {
            out.extend(evaluator.observe(&key, sample, &limits));
        }
        if let (Some(score), Some(last)) = (news2, stored.iter().map(Sample::measured_at).max()) {
            out.extend(evaluator.observe_news2(&key, &score, last, &limits));
        }
        out
    };
    let mut wrote = false;
    if let (Some(a), Some(score)) = (&admission, &news2) {
        let stored_score = announced
            .as_ref()
            .map(|(total, band)| (*total, band.as_str()));
        wrote |= news2::announce(state, a, score, stored_score, now).await?;
    }
    // Read when an alarm is raised (rare), not per sample.
    let mut policy: Option<EscalationPolicy> = None;
    for decision in decisions {
        match decision {
            Decision::Raise {
                kind,
                priority,
                value,
                at,
                replaces,
            } => {
                if let Some(lower) = replaces {
                    wrote |= clear(store, bed.ward_id, key, lower, now).await?;
                }
                if policy.is_none() {
                    policy = Some(escalation_policy(state, bed.ward_id).await?);
                }
                let new = NewAlarm {
                    bed_id: bed.id,
                    admission_id: admission.as_ref().map(|a| a.id),
                    device_id: Some(device_id),
                    kind,
                    priority,
                    value: Some(value),
                    raised_at: at,
                    next_escalation_at: next_escalation_at(
                        priority,
                        at,
                        false,
                        None,
                        policy.as_ref().unwrap_or(&ward.escalation),
                    ),
                };
                let raised = alarms::raise(store, &new).await?;
                wrote |= push::wake_if_queued(state, &raised).await;
            }
            Decision::Clear { kind, .. } => {
                wrote |= clear(store, bed.ward_id, key, kind, now).await?;
            }
        }
    }
    Ok(wrote)
}

/// Resolves (by the system) the open alarm of `kind` for the admission or bed `key`.
async fn clear(
    store: &Store,
    ward_id: Uuid,
    key: Uuid,
    kind: AlarmKind,
    now: DateTime<Utc>,
) -> Result<bool, WardError> {
    let open = alarms::open_for_ward(store, ward_id).await?;
    let Some(alarm) = open
        .into_iter()
        .find(|a| a.kind == kind && a.admission_id.unwrap_or(a.bed_id) == key)
    else {
        return Ok(false);
    };
    match alarms::resolve(store, alarm.id, None, Some("condition cleared"), now).await {
        Ok(_) => Ok(true),
        // Someone resolved it meanwhile: nothing left to do.
        Err(WardError::Conflict(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Wakes every instance's streams of the ward.
pub async fn wake(state: &AppState, ward_id: Uuid) {
    if let Err(e) = state.bus.publish(&ward_topic(ward_id), "").await {
        tracing::warn!(error = %e, %ward_id, "could not publish a ward wake-up");
    }
}

/// The escalation worker: claims due alarms (a lease with a fencing token, so any number of
/// instances may run it), moves each to the level due, and wakes the ward's streams where the
/// charge nurse sees the `alarm_update`. Each level is also queued, in the same transaction,
/// for the ward's outgoing webhook, which [`webhook`]'s worker posts.
/// The escalation delays in force for a ward: its own (`ward_escalation_policies`), else the
/// installation's. Read from the database each time it is needed — when an alarm is raised,
/// once per ward per escalation round, and when the policy changes — so every instance uses
/// a change at once.
pub async fn escalation_policy(
    state: &AppState,
    ward_id: Uuid,
) -> Result<EscalationPolicy, StoreError> {
    Ok(escalation::of_ward(&state.store, ward_id)
        .await?
        .map_or_else(|| state.ward.escalation.clone(), |p| p.value))
}

pub fn spawn_escalation(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = state.shutdown.cancelled() => return,
                _ = tokio::time::sleep(ESCALATION_EVERY) => {}
            }
            if let Err(e) = escalate_due(&state, Utc::now()).await {
                tracing::warn!(error = %e, "escalation round failed");
            }
        }
    })
}

/// One escalation round at `now`; returns how many alarms went up a level.
pub async fn escalate_due(state: &AppState, now: DateTime<Utc>) -> Result<usize, WardError> {
    let claims = alarms::due_for_escalation(&state.store, now, ESCALATION_LEASE, 100).await?;
    let mut policies: HashMap<Uuid, EscalationPolicy> = HashMap::new();
    // With a default URL every ward's escalations are posted; otherwise wards with their own.
    let default_webhook = state.config.ward.escalation_webhook_url.is_some();
    let mut done = 0;
    let mut woken: HashSet<Uuid> = HashSet::new();
    for claim in claims {
        let a = &claim.alarm;
        if let std::collections::hash_map::Entry::Vacant(e) = policies.entry(a.ward_id) {
            e.insert(escalation_policy(state, a.ward_id).await?);
        }
        let policy = &policies[&a.ward_id];
        let level = match escalation_due(a.priority, a.raised_at, a.acknowledged_at, now, policy) {
            Some(level) if level > a.escalation_level => level,
            // The ward's delays changed after this escalation was scheduled: not due after
            // all, so it waits for the next level the current delays name.
            _ => {
                let reached = (a.escalation_level.get() > 0).then_some(a.escalation_level);
                let next = next_escalation_at(a.priority, a.raised_at, false, reached, policy);
                alarms::postpone_escalation(&state.store, &claim, next).await?;
                continue;
            }
        };
        let next = next_escalation_at(a.priority, a.raised_at, false, Some(level), policy);
        match alarms::escalate(&state.store, &claim, level, next, now, default_webhook).await {
            Ok(_) => {
                done += 1;
                woken.insert(a.ward_id);
            }
            Err(WardError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
    }
    for ward_id in &woken {
        wake(state, *ward_id).await;
    }
    if !woken.is_empty() {
        // Their webhook posts are queued (if the ward has a URL); the delivery workers send
        // them, so a slow receiver never holds this loop up.
        webhook::wake(state).await;
        // High-priority escalations also queued web push messages.
        push::worker::wake(state).await;
    }
    Ok(done)
}
