//! Technical alarms judged from what the database knows rather than from one sample: a device
//! that went silent, and a probe that fell off. Both are checked periodically (by any number
//! of server instances; raising is idempotent in the store), so the rules take `now` and the
//! stored facts and say whether the condition holds — nothing here remembers anything.
//!
//! **Sensor off** is inferred: a bedside monitor whose SpO2 or heart-rate probe slips off
//! keeps reporting its other readings (temperature, blood pressure, battery) but no longer that
//! one. So a probe kind ([`PROBE_KINDS`]) counts as off when the patient's newest value of it is
//! at least `device_silent_secs` old while the same device sent something else within that
//! window. A kind the patient never had measured in this stay is not judged (not every bed has
//! a pulse oximeter), and a device silent altogether raises `device_silent` instead.
//! Low battery needs no periodic check: it comes from the battery sample (the evaluator).

use chrono::{DateTime, TimeDelta, Utc};

use super::Thresholds;
use crate::ward::VitalKind;

/// The kinds measured by a probe on the patient, whose absence means the probe is off.
pub const PROBE_KINDS: [VitalKind; 2] = [VitalKind::Spo2, VitalKind::HeartRate];

fn window(t: &Thresholds) -> TimeDelta {
    TimeDelta::seconds(i64::from(t.device_silent_secs))
}

/// How long the device has been silent, if that is at least `device_silent_secs`. A device
/// never heard from is not judged: it is being set up, not failing.
pub fn silent_for(
    last_seen: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    t: &Thresholds,
) -> Option<TimeDelta> {
    let quiet = now - last_seen?;
    (quiet >= window(t)).then_some(quiet)
}

/// One newest value of a patient, as the sensor-off rule needs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Newest<D> {
    pub kind: VitalKind,
    pub measured_at: DateTime<Utc>,
    pub device: D,
}

/// The probe that is off, and for how long its kind has been missing; `None` when every probe
/// kind the patient has is fresh, or when its device sent nothing else recently.
pub fn sensor_off<D: PartialEq>(
    newest: &[Newest<D>],
    now: DateTime<Utc>,
    t: &Thresholds,
) -> Option<(VitalKind, TimeDelta)> {
    let w = window(t);
    PROBE_KINDS.iter().find_map(|&probe| {
        let p = newest.iter().find(|n| n.kind == probe)?;
        let missing = now - p.measured_at;
        if missing < w {
            return None;
        }
        let device_alive = newest.iter().any(|n| {
            n.kind != probe
                && n.device == p.device
                && now - n.measured_at < w
                && n.measured_at > p.measured_at
        });
        device_alive.then_some((probe, missing))
    })
}

/// Whether an open `sensor_off` may clear: every probe kind the patient has is fresh again.
/// (A device that went silent altogether does not clear it: the probe is not known to be back.)
pub fn sensor_back<D>(newest: &[Newest<D>], now: DateTime<Utc>, t: &Thresholds) -> bool {
    let w = window(t);
    newest
        .iter()
        .filter(|n| PROBE_KINDS.contains(&n.kind))
        .all(|n| now - n.measured_at < w)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        "2026-03-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap() + TimeDelta::seconds(secs)
    }

    fn n(kind: VitalKind, secs: i64, device: u8) -> Newest<u8> {
        Newest {
            kind,
            measured_at: at(secs),
            device,
        }
    }

    #[test]
    fn a_device_is_silent_from_the_configured_number_of_seconds_and_never_before_it_spoke() {
        let t = Thresholds::default();
        assert_eq!(silent_for(Some(at(0)), at(59), &t), None);
        assert_eq!(
            silent_for(Some(at(0)), at(60), &t),
            Some(TimeDelta::seconds(60))
        );
        assert_eq!(silent_for(None, at(1_000), &t), None);
        let patient = Thresholds {
            device_silent_secs: 10,
            ..Thresholds::default()
        };
        assert!(silent_for(Some(at(0)), at(10), &patient).is_some());
    }

    #[test]
    fn a_probe_is_off_when_its_kind_stops_while_the_same_device_reports_others() {
        let t = Thresholds::default();
        let newest = [
            n(VitalKind::Spo2, 0, 1),
            n(VitalKind::HeartRate, 95, 1),
            n(VitalKind::BodyTemperature, 95, 1),
        ];
        assert_eq!(
            sensor_off(&newest, at(100), &t),
            Some((VitalKind::Spo2, TimeDelta::seconds(100)))
        );
        assert_eq!(
            sensor_off(&newest, at(59), &t),
            None,
            "not missing long enough"
        );
    }

    #[test]
    fn no_sensor_off_for_a_silent_device_another_devices_data_or_a_kind_never_measured() {
        let t = Thresholds::default();
        let all_quiet = [
            n(VitalKind::Spo2, 0, 1),
            n(VitalKind::BodyTemperature, 5, 1),
        ];
        assert_eq!(
            sensor_off(&all_quiet, at(100), &t),
            None,
            "that is device_silent"
        );
        let other_device = [
            n(VitalKind::Spo2, 0, 1),
            n(VitalKind::BodyTemperature, 95, 2),
        ];
        assert_eq!(sensor_off(&other_device, at(100), &t), None);
        let thermometer_only = [n(VitalKind::BodyTemperature, 95, 1)];
        assert_eq!(sensor_off(&thermometer_only, at(100), &t), None);
    }

    #[test]
    fn a_sensor_off_clears_only_once_every_probe_kind_is_fresh_again() {
        let t = Thresholds::default();
        let still_off = [n(VitalKind::Spo2, 0, 1), n(VitalKind::HeartRate, 99, 1)];
        assert!(!sensor_back(&still_off, at(100), &t));
        let back = [n(VitalKind::Spo2, 98, 1), n(VitalKind::HeartRate, 99, 1)];
        assert!(sensor_back(&back, at(100), &t));
    }
}
