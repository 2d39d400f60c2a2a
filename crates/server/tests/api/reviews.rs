//! Reviews through the API: one per completed visit by its patient, edited in place (never a
//! duplicate), author-only edits and deletes, rating summaries in the directory, hospital
//! replies, abuse reports for the hospital's admins, and bad input.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, problem};
use crate::people::{Person, get, post};
use crate::visits::clinic;

async fn review(
    app: &TestApp,
    who: &Person,
    visit: Uuid,
    stars: i64,
    text: &str,
) -> reqwest::Response {
    post(
        app,
        &format!("/api/v1/appointments/{visit}/review"),
        Some(&who.token),
        json!({"stars": stars, "text": text}),
    )
    .await
}

async fn edit(app: &TestApp, who: &Person, id: &str, stars: i64, text: &str) -> reqwest::Response {
    app.client
        .put(app.url(&format!("/api/v1/reviews/{id}")))
        .bearer_auth(&who.token)
        .json(&json!({"stars": stars, "text": text}))
        .send()
        .await
        .unwrap()
}

async fn delete(app: &TestApp, who: &Person, id: &str) -> reqwest::Response {
    app.client
        .delete(app.url(&format!("/api/v1/reviews/{id}")))
        .bearer_auth(&who.token)
        .send()
        .await
        .unwrap()
}

async fn public(app: &TestApp, path: &str) -> Value {
    let r = app.get(path).await;
    assert_eq!(r.status(), 200, "{path}");
    r.json().await.unwrap()
}

#[tokio::test]
async fn a_patient_reviews_a_completed_visit_once_and_an_edit_changes_that_review() {
    let c = clinic().await;
    let (app, p) = (&c.app, &c.p);
    let visit = c.completed(&p.patient, "10:00").await;
    let r = review(app, &p.patient, visit, 4, "친절하게 설명해 주셨어요").await;
    assert_eq!(r.status(), 201);
    let written: Value = r.json().await.unwrap();
    let id = written["id"].as_str().unwrap().to_owned();
    assert!(written.get("patient_id").is_none(), "authors are not shown");

    let r = review(app, &p.patient, visit, 5, "또 씁니다").await;
    assert_eq!(r.status(), 409);
    assert_eq!(problem(r).await["code"], "review_exists");

    let r = edit(app, &p.patient, &id, 2, "대기 시간이 길었어요").await;
    assert_eq!(r.status(), 200);
    let edited: Value = r.json().await.unwrap();
    assert_eq!(
        (edited["id"].as_str(), edited["stars"].as_u64()),
        (Some(id.as_str()), Some(2))
    );
    let listed = public(app, &format!("/api/v1/hospitals/{}/reviews", p.h1)).await;
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "an edit never leaves a duplicate");
    assert_eq!(items[0]["text"], "대기 시간이 길었어요");
    let by_doctor = public(app, &format!("/api/v1/doctors/{}/reviews", c.doctor)).await;
    assert_eq!(by_doctor["items"][0]["id"], id);
    assert_eq!(
        public(app, &format!("/api/v1/reviews/{id}")).await["stars"],
        2
    );
}

#[tokio::test]
async fn only_the_author_edits_or_deletes_a_review() {
    let c = clinic().await;
    let (app, p) = (&c.app, &c.p);
    let visit = c.completed(&p.patient, "10:00").await;
    let written: Value = review(app, &p.patient, visit, 5, "최고")
        .await
        .json()
        .await
        .unwrap();
    let id = written["id"].as_str().unwrap();
    for who in [&p.patient_other, &p.hadmin, &p.admin, &p.doctor] {
        let r = edit(app, who, id, 1, "조작").await;
        assert_eq!(r.status(), 403, "{}", who.email);
        assert_eq!(problem(r).await["code"], "forbidden");
        assert_eq!(delete(app, who, id).await.status(), 403, "{}", who.email);
    }
    assert_eq!(
        public(app, &format!("/api/v1/reviews/{id}")).await["text"],
        "최고"
    );
    assert_eq!(delete(app, &p.patient, id).await.status(), 204);
    assert_eq!(
        app.get(&format!("/api/v1/reviews/{id}")).await.status(),
        404
    );
    assert_eq!(delete(app, &p.patient, id).await.status(), 404);
    let listed = public(app, &format!("/api/v1/hospitals/{}/reviews", p.h1)).await;
    assert_eq!(
        listed["items"],
        json!([]),
        "an empty list is 200 with no items"
    );
    // Deleted, the visit may be reviewed afresh.
    assert_eq!(
        review(app, &p.patient, visit, 3, "다시").await.status(),
        201
    );
}

