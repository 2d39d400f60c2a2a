//! Every way `Schedule::new` refuses a schedule, and what it accepts at the limits.

use super::*;

fn attempt(
    rules: Vec<WeeklyRule>,
    breaks: Vec<Break>,
    exceptions: Vec<Exception>,
    policy: BookingPolicy,
) -> Result<Schedule, ScheduleError> {
    Schedule::new(DEFAULT_TZ, rules, breaks, exceptions, true, policy)
}

fn good_rule() -> WeeklyRule {
    rule(Weekday::Mon, "09:00", "12:00", 30)
}

#[test]
fn every_schedule_error_has_a_stable_code_and_points_at_its_field() {
    let ok = BookingPolicy::default();
    let with_seconds = WeeklyRule {
        start: NaiveTime::from_hms_opt(9, 0, 30).unwrap(),
        ..good_rule()
    };
    let cases: Vec<(&str, Result<Schedule, ScheduleError>, &str, &str)> = vec![
        (
            "seconds in a time",
            attempt(vec![good_rule(), with_seconds], vec![], vec![], ok),
            "not_whole_minute",
            "rules[1].start",
        ),
        (
            "end before start",
            attempt(
                vec![rule(Weekday::Mon, "12:00", "09:00", 30)],
                vec![],
                vec![],
                ok,
            ),
            "end_before_start",
            "rules[0].end",
        ),
        (
            "end equal to start",
            attempt(
                vec![rule(Weekday::Mon, "09:00", "09:00", 30)],
                vec![],
                vec![],
                ok,
            ),
            "end_before_start",
            "rules[0].end",
        ),
        (
            "4-minute slots",
            attempt(
                vec![rule(Weekday::Mon, "09:00", "12:00", 4)],
                vec![],
                vec![],
                ok,
            ),
            "slot_too_short",
            "rules[0].slot_minutes",
        ),
        (
            "241-minute slots",
            attempt(
                vec![rule(Weekday::Mon, "09:00", "18:00", 241)],
                vec![],
                vec![],
                ok,
            ),
            "slot_too_long",
            "rules[0].slot_minutes",
        ),
        (
            "a window shorter than one slot",
            attempt(
                vec![rule(Weekday::Mon, "09:00", "09:20", 30)],
                vec![],
                vec![],
                ok,
            ),
            "window_shorter_than_slot",
            "rules[0].end",
        ),
        (
            "capacity 0",
            attempt(
                vec![WeeklyRule {
                    capacity: 0,
                    ..good_rule()
                }],
                vec![],
                vec![],
                ok,
            ),
            "capacity_out_of_range",
            "rules[0].capacity",
        ),
        (
            "capacity 101",
            attempt(
                vec![WeeklyRule {
                    capacity: 101,
                    ..good_rule()
                }],
                vec![],
                vec![],
                ok,
            ),
            "capacity_out_of_range",
            "rules[0].capacity",
        ),
        (
            "overlapping rules on one weekday",
            attempt(
                vec![
                    good_rule(),
                    rule(Weekday::Tue, "11:00", "13:00", 30),
                    rule(Weekday::Mon, "11:30", "13:00", 30),
                ],
                vec![],
                vec![],
                ok,
            ),
            "overlapping_rules",
            "rules[2]",
        ),
        (
            "a break ending before it starts",
            attempt(
                vec![good_rule()],
                vec![brk(None, "13:00", "12:00")],
                vec![],
                ok,
            ),
            "end_before_start",
            "breaks[0].end",
        ),
        (
            "an exception with only a start",
            attempt(
                vec![good_rule()],
                vec![],
                vec![Exception {
                    end: None,
                    ..closed(MONDAY, Some(("09:00", "10:00")))
                }],
                ok,
            ),
            "window_incomplete",
            "exceptions[0].end",
        ),
        (
            "an exception with only an end",
            attempt(
                vec![good_rule()],
                vec![],
                vec![
                    closed(TUESDAY, None),
                    Exception {
                        start: None,
                        ..closed(MONDAY, Some(("09:00", "10:00")))
                    },
                ],
                ok,
            ),
            "window_incomplete",
            "exceptions[1].start",
        ),
        (
            "an exception window ending before it starts",
            attempt(
                vec![],
                vec![],
                vec![closed(MONDAY, Some(("10:00", "09:00")))],
                ok,
            ),
            "end_before_start",
            "exceptions[0].end",
        ),
        (
            "an extra session all day",
            attempt(
                vec![],
                vec![],
                vec![Exception {
                    start: None,
                    end: None,
                    ..extra(MONDAY, "09:00", "10:00", 30, 1)
                }],
                ok,
            ),
            "extra_without_window",
            "exceptions[0]",
        ),
        (
            "an extra session with 2-minute slots",
            attempt(
                vec![],
                vec![],
                vec![extra(MONDAY, "09:00", "10:00", 2, 1)],
                ok,
            ),
            "slot_too_short",
            "exceptions[0].slot_minutes",
        ),
        (
            "an extra session with no room",
            attempt(
                vec![],
                vec![],
                vec![extra(MONDAY, "09:00", "10:00", 30, 0)],
                ok,
            ),
            "capacity_out_of_range",
            "exceptions[0].capacity",
        ),
        (
            "an extra session during leave",
            attempt(
                vec![],
                vec![],
                vec![
                    closed(TUESDAY, None),
                    closed(MONDAY, None),
                    extra(TUESDAY, "14:00", "15:00", 30, 1),
                ],
                ok,
            ),
            "overlapping_exceptions",
            "exceptions[2]",
        ),
        (
            "two overlapping extra sessions",
            attempt(
                vec![],
                vec![],
                vec![
                    extra(MONDAY, "14:00", "15:00", 30, 1),
                    extra(MONDAY, "14:30", "16:00", 30, 1),
                ],
                ok,
            ),
            "overlapping_exceptions",
            "exceptions[1]",
        ),
        (
            "a zero-day horizon",
            attempt(vec![good_rule()], vec![], vec![], policy(0, 0, 60)),
            "horizon_out_of_range",
            "policy.horizon_days",
        ),
        (
            "a 366-day horizon",
            attempt(vec![good_rule()], vec![], vec![], policy(366, 0, 60)),
            "horizon_out_of_range",
            "policy.horizon_days",
        ),
        (
            "a booking cut-off over 30 days",
            attempt(vec![good_rule()], vec![], vec![], policy(14, 43_201, 60)),
            "cutoff_out_of_range",
            "policy.book_cutoff_minutes",
        ),
        (
            "a cancel cut-off over 30 days",
            attempt(vec![good_rule()], vec![], vec![], policy(14, 0, 43_201)),
            "cutoff_out_of_range",
            "policy.cancel_cutoff_minutes",
        ),
        (
            "51 rules",
            attempt(vec![good_rule(); 51], vec![], vec![], ok),
            "too_many_rules",
            "rules",
        ),
        (
            "51 breaks",
            attempt(vec![], vec![brk(None, "12:00", "13:00"); 51], vec![], ok),
            "too_many_breaks",
            "breaks",
        ),
        (
            "1001 exceptions",
            attempt(vec![], vec![], vec![closed(MONDAY, None); 1001], ok),
            "too_many_exceptions",
            "exceptions",
        ),
    ];
    for (why, result, code, field) in cases {
        let err = result.expect_err(why);
        assert_eq!((err.code(), err.field()), (code, field), "{why}: {err}");
        assert!(err.to_string().len() > 10, "{why} has a message");
    }
}

