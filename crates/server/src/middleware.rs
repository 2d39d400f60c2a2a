//! Cross-cutting HTTP behaviour: request ids, timeouts, and turning every error response
//! (including those produced by axum and tower layers) into localised problem+json.

use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use crate::problem::{ApiError, Lang, PROBLEM_JSON, Problem, Unwritten};

pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the current request, in request extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Gives every request an id: the caller's `x-request-id` if it is short and plain (so a
/// balancer's id follows the request through), otherwise a fresh UUIDv7. The id is echoed
/// in the response and appears in every log line of the request.
pub async fn request_id(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        })
        .map(str::to_owned)
        .unwrap_or_else(|| Uuid::now_v7().to_string());
    let value = HeaderValue::from_str(&id).unwrap_or_else(|_| HeaderValue::from_static("invalid"));
    req.headers_mut().insert(REQUEST_ID.clone(), value.clone());
    req.extensions_mut().insert(RequestId(id));
    let mut response = next.run(req).await;
    response.headers_mut().insert(REQUEST_ID.clone(), value);
    response
}

/// Answers 503 `timeout` when a handler has not produced a response in time. Streaming
/// bodies (SSE) are not cut: the limit applies to producing the response head.
pub async fn timeout(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout.into_response(),
    }
}

/// Largest error body we re-read to add the request id and language.
const PROBLEM_REWRITE_LIMIT: usize = 64 * 1024;

/// Makes every error response problem+json with the request id and the client's language.
/// Responses from axum itself (404 for unknown routes, 405, 413 from the body limit) arrive
/// here as plain text and are replaced by the matching problem. Our own problems arrive
/// [`Unwritten`] and are written here, once.
pub async fn problem_details(req: Request, next: Next) -> Response {
    let lang = Lang::from_accept_language(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
    let response = next.run(req).await;
    let status = response.status();
    let unwritten = response.extensions().get::<Unwritten>().is_some();
    if !(unwritten || status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    let (mut parts, body) = response.into_parts();
    let mut problem = if let Some(Unwritten(problem)) = parts.extensions.remove::<Unwritten>() {
        problem
    } else if is_problem {
        match to_bytes(body, PROBLEM_REWRITE_LIMIT)
            .await
            .ok()
            .and_then(|b| serde_json::from_slice::<Problem>(&b).ok())
        {
            Some(p) => p,
            None => Problem::new(status, code_for_status(status)),
        }
    } else {
        Problem::new(status, code_for_status(status))
    };
    problem.request_id = request_id;
    problem.localise(lang);
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}

fn code_for_status(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT => "timeout",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::TOO_MANY_REQUESTS => "too_many_requests",
        StatusCode::SERVICE_UNAVAILABLE => "service_unavailable",
        StatusCode::UNPROCESSABLE_ENTITY => "validation_failed",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    }
}