#[tokio::test]
async fn rating_summaries_in_the_directory_follow_every_change() {
    let c = clinic().await;
    let (app, p) = (&c.app, &c.p);
    let hospital = format!("/api/v1/hospitals/{}", p.h1);
    let doctor = format!("/api/v1/doctors/{}", c.doctor);
    let none = json!({"count": 0, "average": null, "distribution": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}});
    assert_eq!(public(app, &hospital).await["rating"], none);
    assert_eq!(public(app, &doctor).await["rating"], none);

    let first = c.completed(&p.patient, "10:00").await;
    let second = c.completed(&p.patient_other, "10:30").await;
    review(app, &p.patient, first, 5, "좋아요").await;
    let r: Value = review(app, &p.patient_other, second, 2, "별로")
        .await
        .json()
        .await
        .unwrap();
    let rating = public(app, &hospital).await["rating"].clone();
    assert_eq!(rating["count"], 2);
    assert_eq!(rating["average"], 3.5);
    assert_eq!(
        rating["distribution"],
        json!({"1": 0, "2": 1, "3": 0, "4": 0, "5": 1})
    );
    assert_eq!(public(app, &doctor).await["rating"], rating);
    // The colleague has none of them.
    let colleague = public(app, &format!("/api/v1/doctors/{}", c.colleague_doctor)).await;
    assert_eq!(colleague["rating"], none);

    let id = r["id"].as_str().unwrap();
    edit(app, &p.patient_other, id, 4, "다시 보니 괜찮아요").await;
    let rating = public(app, &hospital).await["rating"].clone();
    assert_eq!(
        (rating["count"].as_u64(), rating["average"].as_f64()),
        (Some(2), Some(4.5))
    );
    delete(app, &p.patient_other, id).await;
    let rating = public(app, &doctor).await["rating"].clone();
    assert_eq!(
        (rating["count"].as_u64(), rating["average"].as_f64()),
        (Some(1), Some(5.0))
    );
}

