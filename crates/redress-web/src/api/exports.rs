//! `GET /exports/cases.csv` (SPEC §10): the regulator and audit export.

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use super::schemas::*;
use crate::error::ApiResult;
use crate::extract::{Caller, Params};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// Filed at or after: a date (from its start in the installation's zone) or an RFC 3339 instant; default: no bound
    #[param(value_type = Option<DateOrInstant>)]
    pub from: Option<String>,
    /// Filed before: a date (to its end) or an RFC 3339 instant; default: no bound
    #[param(value_type = Option<DateOrInstant>)]
    pub to: Option<String>,
    /// `masked` (default) or `full`: the complainant's name, e-mail and phone in full (journaled)
    #[param(value_type = Option<ContactMode>)]
    pub contact: Option<String>,
}

/// Every case filed in the period, one row each, newest first, in the
/// columns of docs/exports.md (UTF-8 with a byte-order mark), streamed.
/// Complainant contact data is masked unless `contact=full`. Each export
/// is journaled as `cases_exported`.
#[utoipa::path(get, path = "/exports/cases.csv", tag = "reports", params(ExportParams),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn cases_csv(
    State(s): State<AppState>,
    Caller(who): Caller,
    Params(p): Params<ExportParams>,
) -> ApiResult<Response> {
    let stream = s
        .app
        .export_cases_csv(
            &who,
            p.from.as_deref(),
            p.to.as_deref(),
            p.contact.as_deref(),
        )
        .await?;
    let name = format!("redress-cases-{}.csv", s.app.now().format("%Y%m%dT%H%M%SZ"));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
