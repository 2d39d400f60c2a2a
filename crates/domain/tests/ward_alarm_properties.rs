//! Properties of the alarm evaluator for any stream of readings: raises and clears
//! alternate, severity only rises by replacing, and nothing is raised before its onset delay.

use chrono::{DateTime, TimeDelta, Utc};
use docde_domain::ward::alarm::{AlarmEvaluator, AlarmKind, Decision, Thresholds};
use docde_domain::ward::{IvLevel, Sample, SampleValue, VitalKind};
use proptest::prelude::*;

fn t(secs: i64) -> DateTime<Utc> {
    "2026-03-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap() + TimeDelta::seconds(secs)
}

fn temp(value: f64, secs: i64) -> Sample {
    Sample::new(
        VitalKind::BodyTemperature,
        SampleValue::Number(value),
        t(secs),
    )
    .unwrap()
}

fn iv(percent: f64, secs: i64) -> Sample {
    Sample::new(
        VitalKind::IvBag,
        SampleValue::IvBag(IvLevel::Percent(percent)),
        t(secs),
    )
    .unwrap()
}

proptest! {
    #[test]
    fn raises_and_clears_alternate_and_match_what_the_evaluator_reports_open(
        steps in prop::collection::vec((30.0f64..42.0, 1i64..20), 1..80)
    ) {
        let mut ev = AlarmEvaluator::new();
        let limits = Thresholds::default();
        let mut open: Option<AlarmKind> = None;
        let mut secs = 0;
        for (value, gap) in steps {
            secs += gap;
            for decision in ev.observe(&1, &temp(value, secs), &limits) {
                match decision {
                    Decision::Raise { kind, replaces, .. } => {
                        prop_assert_eq!(open, replaces, "raised {:?} over {:?}", kind, open);
                        open = Some(kind);
                    }
                    Decision::Clear { kind, .. } => {
                        prop_assert_eq!(open, Some(kind));
                        open = None;
                    }
                }
            }
            prop_assert_eq!(ev.open_alarms(&1), open.into_iter().collect::<Vec<_>>());
        }
    }

    #[test]
    fn an_iv_bag_never_has_two_alarms_open_and_only_rises_by_replacing(
        steps in prop::collection::vec((prop::sample::select(vec![0.0, 5.0, 15.0, 20.0, 22.0, 30.0, 100.0]), 1i64..40), 1..60)
    ) {
        let mut ev = AlarmEvaluator::new();
        let limits = Thresholds::default();
        let mut open: Option<AlarmKind> = None;
        let mut secs = 0;
        for (value, gap) in steps {
            secs += gap;
            for decision in ev.observe(&1, &iv(value, secs), &limits) {
                match decision {
                    Decision::Raise { kind, replaces, .. } => {
                        prop_assert_eq!(open, replaces);
                        if let Some(lower) = replaces {
                            prop_assert!(kind.priority() > lower.priority());
                        }
                        open = Some(kind);
                    }
                    Decision::Clear { kind, .. } => {
                        prop_assert_eq!(open, Some(kind));
                        prop_assert!(value >= limits.iv_bag_low_pct + limits.iv_bag_margin_pct);
                        open = None;
                    }
                }
            }
            prop_assert_eq!(ev.open_alarms(&1), open.into_iter().collect::<Vec<_>>());
        }
    }

    #[test]
    fn no_fever_is_raised_before_it_has_lasted_the_onset_delay(
        steps in prop::collection::vec((37.0f64..39.5, 1i64..8), 1..80),
        delay in 0u32..40,
    ) {
        let limits = Thresholds { physiological_delay_secs: delay, ..Thresholds::default() };
        let mut ev = AlarmEvaluator::new();
        let mut feverish_since: Option<i64> = None;
        let mut secs = 0;
        for (value, gap) in steps {
            secs += gap;
            feverish_since = if value >= limits.fever_c { feverish_since.or(Some(secs)) } else { None };
            for decision in ev.observe(&1, &temp(value, secs), &limits) {
                if let Decision::Raise { .. } = decision {
                    let since = feverish_since.expect("raised while not feverish");
                    prop_assert!(secs - since >= i64::from(delay));
                }
            }
        }
    }
}
