//! Fixtures shared by the ward test files (`ward.rs` and `ward_ingest.rs`): a hospital with one
//! negative-pressure ward of two beds, a bedside monitor bound to the first bed and a nurse
//! ([`ward`]); users, admissions and further bound devices; sample and alarm builders; and the
//! fixed clock ([`t0`], [`at`]) all of them use.
//!
//! Not declared in `common/mod.rs`, which every store test binary compiles: only the ward test
//! files include it, with `#[path = "common/ward.rs"] mod fixtures;`. A helper that only one of
//! those two files uses carries a targeted `#[allow(dead_code)]` saying so.

use chrono::{DateTime, TimeDelta, Utc};
use docde_domain::account::Role;
use docde_domain::ward::alarm::AlarmKind;
use docde_domain::ward::{BedLabel, Sample, SampleValue, VitalKind};
use docde_store::Store;
use docde_store::accounts::devices::{self, NewDevice};
use docde_store::accounts::hospitals::{create_hospital, create_ward};
use docde_store::accounts::users::{self, NewUser};
use docde_store::ward::admissions::{self, NewAdmission};
use docde_store::ward::alarms::NewAlarm;
use docde_store::ward::beds;
use uuid::Uuid;

/// What [`ward`] creates.
pub struct Ward {
    pub hospital: Uuid,
    pub ward: Uuid,
    pub bed_a: Uuid,
    pub bed_b: Uuid,
    /// A bedside monitor bound to `bed_a` since t0.
    pub device: Uuid,
    // Read by the alarm tests in `ward.rs` only; `ward_ingest.rs` never needs a nurse.
    #[allow(dead_code)]
    pub nurse: Uuid,
}

/// 2030-01-01T00:00:00Z: a fixed, whole-minute origin for sample times.
pub fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_893_456_000, 0).unwrap()
}

/// `secs` seconds after [`t0`].
pub fn at(secs: i64) -> DateTime<Utc> {
    t0() + TimeDelta::seconds(secs)
}

/// A new active user of `role`, of `hospital` if given.
pub async fn user(store: &Store, role: Role, hospital: Option<Uuid>) -> Uuid {
    let id = Uuid::now_v7();
    let email = format!("{id}@example.test");
    let user = NewUser {
        email: email.clone(),
        email_key: email,
        password_hash: None,
        role,
        hospital_id: hospital,
        employee_number: None,
        name: "사용자".into(),
        phone: None,
        birth_date: None,
        gender: None,
        address: None,
        active: true,
    };
    users::create(store, id, &user, None, None, Utc::now())
        .await
        .unwrap();
    id
}

/// A hospital with a negative-pressure ward of two beds (101-1 with a bound bedside monitor,
/// and 101-2) and a nurse of that hospital.
pub async fn ward(store: &Store) -> Ward {
    let hospital = create_hospital(store, "격리병원", "Asia/Seoul", t0())
        .await
        .unwrap()
        .id;
    let ward = create_ward(store, hospital, "음압격리병동", t0())
        .await
        .unwrap()
        .id;
    assert!(
        beds::set_isolation(store, ward, Some(beds::Isolation::NegativePressure))
            .await
            .unwrap()
    );
    let bed_a = beds::add_bed(store, ward, &BedLabel::parse("101-1").unwrap(), t0())
        .await
        .unwrap()
        .id;
    let bed_b = beds::add_bed(store, ward, &BedLabel::parse("101-2").unwrap(), t0())
        .await
        .unwrap()
        .id;
    let device = bound_device(store, hospital, bed_a).await;
    let nurse = user(store, Role::Nurse, Some(hospital)).await;
    Ward {
        hospital,
        ward,
        bed_a,
        bed_b,
        device,
        nurse,
    }
}

/// Admits `patient` to `bed` at `when`; the admission's id.
pub async fn admit(store: &Store, patient: Uuid, bed: Uuid, when: DateTime<Utc>) -> Uuid {
    let new = NewAdmission {
        patient_id: patient,
        bed_id: bed,
        urgency: 1,
        notes: String::new(),
        now: when,
    };
    admissions::admit(store, &new).await.unwrap().0.id
}

/// A new bedside monitor of `hospital`, bound to `bed` since t0.
pub async fn bound_device(store: &Store, hospital: Uuid, bed: Uuid) -> Uuid {
    let device = devices::create(
        store,
        &NewDevice {
            hospital_id: hospital,
            ward_id: None,
            name: "bedside monitor".into(),
            kind: "bedside_monitor".into(),
            secret_hash: "x".into(),
        },
        t0(),
    )
    .await
    .unwrap()
    .id;
    beds::bind_device(store, device, bed, t0()).await.unwrap();
    device
}

pub fn temperature(celsius: f64, when: DateTime<Utc>) -> Sample {
    Sample::new(
        VitalKind::BodyTemperature,
        SampleValue::Number(celsius),
        when,
    )
    .unwrap()
}

// Used by `ward_ingest.rs` only.
#[allow(dead_code)]
pub fn heart_rate(bpm: f64, when: DateTime<Utc>) -> Sample {
    Sample::new(VitalKind::HeartRate, SampleValue::Number(bpm), when).unwrap()
}

// Used by `ward_ingest.rs` only.
#[allow(dead_code)]
pub fn battery(percent: f64, when: DateTime<Utc>) -> Sample {
    Sample::new(VitalKind::Battery, SampleValue::Number(percent), when).unwrap()
}

/// A new alarm of `kind` on `bed`, raised at 100 s, escalating at `due` seconds if given.
// Used by `ward.rs` only.
#[allow(dead_code)]
pub fn alarm(bed: Uuid, admission: Option<Uuid>, kind: AlarmKind, due: Option<i64>) -> NewAlarm {
    NewAlarm {
        bed_id: bed,
        admission_id: admission,
        device_id: None,
        kind,
        priority: kind.priority(),
        value: Some(38.6),
        raised_at: at(100),
        next_escalation_at: due.map(at),
    }
}
