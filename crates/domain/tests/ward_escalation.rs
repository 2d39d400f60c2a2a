//! Escalation timing, the alarm lifecycle, and the medicine reset schedule, for any input.

use chrono::{DateTime, FixedOffset, NaiveTime, TimeDelta, Timelike, Utc};
use docde_domain::ward::alarm::{
    AlarmAction, AlarmStatus, EscalationLevel, EscalationPolicy, Priority, escalation_due,
    next_escalation_at, transition,
};
use docde_domain::ward::medication::ResetSchedule;
use proptest::prelude::*;

fn t(secs: i64) -> DateTime<Utc> {
    "2026-03-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap() + TimeDelta::seconds(secs)
}

fn due(priority: Priority, ack: Option<i64>, now: i64) -> Option<u8> {
    escalation_due(
        priority,
        t(0),
        ack.map(t),
        t(now),
        &EscalationPolicy::default(),
    )
    .map(EscalationLevel::get)
}

#[test]
fn an_unacknowledged_high_alarm_reaches_the_charge_nurse_after_a_minute_and_goes_further_after_three()
 {
    assert_eq!(due(Priority::High, None, 59), None);
    assert_eq!(due(Priority::High, None, 60), Some(1));
    assert_eq!(due(Priority::High, None, 179), Some(1));
    assert_eq!(due(Priority::High, None, 180), Some(2));
    assert_eq!(
        due(Priority::High, None, 86_400),
        Some(2),
        "no level beyond the last"
    );
}

#[test]
fn medium_alarms_wait_longer_and_low_ones_never_escalate() {
    assert_eq!(due(Priority::Medium, None, 299), None);
    assert_eq!(due(Priority::Medium, None, 300), Some(1));
    assert_eq!(due(Priority::Low, None, 86_400), None);
}

#[test]
fn acknowledging_stops_escalation_from_that_moment() {
    assert_eq!(due(Priority::High, Some(30), 200), None);
    assert_eq!(
        due(Priority::High, Some(300), 200),
        Some(2),
        "acknowledged later than now"
    );
    let policy = EscalationPolicy::default();
    assert_eq!(
        next_escalation_at(Priority::High, t(0), false, None, &policy),
        Some(t(60))
    );
    let first = Some(EscalationLevel::CHARGE_NURSE);
    assert_eq!(
        next_escalation_at(Priority::High, t(0), false, first, &policy),
        Some(t(180))
    );
    assert_eq!(
        next_escalation_at(
            Priority::High,
            t(0),
            false,
            Some(EscalationLevel(2)),
            &policy
        ),
        None
    );
    assert_eq!(
        next_escalation_at(Priority::High, t(0), true, None, &policy),
        None
    );
}

#[test]
fn a_policy_must_have_increasing_positive_delays() {
    assert_eq!(EscalationPolicy::default().check(), Ok(()));
    let bad = EscalationPolicy {
        high_secs: vec![60, 60],
        ..Default::default()
    };
    assert_eq!(bad.check().unwrap_err().code(), "escalation_not_increasing");
    let zero = EscalationPolicy {
        medium_secs: vec![0],
        ..Default::default()
    };
    assert!(zero.check().is_err());
}

fn any_action() -> impl Strategy<Value = AlarmAction<'static>> {
    prop_oneof![
        Just(AlarmAction::Acknowledge),
        Just(AlarmAction::ConditionCleared),
        Just(AlarmAction::Resolve { note: "" }),
        Just(AlarmAction::Resolve {
            note: "산소 투여 2L/min 시작"
        }),
    ]
}

fn seoul() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).unwrap()
}

fn any_schedule() -> impl Strategy<Value = ResetSchedule> {
    (
        prop::collection::vec((0u32..24, 0u32..60), 1..5),
        -12 * 3600..14 * 3600i32,
    )
        .prop_map(|(times, offset)| {
            let times = times
                .into_iter()
                .map(|(h, m)| NaiveTime::from_hms_opt(h, m, 0).unwrap());
            ResetSchedule::new(times, FixedOffset::east_opt(offset).unwrap()).unwrap()
        })
}

proptest! {
    #[test]
    fn escalation_only_goes_up_as_time_passes(a in 0i64..2000, b in 0i64..2000, high in any::<bool>()) {
        let priority = if high { Priority::High } else { Priority::Medium };
        let (early, late) = (a.min(b), a.max(b));
        prop_assert!(due(priority, None, early) <= due(priority, None, late));
        let reached = escalation_due(priority, t(0), None, t(late), &EscalationPolicy::default());
        if let Some(next) = next_escalation_at(priority, t(0), false, reached, &EscalationPolicy::default()) {
            prop_assert!(next > t(late), "the next level is always in the future");
        }
    }

    #[test]
    fn an_alarm_never_leaves_resolved_and_never_goes_back(actions in prop::collection::vec(any_action(), 0..12)) {
        let mut status = AlarmStatus::Active;
        for action in actions {
            match transition(status, action) {
                Ok(next) => {
                    prop_assert!(next > status, "{status} -> {next}");
                    status = next;
                }
                Err(problem) => {
                    let why = problem.code();
                    prop_assert!(status == AlarmStatus::Resolved || why == "note_required" || why == "already_acknowledged");
                }
            }
        }
    }

    #[test]
    fn the_next_reset_is_a_configured_local_time_within_a_day_and_none_is_skipped(
        schedule in any_schedule(),
        secs in 0i64..400 * 86_400,
    ) {
        let instant = t(secs);
        let next = schedule.next_reset_after(instant);
        prop_assert!(next > instant && next - instant <= TimeDelta::days(1));
        let local = next.with_timezone(&schedule.offset()).time();
        prop_assert!(schedule.times().contains(&local));
        prop_assert!(schedule.latest_reset_at_or_before(next - TimeDelta::seconds(1)) <= instant);
        prop_assert_eq!(schedule.latest_reset_at_or_before(next), next);
    }

    #[test]
    fn a_reset_is_due_exactly_when_a_reset_time_lies_after_the_last_reset(
        schedule in any_schedule(),
        last in 0i64..30 * 86_400,
        later in 0i64..3 * 86_400,
    ) {
        let (last, now) = (t(last), t(last + later));
        let due = schedule.is_reset_due(last, now);
        prop_assert_eq!(due, schedule.latest_reset_at_or_before(now) > last);
    }

    #[test]
    fn seoul_resets_fall_on_the_hour_given_in_local_time(secs in 0i64..30 * 86_400) {
        let times = [6, 12, 18].map(|h| NaiveTime::from_hms_opt(h, 0, 0).unwrap());
        let schedule = ResetSchedule::new(times, seoul()).unwrap();
        let next = schedule.next_reset_after(t(secs));
        prop_assert!([21, 3, 9].contains(&next.hour()), "06/12/18 KST are 21/03/09 UTC");
        prop_assert_eq!(next.minute(), 0);
    }
}
