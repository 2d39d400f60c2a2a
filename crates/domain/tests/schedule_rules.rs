//! Table-driven examples of the schedule rules: breaks, exceptions, holidays, cut-offs, the
//! horizon at local midnight, daylight-saving edges, and every way `Schedule::new` refuses.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use docde_domain::directory::HolidayCalendar;
use docde_domain::schedule::{
    BookingPolicy, Break, DEFAULT_TZ, Exception, ExceptionKind, Schedule, ScheduleError, Slot,
    WeeklyRule, WindowError,
};

fn t(hhmm: &str) -> NaiveTime {
    NaiveTime::parse_from_str(hhmm, "%H:%M").unwrap()
}

fn d(ymd: &str) -> NaiveDate {
    NaiveDate::parse_from_str(ymd, "%Y-%m-%d").unwrap()
}

fn utc(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc()
}

fn rule(weekday: Weekday, start: &str, end: &str, slot_minutes: u16) -> WeeklyRule {
    WeeklyRule {
        weekday,
        start: t(start),
        end: t(end),
        slot_minutes,
        capacity: 1,
    }
}

fn brk(weekday: Option<Weekday>, start: &str, end: &str) -> Break {
    Break {
        weekday,
        start: t(start),
        end: t(end),
    }
}

fn closed(date: &str, window: Option<(&str, &str)>) -> Exception {
    Exception {
        date: d(date),
        start: window.map(|w| t(w.0)),
        end: window.map(|w| t(w.1)),
        kind: ExceptionKind::Closed,
    }
}

fn extra(date: &str, start: &str, end: &str, slot_minutes: u16, capacity: u16) -> Exception {
    Exception {
        date: d(date),
        start: Some(t(start)),
        end: Some(t(end)),
        kind: ExceptionKind::Extra {
            slot_minutes,
            capacity,
        },
    }
}

fn seoul(rules: Vec<WeeklyRule>, breaks: Vec<Break>, exceptions: Vec<Exception>) -> Schedule {
    Schedule::new(
        DEFAULT_TZ,
        rules,
        breaks,
        exceptions,
        true,
        BookingPolicy::default(),
    )
    .unwrap()
}

/// Local start times ("HH:MM") of the slots on `date`.
fn starts(schedule: &Schedule, date: &str, holidays: &HolidayCalendar) -> Vec<String> {
    schedule
        .slots(d(date), d(date), holidays)
        .iter()
        .map(|s| {
            s.start
                .with_timezone(&schedule.tz())
                .format("%H:%M")
                .to_string()
        })
        .collect()
}

fn no_holidays() -> HolidayCalendar {
    HolidayCalendar::empty()
}

// 2026-11-23 is a Monday, 2026-11-24 a Tuesday, 2026-11-29 a Sunday.
const MONDAY: &str = "2026-11-23";
const TUESDAY: &str = "2026-11-24";
const SUNDAY: &str = "2026-11-29";

#[test]
fn the_defaults_are_seoul_and_a_fourteen_day_horizon() {
    assert_eq!(DEFAULT_TZ, chrono_tz::Asia::Seoul);
    let policy = BookingPolicy::default();
    assert_eq!(
        (
            policy.horizon_days,
            policy.book_cutoff_minutes,
            policy.cancel_cutoff_minutes
        ),
        (14, 0, 60)
    );
}

#[test]
fn a_weekly_rule_lays_back_to_back_slots_and_drops_one_that_would_overrun_its_end() {
    let s = seoul(
        vec![rule(Weekday::Mon, "09:00", "10:40", 30)],
        vec![],
        vec![],
    );
    assert_eq!(
        starts(&s, MONDAY, &no_holidays()),
        ["09:00", "09:30", "10:00"]
    );
    assert!(
        starts(&s, TUESDAY, &no_holidays()).is_empty(),
        "other weekdays are closed"
    );
    let slot = s.slots(d(MONDAY), d(MONDAY), &no_holidays())[0];
    assert_eq!(
        slot,
        Slot {
            start: utc("2026-11-23T00:00:00Z"),
            end: utc("2026-11-23T00:30:00Z"),
            capacity: 1
        },
        "09:00 in Seoul is 00:00 UTC"
    );
}

