//! `/auth/…` and `/admin/…`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::schemas::*;
use crate::error::ApiResult;
use crate::extract::{Caller, ClientIp, JsonBody, Token};
use crate::state::AppState;
use redress_app::admin::{
    CategoryItem, DepartmentView, PasswordChanged, RespondentCreated, UserView,
};
use redress_app::calendar_admin::{CalendarDaySet, CalendarImported};
use redress_app::calendar_feed::{CalendarFeedView, FeedOutcome};
use redress_app::canned::{CannedReplyList, CannedReplyView};
use redress_app::channels::PublishedChannels;
use redress_app::commands::{
    ChangePasswordCommand, CreateApiKeyCommand, CreateCannedReplyCommand, CreateCategoryCommand,
    CreateDepartmentCommand, CreateRespondentCommand, CreateUserCommand, IssueRespondentKeyCommand,
    LoginCommand, NoticeTemplateCommand, SetCalendarDayCommand, SetCalendarFeedCommand,
    SetChannelsCommand, UpdateCannedReplyCommand, UpdateCategoryCommand, UpdateDepartmentCommand,
    UpdateUserCommand,
};
use redress_app::keys::{
    ApiKeyList, ApiKeyView, CreatedApiKey, PortalKeyIssued, PortalKeyRevoked, SecurityNotices,
};
use redress_app::outbound::{NoticeTemplateList, NoticeTemplateView};

/// Staff login: a bearer token, and the same as an HttpOnly session cookie.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginBody,
    responses((status = 200, body = TokenAnswer), (status = 401, body = ErrorBody),
              (status = 403, description = "a browser on another site asked (login CSRF)", body = ErrorBody)))]
pub async fn login(
    State(s): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    body: JsonBody,
) -> ApiResult<Response> {
    // A browser on another site may not log someone in (login CSRF: the
    // answer sets a cookie); `curl` and servers send no such headers.
    if crate::pages::csrf::cross_site(&headers) {
        return Err(crate::error::ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "logins from another site are refused",
        ));
    }
    let command = LoginCommand::parse(&body.value)?;
    let (token, user) = s.app.login(&command, client).await?;
    let hours = s.app.config.session_hours;
    let secure = if s.app.config.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "redress_session={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        hours * 3600
    );
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(TokenAnswer {
            expires_in_hours: hours,
            token,
            user: redress_app::admin::UserView::from(&user),
        }),
    )
        .into_response())
}

/// Ends the session of the bearer token.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", responses((status = 204)))]
pub async fn logout(State(s): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !token.is_empty() {
        s.app.logout(token.trim()).await?;
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(
            header::SET_COOKIE,
            "redress_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0",
        )],
    )
        .into_response())
}

