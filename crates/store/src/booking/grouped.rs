//! Booking a whole group set by set: two statements for any number of bookings.
//!
//! [`book_one!`](super::appointments) spends five to seven statements on each booking
//! (savepoint, seat, appointment, event, letter, release), and on SQLite every statement is a
//! hop to the connection's thread and back (~0.1 ms under load): the one writer managed
//! ~1,500 bookings a second however many shared a commit. Here a group is read once — with
//! one statement, [`READ_SQLITE`]: its keys, its slots' seats and its patients' active
//! appointments — decided in order in memory exactly as one-by-one booking would have (seat
//! first, then overlap), and its winners written with one statement per table, their rows as
//! one JSON array; on SQLite the four go to the connection's thread as one query
//! ([`WRITE_SQLITE`]).
//!
//! The database stays the judge. Every write is guarded the way `book_one!` is: the seat
//! upsert takes seats only while they are free and must return the count the decision
//! expected, and the overlap trigger or exclusion constraint and the idempotency index check
//! every appointment row. If any guard disagrees — another instance booked meanwhile — or an
//! idempotency key has been seen before (by an appointment or a rush ticket), the group
//! answers `None` and the caller rolls back (the transaction, the group being its first
//! write) and books one by one, which answers each request precisely.

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

/// The group's reads in one statement (each statement is a trip to SQLite's connection thread
/// and back): `k`, how many of the group's idempotency keys (`$1`, as in
/// `appointments::KEYS_COUNT_*`) were used before, by an appointment or a rush ticket — so a
/// refusal decided here is known to be no retry's, and its request needs no look of its own
/// for a first attempt ([`super::batch::Booked::key_unused`]); `s`, its slots' seats (`$2`;
/// the array drives the join, one primary-key lookup per slot); `h`, the active appointments
/// of its patients (`$3`, `[[patient, from, to]]`: each patient's bookings in the group span
/// `[from, to)`) that overlap that span. Only appointments starting in `(from - 14,400, to)`
/// can (`MAX_APPOINTMENT_SECONDS`), so the patient index is searched over that range alone:
/// with the range open below, each lookup read every appointment the patient had ever held,
/// and the read grew with the database (BENCHMARKS.md, session 22). Rows of several fields
/// are read with SQLite's `jsonb_each` (see `ward::ingest::INSERT_SQLITE`).
pub(crate) const READ_SQLITE: &str = "SELECT 'k', NULL, COUNT(*), NULL, NULL \
     FROM json_each($1) j WHERE EXISTS (SELECT 1 FROM appointments a \
      WHERE a.patient_id = json_extract(j.value, '$[0]') \
      AND a.idempotency_key = json_extract(j.value, '$[1]')) \
     OR EXISTS (SELECT 1 FROM booking_tickets t \
      WHERE t.patient_id = json_extract(j.value, '$[0]') \
      AND t.idempotency_key = json_extract(j.value, '$[1]')) \
     UNION ALL SELECT 's', s.doctor_id, s.starts_at, s.capacity, s.taken \
     FROM jsonb_each($2) j JOIN slot_seats s \
     ON s.doctor_id = j.value ->> 0 AND s.starts_at = j.value ->> 1 \
     UNION ALL SELECT 'h', a.patient_id, a.starts_at, a.ends_at, NULL \
     FROM jsonb_each($3) p JOIN appointments a ON a.patient_id = p.value ->> 0 \
     AND a.starts_at > (p.value ->> 1) - 14400 AND a.starts_at < p.value ->> 2 \
     WHERE a.ends_at > p.value ->> 1 AND a.status IN ('requested', 'booked', 'checked_in')";