#[tokio::test]
async fn bad_reviews_are_refused_with_codes_and_write_nothing() {
    let c = clinic().await;
    let (app, p) = (&c.app, &c.p);
    let visit = c.completed(&p.patient, "10:00").await;
    for (stars, text, code, field) in [
        (0, "좋아요", "stars_out_of_range", "stars"),
        (6, "좋아요", "stars_out_of_range", "stars"),
        (-3, "좋아요", "stars_out_of_range", "stars"),
        (5, "  \n ", "empty_text", "text"),
        (5, "null\u{0}byte", "control_character", "text"),
    ] {
        let r = review(app, &p.patient, visit, stars, text).await;
        assert_eq!(r.status(), 422, "{stars} {text:?}");
        let body = problem(r).await;
        assert_eq!(
            (body["code"].as_str(), body["errors"][0]["field"].as_str()),
            (Some(code), Some(field))
        );
    }
    let r = app
        .client
        .post(app.url(&format!("/api/v1/appointments/{visit}/review")))
        .bearer_auth(&p.patient.token)
        .header("accept-language", "ko-KR")
        .json(&json!({"stars": 9, "text": "좋아요"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        problem(r).await["title"],
        "별점은 1점에서 5점 사이여야 합니다"
    );
    let r = review(app, &p.patient, visit, 5, &"가".repeat(2_001)).await;
    assert_eq!(problem(r).await["code"], "text_too_long");
    let r = post(
        app,
        &format!("/api/v1/appointments/{visit}/review"),
        Some(&p.patient.token),
        json!({"stars": "five", "text": "x"}),
    )
    .await;
    assert_eq!(r.status(), 422);
    assert_eq!(problem(r).await["code"], "validation_failed");

    let booked = c.booked(&p.patient, c.doctor, "11:00").await;
    let r = review(app, &p.patient, booked, 5, "아직 진료 전").await;
    assert_eq!(r.status(), 409);
    assert_eq!(problem(r).await["code"], "visit_not_completed");
    // Someone else's visit does not exist for this caller; staff do not review.
    let r = review(app, &p.patient_other, visit, 1, "남의 진료").await;
    assert_eq!(r.status(), 404);
    assert_eq!(problem(r).await["code"], "not_found");
    assert_eq!(review(app, &p.doctor, visit, 5, "셀프").await.status(), 403);
    assert_eq!(
        review(app, &p.patient, Uuid::now_v7(), 5, "없음")
            .await
            .status(),
        404
    );

    let listed = public(app, &format!("/api/v1/hospitals/{}/reviews", p.h1)).await;
    assert_eq!(listed["items"], json!([]));
    assert_eq!(
        public(app, &format!("/api/v1/hospitals/{}", p.h1)).await["rating"]["count"],
        0
    );
}

#[tokio::test]
async fn hospital_admins_reply_and_receive_abuse_reports() {
    let c = clinic().await;
    let (app, p) = (&c.app, &c.p);
    let visit = c.completed(&p.patient, "10:00").await;
    let written: Value = review(app, &p.patient, visit, 1, "불친절")
        .await
        .json()
        .await
        .unwrap();
    let id = written["id"].as_str().unwrap();
    let reply = |who: &Person| {
        let request = app
            .client
            .put(app.url(&format!("/api/v1/reviews/{id}/reply")))
            .bearer_auth(&who.token)
            .json(&json!({"text": "불편을 드려 죄송합니다"}));
        async move { request.send().await.unwrap() }
    };
    assert_eq!(reply(&p.hadmin_h2).await.status(), 403);
    assert_eq!(reply(&p.doctor).await.status(), 403);
    assert_eq!(reply(&p.patient).await.status(), 403);
    let r = reply(&p.hadmin).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["reply"]["text"],
        "불편을 드려 죄송합니다"
    );

    let reports = format!("/api/v1/hospitals/{}/review-reports", p.h1);
    let empty: Value = get(app, &reports, &p.hadmin.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(empty["items"], json!([]));
    let report_path = format!("/api/v1/reviews/{id}/reports");
    let report = |who: &Person, reason: &str| {
        let (token, body) = (who.token.clone(), json!({"text": reason}));
        let path = report_path.clone();
        async move { post(app, &path, Some(&token), body).await }
    };
    assert_eq!(
        report(&p.patient_other, "욕설이 있어요").await.status(),
        201
    );
    let r = report(&p.patient_other, "다시").await;
    assert_eq!(r.status(), 409);
    assert_eq!(problem(r).await["code"], "already_reported");
    let r = report(&p.nurse, " ").await;
    assert_eq!(problem(r).await["code"], "empty_text");
    assert_eq!(
        post(
            app,
            &format!("/api/v1/reviews/{id}/reports"),
            None,
            json!({"text": "x"})
        )
        .await
        .status(),
        401
    );

    let listed: Value = get(app, &reports, &p.hadmin.token)
        .await
        .json()
        .await
        .unwrap();
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["review_id"], id);
    assert_eq!(items[0]["reporter_id"], p.patient_other.id.to_string());
    assert_eq!(get(app, &reports, &p.hadmin_h2.token).await.status(), 403);
    assert_eq!(get(app, &reports, &p.patient.token).await.status(), 403);
}

#[tokio::test]
async fn search_results_carry_rating_summaries_that_follow_a_review() {
    let c = clinic().await;
    let (app, p) = (&c.app, &c.p);
    app.state.directory.rebuild(&app.state.store).await.unwrap();
    let hospital_hit = |page: &Value| {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["id"] == p.h1.to_string())
            .cloned()
            .expect("the clinic's hospital is found")
    };
    let doctors = format!("/api/v1/search/doctors?hospital_id={}", p.h1);
    let doctor_hit = |page: &Value| {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == c.doctor.to_string())
            .cloned()
            .expect("the clinic's doctor is found")
    };
    let before = public(app, "/api/v1/search/hospitals?q=서울대학교병원").await;
    assert_eq!(hospital_hit(&before)["rating"]["count"], 0);
    assert_eq!(
        doctor_hit(&public(app, &doctors).await)["rating"]["count"],
        0
    );

    let visit = c.completed(&p.patient, "10:00").await;
    assert_eq!(
        review(app, &p.patient, visit, 4, "좋아요").await.status(),
        201
    );

    // The instance that took the review forgets the cached summaries at once.
    let after = public(app, "/api/v1/search/hospitals?q=서울대학교병원").await;
    let rating = &hospital_hit(&after)["rating"];
    assert_eq!(
        (rating["count"].as_u64(), rating["average"].as_f64()),
        (Some(1), Some(4.0))
    );
    assert_eq!(rating["distribution"]["4"], 1);
    let rating = &doctor_hit(&public(app, &doctors).await)["rating"];
    assert_eq!(
        (rating["count"].as_u64(), rating["average"].as_f64()),
        (Some(1), Some(4.0))
    );
}
