//! What a scenario asks for: the doctors' schedules (set through the API, so the slots are
//! the server's own), the slots read back from the availability API, and the booking requests,
//! prepared before the clock starts.
//!
//! A patient never asks for two slots at the same time: every slot is 10 minutes on the same
//! grid, so distinct start times are distinct, non-overlapping slots. The only conflicts a run
//! can produce are therefore `slot_full`, and any `patient_overlap` is a finding.

use std::net::SocketAddr;

use anyhow::Context;
use chrono::{DateTime, Days, FixedOffset, Utc};
use hyper::Method;
use hyper::header::HeaderValue;
use serde::Deserialize;
use uuid::Uuid;

use super::http::{Prepared, once};
use super::seed::Seeded;

/// Slot length of every bench schedule.
pub const SLOT_MINUTES: i64 = 10;
/// Bookable days ahead (today included).
const HORIZON_DAYS: u64 = 14;
/// Slots nearer than this to now are skipped, so none starts (and closes) during a run.
const LEAD_MINUTES: i64 = 30;
/// Slots a doctor surely has over the horizon: 08:00–20:00 every day (72 a day), counting
/// only the 12 full days ahead.
pub const SLOTS_PER_DOCTOR: usize = 72 * 12;

/// One bookable slot.
#[derive(Debug, Clone)]
pub struct Slot {
    pub doctor_id: Uuid,
    /// As the availability API wrote it; sent back unchanged.
    pub starts_at: String,
    /// Unix seconds.
    pub start: i64,
}

/// The schedule every bench doctor gets: 08:00–20:00, seven days a week, 10-minute slots,
/// one seat each, bookable until the slot starts.
pub fn schedule_body() -> serde_json::Value {
    let rules: Vec<serde_json::Value> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|day| {
            serde_json::json!({"weekday": day, "start": "08:00", "end": "20:00",
                "slot_minutes": SLOT_MINUTES, "capacity": 1})
        })
        .collect();
    serde_json::json!({
        "rules": rules,
        "breaks": [],
        "exceptions": [],
        "closed_on_holidays": false,
        "policy": {"horizon_days": HORIZON_DAYS, "book_cutoff_minutes": 0, "cancel_cutoff_minutes": 60},
        "version": 0,
    })
}

#[derive(Deserialize)]
struct Availability {
    slots: Vec<AvailableSlot>,
}

#[derive(Deserialize)]
struct AvailableSlot {
    starts_at: String,
    #[serde(default = "one")]
    free: i64,
}

fn one() -> i64 {
    1
}

/// Puts the bench schedule on every doctor (as the hospital admin) and reads back the free
/// slots, keeping the first `wanted` (doctor by doctor, in time order).
pub async fn schedules_and_slots(
    addr: SocketAddr,
    seeded: &Seeded,
    wanted: usize,
) -> anyhow::Result<Vec<Slot>> {
    let body = schedule_body();
    let seoul = FixedOffset::east_opt(9 * 3600).expect("valid offset");
    let today = Utc::now().with_timezone(&seoul).date_naive();
    let last = today
        .checked_add_days(Days::new(HORIZON_DAYS - 1))
        .unwrap_or(today);
    let earliest = Utc::now().timestamp() + LEAD_MINUTES * 60;
    let mut slots = Vec::with_capacity(wanted);
    for doctor in &seeded.doctors {
        let put = Prepared::json(
            Method::PUT,
            format!("/api/v1/doctors/{doctor}/schedule"),
            Some(seeded.admin.clone()),
            &body,
        );
        let (status, answer) = once(addr, &put).await?;
        anyhow::ensure!(
            status == 200 || status == 201,
            "PUT schedule of doctor {doctor} answered {status}: {}",
            String::from_utf8_lossy(&answer)
        );
        let get = Prepared::get(
            format!("/api/v1/doctors/{doctor}/availability?from={today}&to={last}"),
            None,
        );
        let (status, answer) = once(addr, &get).await?;
        anyhow::ensure!(
            status == 200,
            "GET availability of doctor {doctor} answered {status}: {}",
            String::from_utf8_lossy(&answer)
        );
        let availability: Availability =
            serde_json::from_slice(&answer).context("reading the availability answer")?;
        for slot in availability.slots {
            if slots.len() == wanted {
                break;
            }
            let start = DateTime::parse_from_rfc3339(&slot.starts_at)
                .with_context(|| format!("slot start {:?}", slot.starts_at))?
                .timestamp();
            if slot.free > 0 && start >= earliest {
                slots.push(Slot {
                    doctor_id: *doctor,
                    starts_at: slot.starts_at,
                    start,
                });
            }
        }
    }
    anyhow::ensure!(
        slots.len() == wanted,
        "the schedules gave {} bookable slots, {wanted} wanted",
        slots.len()
    );
    Ok(slots)
}

