//! Sign-up, verification, sign-in, tokens, passwords and account deletion over HTTP.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{problem, spawn_app};
use crate::people::{PASSWORD, code_in, get, nth_mail_to, post, sign_in};

pub(crate) fn sign_up_body(email: &str, password: &str) -> Value {
    json!({
        "email": email, "password": password, "name": "김민지", "phone": "010-2345-6789",
        "birth_date": "1990-05-01", "gender": "female", "address": "서울특별시 종로구 대학로 101"
    })
}

async fn user_count(app: &crate::helpers::TestApp) -> i64 {
    docde_store::with_reader!(app.state.store, pool => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users")
        .fetch_one(pool)
        .await
        .unwrap())
}

#[tokio::test]
async fn a_patient_signs_up_verifies_signs_in_refreshes_and_logs_out() {
    let app = spawn_app().await;
    let email = "minji.kim@example.kr";
    let response = post(
        &app,
        "/api/v1/auth/sign-up",
        None,
        sign_up_body(email, PASSWORD),
    )
    .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);

    let response = post(
        &app,
        "/api/v1/auth/sign-in",
        None,
        json!({"email": email, "password": PASSWORD}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(problem(response).await["code"], "email_not_verified");

    let code = code_in(&nth_mail_to(&app, email, 1).await);
    assert_eq!(code.len(), 6);
    let response = post(
        &app,
        "/api/v1/auth/verify-email",
        None,
        json!({"email": "Minji.Kim@Example.kr", "code": code}),
    )
    .await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "verification is case-insensitive on the address"
    );

    let tokens = sign_in(&app, email, PASSWORD).await;
    let access = tokens["access_token"].as_str().unwrap();
    let me: Value = get(&app, "/api/v1/users/me", access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            me["email"].as_str(),
            me["role"].as_str(),
            me["status"].as_str()
        ),
        (Some(email), Some("patient"), Some("active"))
    );
    assert_eq!(me["phone"], "010-2345-6789");

    let refreshed = post(
        &app,
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": tokens["refresh_token"]}),
    )
    .await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    let refreshed: Value = refreshed.json().await.unwrap();
    let new_access = refreshed["access_token"].as_str().unwrap();
    assert_eq!(
        get(&app, "/api/v1/users/me", new_access).await.status(),
        StatusCode::OK
    );

    let response = post(&app, "/api/v1/auth/logout", Some(new_access), json!({})).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    for token in [access, new_access] {
        let response = get(&app, "/api/v1/users/me", token).await;
        assert_eq!(
            problem(response).await["code"],
            "session_revoked",
            "logout ends every token of the session"
        );
    }
    let response = post(
        &app,
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": refreshed["refresh_token"]}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn signing_up_with_a_taken_address_looks_the_same_and_warns_the_owner() {
    let app = spawn_app().await;
    let people = crate::people::people(&app).await;
    let response = post(
        &app,
        "/api/v1/auth/sign-up",
        None,
        sign_up_body(&people.patient.email, "another long passphrase"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body = nth_mail_to(&app, &people.patient.email, 1).await;
    assert!(body.contains("already has an account"), "{body}");
    sign_in(&app, &people.patient.email, PASSWORD).await;
}

#[tokio::test]
async fn bad_sign_up_input_is_422_naming_the_field_and_creates_nothing() {
    let app = spawn_app().await;
    let before = user_count(&app).await;
    let cases = [
        (
            "email",
            sign_up_body("not-an-address", PASSWORD),
            "validation_failed",
        ),
        (
            "password",
            sign_up_body("a@example.kr", "short"),
            "weak_password",
        ),
        (
            "password",
            sign_up_body("a@example.kr", "Password123!"),
            "weak_password",
        ),
        (
            "phone",
            {
                let mut b = sign_up_body("a@example.kr", PASSWORD);
                b["phone"] = json!("call me");
                b
            },
            "validation_failed",
        ),
        (
            "birth_date",
            {
                let mut b = sign_up_body("a@example.kr", PASSWORD);
                b["birth_date"] = json!("2999-01-01");
                b
            },
            "validation_failed",
        ),
        (
            "gender",
            {
                let mut b = sign_up_body("a@example.kr", PASSWORD);
                b["gender"] = json!("unknown");
                b
            },
            "validation_failed",
        ),
        (
            "name",
            {
                let mut b = sign_up_body("a@example.kr", PASSWORD);
                b["name"] = json!("");
                b
            },
            "validation_failed",
        ),
    ];
    for (field, body, code) in cases {
        let response = post(&app, "/api/v1/auth/sign-up", None, body).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}"
        );
        let p = problem(response).await;
        assert_eq!(p["code"], code, "{field}");
        assert_eq!(p["errors"][0]["field"], field);
    }
    assert_eq!(user_count(&app).await, before, "no partial account");
}

