//! NEWS2 alarms with explicit time: medium rising into high, hysteresis on clear, and no
//! clearing from a score that fell only because readings went stale; plus restoring open
//! alarms after a restart.

use chrono::{DateTime, TimeDelta, Utc};
use docde_domain::ward::alarm::{AlarmEvaluator, AlarmKind, Decision, Priority, Thresholds};
use docde_domain::ward::news2::{News2, Observations, Spo2Scale};
use docde_domain::ward::{Acvpu, Sample, SampleValue, VitalKind};

fn t(secs: i64) -> DateTime<Utc> {
    "2026-03-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap() + TimeDelta::seconds(secs)
}

fn raise(kind: AlarmKind, value: f64, secs: i64) -> Decision {
    Decision::Raise {
        kind,
        priority: kind.priority(),
        value,
        at: t(secs),
        replaces: None,
    }
}

fn clear(kind: AlarmKind, secs: i64) -> Decision {
    Decision::Clear { kind, at: t(secs) }
}

fn news2(total_from: &Observations) -> News2 {
    News2::score(total_from, Spo2Scale::Scale1)
}

fn full(pulse: f64, rr: f64) -> Observations {
    Observations {
        respiratory_rate: Some(rr),
        spo2: Some(97.0),
        supplemental_oxygen: Some(false),
        systolic_bp: Some(120.0),
        pulse: Some(pulse),
        consciousness: Some(Acvpu::Alert),
        temperature: Some(37.0),
    }
}

#[test]
fn news2_alarms_rise_from_medium_to_high_and_clear_with_hysteresis() {
    let mut ev = AlarmEvaluator::new();
    let limits = Thresholds::default();
    let mut feed = |obs: Observations, secs| ev.observe_news2(&1, &news2(&obs), t(secs), &limits);
    let medium = full(115.0, 22.0); // pulse 2 + respiration 2
    assert_eq!(news2(&medium).total(), 4);
    assert!(feed(medium, 0).is_empty());
    let five = full(115.0, 25.0); // pulse 2 + respiration 3
    assert!(feed(five, 10).is_empty());
    assert_eq!(feed(five, 20), [raise(AlarmKind::News2Medium, 5.0, 20)]);
    let six = full(135.0, 25.0); // pulse 3 + respiration 3
    assert_eq!(news2(&six).total(), 6);
    let high = Observations {
        temperature: Some(39.5),
        ..six
    }; // + temperature 2
    assert!(feed(high, 30).is_empty());
    assert_eq!(
        feed(high, 40),
        [Decision::Raise {
            kind: AlarmKind::News2High,
            priority: Priority::High,
            value: 8.0,
            at: t(40),
            replaces: Some(AlarmKind::News2Medium)
        }]
    );
    assert!(
        feed(medium, 50).is_empty(),
        "4 is within the one-point margin"
    );
    assert_eq!(
        feed(full(70.0, 22.0), 60),
        [clear(AlarmKind::News2High, 60)]
    );
}

#[test]
fn a_news2_that_fell_only_because_readings_went_stale_does_not_clear_the_alarm() {
    let mut ev = AlarmEvaluator::new();
    let limits = Thresholds::default();
    let five = full(115.0, 25.0);
    for secs in [0, 10] {
        let _ = ev.observe_news2(&1, &news2(&five), t(secs), &limits);
    }
    let stale = Observations {
        respiratory_rate: None,
        ..five
    };
    assert!(
        ev.observe_news2(&1, &news2(&stale), t(20), &limits)
            .is_empty()
    );
    assert_eq!(ev.open_alarms(&1), [AlarmKind::News2Medium]);
}

#[test]
fn a_restored_alarm_clears_when_the_value_is_normal_again() {
    let mut ev = AlarmEvaluator::new();
    ev.restore(&1, AlarmKind::LowSpo2);
    let limits = Thresholds::default();
    assert!(ev.observe(&1, &spo2(91.0, 0), &limits).is_empty());
    assert_eq!(
        ev.observe(&1, &spo2(92.0, 5), &limits),
        [clear(AlarmKind::LowSpo2, 5)]
    );
}

fn spo2(value: f64, secs: i64) -> Sample {
    Sample::new(VitalKind::Spo2, SampleValue::Number(value), t(secs)).unwrap()
}