/// Changes the caller's own password (also the one an admin reset, which
/// must be changed before anything else). The caller's other sessions end.
#[utoipa::path(post, path = "/auth/password", tag = "auth", request_body = PasswordBody,
    responses((status = 200, body = PasswordChanged), (status = 401, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn password(
    State(s): State<AppState>,
    Caller(who): Caller,
    Token(token): Token,
    body: JsonBody,
) -> ApiResult<Json<PasswordChanged>> {
    // Someone signed in first, then the body (as the call always did).
    who.staff_member()?;
    let command = ChangePasswordCommand::parse(&body.value)?;
    Ok(Json(
        s.app
            .change_password(&who, token.as_deref(), &command)
            .await?,
    ))
}

/// The integration keys, without their secrets (admins and supervisors).
#[utoipa::path(get, path = "/admin/api-keys", tag = "admin",
    responses((status = 200, body = ApiKeyList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn api_keys(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<Json<ApiKeyList>> {
    Ok(Json(s.app.list_api_keys(&who).await?))
}

/// Revokes an integration key: it answers 401 from now on.
#[utoipa::path(delete, path = "/admin/api-keys/{id}", tag = "admin", params(("id" = String, Path)),
    responses((status = 200, body = ApiKeyView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn api_key_delete(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ApiKeyView>> {
    let id = uuid::Uuid::parse_str(&id).map_err(|_| crate::error::ApiError::not_found())?;
    Ok(Json(s.app.revoke_api_key(&who, id).await?))
}

/// A new portal key for a respondent account (`{id}` as answered by
/// `POST /admin/respondents`), shown once; the old key stops working and
/// the respondent is told by e-mail that a key was issued.
#[utoipa::path(post, path = "/admin/respondents/{id}/keys", tag = "admin", request_body = PortalKeyBody,
    params(("id" = String, Path)),
    responses((status = 201, body = PortalKeyIssued), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn respondent_key(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    body: JsonBody,
) -> ApiResult<(StatusCode, Json<PortalKeyIssued>)> {
    let id = uuid::Uuid::parse_str(&id).map_err(|_| crate::error::ApiError::not_found())?;
    s.app.require_admin(&who)?;
    let command = IssueRespondentKeyCommand::parse(&body.value, s.app.now())?;
    Ok((
        StatusCode::CREATED,
        Json(s.app.issue_respondent_key(&who, id, &command).await?),
    ))
}

/// Revokes a respondent's portal key: it answers 401 from now on.
#[utoipa::path(delete, path = "/admin/respondents/{id}/keys", tag = "admin",
    params(("id" = String, Path)),
    responses((status = 200, body = PortalKeyRevoked), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn respondent_key_delete(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<PortalKeyRevoked>> {
    let id = uuid::Uuid::parse_str(&id).map_err(|_| crate::error::ApiError::not_found())?;
    Ok(Json(s.app.revoke_respondent_key(&who, id).await?))
}

/// The newest security notices for supervisors: case-reading roles
/// granted, passwords of such users reset, keys issued.
#[utoipa::path(get, path = "/audit/security", tag = "audit",
    responses((status = 200, body = SecurityNotices), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn security(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<Json<SecurityNotices>> {
    Ok(Json(s.app.security_notices(&who, 50).await?))
}

/// A creating call: `$command` checks the caller, then reads the body (the
/// order the calls kept when they read the body themselves).
macro_rules! admin_create {
    ($name:ident, $path:literal, $body:ty, $answer:ty, $method:ident,
     |$s:ident, $who:ident, $value:ident| $command:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "admin", request_body = $body,
            responses((status = 201, body = $answer), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
        pub async fn $name(State($s): State<AppState>, Caller($who): Caller, body: JsonBody) -> ApiResult<(StatusCode, Json<impl serde::Serialize>)> {
            let $value = &body.value;
            let command = $command;
            Ok((StatusCode::CREATED, Json($s.app.$method(&$who, &command).await?)))
        }
    };
}

admin_create!(
    department,
    "/admin/departments",
    DepartmentBody,
    DepartmentView,
    create_department,
    |s, who, body| {
        s.app.require_admin(&who)?;
        CreateDepartmentCommand::parse(body)?
    },
    "Creates a department."
);
admin_create!(
    user,
    "/admin/users",
    UserBody,
    UserView,
    create_user,
    // The departments named are checked against the store with the body's
    // other fields, in one answer: the refusals wait in the `Parsed`.
    |_s, _who, body| CreateUserCommand::read(body),
    "Creates a staff user with roles, departments and level."
);
admin_create!(
    category,
    "/admin/categories",
    CategoryBody,
    CategoryItem,
    create_category,
    |s, who, body| {
        s.app.require_admin(&who)?;
        CreateCategoryCommand::parse(body)?
    },
    "Creates a category and its routing."
);
admin_create!(
    respondent,
    "/admin/respondents",
    RespondentBody,
    RespondentCreated,
    create_respondent,
    |s, who, body| {
        s.app.require_admin(&who)?;
        CreateRespondentCommand::parse(body, s.app.now())?
    },
    "Creates a respondent; the portal key is shown once."
);
admin_create!(
    api_key,
    "/admin/api-keys",
    ApiKeyBody,
    CreatedApiKey,
    create_api_key,
    |s, who, body| {
        s.app.require_key_manager(&who)?;
        CreateApiKeyCommand::parse(body, s.app.now())?
    },
    "Creates an integration key; shown once."
);

admin_create!(
    canned_reply,
    "/admin/canned-replies",
    CannedReplyBody,
    CannedReplyView,
    create_canned_reply,
    |s, who, body| {
        s.app.require_admin(&who)?;
        CreateCannedReplyCommand::parse(body)?
    },
    "Saves a canned reply (title at most 100 characters, text at most 5000)."
);

/// The canned replies, oldest first: `{items, total, next_cursor}`. Any
/// staff member may read them (the case page offers them).
#[utoipa::path(get, path = "/admin/canned-replies", tag = "admin",
    responses((status = 200, body = CannedReplyList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn canned_replies(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<Json<CannedReplyList>> {
    Ok(Json(s.app.list_canned_replies(&who).await?))
}

/// Changes a canned reply: what is given of title, text and locale
/// (`null` or empty: any language).
#[utoipa::path(patch, path = "/admin/canned-replies/{id}", tag = "admin", request_body = CannedReplyPatchBody,
    params(("id" = String, Path)),
    responses((status = 200, body = CannedReplyView), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn canned_reply_patch(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    body: JsonBody,
) -> ApiResult<Json<CannedReplyView>> {
    Ok(Json(
        s.app
            .update_canned_reply(&who, &id, UpdateCannedReplyCommand::read(&body.value))
            .await?,
    ))
}

/// Deletes a canned reply. Messages already sent keep their text.
#[utoipa::path(delete, path = "/admin/canned-replies/{id}", tag = "admin",
    params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn canned_reply_delete(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.app.delete_canned_reply(&who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Changes a staff user: what is given of display name, password, roles,
/// departments, level and `active` (an inactive user's sessions stop).
#[utoipa::path(patch, path = "/admin/users/{username}", tag = "admin", request_body = UserPatchBody,
    params(("username" = String, Path)),
    responses((status = 200, body = UserView), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn user_patch(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(username): Path<String>,
    body: JsonBody,
) -> ApiResult<Json<UserView>> {
    Ok(Json(
        s.app
            .update_user(&who, &username, UpdateUserCommand::read(&body.value))
            .await?,
    ))
}

/// Changes a category: names, department, deadline lengths (`null` clears
/// one). Cases already accepted keep theirs.
#[utoipa::path(patch, path = "/admin/categories/{code}", tag = "admin", request_body = CategoryPatchBody,
    params(("code" = String, Path)),
    responses((status = 200, body = CategoryItem), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn category_patch(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(code): Path<String>,
    body: JsonBody,
) -> ApiResult<Json<CategoryItem>> {
    Ok(Json(
        s.app
            .update_category(&who, &code, UpdateCategoryCommand::read(&body.value))
            .await?,
    ))
}

/// Makes one date a holiday or a (make-up) working day; deadlines computed
/// from now on count with it.
#[utoipa::path(put, path = "/admin/calendar/{date}", tag = "admin", request_body = CalendarDayBody,
    params(("date" = String, Path, description = "YYYY-MM-DD")),
    responses((status = 200, body = CalendarDaySet), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn calendar_day(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(date): Path<String>,
    body: JsonBody,
) -> ApiResult<Json<CalendarDaySet>> {
    s.app.require_admin(&who)?;
    let command = SetCalendarDayCommand::parse(&date, &body.value)?;
    Ok(Json(s.app.set_calendar_day(&who, &command).await?))
}

/// Imports the all-day events of an iCalendar file (the request body, up
/// to 1 MiB): each day becomes a holiday, or a working day when the event
/// says so (补班, 上班, workday).
#[utoipa::path(post, path = "/admin/calendar/import", tag = "admin",
    request_body(content = inline(Binary), content_type = "text/calendar"),
    responses((status = 200, body = CalendarImported), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn calendar_import(
    State(s): State<AppState>,
    Caller(who): Caller,
    body: Bytes,
) -> ApiResult<Json<CalendarImported>> {
    if body.len() > super::CALENDAR_LIMIT {
        return Err(redress_app::AppError::invalid(
            "file",
            redress_domain::Reason::MaxSize {
                size: "1 MiB".into(),
            },
        )
        .into());
    }
    Ok(Json(s.app.import_calendar(&who, &body).await?))
}

/// The published channels as stored (SPEC §5), the configured mailbox
/// when none was set.
#[utoipa::path(get, path = "/admin/settings/channels", tag = "admin",
    responses((status = 200, body = PublishedChannels), (status = 403, body = ErrorBody)))]
pub async fn channels(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<Json<PublishedChannels>> {
    Ok(Json(s.app.channel_settings(&who).await?))
}

/// Sets the published channels (公示渠道): the hotline and its hours, the
/// mailbox, the postal and visiting address, and the channels switched
/// on. Intake on `web` or `email` is refused while it is off. Journaled.
#[utoipa::path(put, path = "/admin/settings/channels", tag = "admin", request_body = ChannelsBody,
    responses((status = 200, body = PublishedChannels), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn channels_put(
    State(s): State<AppState>,
    Caller(who): Caller,
    body: JsonBody,
) -> ApiResult<Json<PublishedChannels>> {
    s.app.require_admin(&who)?;
    let command = SetChannelsCommand::parse(&body.value)?;
    Ok(Json(s.app.set_channel_settings(&who, &command).await?))
}

/// The calendar feed subscription: its URL, the last fetch (time,
/// outcome, what changed), the validators kept for conditional GET, and
/// how many days the feed has set; `{"url": null}` without one.
#[utoipa::path(get, path = "/admin/calendar/feed", tag = "admin",
    responses((status = 200, body = CalendarFeedView), (status = 403, body = ErrorBody)))]
pub async fn calendar_feed(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<Json<CalendarFeedView>> {
    Ok(Json(s.app.calendar_feed(&who).await?))
}

/// Subscribes to an iCalendar feed (replacing any subscription), fetched
/// daily by one instance, first at the next run of the jobs. The URL must
/// reach a public address, as for webhooks (SPEC §9).
#[utoipa::path(put, path = "/admin/calendar/feed", tag = "admin", request_body = CalendarFeedBody,
    responses((status = 200, body = CalendarFeedView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn calendar_feed_put(
    State(s): State<AppState>,
    Caller(who): Caller,
    body: JsonBody,
) -> ApiResult<Json<CalendarFeedView>> {
    s.app.require_admin(&who)?;
    let command = SetCalendarFeedCommand::parse(&body.value)?;
    Ok(Json(s.app.set_calendar_feed(&who, &command).await?))
}

/// Ends the subscription; the days it set stay.
#[utoipa::path(delete, path = "/admin/calendar/feed", tag = "admin",
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn calendar_feed_delete(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<StatusCode> {
    s.app.remove_calendar_feed(&who).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Fetches the feed now and answers what changed (`status`: changed,
/// unchanged, not_modified or failed; the dates added, changed and
/// removed; manual days kept; deadlines re-derived).
#[utoipa::path(post, path = "/admin/calendar/feed/fetch", tag = "admin",
    responses((status = 200, body = FeedOutcome), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn calendar_feed_fetch(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<Json<FeedOutcome>> {
    Ok(Json(s.app.fetch_calendar_feed_now(&who).await?))
}

#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct NoticeTemplateBody {
    /// Mail subject (at most 300 characters).
    pub subject: String,
    /// Mail text (at most 10000 characters).
    pub body: String,
    /// SMS text (at most 500 characters).
    pub sms: String,
}

/// Every notice kind in zh-CN and English as it is worded now (the
/// installation's own text, or the shipped one), with the shipped text
/// beside it. Templates are minijinja over the variables of docs/mail.md.
#[utoipa::path(get, path = "/admin/notice-templates", tag = "admin",
    responses((status = 200, body = NoticeTemplateList), (status = 403, body = ErrorBody)))]
pub async fn notice_templates(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<Json<NoticeTemplateList>> {
    Ok(Json(s.app.list_notice_templates(&who).await?))
}

/// Saves the installation's wording of one notice kind in one language;
/// it is rendered on a sample case first, and a template that does not
/// work is refused naming the part (422).
#[utoipa::path(put, path = "/admin/notice-templates/{kind}/{locale}", tag = "admin",
    params(("kind" = String, Path), ("locale" = String, Path)), request_body = NoticeTemplateBody,
    responses((status = 200, body = NoticeTemplateView), (status = 403, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn notice_template_put(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path((kind, locale)): Path<(String, String)>,
    body: JsonBody,
) -> ApiResult<Json<NoticeTemplateView>> {
    // The caller, then the template the path names, then the body.
    s.app.require_admin(&who)?;
    redress_app::App::template_key(&kind, &locale)?;
    let command = NoticeTemplateCommand::parse(&body.value)?;
    Ok(Json(
        s.app
            .put_notice_template(&who, &kind, &locale, &command)
            .await?,
    ))
}

/// Goes back to the shipped wording (404 when there was no own wording).
#[utoipa::path(delete, path = "/admin/notice-templates/{kind}/{locale}", tag = "admin",
    params(("kind" = String, Path), ("locale" = String, Path)),
    responses((status = 200, body = NoticeTemplateView), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn notice_template_delete(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path((kind, locale)): Path<(String, String)>,
) -> ApiResult<Json<NoticeTemplateView>> {
    Ok(Json(
        s.app.delete_notice_template(&who, &kind, &locale).await?,
    ))
}

// ---- Admin lists and department changes (issue 15 item 6) ----

/// Every staff user, by username, without password hashes:
/// `{items, total, next_cursor}` (the whole list; `next_cursor` null).
#[utoipa::path(get, path = "/admin/users", tag = "admin",
    responses((status = 200, body = UserList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn users(State(s): State<AppState>, Caller(who): Caller) -> ApiResult<Json<UserList>> {
    let items: Vec<UserView> = s
        .app
        .admin_users(&who)
        .await?
        .iter()
        .map(UserView::from)
        .collect();
    Ok(Json(UserList {
        total: items.len() as i64,
        items,
        next_cursor: None,
    }))
}

/// Every department, by code: `{items, total, next_cursor}`.
#[utoipa::path(get, path = "/admin/departments", tag = "admin",
    responses((status = 200, body = DepartmentList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn departments(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<Json<DepartmentList>> {
    let items: Vec<DepartmentView> = s
        .app
        .admin_departments(&who)
        .await?
        .into_iter()
        .map(DepartmentView::from)
        .collect();
    Ok(Json(DepartmentList {
        total: items.len() as i64,
        items,
        next_cursor: None,
    }))
}

/// Every respondent account, by kind and id, with the state of its portal
/// key (never the key): `{items, total, next_cursor}`.
#[utoipa::path(get, path = "/admin/respondents", tag = "admin",
    responses((status = 200, body = RespondentList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn respondents(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<Json<RespondentList>> {
    let now = s.app.now();
    let items: Vec<RespondentItem> = s
        .app
        .admin_respondents(&who)
        .await?
        .into_iter()
        .map(|r| RespondentItem::of(r, now))
        .collect();
    Ok(Json(RespondentList {
        total: items.len() as i64,
        items,
        next_cursor: None,
    }))
}

/// Changes a department: what is given of name, English name, review flag
/// and head (a username; null or empty clears the English name or the
/// head). Journaled.
#[utoipa::path(patch, path = "/admin/departments/{code}", tag = "admin", request_body = DepartmentPatchBody,
    params(("code" = String, Path)),
    responses((status = 200, body = DepartmentView), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn department_patch(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(code): Path<String>,
    body: JsonBody,
) -> ApiResult<Json<DepartmentView>> {
    Ok(Json(
        s.app
            .update_department(&who, &code, UpdateDepartmentCommand::read(&body.value))
            .await?,
    ))
}
