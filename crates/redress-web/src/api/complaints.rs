//! `/complaints…`: registration and every staff action on a case.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use redress_app::cases::ListQuery;
use redress_app::commands::*;
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;
use uuid::Uuid;

use super::schemas::*;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, ClientIp, JsonBody, MultipartBody, Params, read_upload};
use crate::state::AppState;
use redress_app::views::{CaseList, StaffCaseView as Case};

pub fn case_id(raw: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found())
}

/// Registers a complaint (SPEC §6). Public (channel `web`, rate-limited per
/// address), API keys with the `intake` scope (`api`, `chat`) or intake staff
/// (any channel, default `phone`). `Idempotency-Key` returns the first answer
/// on a retry.
#[utoipa::path(post, path = "/complaints", tag = "complaints",
    request_body = ComplaintBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry-safe key")),
    responses((status = 201, body = Registered), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    Caller(who): Caller,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: JsonBody,
) -> ApiResult<Response> {
    if matches!(who, redress_app::Principal::Anonymous)
        && let Some(limiter) = &s.public_limiter
    {
        let key = ip.unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
        if limiter.check_key(&key).is_err() {
            return Err(redress_app::AppError::RateLimited.into());
        }
    }
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok());
    let r = s
        .app
        .register(&who, &body.value, &body.sha256, key, ip)
        .await?;
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::CREATED);
    Ok((status, Json(r.body)).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// submitted, needs_info, in_progress, resolved, under_review, closed
    #[param(value_type = Option<StatusName>)]
    pub status: Option<String>,
    pub department: Option<String>,
    pub category: Option<String>,
    /// `kind:id`, or an id of any kind
    pub respondent: Option<String>,
    /// Words of the respondent's name (all of them, ASCII letters in either case)
    pub respondent_name: Option<String>,
    pub assignee: Option<String>,
    /// web, api, chat, email, phone, letter, in_person
    #[param(value_type = Option<ChannelName>)]
    pub channel: Option<String>,
    /// rejected, lapsed, resolved, reviewed, withdrawn, merged
    #[param(value_type = Option<ClosureName>)]
    pub closure: Option<String>,
    /// The outcome in force (a modified review's, else the decision's)
    #[param(value_type = Option<OutcomeName>)]
    pub outcome: Option<String>,
    /// Cases that missed the deadline of this stage, or of any stage
    #[param(value_type = Option<MissedStage>)]
    pub missed: Option<String>,
    /// `relevance` (default with `q`): best match first, among the newest
    /// 10,000 matches (the query in the subject, then subjects holding more
    /// of its words, newest first among equals); `newest` (default without
    /// `q`): newest first; `due`: by next deadline, soonest first (cases
    /// without one last). A cursor continues the order it came with.
    #[param(value_type = Option<SortOrder>)]
    pub sort: Option<String>,
    /// Filed at or after: a date (2026-12-06, from its start in the installation's zone) or an RFC 3339 instant
    #[param(value_type = Option<DateOrInstant>)]
    pub from: Option<String>,
    /// Filed before: a date (to its end) or an RFC 3339 instant
    #[param(value_type = Option<DateOrInstant>)]
    pub to: Option<String>,
    /// true: only cases whose staff deadline has passed
    #[param(value_type = Option<bool>)]
    pub overdue: Option<String>,
    /// true: only cases whose staff deadline comes within the due-soon window
    #[param(value_type = Option<bool>)]
    pub due_soon: Option<String>,
    /// Search text (Chinese and English).
    pub q: Option<String>,
    /// At most this many (1–200, default 20)
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// Lists and searches cases visible to the caller: `{items, total, next_cursor}`.
#[utoipa::path(get, path = "/complaints", tag = "complaints", params(ListParams),
    responses((status = 200, body = CaseList), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    Caller(who): Caller,
    Params(p): Params<ListParams>,
) -> ApiResult<Json<CaseList>> {
    let q = ListQuery {
        status: p.status,
        department: p.department,
        category: p.category,
        respondent: p.respondent,
        respondent_name: p.respondent_name,
        assignee: p.assignee,
        channel: p.channel,
        closure: p.closure,
        outcome: p.outcome,
        missed: p.missed,
        sort: p.sort,
        from: p.from,
        to: p.to,
        overdue: p.overdue,
        due_soon: p.due_soon,
        q: p.q,
        limit: p.limit,
        cursor: p.cursor,
    };
    Ok(Json(s.app.list_cases(&who, &q).await?))
}

/// The whole case: record, status, closure, deadlines, events, messages,
/// deliveries, decision, review. The view of contact data is logged.
#[utoipa::path(get, path = "/complaints/{id}", tag = "complaints", params(("id" = String, Path)),
    responses((status = 200, body = Case), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Case>> {
    Ok(Json(s.app.get_case(&who, case_id(&id)?).await?))
}

/// Likely duplicates of a case (SPEC §10): cases from anyone against the
/// same respondent or in the same category, filed within 90 days before or
/// after, whose text has a Jaccard similarity of at least 0.5 over
/// character-bigram shingles; only cases the caller may see, best first,
/// at most 20.
#[utoipa::path(get, path = "/complaints/{id}/similar", tag = "complaints", params(("id" = String, Path)),
    responses((status = 200, body = SimilarCases), (status = 404, body = ErrorBody)))]
