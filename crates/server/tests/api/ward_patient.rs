//! The nurse station's per-admission reads and ward picker: vitals history, alarm history,
//! medicines, `/me/wards`; bad queries are precise 422s and outsiders learn nothing.

use serde_json::{Value, json};

use crate::helpers::{problem, spawn_app};
use crate::people::get;
use crate::ward::{ago, report, setup};

#[tokio::test]
async fn ward_staff_read_a_downsampled_vitals_history_and_bad_queries_are_precise_422s() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let r = report(
        &app,
        &s.device,
        json!([
            {"measured_at": ago(300), "kind": "heart_rate", "value": 70, "unit": "/min"},
            {"measured_at": ago(200), "kind": "heart_rate", "value": 90, "unit": "/min"},
            {"measured_at": ago(100), "kind": "heart_rate", "value": 110, "unit": "/min"},
        ]),
    )
    .await;
    assert_eq!(r.status(), 200);
    let path = format!("/api/v1/admissions/{}/vitals", s.admission);
    let r = get(
        &app,
        &format!("{path}?kind=heart_rate&points=1000"),
        &s.p.nurse.token,
    )
    .await;
    assert_eq!(r.status(), 200);
    let h: Value = r.json().await.unwrap();
    let means: Vec<f64> = h["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["mean"].as_f64().unwrap())
        .collect();
    assert_eq!(means, vec![70.0, 90.0, 110.0], "{h}");
    // One bucket for the whole hour: the mean of the three.
    let r = get(
        &app,
        &format!("{path}?kind=heart_rate&points=1"),
        &s.p.nurse.token,
    )
    .await;
    let h: Value = r.json().await.unwrap();
    let total: i64 = h["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["count"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 3, "{h}");

    for (query, field) in [
        ("", "kind"),
        ("?kind=pulse", "kind"),
        ("?kind=spo2&points=0", "points"),
        ("?kind=spo2&from=yesterday", "from"),
        (
            "?kind=spo2&from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
            "from",
        ),
        (
            "?kind=spo2&from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z",
            "to",
        ),
    ] {
        let r = get(&app, &format!("{path}{query}"), &s.p.nurse.token).await;
        assert_eq!(r.status(), 422, "{query}");
        let body = problem(r).await;
        assert_eq!(body["code"], "validation_failed");
        assert_eq!(body["errors"][0]["field"], field, "{query}");
    }
}

#[tokio::test]
async fn only_the_wards_staff_read_an_admission_and_the_ward_picker_lists_what_they_may_watch() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    for what in ["vitals?kind=spo2", "alarms", "medications"] {
        let path = format!("/api/v1/admissions/{}/{what}", s.admission);
        assert_eq!(
            get(&app, &path, &s.p.nurse.token).await.status(),
            200,
            "{what}"
        );
        assert_eq!(
            get(&app, &path, &s.p.nurse_other.token).await.status(),
            403,
            "{what}"
        );
        assert_eq!(
            get(&app, &path, &s.p.patient.token).await.status(),
            403,
            "{what}"
        );
        let unknown = format!("/api/v1/admissions/{}/{what}", uuid::Uuid::now_v7());
        assert_eq!(
            get(&app, &unknown, &s.p.nurse.token).await.status(),
            403,
            "{what}: outsiders learn nothing"
        );
        assert_eq!(
            get(&app, &unknown, &s.p.admin.token).await.status(),
            404,
            "{what}"
        );
    }
    let wards: Vec<Value> = get(&app, "/api/v1/me/wards", &s.p.nurse.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(wards.len(), 1);
    assert_eq!(wards[0]["id"], s.p.ward1.to_string());
    let none: Vec<Value> = get(&app, "/api/v1/me/wards", &s.p.nurse_other.token)
        .await
        .json()
        .await
        .unwrap();
    assert!(none.is_empty());
    let admins: Vec<Value> = get(&app, "/api/v1/me/wards", &s.p.hadmin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(admins.len(), 1, "every ward of their hospital");
}
