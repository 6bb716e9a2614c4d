//! The staff case list: search, the filters of SPEC §11, sorting and
//! paging, and assigning the ticked cases to one handler.

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use redress_app::AppError;
use redress_app::cases::ListQuery;
use redress_app::commands::AssignCommand;
use serde::Deserialize;

use super::public::LangQuery;
use super::staff::staff_ctx;
use super::{Base, local_time};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct ListParams {
    lang: Option<String>,
    status: Option<String>,
    q: Option<String>,
    overdue: Option<String>,
    due_soon: Option<String>,
    assignee: Option<String>,
    department: Option<String>,
    category: Option<String>,
    /// A respondent key (`kind:id`) or words of a respondent's name.
    respondent: Option<String>,
    /// `due` (the default: next deadline first) or `newest`.
    sort: Option<String>,
    // The list filters a report's figure links to (SPEC §11), kept in the
    // form and the next page's link.
    channel: Option<String>,
    outcome: Option<String>,
    closure: Option<String>,
    missed: Option<String>,
    from: Option<String>,
    to: Option<String>,
    cursor: Option<String>,
    /// After a bulk assignment: `<assigned>-<refused>`.
    assigned: Option<String>,
}

/// The list's `respondent` field as the API's filter: `kind:id` (a known
/// kind) is a respondent key, anything else words of a name.
fn respondent_filter(raw: Option<&str>) -> (Option<String>, Option<String>) {
    let Some(v) = raw.map(str::trim).filter(|v| !v.is_empty()) else {
        return (None, None);
    };
    let is_key = v.split_once(':').is_some_and(|(kind, id)| {
        kind.parse::<redress_domain::RespondentKind>().is_ok() && !id.trim().is_empty()
    });
    if is_key {
        (Some(v.to_string()), None)
    } else {
        (None, Some(v.to_string()))
    }
}

struct Row {
    id: String,
    tracking_no: String,
    subject: String,
    status: String,
    category: String,
    respondent: String,
    department: String,
    assignee: String,
    due: String,
    /// The working time left to the next deadline, in words.
    left: String,
    overdue: bool,
}

#[derive(Template)]
#[template(path = "staff_cases.html")]
struct ListPage<'a> {
    base: &'a Base,
    rows: Vec<Row>,
    /// Supervisors and intake assign several cases at once: the staff
    /// who may be given cases (username, name).
    bulk: Option<Vec<(String, String)>>,
    notice: Option<String>,
    total: i64,
    q: String,
    status: String,
    department: String,
    category: String,
    respondent: String,
    assignee: String,
    /// Every category: code and name in the page's language.
    categories: Vec<(String, String)>,
    /// `(code, name)` of the departments, for the filter.
    department_choices: Vec<(String, String)>,
    /// `(username, shown name)` of the people cases go to, for the filter.
    assignee_choices: Vec<(String, String)>,
    /// The order picked in the form (empty: the default).
    sort_chosen: String,
    /// The report filters in force (name, value), kept as hidden fields,
    /// and in words for the page.
    kept: Vec<(String, String)>,
    kept_text: Vec<String>,
    overdue: bool,
    due_soon: bool,
    next: Option<String>,
    error: Option<String>,
}

/// A staff member as lists show them: the display name with the user
/// name, bracketed the page's language's way.
fn person(tr: super::i18n::Tr, u: &redress_store::User) -> String {
    tr.with(
        "person-with-username",
        &[("name", &u.display_name), ("username", &u.username)],
    )
}

/// The categories as `(code, name)` in the page's language.
async fn category_names(s: &AppState, tr: super::Tr) -> Vec<(String, String)> {
    let en = tr.locale == redress_domain::Locale::En;
    s.app
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
        .collect()
}