///
/// On PostgreSQL each part is a lookup per array element (`LATERAL … OFFSET 0`: the subquery
/// is neither merged into a join the planner may turn into a hash join over the whole table,
/// nor given the outer conditions). Tables filled since their last `ANALYZE` — a rush on a
/// new hospital, every benchmark — have no statistics, and without them the planner read the
/// holders part as a bitmap scan of the overlap constraint's index (its predicate matches the
/// status condition): every active appointment, each batch, 26 ms at 60,000 appointments
/// and growing with the table, on the one writer's path. Here only the patient index
/// (`appointments_patient`: patient, then start) can serve the inner lookup, and the status
/// and end are checked on the few rows it returns.
pub(crate) const READ_POSTGRES: &str = "SELECT 'k'::text, NULL::text, COUNT(*)::bigint, \
     NULL::bigint, NULL::bigint FROM jsonb_array_elements($1::jsonb) j CROSS JOIN LATERAL \
     (SELECT 1 FROM appointments a WHERE a.patient_id = j.value ->> 0 \
     AND a.idempotency_key = j.value ->> 1 \
     UNION ALL SELECT 1 FROM booking_tickets t WHERE t.patient_id = j.value ->> 0 \
     AND t.idempotency_key = j.value ->> 1 OFFSET 0) a \
     UNION ALL SELECT 's', s.doctor_id, s.starts_at, s.capacity::bigint, s.taken::bigint \
     FROM jsonb_array_elements($2::jsonb) e CROSS JOIN LATERAL \
     (SELECT * FROM slot_seats s WHERE s.doctor_id = e ->> 0 \
     AND s.starts_at = (e ->> 1)::bigint OFFSET 0) s \
     UNION ALL SELECT 'h', a.patient_id, a.starts_at, a.ends_at, NULL \
     FROM jsonb_array_elements($3::jsonb) p CROSS JOIN LATERAL \
     (SELECT patient_id, starts_at, ends_at, status FROM appointments \
     WHERE patient_id = p ->> 0 AND starts_at > (p ->> 1)::bigint - 14400 \
     AND starts_at < (p ->> 2)::bigint OFFSET 0) a \
     WHERE a.ends_at > (p ->> 1)::bigint AND a.status IN ('requested', 'booked', 'checked_in')";

/// [`READ_SQLITE`] or [`READ_POSTGRES`], by the store's dialect.
pub(crate) fn read_sql(store: &crate::Store) -> &'static str {
    if store.dialect() == "postgres" {
        READ_POSTGRES
    } else {
        READ_SQLITE
    }
}

/// The winners' writes, one statement per table: `$1` the seats — the upsert takes seats only
/// while they stay within capacity and returns each slot's count (`s` rows), which must be
/// the one decided; `$2` the appointments; `$3` their events, returning the ids (`e` rows);
/// `$4` the patients' letters, addressed as `outbox::INSERT_LETTER_SQL` does (a deleted
/// account gets none).
///
/// On SQLite the four go as one query string: sqlx runs every statement of it on the
/// connection's thread in one trip, binding `$n` by number in each. (sqlx calls this
/// SQLite-only behaviour deprecated; `a_group_is_written_in_one_trip` in `tests/booking.rs`
/// fails if it stops running the later statements.) If a guard fails midway, the error
/// stops the rest, and the caller rolls back either way.
pub(crate) const WRITE_SQLITE: &str = "INSERT INTO slot_seats \
     (doctor_id, starts_at, ends_at, capacity, taken) \
     SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4 \
     FROM jsonb_each($1) j WHERE true ORDER BY j.key \
     ON CONFLICT (doctor_id, starts_at) DO UPDATE SET taken = slot_seats.taken + excluded.taken \
     WHERE slot_seats.taken + excluded.taken <= slot_seats.capacity \
     RETURNING 's', doctor_id, starts_at, taken; \
     INSERT INTO appointments (id, hospital_id, \
     doctor_id, patient_id, starts_at, ends_at, status, reason, idempotency_key, request_hash, \
     rescheduled_from, created_at, updated_at) \
     SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, \
     j.value ->> 5, j.value ->> 6, j.value ->> 7, j.value ->> 8, j.value ->> 9, j.value ->> 10, \
     j.value ->> 11, j.value ->> 11 FROM jsonb_each($2) j ORDER BY j.key; \
     INSERT INTO appointment_events (patient_id, appointment_id, status, created_at) \
     SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3 \
     FROM jsonb_each($3) j ORDER BY j.key RETURNING 'e', appointment_id, id, 0; \
     INSERT INTO email_outbox \
     (id, recipient, subject, body, status, attempts, next_attempt_at, created_at) \
     SELECT j.value ->> 0, u.email, j.value ->> 2, j.value ->> 3, 'pending', 0, j.value ->> 4, \
     j.value ->> 4 FROM jsonb_each($4) j JOIN users u ON u.id = j.value ->> 1 \
     WHERE u.status <> 'deleted' ORDER BY j.key";
