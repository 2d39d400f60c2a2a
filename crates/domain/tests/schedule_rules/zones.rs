//! Daylight-saving edges, and Seoul's wall times all year.

use super::*;

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
