//! The predecessor's (ANTIPS) Raspberry Pi payload, `{"bedNumber":"101-1","temperature":37.8,
//! "weight":2}`, accepted unchanged so existing bedside publishers keep working. It becomes
//! ordinary samples for the bed it names; each reading stands on its own, so a bad
//! temperature does not lose the IV bag event (the predecessor only ever looked at one).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{BedLabel, BedLabelProblem, IvLevel, Sample, SampleProblem, SampleValue, VitalKind};

/// The payload as published. Missing `temperature` or `weight` count as "no reading".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegacyPayload {
    pub bed_number: String,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub weight: Option<i64>,
}

/// The predecessor's "no reading" marker for both fields.
const NONE: i64 = -1;

/// What one payload says about one bed.
#[derive(Debug, Clone, PartialEq)]
pub struct LegacyReading {
    pub bed: BedLabel,
    pub samples: Vec<Sample>,
    /// Readings refused; the others are still in `samples`.
    pub problems: Vec<LegacyProblem>,
}

/// Why (part of) a payload was refused. [`LegacyProblem::code`] is stable for the API.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LegacyProblem {
    #[error(transparent)]
    BedLabel(#[from] BedLabelProblem),
    #[error("weight code {0} is not one of -1 (none), 0 (normal), 1 (empty) or 2 (20 % or less)")]
    UnknownWeightCode(i64),
    #[error(transparent)]
    Sample(#[from] SampleProblem),
}

impl LegacyProblem {
    pub fn code(&self) -> &'static str {
        match self {
            LegacyProblem::BedLabel(p) => p.code(),
            LegacyProblem::UnknownWeightCode(_) => "unknown_weight_code",
            LegacyProblem::Sample(p) => p.code(),
        }
    }
}

impl LegacyPayload {
    /// Maps the payload onto samples measured at `received_at` (the Pi sends no time).
    ///
    /// - `temperature`: −1 or absent means no reading; anything else is a body temperature.
    /// - `weight` is an event code from the load cell, not a weight: 2 → the bag is at 20 %
    ///   (the predecessor's "20 % or less", stored as its upper bound, which is exactly what
    ///   the default low-bag limit catches); 1 → empty, 0 %; −1 or absent → nothing.
    /// - `weight` 0 is not in the predecessor's protocol; it is read as "normal" and produces
    ///   no sample, because inventing a level (say 100 %) would put a fabricated reading into
    ///   the history and silently clear a low-bag alarm that a nurse should close.
    ///
    /// An unreadable bed label rejects the whole payload: there is no bed to put it on.
    pub fn to_samples(&self, received_at: DateTime<Utc>) -> Result<LegacyReading, LegacyProblem> {
        let bed = BedLabel::parse(&self.bed_number)?;
        let mut reading = LegacyReading {
            bed,
            samples: Vec::new(),
            problems: Vec::new(),
        };
        let mut keep = |result: Result<Sample, LegacyProblem>| match result {
            Ok(sample) => reading.samples.push(sample),
            Err(problem) => reading.problems.push(problem),
        };
        if let Some(celsius) = self.temperature.filter(|&t| t != NONE as f64) {
            keep(
                Sample::new(
                    VitalKind::BodyTemperature,
                    SampleValue::Number(celsius),
                    received_at,
                )
                .map_err(LegacyProblem::from),
            );
        }
        let iv = |percent| {
            Sample::new(
                VitalKind::IvBag,
                SampleValue::IvBag(IvLevel::Percent(percent)),
                received_at,
            )
            .map_err(LegacyProblem::from)
        };
        match self.weight {
            None | Some(NONE) | Some(0) => {}
            Some(1) => keep(iv(0.0)),
            Some(2) => keep(iv(20.0)),
            Some(code) => keep(Err(LegacyProblem::UnknownWeightCode(code))),
        }
        Ok(reading)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(temperature: Option<f64>, weight: Option<i64>) -> LegacyPayload {
        LegacyPayload {
            bed_number: "101-1".into(),
            temperature,
            weight,
        }
    }

    fn now() -> DateTime<Utc> {
        "2026-03-01T00:00:00Z".parse().unwrap()
    }

    fn values(reading: &LegacyReading) -> Vec<(VitalKind, f64)> {
        reading
            .samples
            .iter()
            .map(|s| (s.kind(), s.value().as_f64()))
            .collect()
    }

    #[test]
    fn a_temperature_and_a_low_bag_in_one_message_both_become_samples() {
        let reading = payload(Some(37.8), Some(2)).to_samples(now()).unwrap();
        assert_eq!(reading.bed.to_string(), "101-1");
        assert_eq!(
            values(&reading),
            [(VitalKind::BodyTemperature, 37.8), (VitalKind::IvBag, 20.0)]
        );
        assert!(reading.samples.iter().all(|s| s.measured_at() == now()));
        assert!(reading.problems.is_empty());
    }

    #[test]
    fn an_empty_bag_is_zero_percent_and_minus_one_means_no_reading() {
        let reading = payload(Some(-1.0), Some(1)).to_samples(now()).unwrap();
        assert_eq!(values(&reading), [(VitalKind::IvBag, 0.0)]);
        let nothing = payload(Some(-1.0), Some(-1)).to_samples(now()).unwrap();
        assert!(nothing.samples.is_empty() && nothing.problems.is_empty());
        let absent = payload(None, None).to_samples(now()).unwrap();
        assert!(absent.samples.is_empty());
    }

    #[test]
    fn weight_code_zero_is_normal_and_adds_no_sample() {
        let reading = payload(Some(36.5), Some(0)).to_samples(now()).unwrap();
        assert_eq!(values(&reading), [(VitalKind::BodyTemperature, 36.5)]);
    }

    #[test]
    fn a_bad_reading_is_reported_while_the_other_is_kept() {
        let reading = payload(Some(80.0), Some(1)).to_samples(now()).unwrap();
        assert_eq!(values(&reading), [(VitalKind::IvBag, 0.0)]);
        assert_eq!(reading.problems.len(), 1);
        assert_eq!(reading.problems[0].code(), "out_of_range");
        let odd = payload(Some(36.9), Some(7)).to_samples(now()).unwrap();
        assert_eq!(values(&odd), [(VitalKind::BodyTemperature, 36.9)]);
        assert_eq!(odd.problems[0].code(), "unknown_weight_code");
    }

    #[test]
    fn a_payload_for_an_unreadable_bed_is_refused_whole() {
        let mut bad = payload(Some(37.0), Some(2));
        bad.bed_number = "bed one".into();
        assert_eq!(bad.to_samples(now()).unwrap_err().code(), "bad_bed_label");
    }
}
