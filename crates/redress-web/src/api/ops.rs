//! Calendar, reports, audit, the test clock and health.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use redress_app::views::ReportSummary;
use redress_domain::Reason;
use redress_domain::Role;
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use super::schemas::*;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Caller, JsonBody, Params};
use crate::state::AppState;

/// The published channels (公示渠道, SPEC §5): the channels switched on,
/// with the hotline and its hours, the mailbox, the postal and visiting
/// address of those that are on.
#[utoipa::path(get, path = "/channels", tag = "complainant",
    responses((status = 200, body = redress_app::channels::PublicChannels)))]
pub async fn channels(
    State(s): State<AppState>,
) -> ApiResult<Json<redress_app::channels::PublicChannels>> {
    Ok(Json(s.app.published_channels().await?.public()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DueParams {
    /// RFC 3339 start (default: now)
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// Working days to add; required unless `working_hours` is given
    /// (one of the two, not both).
    #[param(value_type = Option<u32>, maximum = 3650)]
    pub working_days: Option<String>,
    /// Instead of `working_days`: working hours (within the installation's
    /// working hours, when it has them).
    #[param(value_type = Option<u32>, maximum = 87600)]
    pub working_hours: Option<String>,
}

/// The instant `working_days` working days (or `working_hours` working
/// hours) after `from`, on the installation's calendar.
#[utoipa::path(get, path = "/calendar/due", tag = "calendar", params(DueParams),
    responses((status = 200, body = DueAt), (status = 422, body = ErrorBody)))]
pub async fn due(
    State(s): State<AppState>,
    Params(p): Params<DueParams>,
) -> ApiResult<Json<DueAt>> {
    let mut errors = redress_domain::FieldErrors::new();
    let from = match p.from.as_deref().filter(|f| !f.is_empty()) {
        None => Some(s.app.now()),
        Some(raw) => {
            let t = chrono::DateTime::parse_from_rfc3339(raw)
                .ok()
                .map(|t| t.to_utc());
            if t.is_none() {
                errors.add("from", Reason::Time);
            }
            t
        }
    };
    let count =
        |field: &str, raw: &str, max: u32, errors: &mut redress_domain::FieldErrors| match raw
            .parse::<u32>()
        {
            Ok(n) if n <= max => Some(n),
            _ => {
                errors.add(
                    field,
                    Reason::IntRange {
                        a: 0,
                        b: i64::from(max),
                    },
                );
                None
            }
        };
    let days = p.working_days.as_deref().filter(|r| !r.is_empty());
    let hours = p.working_hours.as_deref().filter(|r| !r.is_empty());
    let length = match (days, hours) {
        (Some(d), None) => count("working_days", d, 3650, &mut errors).map(|n| (n, false)),
        (None, Some(h)) => count("working_hours", h, 87_600, &mut errors).map(|n| (n, true)),
        (Some(_), Some(_)) => {
            errors.add("working_hours", Reason::DaysOrHours);
            None
        }
        (None, None) => {
            errors.add("working_days", Reason::RequiredOrHours);
            None
        }
    };
    if !errors.is_empty() {
        return Err(redress_app::AppError::Invalid(errors).into());
    }
    let (from, (n, in_hours)) = (from.expect("checked"), length.expect("checked"));
    let calendar = s.app.calendar();
    Ok(Json(DueAt {
        from,
        working_days: (!in_hours).then_some(n),
        working_hours: in_hours.then_some(n),
        due_at: if in_hours {
            calendar.working_hours_after(from, n)
        } else {
            calendar.working_days_after(from, n)
        },
    }))
}

/// `GET /calendar/due`: the instant a length of working time after `from`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct DueAt {
    pub from: chrono::DateTime<chrono::Utc>,
    /// The length asked for, in working days (absent when asked in hours).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_days: Option<u32>,
    /// The length asked for, in working hours (absent when asked in days).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_hours: Option<u32>,
    pub due_at: chrono::DateTime<chrono::Utc>,
}

