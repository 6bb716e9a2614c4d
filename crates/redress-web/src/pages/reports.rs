//! The reports page (supervisors): the figures of `/reports/summary` for
//! a period, with bar charts drawn as SVG by the template (no script).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;

use redress_app::AppError;
use redress_app::views::{Histogram, ReportSummary, SeriesEntry};
use serde::Deserialize;

use super::{Base, Tr};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct Period {
    lang: Option<String>,
    from: Option<String>,
    to: Option<String>,
    interval: Option<String>,
    department: Option<String>,
    category: Option<String>,
}

impl Period {
    fn params(&self) -> redress_app::report::ReportParams {
        let some = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
        redress_app::report::ReportParams {
            from: some(&self.from),
            to: some(&self.to),
            interval: some(&self.interval),
            department: some(&self.department),
            category: some(&self.category),
        }
    }
}

/// One bar: label, value, where each is drawn (in the chart's units), and
/// the case list behind it (`None` when no list filter selects those
/// cases).
struct Bar {
    label: String,
    value: u64,
    length: f64,
    label_y: u32,
    bar_y: u32,
    value_x: f64,
    value_y: u32,
    href: Option<String>,
}

struct Chart {
    title: String,
    bars: Vec<Bar>,
    height: u32,
    /// Where the bars start: after the labels' column, or 0 when each
    /// label sits on its own line above its bar.
    bar_x: f64,
}

/// The drawing's width, and the room kept after a bar for its value.
const WIDTH: f64 = 600.0;
const VALUE_ROOM: f64 = 56.0;
/// The widest labels' column; a longer label goes above its bar, so that
/// no name (a category, an English stage) is ever cut by a bar.
const MAX_LABEL_COLUMN: f64 = 260.0;

/// A label's width at the charts' 13-pixel font, from above: wide
/// (CJK, full-width) characters take a full em, the others a bit over
/// half of one.
fn label_width(label: &str) -> f64 {
    label
        .chars()
        .map(|c| if (c as u32) >= 0x1100 { 13.0 } else { 7.6 })
        .sum()
}

/// One figure of a chart before drawing: label, value, link.
type Point = (String, u64, Option<String>);

/// A count as a bar's value (a negative one as none).
fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// The figures of a `{key: count}` map, most first, at most 12, the
/// zeros left out; `label` names a key and `href` links it.
fn chart(
    title: String,
    counts: &BTreeMap<String, i64>,
    label: impl Fn(&str) -> String,
    href: impl Fn(&str) -> Option<String>,
) -> Chart {
    let mut points: Vec<Point> = counts
        .iter()
        .map(|(k, n)| (label(k), count(*n), href(k)))
        .collect();
    points.retain(|p| p.1 > 0);
    points.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    points.truncate(12);
    bar_chart(title, points)
}

/// Labelled values as horizontal bars, in the order given, scaled to the
/// largest: the labels in a column beside the bars when they fit in one,
/// else each on its own line above its bar.
fn bar_chart(title: String, points: Vec<Point>) -> Chart {
    let max = points.iter().map(|p| p.1).max().unwrap_or(0).max(1) as f64;
    let widest = points.iter().map(|p| label_width(&p.0)).fold(0.0, f64::max);
    let beside = widest + 12.0 <= MAX_LABEL_COLUMN;
    let (bar_x, row) = if beside {
        ((widest + 12.0).max(60.0).ceil(), 28)
    } else {
        (0.0, 42)
    };
    let space = WIDTH - bar_x - VALUE_ROOM;
    let bars: Vec<Bar> = points
        .into_iter()
        .enumerate()
        .map(|(i, (label, value, href))| {
            let y = i as u32 * row;
            let length = (value as f64 / max * space).max(1.0);
            let (label_y, bar_y) = if beside {
                (y + 18, y + 5)
            } else {
                (y + 15, y + 21)
            };
            Bar {
                label,
                value,
                length,
                label_y,
                bar_y,
                value_x: bar_x + length + 6.0,
                value_y: bar_y + 13,
                href,
            }
        })
        .collect();
    Chart {
        title,
        height: (bars.len() as u32).max(1) * row,
        bars,
        bar_x,
    }
}

/// The series as bars in time order, every interval shown (also those
/// with nothing), labelled by their first day, each linked to the cases
/// filed in its interval.
fn series_chart(title: String, series: &[SeriesEntry], links: &Links) -> Chart {
    let points: Vec<Point> = series
        .iter()
        .map(|e| {
            let (start, end) = (e.start.to_string(), e.end.to_string());
            let href = links.period(&start, &end, &[]);
            (start, count(e.filed), Some(href))
        })
        .collect();
    bar_chart(title, points)
}

