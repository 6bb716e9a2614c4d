//! The reports page (supervisors): the figures of `/reports/summary` for
//! a period, with bar charts drawn as SVG by the template (no script).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use redress_app::AppError;
use serde::Deserialize;
use serde_json::Value;

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

/// One bar: label, value, and its length in the chart's units.
struct Bar {
    label: String,
    value: u64,
    length: f64,
    y: u32,
}

struct Chart {
    title: String,
    bars: Vec<Bar>,
    height: u32,
}

/// The chart's drawing width for the longest bar (the labels take the rest).
const BAR_SPACE: f64 = 360.0;
const ROW: u32 = 28;

fn chart(title: String, v: &Value, label: impl Fn(&str) -> String) -> Chart {
    let mut pairs: Vec<(String, u64)> = match v {
        Value::Object(map) => map
            .iter()
            .map(|(k, n)| (label(k), n.as_u64().unwrap_or(0)))
            .collect(),
        Value::Array(items) => items
            .iter()
            .map(|i| {
                (
                    i["respondent"].as_str().unwrap_or("").to_string(),
                    i["count"].as_u64().unwrap_or(0),
                )
            })
            .collect(),
        _ => Vec::new(),
    };
    pairs.retain(|(_, n)| *n > 0);
    pairs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    pairs.truncate(12);
    bar_chart(title, pairs)
}

/// Labelled values as horizontal bars, in the order given, scaled to the
/// largest.
fn bar_chart(title: String, points: Vec<(String, u64)>) -> Chart {
    let max = points.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1) as f64;
    let bars: Vec<Bar> = points
        .into_iter()
        .enumerate()
        .map(|(i, (label, value))| Bar {
            label,
            value,
            length: (value as f64 / max * BAR_SPACE).max(1.0),
            y: i as u32 * ROW,
        })
        .collect();
    Chart {
        title,
        height: (bars.len() as u32).max(1) * ROW,
        bars,
    }
}

/// The series as bars in time order, every interval shown (also those
/// with nothing), labelled by their first day.
fn series_chart(title: String, series: &Value) -> Chart {
    let points: Vec<(String, u64)> = series
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["start"].as_str().unwrap_or("").to_string(),
                e["filed"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    bar_chart(title, points)
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
    figures: Vec<(String, String)>,
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

fn percent(v: &Value) -> String {
    v.as_f64()
        .map(|r| format!("{:.1}%", r * 100.0))
        .unwrap_or_else(|| "—".into())
}

fn hours(v: &Value) -> String {
    match (v["median_hours"].as_f64(), v["p90_hours"].as_f64()) {
        (Some(m), Some(p)) => format!("{m:.1} h / {p:.1} h"),
        _ => "—".into(),
    }
}

fn figures(v: &Value, tr: Tr) -> Vec<(String, String)> {
    let c = &v["deadline_compliance"];
    let previous = &v["previous"];
    vec![
        (
            tr.t("r-total"),
            format!(
                "{} ({} {})",
                v["total"],
                tr.t("r-previous"),
                previous["filed"]
            ),
        ),
        (tr.t("r-acceptance-rate"), percent(&v["acceptance_rate"])),
        (tr.t("r-decided"), v["decided"].to_string()),
        (
            tr.t("r-on-time-acceptance"),
            percent(&c["acceptance"]["rate"]),
        ),
        (
            tr.t("r-on-time-supplement"),
            percent(&c["supplement"]["rate"]),
        ),
        (tr.t("r-on-time-handling"), percent(&c["handling"]["rate"])),
        (tr.t("r-on-time-review"), percent(&c["review"]["rate"])),
        (tr.t("r-extended-share"), percent(&v["extended_share"])),
        (tr.t("r-time-to-accept"), hours(&v["time_to_accept"])),
        (tr.t("r-time-to-decide"), hours(&v["time_to_decide"])),
        (tr.t("r-time-to-close"), hours(&v["time_to_close"])),
        (tr.t("r-appeal-rate"), percent(&v["appeal_rate"])),
        (tr.t("r-changed"), percent(&v["appeals_changed_share"])),
        (
            tr.t("r-satisfaction"),
            v["satisfaction"]["average"]
                .as_f64()
                .map(|a| format!("{a:.2} / 5"))
                .unwrap_or_else(|| "—".into()),
        ),
    ]
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
        .map(|d| (d.code, d.name))
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

/// The respondent's name when an account names it, else its key.
async fn respondent_name(s: &AppState, key: &str) -> String {
    let Some((kind, id)) = key.split_once(':') else {
        return key.to_string();
    };
    let Ok(kind) = kind.parse::<redress_domain::RespondentKind>() else {
        return key.to_string();
    };
    match s.app.store.get_respondent(kind, id).await {
        Ok(Some(r)) => r.name,
        _ => key.to_string(),
    }
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
    let name = format!(
        "redress-report-{}-{}.csv",
        v["from_day"].as_str().unwrap_or(""),
        v["to_day"].as_str().unwrap_or("")
    );
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
    let date = |k: &str| {
        v[k].as_str()
            .unwrap_or("")
            .chars()
            .take(10)
            .collect::<String>()
    };
    let (departments, categories) = names(&s, tr).await;
    let category_name = |k: &str| {
        categories
            .iter()
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
    let mut top = Vec::new();
    for item in v["top_respondents"].as_array().into_iter().flatten() {
        let key = item["respondent"].as_str().unwrap_or("");
        top.push(serde_json::json!({
            "respondent": respondent_name(&s, key).await,
            "count": item["count"],
        }));
    }
    let series_chart = series_chart(tr.t("r-series"), &v["series"]);
    let charts = vec![
        series_chart,
        chart(tr.t("r-by-status"), &v["by_status"], |k| {
            tr.t(&format!("status-{k}"))
        }),
        chart(tr.t("r-outcomes"), &v["outcomes"], |k| {
            tr.t(&format!("outcome-{k}"))
        }),
        chart(tr.t("r-by-channel"), &v["by_channel"], |k| {
            tr.t(&format!("r-channel-{k}"))
        }),
        chart(tr.t("r-by-category"), &v["by_category"], category_name),
        chart(tr.t("r-by-closure"), &v["by_closure"], |k| {
            tr.t(&format!("closure-{k}"))
        }),
        chart(
            tr.t("r-top-respondents"),
            &Value::Array(top),
            str::to_string,
        ),
    ];
    let mut csv_query = format!(
        "from={}&to={}",
        enc(&date("from_day")),
        enc(&date("to_day"))
    );
    for (k, val) in [
        ("interval", v["interval"].as_str()),
        ("department", v["department"].as_str()),
        ("category", v["category"].as_str()),
    ] {
        if let Some(val) = val {
            csv_query.push_str(&format!("&{k}={}", enc(val)));
        }
    }
    let page = ReportsPage {
        base: &ctx.base,
        from: date("from_day"),
        to: date("to_day"),
        interval: v["interval"].as_str().unwrap_or("day").to_string(),
        department: v["department"].as_str().unwrap_or("").to_string(),
        category: v["category"].as_str().unwrap_or("").to_string(),
        departments,
        categories,
        csv_query,
        figures: figures(&v, tr),
        charts,
    }
    .render();
    ctx.respond(StatusCode::OK, page)
}