/// `GET /calendar/{year}`: a year's exceptions to the weekly pattern.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct CalendarYear {
    pub year: i32,
    /// Whether the calendar has the year's holidays and make-up days (a
    /// year without them counts weekends only).
    pub complete: bool,
    /// The installation's time zone (IANA name).
    pub time_zone: String,
    pub days: Vec<redress_app::calendar_admin::CalendarDayView>,
}

/// That year's exceptions to the weekly pattern.
#[utoipa::path(get, path = "/calendar/{year}", tag = "calendar", params(("year" = i32, Path, minimum = 1970, maximum = 2200)),
    responses((status = 200, body = CalendarYear), (status = 422, body = ErrorBody)))]
pub async fn year(
    State(s): State<AppState>,
    Path(year): Path<String>,
) -> ApiResult<Json<CalendarYear>> {
    let year: i32 = year
        .parse()
        .ok()
        .filter(|y| (1970..=2200).contains(y))
        .ok_or_else(|| ApiError::from(redress_app::AppError::invalid("year", Reason::Year)))?;
    let calendar = s.app.calendar();
    Ok(Json(CalendarYear {
        year,
        complete: calendar.has_year(year),
        time_zone: s.app.config.time_zone.name().to_string(),
        days: calendar
            .exceptions_in_year(year)
            .into_iter()
            .map(Into::into)
            .collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// The first local day (`YYYY-MM-DD`, or an RFC 3339 instant: its
    /// local day); default 29 days before `to`.
    #[param(value_type = Option<PeriodBound>)]
    pub from: Option<String>,
    /// The last local day, included (an RFC 3339 instant: the day of the
    /// instant just before it); default today.
    #[param(value_type = Option<PeriodBound>)]
    pub to: Option<String>,
    /// How `series` divides the period; default `day` up to 62 days,
    /// `week` up to 366, else `month`.
    #[param(value_type = Option<IntervalName>)]
    pub interval: Option<String>,
    /// Only cases of this department (code).
    pub department: Option<String>,
    /// Only cases of this category (code).
    pub category: Option<String>,
}

impl ReportParams {
    fn app(self) -> redress_app::report::ReportParams {
        redress_app::report::ReportParams {
            from: self.from,
            to: self.to,
            interval: self.interval,
            department: self.department,
            category: self.category,
        }
    }
}

/// Figures of SPEC §10 for a period of whole local days (default: the
/// last 30), from the report rollups; definitions in docs/reports.md.
#[utoipa::path(get, path = "/reports/summary", tag = "reports", params(ReportParams),
    responses((status = 200, body = ReportSummary), (status = 403, body = ErrorBody)))]
pub async fn summary(
    State(s): State<AppState>,
    Caller(who): Caller,
    Params(p): Params<ReportParams>,
) -> ApiResult<Json<ReportSummary>> {
    Ok(Json(s.app.report_summary(&who, &p.app()).await?))
}

/// The same figures as `/reports/summary`, as CSV rows `figure,key,value`
/// (UTF-8 with a byte-order mark).
#[utoipa::path(get, path = "/reports/summary.csv", tag = "reports", params(ReportParams),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody)))]
pub async fn summary_csv(
    State(s): State<AppState>,
    Caller(who): Caller,
    Params(p): Params<ReportParams>,
) -> ApiResult<Response> {
    let v = s.app.report_summary(&who, &p.app()).await?;
    let name = format!("redress-report-{}-{}.csv", v.from_day, v.to_day);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        redress_app::report::summary_csv(&v),
    )
        .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PublicStatsParams {
    /// The first local day (`YYYY-MM-DD`, or an RFC 3339 instant: its
    /// local day); default: the first day of the 12th month before `to`.
    #[param(value_type = Option<PeriodBound>)]
    pub from: Option<String>,
    /// The last local day, included; default: the last day of the last
    /// whole month.
    #[param(value_type = Option<PeriodBound>)]
    pub to: Option<String>,
}

/// The public transparency figures (SPEC §10), month by month: volume,
/// acceptance rate, on-time rate, median time to decide, outcomes and the
/// share of appeals that changed the result. No personal data; a figure
/// drawn from fewer than 10 cases is `null` with `suppressed: true`
/// (docs/reports.md). Anyone may ask.
#[utoipa::path(get, path = "/public/stats", tag = "reports", params(PublicStatsParams),
    responses((status = 200, body = PublicStatsBody), (status = 422, body = ErrorBody)))]