#[test]
fn slots_touching_a_break_are_dropped_not_shortened() {
    let cases: &[(&str, Break, &[&str])] = &[
        (
            "a break inside a slot removes just that slot",
            brk(Some(Weekday::Mon), "10:10", "10:20"),
            &["09:00", "09:30", "10:30", "11:00", "11:30"],
        ),
        (
            "a slot ending as the break starts, and one starting as it ends, stay",
            brk(Some(Weekday::Mon), "10:00", "11:00"),
            &["09:00", "09:30", "11:00", "11:30"],
        ),
        (
            "a break across two slots removes both",
            brk(None, "09:45", "10:15"),
            &["09:00", "10:30", "11:00", "11:30"],
        ),
        (
            "a break on another weekday changes nothing",
            brk(Some(Weekday::Tue), "09:00", "12:00"),
            &["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"],
        ),
        (
            "a break outside the session changes nothing",
            brk(None, "12:00", "13:00"),
            &["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"],
        ),
    ];
    for (why, b, expected) in cases {
        let s = seoul(
            vec![rule(Weekday::Mon, "09:00", "12:00", 30)],
            vec![*b],
            vec![],
        );
        assert_eq!(starts(&s, MONDAY, &no_holidays()), *expected, "{why}");
    }
}

#[test]
fn closed_exceptions_remove_overlapping_slots_on_their_date_only() {
    let cases: &[(&str, Exception, &[&str])] = &[
        ("leave all day", closed(MONDAY, None), &[]),
        (
            "leave for a window",
            closed(MONDAY, Some(("09:40", "10:30"))),
            &["09:00", "10:30", "11:00", "11:30"],
        ),
        (
            "a window that only touches slots",
            closed(MONDAY, Some(("10:00", "10:30"))),
            &["09:00", "09:30", "10:30", "11:00", "11:30"],
        ),
        (
            "leave on another date",
            closed(TUESDAY, None),
            &["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"],
        ),
    ];
    for (why, e, expected) in cases {
        let s = seoul(
            vec![rule(Weekday::Mon, "09:00", "12:00", 30)],
            vec![],
            vec![*e],
        );
        assert_eq!(starts(&s, MONDAY, &no_holidays()), *expected, "{why}");
    }
    let s = seoul(
        vec![rule(Weekday::Mon, "09:00", "12:00", 30)],
        vec![],
        vec![closed(MONDAY, None)],
    );
    assert_eq!(
        starts(&s, "2026-11-30", &no_holidays()).len(),
        6,
        "next Monday is normal"
    );
}

#[test]
fn an_extra_session_adds_slots_even_on_a_closed_weekday() {
    let s = seoul(
        vec![rule(Weekday::Mon, "09:00", "12:00", 30)],
        vec![],
        vec![extra(SUNDAY, "10:00", "11:00", 20, 3)],
    );
    let slots = s.slots(d(SUNDAY), d(SUNDAY), &no_holidays());
    assert_eq!(
        starts(&s, SUNDAY, &no_holidays()),
        ["10:00", "10:20", "10:40"]
    );
    assert!(slots.iter().all(|s| s.capacity == 3 && s.minutes() == 20));
}

#[test]
fn extra_slots_overlapping_weekly_slots_are_dropped_and_the_weekly_slot_kept() {
    // Weekly 09:00–10:00 in 30s; extra 09:45–11:00 in 15s. Extra 09:45 overlaps the weekly
    // 09:30 slot, so it goes; 10:00 onward is free.
    let s = seoul(
        vec![rule(Weekday::Mon, "09:00", "10:00", 30)],
        vec![],
        vec![extra(MONDAY, "09:45", "11:00", 15, 2)],
    );
    let slots = s.slots(d(MONDAY), d(MONDAY), &no_holidays());
    assert_eq!(
        starts(&s, MONDAY, &no_holidays()),
        ["09:00", "09:30", "10:00", "10:15", "10:30", "10:45"]
    );
    assert_eq!(
        slots.iter().map(|s| s.capacity).collect::<Vec<_>>(),
        [1, 1, 2, 2, 2, 2]
    );
}

#[test]
fn extra_sessions_respect_breaks() {
    let s = seoul(
        vec![],
        vec![brk(None, "12:00", "13:00")],
        vec![extra(SUNDAY, "11:00", "14:00", 30, 1)],
    );
    assert_eq!(
        starts(&s, SUNDAY, &no_holidays()),
        ["11:00", "11:30", "13:00", "13:30"]
    );
}

