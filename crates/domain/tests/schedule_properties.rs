//! Properties of slot generation and the booking window, over random schedules in time
//! zones with and without daylight saving, around the dates the clocks change.

use chrono::{
    DateTime, Datelike, Days, NaiveDate, NaiveTime, Offset, TimeDelta, TimeZone, Timelike, Utc,
    Weekday,
};
use chrono_tz::Tz;
use docde_domain::directory::HolidayCalendar;
use docde_domain::schedule::{
    BookingPolicy, Break, Exception, ExceptionKind, Schedule, Slot, WeeklyRule, WindowError,
};
use proptest::prelude::*;

/// Zones with daylight saving (including a 30-minute shift and one at midnight) and without.
const ZONES: &[Tz] = &[
    chrono_tz::Asia::Seoul,
    chrono_tz::America::New_York,
    chrono_tz::Europe::Berlin,
    chrono_tz::Australia::Lord_Howe,
    chrono_tz::America::Santiago,
    chrono_tz::UTC,
    chrono_tz::Asia::Kolkata,
    chrono_tz::Asia::Kathmandu,
];

/// Zones whose offset did not change in 2026: the same wall times are a fixed shift apart.
const FIXED_ZONES: &[Tz] = &[
    chrono_tz::Asia::Seoul,
    chrono_tz::UTC,
    chrono_tz::Asia::Kolkata,
    chrono_tz::Asia::Kathmandu,
    chrono_tz::Pacific::Kiritimati,
    chrono_tz::Etc::GMTPlus5,
];

/// A few days before clock changes in 2026 (US, EU, Lord Howe, Chile) and an ordinary week.
const BASES: &[(i32, u32, u32)] = &[
    (2026, 3, 5),
    (2026, 3, 26),
    (2026, 4, 2),
    (2026, 9, 3),
    (2026, 10, 1),
    (2026, 10, 22),
    (2026, 10, 29),
    (2026, 11, 23),
];

const WEEKDAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

const LAST_MINUTE: u16 = 23 * 60 + 59;

fn time(minute: u16) -> NaiveTime {
    NaiveTime::from_hms_opt(u32::from(minute / 60), u32::from(minute % 60), 0).unwrap()
}

fn minute(t: NaiveTime) -> u16 {
    (t.hour() * 60 + t.minute()) as u16
}

fn slot_len() -> impl Strategy<Value = u16> {
    prop_oneof![
        Just(5u16),
        Just(10),
        Just(15),
        Just(20),
        Just(30),
        Just(60),
        5u16..=240
    ]
}

/// `(start, end, slot_minutes)` of a window that holds at least one slot.
fn session() -> impl Strategy<Value = (u16, u16, u16)> {
    (0u16..LAST_MINUTE, slot_len(), 1u16..=12, 0u16..60).prop_filter_map(
        "fits in the day",
        |(start, len, count, slack)| {
            let end = start + len * count + slack % len;
            (end <= LAST_MINUTE).then_some((start, end, len))
        },
    )
}

/// `(start, end, slot_minutes)` of a window in the small hours, when clocks change.
fn night_session() -> impl Strategy<Value = (u16, u16, u16)> {
    (0u16..240, slot_len(), 1u16..=8, 0u16..60).prop_filter_map(
        "fits in the day",
        |(start, len, count, slack)| {
            let end = start + len.min(90) * count + slack % len.min(90);
            let len = len.min(90);
            (end <= LAST_MINUTE).then_some((start, end, len))
        },
    )
}

/// Half of the rules are Sunday nights: every 2026 clock change in `ZONES` is on a Sunday
/// between 00:00 and 03:00 local time.
fn rule() -> impl Strategy<Value = WeeklyRule> {
    let any_day = (0usize..7, session());
    let sunday_night = night_session().prop_map(|session| (6usize, session));
    (prop_oneof![any_day, sunday_night], 1u16..=4).prop_map(|((w, (start, end, len)), capacity)| {
        WeeklyRule {
            weekday: WEEKDAYS[w],
            start: time(start),
            end: time(end),
            slot_minutes: len,
            capacity,
        }
    })
}

fn brk() -> impl Strategy<Value = Break> {
    (
        proptest::option::of(0usize..7),
        0u16..LAST_MINUTE,
        1u16..120,
    )
        .prop_map(|(w, start, len)| Break {
            weekday: w.map(|w| WEEKDAYS[w]),
            start: time(start),
            end: time((start + len).min(LAST_MINUTE)),
        })
}

