//! Booking a whole group set by set: a handful of statements for any number of bookings.
//!
//! [`book_one!`](super::appointments) spends five to seven statements on each booking
//! (savepoint, seat, appointment, event, letter, release), and on SQLite every statement is a
//! hop to the connection's thread and back (~0.1 ms under load): the one writer managed
//! ~1,500 bookings a second however many shared a commit. Here a group is read once — its
//! slots' seats and its patients' active appointments — decided in order in memory exactly
//! as one-by-one booking would have (seat first, then overlap), and its winners written with
//! one statement per table, their rows as one JSON array.
//!
//! The database stays the judge. Every write is guarded the way `book_one!` is: the seat
//! upsert takes seats only while they are free and must return the count the decision
//! expected, and the overlap trigger or exclusion constraint and the idempotency index check
//! every appointment row. If any guard disagrees — another instance booked meanwhile — or an
//! idempotency key has been seen before, the group answers `None` and the caller rolls back
//! to its savepoint and books one by one, which answers each request precisely.

use std::collections::HashMap;

use super::{BookingConflict, NewAppointment};

/// A slot: doctor id (as stored) and start.
pub(crate) type Slot = (String, i64);

/// What the group decided for one booking: the seats of its slot taken with it, or why not.
pub(crate) type Decision = Result<u16, BookingConflict>;

/// Decides `news` in order against the slots' (capacity, taken) seats and each patient's
/// active (start, end) appointments, as booking them one by one would: a full slot first,
/// then an overlap with an appointment held before or won earlier in the group. Slots not in
/// `seats` have no seat taken yet and the booking's own capacity.
pub(crate) fn decide(
    news: &[&NewAppointment],
    mut seats: HashMap<Slot, (i32, i32)>,
    mut held: HashMap<String, Vec<(i64, i64)>>,
) -> Vec<Decision> {
    news.iter()
        .map(|new| {
            let slot = (new.doctor_id.to_string(), new.starts_at);
            let seat = seats.entry(slot).or_insert((i32::from(new.capacity), 0));
            if seat.1 >= seat.0 {
                return Err(BookingConflict::SlotFull);
            }
            let mine = held.entry(new.patient_id.to_string()).or_default();
            if mine
                .iter()
                .any(|&(s, e)| s < new.ends_at && e > new.starts_at)
            {
                return Err(BookingConflict::PatientOverlap);
            }
            seat.1 += 1;
            mine.push((new.starts_at, new.ends_at));
            Ok(u16::try_from(seat.1).unwrap_or(u16::MAX))
        })
        .collect()
}

/// Per slot won in the group: (slot, end, capacity, seats won, seats taken after), in the
/// order of first appearance (the caller's lock order).
pub(crate) fn seat_rows(
    news: &[&NewAppointment],
    decisions: &[Decision],
) -> Vec<(Slot, i64, i32, i32, i32)> {
    let mut rows: Vec<(Slot, i64, i32, i32, i32)> = Vec::new();
    let mut index: HashMap<Slot, usize> = HashMap::new();
    for (new, decision) in news.iter().zip(decisions) {
        let Ok(taken) = decision else { continue };
        let slot = (new.doctor_id.to_string(), new.starts_at);
        let i = *index.entry(slot.clone()).or_insert_with(|| {
            rows.push((slot, new.ends_at, i32::from(new.capacity), 0, 0));
            rows.len() - 1
        });
        rows[i].3 += 1;
        rows[i].4 = rows[i].4.max(i32::from(*taken));
    }
    rows
}

/// Reads of the group: its slots' seats, and its patients' active appointments in a window.
/// `$1` is a JSON array; the array drives the seat join, one primary-key lookup per slot. Rows
/// of several fields are read with SQLite's `jsonb_each` (see `ward::ingest::INSERT_SQLITE`).
/// (Which keys were used before is `appointments::KEYS_COUNT_*`.)
pub(crate) const SEATS_SQLITE: &str = "SELECT s.doctor_id, s.starts_at, s.capacity, s.taken \
     FROM jsonb_each($1) j JOIN slot_seats s \
     ON s.doctor_id = j.value ->> 0 AND s.starts_at = j.value ->> 1";
pub(crate) const SEATS_POSTGRES: &str = "SELECT s.doctor_id, s.starts_at, s.capacity, s.taken \
     FROM jsonb_array_elements($1::jsonb) e JOIN slot_seats s \
     ON s.doctor_id = e ->> 0 AND s.starts_at = (e ->> 1)::bigint";
pub(crate) const HELD_SQLITE: &str = "SELECT patient_id, starts_at, ends_at FROM appointments \
     WHERE patient_id IN (SELECT value FROM json_each($1)) \
     AND status IN ('requested', 'booked', 'checked_in') AND starts_at < $3 AND ends_at > $2";
