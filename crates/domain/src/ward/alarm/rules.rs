//! The rules behind each alarm: which readings share a channel (and so exclude each other),
//! where each limit lies and how far back a value must come before the alarm clears
//! (hysteresis), which alarms can rise into which, and how long a condition must persist.

use chrono::TimeDelta;

use super::{AlarmKind, Category, Thresholds};
use crate::ward::VitalKind;

/// Alarms that exclude each other share a channel, so at most one of them is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Channel {
    Temperature,
    Spo2,
    HeartRate,
    RespiratoryRate,
    Systolic,
    IvBag,
    Battery,
    NurseCall,
    News2,
    Silence,
}

impl Channel {
    pub(super) const ALL: [Channel; 10] = [
        Channel::Temperature,
        Channel::Spo2,
        Channel::HeartRate,
        Channel::RespiratoryRate,
        Channel::Systolic,
        Channel::IvBag,
        Channel::Battery,
        Channel::NurseCall,
        Channel::News2,
        Channel::Silence,
    ];

    pub(super) fn of(kind: VitalKind) -> Option<Channel> {
        match kind {
            VitalKind::BodyTemperature => Some(Channel::Temperature),
            VitalKind::Spo2 => Some(Channel::Spo2),
            VitalKind::HeartRate => Some(Channel::HeartRate),
            VitalKind::RespiratoryRate => Some(Channel::RespiratoryRate),
            VitalKind::SystolicBp => Some(Channel::Systolic),
            VitalKind::IvBag => Some(Channel::IvBag),
            VitalKind::Battery => Some(Channel::Battery),
            VitalKind::NurseCall => Some(Channel::NurseCall),
            // Scored by NEWS2 rather than alarmed on alone.
            VitalKind::DiastolicBp | VitalKind::Consciousness | VitalKind::SupplementalOxygen => {
                None
            }
        }
    }

    /// The channel's alarms, most severe first.
    pub(super) fn kinds(self) -> &'static [AlarmKind] {
        use AlarmKind as K;
        match self {
            Channel::Temperature => &[K::Fever, K::Hypothermia],
            Channel::Spo2 => &[K::LowSpo2],
            Channel::HeartRate => &[K::Bradycardia, K::Tachycardia],
            Channel::RespiratoryRate => &[K::Bradypnoea, K::Tachypnoea],
            Channel::Systolic => &[K::Hypotension],
            Channel::IvBag => &[K::IvBagEmpty, K::IvBagLow],
            Channel::Battery => &[K::BatteryLow],
            Channel::NurseCall => &[K::NurseCall],
            Channel::News2 => &[K::News2High, K::News2Medium],
            Channel::Silence => &[K::DeviceSilent],
        }
    }

    pub(super) fn of_alarm(kind: AlarmKind) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.kinds().contains(&kind))
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Reading {
    Value(f64),
    IvPercent(f64),
    IvMl(f64),
    Pressed(bool),
    /// `scored` is a bit set of the NEWS2 parameters present.
    News2 {
        total: f64,
        any_three: bool,
        scored: u8,
    },
}

impl Reading {
    pub(super) fn value(self) -> f64 {
        match self {
            Reading::Value(v) | Reading::IvPercent(v) | Reading::IvMl(v) => v,
            Reading::Pressed(p) => f64::from(u8::from(p)),
            Reading::News2 { total, .. } => total,
        }
    }
}

/// A one-sided limit. It is crossed at `at`; once crossed, it holds until the value is back
/// inside by `margin`, so `onset` implies `holds`.
struct Limit {
    high: bool,
    at: f64,
    inclusive: bool,
    margin: f64,
}

impl Limit {
    fn beyond(&self, v: f64, at: f64) -> bool {
        match (self.high, self.inclusive) {
            (true, true) => v >= at,
            (true, false) => v > at,
            (false, true) => v <= at,
            (false, false) => v < at,
        }
    }

    fn onset(&self, v: f64) -> bool {
        self.beyond(v, self.at)
    }

    fn holds(&self, v: f64) -> bool {
        let relaxed = if self.high {
            self.at - self.margin
        } else {
            self.at + self.margin
        };
        self.beyond(v, relaxed)
    }
}

