//! Passwords over HTTP: changing, resetting by e-mailed code, and deleting an account.

use reqwest::StatusCode;
use serde_json::json;

use crate::accounts::sign_up_body;
use crate::helpers::{problem, spawn_app};
use crate::people::{PASSWORD, code_in, get, mails_to, nth_mail_to, post, sign_in};

#[tokio::test]
async fn changing_the_password_ends_other_sessions_and_retires_the_old_one() {
    let app = spawn_app().await;
    let people = crate::people::people(&app).await;
    let other = sign_in(&app, &people.doctor.email, PASSWORD).await;
    let new = "a different long passphrase";
    let wrong = post(
        &app,
        "/api/v1/auth/password",
        Some(&people.doctor.token),
        json!({"current_password": "nope nope nope", "new_password": new}),
    )
    .await;
    assert_eq!(problem(wrong).await["code"], "wrong_password");
    let weak = post(
        &app,
        "/api/v1/auth/password",
        Some(&people.doctor.token),
        json!({"current_password": PASSWORD, "new_password": "qwerty"}),
    )
    .await;
    assert_eq!(problem(weak).await["code"], "weak_password");
    let ok = post(
        &app,
        "/api/v1/auth/password",
        Some(&people.doctor.token),
        json!({"current_password": PASSWORD, "new_password": new}),
    )
    .await;
    assert_eq!(ok.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        get(&app, "/api/v1/users/me", &people.doctor.token)
            .await
            .status(),
        StatusCode::OK,
        "this session continues"
    );
    let ended = get(
        &app,
        "/api/v1/users/me",
        other["access_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(problem(ended).await["code"], "session_revoked");
    sign_in(&app, &people.doctor.email, new).await;
    let old = post(
        &app,
        "/api/v1/auth/sign-in",
        None,
        json!({"email": people.doctor.email, "password": PASSWORD}),
    )
    .await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_forgotten_password_is_reset_by_emailed_code_and_every_session_ends() {
    let app = spawn_app().await;
    let people = crate::people::people(&app).await;
    let email = &people.nurse.email;
    let response = post(
        &app,
        "/api/v1/auth/password/forgot",
        None,
        json!({"email": email}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let unknown = post(
        &app,
        "/api/v1/auth/password/forgot",
        None,
        json!({"email": "ghost@example.kr"}),
    )
    .await;
    assert_eq!(
        unknown.status(),
        StatusCode::ACCEPTED,
        "no hint whether the account exists"
    );
    let code = code_in(&nth_mail_to(&app, email, 1).await);
    let new = "reset to a new passphrase";
    let response = post(
        &app,
        "/api/v1/auth/password/reset",
        None,
        json!({"email": email, "code": code, "new_password": new}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        problem(get(&app, "/api/v1/users/me", &people.nurse.token).await).await["code"],
        "session_revoked"
    );
    sign_in(&app, email, new).await;
    let again = post(
        &app,
        "/api/v1/auth/password/reset",
        None,
        json!({"email": email, "code": code, "new_password": "yet another passphrase"}),
    )
    .await;
    assert_eq!(
        problem(again).await["code"],
        "invalid_code",
        "a code works once"
    );
}

#[tokio::test]
async fn deleting_an_account_asks_for_the_password_and_frees_the_address() {
    let app = spawn_app().await;
    let people = crate::people::people(&app).await;
    let email = people.patient.email.clone();
    let delete = |password: &'static str| {
        app.client
            .delete(app.url("/api/v1/users/me"))
            .bearer_auth(&people.patient.token)
            .json(&json!({"password": password}))
            .send()
    };
    assert_eq!(
        problem(delete("not my password!").await.unwrap()).await["code"],
        "wrong_password"
    );
    assert_eq!(
        delete(PASSWORD).await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        problem(get(&app, "/api/v1/users/me", &people.patient.token).await).await["code"],
        "session_revoked"
    );
    let signin = post(
        &app,
        "/api/v1/auth/sign-in",
        None,
        json!({"email": email, "password": PASSWORD}),
    )
    .await;
    assert_eq!(signin.status(), StatusCode::UNAUTHORIZED);

    let before = mails_to(&app, &email);
    assert_eq!(
        post(
            &app,
            "/api/v1/auth/sign-up",
            None,
            sign_up_body(&email, PASSWORD)
        )
        .await
        .status(),
        StatusCode::ACCEPTED
    );
    let body = nth_mail_to(&app, &email, before + 1).await;
    assert!(
        body.contains("enter this code"),
        "the address can sign up again: {body}"
    );
}
