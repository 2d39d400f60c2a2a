//! After a scenario: the database, read through the store, against what the clients were told.
//!
//! - no slot holds more active appointments than seats, and every seat count agrees with the
//!   appointments (`seats::violations`);
//! - no patient holds two overlapping active appointments (`seats::patient_overlaps`);
//! - the active appointments are exactly the ones some client was told about (201, 200 replay,
//!   or a ticket's successful outcome): none acknowledged and missing, none booked and never
//!   acknowledged;
//! - with `--kill-mid-run`, every appointment acknowledged before the kill is still there.

use std::collections::HashSet;

use docde_store::{Store, with_reader};
use uuid::Uuid;

/// One named check and how it went.
pub struct Check {
    pub name: String,
    pub pass: bool,
    pub detail: String,
}

impl Check {
    fn new(name: impl Into<String>, pass: bool, detail: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            pass,
            detail: detail.into(),
        }
    }
}

/// What the clients were told.
#[derive(Default)]
pub struct Told {
    /// Appointment ids from 201/200 answers and successful ticket outcomes.
    pub acknowledged: HashSet<Uuid>,
    /// Those acknowledged before the server was killed (empty without a kill).
    pub before_kill: HashSet<Uuid>,
    /// `patient_overlap` answers the plan could have caused (it normally causes none).
    pub overlaps_allowed: usize,
    pub patient_overlap_answers: usize,
}

/// Runs every check against the database behind `store`.
pub async fn verify(store: &Store, told: &Told, killed: bool) -> anyhow::Result<Vec<Check>> {
    let mut checks = Vec::new();

    let violations = docde_store::booking::seats::violations(store).await?;
    checks.push(Check::new(
        "no overbooked slot (seats ≤ capacity, seats = active appointments)",
        violations.is_empty(),
        match violations.first() {
            None => "0 violations".to_owned(),
            Some((doctor, start, capacity, active)) => format!(
                "{} violations, e.g. doctor {doctor} at {start}: capacity {capacity}, active {active}",
                violations.len()
            ),
        },
    ));

    let overlaps = docde_store::booking::seats::patient_overlaps(store).await?;
    checks.push(Check::new(
        "no patient holds overlapping appointments",
        overlaps == 0,
        format!("{overlaps} overlapping pairs"),
    ));

    checks.push(Check::new(
        "patient_overlap answers only where the plan asked twice",
        told.patient_overlap_answers <= told.overlaps_allowed,
        format!(
            "{} answered, {} possible",
            told.patient_overlap_answers, told.overlaps_allowed
        ),
    ));

    let rows: Vec<(String,)> = with_reader!(store, pool => {
        sqlx::query_as(
            "SELECT id FROM appointments WHERE status IN ('requested', 'booked', 'checked_in')",
        )
        .fetch_all(pool)
        .await
    })?;
    let active: HashSet<Uuid> = rows
        .iter()
        .filter_map(|(id,)| Uuid::parse_str(id).ok())
        .collect();
    let missing = told.acknowledged.difference(&active).count();
    let unacknowledged = active.difference(&told.acknowledged).count();
    checks.push(Check::new(
        "every acknowledged booking is in the database, and nothing else",
        missing == 0 && unacknowledged == 0 && active.len() == rows.len(),
        format!(
            "{} active appointments, {} acknowledged (201/200/ticket), {missing} acknowledged but missing, {unacknowledged} booked but never acknowledged",
            rows.len(),
            told.acknowledged.len()
        ),
    ));

    if killed {
        let lost = told.before_kill.difference(&active).count();
        checks.push(Check::new(
            "every booking acknowledged before the kill survived it",
            lost == 0,
            format!(
                "{} acknowledged before the kill, {lost} lost",
                told.before_kill.len()
            ),
        ));
    }
    Ok(checks)
}

/// Prints the checks as PASS/FAIL lines; true if all passed.
pub fn print(scenario: &str, checks: &[Check]) -> bool {
    for check in checks {
        println!(
            "  {} {scenario}: {} — {}",
            if check.pass { "PASS" } else { "FAIL" },
            check.name,
            check.detail
        );
    }
    checks.iter().all(|c| c.pass)
}