/// The same on PostgreSQL, one statement each (`$1` of each is the `$n` above): a query there
/// carries one statement, and a trip to the server costs far less than its inserts.
pub(crate) const WRITE_POSTGRES: [&str; 4] = [
    "INSERT INTO slot_seats (doctor_id, starts_at, ends_at, capacity, taken) \
     SELECT e ->> 0, (e ->> 1)::bigint, (e ->> 2)::bigint, (e ->> 3)::int, (e ->> 4)::int \
     FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS j(e, n) ORDER BY n \
     ON CONFLICT (doctor_id, starts_at) DO UPDATE SET taken = slot_seats.taken + excluded.taken \
     WHERE slot_seats.taken + excluded.taken <= slot_seats.capacity \
     RETURNING 's'::text, doctor_id, starts_at, taken::bigint",
    "INSERT INTO appointments (id, hospital_id, \
     doctor_id, patient_id, starts_at, ends_at, status, reason, idempotency_key, request_hash, \
     rescheduled_from, created_at, updated_at) \
     SELECT e ->> 0, e ->> 1, e ->> 2, e ->> 3, (e ->> 4)::bigint, (e ->> 5)::bigint, e ->> 6, \
     e ->> 7, e ->> 8, e ->> 9, e ->> 10, (e ->> 11)::timestamptz, (e ->> 11)::timestamptz \
     FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS j(e, n) ORDER BY n",
    "INSERT INTO appointment_events (patient_id, appointment_id, status, created_at) \
     SELECT e ->> 0, e ->> 1, e ->> 2, (e ->> 3)::timestamptz \
     FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS j(e, n) ORDER BY n \
     RETURNING 'e'::text, appointment_id, id, 0::bigint",
    "INSERT INTO email_outbox \
     (id, recipient, subject, body, status, attempts, next_attempt_at, created_at) \
     SELECT e ->> 0, u.email, e ->> 2, e ->> 3, 'pending', 0, (e ->> 4)::timestamptz, \
     (e ->> 4)::timestamptz FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS j(e, n) \
     JOIN users u ON u.id = e ->> 1 WHERE u.status <> 'deleted' ORDER BY n",
];