pub async fn cases(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<ListParams>,
) -> Response {
    let (ctx, who) = match staff_ctx(&s, &headers, "/staff/cases", p.lang.as_deref()).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let tr = ctx.tr();
    let (respondent, respondent_name) = respondent_filter(p.respondent.as_deref());
    // A search shows its best matches first unless another order is
    // chosen; the queue otherwise sorts by next deadline.
    let searching = p.q.as_deref().is_some_and(|q| !q.trim().is_empty());
    let sort = match p.sort.as_deref() {
        Some("newest") => "newest",
        Some("due") => "due",
        Some("relevance") | None | Some("") if searching => "relevance",
        _ => "due",
    };
    let some = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
    let query = ListQuery {
        sort: Some(sort.into()),
        channel: some(&p.channel),
        outcome: some(&p.outcome),
        closure: some(&p.closure),
        missed: some(&p.missed),
        from: some(&p.from),
        to: some(&p.to),
        status: p.status.clone().filter(|v| !v.is_empty()),
        department: p.department.clone().filter(|v| !v.is_empty()),
        category: p.category.clone().filter(|v| !v.is_empty()),
        respondent,
        respondent_name,
        assignee: p.assignee.clone().filter(|v| !v.is_empty()),
        overdue: p.overdue.clone(),
        due_soon: p.due_soon.clone(),
        q: p.q.clone().filter(|v| !v.is_empty()),
        limit: Some("50".into()),
        cursor: p.cursor.clone(),
    };
    let categories = category_names(&s, tr).await;
    let departments = s.app.store.list_departments().await.unwrap_or_default();
    let users = s.app.store.list_users().await.unwrap_or_default();
    let display_name = |username: &str| {
        users
            .iter()
            .find(|u| u.username == username)
            .map_or_else(|| username.to_string(), |u| u.display_name.clone())
    };
    let tz = s.app.config.time_zone;
    let (now, cal) = (s.app.now(), s.app.calendar());
    let (rows, total, next, error) = match s.app.list_cases(&who, &query).await {
        Ok(v) => {
            let rows = v
                .items
                .iter()
                .map(|i| {
                    let category = i.category.as_deref().unwrap_or("");
                    let department = i.department.as_deref().unwrap_or("");
                    Row {
                        id: i.id.to_string(),
                        tracking_no: i.tracking_no.clone(),
                        subject: i.subject.clone(),
                        status: tr.t(&format!("sst-{}", i.status)),
                        category: categories
                            .iter()
                            .find(|(code, _)| code == category)
                            .map_or_else(|| category.to_string(), |(_, n)| n.clone()),
                        respondent: i
                            .respondent
                            .as_ref()
                            .map(|r| r.name.as_deref().unwrap_or(&r.id))
                            .unwrap_or("")
                            .to_string(),
                        department: departments
                            .iter()
                            .find(|d| d.code == department)
                            .map_or_else(
                                || department.to_string(),
                                |d| super::admin::localized(tr, &d.name, d.name_en.as_deref()),
                            ),
                        assignee: display_name(i.assignee.as_deref().unwrap_or("")),
                        due: i.next_due_at.map(|t| local_time(t, tz)).unwrap_or_default(),
                        left: i
                            .next_due_at
                            .filter(|due| *due > now)
                            .map(|due| {
                                let n = cal.working_days_between(now, due).to_string();
                                tr.with("clock-days-left", &[("n", n.as_str())])
                            })
                            .unwrap_or_default(),
                        overdue: i.overdue,
                    }
                })
                .collect();
            let next = v.next_cursor.as_deref().map(|c| {
                let mut keep: Vec<(&str, &str)> = [
                    ("status", &p.status),
                    ("q", &p.q),
                    ("overdue", &p.overdue),
                    ("due_soon", &p.due_soon),
                    ("assignee", &p.assignee),
                    ("department", &p.department),
                    ("category", &p.category),
                    ("respondent", &p.respondent),
                    ("sort", &p.sort),
                    ("channel", &p.channel),
                    ("outcome", &p.outcome),
                    ("closure", &p.closure),
                    ("missed", &p.missed),
                    ("from", &p.from),
                    ("to", &p.to),
                ]
                .into_iter()
                .filter_map(|(k, v)| Some((k, v.as_deref().filter(|v| !v.is_empty())?)))
                .collect();
                keep.push(("cursor", c));
                let query = serde_urlencoded::to_string(&keep).unwrap_or_default();
                format!("/staff/cases?{query}")
            });
            (rows, v.total, next, None)
        }
        Err(AppError::Invalid(f)) => (Vec::new(), 0, None, Some(super::fields_message(tr, &f))),
        Err(e) => {
            return ctx.fail(&e);
        }
    };
    let kept: Vec<(String, String)> = [
        ("channel", &p.channel),
        ("outcome", &p.outcome),
        ("closure", &p.closure),
        ("missed", &p.missed),
        ("from", &p.from),
        ("to", &p.to),
    ]
    .into_iter()
    .filter_map(|(k, v)| Some((k.to_string(), v.clone().filter(|v| !v.is_empty())?)))
    .collect();
    let kept_text = kept
        .iter()
        .map(|(k, v)| {
            let value = match k.as_str() {
                "channel" => tr.t(&format!("case-channel-{v}")),
                "outcome" => tr.t(&format!("outcome-{v}")),
                "closure" => tr.t(&format!("sclosure-{v}")),
                "missed" => tr.t(&format!("missed-{v}")),
                _ => v.clone(),
            };
            tr.with(
                "filter-chip",
                &[("name", &tr.t(&format!("filter-{k}"))), ("value", &value)],
            )
        })
        .collect();
    let bulk = match who.staff() {
        Ok(u) if u.has(redress_domain::Role::Supervisor) || u.has(redress_domain::Role::Intake) => {
            Some(
                users
                    .iter()
                    .filter(|u| u.active && u.roles.contains(&redress_domain::Role::Handler))
                    .map(|u| (u.username.clone(), person(tr, u)))
                    .collect(),
            )
        }
        _ => None,
    };
    // The filters' choices: departments by name, and the people cases
    // are assigned to (handlers and reviewers).
    let department_choices: Vec<(String, String)> = departments
        .iter()
        .map(|d| {
            (
                d.code.clone(),
                super::admin::localized(tr, &d.name, d.name_en.as_deref()),
            )
        })
        .collect();
    let assignee_choices: Vec<(String, String)> = users
        .iter()
        .filter(|u| {
            u.roles.contains(&redress_domain::Role::Handler)
                || u.roles.contains(&redress_domain::Role::Reviewer)
        })
        .map(|u| (u.username.clone(), person(tr, u)))
        .collect();
    let notice = p.assigned.as_deref().map(|raw| {
        let (done, refused) = raw.split_once('-').unwrap_or((raw, "0"));
        tr.with("bulk-done", &[("done", done), ("refused", refused)])
    });
    let page = ListPage {
        base: &ctx.base,
        bulk,
        notice,
        sort_chosen: match p.sort.as_deref() {
            Some(v @ ("relevance" | "due" | "newest")) => v.to_string(),
            _ => String::new(),
        },
        kept,
        kept_text,
        rows,
        total,
        q: p.q.unwrap_or_default(),
        status: p.status.unwrap_or_default(),
        department: p.department.unwrap_or_default(),
        category: p.category.unwrap_or_default(),
        respondent: p.respondent.unwrap_or_default(),
        assignee: p.assignee.unwrap_or_default(),
        categories,
        department_choices,
        assignee_choices,
        overdue: p.overdue.as_deref() == Some("true"),
        due_soon: p.due_soon.as_deref() == Some("true"),
        next,
        error,
    }
    .render();
    ctx.respond(StatusCode::OK, page)
}

