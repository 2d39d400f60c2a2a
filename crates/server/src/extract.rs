//! Request extractors that fail with precise problem+json instead of axum's plain-text
//! rejections.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::de::DeserializeOwned;

use crate::problem::{ApiError, FieldError};

/// A JSON body, parsed and validated. Failures:
/// - wrong or missing `Content-Type` → 415 `unsupported_media_type`;
/// - body over the configured limit → 413 `payload_too_large`;
/// - not JSON → 400 `malformed_json` with line and column;
/// - JSON of the wrong shape (missing field, wrong type) or failing validation →
///   422 `validation_failed` naming each offending field.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + garde::Validate,
    T::Context: Default,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers().get(header::CONTENT_TYPE)) {
            return Err(ApiError::UnsupportedMediaType {
                expected: "application/json",
            });
        }
        let limit = req
            .extensions()
            .get::<BodyLimit>()
            .map(|l| l.0)
            .unwrap_or(usize::MAX);
        let bytes = Bytes::from_request(req, state).await.map_err(|e| match e {
            BytesRejection::FailedToBufferBody(_) => ApiError::PayloadTooLarge { limit },
            other => ApiError::Internal(anyhow::anyhow!("reading request body: {other}")),
        })?;
        let value: T = parse(&bytes)?;
        value.validate().map_err(|report| {
            ApiError::Validation(
                report
                    .iter()
                    .map(|(path, error)| FieldError {
                        field: path.to_string(),
                        message: error.message().to_owned(),
                    })
                    .collect(),
            )
        })?;
        Ok(ApiJson(value))
    }
}

/// The configured body limit, put in request extensions so rejections can quote it.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

fn is_json(content_type: Option<&header::HeaderValue>) -> bool {
    let Some(value) = content_type.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parses JSON, telling syntax errors (400, with position) from shape errors (422, with path).
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => ApiError::Validation(vec![FieldError {
                field: if path == "." { String::new() } else { path },
                message: strip_position(&inner.to_string()),
            }]),
            _ => malformed(&inner),
        }
    })?;
    de.end().map_err(|e| malformed(&e))?;
    Ok(value)
}

fn malformed(e: &serde_json::Error) -> ApiError {
    ApiError::MalformedJson {
        detail: strip_position(&e.to_string()),
        line: e.line(),
        column: e.column(),
    }
}

/// serde_json appends " at line L column C"; the position has its own fields.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Shape {
        name: String,
        inner: Inner,
    }
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    #[test]
    fn syntax_errors_report_line_and_column() {
        let err = parse::<Shape>(b"{\n  \"name\": \"a\",\n  oops\n}").unwrap_err();
        match err {
            ApiError::MalformedJson { line, column, .. } => assert_eq!((line, column), (3, 3)),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn shape_errors_name_the_field_path() {
        let err = parse::<Shape>(br#"{"name":"a","inner":{"count":"many"}}"#).unwrap_err();
        match err {
            ApiError::Validation(fields) => assert_eq!(fields[0].field, "inner.count"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn trailing_garbage_is_a_syntax_error() {
        assert!(matches!(
            parse::<Inner>(br#"{"count":1} x"#),
            Err(ApiError::MalformedJson { .. })
        ));
    }

    #[test]
    fn json_content_types_are_recognised() {
        let v = |s: &'static str| header::HeaderValue::from_static(s);
        assert!(is_json(Some(&v("application/json; charset=utf-8"))));
        assert!(is_json(Some(&v("application/merge-patch+json"))));
        assert!(!is_json(Some(&v("text/plain"))));
        assert!(!is_json(None));
    }
}
