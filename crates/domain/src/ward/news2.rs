//! The National Early Warning Score 2 (Royal College of Physicians, 2017): per-parameter
//! scores exactly as the chart in DESIGN.md, their sum, and the clinical-risk band. Also works
//! on partial observations: it scores what is present and says what is missing, and because
//! every missing parameter can only add points, a partial total is a lower bound.

use chrono::{DateTime, TimeDelta, Utc};
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use super::{Acvpu, Sample, SampleValue, VitalKind};

labelled_enum! {
    /// Which SpO2 row applies. Scale 2 is for patients with hypercapnic respiratory failure
    /// whom a clinician has put on it; everyone else is on scale 1.
    Spo2Scale {
        Scale1 => "scale_1", "척도 1", "Scale 1";
        Scale2 => "scale_2", "척도 2 (고탄산성 호흡부전)", "Scale 2 (hypercapnic respiratory failure)";
    }
}

labelled_enum! {
    /// The seven rows of the chart.
    Parameter {
        RespiratoryRate => "respiratory_rate", "호흡수", "Respiration rate";
        Spo2 => "spo2", "산소포화도", "SpO2";
        AirOrOxygen => "air_or_oxygen", "공기 또는 산소", "Air or oxygen";
        SystolicBp => "systolic_bp", "수축기 혈압", "Systolic blood pressure";
        Pulse => "pulse", "맥박", "Pulse";
        Consciousness => "consciousness", "의식 수준", "Consciousness";
        Temperature => "temperature", "체온", "Temperature";
    }
}

labelled_enum! {
    /// Clinical risk, lowest first.
    Band {
        Low => "low", "저위험", "Low";
        /// A single parameter scored 3 while the total is below 5.
        LowMedium => "low_medium", "저-중위험 (단일 항목 3점)", "Low-medium (a single parameter scored 3)";
        Medium => "medium", "중위험", "Medium";
        High => "high", "고위험", "High";
    }
}

impl Band {
    /// The response the chart asks for, in Korean.
    pub fn response_ko(self) -> &'static str {
        match self {
            Band::Low => "병동 기본 대응",
            Band::LowMedium => "병동 긴급 대응",
            Band::Medium => "긴급 평가 (핵심 기준)",
            Band::High => "응급 대응",
        }
    }

    /// The response the chart asks for, in English.
    pub fn response_en(self) -> &'static str {
        match self {
            Band::Low => "ward-based response",
            Band::LowMedium => "urgent ward-based response",
            Band::Medium => "key threshold: urgent response",
            Band::High => "urgent or emergency response",
        }
    }
}

/// The band of a total: ≥ 7 high, 5–6 medium, otherwise low-medium if any parameter scored
/// 3, otherwise low.
pub fn band_for(total: u8, any_three: bool) -> Band {
    match total {
        7.. => Band::High,
        5..=6 => Band::Medium,
        _ if any_three => Band::LowMedium,
        _ => Band::Low,
    }
}

/// The latest observations; `None` means not observed (or too old to use).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Observations {
    pub respiratory_rate: Option<f64>,
    pub spo2: Option<f64>,
    pub supplemental_oxygen: Option<bool>,
    pub systolic_bp: Option<f64>,
    pub pulse: Option<f64>,
    pub consciousness: Option<Acvpu>,
    pub temperature: Option<f64>,
}

impl Observations {
    /// The newest sample of each kind measured within `max_age` before `now` (and not after
    /// it). Older ones are left out rather than used: a stale normal reading would hide a
    /// deterioration.
    pub fn from_latest<'a>(
        samples: impl IntoIterator<Item = &'a Sample>,
        now: DateTime<Utc>,
        max_age: TimeDelta,
    ) -> Self {
        let mut newest: [Option<&Sample>; VitalKind::ALL.len()] = [None; VitalKind::ALL.len()];
        for sample in samples {
            let age = now - sample.measured_at();
            if age < TimeDelta::zero() || age > max_age {
                continue;
            }
            let slot = &mut newest[sample.kind() as usize];
            if slot.is_none_or(|s| s.measured_at() <= sample.measured_at()) {
                *slot = Some(sample);
            }
        }
        let value = |kind: VitalKind| newest[kind as usize].map(Sample::value);
        let number = |kind| match value(kind) {
            Some(SampleValue::Number(v)) => Some(v),
            _ => None,
        };
        Observations {
            respiratory_rate: number(VitalKind::RespiratoryRate),
            spo2: number(VitalKind::Spo2),
            supplemental_oxygen: match value(VitalKind::SupplementalOxygen) {
                Some(SampleValue::SupplementalOxygen(on)) => Some(on),
                _ => None,
            },
            systolic_bp: number(VitalKind::SystolicBp),
            pulse: number(VitalKind::HeartRate),
            consciousness: match value(VitalKind::Consciousness) {
                Some(SampleValue::Consciousness(level)) => Some(level),
                _ => None,
            },
            temperature: number(VitalKind::BodyTemperature),
        }
    }
}

// The chart's rows hold whole numbers (temperature: tenths), so readings are rounded to that
// precision first; otherwise 8.6 breaths/min would fall between "≤ 8" and "9–11".
fn whole(v: f64) -> i64 {
    v.round() as i64
}