/// An exception `day` days after the base date.
fn exception() -> impl Strategy<Value = (u64, Exception)> {
    let closed = proptest::option::of((0u16..LAST_MINUTE, 1u16..300)).prop_map(|window| {
        let window = window.map(|(s, l)| (time(s), time((s + l).min(LAST_MINUTE))));
        Exception {
            date: NaiveDate::MIN,
            start: window.map(|w| w.0),
            end: window.map(|w| w.1),
            kind: ExceptionKind::Closed,
        }
    });
    let extra = (session(), 1u16..=4).prop_map(|((start, end, len), capacity)| Exception {
        date: NaiveDate::MIN,
        start: Some(time(start)),
        end: Some(time(end)),
        kind: ExceptionKind::Extra {
            slot_minutes: len,
            capacity,
        },
    });
    (0u64..12, prop_oneof![closed, extra])
}

#[derive(Debug, Clone)]
struct Case {
    schedule: Schedule,
    from: NaiveDate,
    to: NaiveDate,
    holidays: HolidayCalendar,
}

fn build(
    tz: Tz,
    base: NaiveDate,
    rules: Vec<WeeklyRule>,
    breaks: Vec<Break>,
    exceptions: Vec<(u64, Exception)>,
    closed_on_holidays: bool,
) -> Schedule {
    // Keep each input only if the schedule stays valid with it: the generators make ranges
    // right, this drops overlaps.
    let policy = BookingPolicy::default();
    let valid = |r: &[WeeklyRule], e: &[Exception]| {
        Schedule::new(tz, r.to_vec(), breaks.clone(), e.to_vec(), false, policy).is_ok()
    };
    let mut kept_rules = Vec::new();
    for r in rules {
        kept_rules.push(r);
        if !valid(&kept_rules, &[]) {
            kept_rules.pop();
        }
    }
    let mut kept = Vec::new();
    for (day, e) in exceptions {
        kept.push(Exception {
            date: base + Days::new(day),
            ..e
        });
        if !valid(&kept_rules, &kept) {
            kept.pop();
        }
    }
    Schedule::new(tz, kept_rules, breaks, kept, closed_on_holidays, policy).unwrap()
}

fn case_in(zones: &'static [Tz]) -> impl Strategy<Value = Case> {
    (
        proptest::sample::select(zones),
        proptest::sample::select(BASES),
        0u64..4,
        0u64..10,
        proptest::collection::vec(rule(), 0..8),
        proptest::collection::vec(brk(), 0..4),
        proptest::collection::vec(exception(), 0..6),
        any::<bool>(),
        any::<u16>(),
    )
        .prop_map(
            |(tz, (y, m, d), skip, days, rules, breaks, exceptions, closed_on_holidays, mask)| {
                let base = NaiveDate::from_ymd_opt(y, m, d).unwrap();
                let holidays = HolidayCalendar::empty().with(
                    (0..12)
                        .filter(|i| mask & (1 << i) != 0)
                        .map(|i| base + Days::new(i)),
                );
                Case {
                    schedule: build(tz, base, rules, breaks, exceptions, closed_on_holidays),
                    from: base + Days::new(skip),
                    to: base + Days::new(skip + days),
                    holidays,
                }
            },
        )
}

fn days(from: NaiveDate, to: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    from.iter_days().take_while(move |d| *d <= to)
}

/// Where a slot came from, according to the rules as the admin wrote them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Source {
    start: u16,
    end: u16,
    len: u16,
    capacity: u16,
    is_rule: bool,
}

fn sources(case: &Case, date: NaiveDate) -> Vec<Source> {
    let s = &case.schedule;
    let suspended = s.closed_on_holidays() && case.holidays.is_holiday(date);
    let rules = s
        .rules()
        .iter()
        .filter(|r| r.weekday == date.weekday() && !suspended)
        .map(|r| Source {
            start: minute(r.start),
            end: minute(r.end),
            len: r.slot_minutes,
            capacity: r.capacity,
            is_rule: true,
        });
    let extras = s
        .exceptions()
        .iter()
        .filter(|e| e.date == date)
        .filter_map(|e| match e.kind {
            ExceptionKind::Extra {
                slot_minutes,
                capacity,
            } => Some(Source {
                start: minute(e.start?),
                end: minute(e.end?),
                len: slot_minutes,
                capacity,
                is_rule: false,
            }),
            ExceptionKind::Closed => None,
        });
    rules.chain(extras).collect()
}

/// Break and closed windows on `date`, in wall minutes.
fn blocked(case: &Case, date: NaiveDate) -> Vec<(u16, u16)> {
    let s = &case.schedule;
    let breaks = s
        .breaks()
        .iter()
        .filter(|b| b.weekday.is_none_or(|w| w == date.weekday()))
        .map(|b| (minute(b.start), minute(b.end)));
    let closed = s
        .exceptions()
        .iter()
        .filter(|e| e.date == date && e.kind == ExceptionKind::Closed)
        .map(|e| (e.start.map_or(0, minute), e.end.map_or(24 * 60, minute)));
    breaks.chain(closed).collect()
}