pub(crate) const HELD_POSTGRES: &str = "SELECT patient_id, starts_at, ends_at FROM appointments \
     WHERE patient_id IN (SELECT jsonb_array_elements_text($1::jsonb)) \
     AND status IN ('requested', 'booked', 'checked_in') AND starts_at < $3 AND ends_at > $2";

/// Writes of the winners. The seat upsert takes seats only while they stay within capacity
/// and returns each slot's count, which must be the one decided.
pub(crate) const SEATS_TAKE_SQLITE: &str = "INSERT INTO slot_seats \
     (doctor_id, starts_at, ends_at, capacity, taken) \
     SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4 \
     FROM jsonb_each($1) j WHERE true ORDER BY j.key \
     ON CONFLICT (doctor_id, starts_at) DO UPDATE SET taken = slot_seats.taken + excluded.taken \
     WHERE slot_seats.taken + excluded.taken <= slot_seats.capacity \
     RETURNING doctor_id, starts_at, taken";
pub(crate) const SEATS_TAKE_POSTGRES: &str = "INSERT INTO slot_seats \
     (doctor_id, starts_at, ends_at, capacity, taken) \
     SELECT e ->> 0, (e ->> 1)::bigint, (e ->> 2)::bigint, (e ->> 3)::int, (e ->> 4)::int \
     FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS j(e, n) ORDER BY n \
     ON CONFLICT (doctor_id, starts_at) DO UPDATE SET taken = slot_seats.taken + excluded.taken \
     WHERE slot_seats.taken + excluded.taken <= slot_seats.capacity \
     RETURNING doctor_id, starts_at, taken";
pub(crate) const APPOINTMENTS_SQLITE: &str = "INSERT INTO appointments (id, hospital_id, \
     doctor_id, patient_id, starts_at, ends_at, status, reason, idempotency_key, request_hash, \
     rescheduled_from, created_at, updated_at) \
     SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, \
     j.value ->> 5, j.value ->> 6, j.value ->> 7, j.value ->> 8, j.value ->> 9, j.value ->> 10, \
     j.value ->> 11, j.value ->> 11 FROM jsonb_each($1) j ORDER BY j.key";
pub(crate) const APPOINTMENTS_POSTGRES: &str = "INSERT INTO appointments (id, hospital_id, \
     doctor_id, patient_id, starts_at, ends_at, status, reason, idempotency_key, request_hash, \
     rescheduled_from, created_at, updated_at) \
     SELECT e ->> 0, e ->> 1, e ->> 2, e ->> 3, (e ->> 4)::bigint, (e ->> 5)::bigint, e ->> 6, \
     e ->> 7, e ->> 8, e ->> 9, e ->> 10, (e ->> 11)::timestamptz, (e ->> 11)::timestamptz \
     FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS j(e, n) ORDER BY n";
pub(crate) const EVENTS_SQLITE: &str = "INSERT INTO appointment_events \
     (patient_id, appointment_id, status, created_at) \
     SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3 \
     FROM jsonb_each($1) j ORDER BY j.key RETURNING appointment_id, id";
pub(crate) const EVENTS_POSTGRES: &str = "INSERT INTO appointment_events \
     (patient_id, appointment_id, status, created_at) \
     SELECT e ->> 0, e ->> 1, e ->> 2, (e ->> 3)::timestamptz \
     FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS j(e, n) ORDER BY n \
     RETURNING appointment_id, id";
/// The patients' letters, addressed as `outbox::INSERT_LETTER_SQL` does (a deleted account
/// gets none).
pub(crate) const LETTERS_SQLITE: &str = "INSERT INTO email_outbox \
     (id, recipient, subject, body, status, attempts, next_attempt_at, created_at) \
     SELECT j.value ->> 0, u.email, j.value ->> 2, j.value ->> 3, 'pending', 0, j.value ->> 4, \
     j.value ->> 4 FROM jsonb_each($1) j JOIN users u ON u.id = j.value ->> 1 \
     WHERE u.status <> 'deleted' ORDER BY j.key";
pub(crate) const LETTERS_POSTGRES: &str = "INSERT INTO email_outbox \
     (id, recipient, subject, body, status, attempts, next_attempt_at, created_at) \
     SELECT e ->> 0, u.email, e ->> 2, e ->> 3, 'pending', 0, (e ->> 4)::timestamptz, \
     (e ->> 4)::timestamptz FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS j(e, n) \
     JOIN users u ON u.id = e ->> 1 WHERE u.status <> 'deleted' ORDER BY n";