#[test]
fn schedules_at_the_limits_are_accepted() {
    let ok = BookingPolicy::default();
    let accepted = [
        attempt(
            vec![rule(Weekday::Mon, "09:00", "09:05", 5)],
            vec![],
            vec![],
            ok,
        ),
        attempt(
            vec![rule(Weekday::Mon, "00:00", "23:59", 240)],
            vec![],
            vec![],
            ok,
        ),
        attempt(
            vec![WeeklyRule {
                capacity: 100,
                ..good_rule()
            }],
            vec![],
            vec![],
            ok,
        ),
        attempt(
            vec![good_rule(), rule(Weekday::Mon, "12:00", "13:00", 30)],
            vec![],
            vec![],
            ok,
        ),
        attempt(
            vec![],
            vec![],
            vec![
                closed(MONDAY, None),
                closed(MONDAY, Some(("09:00", "10:00"))),
                extra(TUESDAY, "09:00", "10:00", 30, 1),
                extra(TUESDAY, "10:00", "11:00", 30, 1),
            ],
            ok,
        ),
        attempt(
            vec![good_rule()],
            vec![],
            vec![],
            policy(365, 43_200, 43_200),
        ),
        attempt(vec![good_rule()], vec![], vec![], policy(1, 0, 0)),
        attempt(vec![], vec![], vec![closed(MONDAY, None); 1000], ok),
    ];
    for (i, result) in accepted.into_iter().enumerate() {
        assert!(result.is_ok(), "case {i}: {:?}", result.err());
    }
}

#[test]
fn a_schedule_keeps_its_inputs_in_the_order_given() {
    let rules = vec![
        rule(Weekday::Wed, "14:00", "15:00", 30),
        rule(Weekday::Mon, "09:00", "10:00", 30),
    ];
    let breaks = vec![brk(None, "12:00", "13:00")];
    let exceptions = vec![closed(TUESDAY, None), closed(MONDAY, None)];
    let s = Schedule::new(
        chrono_tz::Europe::Berlin,
        rules.clone(),
        breaks.clone(),
        exceptions.clone(),
        false,
        policy(7, 15, 30),
    )
    .unwrap();
    assert_eq!(s.tz(), chrono_tz::Europe::Berlin);
    assert_eq!(s.rules(), rules);
    assert_eq!(s.breaks(), breaks);
    assert_eq!(s.exceptions(), exceptions);
    assert!(!s.closed_on_holidays());
    assert_eq!(*s.policy(), policy(7, 15, 30));
}
