//! The respondent scorecards page (`/staff/reports/respondents`) and the
//! spike alerts page (`/staff/alerts`), supervisors only: the answers of
//! `GET /reports/respondents` and `GET /alerts` as tables, sortable by
//! column links, no script.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use redress_app::AppError;
use redress_app::insight::{ScorecardParams, Subject};
use serde::Deserialize;

use super::{Base, Tr};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct InsightQuery {
    lang: Option<String>,
    from: Option<String>,
    to: Option<String>,
    sort: Option<String>,
    order: Option<String>,
}

fn some(v: &Option<String>) -> Option<String> {
    v.clone().filter(|v| !v.trim().is_empty())
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

/// A respondent's kind in the page's language.
fn kind_label(tr: Tr, kind: &str) -> String {
    let key = format!("rk-{kind}");
    let label = tr.t(&key);
    if label == key {
        kind.to_string()
    } else {
        label
    }
}

/// A column header: its label and the link that sorts by it.
struct Column {
    label: String,
    href: String,
    current: bool,
}

struct Row {
    name: String,
    kind: String,
    id: String,
    volume: i64,
    /// The staff case list of the respondent's cases filed in the period.
    cases: String,
    upheld: String,
    partially: String,
    replies: String,
    repeat: String,
    change: String,
}

#[derive(Template)]
#[template(path = "staff_respondents.html")]
struct RespondentsPage<'a> {
    base: &'a Base,
    from: String,
    to: String,
    previous: String,
    total: usize,
    columns: Vec<Column>,
    rows: Vec<Row>,
}

pub async fn respondents(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<InsightQuery>,
) -> Response {
    let (ctx, who) = match super::staff::staff_ctx(
        &s,
        &headers,
        "/staff/reports/respondents",
        q.lang.as_deref(),
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let tr = ctx.tr();
    let params = ScorecardParams {
        from: some(&q.from),
        to: some(&q.to),
        sort: some(&q.sort),
        order: some(&q.order),
        limit: None,
    };
    let v = match s.app.respondent_scorecards(&who, &params).await {
        Ok(v) => v,
        Err(AppError::Invalid(_)) => {
            return ctx.error(StatusCode::UNPROCESSABLE_ENTITY, "r-bad-period");
        }
        Err(e) => return ctx.fail(&e),
    };
    let (from, to) = (v.from_day.to_string(), v.to_day.to_string());
    let columns = [
        ("name", "sc-respondent"),
        ("volume", "sc-volume"),
        ("upheld_share", "sc-upheld"),
        ("partially_upheld_share", "sc-partially"),
        ("reply_on_time_rate", "sc-replies"),
        ("repeat_complainants", "sc-repeat"),
        ("change", "sc-change"),
    ]
    .into_iter()
    .map(|(sort, key)| Column {
        label: tr.t(key),
        href: format!(
            "/staff/reports/respondents?from={}&to={}&sort={sort}",
            enc(&from),
            enc(&to)
        ),
        current: v.sort == sort,
    })
    .collect();
    // Names, not codes: the registered name, else the name on the cases.
    let mut names = Vec::new();
    for i in &v.items {
        names.push(match &i.name {
            Some(n) => n.clone(),
            None => super::reports::respondent_name(&s, &who, &i.respondent).await,
        });
    }
    let rows = v
        .items
        .iter()
        .zip(names)
        .map(|(i, name)| Row {
            name,
            kind: kind_label(tr, &i.kind),
            id: i.id.clone(),
            volume: i.volume,
            cases: format!(
                "/staff/cases?{}",
                serde_urlencoded::to_string([
                    ("from", from.as_str()),
                    ("to", to.as_str()),
                    ("respondent", i.respondent.as_str()),
                ])
                .unwrap_or_default()
            ),
            upheld: format!("{} ({}/{})", percent(i.upheld_share), i.upheld, i.decided),
            partially: format!(
                "{} ({}/{})",
                percent(i.partially_upheld_share),
                i.partially_upheld,
                i.decided
            ),
            replies: format!(
                "{} ({}/{})",
                percent(i.reply_on_time_rate),
                i.replies_on_time,
                i.replies_due
            ),
            repeat: format!("{} ({})", i.repeat_complainants, percent(i.repeat_share)),
            change: format!(
                "{:+} ({} {})",
                i.change,
                tr.t("r-previous"),
                i.previous_volume
            ),
        })
        .collect();
    let page = RespondentsPage {
        base: &ctx.base,
        previous: format!("{} – {}", v.previous_from_day, v.previous_to_day),
        from,
        to,
        total: v.total,
        columns,
        rows,
    }
    .render();
    ctx.respond(StatusCode::OK, page)
}

struct AlertRow {
    day: String,
    kind: String,
    name: String,
    id: String,
    count: i64,
    baseline: String,
    threshold: String,
}

#[derive(Template)]
#[template(path = "staff_alerts.html")]
struct AlertsPage<'a> {
    base: &'a Base,
    from: String,
    to: String,
    rule: String,
    rows: Vec<AlertRow>,
}

pub async fn alerts(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<InsightQuery>,
) -> Response {
    let (ctx, who) =
        match super::staff::staff_ctx(&s, &headers, "/staff/alerts", q.lang.as_deref()).await {
            Ok(x) => x,
            Err(r) => return r,
        };
    let tr = ctx.tr();
    let v = match s
        .app
        .alerts(&who, some(&q.from).as_deref(), some(&q.to).as_deref())
        .await
    {
        Ok(v) => v,
        Err(AppError::Invalid(_)) => {
            return ctx.error(StatusCode::UNPROCESSABLE_ENTITY, "r-bad-period");
        }
        Err(e) => return ctx.fail(&e),
    };
    let en = tr.locale == redress_domain::Locale::En;
    let rows = v
        .items
        .iter()
        .map(|a| {
            let name = match (en, &a.name_en, &a.name) {
                (true, Some(n), _) => n.clone(),
                (_, _, Some(n)) => n.clone(),
                _ => a.subject_id.clone(),
            };
            let id = match a.subject_kind {
                Subject::Respondent => {
                    let (kind, id) = a
                        .subject_id
                        .split_once(':')
                        .unwrap_or(("", a.subject_id.as_str()));
                    format!("{} {id}", kind_label(tr, kind))
                }
                Subject::Category => a.subject_id.clone(),
            };
            AlertRow {
                day: a.day.to_string(),
                kind: tr.t(&format!("al-kind-{}", a.subject_kind.as_str())),
                name,
                id,
                count: a.count,
                baseline: format!("{:.2} ± {:.2}", a.baseline_mean, a.baseline_sd),
                threshold: format!("{:.2}", a.threshold),
            }
        })
        .collect();
    let (min_count, sigmas, min_sd, days) = (
        v.rule.min_count.to_string(),
        v.rule.sigmas.to_string(),
        v.rule.min_sd.to_string(),
        v.rule.baseline_days.to_string(),
    );
    let rule = tr.with(
        "al-rule",
        &[
            ("min", min_count.as_str()),
            ("sigmas", sigmas.as_str()),
            ("sd", min_sd.as_str()),
            ("days", days.as_str()),
        ],
    );
    let page = AlertsPage {
        base: &ctx.base,
        from: v.from_day.to_string(),
        to: v.to_day.to_string(),
        rule,
        rows,
    }
    .render();
    ctx.respond(StatusCode::OK, page)
}