/// Books `$news` (`&[&NewAppointment]`, in the order one-by-one booking would take them) on
/// `$conn` inside a transaction; `$postgres` picks the statements. Evaluates to
/// `Result<Option<Vec<Result<BookOutcome, BookingConflict>>>, BookingError>`: `None` (or an
/// error) means the group could not be decided set-wise and nothing of it may stand — the
/// caller rolls back (the transaction, or a savepoint taken before) and books one by one.
macro_rules! book_group {
    ($conn:expr, $postgres:expr, $news:expr) => {
        async {
            use $crate::accounts::{json_param, stamp};
            use $crate::booking::grouped::*;
            use $crate::booking::{BookOutcome, BookingConflict, BookingError};
            let news: &[&$crate::booking::NewAppointment] = $news;
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
            let distinct: std::collections::HashSet<&(String, &str)> = keys.iter().collect();
            if distinct.len() < keys.len() {
                return Ok(None);
            }
            let mut slots: Vec<Slot> = news
                .iter()
                .map(|n| (n.doctor_id.to_string(), n.starts_at))
                .collect();
            slots.sort_unstable();
            slots.dedup();
            // Each patient's span in the group: only appointments overlapping it matter.
            let mut spans: std::collections::BTreeMap<String, (i64, i64)> =
                std::collections::BTreeMap::new();
            for n in news {
                let span = spans
                    .entry(n.patient_id.to_string())
                    .or_insert((n.starts_at, n.ends_at));
                *span = (span.0.min(n.starts_at), span.1.max(n.ends_at));
            }
            let patients: Vec<(&String, i64, i64)> = spans
                .iter()
                .map(|(p, (from, to))| (p, *from, *to))
                .collect();
            type ReadRow = (
                String,
                Option<String>,
                Option<i64>,
                Option<i64>,
                Option<i64>,
            );
            let rows: Vec<ReadRow> = sqlx::query_as(if $postgres {
                READ_POSTGRES
            } else {
                READ_SQLITE
            })
            .bind(json_param(&keys)?)
            .bind(json_param(&slots)?)
            .bind(json_param(&patients)?)
            .fetch_all(&mut *$conn)
            .await?;
            let mut seats: std::collections::HashMap<Slot, (i32, i32)> =
                std::collections::HashMap::new();
            let mut held: std::collections::HashMap<String, Vec<(i64, i64)>> =
                std::collections::HashMap::new();
            for (kind, text, a, b, c) in rows {
                let int = |v: Option<i64>| i32::try_from(v.unwrap_or(0)).unwrap_or(i32::MAX);
                match (kind.as_str(), text) {
                    ("k", _) if a.unwrap_or(0) > 0 => return Ok(None),
                    ("s", Some(doctor)) => {
                        seats.insert((doctor, a.unwrap_or(0)), (int(b), int(c)));
                    }
                    ("h", Some(patient)) => {
                        held.entry(patient)
                            .or_default()
                            .push((a.unwrap_or(0), b.unwrap_or(0)));
                    }
                    _ => {}
                }
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
                let events: Vec<(&str, &str, &str, &str)> = appointments
                    .iter()
                    .map(|a| (a.3.as_str(), a.0.as_str(), a.6, a.11.as_str()))
                    .collect();
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
                let params = [
                    json_param(&take)?,
                    json_param(&appointments)?,
                    json_param(&events)?,
                    json_param(&letters)?,
                ];
                let mut written: Vec<(String, String, i64, i64)> = Vec::new();
                if $postgres {
                    for (sql, param) in WRITE_POSTGRES.into_iter().zip(&params) {
                        written.extend(
                            sqlx::query_as::<_, (String, String, i64, i64)>(sql)
                                .bind(param)
                                .fetch_all(&mut *$conn)
                                .await?,
                        );
                    }
                } else {
                    let [seats, appointments, events, letters] = &params;
                    written = sqlx::query_as(WRITE_SQLITE)
                        .bind(seats)
                        .bind(appointments)
                        .bind(events)
                        .bind(letters)
                        .fetch_all(&mut *$conn)
                        .await?;
                }
                let expected: std::collections::HashSet<(&str, i64, i64)> = seat_rows
                    .iter()
                    .map(|((doctor, starts), _, _, _, after)| {
                        (doctor.as_str(), *starts, i64::from(*after))
                    })
                    .collect();
                let mut got: std::collections::HashSet<(&str, i64, i64)> =
                    std::collections::HashSet::new();
                for (kind, text, a, b) in &written {
                    match kind.as_str() {
                        "s" => {
                            got.insert((text.as_str(), *a, *b));
                        }
                        "e" => {
                            event_ids.insert(text.clone(), *a);
                        }
                        _ => {}
                    }
                }
                if got != expected {
                    return Ok(None);
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

    #[test]
    fn the_read_bounds_its_lookups_by_the_longest_appointment_a_schedule_allows() {
        let longest = i64::from(*docde_domain::schedule::SLOT_MINUTES.end()) * 60;
        assert_eq!(crate::booking::MAX_APPOINTMENT_SECONDS, longest);
        for sql in [READ_SQLITE, READ_POSTGRES] {
            assert!(sql.contains(&format!("- {longest}")), "{sql}");
        }
    }

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
            session_id: None,
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