pub async fn public_stats(
    State(s): State<AppState>,
    Params(p): Params<PublicStatsParams>,
) -> ApiResult<Json<redress_app::transparency::PublicStats>> {
    Ok(Json(
        s.app
            .public_stats(p.from.as_deref(), p.to.as_deref())
            .await?,
    ))
}

/// Overdue and due-soon staff deadlines with exact counts: in total, per
/// department, per person (`assignee`, null: unassigned) and the caller's own.
#[utoipa::path(get, path = "/queues", tag = "complaints",
    responses((status = 200, body = redress_app::deadlines::Queues), (status = 401, body = ErrorBody)))]
pub async fn queues(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<Json<redress_app::deadlines::Queues>> {
    Ok(Json(s.app.queues(&who).await?))
}

/// Checks the journal's hash chain: `{ok, events_checked}`.
#[utoipa::path(get, path = "/audit/verify", tag = "audit",
    responses((status = 200, body = redress_app::jobs::AuditReport), (status = 403, body = ErrorBody)))]
pub async fn verify(
    State(s): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<Json<redress_app::jobs::AuditReport>> {
    who.staff()?.require(Role::Supervisor)?;
    Ok(Json(s.app.verify_audit().await?))
}

/// Test clock only (`--test-clock`): moves the clock forward and runs the
/// deadline jobs that fall due, then the webhook calls that are due, before
/// answering.
#[utoipa::path(post, path = "/test-clock/advance", tag = "testing", request_body = AdvanceBody,
    responses((status = 200, body = Advanced), (status = 404, body = ErrorBody)))]
pub async fn advance(
    State(s): State<AppState>,
    Caller(who): Caller,
    body: JsonBody,
) -> ApiResult<Json<Advanced>> {
    if !s.app.clock.is_test() {
        return Err(ApiError::not_found());
    }
    who.staff()?.require(Role::Admin)?;
    let seconds = match body.value.get("seconds").and_then(Value::as_i64) {
        Some(n) if (0..=20 * 365 * 86400).contains(&n) => n,
        _ => {
            return Err(redress_app::AppError::invalid("seconds", Reason::NonNegative).into());
        }
    };
    s.app.clock.advance(seconds);
    let sweep = s.app.sweep().await?;
    let webhooks = s.app.deliver_webhooks().await?;
    Ok(Json(Advanced {
        now: s.app.now(),
        sweep,
        webhooks,
    }))
}

/// `POST /test-clock/advance`: the clock after the move, and what the
/// sweep and the webhook dispatcher then did.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Advanced {
    pub now: chrono::DateTime<chrono::Utc>,
    pub sweep: redress_app::jobs::SweepReport,
    pub webhooks: redress_app::webhooks::DeliveryReport,
}

/// `GET /healthz`: the server answers and its database is reachable.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok` (a database that cannot be reached is an error answer).
    pub status: &'static str,
    /// The server's clock (the test clock's when it runs one).
    pub now: chrono::DateTime<chrono::Utc>,
    /// What an administrator should see to (a missing calendar year);
    /// still a 200.
    pub warnings: Vec<redress_app::calendar_admin::CalendarWarning>,
}

/// Liveness and database reachability.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
pub async fn health(State(s): State<AppState>) -> ApiResult<Json<Health>> {
    s.app
        .store
        .journal_head()
        .await
        .map_err(redress_app::AppError::from)?;
    Ok(Json(Health {
        status: "ok",
        now: s.app.now(),
        warnings: s.app.calendar_warnings(),
    }))
}