/// Books `$news` (`&[&NewAppointment]`, in the order one-by-one booking would take them) on
/// `$conn` inside a transaction; `$postgres` picks the statements. Evaluates to
/// `Result<Option<Vec<Result<BookOutcome, BookingConflict>>>, BookingError>`: `None` (or an
/// error) means the group could not be decided set-wise and nothing of it may stand — the
/// caller rolls back to a savepoint taken before and books one by one.
macro_rules! book_group {
    ($conn:expr, $postgres:expr, $news:expr) => {
        async {
            use $crate::accounts::stamp;
            use $crate::booking::grouped::*;
            use $crate::booking::{BookOutcome, BookingConflict, BookingError};
            let news: &[&$crate::booking::NewAppointment] = $news;
            let pick = |sqlite: &'static str, postgres: &'static str| {
                if $postgres { postgres } else { sqlite }
            };
            // A key seen before (or twice in the group) is a retry: one-by-one booking answers
            // it with its first result.
            let keys: Vec<(String, &str)> = news
                .iter()
                .filter_map(|n| {
                    n.idempotency_key
                        .as_deref()
                        .map(|k| (n.patient_id.to_string(), k))
                })
                .collect();
            if !keys.is_empty() {
                let distinct: std::collections::HashSet<&(String, &str)> = keys.iter().collect();
                if distinct.len() < keys.len() {
                    return Ok(None);
                }
                let used: i64 = sqlx::query_scalar(pick(
                    $crate::booking::appointments::KEYS_COUNT_SQLITE,
                    $crate::booking::appointments::KEYS_COUNT_POSTGRES,
                ))
                .bind($crate::accounts::json_param(&keys)?)
                .fetch_one(&mut *$conn)
                .await?;
                if used > 0 {
                    return Ok(None);
                }
            }
            let mut slots: Vec<Slot> = news
                .iter()
                .map(|n| (n.doctor_id.to_string(), n.starts_at))
                .collect();
            slots.sort_unstable();
            slots.dedup();
            let seats: Vec<(String, i64, i32, i32)> =
                sqlx::query_as(pick(SEATS_SQLITE, SEATS_POSTGRES))
                    .bind($crate::accounts::json_param(&slots)?)
                    .fetch_all(&mut *$conn)
                    .await?;
            let seats = seats
                .into_iter()
                .map(|(doctor, starts, capacity, taken)| ((doctor, starts), (capacity, taken)))
                .collect();
            let mut patients: Vec<String> = news.iter().map(|n| n.patient_id.to_string()).collect();
            patients.sort_unstable();
            patients.dedup();
            let from = news.iter().map(|n| n.starts_at).min().unwrap_or(0);
            let to = news.iter().map(|n| n.ends_at).max().unwrap_or(0);
            let rows: Vec<(String, i64, i64)> = sqlx::query_as(pick(HELD_SQLITE, HELD_POSTGRES))
                .bind($crate::accounts::json_param(&patients)?)
                .bind(from)
                .bind(to)
                .fetch_all(&mut *$conn)
                .await?;
            let mut held: std::collections::HashMap<String, Vec<(i64, i64)>> =
                std::collections::HashMap::new();
            for (patient, starts, ends) in rows {
                held.entry(patient).or_default().push((starts, ends));
            }
            let decisions = decide(news, seats, held);
            let won: Vec<&$crate::booking::NewAppointment> = news
                .iter()
                .zip(&decisions)
                .filter(|(_, d)| d.is_ok())
                .map(|(n, _)| *n)
                .collect();
            let mut event_ids: std::collections::HashMap<String, i64> =
                std::collections::HashMap::new();
            if !won.is_empty() {
                let seat_rows = seat_rows(news, &decisions);
                let take: Vec<(&str, i64, i64, i32, i32)> = seat_rows
                    .iter()
                    .map(|((doctor, starts), ends, capacity, won, _)| {
                        (doctor.as_str(), *starts, *ends, *capacity, *won)
                    })
                    .collect();
                let taken: Vec<(String, i64, i32)> =
                    sqlx::query_as(pick(SEATS_TAKE_SQLITE, SEATS_TAKE_POSTGRES))
                        .bind($crate::accounts::json_param(&take)?)
                        .fetch_all(&mut *$conn)
                        .await?;
                let expected: std::collections::HashSet<(&str, i64, i32)> = seat_rows
                    .iter()
                    .map(|((doctor, starts), _, _, _, after)| (doctor.as_str(), *starts, *after))
                    .collect();
                let got: std::collections::HashSet<(&str, i64, i32)> = taken
                    .iter()
                    .map(|(doctor, starts, after)| (doctor.as_str(), *starts, *after))
                    .collect();
                if got != expected {
                    return Ok(None);
                }
                type AppointmentRow<'a> = (
                    String,
                    String,
                    String,
                    String,
                    i64,
                    i64,
                    &'a str,
                    &'a str,
                    Option<&'a str>,
                    Option<&'a str>,
                    Option<String>,
                    String,
                );
                let appointments: Vec<AppointmentRow> = won
                    .iter()
                    .map(|n| {
                        (
                            n.id.to_string(),
                            n.hospital_id.to_string(),
                            n.doctor_id.to_string(),
                            n.patient_id.to_string(),
                            n.starts_at,
                            n.ends_at,
                            n.status,
                            n.reason.as_str(),
                            n.idempotency_key.as_deref(),
                            n.request_hash.as_deref(),
                            n.rescheduled_from.map(|r| r.to_string()),
                            stamp(n.now),
                        )
                    })
                    .collect();
                sqlx::query(pick(APPOINTMENTS_SQLITE, APPOINTMENTS_POSTGRES))
                    .bind($crate::accounts::json_param(&appointments)?)
                    .execute(&mut *$conn)
                    .await?;
                let events: Vec<(&str, &str, &str, String)> = appointments
                    .iter()
                    .map(|a| (a.3.as_str(), a.0.as_str(), a.6, a.11.clone()))
                    .collect();
                let ids: Vec<(String, i64)> = sqlx::query_as(pick(EVENTS_SQLITE, EVENTS_POSTGRES))
                    .bind($crate::accounts::json_param(&events)?)
                    .fetch_all(&mut *$conn)
                    .await?;
                event_ids.extend(ids);
                let letters: Vec<(String, String, &str, &str, String)> = won
                    .iter()
                    .filter_map(|n| {
                        n.email.as_ref().map(|letter| {
                            (
                                uuid::Uuid::now_v7().to_string(),
                                n.patient_id.to_string(),
                                letter.subject.as_str(),
                                letter.body.as_str(),
                                stamp(n.now),
                            )
                        })
                    })
                    .collect();
                if !letters.is_empty() {
                    sqlx::query(pick(LETTERS_SQLITE, LETTERS_POSTGRES))
                        .bind($crate::accounts::json_param(&letters)?)
                        .execute(&mut *$conn)
                        .await?;
                }
            }
            let mut outcomes = Vec::with_capacity(news.len());
            for (new, decision) in news.iter().zip(decisions) {
                outcomes.push(match decision {
                    Ok(seats_taken) => {
                        let Some(event_id) = event_ids.get(&new.id.to_string()).copied() else {
                            return Ok(None);
                        };
                        Ok(BookOutcome::Created {
                            appointment: new.to_appointment(),
                            event_id,
                            seats_taken,
                        })
                    }
                    Err(conflict) => Err::<BookOutcome, BookingConflict>(conflict),
                });
            }
            Ok::<_, BookingError>(Some(outcomes))
        }
    };
}
pub(crate) use book_group;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use uuid::Uuid;

    fn new(doctor: Uuid, patient: Uuid, starts_at: i64, capacity: u16) -> NewAppointment {
        NewAppointment {
            id: Uuid::now_v7(),
            hospital_id: Uuid::nil(),
            doctor_id: doctor,
            patient_id: patient,
            starts_at,
            ends_at: starts_at + 600,
            capacity,
            status: "booked",
            reason: String::new(),
            idempotency_key: None,
            request_hash: None,
            rescheduled_from: None,
            now: Utc::now(),
            email: None,
        }
    }

    #[test]
    fn a_group_is_decided_as_one_by_one_booking_would_decide_it() {
        let (doctor, other_doctor) = (Uuid::now_v7(), Uuid::now_v7());
        let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let news = [
            new(doctor, a, 0, 2),          // seat 1 of 2
            new(doctor, b, 0, 2),          // seat 2 of 2
            new(doctor, c, 0, 2),          // full
            new(other_doctor, a, 300, 1),  // overlaps a's first win
            new(other_doctor, c, 300, 1),  // c lost above, so is free: wins
            new(other_doctor, b, 1200, 1), // b holds 1000–1600 already
            new(doctor, a, 600, 1),        // stored seat row says taken = capacity
        ];
        let refs: Vec<&NewAppointment> = news.iter().collect();
        let seats = HashMap::from([((doctor.to_string(), 600), (1, 1))]);
        let held = HashMap::from([(b.to_string(), vec![(1000, 1600)])]);
        let decided = decide(&refs, seats, held);
        assert_eq!(
            decided,
            [
                Ok(1),
                Ok(2),
                Err(BookingConflict::SlotFull),
                Err(BookingConflict::PatientOverlap),
                Ok(1),
                Err(BookingConflict::PatientOverlap),
                Err(BookingConflict::SlotFull),
            ]
        );
        let rows = seat_rows(&refs, &decided);
        assert_eq!(
            rows,
            [
                ((doctor.to_string(), 0), 600, 2, 2, 2),
                ((other_doctor.to_string(), 300), 900, 1, 1, 1),
            ]
        );
    }
}
