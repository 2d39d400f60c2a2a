//! Laying out slots: weekly rules, breaks, closures, extra sessions, holidays.

use super::*;

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