pub fn respiration_score(per_min: f64) -> u8 {
    match whole(per_min) {
        ..=8 => 3,
        9..=11 => 1,
        12..=20 => 0,
        21..=24 => 2,
        _ => 3,
    }
}

pub fn spo2_scale1_score(percent: f64) -> u8 {
    match whole(percent) {
        ..=91 => 3,
        92..=93 => 2,
        94..=95 => 1,
        _ => 0,
    }
}

/// Scale 2: 88–92 % is the target; above it only oxygen makes a high saturation a risk.
pub fn spo2_scale2_score(percent: f64, on_oxygen: bool) -> u8 {
    match (whole(percent), on_oxygen) {
        (..=83, _) => 3,
        (84..=85, _) => 2,
        (86..=87, _) => 1,
        (88..=92, _) | (_, false) => 0,
        (93..=94, true) => 1,
        (95..=96, true) => 2,
        (_, true) => 3,
    }
}

pub fn oxygen_score(on_oxygen: bool) -> u8 {
    if on_oxygen { 2 } else { 0 }
}

pub fn systolic_score(mmhg: f64) -> u8 {
    match whole(mmhg) {
        ..=90 => 3,
        91..=100 => 2,
        101..=110 => 1,
        111..=219 => 0,
        _ => 3,
    }
}

pub fn pulse_score(per_min: f64) -> u8 {
    match whole(per_min) {
        ..=40 => 3,
        41..=50 => 1,
        51..=90 => 0,
        91..=110 => 1,
        111..=130 => 2,
        _ => 3,
    }
}

pub fn consciousness_score(level: Acvpu) -> u8 {
    if level == Acvpu::Alert { 0 } else { 3 }
}

pub fn temperature_score(celsius: f64) -> u8 {
    match whole(celsius * 10.0) {
        ..=350 => 3,
        351..=360 => 1,
        361..=380 => 0,
        381..=390 => 1,
        _ => 2,
    }
}

/// A scored set of observations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct News2 {
    scale: Spo2Scale,
    scores: [Option<u8>; 7],
}

impl News2 {
    /// Scores what is present. Non-finite numbers count as missing. On scale 2 an SpO2 of
    /// 93 % or more with air/oxygen unknown is scored as on air, the lower of the two, so the
    /// total stays a lower bound.
    pub fn score(obs: &Observations, scale: Spo2Scale) -> Self {
        let finite = |v: Option<f64>| v.filter(|v| v.is_finite());
        let on_oxygen = obs.supplemental_oxygen;
        let mut scores = [None; 7];
        scores[Parameter::RespiratoryRate as usize] =
            finite(obs.respiratory_rate).map(respiration_score);
        scores[Parameter::Spo2 as usize] = finite(obs.spo2).map(|s| match scale {
            Spo2Scale::Scale1 => spo2_scale1_score(s),
            Spo2Scale::Scale2 => spo2_scale2_score(s, on_oxygen.unwrap_or(false)),
        });
        scores[Parameter::AirOrOxygen as usize] = on_oxygen.map(oxygen_score);
        scores[Parameter::SystolicBp as usize] = finite(obs.systolic_bp).map(systolic_score);
        scores[Parameter::Pulse as usize] = finite(obs.pulse).map(pulse_score);
        scores[Parameter::Consciousness as usize] = obs.consciousness.map(consciousness_score);
        scores[Parameter::Temperature as usize] = finite(obs.temperature).map(temperature_score);
        Self { scale, scores }
    }

    pub fn scale(&self) -> Spo2Scale {
        self.scale
    }

    /// The row's score, or `None` when it was not observed.
    pub fn sub_score(&self, parameter: Parameter) -> Option<u8> {
        self.scores[parameter as usize]
    }

    /// The scored rows, in chart order.
    pub fn sub_scores(&self) -> impl Iterator<Item = (Parameter, u8)> + '_ {
        Parameter::ALL
            .iter()
            .filter_map(|&p| self.sub_score(p).map(|s| (p, s)))
    }

    /// The rows without an observation, in chart order.
    pub fn missing(&self) -> impl Iterator<Item = Parameter> + '_ {
        Parameter::ALL
            .iter()
            .copied()
            .filter(|&p| self.sub_score(p).is_none())
    }

    pub fn is_complete(&self) -> bool {
        self.missing().next().is_none()
    }

    /// Sum of the scored rows (a lower bound when incomplete).
    pub fn total(&self) -> u8 {
        self.sub_scores().map(|(_, s)| s).sum()
    }

    pub fn any_three(&self) -> bool {
        self.sub_scores().any(|(_, s)| s == 3)
    }

    pub fn band(&self) -> Band {
        band_for(self.total(), self.any_three())
    }
}

/// `{"scale", "total", "band", "complete", "sub_scores": {"pulse": 1, …}, "missing": […]}`.
impl Serialize for News2 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let sub_scores: std::collections::BTreeMap<_, _> = self.sub_scores().collect();
        let missing: Vec<_> = self.missing().collect();
        let mut out = s.serialize_struct("News2", 6)?;
        out.serialize_field("scale", &self.scale)?;
        out.serialize_field("total", &self.total())?;
        out.serialize_field("band", &self.band())?;
        out.serialize_field("complete", &self.is_complete())?;
        out.serialize_field("sub_scores", &sub_scores)?;
        out.serialize_field("missing", &missing)?;
        out.end()
    }
}