/// Links to the staff case list (`/staff/cases`) with the report's period
/// (the filing days) and its department and category, plus a figure's
/// own filters.
struct Links {
    from: String,
    to: String,
    department: Option<String>,
    category: Option<String>,
}

impl Links {
    fn to(&self, extra: &[(&str, &str)]) -> String {
        self.period(&self.from, &self.to, extra)
    }

    fn period(&self, from: &str, to: &str, extra: &[(&str, &str)]) -> String {
        let mut q: Vec<(&str, &str)> = vec![("from", from), ("to", to)];
        if let Some(d) = &self.department {
            q.push(("department", d));
        }
        if let Some(c) = &self.category {
            q.push(("category", c));
        }
        for (k, v) in extra {
            // A figure's own department or category replaces the report's.
            q.retain(|(name, _)| name != k);
            q.push((k, v));
        }
        let query = serde_urlencoded::to_string(&q).unwrap_or_default();
        format!("/staff/cases?{query}")
    }
}

#[derive(Template)]
#[template(path = "staff_reports.html")]
struct ReportsPage<'a> {
    base: &'a Base,
    from: String,
    to: String,
    interval: String,
    department: String,
    category: String,
    departments: Vec<(String, String)>,
    categories: Vec<(String, String)>,
    /// The query of the CSV download of the same figures.
    csv_query: String,
    /// Headline figures: label, value, and the case list behind a count.
    figures: Vec<(String, String, Option<String>)>,
    charts: Vec<Chart>,
}

/// A query string value, percent-encoded.
fn enc(v: &str) -> String {
    v.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn percent(v: Option<f64>) -> String {
    v.map(|r| format!("{:.1}%", r * 100.0))
        .unwrap_or_else(|| "—".into())
}

fn hours(h: &Histogram) -> String {
    match (h.median_hours, h.p90_hours) {
        (Some(m), Some(p)) => format!("{m:.1} h / {p:.1} h"),
        _ => "—".into(),
    }
}

fn figures(v: &ReportSummary, tr: Tr, links: &Links) -> Vec<(String, String, Option<String>)> {
    let c = &v.deadline_compliance;
    let mut out = vec![(
        tr.t("r-total"),
        format!("{} ({} {})", v.total, tr.t("r-previous"), v.previous.filed),
        Some(links.to(&[])),
    )];
    let rest: Vec<(String, String)> = vec![
        (tr.t("r-acceptance-rate"), percent(v.acceptance_rate)),
        (tr.t("r-decided"), v.decided.to_string()),
        (tr.t("r-on-time-acceptance"), percent(c.acceptance.rate)),
        (tr.t("r-on-time-supplement"), percent(c.supplement.rate)),
        (tr.t("r-on-time-handling"), percent(c.handling.rate)),
        (tr.t("r-on-time-review"), percent(c.review.rate)),
        (tr.t("r-extended-share"), percent(v.extended_share)),
        (tr.t("r-time-to-accept"), hours(&v.time_to_accept)),
        (tr.t("r-time-to-decide"), hours(&v.time_to_decide)),
        (tr.t("r-time-to-close"), hours(&v.time_to_close)),
        (tr.t("r-appeal-rate"), percent(v.appeal_rate)),
        (tr.t("r-changed"), percent(v.appeals_changed_share)),
        (
            tr.t("r-satisfaction"),
            v.satisfaction
                .average
                .map(|a| format!("{a:.2} / 5"))
                .unwrap_or_else(|| "—".into()),
        ),
    ];
    out.extend(rest.into_iter().map(|(k, v)| (k, v, None)));
    out
}

/// Departments and categories as `(code, name)` in the page's language.
async fn names(s: &AppState, tr: Tr) -> (Vec<(String, String)>, Vec<(String, String)>) {
    let en = tr.locale == redress_domain::Locale::En;
    let departments = s
        .app
        .store
        .list_departments()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|d| {
            let name = super::admin::localized(tr, &d.name, d.name_en.as_deref());
            (d.code, name)
        })
        .collect();
    let categories = s
        .app
        .store
        .list_categories()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|c| {
            let name = match (en, c.name_en) {
                (true, Some(n)) => n,
                _ => c.name,
            };
            (c.code, name)
        })
        .collect();
    (departments, categories)
}

/// The respondent's name: the one an admin registered, else the one on
/// its newest case the caller may see, else (visibly) its key.
pub(super) async fn respondent_name(
    s: &AppState,
    who: &redress_app::Principal,
    key: &str,
) -> String {
    if let Ok(Some(name)) = s.app.respondent_name(key).await {
        return name;
    }
    let query = redress_app::cases::ListQuery {
        respondent: Some(key.to_string()),
        limit: Some("1".into()),
        ..Default::default()
    };
    s.app
        .list_cases(who, &query)
        .await
        .ok()
        .and_then(|v| v.items.into_iter().next()?.respondent?.name)
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| key.to_string())
}