/// `POST /staff/cases/bulk-assign`: the ticked cases of the list to one
/// handler, each through the same assignment as the case page (a case
/// the handler may not take is counted as refused); back to the list with
/// the counts.
pub async fn bulk_assign(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let (ctx, who) = match staff_ctx(&s, &headers, "/staff/cases", q.lang.as_deref()).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let value = |name: &str| f.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    if !super::csrf::verify(&headers, value("csrf")) {
        return ctx.error(StatusCode::FORBIDDEN, "error-forbidden");
    }
    let allowed = who.staff().is_ok_and(|u| {
        u.has(redress_domain::Role::Supervisor) || u.has(redress_domain::Role::Intake)
    });
    if !allowed {
        return ctx.error(StatusCode::FORBIDDEN, "error-no-permission");
    }
    let handler = value("handler").unwrap_or_default().to_string();
    let ids: Vec<uuid::Uuid> = f
        .iter()
        .filter(|(k, _)| k == "ids")
        .filter_map(|(_, v)| v.parse().ok())
        .take(200)
        .collect();
    let (mut done, mut refused) = (0, 0);
    for id in ids {
        let assigned = match AssignCommand::from_form(Some(&handler)) {
            Ok(c) => s.app.assign(&who, id, &c).await,
            Err(e) => Err(e),
        };
        match assigned {
            Ok(_) => done += 1,
            Err(
                AppError::Invalid(_)
                | AppError::Forbidden(_)
                | AppError::Conflict(_)
                | AppError::NotFound,
            ) => refused += 1,
            Err(e) => return ctx.fail(&e),
        }
    }
    ctx.redirect(&format!("/staff/cases?assigned={done}-{refused}"))
}
