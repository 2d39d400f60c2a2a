//! The alarm evaluator: fed each patient's samples (and NEWS2 scores) in time order, it decides
//! when an alarm opens and when it clears. Against alarm fatigue it applies an onset delay (the
//! condition must persist), hysteresis (a value must come back inside its limit by a margin
//! before the alarm clears), one open alarm per condition (fever and hypothermia share the
//! temperature; IV low and empty share the bag) whose severity can rise but does not fall
//! until it clears, and latching for the nurse call. Its memory is soft: the open alarms live
//! in the database, and [`AlarmEvaluator::restore`] rebuilds it after a restart.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};

use super::rules::{Channel, Reading, delay, holds, is_upgrade, onset};
use super::{AlarmKind, Priority, Thresholds};
use crate::ward::news2::{News2, Parameter};
use crate::ward::{IvLevel, Sample, SampleValue};

/// What the evaluator wants done.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Open an alarm. `value` is the reading that raised it (NEWS2: the total; nurse call: 1;
    /// device silent: seconds without data). `replaces` names a lower alarm of the same
    /// condition (IV low → empty, NEWS2 medium → high) to close in the same transaction.
    Raise {
        kind: AlarmKind,
        priority: Priority,
        value: f64,
        at: DateTime<Utc>,
        replaces: Option<AlarmKind>,
    },
    /// The condition is over: resolve the open alarm of this kind automatically.
    Clear { kind: AlarmKind, at: DateTime<Utc> },
}

#[derive(Debug, Clone, Default)]
struct ChannelState {
    open: Option<AlarmKind>,
    /// A condition seen but not yet persistent: which, and since when.
    pending: Option<(AlarmKind, DateTime<Utc>)>,
    /// The newest reading used; older ones arriving late are ignored.
    last_at: Option<DateTime<Utc>>,
    /// NEWS2: the parameters scored when the alarm opened. A score missing any of them is
    /// lower only because data went stale, so it cannot clear the alarm.
    basis: u8,
}

impl ChannelState {
    fn step(
        &mut self,
        channel: Channel,
        reading: Reading,
        at: DateTime<Utc>,
        t: &Thresholds,
    ) -> Vec<Decision> {
        let mut out = Vec::new();
        if self.last_at.is_some_and(|last| at < last) {
            return out;
        }
        self.last_at = Some(at);
        let condition = channel
            .kinds()
            .iter()
            .copied()
            .find(|&k| onset(k, reading, t));
        if let Some(open) = self.open {
            if let Some(higher) = condition.filter(|&c| is_upgrade(open, c)) {
                out.extend(self.persist(higher, reading, at, t, Some(open)));
                return out;
            }
            let covered = match reading {
                Reading::News2 { scored, .. } => scored & self.basis == self.basis,
                _ => true,
            };
            if !covered || holds(open, reading, t) {
                self.pending = None;
                return out;
            }
            out.push(Decision::Clear { kind: open, at });
            self.open = None;
            self.pending = None;
        }
        match condition {
            Some(kind) => out.extend(self.persist(kind, reading, at, t, None)),
            None => self.pending = None,
        }
        out
    }

    /// Raises `kind` once it has held for its onset delay, else remembers since when it holds.
    fn persist(
        &mut self,
        kind: AlarmKind,
        reading: Reading,
        at: DateTime<Utc>,
        t: &Thresholds,
        replaces: Option<AlarmKind>,
    ) -> Option<Decision> {
        let since = match self.pending {
            Some((pending, since)) if pending == kind => since,
            _ => at,
        };
        if at - since < delay(kind, t) {
            self.pending = Some((kind, since));
            return None;
        }
        self.pending = None;
        self.open = Some(kind);
        if let Reading::News2 { scored, .. } = reading {
            self.basis = scored;
        }
        let (priority, value) = (kind.priority(), reading.value());
        Some(Decision::Raise {
            kind,
            priority,
            value,
            at,
            replaces,
        })
    }
}

// The NEWS2 parameters present are kept as bits of a u8.
const _: () = assert!(Parameter::ALL.len() <= 8);

/// The evaluator for any number of patients, keyed by the caller's patient id `P`.
#[derive(Debug, Clone)]
pub struct AlarmEvaluator<P> {
    channels: BTreeMap<(P, Channel), ChannelState>,
    last_seen: BTreeMap<P, DateTime<Utc>>,
}

impl<P> Default for AlarmEvaluator<P> {
    fn default() -> Self {
        Self {
            channels: BTreeMap::new(),
            last_seen: BTreeMap::new(),
        }
    }
}

