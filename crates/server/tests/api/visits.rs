//! A clinic for the records and reviews tests: hospital 1's `doctor` and a colleague, both in
//! the directory with a schedule, and visits booked, checked in and completed over the API.

use chrono::{Days, NaiveTime, Utc};
use docde_domain::account::Role;
use docde_server::config::RushMode;
use docde_store::directory::{self, DoctorFacts};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app_with};
use crate::people::{People, Person, people, person, post};

pub struct Clinic {
    pub app: TestApp,
    pub p: People,
    /// `p.doctor`'s directory entry.
    pub doctor: Uuid,
    /// Another doctor of hospital 1, with an account and a directory entry.
    pub colleague: Person,
    pub colleague_doctor: Uuid,
    /// A doctor of hospital 2.
    pub doctor_h2: Person,
}

pub async fn clinic() -> Clinic {
    // Never the rush queue: a booking is answered at once whatever time the test runs.
    let app = spawn_app_with(|c| {
        c.booking.rush = RushMode::Never;
        // Room for the longest record fields (the default test limit is 4 KiB).
        c.http.body_limit_bytes = 256 * 1024;
    })
    .await;
    let p = people(&app).await;
    let colleague = person(&app, Role::Doctor, Some(p.h1)).await;
    let doctor_h2 = person(&app, Role::Doctor, Some(p.h2)).await;
    let doctor = listed_doctor(&app, &p, "김내과", p.doctor.id).await;
    let colleague_doctor = listed_doctor(&app, &p, "이외과", colleague.id).await;
    Clinic {
        app,
        p,
        doctor,
        colleague,
        colleague_doctor,
        doctor_h2,
    }
}

async fn listed_doctor(app: &TestApp, p: &People, name: &str, account: Uuid) -> Uuid {
    let id = Uuid::now_v7();
    let facts = DoctorFacts {
        name: name.into(),
        bio: None,
        accepts_online_booking: true,
        departments: vec!["internal_medicine".into()],
        user_id: Some(account),
    };
    directory::put_doctor(&app.state.store, id, p.h1, &facts, Utc::now())
        .await
        .unwrap();
    let rules: Vec<Value> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| json!({"weekday": d, "start": "09:00", "end": "18:00", "slot_minutes": 30, "capacity": 3}))
        .collect();
    let schedule = json!({
        "rules": rules, "breaks": [], "closed_on_holidays": false,
        "policy": {"horizon_days": 14, "book_cutoff_minutes": 0, "cancel_cutoff_minutes": 60},
        "version": 0,
    });
    let r = app
        .client
        .put(app.url(&format!("/api/v1/doctors/{id}/schedule")))
        .bearer_auth(&p.hadmin.token)
        .json(&schedule)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    id
}

/// `HH:MM` the day after tomorrow in Seoul, as RFC 3339.
fn slot(hh_mm: &str) -> String {
    let date = Utc::now()
        .with_timezone(&chrono_tz::Asia::Seoul)
        .date_naive()
        .checked_add_days(Days::new(2))
        .unwrap();
    let time = NaiveTime::parse_from_str(hh_mm, "%H:%M").unwrap();
    format!("{}T{}:00+09:00", date, time.format("%H:%M"))
}

impl Clinic {
    /// A booked (not yet completed) appointment of `patient` with `doctor` at `hh_mm`.
    pub async fn booked(&self, patient: &Person, doctor: Uuid, hh_mm: &str) -> Uuid {
        let r = post(
            &self.app,
            "/api/v1/appointments",
            Some(&patient.token),
            json!({"doctor_id": doctor, "starts_at": slot(hh_mm), "reason": "기침이 계속됩니다"}),
        )
        .await;
        assert_eq!(r.status(), 201, "{:?}", r.text().await);
        let body: Value = r.json().await.unwrap();
        body["id"].as_str().unwrap().parse().unwrap()
    }

    /// A visit of `patient` with `p.doctor` at `hh_mm`, checked in and completed.
    pub async fn completed(&self, patient: &Person, hh_mm: &str) -> Uuid {
        let id = self.booked(patient, self.doctor, hh_mm).await;
        for (step, who) in [
            ("check-in", &self.p.reception),
            ("complete", &self.p.doctor),
        ] {
            let r = post(
                &self.app,
                &format!("/api/v1/appointments/{id}/{step}"),
                Some(&who.token),
                json!({}),
            )
            .await;
            assert_eq!(r.status(), 200, "{step}");
        }
        id
    }
}
