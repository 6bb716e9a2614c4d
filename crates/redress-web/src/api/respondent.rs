//! `/respondent/…`: the respondent portal's calls (portal key).

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use utoipa::IntoParams;

use super::complaints::case_id;
use super::schemas::*;
use crate::error::ApiResult;
use crate::extract::{Caller, JsonBody, MultipartBody, Params, read_upload};
use crate::state::AppState;
use redress_app::commands::PartyMessageCommand;
use redress_app::views::{RespondentCaseList, RespondentCaseView};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// The complaints against the respondent, complainant contact data masked.
#[utoipa::path(get, path = "/respondent/complaints", tag = "respondent", params(PageParams),
    responses((status = 200, body = RespondentCaseList), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    Caller(who): Caller,
    Params(p): Params<PageParams>,
) -> ApiResult<Json<RespondentCaseList>> {
    Ok(Json(
        s.app
            .respondent_cases(&who, p.limit.as_deref(), p.cursor.as_deref())
            .await?,
    ))
}

/// The respondent's reply.
#[utoipa::path(post, path = "/respondent/complaints/{id}/messages", tag = "respondent", params(("id" = String, Path)),
    request_body = BodyOnly, responses((status = 200, body = RespondentCaseView), (status = 404, body = ErrorBody),
        (status = 409, description = "the case is closed, or has as many messages as a case may have", body = ErrorBody)))]
pub async fn message(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    body: JsonBody,
) -> ApiResult<Json<RespondentCaseView>> {
    let id = case_id(&id)?;
    // A caller who may not see the case is refused (404) before the body.
    let cmd = match PartyMessageCommand::parse(&body.value) {
        Ok(cmd) => cmd,
        Err(e) => {
            s.app.check_respondent_case(&who, id).await?;
            return Err(e.into());
        }
    };
    Ok(Json(s.app.respondent_message(&who, id, &cmd).await?))
}

/// Opens a file of the case: the respondent's own uploads and what staff
/// shared with them (404 for any other).
/// The file comes with the type it was stored with (one of the evidence
/// types: pictures, PDF, audio, video, office documents, text), hence `*/*`.
#[utoipa::path(get, path = "/respondent/complaints/{id}/evidence/{evidence_id}", tag = "respondent",
    params(("id" = String, Path), ("evidence_id" = String, Path)),
    responses((status = 200, content_type = "*/*", body = inline(Binary)),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn evidence_file(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path((id, evidence_id)): Path<(String, String)>,
) -> ApiResult<axum::response::Response> {
    let id = case_id(&id)?;
    Ok(super::track::file_download(
        s.app
            .respondent_evidence_file(&who, id, &evidence_id)
            .await?,
    ))
}

/// Evidence from the respondent.
#[utoipa::path(post, path = "/respondent/complaints/{id}/evidence", tag = "respondent", params(("id" = String, Path)),
    request_body(content = UploadBody, content_type = "multipart/form-data"),
    responses((status = 200, body = RespondentCaseView), (status = 409, description = "the case is closed, or has as many files as a case may have", body = ErrorBody),
              (status = 413, body = ErrorBody)))]
pub async fn evidence(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    MultipartBody(multipart): MultipartBody,
) -> ApiResult<Json<RespondentCaseView>> {
    let id = case_id(&id)?;
    who.respondent().map_err(crate::error::ApiError::from)?;
    let up = read_upload(multipart, s.app.evidence.max_bytes).await?;
    Ok(Json(
        s.app
            .respondent_evidence(&who, id, up.filename.as_deref(), &up.bytes)
            .await?,
    ))
}
