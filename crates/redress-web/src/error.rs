//! The one error type at the HTTP edge.
//!
//! Policy: every error answers `{"error": {"code", "message", "fields",
//! "reasons"}}`: `fields` names each refused field with an English
//! sentence, `reasons` with its machine code (`required`, `too_long`, …).
//! 400 a body that is not JSON, 422 missing or invalid fields (each named
//! in `fields`), 401 no or bad credentials, 403 the wrong person, 404 not
//! there or not visible, 409 the case's state does not allow it, 413 too
//! large, 429 rate-limited. A 500 is logged with its cause and answered
//! with a generic message: internals never reach the caller.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use redress_app::AppError;
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// The refused fields (422), each with its reason.
    pub fields: Option<Box<redress_domain::FieldErrors>>,
    /// Seconds for a `Retry-After` header (429, 503).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            fields: None,
            retry_after: None,
        }
    }

    pub fn bad_json(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_json", message)
    }

    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "not found")
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound => Self::not_found(),
            AppError::Unauthorized => Self::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "credentials are missing or wrong",
            ),
            AppError::Forbidden(m) => Self::new(StatusCode::FORBIDDEN, "forbidden", m),
            AppError::Invalid(fields) => {
                let names: Vec<&str> = fields.0.keys().map(String::as_str).collect();
                Self {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    code: "invalid_fields",
                    message: format!("invalid or missing fields: {}", names.join(", ")),
                    fields: Some(Box::new(fields)),
                    retry_after: None,
                }
            }
            AppError::Conflict(m) => Self::new(StatusCode::CONFLICT, "conflict", m),
            AppError::TooLarge(m) => Self::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", m),
            AppError::RateLimited => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many requests; try again in a minute",
            )
            .retry_after(60),
            AppError::Throttled(seconds) => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many failed attempts; try again in {seconds} seconds"),
            )
            .retry_after(seconds),
            AppError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "something went wrong on our side",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (fields, reasons) = match &self.fields {
            Some(f) => (json!(f), json!(f.codes())),
            None => (json!({}), json!({})),
        };
        let body = json!({"error": {
            "code": self.code,
            "message": self.message,
            "fields": fields,
            "reasons": reasons,
        }});
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(seconds),
            );
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
