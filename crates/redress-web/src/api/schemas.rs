//! Request and response shapes for the OpenAPI document. Handlers read
//! bodies as JSON values and check them field by field in the application
//! (so that every bad field is named at once); these types describe the
//! same fields for readers of `/api/openapi.json`.
#![allow(dead_code)]

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, Deserialize, ToSchema)]
pub struct LoginBody {
    /// Not blank.
    #[schema(min_length = 1, max_length = 64, pattern = "\\S")]
    pub username: String,
    #[schema(min_length = 1, max_length = 1024)]
    pub password: String,
}

/// A staff login: the bearer token (also set as the session cookie), how
/// long it lasts, and who logged in. Fields in alphabetical order, the
/// order the answer has always had.
#[derive(Serialize, ToSchema)]
pub struct TokenAnswer {
    pub expires_in_hours: i64,
    pub token: String,
    pub user: redress_app::admin::UserView,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CalendarDayBody {
    /// `holiday` or `workday`.
    pub kind: String,
    pub name: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CalendarFeedBody {
    /// The iCalendar feed's http:// or https:// URL.
    pub url: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ChannelsBody {
    /// The complaint hotline's number.
    pub hotline: Option<String>,
    /// When the hotline answers (free text, e.g. 工作日 9:00–17:00).
    pub hotline_hours: Option<String>,
    /// The complaint mailbox (also the base of reply addresses).
    pub mailbox: Option<String>,
    pub postal_address: Option<String>,
    pub visiting_address: Option<String>,
    /// The channels switched on: `web`, `api`, `chat`, `email`, `phone`,
    /// `letter`, `in_person`.
    pub enabled: Vec<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct DepartmentBody {
    pub code: String,
    pub name: String,
    /// The English name, shown in English mode.
    pub name_en: Option<String>,
    /// An independent department: its reviewers may review any decision.
    pub review: Option<bool>,
    /// The head's username.
    pub head: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct UserBody {
    pub username: String,
    pub password: String,
    pub display_name: String,
    /// intake, handler, reviewer, supervisor, admin
    pub roles: Vec<String>,
    pub departments: Vec<String>,
    pub level: i32,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CategoryBody {
    pub code: String,
    pub name: String,
    pub name_en: Option<String>,
    pub department: String,
    /// Handling time for this category's cases, working days.
    pub handling_days: Option<u32>,
    /// Appeal window for this category's cases, calendar days.
    pub appeal_days: Option<u32>,
    /// Review time for this category's cases, working days.
    pub review_days: Option<u32>,
    /// The respondent's reply after acceptance, working days (1–60;
    /// unset: the installation's default, 3).
    pub respondent_reply_days: Option<u32>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct RespondentBody {
    /// user, merchant, content, order, platform
    pub kind: String,
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    /// When the portal key stops working (RFC 3339, in the future).
    pub expires_at: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ApiKeyBody {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// read and webhooks: supervisors only
    #[schema(min_items = 1)]
    pub scopes: Vec<ScopeName>,
    /// When the key stops working (RFC 3339, or a date: its start in UTC;
    /// in the future).
    #[schema(value_type = Option<DateOrInstant>)]
    pub expires_at: Option<String>,
}

pub use redress_app::keys::ScopeName;

#[derive(Serialize, Deserialize, ToSchema)]
pub struct PasswordBody {
    /// The current password.
    pub old: String,
    /// The new one: at least 8 characters, not the current one.
    pub new: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct PortalKeyBody {
    /// When the new key stops working (RFC 3339, in the future).
    pub expires_at: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ComplainantBody {
    /// Name or username.
    pub name: String,
    pub user_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// For letters: at least one of email, phone, user_id and
    /// postal_address is required (422 naming `complainant` otherwise).
    #[schema(max_length = 500)]
    pub postal_address: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct RespondentRef {
    pub kind: String,
    pub id: String,
    pub name: Option<String>,
}

/// The registration record (用户投诉登记表).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ComplaintBody {
    pub complainant: ComplainantBody,
    /// Required except for channel `email`.
    pub respondent: Option<RespondentRef>,
    pub subject: String,
    /// The facts (事由).
    pub description: String,
    /// What the complainant asks for (诉求).
    pub demands: Option<String>,
    /// RFC 3339 or YYYY-MM-DD.
    pub occurred_at: Option<String>,
    pub links: Option<Vec<String>>,
    pub order_numbers: Option<Vec<String>>,
    /// web, api, chat, email, phone, letter, in_person (allowed values
    /// depend on the caller: staff any, API keys api and chat, the public web).
    pub channel: Option<String>,
    /// zh-CN (default) or en.
    pub locale: Option<String>,
    /// A phone call's, letter's, visit's or chat's reference, shown on the case.
    pub call_reference: Option<String>,
}

/// `PATCH /complaints/{id}`: a merge patch (RFC 7396) over the
/// registration record before acceptance. Any field of [`ComplaintBody`];
/// an object merges into the field it names (`complainant`,
/// `respondent`), `null` clears an optional field. The record as patched
/// is checked whole again, like a registration.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct RecordPatch {
    /// Any of [`ComplainantBody`]'s fields.
    #[schema(value_type = Option<Object>)]
    pub complainant: Option<serde_json::Value>,
    /// Any of [`RespondentRef`]'s fields.
    #[schema(value_type = Option<Object>)]
    pub respondent: Option<serde_json::Value>,
    pub subject: Option<String>,
    pub description: Option<String>,
    pub demands: Option<String>,
    /// RFC 3339 or YYYY-MM-DD.
    pub occurred_at: Option<String>,
    pub links: Option<Vec<String>>,
    pub order_numbers: Option<Vec<String>>,
    pub locale: Option<String>,
    pub call_reference: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Registered {
    pub id: String,
    pub tracking_no: String,
    /// The access code, 12 Crockford base32 characters in groups
    /// (`7KQ4-9XMT-2PRD`; case, dashes and spaces do not matter when
    /// typed). Secret; shown once. Send as `Authorization: Bearer` on
    /// /track calls.
    pub access_token: String,
    pub status: StatusName,
    #[schema(format = DateTime)]
    pub acceptance_due_at: String,
    pub tracking_url: String,
    /// Staff only (absent for the public and integrations, who could
    /// otherwise probe another person's contact): whether the complainant
    /// has open cases against the same respondent.
    pub duplicate: Option<bool>,
    /// Staff only: those cases' ids.
    #[schema(value_type = Option<Vec<uuid::Uuid>>)]
    pub possible_duplicates: Option<Vec<String>>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct RecoverBody {
    #[schema(min_length = 1, max_length = 64)]
    pub tracking_no: String,
    /// The e-mail address or phone number given at registration.
    #[schema(min_length = 1, max_length = 254)]
    pub contact: String,
}

/// The same whatever matched.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct RecoverAnswer {
    pub message: String,
}

/// A notice to the complainant: every kind but those to staff
/// (`new_complaint`, `reminder`, `escalation`, `appeal_received`).
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ComplainantNoticeName {
    Acknowledgement,
    RequestForMaterial,
    Refusal,
    Acceptance,
    Progress,
    Result,
    ReviewResult,
    Lapsed,
    Withdrawn,
    Merged,
    Message,
    Closed,
    AccessCode,
}

/// A notice staff sent by post.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PostDeliveryBody {
    /// The notice kind (`result`, `acknowledgement`, …): a notice to the
    /// complainant.
    pub notice: ComplainantNoticeName,
    /// Always `post`.
    pub channel: PostChannel,
    /// When the letter was posted: RFC 3339 (or a date), not in the future.
    #[schema(value_type = DateOrInstant)]
    pub sent_at: String,
    /// The letter's reference (registered-mail number, outgoing register).
    #[schema(min_length = 1, max_length = 128)]
    pub reference: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct AcceptBody {
    /// A category's code.
    #[schema(min_length = 1, pattern = "\\S")]
    pub category: String,
    /// Overrides the category's routing.
    pub department: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct RejectBody {
    pub reason: String,
    /// Where the complainant can go instead.
    pub guidance: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct RequestInfoBody {
    /// Every missing item, at once.
    #[schema(min_items = 1, value_type = Vec<NonBlank>)]
    pub items: Vec<String>,
    pub due_days: Option<u32>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct AssignBody {
    /// Username.
    #[schema(min_length = 1, pattern = "\\S")]
    pub handler: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct MessageBody {
    pub audience: AudienceName,
    #[schema(min_length = 1, pattern = "\\S")]
    pub body: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct NoteBody {
    /// `note` when not given.
    #[schema(nullable = false)]
    pub kind: Option<NoteKindName>,
    #[schema(min_length = 1, pattern = "\\S")]
    pub body: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ExtendBody {
    /// The new due instant (RFC 3339, or a date); or give `days`.
    #[schema(value_type = Option<DateOrInstant>)]
    pub due_at: Option<String>,
    /// Working days to add; or give `due_at`.
    pub days: Option<u32>,
    pub reason: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct UserPatchBody {
    pub display_name: Option<String>,
    pub password: Option<String>,
    pub roles: Option<Vec<String>>,
    pub departments: Option<Vec<String>>,
    pub level: Option<i32>,
    pub active: Option<bool>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CategoryPatchBody {
    pub name: Option<String>,
    pub name_en: Option<String>,
    pub department: Option<String>,
    pub handling_days: Option<u32>,
    pub appeal_days: Option<u32>,
    pub review_days: Option<u32>,
    pub respondent_reply_days: Option<u32>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CannedReplyBody {
    /// 1–100 characters.
    pub title: String,
    /// The text, 1–5000 characters.
    pub body: String,
    /// zh-CN or en: the language of the text; omitted: any.
    pub locale: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CannedReplyPatchBody {
    pub title: Option<String>,
    pub body: Option<String>,
    /// zh-CN, en, or null for any language.
    pub locale: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct LegalHoldBody {
    /// true: keep the case past its retention period; false: release.
    pub hold: bool,
    #[schema(min_length = 1, pattern = "\\S")]
    pub reason: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct EraseBody {
    /// Why the case's personal data is erased early (the complainant's
    /// request, how it was checked); kept in the journal's `erased` event.
    #[schema(min_length = 1, max_length = 5000)]
    pub reason: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct PauseBody {
    #[schema(min_length = 1, pattern = "\\S")]
    pub reason: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ResumeBody {
    /// Optional; when given, not blank.
    #[schema(min_length = 1, pattern = "\\S")]
    pub reason: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct LinkBody {
    /// Id or tracking number.
    #[schema(min_length = 1, pattern = "\\S")]
    pub other: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct MergeBody {
    /// The open original: id or tracking number.
    #[schema(min_length = 1, pattern = "\\S")]
    pub into: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct MeasureBody {
    /// A remedy: `refund`, `compensation`, `replacement`, `repair`,
    /// `apology` or `other`; a sanction: `warning`, `listing_removal`,
    /// `suspension`, `termination` or `other` (other words are kept as
    /// given).
    #[schema(min_length = 1, max_length = 100)]
    pub kind: String,
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// At least 0, at most two decimal places.
    #[schema(minimum = 0, maximum = 1000000000000.0, multiple_of = 0.01)]
    pub amount: Option<f64>,
    /// ISO 4217; `CNY` when an amount comes without one.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    /// A sanction's length, calendar days.
    #[schema(minimum = 1, maximum = 3650)]
    pub duration_days: Option<u32>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ActionBody {
    pub description: String,
    pub owner: Option<String>,
    #[schema(value_type = Option<DateOrInstant>)]
    pub due_at: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct DecideBody {
    pub outcome: OutcomeName,
    /// At least one rule, agreement clause or law.
    #[schema(min_items = 1, value_type = Vec<NonBlank>)]
    pub basis: Vec<String>,
    #[schema(min_length = 1, pattern = "\\S")]
    pub reply: String,
    pub remedies: Option<Vec<MeasureBody>>,
    pub sanctions: Option<Vec<MeasureBody>>,
    pub actions: Option<Vec<ActionBody>>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct UpdateActionBody {
    /// The new owner: a handler of the case's department or a supervisor.
    pub owner: Option<String>,
    /// The new due date (RFC 3339, or a date), in the future.
    #[schema(value_type = Option<DateOrInstant>)]
    pub due_at: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct CompleteActionBody {
    pub note: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ReviewBody {
    pub result: ReviewResultName,
    /// At least one rule, agreement clause or law.
    #[schema(min_items = 1, value_type = Vec<NonBlank>)]
    pub basis: Vec<String>,
    #[schema(min_length = 1, pattern = "\\S")]
    pub reply: String,
    /// The new outcome; required when `result` is `modified`.
    pub outcome: Option<OutcomeName>,
    /// A modified result's remedies and sanctions replace the decision's.
    pub remedies: Option<Vec<MeasureBody>>,
    pub sanctions: Option<Vec<MeasureBody>>,
    /// Corrective actions, added to those followed up.
    pub actions: Option<Vec<ActionBody>>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct SupplementBody {
    pub message: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct BodyOnly {
    pub body: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ReasonBody {
    pub reason: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct FeedbackBody {
    /// 1 (lowest) to 5 (highest)
    #[schema(minimum = 1, maximum = 5)]
    pub score: u8,
    pub comment: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct UploadBody {
    /// Not empty.
    #[schema(format = Binary, value_type = String, min_length = 1)]
    pub file: Vec<u8>,
    /// Staff uploads: the parties the file is shared with
    /// (`complainant`, `respondent`; comma-separated or repeated).
    /// Optional; a text part, never null.
    #[serde(default)]
    #[schema(pattern = "^ *((complainant|respondent) *)?(, *((complainant|respondent) *)?)*$")]
    pub share: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct AdvanceBody {
    pub seconds: i64,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
    /// Field name → what is wrong with it, in English.
    pub fields: std::collections::BTreeMap<String, String>,
    /// Field name → the machine-readable reason (one per field of `fields`).
    pub reasons: std::collections::BTreeMap<String, ReasonCode>,
}

/// What kind of error it is; the HTTP status says the same more coarsely.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: the body is not valid JSON.
    InvalidJson,
    /// 400: a multipart body that cannot be read.
    InvalidMultipart,
    /// 400: a query string that cannot be read.
    InvalidQuery,
    /// 401: no or bad credentials.
    Unauthorized,
    /// 403: the wrong person.
    Forbidden,
    /// 404: not there, or not visible to the caller.
    NotFound,
    /// 405: the path does not take that method.
    MethodNotAllowed,
    /// 409: the case's state does not allow it.
    Conflict,
    /// 413: too large.
    TooLarge,
    /// 422: missing or invalid fields, each named in `fields` and `reasons`.
    InvalidFields,
    /// 429: rate-limited; see `Retry-After`.
    RateLimited,
    /// 500: something went wrong on the server's side.
    Internal,
    /// 503: too many requests in flight; see `Retry-After`.
    Overloaded,
}

/// Why a field was refused.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// Missing or empty.
    Required,
    /// Longer than allowed.
    TooLong,
    /// Shorter than allowed.
    TooShort,
    /// Outside the allowed length range.
    Length,
    /// More items than allowed.
    TooMany,
    /// Larger than allowed.
    TooLarge,
    /// Not one of the allowed values.
    NotOneOf,
    /// A number or date outside the allowed range.
    OutOfRange,
    /// Not of the expected JSON type.
    WrongType,
    /// Not an e-mail address.
    NotAnEmail,
    /// Not a phone number.
    NotAPhone,
    /// Not a date or time in the accepted forms.
    NotATime,
    /// A time that must not lie in the future does.
    InFuture,
    /// A time that must lie in the future does not.
    NotInFuture,
    /// Holds characters that are not allowed.
    InvalidCharacters,
    /// Names something that does not exist.
    NotFound,
    /// Already in use.
    Taken,
    /// Contradicts another field or an earlier request.
    Conflict,
    /// Not allowed for this case or person.
    NotAllowed,
    /// The channel is switched off.
    ChannelOff,
    /// An address that is not public.
    NotPublic,
    /// An address that could not be reached.
    Unreachable,
    /// Otherwise malformed.
    Invalid,
}

// Used inline (`body = inline(Binary)`), so that the document says
// `type: string, format: binary` (a file, as generated clients read it)
// rather than the array of numbers utoipa makes of `Vec<u8>`.
/// A file's bytes: the body is the file itself, of the media type named,
/// not JSON.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct Binary(Vec<u8>);

/// A public count: `value` is null and `suppressed` true when it is under
/// 10 (none included).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PublicCount {
    pub value: Option<i64>,
    pub suppressed: bool,
}

/// A public rate (0–1) or number of hours: `value` is null and
/// `suppressed` true when its base is fewer than 10 cases.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PublicRate {
    pub value: Option<f64>,
    pub suppressed: bool,
}

/// Decisions of a month by outcome, each count shown from 10.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PublicOutcomes {
    pub upheld: PublicCount,
    pub partially_upheld: PublicCount,
    pub not_upheld: PublicCount,
    pub settled: PublicCount,
}

/// The public figures of one calendar month (clipped to the period).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PublicMonth {
    /// `YYYY-MM`.
    pub month: String,
    #[schema(format = Date)]
    pub from_day: String,
    #[schema(format = Date)]
    pub to_day: String,
    /// Cases filed in the month (base: itself).
    pub filed: PublicCount,
    /// Accepted / (accepted + refused) of the intake decisions of the month.
    pub acceptance_rate: PublicRate,
    /// Stage deadlines met / counted in the month (base: the cases of the
    /// stage counted most).
    pub on_time_rate: PublicRate,
    /// Median hours from filing to decision of the month's decisions.
    pub median_hours_to_decide: PublicRate,
    pub outcomes: PublicOutcomes,
    /// Reviews that changed the result / reviews decided in the month.
    pub appeals_changed_share: PublicRate,
}

/// `GET /public/stats`: monthly public figures.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PublicStatsBody {
    #[schema(format = Date)]
    pub from_day: String,
    #[schema(format = Date)]
    pub to_day: String,
    /// The installation's time zone (IANA name).
    pub time_zone: String,
    /// The smallest base a figure is shown from (10).
    pub min_cases: i64,
    pub months: Vec<PublicMonth>,
}

/// How a report's series divides its period.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IntervalName {
    Day,
    Week,
    Month,
}

pub use redress_app::views::StatusName;

pub use redress_app::channels::ChannelName;

pub use redress_app::views::ClosureName;

pub use redress_app::views::OutcomeName;

/// A stage whose deadline a case missed, or any stage.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MissedStage {
    Acceptance,
    Supplement,
    Handling,
    Review,
    Any,
}

/// Whether an export shows the complainant's contact data in full.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContactMode {
    Masked,
    Full,
}

/// The order of the case list.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    Relevance,
    Newest,
    Due,
}

pub use redress_app::actions::ActionStatusName;

pub use redress_app::webhooks::CallStateName;

/// A likely duplicate of a case.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct SimilarCase {
    #[schema(format = Uuid)]
    pub id: String,
    pub tracking_no: String,
    pub subject: String,
    /// Jaccard similarity of the two texts' shingles, 0.5–1.
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub score: f64,
}

/// `GET /complaints/{id}/similar`.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct SimilarCases {
    pub items: Vec<SimilarCase>,
}

/// A likely category of a case.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct CategorySuggestion {
    /// The category's code.
    pub category: String,
    /// The model's probability, 0–1.
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub confidence: f64,
}

/// `GET /complaints/{id}/suggestions`.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct CategorySuggestions {
    pub items: Vec<CategorySuggestion>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::PartialSchema;

    #[test]
    fn the_documented_reason_codes_are_the_ones_the_domain_gives() {
        let documented = |v: serde_json::Value| v["enum"].as_array().cloned().unwrap_or_default();
        let schema = serde_json::to_value(ReasonCode::schema()).expect("a schema");
        let codes: std::collections::BTreeSet<String> = documented(schema)
            .iter()
            .filter_map(|c| c.as_str().map(str::to_string))
            .collect();
        let given: std::collections::BTreeSet<String> = redress_domain::Reason::CODES
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(codes, given, "ReasonCode and Reason::CODES differ");
    }
}

// ---- Admin lists and department changes (issue 15 item 6) ----

#[derive(Serialize, Deserialize, ToSchema)]
pub struct DepartmentPatchBody {
    /// The name (not empty).
    pub name: Option<String>,
    /// The English name, shown in English mode; null or empty clears it.
    pub name_en: Option<String>,
    /// An independent department: its reviewers may review any decision.
    pub review: Option<bool>,
    /// The head's username; null or empty clears it.
    pub head: Option<String>,
}

/// `GET /admin/departments`: every department, by code.
#[derive(Serialize, ToSchema)]
pub struct DepartmentList {
    pub items: Vec<redress_app::admin::DepartmentView>,
    pub total: i64,
    /// Always null: the whole list is answered.
    pub next_cursor: Option<String>,
}

/// `GET /admin/users`: every staff user, by username.
#[derive(Serialize, ToSchema)]
pub struct UserList {
    pub items: Vec<redress_app::admin::UserView>,
    pub total: i64,
    /// Always null: the whole list is answered.
    pub next_cursor: Option<String>,
}

/// The state of a respondent's portal key.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeyStateName {
    Active,
    Expired,
    Revoked,
}

/// A respondent account, without its key.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct RespondentItem {
    /// The account's id, as used by `/admin/respondents/{id}/keys`.
    pub id: String,
    /// user, merchant, content, order, platform
    pub kind: String,
    /// The respondent's own id (the `id` of the create call).
    pub respondent_id: String,
    pub name: String,
    pub email: Option<String>,
    pub key_state: KeyStateName,
    #[schema(format = DateTime)]
    pub key_expires_at: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl RespondentItem {
    pub fn of(r: redress_store::RespondentAccount, now: chrono::DateTime<chrono::Utc>) -> Self {
        let key_state = if r.key_revoked {
            KeyStateName::Revoked
        } else if r.key_usable(now) {
            KeyStateName::Active
        } else {
            KeyStateName::Expired
        };
        Self {
            id: r.id.to_string(),
            kind: r.kind.as_str().to_string(),
            respondent_id: r.external_id,
            name: r.name,
            email: r.email,
            key_state,
            key_expires_at: r
                .key_expires_at
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
            created_at: r
                .created_at
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        }
    }
}

/// `GET /admin/respondents`: every respondent account, by kind and id.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct RespondentList {
    pub items: Vec<RespondentItem>,
    pub total: i64,
    /// Always null: the whole list is answered.
    pub next_cursor: Option<String>,
}

/// A date (`2026-12-06`) or an RFC 3339 instant
/// (`2026-12-06T09:00:00+08:00`), as the server reads them: the pattern
/// admits exactly the calendar's days (29 February in leap years only),
/// hours 00–23 and offsets up to ±23:59.
#[derive(Serialize, Deserialize, ToSchema)]
#[schema(
    pattern = "^([0-9]{4}-(0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|[0-9]{4}-(0[469]|11)-(0[1-9]|[12][0-9]|30)|[0-9]{4}-02-(0[1-9]|1[0-9]|2[0-8])|([0-9]{2}(0[48]|[2468][048]|[13579][26])|(0[48]|[2468][048]|[13579][26])00)-02-29)(T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))?$"
)]
pub struct DateOrInstant(String);

/// A bound of a report's period: a date or an RFC 3339 instant, as
/// [`DateOrInstant`], in the years 1970 to 2200.
#[derive(Serialize, Deserialize, ToSchema)]
#[schema(
    pattern = "^((19[7-9][0-9]|20[0-9]{2}|21[0-9]{2}|2200)-(0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(19[7-9][0-9]|20[0-9]{2}|21[0-9]{2}|2200)-(0[469]|11)-(0[1-9]|[12][0-9]|30)|(19[7-9][0-9]|20[0-9]{2}|21[0-9]{2}|2200)-02-(0[1-9]|1[0-9]|2[0-8])|(19(7[26]|8[048]|9[26])|20(0[048]|[2468][048]|[13579][26])|21(0[48]|[2468][048]|[13579][26]))-02-29)(T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))?$"
)]
pub struct PeriodBound(String);

/// Text with at least one character that is not white space.
#[derive(Serialize, Deserialize, ToSchema)]
#[schema(pattern = "\\S")]
pub struct NonBlank(String);

pub use redress_app::views::AudienceName;

pub use redress_app::views::NoteKindName;

pub use redress_app::views::ReviewResultName;

/// The only channel a recorded delivery takes.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PostChannel {
    Post,
}

pub use redress_app::outbound::NoticeKindName;
