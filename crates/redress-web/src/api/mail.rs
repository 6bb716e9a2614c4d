//! `/mail/held…`: mail the SMTP receiver took but could not put on a case
//! by itself (a reply from someone other than the case's complainant, or
//! naming no case), for intake agents to attach to a case or discard.

use axum::Json;
use axum::extract::{Path, State};
use redress_app::error::AppError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::schemas::ErrorBody;
use crate::error::ApiResult;
use crate::extract::{Caller, JsonBody, Params};
use crate::state::AppState;
use redress_app::mail::{HeldMailList, HeldMailView};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HeldParams {
    /// held (default), attached, discarded or all
    pub state: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct AttachBody {
    /// The case: its id or tracking number.
    pub case: String,
    /// `complainant` (default): the text becomes the complainant's message
    /// (the agent vouches that the mail is theirs); `note`: an internal note.
    #[serde(rename = "as")]
    pub as_: Option<String>,
}

fn held_id(raw: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(raw).map_err(|_| AppError::NotFound)
}

/// The held-mail queue, newest first (`{items, total, next_cursor}`; the
/// sender masked). For staff with the intake role.
#[utoipa::path(get, path = "/mail/held", tag = "mail", params(HeldParams),
    responses((status = 200, body = HeldMailList), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    Caller(who): Caller,
    Params(q): Params<HeldParams>,
) -> ApiResult<Json<HeldMailList>> {
    Ok(Json(
        s.app
            .list_held_mail(
                &who,
                q.state.as_deref(),
                q.limit.as_deref(),
                q.cursor.as_deref(),
            )
            .await?,
    ))
}

/// One held mail: sender, subject, text (HTML turned to text) and the
/// attachments' names and sizes. The view is journaled.
#[utoipa::path(get, path = "/mail/held/{id}", tag = "mail", params(("id" = String, Path)),
    responses((status = 200, body = HeldMailView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<HeldMailView>> {
    Ok(Json(s.app.held_mail(&who, held_id(&id)?).await?))
}

/// Puts a held mail on a case: its text as the complainant's message or an
/// internal note, its attachments as evidence. Answers the updated case.
#[utoipa::path(post, path = "/mail/held/{id}/attach", tag = "mail", params(("id" = String, Path)),
    request_body = AttachBody,
    responses((status = 200, body = redress_app::views::StaffCaseView), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn attach(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    body: JsonBody,
) -> ApiResult<Json<redress_app::views::StaffCaseView>> {
    let id = held_id(&id)?;
    // The caller first, then the body (as the call always did).
    redress_app::App::require_mail_agent(&who)?;
    let command = redress_app::commands::AttachHeldMailCommand::parse(&body.value)?;
    Ok(Json(s.app.attach_held_mail(&who, id, &command).await?))
}

/// Discards a held mail (it stays listed under `state=discarded`).
#[utoipa::path(post, path = "/mail/held/{id}/discard", tag = "mail", params(("id" = String, Path)),
    responses((status = 200, body = HeldMailView), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)))]
pub async fn discard(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<HeldMailView>> {
    Ok(Json(s.app.discard_held_mail(&who, held_id(&id)?).await?))
}
