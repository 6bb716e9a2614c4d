//! Respondent scorecards and spike alerts (SPEC §10, docs/reports.md):
//! `GET /reports/respondents` and `GET /alerts`, supervisors only.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::schemas::{ErrorBody, PeriodBound};
use crate::error::ApiResult;
use crate::extract::{Caller, Params};
use crate::state::AppState;

/// What a scorecard list is sorted by.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScorecardSort {
    Volume,
    UpheldShare,
    PartiallyUpheldShare,
    ReplyOnTimeRate,
    RepeatComplainants,
    Change,
    Name,
}

/// Ascending or descending.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortDirection {
    Asc,
    Desc,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScorecardParams {
    /// The first local day (`YYYY-MM-DD`, or an RFC 3339 instant: its
    /// local day); default 29 days before `to`.
    #[param(value_type = Option<PeriodBound>)]
    pub from: Option<String>,
    /// The last local day, included; default today.
    #[param(value_type = Option<PeriodBound>)]
    pub to: Option<String>,
    /// Default `volume`.
    #[param(value_type = Option<ScorecardSort>)]
    pub sort: Option<String>,
    /// Default: the worst first (`desc`, but `asc` for
    /// `reply_on_time_rate` and `name`).
    #[param(value_type = Option<SortDirection>)]
    pub order: Option<String>,
    /// Default 50.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    pub limit: Option<String>,
}

/// One respondent's figures of the period (docs/reports.md).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ScorecardItem {
    /// `kind:id`.
    pub respondent: String,
    pub kind: String,
    pub id: String,
    /// The name an admin registered for the respondent, if any.
    pub name: Option<String>,
    /// Cases filed in the period.
    pub volume: i64,
    /// Decisions made in the period.
    pub decided: i64,
    /// Of those, upheld / partially upheld (the outcome in force).
    pub upheld: i64,
    pub partially_upheld: i64,
    pub upheld_share: Option<f64>,
    pub partially_upheld_share: Option<f64>,
    /// Reply deadlines settled in the period (first reply, or the deadline
    /// passed without one); met; missed or late.
    pub replies_due: i64,
    pub replies_on_time: i64,
    pub replies_late: i64,
    pub reply_on_time_rate: Option<f64>,
    /// Cases filed in the period by a complainant who had an earlier case
    /// against this respondent, and their share of `volume`.
    pub repeat_complainants: i64,
    pub repeat_share: Option<f64>,
    /// Cases filed in the period of the same length just before; `change`
    /// is `volume` minus it.
    pub previous_volume: i64,
    pub change: i64,
}

/// `GET /reports/respondents`.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ScorecardsBody {
    #[schema(format = Date)]
    pub from_day: String,
    #[schema(format = Date)]
    pub to_day: String,
    #[schema(format = Date)]
    pub previous_from_day: String,
    #[schema(format = Date)]
    pub previous_to_day: String,
    pub time_zone: String,
    pub sort: ScorecardSort,
    pub order: SortDirection,
    /// Respondents with any figure in the period (before `limit`).
    pub total: u64,
    pub items: Vec<ScorecardItem>,
}

/// Scorecards per respondent for a period of whole local days (default:
/// the last 30): volume, share upheld and partially upheld, replies on
/// time, repeat complainants and the change against the previous period;
/// from the report rollups (docs/reports.md).
#[utoipa::path(get, path = "/reports/respondents", tag = "reports", params(ScorecardParams),
    responses((status = 200, body = ScorecardsBody), (status = 403, body = ErrorBody)))]
pub async fn respondents(
    State(s): State<AppState>,
    Caller(who): Caller,
    Params(p): Params<ScorecardParams>,
) -> ApiResult<Json<redress_app::insight::Scorecards>> {
    let p = redress_app::insight::ScorecardParams {
        from: p.from,
        to: p.to,
        sort: p.sort,
        order: p.order,
        limit: p.limit,
    };
    Ok(Json(s.app.respondent_scorecards(&who, &p).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertParams {
    /// The first local day (`YYYY-MM-DD`, or an RFC 3339 instant: its
    /// local day); default 29 days before `to`; at most 366 days.
    #[param(value_type = Option<PeriodBound>)]
    pub from: Option<String>,
    /// The last local day, included; default today.
    #[param(value_type = Option<PeriodBound>)]
    pub to: Option<String>,
}

/// What spikes.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertSubject {
    Respondent,
    Category,
}

/// The spike rule's settings (`spike_alerts.*`).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct AlertRuleBody {
    pub min_count: i64,
    pub sigmas: f64,
    pub min_sd: f64,
    pub baseline_days: u32,
}

/// One spike: a subject's count on a local day above its own baseline.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct AlertItem {
    pub subject_kind: AlertSubject,
    /// The respondent key (`kind:id`) or the category code.
    pub subject_id: String,
    /// The respondent's registered name or the category's name.
    pub name: Option<String>,
    #[schema(format = Date)]
    pub day: String,
    pub count: i64,
    /// Mean and standard deviation of the subject's counts on the
    /// `baseline_days` days before `day`.
    pub baseline_mean: f64,
    pub baseline_sd: f64,
    /// `baseline_mean + sigmas × max(baseline_sd, min_sd)`.
    pub threshold: f64,
}

/// `GET /alerts`.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct AlertsBody {
    #[schema(format = Date)]
    pub from_day: String,
    #[schema(format = Date)]
    pub to_day: String,
    pub time_zone: String,
    pub rule: AlertRuleBody,
    /// Newest day first.
    pub items: Vec<AlertItem>,
}

/// Spikes: a respondent or category whose count of cases filed on a local
/// day is at least `min_count` and above `mean + sigmas × max(sd, min_sd)`
/// of its own previous `baseline_days` days (docs/reports.md).
#[utoipa::path(get, path = "/alerts", tag = "reports", params(AlertParams),
    responses((status = 200, body = AlertsBody), (status = 403, body = ErrorBody)))]
pub async fn alerts(
    State(s): State<AppState>,
    Caller(who): Caller,
    Params(p): Params<AlertParams>,
) -> ApiResult<Json<redress_app::insight::Alerts>> {
    Ok(Json(
        s.app
            .alerts(&who, p.from.as_deref(), p.to.as_deref())
            .await?,
    ))
}
