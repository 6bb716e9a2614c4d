//! The staff start page: the queues with their counts, the load per
//! department and per person, and for supervisors the newest security
//! notices.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use redress_app::Principal;
use redress_app::cases::ListQuery;
use serde_json::Value;

use super::public::LangQuery;
use super::staff::staff_ctx;
use super::{Base, local_time};
use crate::state::AppState;

/// One queue on the start page: its name, count and list link.
struct Queue {
    label: String,
    count: i64,
    href: String,
    urgent: bool,
}

#[derive(Template)]
#[template(path = "staff_home.html")]
struct HomePage<'a> {
    base: &'a Base,
    queues: Vec<Queue>,
    departments: Vec<(String, i64, i64)>,
    people: Vec<(String, i64, i64)>,
    /// Supervisors: the newest security notices (when, what), and the
    /// webhook pages.
    supervisor: bool,
    security: Vec<(String, String)>,
}

/// One security notice as a sentence in the page's language.
fn security_line(tr: &super::i18n::Tr, e: &redress_app::keys::SecurityNotice) -> String {
    let data = &e.data;
    let text = |v: &Value| v.as_str().unwrap_or("—").to_string();
    let roles = data["roles"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| tr.t(&format!("role-{}", r.as_str().unwrap_or_default())))
                .collect::<Vec<_>>()
                .join(match tr.locale {
                    redress_domain::Locale::ZhCn => "、",
                    redress_domain::Locale::En => ", ",
                })
        })
        .unwrap_or_default();
    let by = text(&data["by"]);
    let by = if by == "—" {
        e.actor.trim_start_matches("staff:").to_string()
    } else {
        by
    };
    let key = format!("sec-{}", e.kind.replace('_', "-"));
    let (user, respondent, name) = (
        text(&data["username"]),
        text(&data["respondent"]),
        text(&data["name"]),
    );
    tr.with(
        &key,
        &[
            ("by", by.as_str()),
            ("user", user.as_str()),
            ("roles", roles.as_str()),
            ("respondent", respondent.as_str()),
            ("name", name.as_str()),
        ],
    )
}

async fn total(s: &AppState, who: &Principal, q: ListQuery) -> i64 {
    let q = ListQuery {
        limit: Some("1".into()),
        ..q
    };
    match s.app.list_cases(who, &q).await {
        Ok(v) => v.total,
        Err(_) => 0,
    }
}

pub async fn home(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let (ctx, who) = match staff_ctx(&s, &headers, "/staff", q.lang.as_deref()).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    // Admins manage settings and read no cases: they start on administration.
    if who.staff().is_ok_and(|u| !u.reads_cases()) {
        return ctx.redirect("/staff/admin");
    }
    let tr = ctx.tr();
    let me = ctx.base.staff.clone().unwrap_or_default();
    let status = |st: &str| ListQuery {
        status: Some(st.into()),
        ..Default::default()
    };
    let mut queues = Vec::new();
    for (key, query, href, urgent) in [
        (
            "q-to-accept",
            status("submitted"),
            "status=submitted",
            false,
        ),
        (
            "q-needs-info",
            status("needs_info"),
            "status=needs_info",
            false,
        ),
        (
            "q-in-progress",
            status("in_progress"),
            "status=in_progress",
            false,
        ),
        (
            "q-appeals",
            status("under_review"),
            "status=under_review",
            false,
        ),
        (
            "q-due-soon",
            ListQuery {
                due_soon: Some("true".into()),
                ..Default::default()
            },
            "due_soon=true",
            false,
        ),
        (
            "q-overdue",
            ListQuery {
                overdue: Some("true".into()),
                ..Default::default()
            },
            "overdue=true",
            true,
        ),
        (
            "q-mine",
            ListQuery {
                assignee: Some(me.clone()),
                ..Default::default()
            },
            "",
            false,
        ),
    ] {
        let href = if key == "q-mine" {
            format!("/staff/cases?assignee={me}")
        } else {
            format!("/staff/cases?{href}")
        };
        queues.push(Queue {
            label: tr.t(key),
            count: total(&s, &who, query).await,
            href,
            urgent,
        });
    }
    let (mut departments, mut people) = (Vec::new(), Vec::new());
    if let Ok(v) = s.app.queues(&who).await {
        let name = |n: &Option<String>| n.as_deref().unwrap_or("—").to_string();
        departments = v
            .departments
            .iter()
            .map(|r| (name(&r.department), r.overdue, r.due_soon))
            .collect();
        people = v
            .people
            .iter()
            .map(|r| (name(&r.assignee), r.overdue, r.due_soon))
            .collect();
        // Departments and people by name, in the page's language.
        let known = s.app.store.list_departments().await.unwrap_or_default();
        for row in &mut departments {
            if let Some(d) = known.iter().find(|d| d.code == row.0) {
                row.0 = super::admin::localized(tr, &d.name, d.name_en.as_deref());
            }
        }
        let users = s.app.store.list_users().await.unwrap_or_default();
        for row in &mut people {
            if let Some(u) = users.iter().find(|u| u.username == row.0) {
                row.0 = u.display_name.clone();
            }
        }
    }
    let supervisor = who
        .staff()
        .is_ok_and(|u| u.has(redress_domain::Role::Supervisor));
    let mut security = Vec::new();
    if supervisor && let Ok(v) = s.app.security_notices(&who, 10).await {
        let tz = s.app.config.time_zone;
        for e in &v.items {
            security.push((local_time(e.at, tz), security_line(&tr, e)));
        }
    }
    let page = HomePage {
        base: &ctx.base,
        queues,
        departments,
        people,
        supervisor,
        security,
    }
    .render();
    ctx.respond(StatusCode::OK, page)
}
