//! `/transparency`: the public monthly figures of `GET /public/stats`
//! (SPEC §10) as a page in both languages; a suppressed figure (base under
//! 10 cases) shows as "—", explained under the table.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use redress_app::transparency::{Figure, PublicMonth};

use super::{Base, PageCtx};
use crate::state::AppState;
use serde::Deserialize;

/// One month as the cells to show.
pub struct Row {
    pub month: String,
    pub cells: Vec<String>,
}

#[derive(Template)]
#[template(path = "transparency.html")]
struct TransparencyPage<'a> {
    base: &'a Base,
    from_day: String,
    to_day: String,
    min_cases: i64,
    rows: Vec<Row>,
}

const DASH: &str = "—";

fn count(f: &Figure<i64>) -> String {
    f.value.map_or_else(|| DASH.to_string(), |n| n.to_string())
}

fn percent(f: &Figure<f64>) -> String {
    f.value
        .map_or_else(|| DASH.to_string(), |r| format!("{:.1}%", r * 100.0))
}

fn hours(f: &Figure<f64>) -> String {
    f.value
        .map_or_else(|| DASH.to_string(), |h| format!("{h:.1}"))
}

fn row(m: &PublicMonth) -> Row {
    Row {
        month: m.month.clone(),
        cells: vec![
            count(&m.filed),
            percent(&m.acceptance_rate),
            percent(&m.on_time_rate),
            hours(&m.median_hours_to_decide),
            count(&m.outcomes.upheld),
            count(&m.outcomes.partially_upheld),
            count(&m.outcomes.not_upheld),
            count(&m.outcomes.settled),
            percent(&m.appeals_changed_share),
        ],
    }
}

/// `?lang=`, and the period as for `GET /public/stats` (default: the last
/// 12 whole months).
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

pub async fn page(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    let ctx = PageCtx::new(&headers, "/transparency", q.lang.as_deref());
    let stats = match s.app.public_stats(q.from.as_deref(), q.to.as_deref()).await {
        Ok(v) => v,
        Err(e) => return ctx.fail(&e),
    };
    let page = TransparencyPage {
        base: &ctx.base,
        from_day: stats.from_day.to_string(),
        to_day: stats.to_day.to_string(),
        min_cases: stats.min_cases,
        rows: stats.months.iter().map(row).collect(),
    }
    .render();
    ctx.respond(StatusCode::OK, page)
}