#[test]
fn public_holidays_close_weekly_sessions_but_not_extra_sessions() {
    // 2026-10-09 (Friday) is 한글날.
    let holiday = "2026-10-09";
    let korea = HolidayCalendar::korea();
    let rules = vec![rule(Weekday::Fri, "09:00", "10:00", 30)];
    let closes = seoul(
        rules.clone(),
        vec![],
        vec![extra(holiday, "14:00", "15:00", 30, 1)],
    );
    assert_eq!(starts(&closes, holiday, &korea), ["14:00", "14:30"]);
    assert_eq!(
        starts(&closes, holiday, &no_holidays()),
        ["09:00", "09:30", "14:00", "14:30"],
        "without the calendar it is an ordinary Friday"
    );
    let works = Schedule::new(
        DEFAULT_TZ,
        rules,
        vec![],
        vec![],
        false,
        BookingPolicy::default(),
    )
    .unwrap();
    assert_eq!(starts(&works, holiday, &korea), ["09:00", "09:30"]);
}

#[test]
fn slot_at_finds_only_exact_slot_starts() {
    let s = seoul(
        vec![rule(Weekday::Mon, "09:00", "10:00", 30)],
        vec![],
        vec![],
    );
    let cal = no_holidays();
    let cases = [
        ("2026-11-23T00:00:00Z", true),
        ("2026-11-23T00:30:00Z", true),
        ("2026-11-23T00:15:00Z", false),
        ("2026-11-23T00:00:01Z", false),
        ("2026-11-23T01:00:00Z", false),
        ("2026-11-24T00:00:00Z", false),
        ("2026-11-23T09:00:00+09:00", true),
    ];
    for (at, found) in cases {
        assert_eq!(s.slot_at(utc(at), &cal).is_some(), found, "{at}");
    }
}

fn policy(
    horizon_days: u16,
    book_cutoff_minutes: u32,
    cancel_cutoff_minutes: u32,
) -> BookingPolicy {
    BookingPolicy {
        horizon_days,
        book_cutoff_minutes,
        cancel_cutoff_minutes,
    }
}

fn with_policy(p: BookingPolicy) -> Schedule {
    Schedule::new(
        DEFAULT_TZ,
        vec![rule(Weekday::Mon, "09:00", "12:00", 30)],
        vec![],
        vec![],
        true,
        p,
    )
    .unwrap()
}

#[test]
fn booking_closes_at_the_cutoff_and_never_opens_for_a_started_slot() {
    // The slot starts 10:00 KST = 01:00Z.
    let slot = Slot {
        start: utc("2026-11-23T01:00:00Z"),
        end: utc("2026-11-23T01:30:00Z"),
        capacity: 1,
    };
    let cases: &[(u32, &str, Result<(), WindowError>)] = &[
        (0, "2026-11-23T00:59:59Z", Ok(())),
        (0, "2026-11-23T01:00:00Z", Err(WindowError::Past)),
        (0, "2026-11-23T01:10:00Z", Err(WindowError::Past)),
        (30, "2026-11-23T00:29:59Z", Ok(())),
        (30, "2026-11-23T00:30:00Z", Err(WindowError::Cutoff)),
        (30, "2026-11-23T00:59:00Z", Err(WindowError::Cutoff)),
        (30, "2026-11-23T01:00:00Z", Err(WindowError::Past)),
        (1440, "2026-11-22T00:59:59Z", Ok(())),
        (1440, "2026-11-22T01:00:00Z", Err(WindowError::Cutoff)),
    ];
    for &(cutoff, now, expected) in cases {
        let s = with_policy(policy(14, cutoff, 60));
        assert_eq!(
            s.check_bookable(&slot, utc(now)),
            expected,
            "cut-off {cutoff}, now {now}"
        );
    }
}

#[test]
fn patients_may_cancel_until_the_cutoff_inclusive_and_never_after_the_start() {
    let start = utc("2026-11-23T01:00:00Z");
    let cases: &[(u32, &str, Result<(), WindowError>)] = &[
        (60, "2026-11-22T01:00:00Z", Ok(())),
        (60, "2026-11-23T00:00:00Z", Ok(())),
        (60, "2026-11-23T00:00:01Z", Err(WindowError::CancelCutoff)),
        (60, "2026-11-23T00:59:59Z", Err(WindowError::CancelCutoff)),
        (60, "2026-11-23T01:00:00Z", Err(WindowError::AlreadyStarted)),
        (60, "2026-11-23T02:00:00Z", Err(WindowError::AlreadyStarted)),
        (0, "2026-11-23T00:59:59Z", Ok(())),
        (0, "2026-11-23T01:00:00Z", Err(WindowError::AlreadyStarted)),
    ];
    for &(cutoff, now, expected) in cases {
        let s = with_policy(policy(14, 0, cutoff));
        assert_eq!(
            s.check_patient_cancel(start, utc(now)),
            expected,
            "cut-off {cutoff}, now {now}"
        );
    }
}

