//! Every failure is problem+json with a stable code, the request id, and no internals.

use reqwest::StatusCode;

use crate::helpers::{problem, spawn_app};

#[tokio::test]
async fn an_unknown_route_is_404_not_found() {
    let app = spawn_app().await;
    let response = app.get("/api/v1/nothing-here").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = problem(response).await;
    assert_eq!(body["code"], "not_found");
    assert_eq!(body["status"], 404);
    assert_eq!(body["type"], "urn:docde:problem:not_found");
    assert_eq!(body["request_id"], request_id.as_str());
}

#[tokio::test]
async fn a_wrong_method_is_405_with_the_allowed_methods() {
    let app = spawn_app().await;
    let response = app.client.delete(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(
        response.headers()["allow"]
            .to_str()
            .unwrap()
            .contains("GET")
    );
    assert_eq!(problem(response).await["code"], "method_not_allowed");
}

#[tokio::test]
async fn malformed_json_is_400_with_line_and_column() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/probe/echo"))
        .header("content-type", "application/json")
        .body("{\n  \"title\": \"good\",\n  \"stars\": 4,,\n}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = problem(response).await;
    assert_eq!(body["code"], "malformed_json");
    assert_eq!(
        (body["line"].as_u64(), body["column"].as_u64()),
        (Some(3), Some(14))
    );
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415_unsupported_media_type() {
    let app = spawn_app().await;
    for content_type in [Some("text/plain"), None] {
        let mut request = app
            .client
            .post(app.url("/probe/echo"))
            .body(r#"{"title":"a","stars":1}"#);
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        let response = request.send().await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}"
        );
        assert_eq!(problem(response).await["code"], "unsupported_media_type");
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_payload_too_large() {
    let app = spawn_app().await;
    let huge = format!(r#"{{"title":"{}","stars":1}}"#, "a".repeat(10_000));
    let response = app
        .client
        .post(app.url("/probe/echo"))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body = problem(response).await;
    assert_eq!(body["code"], "payload_too_large");
    assert!(body["detail"].as_str().unwrap().contains("4096"));
}

#[tokio::test]
async fn invalid_fields_are_422_naming_each_field() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/probe/echo"))
        .json(&serde_json::json!({"title": "", "stars": 9}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = problem(response).await;
    assert_eq!(body["code"], "validation_failed");
    let mut fields: Vec<_> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    fields.sort();
    assert_eq!(fields, ["stars", "title"]);
}

#[tokio::test]
async fn a_field_of_the_wrong_type_is_422_naming_the_field() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/probe/echo"))
        .json(&serde_json::json!({"title": "ok", "stars": "five"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem(response).await["errors"][0]["field"], "stars");
}

#[tokio::test]
async fn a_valid_body_is_accepted() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/probe/echo"))
        .json(&serde_json::json!({"title": "친절해요", "stars": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["title"],
        "친절해요"
    );
}

#[tokio::test]
async fn a_handler_that_takes_too_long_is_503_timeout() {
    let app = spawn_app().await;
    let response = app.get("/probe/slow?ms=5000").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(problem(response).await["code"], "timeout");
}

#[tokio::test]
async fn an_internal_error_is_a_generic_500_without_internals() {
    let app = spawn_app().await;
    for path in ["/probe/internal", "/probe/panic"] {
        let response = app.get(path).await;
        assert_eq!(
            response.status(),
            StatusCode::INTERNAL_SERVER_ERROR,
            "{path}"
        );
        let body = problem(response).await;
        assert_eq!(body["code"], "internal");
        let text = body.to_string();
        assert!(
            !text.contains("Kim Minji") && !text.contains("patient_secret_table"),
            "{path} leaked: {text}"
        );
    }
    assert_eq!(
        app.get("/healthz").await.status(),
        StatusCode::OK,
        "the server survives a panic"
    );
}

#[tokio::test]
async fn problem_titles_follow_accept_language() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/nope"))
        .header("accept-language", "ko-KR,ko;q=0.9")
        .send()
        .await
        .unwrap();
    assert_eq!(problem(response).await["title"], "찾을 수 없습니다");
    let response = app
        .client
        .get(app.url("/nope"))
        .header("accept-language", "en-US")
        .send()
        .await
        .unwrap();
    assert_eq!(problem(response).await["title"], "Not found");
}

#[tokio::test]
async fn a_plain_caller_request_id_is_kept_and_a_suspicious_one_replaced() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "lb-1234.abc")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "lb-1234.abc");
    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "name=Kim Minji")
        .send()
        .await
        .unwrap();
    let id = response.headers()["x-request-id"].to_str().unwrap();
    assert!(
        uuid::Uuid::parse_str(id).is_ok(),
        "replaced by a fresh id, got {id}"
    );
}
