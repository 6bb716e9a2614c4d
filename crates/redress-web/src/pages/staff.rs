//! The staff console: login and logout (a session cookie renewed at each
//! login, logout by POST), the queues with their counts, the case list
//! with search and filters, and the case page with the actions of SPEC §3
//! as forms. Every action goes through the same use case as the API.

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use redress_app::cases::ListQuery;
use redress_app::commands::{AssignCommand, ChangePasswordCommand, LoginCommand};
use redress_app::{AppError, Principal};
use serde::Deserialize;
use serde_json::Value;

use super::public::LangQuery;
use super::{Base, PageCtx, cookie, local_time};
use crate::extract::ClientIp;
use crate::state::AppState;

const SESSION: &str = "redress_session";

/// The signed-in staff member, from the session cookie (also one whose
/// password was reset and must be changed first).
async fn signed_in(s: &AppState, headers: &HeaderMap) -> Option<Principal> {
    let token = cookie(headers, SESSION)?;
    match s.app.authenticate(Some(&token)).await {
        Ok(p @ (Principal::Staff(_) | Principal::PasswordExpired(_))) => Some(p),
        _ => None,
    }
}

/// A staff page's context, or the redirect to the login page.
pub(super) async fn staff_ctx(
    s: &AppState,
    headers: &HeaderMap,
    path: &str,
    lang: Option<&str>,
) -> Result<(PageCtx, Principal), Response> {
    let ctx = PageCtx::new(headers, path, lang);
    match signed_in(s, headers).await {
        // A reset password is changed before anything else.
        Some(Principal::PasswordExpired(_)) => Err(ctx.redirect("/staff/password")),
        Some(p) => {
            let mut ctx = ctx;
            ctx.base.staff = p.staff().ok().map(|u| u.user.username.clone());
            if let Ok(u) = p.staff() {
                ctx.base.nav = super::Nav::of(u);
            }
            Ok((ctx, p))
        }
        None => Err(ctx.redirect("/staff/login")),
    }
}

#[derive(Template)]
#[template(path = "staff_login.html")]
struct LoginPage<'a> {
    base: &'a Base,
    username: String,
    failed: bool,
}

pub async fn login_form(headers: HeaderMap, Query(q): Query<LangQuery>) -> Response {
    let ctx = PageCtx::new(&headers, "/staff/login", q.lang.as_deref());
    let page = LoginPage {
        base: &ctx.base,
        username: String::new(),
        failed: false,
    }
    .render();
    ctx.respond(StatusCode::OK, page)
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    csrf: Option<String>,
    username: Option<String>,
    password: Option<String>,
}

/// `POST /staff/login`: a new session (a new id at every login), throttled
/// per client address.
pub async fn login(
    State(s): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    Query(q): Query<LangQuery>,
    Form(f): Form<LoginForm>,
) -> Response {
    let mut ctx = PageCtx::new(&headers, "/staff/login", q.lang.as_deref());
    if !super::csrf::verify(&headers, f.csrf.as_deref()) {
        return ctx.error(StatusCode::FORBIDDEN, "error-forbidden");
    }
    let key = ip.unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
    if s.login_limiter.check_key(&key).is_err() {
        return ctx.error(StatusCode::TOO_MANY_REQUESTS, "error-rate-limited");
    }
    let username = f.username.unwrap_or_default();
    let password = f.password.unwrap_or_default();
    let login = match LoginCommand::from_form(&username, &password) {
        Ok(c) => s.app.login(&c, ip).await,
        Err(e) => Err(e),
    };
    match login {
        Ok((token, _)) => {
            // An old session of this browser ends with the new login.
            if let Some(old) = cookie(&headers, SESSION) {
                let _ = s.app.logout(&old).await;
            }
            let hours = s.app.config.session_hours;
            ctx.set_cookie(SESSION, &token, Some(hours * 3600));
            ctx.redirect("/staff")
        }
        Err(AppError::Throttled(seconds)) => {
            let mut r = ctx.error(StatusCode::TOO_MANY_REQUESTS, "login-throttled");
            r.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(seconds),
            );
            r
        }
        Err(AppError::Unauthorized | AppError::Invalid(_)) => {
            let page = LoginPage {
                base: &ctx.base,
                username,
                failed: true,
            }
            .render();
            ctx.respond(StatusCode::UNAUTHORIZED, page)
        }
        Err(e) => ctx.fail(&e),
    }
}