#[test]
fn window_errors_have_stable_codes() {
    let codes = [
        (WindowError::Past, "slot_in_past"),
        (WindowError::Cutoff, "booking_closed"),
        (WindowError::BeyondHorizon, "beyond_horizon"),
        (WindowError::CancelCutoff, "cancel_cutoff"),
        (WindowError::AlreadyStarted, "already_started"),
    ];
    for (err, code) in codes {
        assert_eq!(err.code(), code);
        assert!(!err.to_string().is_empty());
    }
}

#[test]
fn the_horizon_turns_over_at_local_midnight_in_seoul_not_at_utc_midnight() {
    let s = with_policy(BookingPolicy::default());
    // 14:59:59Z is 23:59:59 KST on Monday the 23rd; 15:00Z is already Tuesday in Seoul.
    let before = utc("2026-11-23T14:59:59Z");
    let after = utc("2026-11-23T15:00:00Z");
    assert_eq!(s.horizon(before), (d("2026-11-23"), d("2026-12-06")));
    assert_eq!(s.horizon(after), (d("2026-11-24"), d("2026-12-07")));

    // Monday 2026-12-07 09:00 KST: the first slot on the new last day.
    let slot = s
        .slot_at(utc("2026-12-07T00:00:00Z"), &no_holidays())
        .unwrap();
    assert_eq!(
        s.check_bookable(&slot, before),
        Err(WindowError::BeyondHorizon)
    );
    assert_eq!(s.check_bookable(&slot, after), Ok(()));
}

#[test]
fn a_one_day_horizon_means_today_only() {
    let s = with_policy(policy(1, 0, 60));
    let now = utc("2026-11-22T23:00:00Z"); // Monday 08:00 KST
    assert_eq!(s.horizon(now), (d(MONDAY), d(MONDAY)));
    let today = s
        .slot_at(utc("2026-11-23T00:00:00Z"), &no_holidays())
        .unwrap();
    assert_eq!(s.check_bookable(&today, now), Ok(()));
    let next_week = s
        .slot_at(utc("2026-11-30T00:00:00Z"), &no_holidays())
        .unwrap();
    assert_eq!(
        s.check_bookable(&next_week, now),
        Err(WindowError::BeyondHorizon)
    );
}

fn in_zone(tz: Tz, rules: Vec<WeeklyRule>) -> Schedule {
    Schedule::new(tz, rules, vec![], vec![], false, BookingPolicy::default()).unwrap()
}

fn utc_starts(s: &Schedule, date: &str) -> Vec<String> {
    s.slots(d(date), d(date), &no_holidays())
        .iter()
        .map(|slot| {
            assert_eq!(
                slot.end - slot.start,
                chrono::TimeDelta::minutes(slot_len(s)),
                "every slot lasts its length in real time"
            );
            slot.start.format("%H:%M").to_string()
        })
        .collect()
}

fn slot_len(s: &Schedule) -> i64 {
    i64::from(s.rules()[0].slot_minutes)
}

#[test]
fn when_new_york_springs_forward_missing_starts_are_skipped() {
    // 2026-03-08 (Sunday): 02:00 EST jumps to 03:00 EDT.
    let s = in_zone(
        chrono_tz::America::New_York,
        vec![rule(Weekday::Sun, "00:00", "05:00", 30)],
    );
    assert_eq!(
        starts(&s, "2026-03-08", &no_holidays()),
        [
            "00:00", "00:30", "01:00", "01:30", "03:00", "03:30", "04:00", "04:30"
        ]
    );
    // 01:30 EST (06:30Z) ends exactly when the clocks jump (07:00Z = 03:00 EDT): kept.
    assert_eq!(
        utc_starts(&s, "2026-03-08"),
        [
            "05:00", "05:30", "06:00", "06:30", "07:00", "07:30", "08:00", "08:30"
        ]
    );
}