#[tokio::test]
async fn wrong_codes_count_down_and_then_the_code_is_dead() {
    let app = spawn_app().await;
    let email = "tries@example.kr";
    post(
        &app,
        "/api/v1/auth/sign-up",
        None,
        sign_up_body(email, PASSWORD),
    )
    .await;
    let code = code_in(&nth_mail_to(&app, email, 1).await);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for remaining in (1..=4).rev() {
        let p = problem(
            post(
                &app,
                "/api/v1/auth/verify-email",
                None,
                json!({"email": email, "code": wrong}),
            )
            .await,
        )
        .await;
        assert_eq!(p["code"], "invalid_code");
        assert_eq!(p["detail"], format!("{remaining} attempts left"));
    }
    let p = problem(
        post(
            &app,
            "/api/v1/auth/verify-email",
            None,
            json!({"email": email, "code": wrong}),
        )
        .await,
    )
    .await;
    assert_eq!(p["code"], "code_exhausted");
    let p = problem(
        post(
            &app,
            "/api/v1/auth/verify-email",
            None,
            json!({"email": email, "code": code}),
        )
        .await,
    )
    .await;
    assert_eq!(
        p["code"], "code_exhausted",
        "even the right code is refused once the code is dead"
    );

    let response = post(
        &app,
        "/api/v1/auth/verify-email",
        None,
        json!({"email": email, "code": "12ab56"}),
    )
    .await;
    assert_eq!(problem(response).await["errors"][0]["field"], "code");
}

