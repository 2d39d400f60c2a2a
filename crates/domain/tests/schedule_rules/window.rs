//! When a slot may be booked or cancelled: cut-offs and the horizon.

use super::*;

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
