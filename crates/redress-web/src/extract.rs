//! Extractors that keep every rejection in the API's error format.

use std::net::IpAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Multipart, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use redress_app::Principal;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;

/// A JSON body parsed to a `Value` (field checks happen in the app, so
/// that every bad field is named); an empty body is `null`. Keeps the
/// SHA-256 of the raw bytes for idempotency.
pub struct JsonBody {
    pub value: Value,
    pub sha256: String,
}

/// JSON bodies larger than this are refused with 413 (uploads have their own limit).
pub const JSON_LIMIT: usize = 1024 * 1024;

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, Self::Rejection> {
        let bytes: Bytes = axum::body::to_bytes(req.into_body(), JSON_LIMIT)
            .await
            .map_err(|_| {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too_large",
                    format!("a JSON body may have at most {JSON_LIMIT} bytes"),
                )
            })?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self {
                value: Value::Null,
                sha256,
            });
        }
        let value = serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::bad_json(format!("the body is not valid JSON: {e}")))?;
        Ok(Self { value, sha256 })
    }
}

/// The caller, from `Authorization: Bearer …`.
pub struct Caller(pub Principal);

/// The raw bearer token, if any.
pub fn bearer(parts: &Parts) -> Option<String> {
    let value = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts);
        Ok(Caller(state.app.authenticate(token.as_deref()).await?))
    }
}

/// The bearer token as given (complainant access tokens).
pub struct Token(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Token {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Token(bearer(parts)))
    }
}

/// The client's address, when the server was started with connect info.
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// One uploaded file from a multipart body: the first part with a file
/// name (or named `file`), read with a size cap.
pub struct Upload {
    pub filename: Option<String>,
    pub bytes: Vec<u8>,
}

pub async fn read_upload(mut multipart: Multipart, max_bytes: u64) -> Result<Upload, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("a file may have at most {max_bytes} bytes"),
        )
    };
    let map_err = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_multipart", e.body_text())
        }
    };
    while let Some(mut field) = multipart.next_field().await.map_err(map_err)? {
        let is_file = field.file_name().is_some() || field.name() == Some("file");
        if !is_file {
            continue;
        }
        let filename = field.file_name().map(str::to_string);
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(map_err)? {
            if (bytes.len() + chunk.len()) as u64 > max_bytes {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        return Ok(Upload { filename, bytes });
    }
    Err(redress_app::AppError::invalid("file", "is required (a multipart part named file)").into())
}

/// Query parameters, with a malformed query string answered in the API's
/// error format.
pub struct Params<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Params(q.0))
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))
    }
}

/// A multipart body, with a wrong content type answered in the API's
/// error format.
pub struct MultipartBody(pub Multipart);

impl<S: Send + Sync> FromRequest<S> for MultipartBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Multipart::from_request(req, state)
            .await
            .map(MultipartBody)
            .map_err(|e| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_multipart",
                    format!(
                        "send the file as multipart/form-data with a part named file ({})",
                        e.body_text()
                    ),
                )
            })
    }
}
