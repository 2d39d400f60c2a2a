//! A patient's vitals across stays (`GET /api/v1/patients/{id}/vitals`): one series over a
//! transfer and a readmission, each hospital's staff seeing only their hospital's stays, the
//! patient seeing all, outsiders refused, and every staff read audited.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use docde_store::accounts::audit::{self, AuditFilter};
use docde_store::ward::admissions::{self, NewAdmission};
use docde_store::ward::{beds, rollups};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, problem, spawn_app_with};
use crate::people::{Person, get, people, post};
use crate::ward::{TestDevice, report};
use crate::ward_rollups::{Point, points_of, rfc3339, urlencode};

async fn app() -> TestApp {
    spawn_app_with(|c| {
        c.ward.retention_worker = false;
        c.ward.technical_worker = false;
        c.ward.rollup_worker = false;
    })
    .await
}

/// A time as a query parameter.
fn param(t: DateTime<Utc>) -> String {
    urlencode(&rfc3339(t))
}

/// A bed in `ward` with a bedside device bound to it since `since` (through the store, so it
/// can be in the past).
async fn bed_with_device(
    app: &TestApp,
    hospital: Uuid,
    ward: Uuid,
    admin: &Person,
    label: &str,
    since: DateTime<Utc>,
) -> (Uuid, TestDevice) {
    let r = post(
        app,
        &format!("/api/v1/wards/{ward}/beds"),
        Some(&admin.token),
        json!({"label": label}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let bed: Uuid = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let r = post(
        app,
        &format!("/api/v1/hospitals/{hospital}/devices"),
        Some(&admin.token),
        json!({"name": format!("bedside {label}"), "kind": "bedside_monitor", "ward_id": ward}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    let device = TestDevice {
        id: body["device"]["id"].as_str().unwrap().to_owned(),
        secret: body["secret"].as_str().unwrap().to_owned(),
    };
    beds::bind_device(&app.state.store, device.id.parse().unwrap(), bed, since)
        .await
        .unwrap();
    (bed, device)
}

async fn heart_rate(app: &TestApp, device: &TestDevice, at: DateTime<Utc>, bpm: f64) {
    let sample = json!([{"measured_at": at.to_rfc3339(), "kind": "heart_rate", "value": bpm}]);
    let r = report(app, device, sample).await;
    assert_eq!(r.status(), 200);
}

/// `(stays' admission ids, [(at, min, max, mean, count)])` as `token` reads them.
async fn series(
    app: &TestApp,
    patient: Uuid,
    token: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    points: u32,
) -> (Vec<String>, Vec<Point>) {
    let path = format!(
        "/api/v1/patients/{patient}/vitals?kind=heart_rate&from={}&to={}&points={points}",
        param(from),
        param(to)
    );
    let r = get(app, &path, token).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["patient_id"], patient.to_string());
    let stays = body["stays"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["admission_id"].as_str().unwrap().to_owned())
        .collect();
    (stays, points_of(&body))
}

async fn audited(app: &TestApp, patient: Uuid, actor: Uuid) -> Vec<(String, Option<Uuid>)> {
    let filter = AuditFilter {
        patient_id: Some(patient),
        actor_id: Some(actor),
        limit: 100,
        ..AuditFilter::default()
    };
    audit::list(&app.state.store, &filter)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.resource_type == "vital_signs")
        .map(|e| (e.action, e.hospital_id))
        .collect()
}

#[tokio::test]
async fn a_patients_series_spans_a_transfer_and_a_readmission_and_staff_see_their_hospitals_stays()
{
    let app = app().await;
    let p = people(&app).await;
    let patient = p.patient.id;
    // A whole hour two hours back, so buckets of 10 and 20 minutes line up with it.
    let base = Utc::now().duration_trunc(TimeDelta::hours(1)).unwrap() - TimeDelta::hours(2);
    let min = |m: i64| base + TimeDelta::minutes(m);
    let since = min(-1);
    let (bed1, d1) = bed_with_device(&app, p.h1, p.ward1, &p.hadmin, "101-1", since).await;
    let (bed2, d2) = bed_with_device(&app, p.h1, p.ward1, &p.hadmin, "101-2", since).await;
    let (bed3, d3) = bed_with_device(&app, p.h2, p.ward2, &p.hadmin_h2, "201-1", since).await;
    let admit = |bed: Uuid, at: DateTime<Utc>| NewAdmission {
        patient_id: patient,
        bed_id: bed,
        urgency: 1,
        notes: String::new(),
        now: at,
    };
    let store = &app.state.store;

    // Stay A in bed 101-1, transferred to 101-2 (stay B), discharged, then readmitted at the
    // other hospital (stay C).
    let (a, _) = admissions::admit(store, &admit(bed1, min(0)))
        .await
        .unwrap();
    heart_rate(&app, &d1, min(5), 80.0).await;
    heart_rate(&app, &d1, min(6), 90.0).await;
    let (b, _) = admissions::transfer(store, a.id, bed2, min(10))
        .await
        .unwrap();
    heart_rate(&app, &d2, min(15), 100.0).await;
    // Bed 101-1 is empty now: not the patient's.
    heart_rate(&app, &d1, min(16), 200.0).await;
    admissions::discharge(store, b.id, min(20)).await.unwrap();
    let (c, _) = admissions::admit(store, &admit(bed3, min(25)))
        .await
        .unwrap();
    heart_rate(&app, &d3, min(30), 120.0).await;
    // The earlier minutes come from rollups, like any range older than a few minutes.
    rollups::roll_up(store, min(12), 1000).await.unwrap();

    let (from, to) = (min(0), min(60));
    let (stays, points) = series(&app, patient, &p.patient.token, from, to, 6).await;
    assert_eq!(stays, [a.id, b.id, c.id].map(|s| s.to_string()));
    assert_eq!(
        points,
        [
            (min(0), 80.0, 90.0, 85.0, 2),
            (min(10), 100.0, 100.0, 100.0, 1),
            (min(30), 120.0, 120.0, 120.0, 1),
        ],
        "the patient sees every stay"
    );
    // One bucket across the transfer counts both stays.
    let (_, wide) = series(&app, patient, &p.patient.token, from, to, 3).await;
    assert_eq!(wide[0], (min(0), 80.0, 100.0, 90.0, 3));

    // The admission's own chart stops at the transfer: the reason for this endpoint.
    let r = get(
        &app,
        &format!(
            "/api/v1/admissions/{}/vitals?kind=heart_rate&from={}&to={}&points=6",
            b.id,
            param(from),
            param(to)
        ),
        &p.nurse.token,
    )
    .await;
    let own: Value = r.json().await.unwrap();
    assert_eq!(own["points"].as_array().unwrap().len(), 1);

    for staff in [&p.nurse, &p.doctor, &p.hadmin] {
        let (stays, points) = series(&app, patient, &staff.token, from, to, 6).await;
        assert_eq!(
            stays,
            [a.id, b.id].map(|s| s.to_string()),
            "hospital 1's stays"
        );
        assert_eq!(points.len(), 2);
        assert_eq!(points[1], (min(10), 100.0, 100.0, 100.0, 1));
        assert_eq!(
            audited(&app, patient, staff.id).await,
            [("vitals.read_history".to_owned(), Some(p.h1))]
        );
    }
    let (stays, points) = series(&app, patient, &p.hadmin_h2.token, from, to, 6).await;
    assert_eq!(stays, [c.id.to_string()], "hospital 2's stay only");
    assert_eq!(points, [(min(30), 120.0, 120.0, 120.0, 1)]);
    assert!(
        audited(&app, patient, p.patient.id).await.is_empty(),
        "the patient's own reads are not someone else's access"
    );

    // A range before the first stay: the stays are none, the series empty, still allowed.
    let (stays, points) = series(&app, patient, &p.nurse.token, min(-70), min(-10), 6).await;
    assert!(stays.is_empty() && points.is_empty());
}

#[tokio::test]
async fn only_the_patient_and_staff_of_a_ward_they_stayed_in_may_read_the_series() {
    let app = app().await;
    let p = people(&app).await;
    let since = Utc::now() - TimeDelta::hours(1);
    let (bed, _) = bed_with_device(&app, p.h1, p.ward1, &p.hadmin, "101-1", since).await;
    admissions::admit(
        &app.state.store,
        &NewAdmission {
            patient_id: p.patient.id,
            bed_id: bed,
            urgency: 0,
            notes: String::new(),
            now: since,
        },
    )
    .await
    .unwrap();
    let path = |patient: Uuid| format!("/api/v1/patients/{patient}/vitals?kind=spo2");
    for (who, status) in [
        (&p.patient, 200),
        (&p.nurse, 200),
        (&p.doctor, 200),
        (&p.hadmin, 200),
        (&p.nurse_other, 403),
        (&p.reception, 403),
        (&p.patient_other, 403),
        (&p.hadmin_h2, 403),
    ] {
        let r = get(&app, &path(p.patient.id), &who.token).await;
        assert_eq!(r.status(), status, "{}", who.email);
    }
    // Someone never admitted anywhere looks the same as someone not in one's care.
    for unknown in [p.patient_other.id, Uuid::now_v7()] {
        let r = get(&app, &path(unknown), &p.nurse.token).await;
        assert_eq!(r.status(), 403);
    }
    let r = app
        .client
        .get(app.url(&path(p.patient.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    for (query, field) in [
        ("kind=weight", "kind"),
        ("", "kind"),
        ("kind=spo2&points=0", "points"),
        (
            "kind=spo2&from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z",
            "from",
        ),
    ] {
        let r = get(
            &app,
            &format!("/api/v1/patients/{}/vitals?{query}", p.patient.id),
            &p.nurse.token,
        )
        .await;
        assert_eq!(r.status(), 422, "{query}");
        let body = problem(r).await;
        assert!(body.to_string().contains(field), "{query}: {body}");
    }
}