#[derive(Template)]
#[template(path = "staff_password.html")]
struct PasswordPage<'a> {
    base: &'a Base,
    /// The password was reset: nothing else opens until it is changed.
    required: bool,
    done: bool,
    error: String,
}

/// `GET /staff/password`: the form to change one's own password.
pub async fn password_form(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let ctx = PageCtx::new(&headers, "/staff/password", q.lang.as_deref());
    let Some(who) = signed_in(&s, &headers).await else {
        return ctx.redirect("/staff/login");
    };
    let page = PasswordPage {
        base: &ctx.base,
        required: matches!(who, Principal::PasswordExpired(_)),
        done: false,
        error: String::new(),
    }
    .render();
    ctx.respond(StatusCode::OK, page)
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    csrf: Option<String>,
    old: Option<String>,
    new: Option<String>,
    confirm: Option<String>,
}

/// `POST /staff/password`: changes it; the other sessions end, this one
/// stays.
pub async fn password(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Form(f): Form<PasswordForm>,
) -> Response {
    let ctx = PageCtx::new(&headers, "/staff/password", q.lang.as_deref());
    if !super::csrf::verify(&headers, f.csrf.as_deref()) {
        return ctx.error(StatusCode::FORBIDDEN, "error-forbidden");
    }
    let Some(who) = signed_in(&s, &headers).await else {
        return ctx.redirect("/staff/login");
    };
    let required = matches!(who, Principal::PasswordExpired(_));
    let new = f.new.unwrap_or_default();
    let outcome = if f.confirm.unwrap_or_default() != new {
        Ok((StatusCode::UNPROCESSABLE_ENTITY, false, "password-mismatch"))
    } else {
        let token = cookie(&headers, SESSION);
        // The caller, then the form (as the call checks them).
        let changed = match who
            .staff_member()
            .and_then(|_| ChangePasswordCommand::from_form(&f.old.unwrap_or_default(), &new))
        {
            Ok(c) => s.app.change_password(&who, token.as_deref(), &c).await,
            Err(e) => Err(e),
        };
        match changed {
            Ok(_) => Ok((StatusCode::OK, true, "")),
            Err(AppError::Invalid(fields)) if fields.0.contains_key("old") => Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                false,
                "password-wrong-old",
            )),
            Err(AppError::Invalid(_)) => Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                false,
                "password-too-short",
            )),
            Err(AppError::Throttled(_)) => {
                Ok((StatusCode::TOO_MANY_REQUESTS, false, "login-throttled"))
            }
            Err(e) => Err(e),
        }
    };
    match outcome {
        Ok((status, done, key)) => {
            let page = PasswordPage {
                base: &ctx.base,
                required: required && !done,
                done,
                error: if key.is_empty() {
                    String::new()
                } else {
                    ctx.base.tr.t(key)
                },
            }
            .render();
            ctx.respond(status, page)
        }
        Err(e) => ctx.fail(&e),
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    csrf: Option<String>,
}

pub async fn logout(
    State(s): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<CsrfOnly>,
) -> Response {
    let mut ctx = PageCtx::new(&headers, "/staff/login", None);
    if !super::csrf::verify(&headers, f.csrf.as_deref()) {
        return ctx.error(StatusCode::FORBIDDEN, "error-forbidden");
    }
    if let Some(token) = cookie(&headers, SESSION) {
        let _ = s.app.logout(&token).await;
    }
    ctx.set_cookie(SESSION, "", Some(0));
    ctx.redirect("/staff/login")
}

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

/// The canned replies a case page offers: those in the case's language or
/// in any first, then the others, marked with their language.
pub(super) async fn canned_choices(
    s: &AppState,
    tr: super::Tr,
    case_locale: Option<&str>,
) -> Vec<(String, String, String)> {
    let replies = s.app.store.list_canned_replies().await.unwrap_or_default();
    let fits = |r: &redress_store::CannedReply| {
        r.locale
            .is_none_or(|l| case_locale.is_none_or(|c| l.as_str() == c))
    };
    let (mut first, others): (Vec<_>, Vec<_>) = replies.into_iter().partition(fits);
    first.extend(others.into_iter().map(|mut r| {
        if let Some(l) = r.locale {
            r.title = format!("{} ({})", r.title, tr.t(&format!("locale-{l}")));
        }
        r
    }));
    first
        .into_iter()
        .map(|r| (r.id.to_string(), r.title, r.body))
        .collect()
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