fn overlaps(a: (u16, u16), b: (u16, u16)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

/// The instant a wall-clock slot start becomes, per the documented rules: nonexistent
/// starts and slots during which the clocks spring forward have none.
fn instant(tz: Tz, date: NaiveDate, start: u16, len: u16) -> Option<DateTime<Utc>> {
    let at = tz
        .from_local_datetime(&date.and_time(time(start)))
        .earliest()?
        .to_utc();
    let offset = |u: DateTime<Utc>| tz.offset_from_utc_datetime(&u.naive_utc()).fix();
    let last = at + TimeDelta::minutes(i64::from(len)) - TimeDelta::seconds(1);
    (offset(last).local_minus_utc() <= offset(at).local_minus_utc()).then_some(at)
}

fn shifted(slots: &[Slot], by: TimeDelta) -> Vec<Slot> {
    slots
        .iter()
        .map(|s| Slot {
            start: s.start + by,
            end: s.end + by,
            capacity: s.capacity,
        })
        .collect()
}

fn offset_of(tz: Tz, date: NaiveDate) -> TimeDelta {
    let noon = date.and_time(time(12 * 60)).and_utc();
    TimeDelta::seconds(i64::from(
        tz.offset_from_utc_datetime(&noon.naive_utc())
            .fix()
            .local_minus_utc(),
    ))
}

fn instant_in_2026() -> impl Strategy<Value = DateTime<Utc>> {
    let start = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .unwrap()
        .timestamp();
    (start..start + 366 * 86_400).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn slots_are_sorted_and_never_overlap(case in case_in(ZONES)) {
        let slots = case.schedule.slots(case.from, case.to, &case.holidays);
        for pair in slots.windows(2) {
            prop_assert!(pair[0].end <= pair[1].start, "{:?} then {:?}", pair[0], pair[1]);
        }
    }

    #[test]
    fn every_slot_lies_in_a_session_at_its_length_outside_breaks_and_closed_windows(
        case in case_in(ZONES)
    ) {
        let tz = case.schedule.tz();
        for slot in case.schedule.slots(case.from, case.to, &case.holidays) {
            let local = slot.start.with_timezone(&tz);
            let date = local.date_naive();
            let start = minute(local.time());
            prop_assert_eq!(local.second(), 0);
            prop_assert!(case.from <= date && date <= case.to);
            let len = u16::try_from(slot.minutes()).unwrap();
            let from_a_source = sources(&case, date).iter().any(|src| {
                src.len == len
                    && src.capacity == slot.capacity
                    && src.start <= start
                    && start + len <= src.end
                    && (start - src.start).is_multiple_of(len)
            });
            prop_assert!(from_a_source, "{slot:?} ({local}) has no session");
            for window in blocked(&case, date) {
                prop_assert!(!overlaps(window, (start, start + len)), "{slot:?} hits {window:?}");
            }
        }
    }

    #[test]
    fn every_slot_the_rules_allow_is_offered(case in case_in(ZONES)) {
        let tz = case.schedule.tz();
        for date in days(case.from, case.to) {
            let offered = case.schedule.slots(date, date, &case.holidays);
            let blocked = blocked(&case, date);
            let sources = sources(&case, date);
            let mut rule_slots: Vec<(u16, u16)> = Vec::new();
            // Rules first: an extra slot only yields to rule slots.
            let (rules, extras): (Vec<&Source>, Vec<&Source>) = sources.iter().partition(|s| s.is_rule);
            for src in rules.into_iter().chain(extras) {
                let mut start = src.start;
                while start + src.len <= src.end {
                    let wall = (start, start + src.len);
                    let free = !blocked.iter().any(|&b| overlaps(b, wall));
                    let yields = !src.is_rule && rule_slots.iter().any(|&r| overlaps(r, wall));
                    if free && !yields {
                        if src.is_rule {
                            rule_slots.push(wall);
                        }
                        if let Some(at) = instant(tz, date, start, src.len) {
                            let expected = Slot {
                                start: at,
                                end: at + TimeDelta::minutes(i64::from(src.len)),
                                capacity: src.capacity,
                            };
                            prop_assert!(offered.contains(&expected), "missing {expected:?}");
                        }
                    }
                    start += src.len;
                }
            }
        }
    }

    #[test]
    fn a_range_is_the_union_of_its_days(case in case_in(ZONES)) {
        let whole = case.schedule.slots(case.from, case.to, &case.holidays);
        let by_day: Vec<Slot> = days(case.from, case.to)
            .flat_map(|d| case.schedule.slots(d, d, &case.holidays))
            .collect();
        prop_assert_eq!(whole, by_day);
        prop_assert!(case.schedule.slots(case.to + Days::new(1), case.from, &case.holidays).is_empty());
    }

    #[test]
    fn slot_at_finds_each_slot_by_its_start_and_nothing_in_between(case in case_in(ZONES)) {
        let s = &case.schedule;
        let slots = s.slots(case.from, case.to, &case.holidays);
        for (i, slot) in slots.iter().enumerate() {
            prop_assert_eq!(s.slot_at(slot.start, &case.holidays), Some(*slot));
            for inside in [1, 2, i64::from(u16::try_from(slot.minutes()).unwrap()) - 1] {
                let at = slot.start + TimeDelta::minutes(inside);
                prop_assert_eq!(s.slot_at(at, &case.holidays), None, "{} into {:?}", inside, slot);
            }
            prop_assert_eq!(s.slot_at(slot.start + TimeDelta::seconds(30), &case.holidays), None);
            let next = slots.get(i + 1).filter(|n| n.start == slot.end).copied();
            if slot.end.with_timezone(&s.tz()).date_naive() <= case.to {
                prop_assert_eq!(s.slot_at(slot.end, &case.holidays), next);
            }
        }
    }

    #[test]
    fn the_same_wall_times_in_another_zone_are_the_same_slots_shifted(
        case in case_in(FIXED_ZONES),
        other in proptest::sample::select(FIXED_ZONES),
    ) {
        let s = &case.schedule;
        let moved = Schedule::new(
            other,
            s.rules().to_vec(),
            s.breaks().to_vec(),
            s.exceptions().to_vec(),
            s.closed_on_holidays(),
            *s.policy(),
        )
        .unwrap();
        let here = s.slots(case.from, case.to, &case.holidays);
        let there = moved.slots(case.from, case.to, &case.holidays);
        let shift = offset_of(s.tz(), case.from) - offset_of(other, case.from);
        prop_assert_eq!(shifted(&here, shift), there);
    }

    #[test]
    fn the_horizon_starts_today_locally_and_spans_horizon_days(
        tz in proptest::sample::select(ZONES),
        now in instant_in_2026(),
        horizon_days in 1u16..=365,
        ahead_minutes in -3_000i64..400 * 1440,
    ) {
        let policy = BookingPolicy { horizon_days, ..BookingPolicy::default() };
        let s = Schedule::new(tz, vec![], vec![], vec![], false, policy).unwrap();
        let (first, last) = s.horizon(now);
        prop_assert_eq!(first, now.with_timezone(&tz).date_naive());
        prop_assert_eq!((last - first).num_days(), i64::from(horizon_days) - 1);

        let start = now + TimeDelta::minutes(ahead_minutes);
        let slot = Slot { start, end: start + TimeDelta::minutes(30), capacity: 1 };
        let date = start.with_timezone(&tz).date_naive();
        let expected = if now >= start {
            Err(WindowError::Past)
        } else if date > last {
            Err(WindowError::BeyondHorizon)
        } else {
            Ok(())
        };
        prop_assert_eq!(s.check_bookable(&slot, now), expected);
    }

    #[test]
    fn booking_and_cancelling_close_exactly_at_their_cutoffs(
        now in instant_in_2026(),
        ahead_seconds in -7_200i64..7 * 86_400,
        book_cutoff in 0u32..3_000,
        cancel_cutoff in 0u32..3_000,
    ) {
        let policy = BookingPolicy {
            horizon_days: 365,
            book_cutoff_minutes: book_cutoff,
            cancel_cutoff_minutes: cancel_cutoff,
        };
        let s = Schedule::new(chrono_tz::Asia::Seoul, vec![], vec![], vec![], false, policy).unwrap();
        let start = now + TimeDelta::seconds(ahead_seconds);
        let slot = Slot { start, end: start + TimeDelta::minutes(30), capacity: 1 };
        let closes = start - TimeDelta::minutes(i64::from(book_cutoff));
        let book = if now >= start {
            Err(WindowError::Past)
        } else if now >= closes {
            Err(WindowError::Cutoff)
        } else {
            Ok(())
        };
        prop_assert_eq!(s.check_bookable(&slot, now), book);
        let last_cancel = start - TimeDelta::minutes(i64::from(cancel_cutoff));
        let cancel = if now >= start {
            Err(WindowError::AlreadyStarted)
        } else if now > last_cancel {
            Err(WindowError::CancelCutoff)
        } else {
            Ok(())
        };
        prop_assert_eq!(s.check_patient_cancel(start, now), cancel);
    }
}