/// The CSV of the report (the same figures as `GET /reports/summary.csv`),
/// for the page's download link: the console's session, not a token.
pub async fn csv(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<Period>,
) -> Response {
    let (ctx, who) =
        match super::staff::staff_ctx(&s, &headers, "/staff/reports", p.lang.as_deref()).await {
            Ok(x) => x,
            Err(r) => return r,
        };
    let v = match s.app.report_summary(&who, &p.params()).await {
        Ok(v) => v,
        Err(AppError::Invalid(_)) => {
            return ctx.error(StatusCode::UNPROCESSABLE_ENTITY, "r-bad-period");
        }
        Err(e) => return ctx.fail(&e),
    };
    let name = format!("redress-report-{}-{}.csv", v.from_day, v.to_day);
    (
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
        .into_response()
}

pub async fn page(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<Period>,
) -> Response {
    let (ctx, who) =
        match super::staff::staff_ctx(&s, &headers, "/staff/reports", p.lang.as_deref()).await {
            Ok(x) => x,
            Err(r) => return r,
        };
    let tr = ctx.tr();
    let params = p.params();
    let v = match s.app.report_summary(&who, &params).await {
        Ok(v) => v,
        Err(AppError::Invalid(_)) => {
            return ctx.error(StatusCode::UNPROCESSABLE_ENTITY, "r-bad-period");
        }
        Err(e) => {
            return ctx.fail(&e);
        }
    };
    let (from, to) = (v.from_day.to_string(), v.to_day.to_string());
    let (departments, categories) = names(&s, tr).await;
    let named = |list: &[(String, String)], k: &str| {
        list.iter()
            .find(|(c, _)| c == k)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| {
                if k == "(unclassified)" {
                    tr.t("r-unclassified")
                } else {
                    k.to_string()
                }
            })
    };
    let links = Links {
        from: from.clone(),
        to: to.clone(),
        department: v.department.clone(),
        category: v.category.clone(),
    };
    // A figure's key as a list filter; the unclassified cases have none.
    let filter = |name: &'static str| {
        let links = &links;
        move |k: &str| (k != "(unclassified)").then(|| links.to(&[(name, k)]))
    };
    let mut top = Vec::new();
    for item in &v.top_respondents {
        let key = item.respondent.as_str();
        top.push((
            respondent_name(&s, &who, key).await,
            count(item.count),
            Some(links.to(&[("respondent", key)])),
        ));
    }
    let missed: Vec<Point> = v
        .deadline_compliance
        .stages()
        .into_iter()
        .map(|(stage, c)| {
            (
                tr.t(&format!("r-missed-{stage}")),
                count(c.missed),
                Some(links.to(&[("missed", stage)])),
            )
        })
        .collect();
    let charts = vec![
        series_chart(tr.t("r-series"), &v.series, &links),
        chart(
            tr.t("r-by-status"),
            &v.by_status,
            |k| tr.t(&format!("sst-{k}")),
            filter("status"),
        ),
        chart(
            tr.t("r-outcomes"),
            &v.outcomes,
            |k| tr.t(&format!("outcome-{k}")),
            filter("outcome"),
        ),
        bar_chart(tr.t("r-missed"), missed),
        chart(
            tr.t("r-by-channel"),
            &v.by_channel,
            |k| tr.t(&format!("r-channel-{k}")),
            filter("channel"),
        ),
        chart(
            tr.t("r-by-category"),
            &v.by_category,
            |k| named(&categories, k),
            filter("category"),
        ),
        chart(
            tr.t("r-by-department"),
            &v.by_department,
            |k| named(&departments, k),
            filter("department"),
        ),
        chart(
            tr.t("r-by-closure"),
            &v.by_closure,
            |k| tr.t(&format!("sclosure-{k}")),
            filter("closure"),
        ),
        bar_chart(tr.t("r-top-respondents"), top),
    ];
    let mut csv_query = format!("from={}&to={}", enc(&from), enc(&to));
    for (k, val) in [
        ("interval", Some(v.interval.as_str())),
        ("department", v.department.as_deref()),
        ("category", v.category.as_deref()),
    ] {
        if let Some(val) = val {
            csv_query.push_str(&format!("&{k}={}", enc(val)));
        }
    }
    let page = ReportsPage {
        base: &ctx.base,
        from,
        to,
        interval: v.interval.as_str().to_string(),
        department: v.department.clone().unwrap_or_default(),
        category: v.category.clone().unwrap_or_default(),
        departments,
        categories,
        csv_query,
        figures: figures(&v, tr, &links),
        charts,
    }
    .render();
    ctx.respond(StatusCode::OK, page)
}
