//! `/track/{tracking_no}…`: the complainant's calls, authorised by the
//! access token given at registration.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::schemas::*;
use crate::error::ApiResult;
use crate::extract::{ClientIp, JsonBody, MultipartBody, Token, read_upload};
use crate::state::AppState;
use redress_app::commands::{
    AppealCommand, FeedbackCommand, PartyMessageCommand, SupplementCommand, WithdrawCommand,
};
use redress_app::views::TrackView as TrackedCase;

/// A lost access code, re-issued to the contact on file: when `contact`
/// is the complainant's e-mail (any case) or phone (by its digits, `+86`
/// when no country is given) and a provider can reach it, a new code is
/// queued to it and only then does the old one stop working. The answer is
/// the same `202` whether or not anything matched; limited per client
/// address and per tracking number (`429`).
#[utoipa::path(post, path = "/track/recover", tag = "complainant",
    request_body = RecoverBody,
    responses((status = 202, body = RecoverAnswer), (status = 400, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn recover(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    body: JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let command = redress_app::commands::RecoverCodeCommand::parse(&body.value)?;
    s.app.recover_code(&command, ip).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({
            "message": "if the contact is the one on file, a new access code is on its way to it"
        })),
    ))
}

/// The complainant's view of their case.
#[utoipa::path(get, path = "/track/{tracking_no}", tag = "complainant", params(("tracking_no" = String, Path)),
    responses((status = 200, body = TrackedCase), (status = 401, body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    Token(t): Token,
    Path(no): Path<String>,
) -> ApiResult<Json<TrackedCase>> {
    Ok(Json(s.app.track(&no, t.as_deref()).await?))
}

/// The complainant's own data as a ZIP (PIPL right of access):
/// `case.json` (this view of the case, as `GET /track/{tracking_no}`
/// answers it), `README.txt` and `files/<sha256>`, the files they uploaded
/// themselves. Same checks and throttle as `GET /track/{tracking_no}`.
#[utoipa::path(get, path = "/track/{tracking_no}/export", tag = "complainant", params(("tracking_no" = String, Path)),
    responses((status = 200, content_type = "application/zip", body = inline(Binary)), (status = 401, body = ErrorBody),
              (status = 429, body = ErrorBody)))]
pub async fn export(
    State(s): State<AppState>,
    Token(t): Token,
    Path(no): Path<String>,
) -> ApiResult<Response> {
    Ok(zip_download(s.app.track_export(&no, t.as_deref()).await?))
}

/// A data export as a streamed download.
pub(crate) fn zip_download(export: redress_app::export::DataExport) -> Response {
    let name = export.filename.clone();
    let len = export.len;
    (
        [
            (header::CONTENT_TYPE, "application/zip".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CONTENT_LENGTH, len.to_string()),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        Body::from_stream(export.into_stream()),
    )
        .into_response()
}

/// An evidence file as a download: opened in the browser when it is a
/// picture, a PDF or plain text, else saved; never run as a page (sandbox
/// policy, no sniffing).
/// The file types a browser may show in place (their type was sniffed
/// from the content at upload): pictures it decodes safely and PDF. Every
/// other file, text included, is downloaded; either way it is served
/// sandboxed and `nosniff`.
pub(crate) fn opens_inline(content_type: &str) -> bool {
    matches!(
        content_type,
        "image/png" | "image/jpeg" | "image/gif" | "image/webp" | "application/pdf"
    )
}

/// A thumbnail made at upload: a JPEG this server encoded, cached by
/// the browser that showed it only.
pub(crate) fn thumbnail_response(bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "private, max-age=86400"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CONTENT_SECURITY_POLICY, "sandbox"),
        ],
        bytes,
    )
        .into_response()
}