pub async fn similar(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let items = s.app.similar_cases(&who, case_id(&id)?).await?;
    Ok(Json(serde_json::json!({ "items": items })))
}

/// Likely categories of a case (SPEC §10), learnt from this installation's
/// accepted cases: at most 3, best first; none below the confidence
/// threshold, none of a category with fewer than 10 accepted cases.
#[utoipa::path(get, path = "/complaints/{id}/suggestions", tag = "complaints", params(("id" = String, Path)),
    responses((status = 200, body = CategorySuggestions), (status = 404, body = ErrorBody)))]
pub async fn suggestions(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let items = s.app.category_suggestions(&who, case_id(&id)?).await?;
    Ok(Json(serde_json::json!({ "items": items })))
}

/// Completes or corrects the registration record before acceptance.
#[utoipa::path(patch, path = "/complaints/{id}", tag = "complaints", params(("id" = String, Path)),
    request_body = RecordPatch, responses((status = 200, body = Case), (status = 409, body = ErrorBody)))]
pub async fn patch(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    body: JsonBody,
) -> ApiResult<Json<Case>> {
    Ok(Json(
        s.app
            .patch_record(
                &who,
                case_id(&id)?,
                &PatchRecordCommand::parse(&body.value)?,
            )
            .await?,
    ))
}

macro_rules! action {
    ($name:ident, $path:literal, $body:ty, $method:ident, $command:ty, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "complaints", params(("id" = String, Path)),
                    request_body = $body,
                    responses((status = 200, body = Case), (status = 403, body = ErrorBody),
                              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
                              (status = 422, body = ErrorBody)))]
        pub async fn $name(
            State(s): State<AppState>,
            Caller(who): Caller,
            Path(id): Path<String>,
            body: JsonBody,
        ) -> ApiResult<Json<Case>> {
            let id = case_id(&id)?;
            let command = <$command>::parse(&body.value)?;
            Ok(Json(s.app.$method(&who, id, &command).await?))
        }
    };
}