/// Checks that the server accepts the minted tokens (same signing key, live sessions) before
/// anything is measured.
pub async fn check_tokens(addr: SocketAddr, seeded: &Seeded) -> anyhow::Result<()> {
    let tokens = [
        Some(&seeded.admin),
        seeded.patients.first().map(|p| &p.1),
        seeded.patients.last().map(|p| &p.1),
    ];
    for token in tokens.into_iter().flatten() {
        let (status, answer) = once(
            addr,
            &Prepared::get("/api/v1/users/me", Some(token.clone())),
        )
        .await?;
        anyhow::ensure!(
            status == 200,
            "the server refused a minted token: GET /api/v1/users/me answered {status}: {}",
            String::from_utf8_lossy(&answer)
        );
    }
    Ok(())
}

/// A small deterministic generator (SplitMix64): the same seed gives the same requests.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// One booking request of the plan: who asks for which slot.
#[derive(Debug, Clone, Copy)]
pub struct Ask {
    pub patient: usize,
    pub slot: usize,
}

/// `requests` booking requests: patients take turns (so each asks about equally often) and
/// pick a random slot at a time they have not asked for yet — with `distinct`, also one no
/// other request asked for (the caller checks `requests ≤ slots`).
pub fn asks(
    patients: usize,
    slots: &[Slot],
    requests: usize,
    seed: u64,
    distinct: bool,
) -> Vec<Ask> {
    let mut rng = Rng::new(seed);
    let mut taken: Vec<Vec<i64>> = vec![Vec::new(); patients];
    let mut asked = vec![false; slots.len()];
    let distinct_times = {
        let mut times: Vec<i64> = slots.iter().map(|s| s.start).collect();
        times.sort_unstable();
        times.dedup();
        times.len()
    };
    (0..requests)
        .map(|r| {
            let patient = r % patients;
            let mine = &mut taken[patient];
            let slot = if mine.len() >= distinct_times {
                // Asked at every time already: this one will be an expected overlap.
                rng.below(slots.len())
            } else {
                // Distinct draws give up after many tries (nearly every slot asked for): a
                // repeat then is merely a conflict, which the report counts.
                let mut tries = 0_usize;
                loop {
                    let s = rng.below(slots.len());
                    tries += 1;
                    let repeat = distinct && asked[s] && tries < 10_000;
                    if !mine.contains(&slots[s].start) && !repeat {
                        break s;
                    }
                }
            };
            asked[slot] = true;
            mine.push(slots[slot].start);
            Ask { patient, slot }
        })
        .collect()
}

/// The HTTP requests for `asks`, each with its own `Idempotency-Key`.
pub fn booking_requests(
    tag: &str,
    asks: &[Ask],
    slots: &[Slot],
    patients: &[(Uuid, HeaderValue)],
) -> Vec<Prepared> {
    asks.iter()
        .enumerate()
        .map(|(i, ask)| {
            let slot = &slots[ask.slot];
            let body = serde_json::json!({
                "doctor_id": slot.doctor_id,
                "starts_at": slot.starts_at,
                "reason": "정기 검진 (bench)",
            });
            let mut request = Prepared::json(
                Method::POST,
                "/api/v1/appointments",
                Some(patients[ask.patient].1.clone()),
                &body,
            );
            request.idempotency_key = HeaderValue::from_str(&format!("bench-{tag}-{i}")).ok();
            request
        })
        .collect()
}

/// How many asks are bound to overlap with an earlier ask of the same patient (only when a
/// patient asks more often than there are distinct slot times).
pub fn expected_overlaps(asks: &[Ask], slots: &[Slot]) -> usize {
    let mut seen = std::collections::HashSet::new();
    asks.iter()
        .filter(|a| !seen.insert((a.patient, slots[a.slot].start)))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots(doctors: usize, times: i64) -> Vec<Slot> {
        (0..doctors)
            .flat_map(|_| {
                let doctor_id = Uuid::now_v7();
                (0..times).map(move |t| Slot {
                    doctor_id,
                    starts_at: String::new(),
                    start: 600 * t,
                })
            })
            .collect()
    }

    #[test]
    fn distinct_asks_take_each_slot_once_and_random_ones_repeat() {
        let slots = slots(20, 50);
        let count = |asks: &[Ask]| {
            let mut seen = vec![0_usize; slots.len()];
            for a in asks {
                seen[a.slot] += 1;
            }
            seen.into_iter().max().unwrap_or(0)
        };
        let distinct = asks(100, &slots, 900, 7, true);
        assert_eq!(distinct.len(), 900);
        assert_eq!(count(&distinct), 1, "no slot asked for twice");
        for patient in 0..100 {
            let mut times: Vec<i64> = distinct
                .iter()
                .filter(|a| a.patient == patient)
                .map(|a| slots[a.slot].start)
                .collect();
            let n = times.len();
            times.sort_unstable();
            times.dedup();
            assert_eq!(times.len(), n, "a patient never asks twice at one time");
        }
        assert!(count(&asks(100, &slots, 900, 7, false)) > 1);
    }
}