fn limit(kind: AlarmKind, reading: Reading, t: &Thresholds) -> Option<Limit> {
    use AlarmKind as K;
    use Reading as R;
    let high = |at, inclusive, margin| Limit {
        high: true,
        at,
        inclusive,
        margin,
    };
    let low = |at, inclusive, margin| Limit {
        high: false,
        at,
        inclusive,
        margin,
    };
    Some(match (kind, reading) {
        (K::Fever, R::Value(_)) => high(t.fever_c, true, t.temperature_margin_c),
        (K::Hypothermia, R::Value(_)) => low(t.hypothermia_c, true, t.temperature_margin_c),
        (K::LowSpo2, R::Value(_)) => low(t.low_spo2_pct, false, t.spo2_margin_pct),
        (K::Bradycardia, R::Value(_)) => {
            low(t.bradycardia_per_min, false, t.heart_rate_margin_per_min)
        }
        (K::Tachycardia, R::Value(_)) => {
            high(t.tachycardia_per_min, false, t.heart_rate_margin_per_min)
        }
        (K::Bradypnoea, R::Value(_)) => low(
            t.bradypnoea_per_min,
            false,
            t.respiratory_rate_margin_per_min,
        ),
        (K::Tachypnoea, R::Value(_)) => high(
            t.tachypnoea_per_min,
            false,
            t.respiratory_rate_margin_per_min,
        ),
        (K::Hypotension, R::Value(_)) => low(t.hypotension_mmhg, false, t.systolic_margin_mmhg),
        (K::IvBagEmpty, R::IvPercent(_)) => low(t.iv_bag_empty_pct, true, t.iv_bag_margin_pct),
        (K::IvBagEmpty, R::IvMl(_)) => low(t.iv_bag_empty_ml, true, t.iv_bag_margin_ml),
        (K::IvBagLow, R::IvPercent(_)) => low(t.iv_bag_low_pct, true, t.iv_bag_margin_pct),
        (K::IvBagLow, R::IvMl(_)) => low(t.iv_bag_low_ml, true, t.iv_bag_margin_ml),
        (K::BatteryLow, R::Value(_)) => low(t.battery_low_pct, true, t.battery_margin_pct),
        _ => return None,
    })
}

pub(super) fn onset(kind: AlarmKind, reading: Reading, t: &Thresholds) -> bool {
    match (kind, reading) {
        (AlarmKind::NurseCall, Reading::Pressed(pressed)) => pressed,
        (AlarmKind::News2High, Reading::News2 { total, .. }) => total >= 7.0,
        (
            AlarmKind::News2Medium,
            Reading::News2 {
                total, any_three, ..
            },
        ) => any_three || total >= 5.0,
        _ => limit(kind, reading, t).is_some_and(|l| l.onset(reading.value())),
    }
}

/// Still in alarm? Severity does not fall inside a channel: an empty-bag alarm holds as long
/// as a low-bag one would, and NEWS2 high as long as medium.
pub(super) fn holds(kind: AlarmKind, reading: Reading, t: &Thresholds) -> bool {
    match (kind, reading) {
        (AlarmKind::NurseCall, _) => true,
        (
            AlarmKind::News2High | AlarmKind::News2Medium,
            Reading::News2 {
                total, any_three, ..
            },
        ) => any_three || total >= 5.0 - t.news2_margin,
        (AlarmKind::IvBagEmpty, _) => holds(AlarmKind::IvBagLow, reading, t),
        _ => limit(kind, reading, t).is_some_and(|l| l.holds(reading.value())),
    }
}

pub(super) fn is_upgrade(from: AlarmKind, to: AlarmKind) -> bool {
    matches!(
        (from, to),
        (AlarmKind::IvBagLow, AlarmKind::IvBagEmpty)
            | (AlarmKind::News2Medium, AlarmKind::News2High)
    )
}

/// How long a condition must persist. A nurse call is a person asking: no delay.
pub(super) fn delay(kind: AlarmKind, t: &Thresholds) -> TimeDelta {
    let secs = match kind.category() {
        Category::PatientCall => 0,
        Category::Physiological => t.physiological_delay_secs,
        Category::Technical => t.technical_delay_secs,
    };
    TimeDelta::seconds(i64::from(secs))
}