#[test]
fn a_slot_during_which_the_clocks_spring_forward_is_dropped() {
    // 60-minute slots from 00:30: 01:30 EST would run 06:30Z–07:30Z, i.e. until 03:30 EDT on
    // the wall, into the 03:30 slot. 02:30 does not exist. 04:30 would overrun 05:00.
    let s = in_zone(
        chrono_tz::America::New_York,
        vec![rule(Weekday::Sun, "00:30", "05:00", 60)],
    );
    assert_eq!(starts(&s, "2026-03-08", &no_holidays()), ["00:30", "03:30"]);
    assert_eq!(utc_starts(&s, "2026-03-08"), ["05:30", "07:30"]);
}

#[test]
fn when_new_york_falls_back_ambiguous_starts_take_the_earlier_instant() {
    // 2026-11-01 (Sunday): 02:00 EDT falls back to 01:00 EST, so 01:00–02:00 happens twice.
    let s = in_zone(
        chrono_tz::America::New_York,
        vec![rule(Weekday::Sun, "00:00", "03:00", 30)],
    );
    assert_eq!(
        utc_starts(&s, "2026-11-01"),
        ["04:00", "04:30", "05:00", "05:30", "07:00", "07:30"],
        "01:00 and 01:30 are the EDT ones; the repeated hour 06:00Z–07:00Z has no slots"
    );
    let cal = no_holidays();
    assert!(
        s.slot_at(utc("2026-11-01T05:00:00Z"), &cal).is_some(),
        "01:00 EDT"
    );
    assert!(
        s.slot_at(utc("2026-11-01T06:00:00Z"), &cal).is_none(),
        "01:00 EST"
    );
}

#[test]
fn berlin_skips_the_spring_gap_and_keeps_the_earlier_autumn_hour() {
    // 2026-03-29: 02:00 CET → 03:00 CEST. 2026-10-25: 03:00 CEST → 02:00 CET.
    let s = in_zone(
        chrono_tz::Europe::Berlin,
        vec![rule(Weekday::Sun, "01:00", "04:00", 60)],
    );
    assert_eq!(starts(&s, "2026-03-29", &no_holidays()), ["01:00", "03:00"]);
    assert_eq!(utc_starts(&s, "2026-03-29"), ["00:00", "01:00"]);
    assert_eq!(utc_starts(&s, "2026-10-25"), ["23:00", "00:00", "02:00"]);
    let autumn = s.slots(d("2026-10-25"), d("2026-10-25"), &no_holidays());
    assert_eq!(
        autumn
            .iter()
            .map(|slot| slot
                .start
                .with_timezone(&s.tz())
                .format("%H:%M %Z")
                .to_string())
            .collect::<Vec<_>>(),
        ["01:00 CEST", "02:00 CEST", "03:00 CET"]
    );
}

#[test]
fn seoul_slots_are_the_same_wall_times_every_day_of_the_year() {
    let s = seoul(
        vec![rule(Weekday::Sun, "01:00", "04:00", 60)],
        vec![],
        vec![],
    );
    for date in ["2026-03-08", "2026-03-29", "2026-10-25", "2026-11-01"] {
        assert_eq!(
            starts(&s, date, &no_holidays()),
            ["01:00", "02:00", "03:00"],
            "{date}"
        );
    }
}

// ---- every way a schedule is refused ----

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

#[test]
fn bookable_slots_are_the_horizon_minus_started_and_closed_slots() {
    let s = with_policy(policy(8, 30, 60));
    // Monday 2026-11-23 10:15 KST: 09:00–10:30 have started or close within 30 minutes.
    let now = utc("2026-11-23T01:15:00Z");
    let slots = s.bookable_slots(now, &no_holidays());
    let local: Vec<String> = slots
        .iter()
        .map(|slot| {
            slot.start
                .with_timezone(&s.tz())
                .format("%m-%d %H:%M")
                .to_string()
        })
        .collect();
    assert_eq!(
        local,
        [
            "11-23 11:00",
            "11-23 11:30",
            "11-30 09:00",
            "11-30 09:30",
            "11-30 10:00",
            "11-30 10:30",
            "11-30 11:00",
            "11-30 11:30",
        ]
    );
    assert!(slots.iter().all(|slot| s.check_bookable(slot, now).is_ok()));
}