pub(crate) fn file_download(file: redress_app::files::EvidenceFile) -> Response {
    let inline = opens_inline(&file.content_type);
    let content_type = if file.content_type == "text/plain" {
        "text/plain; charset=utf-8".to_string()
    } else {
        file.content_type.clone()
    };
    // The name as typed, for the browser's save dialog: an ASCII stand-in
    // and the UTF-8 name (RFC 6266).
    let ascii: String = file
        .filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = file
        .filename
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let disposition = format!(
        "{}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}",
        if inline { "inline" } else { "attachment" }
    );
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            (
                header::CONTENT_SECURITY_POLICY,
                "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
                    .to_string(),
            ),
        ],
        file.bytes,
    )
        .into_response()
}

/// Opens a file of the case: the complainant's own uploads and what staff
/// shared with them (404 for any other).
/// The file comes with the type it was stored with (one of the evidence
/// types: pictures, PDF, audio, video, office documents, text), hence `*/*`.
#[utoipa::path(get, path = "/track/{tracking_no}/evidence/{evidence_id}", tag = "complainant",
    params(("tracking_no" = String, Path), ("evidence_id" = String, Path)),
    responses((status = 200, content_type = "*/*", body = inline(Binary)),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn evidence_file(
    State(s): State<AppState>,
    Token(t): Token,
    Path((no, evidence_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    Ok(file_download(
        s.app
            .track_evidence_file(&no, t.as_deref(), &evidence_id)
            .await?,
    ))
}

macro_rules! track_action {
    ($name:ident, $path:literal, $body:ty, $method:ident, $command:ty, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "complainant", params(("tracking_no" = String, Path)),
            request_body = $body,
            responses((status = 200, body = TrackedCase), (status = 401, body = ErrorBody),
                      (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
        pub async fn $name(
            State(s): State<AppState>,
            Token(t): Token,
            Path(no): Path<String>,
            body: JsonBody,
        ) -> ApiResult<Json<TrackedCase>> {
            let command = <$command>::parse(&body.value)?;
            Ok(Json(s.app.$method(&no, t.as_deref(), &command).await?))
        }
    };
}

track_action!(
    supplement,
    "/track/{tracking_no}/supplement",
    SupplementBody,
    supplement,
    SupplementCommand,
    "Adds the requested material → `submitted`."
);
track_action!(
    message,
    "/track/{tracking_no}/messages",
    BodyOnly,
    track_message,
    PartyMessageCommand,
    "A reply from the complainant."
);
track_action!(
    appeal,
    "/track/{tracking_no}/appeal",
    ReasonBody,
    appeal,
    AppealCommand,
    "Appeals once within the window → `under_review`."
);
track_action!(
    withdraw,
    "/track/{tracking_no}/withdraw",
    ReasonBody,
    withdraw,
    WithdrawCommand,
    "Withdraws before a result → `closed`/`withdrawn`."
);
track_action!(
    feedback,
    "/track/{tracking_no}/feedback",
    FeedbackBody,
    feedback,
    FeedbackCommand,
    "Rates the handling (1–5)."
);

/// Uploads evidence; while material is requested the file joins the case
/// and the stage goes on until `supplement`.
#[utoipa::path(post, path = "/track/{tracking_no}/evidence", tag = "complainant", params(("tracking_no" = String, Path)),
    request_body(content = UploadBody, content_type = "multipart/form-data"),
    responses((status = 200, body = TrackedCase), (status = 409, description = "the case is closed, or has as many files as a case may have", body = ErrorBody),
              (status = 413, body = ErrorBody)))]
pub async fn evidence(
    State(s): State<AppState>,
    Token(t): Token,
    Path(no): Path<String>,
    MultipartBody(multipart): MultipartBody,
) -> ApiResult<Json<TrackedCase>> {
    s.app.track_case(&no, t.as_deref()).await?;
    let up = read_upload(multipart, s.app.evidence.max_bytes).await?;
    Ok(Json(
        s.app
            .track_evidence(&no, t.as_deref(), up.filename.as_deref(), &up.bytes)
            .await?,
    ))
}