#[tokio::test]
async fn an_expired_code_is_refused_and_a_resend_waits_a_minute() {
    let app = spawn_app().await;
    let email = "late@example.kr";
    post(
        &app,
        "/api/v1/auth/sign-up",
        None,
        sign_up_body(email, PASSWORD),
    )
    .await;
    let code = code_in(&nth_mail_to(&app, email, 1).await);
    let past = chrono::Utc::now() - chrono::Duration::minutes(1);
    docde_store::with_writer!(app.state.store, pool => sqlx::query("UPDATE one_time_codes SET expires_at = $1").bind(past).execute(pool).await.map(|_| ())).unwrap();
    let p = problem(
        post(
            &app,
            "/api/v1/auth/verify-email",
            None,
            json!({"email": email, "code": code}),
        )
        .await,
    )
    .await;
    assert_eq!(p["code"], "code_expired");

    let response = post(
        &app,
        "/api/v1/auth/resend-verification",
        None,
        json!({"email": email}),
    )
    .await;
    assert_eq!(
        response.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "sign-up sent a code less than a minute ago"
    );
    assert_eq!(problem(response).await["code"], "resend_too_soon");
    let unknown = post(
        &app,
        "/api/v1/auth/resend-verification",
        None,
        json!({"email": "nobody@example.kr"}),
    )
    .await;
    assert_eq!(
        unknown.status(),
        StatusCode::ACCEPTED,
        "unknown addresses look like known ones"
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_account_are_the_same_401() {
    let app = spawn_app().await;
    let people = crate::people::people(&app).await;
    for body in [
        json!({"email": people.doctor.email, "password": "not the password at all"}),
        json!({"email": "nobody@example.kr", "password": PASSWORD}),
    ] {
        let response = post(&app, "/api/v1/auth/sign-in", None, body).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(problem(response).await["code"], "invalid_credentials");
    }
}

#[tokio::test]
async fn a_reused_refresh_token_ends_the_whole_session() {
    let app = spawn_app().await;
    let people = crate::people::people(&app).await;
    let first = sign_in(&app, &people.patient.email, PASSWORD).await;
    let second: Value = post(
        &app,
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": first["refresh_token"]}),
    )
    .await
    .json()
    .await
    .unwrap();

    let replay = post(
        &app,
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": first["refresh_token"]}),
    )
    .await;
    assert_eq!(problem(replay).await["code"], "refresh_token_reused");
    let legit = post(
        &app,
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": second["refresh_token"]}),
    )
    .await;
    assert_eq!(problem(legit).await["code"], "session_revoked");
    let access = get(
        &app,
        "/api/v1/users/me",
        second["access_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(problem(access).await["code"], "session_revoked");
    assert_eq!(
        get(&app, "/api/v1/users/me", &people.patient.token)
            .await
            .status(),
        StatusCode::OK,
        "other sessions live on"
    );
}

#[tokio::test]
async fn concurrent_refreshes_with_one_token_cannot_both_succeed() {
    let app = spawn_app().await;
    let people = crate::people::people(&app).await;
    let pair = sign_in(&app, &people.patient.email, PASSWORD).await;
    let attempts = (0..8).map(|_| {
        post(
            &app,
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": pair["refresh_token"]}),
        )
    });
    let statuses: Vec<_> = futures::future::join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.status())
        .collect();
    assert!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count() <= 1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn tokens_are_not_interchangeable_and_bad_headers_are_precise_401s() {
    let app = spawn_app().await;
    let people = crate::people::people(&app).await;
    let pair = sign_in(&app, &people.patient.email, PASSWORD).await;
    let refresh = pair["refresh_token"].as_str().unwrap();
    let access = pair["access_token"].as_str().unwrap();

    assert_eq!(
        problem(get(&app, "/api/v1/users/me", refresh).await).await["code"],
        "invalid_token",
        "refresh as access"
    );
    let p = problem(
        post(
            &app,
            "/api/v1/auth/refresh",
            None,
            json!({"refresh_token": access}),
        )
        .await,
    )
    .await;
    assert_eq!(p["code"], "invalid_refresh_token", "access as refresh");

    let mut tampered = access.to_owned();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(
        problem(get(&app, "/api/v1/users/me", &tampered).await).await["code"],
        "invalid_token"
    );

    let payload = access.split('.').nth(1).unwrap();
    let alg_none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
    assert_eq!(
        problem(get(&app, "/api/v1/users/me", &alg_none).await).await["code"],
        "invalid_token"
    );

    let missing = app
        .client
        .get(app.url("/api/v1/users/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(missing.headers()["www-authenticate"], "Bearer");
    assert_eq!(problem(missing).await["code"], "unauthorized");
    for header in ["Bearer", "Token abc", "Basic !!!not-base64"] {
        let r = app
            .client
            .get(app.url("/api/v1/users/me"))
            .header("authorization", header)
            .send()
            .await
            .unwrap();
        assert_eq!(
            problem(r).await["code"],
            "invalid_authorization",
            "{header}"
        );
    }
}

#[tokio::test]
async fn an_expired_access_token_is_401_token_expired() {
    let app = crate::helpers::spawn_app_with(|c| c.auth.access_ttl_s = 1).await;
    let people = crate::people::people(&app).await;
    tokio::time::sleep(std::time::Duration::from_millis(7_000)).await;
    let p = problem(get(&app, "/api/v1/users/me", &people.patient.token).await).await;
    assert_eq!(p["code"], "token_expired");
}

#[tokio::test]
async fn repeated_sign_in_attempts_on_one_account_are_429_with_retry_after() {
    let app = spawn_app().await;
    let people = crate::people::people(&app).await;
    let mut last = None;
    for _ in 0..11 {
        last = Some(
            post(
                &app,
                "/api/v1/auth/sign-in",
                None,
                json!({"email": people.reception.email, "password": "wrong wrong wrong"}),
            )
            .await,
        );
    }
    let last = last.unwrap();
    assert_eq!(last.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(last.headers()["retry-after"], "900");
    assert_eq!(problem(last).await["code"], "too_many_requests");
}

/// The whole journey through a real SMTP server: the code is read from what the server received.
#[tokio::test]
async fn the_whole_account_journey_works_through_a_real_smtp_server() {
    if !crate::smtp::smtp_server_available() {
        return;
    }
    let smtp = crate::smtp::SmtpServer::start().await;
    let app = crate::helpers::spawn_app_with(crate::smtp::smtp_to(smtp.port)).await;
    let email = "journey@example.kr";
    assert_eq!(
        post(
            &app,
            "/api/v1/auth/sign-up",
            None,
            sign_up_body(email, PASSWORD)
        )
        .await
        .status(),
        StatusCode::ACCEPTED
    );

    let received = smtp.wait_for_messages(1).await;
    assert_eq!(received[0].to, email);
    assert!(
        received[0].subject.contains("인증 코드"),
        "{}",
        received[0].subject
    );
    let code = code_in(&received[0].body);
    assert_eq!(
        post(
            &app,
            "/api/v1/auth/verify-email",
            None,
            json!({"email": email, "code": code})
        )
        .await
        .status(),
        StatusCode::OK
    );

    let pair = sign_in(&app, email, PASSWORD).await;
    let refreshed: Value = post(
        &app,
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": pair["refresh_token"]}),
    )
    .await
    .json()
    .await
    .unwrap();
    let access = refreshed["access_token"].as_str().unwrap();
    assert_eq!(
        get(&app, "/api/v1/users/me", access).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        post(&app, "/api/v1/auth/logout", Some(access), json!({}))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        get(&app, "/api/v1/users/me", access).await.status(),
        StatusCode::UNAUTHORIZED
    );

    let sent = smtp.read_messages();
    assert_eq!(sent.len(), 1, "one e-mail for the whole journey");
    assert!(
        !std::fs::exists(app.data_dir.join("outbox")).unwrap_or(false)
            || docde_server::mail::list_directory(&app.data_dir.join("outbox"))
                .unwrap()
                .is_empty(),
        "with SMTP configured nothing goes to the on-disk outbox"
    );
}