impl<P: Ord + Clone> AlarmEvaluator<P> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one checked sample with the patient's limits. Samples older than the newest one
    /// already seen for the same condition are ignored (they were decided on). Any sample
    /// shows the device is alive and clears `device_silent`.
    pub fn observe(&mut self, patient: &P, sample: &Sample, t: &Thresholds) -> Vec<Decision> {
        let at = sample.measured_at();
        let mut out = self.heard(patient, at, t);
        let reading = match sample.value() {
            SampleValue::Number(v) => Reading::Value(v),
            SampleValue::IvBag(IvLevel::Percent(v)) => Reading::IvPercent(v),
            SampleValue::IvBag(IvLevel::Millilitres(v)) => Reading::IvMl(v),
            SampleValue::NurseCall(pressed) => Reading::Pressed(pressed),
            SampleValue::Consciousness(_) | SampleValue::SupplementalOxygen(_) => return out,
        };
        if let Some(channel) = Channel::of(sample.kind()) {
            let state = self.channels.entry((patient.clone(), channel)).or_default();
            out.extend(state.step(channel, reading, at, t));
        }
        out
    }

    /// Feeds the patient's NEWS2, scored at `at` from the latest vitals. An incomplete score
    /// can raise (it is a lower bound) but cannot clear an alarm raised on more parameters.
    pub fn observe_news2(
        &mut self,
        patient: &P,
        score: &News2,
        at: DateTime<Utc>,
        t: &Thresholds,
    ) -> Vec<Decision> {
        let scored = score
            .sub_scores()
            .fold(0u8, |bits, (p, _)| bits | 1 << (p as u8));
        let reading = Reading::News2 {
            total: f64::from(score.total()),
            any_three: score.any_three(),
            scored,
        };
        let state = self
            .channels
            .entry((patient.clone(), Channel::News2))
            .or_default();
        state.step(Channel::News2, reading, at, t)
    }

    /// Raises `device_silent` when nothing has been heard from the patient's devices for
    /// `device_silent_secs` up to `now`. Patients never heard from are not judged.
    pub fn check_silence(
        &mut self,
        patient: &P,
        now: DateTime<Utc>,
        t: &Thresholds,
    ) -> Option<Decision> {
        let silent_for = now - *self.last_seen.get(patient)?;
        if silent_for < TimeDelta::seconds(i64::from(t.device_silent_secs)) {
            return None;
        }
        let state = self
            .channels
            .entry((patient.clone(), Channel::Silence))
            .or_default();
        if state.open.is_some() {
            return None;
        }
        state.open = Some(AlarmKind::DeviceSilent);
        state.last_at = Some(now);
        Some(Decision::Raise {
            kind: AlarmKind::DeviceSilent,
            priority: AlarmKind::DeviceSilent.priority(),
            value: silent_for.num_seconds() as f64,
            at: now,
            replaces: None,
        })
    }

    /// Records that the device spoke at `at`. Clears silence only for a sample that would have
    /// prevented it, so a late upload of old buffered data does not flap the alarm.
    fn heard(&mut self, patient: &P, at: DateTime<Utc>, t: &Thresholds) -> Vec<Decision> {
        let seen = self.last_seen.entry(patient.clone()).or_insert(at);
        *seen = (*seen).max(at);
        let Some(state) = self.channels.get_mut(&(patient.clone(), Channel::Silence)) else {
            return Vec::new();
        };
        let window = TimeDelta::seconds(i64::from(t.device_silent_secs));
        match (state.open, state.last_at) {
            (Some(kind), Some(raised)) if at + window > raised => {
                *state = ChannelState::default();
                vec![Decision::Clear { kind, at }]
            }
            _ => Vec::new(),
        }
    }

    /// A person closed this alarm: forget it, so the condition, if it is still there, must
    /// persist for its onset delay again before a new alarm opens (and a nurse call can ring
    /// again).
    pub fn forget(&mut self, patient: &P, kind: AlarmKind) {
        if let Some(channel) = Channel::of_alarm(kind)
            && let Some(state) = self.channels.get_mut(&(patient.clone(), channel))
            && state.open == Some(kind)
        {
            state.open = None;
            state.pending = None;
        }
    }

    /// Marks an alarm already open (loaded from the database after a restart).
    pub fn restore(&mut self, patient: &P, kind: AlarmKind) {
        if let Some(channel) = Channel::of_alarm(kind) {
            let state = self.channels.entry((patient.clone(), channel)).or_default();
            state.open = Some(kind);
            state.basis = 0;
        }
    }

    /// The alarms this evaluator believes open for the patient.
    pub fn open_alarms(&self, patient: &P) -> Vec<AlarmKind> {
        Channel::ALL
            .iter()
            .filter_map(|&c| self.channels.get(&(patient.clone(), c))?.open)
            .collect()
    }

    /// Drops everything about a discharged patient.
    pub fn remove_patient(&mut self, patient: &P) {
        self.channels.retain(|(p, _), _| p != patient);
        self.last_seen.remove(patient);
    }
}
