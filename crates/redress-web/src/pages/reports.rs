//! The reports page (supervisors): the figures of `/reports/summary` for
//! a period, with bar charts drawn as SVG by the template (no script).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
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
    let max = pairs.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1) as f64;
    let bars: Vec<Bar> = pairs
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

#[derive(Template)]
#[template(path = "staff_reports.html")]
struct ReportsPage<'a> {
    base: &'a Base,
    from: String,
    to: String,
    figures: Vec<(String, String)>,
    charts: Vec<Chart>,
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
    vec![
        (tr.t("r-total"), v["total"].to_string()),
        (tr.t("r-acceptance-rate"), percent(&v["acceptance_rate"])),
        (
            tr.t("r-on-time-acceptance"),
            percent(&c["acceptance"]["rate"]),
        ),
        (tr.t("r-on-time-handling"), percent(&c["handling"]["rate"])),
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
    let from = p.from.filter(|v| !v.is_empty());
    let to = p.to.filter(|v| !v.is_empty());
    let params = redress_app::report::ReportParams {
        from,
        to,
        ..Default::default()
    };
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
    let charts = vec![
        chart(tr.t("r-by-status"), &v["by_status"], |k| {
            tr.t(&format!("status-{k}"))
        }),
        chart(tr.t("r-by-channel"), &v["by_channel"], str::to_string),
        chart(tr.t("r-by-category"), &v["by_category"], str::to_string),
        chart(tr.t("r-by-closure"), &v["by_closure"], |k| {
            tr.t(&format!("closure-{k}"))
        }),
        chart(
            tr.t("r-top-respondents"),
            &v["top_respondents"],
            str::to_string,
        ),
    ];
    let page = ReportsPage {
        base: &ctx.base,
        from: date("from_day"),
        to: date("to_day"),
        figures: figures(&v, tr),
        charts,
    }
    .render();
    ctx.respond(StatusCode::OK, page)
}
