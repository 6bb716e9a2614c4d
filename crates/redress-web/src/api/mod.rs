//! The JSON API under `/api/v1`. Every route is listed here, and each
//! handler carries its OpenAPI description.

pub mod admin;
pub mod complaints;
pub mod contract;
pub mod exports;
pub mod insight;
pub mod mail;
pub mod ops;
pub mod respondent;
pub mod schemas;
pub mod track;
pub mod webhooks;

use axum::extract::DefaultBodyLimit;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "redress", description = "Complaint handling for online platforms. Authenticate with `Authorization: Bearer …` (staff token, API key, respondent portal key, or a complainant's access token on /track calls)."),
    components(schemas(
        schemas::StatusName, schemas::ChannelName, schemas::ClosureName,
        schemas::ActionStatusName, schemas::CallStateName, schemas::OutcomeName,
        schemas::MissedStage, schemas::SortOrder, schemas::IntervalName, schemas::ContactMode,
        schemas::DateOrInstant, schemas::PeriodBound, schemas::NonBlank, schemas::AudienceName, schemas::NoteKindName,
        schemas::ReviewResultName, schemas::PostChannel, schemas::NoticeKindName,
        // Respondent scorecards and spike alerts (issue 16).
        insight::ScorecardSort, insight::SortDirection, insight::ScorecardsBody,
        insight::ScorecardItem, insight::AlertSubject, insight::AlertRuleBody,
        insight::AlertItem, insight::AlertsBody,
        // Admin lists (issue 15 item 6).
        schemas::RespondentItem, schemas::KeyStateName
    )),
    tags((name = "complaints"), (name = "complainant"), (name = "respondent"), (name = "admin"), (name = "auth"), (name = "calendar"), (name = "reports"), (name = "audit"), (name = "webhooks"), (name = "mail"))
)]
struct ApiDoc;

/// The API document's header (title, tags); paths come from the handlers.
pub fn doc() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The whole API document as served at `/api/openapi.json`: the handlers'
/// descriptions under `/api/v1`, then the contract's operation ids and
/// error answers ([`contract::finish`]).
pub fn document(upload_limit: usize) -> utoipa::openapi::OpenApi {
    let (_, mut doc) = OpenApiRouter::with_openapi(doc())
        .nest("/api/v1", router(upload_limit))
        .split_for_parts();
    contract::finish(&mut doc);
    doc
}

/// The largest iCalendar body `POST /admin/calendar/import` takes.
pub const CALENDAR_LIMIT: usize = 1024 * 1024;

/// The API's routes. Bodies are limited before anything reads them:
/// JSON to `extract::JSON_LIMIT`, evidence uploads to `upload_limit` (a
/// file and its multipart framing), a calendar import to
/// `CALENDAR_LIMIT`; 413 beyond.
pub fn router(upload_limit: usize) -> OpenApiRouter<AppState> {
    let uploads = OpenApiRouter::new()
        .routes(routes!(complaints::evidence))
        .routes(routes!(track::evidence))
        .routes(routes!(respondent::evidence))
        .layer(DefaultBodyLimit::max(upload_limit));
    let calendar = OpenApiRouter::new()
        .routes(routes!(admin::calendar_import))
        .layer(DefaultBodyLimit::max(CALENDAR_LIMIT));
    json_routes()
        .layer(DefaultBodyLimit::max(crate::extract::JSON_LIMIT))
        .merge(uploads)
        .merge(calendar)
}

fn json_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(admin::login))
        .routes(routes!(admin::logout))
        .routes(routes!(admin::password))
        .routes(routes!(admin::security))
        .routes(routes!(admin::api_key_delete))
        .routes(routes!(admin::respondent_key, admin::respondent_key_delete))
        .routes(routes!(admin::department, admin::departments))
        .routes(routes!(admin::user, admin::users))
        .routes(routes!(admin::category))
        .routes(routes!(admin::respondent, admin::respondents))
        .routes(routes!(admin::department_patch))
        .routes(routes!(admin::api_key, admin::api_keys))
        .routes(routes!(admin::calendar_day))
        .routes(routes!(
            admin::calendar_feed,
            admin::calendar_feed_put,
            admin::calendar_feed_delete
        ))
        .routes(routes!(admin::calendar_feed_fetch))
        .routes(routes!(admin::channels, admin::channels_put))
        .routes(routes!(admin::user_patch))
        .routes(routes!(admin::category_patch))
        .routes(routes!(admin::canned_reply, admin::canned_replies))
        .routes(routes!(admin::notice_templates))
        .routes(routes!(
            admin::notice_template_put,
            admin::notice_template_delete
        ))
        .routes(routes!(
            admin::canned_reply_patch,
            admin::canned_reply_delete
        ))
        .routes(routes!(mail::list))
        .routes(routes!(mail::get))
        .routes(routes!(mail::attach))
        .routes(routes!(mail::discard))
        .routes(routes!(complaints::create, complaints::list))
        .routes(routes!(complaints::get, complaints::patch))
        .routes(routes!(complaints::accept))
        .routes(routes!(complaints::reject))
        .routes(routes!(complaints::request_info))
        .routes(routes!(complaints::assign))
        .routes(routes!(complaints::message))
        .routes(routes!(complaints::note))
        .routes(routes!(complaints::extend))
        .routes(routes!(complaints::pause))
        .routes(routes!(complaints::legal_hold))
        .routes(routes!(complaints::erase))
        .routes(routes!(complaints::resume))
        .routes(routes!(complaints::reissue_code))
        .routes(routes!(complaints::record_post))
        .routes(routes!(complaints::link))
        .routes(routes!(complaints::merge))
        .routes(routes!(complaints::decide))
        .routes(routes!(complaints::complete_action))
        .routes(routes!(complaints::update_action))
        .routes(routes!(complaints::actions))
        .routes(routes!(complaints::review))
        .routes(routes!(complaints::archive))
        .routes(routes!(complaints::similar))
        .routes(routes!(complaints::suggestions))
        .routes(routes!(complaints::evidence_file))
        .routes(routes!(complaints::evidence_thumbnail))
        .routes(routes!(track::evidence_file))
        .routes(routes!(respondent::evidence_file))
        .routes(routes!(track::recover))
        .routes(routes!(track::get))
        .routes(routes!(track::export))
        .routes(routes!(track::supplement))
        .routes(routes!(track::message))
        .routes(routes!(track::appeal))
        .routes(routes!(track::withdraw))
        .routes(routes!(track::feedback))
        .routes(routes!(respondent::list))
        .routes(routes!(respondent::message))
        .routes(routes!(ops::channels))
        .routes(routes!(ops::due))
        .routes(routes!(ops::year))
        .routes(routes!(ops::summary))
        .routes(routes!(ops::summary_csv))
        // Respondent scorecards and spike alerts (issue 16).
        .routes(routes!(insight::respondents))
        .routes(routes!(insight::alerts))
        .routes(routes!(exports::cases_csv))
        .routes(routes!(ops::public_stats))
        .routes(routes!(ops::verify))
        .routes(routes!(ops::queues))
        .routes(routes!(ops::advance))
        .routes(routes!(webhooks::create, webhooks::list))
        .routes(routes!(webhooks::events))
        .routes(routes!(webhooks::get, webhooks::patch, webhooks::delete))
        .routes(routes!(webhooks::calls))
        .routes(routes!(webhooks::replay))
}