/// A new access code for the complainant, answered this once (intake,
/// after checking the person's identity at the counter or on the phone);
/// the old code stops working at once, and the journal names who did it.
/// 409 for a case whose file was purged.
#[utoipa::path(post, path = "/complaints/{id}/reissue-code", tag = "complaints",
            params(("id" = String, Path)),
            responses((status = 200, body = redress_app::cases::ReissuedCode), (status = 403, body = ErrorBody),
                      (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn reissue_code(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<redress_app::cases::ReissuedCode>> {
    Ok(Json(s.app.reissue_code(&who, case_id(&id)?).await?))
}

action!(
    record_post,
    "/complaints/{id}/deliveries",
    PostDeliveryBody,
    record_post,
    RecordPostCommand,
    "Records a notice sent by post (`channel: post`) with its date and reference; a posted result notice starts the appeal window like any delivery that reached the person (it never moves earlier)."
);
action!(
    accept,
    "/complaints/{id}/accept",
    AcceptBody,
    accept,
    AcceptCommand,
    "Accepts: classifies and routes to a department → `in_progress`."
);
action!(
    reject,
    "/complaints/{id}/reject",
    RejectBody,
    reject,
    RejectCommand,
    "Refuses with a reason and guidance → `closed`/`rejected`."
);
action!(
    request_info,
    "/complaints/{id}/request-info",
    RequestInfoBody,
    request_info,
    RequestInfoCommand,
    "Asks once for every missing item → `needs_info`."
);
action!(
    assign,
    "/complaints/{id}/assign",
    AssignBody,
    assign,
    AssignCommand,
    "Assigns the responsible handler of the case's department."
);
action!(
    message,
    "/complaints/{id}/messages",
    MessageBody,
    staff_message,
    StaffMessageCommand,
    "A message to an audience; a delivery for complainant or respondent."
);
action!(
    note,
    "/complaints/{id}/notes",
    NoteBody,
    note,
    NoteCommand,
    "An investigation record."
);
action!(
    extend,
    "/complaints/{id}/extend",
    ExtendBody,
    extend,
    ExtendCommand,
    "A new handling due date (`due_at`) or more working days (`days`), with a reason; sends a progress notice."
);
action!(
    legal_hold,
    "/complaints/{id}/legal-hold",
    LegalHoldBody,
    legal_hold,
    LegalHoldCommand,
    "Sets or releases a legal hold (supervisor): a held case is not purged when its retention period ends."
);
action!(
    erase,
    "/complaints/{id}/erase",
    EraseBody,
    erase,
    EraseCommand,
    "Erases a closed case's personal data and evidence early, on the complainant's request (supervisor; SPEC §9), exactly as the purge at the end of retention does; 409 while the case is open, under a legal hold or already purged."
);
action!(
    pause,
    "/complaints/{id}/pause",
    PauseBody,
    pause,
    PauseCommand,
    "Stops the running staff deadline's clock with a reason; paused time does not count."
);
action!(
    resume,
    "/complaints/{id}/resume",
    ResumeBody,
    resume,
    ResumeCommand,
    "Restarts a paused clock; the working days it was paused are added to the deadline."
);
action!(
    link,
    "/complaints/{id}/links",
    LinkBody,
    link,
    LinkCommand,
    "Links a related case."
);
action!(
    merge,
    "/complaints/{id}/merge",
    MergeBody,
    merge,
    MergeCommand,
    "Merges this duplicate into an open original → `closed`/`merged`."
);
action!(
    decide,
    "/complaints/{id}/decide",
    DecideBody,
    decide,
    DecideCommand,
    "Decides with outcome, basis and reply → `resolved`."
);
action!(
    review,
    "/complaints/{id}/review",
    ReviewBody,
    review,
    ReviewCommand,
    "Decides the appeal (final) → `closed`/`reviewed`."
);

/// Marks a corrective action done.
#[utoipa::path(post, path = "/complaints/{id}/actions/{action_id}/complete", tag = "complaints",
    params(("id" = String, Path), ("action_id" = String, Path)), request_body = CompleteActionBody,
    responses((status = 200, body = Case), (status = 409, body = ErrorBody)))]
pub async fn complete_action(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path((id, action_id)): Path<(String, String)>,
    body: JsonBody,
) -> ApiResult<Json<Case>> {
    Ok(Json(
        s.app
            .complete_action(
                &who,
                case_id(&id)?,
                &action_id,
                &CompleteActionCommand::parse(&body.value)?,
            )
            .await?,
    ))
}

/// Reassigns or re-dates an open corrective action (`{owner?, due_at?}`),
/// journaled with the old and new values: 404 for an unknown action, 409
/// for a done one, 422 for an owner who may not own it or a date not in
/// the future.
#[utoipa::path(patch, path = "/complaints/{id}/actions/{action_id}", tag = "complaints",
    params(("id" = String, Path), ("action_id" = String, Path)), request_body = UpdateActionBody,
    responses((status = 200, body = Case), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_action(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path((id, action_id)): Path<(String, String)>,
    body: JsonBody,
) -> ApiResult<Json<Case>> {
    Ok(Json(
        s.app
            .update_action(
                &who,
                case_id(&id)?,
                &action_id,
                &UpdateActionCommand::parse(&body.value)?,
            )
            .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActionListParams {
    /// open (default), overdue, done
    #[param(value_type = Option<ActionStatusName>)]
    pub status: Option<String>,
    /// The owner's user name
    pub owner: Option<String>,
    pub department: Option<String>,
    /// At most this many (1–500, default 200)
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    pub limit: Option<String>,
}

/// Corrective actions across the cases the caller may see: `{status,
/// items}`, each with its case's id, tracking number and department, the
/// action's fields and whether it is overdue.
#[utoipa::path(get, path = "/actions", tag = "complaints", params(ActionListParams),
    responses((status = 200, body = redress_app::actions::ActionList), (status = 422, body = ErrorBody)))]
pub async fn actions(
    State(s): State<AppState>,
    Caller(who): Caller,
    Params(p): Params<ActionListParams>,
) -> ApiResult<Json<redress_app::actions::ActionList>> {
    let q = redress_app::actions::ActionQuery {
        status: p.status,
        owner: p.owner,
        department: p.department,
        limit: p.limit,
    };
    Ok(Json(s.app.list_actions(&who, &q).await?))
}

/// Uploads an evidence file (multipart, part `file`; parts `share` name the
/// parties it is shared with: `complainant`, `respondent`); 413 beyond the
/// size limit.
#[utoipa::path(post, path = "/complaints/{id}/evidence", tag = "complaints", params(("id" = String, Path)),
    request_body(content = UploadBody, content_type = "multipart/form-data"),
    responses((status = 200, body = Case), (status = 409, description = "the case is closed, or has as many files as a case may have", body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn evidence(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    MultipartBody(multipart): MultipartBody,
) -> ApiResult<Json<Case>> {
    let id = case_id(&id)?;
    who.staff().map_err(ApiError::from)?;
    let up = read_upload(multipart, s.app.evidence.max_bytes).await?;
    let share = crate::extract::parties(&up.share)?;
    Ok(Json(
        s.app
            .staff_evidence(&who, id, up.filename.as_deref(), &up.bytes, &share)
            .await?,
    ))
}

/// Opens any file of a case the caller sees; each view is journaled
/// (`evidence_viewed`).
/// The file comes with the type it was stored with (one of the evidence
/// types: pictures, PDF, audio, video, office documents, text), hence `*/*`.
#[utoipa::path(get, path = "/complaints/{id}/evidence/{evidence_id}", tag = "complaints",
    params(("id" = String, Path), ("evidence_id" = String, Path)),
    responses((status = 200, content_type = "*/*", body = inline(Binary)),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn evidence_file(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path((id, evidence_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    Ok(super::track::file_download(
        s.app
            .staff_evidence_file(&who, case_id(&id)?, &evidence_id)
            .await?,
    ))
}

/// The thumbnail (JPEG, at most 320 pixels a side) made at upload of a
/// picture of the case; 404 for a file without one.
#[utoipa::path(get, path = "/complaints/{id}/evidence/{evidence_id}/thumbnail", tag = "complaints",
    params(("id" = String, Path), ("evidence_id" = String, Path)),
    responses((status = 200, content_type = "image/jpeg", body = inline(Binary)),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn evidence_thumbnail(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path((id, evidence_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    Ok(super::track::thumbnail_response(
        s.app
            .staff_evidence_thumbnail(&who, case_id(&id)?, &evidence_id)
            .await?,
    ))
}

/// The case archive (ZIP): records as JSON, the HTML case file, evidence, manifest.
#[utoipa::path(get, path = "/complaints/{id}/archive", tag = "complaints", params(("id" = String, Path)),
    responses((status = 200, content_type = "application/zip", body = inline(Binary)), (status = 403, body = ErrorBody)))]
pub async fn archive(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let archive = s.app.archive(&who, case_id(&id)?).await?;
    Ok(super::track::zip_download(archive))
}
