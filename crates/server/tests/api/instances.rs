//! Two instances sharing PostgreSQL and Redis behave as one service.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{external_backends, problem, spawn_app, spawn_peer};
use crate::people::{people, post, sign_in};

#[tokio::test]
async fn sign_in_limits_are_counted_across_instances_sharing_redis() {
    if !external_backends("sign_in_limits_are_counted_across_instances_sharing_redis") {
        return;
    }
    let a = spawn_app().await;
    let b = spawn_peer(&a).await;
    let p = people(&a).await;
    sign_in(&b, &p.doctor.email, crate::people::PASSWORD).await;

    let wrong = json!({"email": p.doctor.email, "password": "wrong wrong wrong"});
    // people() signed the doctor in once on A, and once more on B just now: two attempts.
    for i in 0..8 {
        let app = if i % 2 == 0 { &a } else { &b };
        assert_eq!(
            post(app, "/api/v1/auth/sign-in", None, wrong.clone())
                .await
                .status(),
            StatusCode::UNAUTHORIZED,
            "attempt {i}"
        );
    }
    // Ten attempts so far, split over both instances: the next one, on either, is over.
    let over = post(&a, "/api/v1/auth/sign-in", None, wrong).await;
    assert_eq!(over.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(problem(over).await["code"], "too_many_requests");
}

#[tokio::test]
async fn a_token_issued_by_one_instance_works_on_the_other_and_logout_applies_to_both() {
    if !external_backends(
        "a_token_issued_by_one_instance_works_on_the_other_and_logout_applies_to_both",
    ) {
        return;
    }
    let a = spawn_app().await;
    let b = spawn_peer(&a).await;
    let p = people(&a).await;
    assert_eq!(
        crate::people::get(&b, "/api/v1/users/me", &p.nurse.token)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        post(&b, "/api/v1/auth/logout", Some(&p.nurse.token), json!({}))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let r = crate::people::get(&a, "/api/v1/users/me", &p.nurse.token).await;
    assert_eq!(problem(r).await["code"], "session_revoked");
}
