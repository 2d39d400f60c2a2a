//! The one ingest path every transport uses (HTTP `/samples` and `/legacy-samples`, MQTT):
//! check each sample on its own, store the valid ones through the group-commit
//! [`SampleWriter`](docde_store::ward::SampleWriter), answer only after their commit, then
//! evaluate alarms and wake the ward's streams.
//!
//! It knows nothing of HTTP or MQTT: callers authenticate the device first and turn the
//! [`IngestAnswer`] (or the [`WardError`]) into their transport's reply.

use chrono::{DateTime, Utc};
use docde_domain::ward::legacy::LegacyReading;
use docde_domain::ward::{RawSample, Sample};
use docde_store::ward::WardError;
use docde_store::ward::samples::Stored;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{FUTURE_TOLERANCE, evaluate, wake};
use crate::state::AppState;

/// What happened to one sample of a batch.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SampleResult {
    pub index: usize,
    /// `stored`, `duplicate` or `rejected`.
    pub status: &'static str,
    /// Why it was rejected (`unknown_kind`, `unit_mismatch`, `out_of_range`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl SampleResult {
    fn stored(index: usize) -> Self {
        Self {
            index,
            status: "stored",
            code: None,
            detail: None,
        }
    }

    fn rejected(index: usize, code: &'static str, detail: String) -> Self {
        Self {
            index,
            status: "rejected",
            code: Some(code),
            detail: Some(detail),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IngestAnswer {
    pub stored: usize,
    pub duplicates: usize,
    pub rejected: usize,
    /// One per sample, in the batch's order.
    pub results: Vec<SampleResult>,
}

impl IngestAnswer {
    fn of(results: Vec<SampleResult>) -> Self {
        let count = |s: &str| results.iter().filter(|r| r.status == s).count();
        Self {
            stored: count("stored"),
            duplicates: count("duplicate"),
            rejected: count("rejected"),
            results,
        }
    }
}

/// Checks and stores a device's batch of raw samples (the caller has authenticated the device
/// and checked the batch size). Answers after the commit of the valid ones.
pub async fn ingest_raw(
    state: &AppState,
    device_id: Uuid,
    raw: &[RawSample],
    at: DateTime<Utc>,
) -> Result<IngestAnswer, WardError> {
    let mut results = Vec::with_capacity(raw.len());
    let mut valid = Vec::new();
    for (index, raw) in raw.iter().enumerate() {
        match Sample::parse(raw, at, FUTURE_TOLERANCE) {
            Ok(sample) => {
                valid.push((index, sample));
                results.push(SampleResult::stored(index));
            }
            Err(problem) => results.push(SampleResult::rejected(
                index,
                problem.code(),
                problem.to_string(),
            )),
        }
    }
    store_samples(state, device_id, valid, &mut results, at).await?;
    Ok(IngestAnswer::of(results))
}

/// Stores what the predecessor's payload said (its readings first, then its refused ones), as
/// `device_id`; the caller has matched the device to the payload's bed.
pub async fn ingest_legacy(
    state: &AppState,
    device_id: Uuid,
    reading: LegacyReading,
    at: DateTime<Utc>,
) -> Result<IngestAnswer, WardError> {
    let mut results: Vec<SampleResult> = (0..reading.samples.len())
        .map(SampleResult::stored)
        .collect();
    let offset = results.len();
    results.extend(
        reading
            .problems
            .iter()
            .enumerate()
            .map(|(i, p)| SampleResult::rejected(offset + i, p.code(), p.to_string())),
    );
    let valid = reading.samples.into_iter().enumerate().collect();
    store_samples(state, device_id, valid, &mut results, at).await?;
    Ok(IngestAnswer::of(results))
}

/// Stores the valid samples through the group-commit writer (returning after the commit),
/// marks duplicates in `results`, evaluates alarms on the new ones and wakes the ward.
async fn store_samples(
    state: &AppState,
    device_id: Uuid,
    valid: Vec<(usize, Sample)>,
    results: &mut [SampleResult],
    at: DateTime<Utc>,
) -> Result<(), WardError> {
    if valid.is_empty() {
        return Ok(());
    }
    let samples: Vec<Sample> = valid.iter().map(|(_, s)| s.clone()).collect();
    let report = state.ward.writer.ingest(device_id, samples, at).await?;
    let mut inserted: Vec<Sample> = Vec::new();
    for ((index, sample), outcome) in valid.into_iter().zip(report.results) {
        match outcome {
            Stored::Inserted => inserted.push(sample),
            Stored::Duplicate => results[index].status = "duplicate",
        }
    }
    metrics::counter!("ward_samples_stored_total").increment(inserted.len() as u64);
    crate::metrics::domain::ingested(&inserted);
    // The vitals events are committed: wake their wards' streams now, not after the alarm
    // evaluation below (its reads would otherwise delay every bedside update on the screens).
    let mut wards = report.wards;
    wards.sort_unstable();
    wards.dedup();
    for ward in &wards {
        wake(state, *ward).await;
    }
    // The samples are durable from here on: a failing evaluation or lookup must not turn the
    // answer into an error (the device would resend what is stored), so it is logged instead.
    if !inserted.is_empty() {
        match evaluate(state, device_id, &inserted, at).await {
            // Alarms or a new NEWS2 were written: wake again (the device's bed is in one of
            // these wards; a device without a bed is not evaluated).
            Ok(true) => {
                for ward in &wards {
                    wake(state, *ward).await;
                }
            }
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, %device_id, "alarm evaluation failed"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use docde_domain::ward::{RawSample, RawValue};

    // `RawValue` deserializes by a visitor of its own (docde-domain has no JSON crate to test
    // it with text): every JSON shape a device may send, numbers beyond i64 included.
    #[test]
    fn a_batch_body_keeps_every_value_shape_per_item() {
        let batch: Vec<RawSample> = serde_json::from_str(
            r#"[{"kind":"spo2","value":97,"measured_at":"2026-03-01T08:59:00+09:00"},
                {"kind":"body_temperature","value":37.85},
                {"kind":"nurse_call","value":true},
                {"kind":"heart_rate","value":"72"},
                {"kind":"heart_rate","value":null},
                {"kind":"heart_rate"},
                {"kind":"heart_rate","value":{"a":[1,{"b":2}]},"unit":"/min"},
                {"kind":"heart_rate","value":[1,2],"unit":"/min"},
                {"kind":"heart_rate","value":18446744073709551615}]"#,
        )
        .unwrap();
        let values: Vec<&RawValue> = batch.iter().map(|r| &r.value).collect();
        assert_eq!(values[0], &RawValue::Number(97.0));
        assert_eq!(values[1], &RawValue::Number(37.85));
        assert_eq!(values[2], &RawValue::Bool(true));
        assert_eq!(values[3], &RawValue::Text("72".into()));
        assert_eq!(values[4], &RawValue::Missing);
        assert_eq!(values[5], &RawValue::Missing);
        assert!(matches!(values[6], RawValue::Unsupported(_)));
        assert_eq!(batch[6].unit.as_deref(), Some("/min"));
        assert!(matches!(values[7], RawValue::Unsupported(_)));
        assert_eq!(values[8], &RawValue::Number(u64::MAX as f64));
    }
}
