//! The staff console: login and logout (a session cookie renewed at each
//! login, logout by POST), the queues with their counts, the case list
//! with search and filters, and the case page with the actions of SPEC §3
//! as forms. Every action goes through the same use case as the API.

use redress_domain::Reason;
use std::collections::HashMap;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use redress_app::cases::ListQuery;
use redress_app::{AppError, Principal};
use serde::Deserialize;
use serde_json::{Value, json};

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
    let body = json!({"username": username, "password": f.password.unwrap_or_default()});
    match s.app.login(&body, ip).await {
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
        let body = json!({"old": f.old.unwrap_or_default(), "new": new});
        match s.app.change_password(&who, token.as_deref(), &body).await {
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
fn security_line(tr: &super::i18n::Tr, e: &Value) -> String {
    let data = &e["data"];
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
        e["actor"]
            .as_str()
            .unwrap_or("—")
            .trim_start_matches("staff:")
            .to_string()
    } else {
        by
    };
    let key = format!(
        "sec-{}",
        e["kind"].as_str().unwrap_or_default().replace('_', "-")
    );
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
        Ok(v) => v["total"].as_i64().unwrap_or(0),
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
        let rows = |key: &str, field: &str| -> Vec<(String, i64, i64)> {
            v[key]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|r| {
                            (
                                r[field].as_str().unwrap_or("—").to_string(),
                                r["overdue"].as_i64().unwrap_or(0),
                                r["due_soon"].as_i64().unwrap_or(0),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        departments = rows("departments", "department");
        people = rows("people", "assignee");
    }
    let supervisor = who
        .staff()
        .is_ok_and(|u| u.has(redress_domain::Role::Supervisor));
    let mut security = Vec::new();
    if supervisor && let Ok(v) = s.app.security_notices(&who, 10).await {
        let tz = s.app.config.time_zone;
        for e in v["items"].as_array().into_iter().flatten() {
            let at = e["at"]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| local_time(t.with_timezone(&chrono::Utc), tz))
                .unwrap_or_default();
            security.push((at, security_line(&tr, e)));
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
    cursor: Option<String>,
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
    overdue: bool,
}

#[derive(Template)]
#[template(path = "staff_cases.html")]
struct ListPage<'a> {
    base: &'a Base,
    rows: Vec<Row>,
    total: i64,
    q: String,
    status: String,
    department: String,
    category: String,
    respondent: String,
    assignee: String,
    /// Every category: code and name in the page's language.
    categories: Vec<(String, String)>,
    overdue: bool,
    due_soon: bool,
    next: Option<String>,
    error: Option<String>,
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
    let query = ListQuery {
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
        ..Default::default()
    };
    let categories = category_names(&s, tr).await;
    let tz = s.app.config.time_zone;
    let (rows, total, next, error) = match s.app.list_cases(&who, &query).await {
        Ok(v) => {
            let rows = v["items"]
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .map(|i| {
                            let text = |k: &str| i[k].as_str().unwrap_or("").to_string();
                            Row {
                                id: text("id"),
                                tracking_no: text("tracking_no"),
                                subject: text("subject"),
                                status: tr.t(&format!("status-{}", text("status"))),
                                category: categories
                                    .iter()
                                    .find(|(code, _)| *code == text("category"))
                                    .map_or_else(|| text("category"), |(_, n)| n.clone()),
                                respondent: i["respondent"]["name"]
                                    .as_str()
                                    .or(i["respondent"]["id"].as_str())
                                    .unwrap_or("")
                                    .to_string(),
                                department: text("department"),
                                assignee: text("assignee"),
                                due: i["next_due_at"]
                                    .as_str()
                                    .and_then(|t| t.parse().ok())
                                    .map(|t| local_time(t, tz))
                                    .unwrap_or_default(),
                                overdue: i["overdue"].as_bool().unwrap_or(false),
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            let next = v["next_cursor"].as_str().map(|c| {
                let mut keep: Vec<(&str, &str)> = [
                    ("status", &p.status),
                    ("q", &p.q),
                    ("overdue", &p.overdue),
                    ("due_soon", &p.due_soon),
                    ("assignee", &p.assignee),
                    ("department", &p.department),
                    ("category", &p.category),
                    ("respondent", &p.respondent),
                ]
                .into_iter()
                .filter_map(|(k, v)| Some((k, v.as_deref().filter(|v| !v.is_empty())?)))
                .collect();
                keep.push(("cursor", c));
                let query = serde_urlencoded::to_string(&keep).unwrap_or_default();
                format!("/staff/cases?{query}")
            });
            (rows, v["total"].as_i64().unwrap_or(0), next, None)
        }
        Err(AppError::Invalid(f)) => (Vec::new(), 0, None, Some(super::fields_message(tr, &f))),
        Err(e) => {
            return ctx.fail(&e);
        }
    };
    let page = ListPage {
        base: &ctx.base,
        rows,
        total,
        q: p.q.unwrap_or_default(),
        status: p.status.unwrap_or_default(),
        department: p.department.unwrap_or_default(),
        category: p.category.unwrap_or_default(),
        respondent: p.respondent.unwrap_or_default(),
        assignee: p.assignee.unwrap_or_default(),
        categories,
        overdue: p.overdue.as_deref() == Some("true"),
        due_soon: p.due_soon.as_deref() == Some("true"),
        next,
        error,
    }
    .render();
    ctx.respond(StatusCode::OK, page)
}

struct Event {
    at: String,
    kind: String,
    actor: String,
}

struct Msg {
    audience: String,
    author: String,
    body: String,
    at: String,
}

/// A file of the case as the case page lists it.
struct FileLine {
    id: String,
    name: String,
    /// Type, size, who sent it and when.
    meta: String,
    /// Whom staff shared it with, in words.
    shared: Option<String>,
    sha256: String,
}

#[derive(Template)]
#[template(path = "staff_case.html")]
struct CasePage<'a> {
    base: &'a Base,
    id: String,
    c: CaseFacts,
    events: Vec<Event>,
    messages: Vec<Msg>,
    notes: Vec<Msg>,
    evidence: Vec<FileLine>,
    /// The largest file the upload takes (checked in the browser).
    max_file: u64,
    deadlines: Vec<(String, String)>,
    categories: Vec<(String, String)>,
    /// Canned replies: id, label, text.
    canned: Vec<(String, String, String)>,
    /// Corrective actions: id, description, owner, due, done.
    actions: Vec<(String, String, String, String, bool)>,
    /// A supervisor may erase this closed case's personal data now.
    can_erase: bool,
    /// Likely duplicates: id, tracking number, subject, similarity in words.
    similar: Vec<(String, String, String, String)>,
    /// Likely categories (accept form): code, name, confidence in words.
    suggestions: Vec<(String, String, String)>,
    /// The category the accept form selects first (the best suggestion).
    preselect: String,
    notice: Option<String>,
    error: Option<String>,
}

struct CaseFacts {
    tracking_no: String,
    status: String,
    status_code: String,
    subject: String,
    description: String,
    demands: String,
    complainant: String,
    respondent: String,
    channel: String,
    category: String,
    department: String,
    assignee: String,
    clock: String,
    paused: bool,
    /// A deadline reaches into a year without holiday data.
    provisional: bool,
    decision: Option<String>,
    /// The appeal's reason, for the reviewer.
    appeal_reason: Option<String>,
    /// The decision in full, for the reviewer of an appeal.
    original: Option<Original>,
}

/// The decision under review, in full.
struct Original {
    outcome: String,
    basis: Vec<String>,
    reply: String,
    remedies: Vec<String>,
    sanctions: Vec<String>,
    decided_by: String,
}

/// A remedy or sanction in words: kind, details, amount.
fn measure_text(m: &Value) -> String {
    let mut line = m["kind"].as_str().unwrap_or("").to_string();
    if let Some(d) = m["description"].as_str().filter(|d| !d.is_empty()) {
        line = format!("{line}: {d}");
    }
    if let Some(a) = m["amount"].as_f64() {
        line = format!("{line} ({a:.2})");
    }
    line
}

fn facts(v: &Value, tr: super::Tr, tz: chrono_tz::Tz) -> CaseFacts {
    let text = |x: &Value| x.as_str().unwrap_or("").to_string();
    let c = &v["complainant"];
    let contact = [
        &c["name"],
        &c["phone"],
        &c["email"],
        &c["user_id"],
        &c["postal_address"],
    ]
    .iter()
    .filter_map(|x| x.as_str())
    .collect::<Vec<_>>()
    .join(" · ");
    let r = &v["respondent"];
    let clock = &v["clock"];
    let clock_text = match clock["due_at"].as_str().and_then(|t| t.parse().ok()) {
        Some(due) => format!(
            "{} {} ({} {})",
            tr.t(&format!("dl-{}", text(&clock["stage"]))),
            local_time(due, tz),
            clock["remaining_working_days"].as_i64().unwrap_or(0),
            tr.t("working-days-left"),
        ),
        None => String::new(),
    };
    CaseFacts {
        tracking_no: text(&v["tracking_no"]),
        status: tr.t(&format!("status-{}", text(&v["status"]))),
        status_code: text(&v["status"]),
        subject: text(&v["record"]["subject"]),
        description: text(&v["record"]["description"]),
        demands: text(&v["record"]["demands"]),
        complainant: contact,
        respondent: format!(
            "{} {} ({})",
            text(&r["kind"]),
            text(&r["id"]),
            text(&r["name"])
        ),
        // The channel in words, with the call's or letter's reference.
        channel: match v["call_reference"].as_str() {
            Some(r) => format!(
                "{} · {} {r}",
                tr.t(&format!("case-channel-{}", text(&v["channel"]))),
                tr.t("f-call-reference")
            ),
            None => tr.t(&format!("case-channel-{}", text(&v["channel"]))),
        },
        category: text(&v["category"]),
        department: text(&v["department"]),
        assignee: text(&v["assignee"]),
        clock: clock_text,
        paused: v["paused"].as_bool().unwrap_or(false),
        provisional: clock["provisional"].as_bool().unwrap_or(false),
        decision: v["decision"]["outcome"].as_str().map(|o| {
            format!(
                "{} — {}",
                tr.t(&format!("outcome-{o}")),
                text(&v["decision"]["reply"])
            )
        }),
        appeal_reason: v["appeal"]["reason"].as_str().map(str::to_string),
        original: v["decision"]["outcome"].as_str().map(|o| {
            let d = &v["decision"];
            let list = |x: &Value| -> Vec<String> {
                x.as_array()
                    .map(|a| a.iter().map(measure_text).collect())
                    .unwrap_or_default()
            };
            Original {
                outcome: tr.t(&format!("outcome-{o}")),
                basis: d["basis"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|b| b.as_str())
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default(),
                reply: text(&d["reply"]),
                remedies: list(&d["remedies"]),
                sanctions: list(&d["sanctions"]),
                decided_by: text(&d["decided_by"]),
            }
        }),
    }
}

async fn render_case(
    s: &AppState,
    ctx: PageCtx,
    who: &Principal,
    id: &str,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    render_case_with(s, ctx, who, id, status, None, error).await
}

async fn render_case_with(
    s: &AppState,
    ctx: PageCtx,
    who: &Principal,
    id: &str,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let Ok(uuid) = id.parse::<uuid::Uuid>() else {
        return ctx.error(StatusCode::NOT_FOUND, "error-not-found");
    };
    let v = match s.app.get_case(who, uuid).await {
        Ok(v) => v,
        Err(e) => {
            return ctx.fail(&e);
        }
    };
    let tr = ctx.tr();
    let tz = s.app.config.time_zone;
    let time = |x: &Value| {
        x.as_str()
            .and_then(|t| t.parse().ok())
            .map(|t| local_time(t, tz))
            .unwrap_or_default()
    };
    let text = |x: &Value| x.as_str().unwrap_or("").to_string();
    let list = |x: &Value| x.as_array().cloned().unwrap_or_default();
    let events = list(&v["events"])
        .iter()
        .map(|e| Event {
            at: time(&e["at"]),
            kind: text(&e["kind"]),
            actor: text(&e["actor"]),
        })
        .collect();
    let messages = list(&v["messages"])
        .iter()
        .map(|m| Msg {
            audience: tr.t(&format!("audience-{}", text(&m["audience"]))),
            author: text(&m["author"]["name"]),
            body: text(&m["body"]),
            at: time(&m["at"]),
        })
        .collect();
    let notes = list(&v["notes"])
        .iter()
        .map(|m| Msg {
            audience: text(&m["kind"]),
            author: text(&m["by"]),
            body: text(&m["body"]),
            at: time(&m["at"]),
        })
        .collect();
    let evidence = list(&v["evidence"])
        .iter()
        .map(|e| {
            let shared: Vec<String> = list(&e["shared_with"])
                .iter()
                .map(|p| tr.t(&format!("staff-file-share-{}", p.as_str().unwrap_or(""))))
                .collect();
            FileLine {
                id: text(&e["id"]),
                name: text(&e["filename"]),
                meta: format!(
                    "{} · {} · {} · {}",
                    text(&e["content_type"]),
                    super::track::size_text(e["size"].as_u64().unwrap_or(0)),
                    text(&e["uploaded_by"]["name"]),
                    time(&e["at"])
                ),
                shared: (!shared.is_empty())
                    .then(|| tr.with("staff-file-shared-with", &[("who", &shared.join("、"))])),
                sha256: text(&e["sha256"]),
            }
        })
        .collect();
    let mut deadlines = [
        ("dl-acceptance", "acceptance_due_at"),
        ("dl-supplement", "supplement_due_at"),
        ("dl-handling", "handling_due_at"),
        ("dl-appeal", "appeal_due_at"),
        ("dl-review", "review_due_at"),
    ]
    .into_iter()
    .filter(|(_, k)| v[*k].is_string())
    .map(|(label, k)| (tr.t(label), time(&v[k])))
    .collect::<Vec<_>>();
    // The respondent's reply deadline, with what came of it.
    let r = &v["respondent_reply"];
    if r["due_at"].is_string() {
        let state = match (r["replied_at"].is_null(), r["missed"] == true) {
            (false, _) if r["on_time"] == false => "dl-respondent-replied-late",
            (false, _) => "dl-respondent-replied",
            (true, true) => "dl-respondent-missed",
            (true, false) if r["expected"] == true => "dl-respondent-waiting",
            (true, false) => "dl-respondent-none",
        };
        deadlines.push((
            tr.t("dl-respondent-reply"),
            format!("{} · {}", time(&r["due_at"]), tr.t(state)),
        ));
    }
    let categories = category_names(s, tr).await;
    let percent = |x: f64| format!("{:.0}", x * 100.0);
    let similar = s
        .app
        .similar_cases(who, uuid)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|c| {
            let score = tr.with("case-similar-score", &[("score", &percent(c.score))]);
            (c.id.to_string(), c.tracking_no, c.subject, score)
        })
        .collect();
    let suggestions: Vec<(String, String, String)> = if v["status"] == "submitted" {
        s.app
            .category_suggestions(who, uuid)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|x| {
                let name = categories
                    .iter()
                    .find(|(code, _)| *code == x.category)
                    .map_or_else(|| x.category.clone(), |(_, name)| name.clone());
                let confidence = tr.with(
                    "act-accept-confidence",
                    &[("confidence", &percent(x.confidence))],
                );
                (x.category, name, confidence)
            })
            .collect()
    } else {
        Vec::new()
    };
    let preselect = suggestions.first().map(|x| x.0.clone()).unwrap_or_default();
    let actions = list(&v["actions"])
        .iter()
        .map(|a| {
            (
                text(&a["id"]),
                text(&a["description"]),
                text(&a["owner"]),
                time(&a["due_at"]),
                a["done_at"].is_string(),
            )
        })
        .collect();
    let canned = canned_choices(s, tr, v["locale"].as_str()).await;
    let supervisor = who
        .staff()
        .is_ok_and(|st| st.has(redress_domain::Role::Supervisor));
    let can_erase = supervisor
        && v["status"] == "closed"
        && v["legal_hold"] != true
        && v["purged_at"].is_null();
    let page = CasePage {
        base: &ctx.base,
        can_erase,
        notice,
        canned,
        actions,
        id: id.to_string(),
        c: facts(&v, tr, tz),
        events,
        messages,
        notes,
        evidence,
        max_file: s.app.evidence.max_bytes,
        deadlines,
        categories,
        similar,
        suggestions,
        preselect,
        error,
    }
    .render();
    ctx.respond(status, page)
}

/// The canned replies a case page offers: those in the case's language or
/// in any first, then the others, marked with their language.
async fn canned_choices(
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

#[derive(Debug, Default, Deserialize)]
pub struct CaseQuery {
    pub lang: Option<String>,
    /// What the action before the redirect did (`erased`), to say so.
    pub done: Option<String>,
}

pub async fn case(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<CaseQuery>,
) -> Response {
    let path = format!("/staff/cases/{id}");
    let (ctx, who) = match staff_ctx(&s, &headers, &path, q.lang.as_deref()).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let notice = match q.done.as_deref() {
        Some("erased") => Some(ctx.tr().t("act-erase-done")),
        Some("action-updated") => Some(ctx.tr().t("act-update-action-done")),
        Some(_) => Some(ctx.tr().t("staff-done")),
        None => None,
    };
    render_case_with(&s, ctx, &who, &id, StatusCode::OK, notice, None).await
}

/// Lines of a text area as a list.
fn lines(v: Option<&String>) -> Vec<String> {
    v.map(|t| {
        t.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect()
    })
    .unwrap_or_default()
}

/// `POST /staff/cases/{id}/{action}`: the case actions as forms.
pub async fn act(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    Query(q): Query<LangQuery>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let path = format!("/staff/cases/{id}");
    let (ctx, who) = match staff_ctx(&s, &headers, &path, q.lang.as_deref()).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !super::csrf::verify(&headers, f.get("csrf").map(String::as_str)) {
        return ctx.error(StatusCode::FORBIDDEN, "error-forbidden");
    }
    let Ok(uuid) = id.parse::<uuid::Uuid>() else {
        return ctx.error(StatusCode::NOT_FOUND, "error-not-found");
    };
    let get = |k: &str| f.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let app = &s.app;
    let result = match action.as_str() {
        "accept" => {
            app.accept(&who, uuid, &json!({"category": get("category")}))
                .await
        }
        "reject" => {
            app.reject(
                &who,
                uuid,
                &json!({"reason": get("reason"), "guidance": get("guidance")}),
            )
            .await
        }
        "request-info" => {
            app.request_info(&who, uuid, &json!({"items": lines(f.get("items"))}))
                .await
        }
        "assign" => {
            app.assign(&who, uuid, &json!({"handler": get("handler")}))
                .await
        }
        "message" => {
            // Without script, a chosen canned reply stands in for an empty body.
            let canned = match get("canned").and_then(|c| c.parse::<uuid::Uuid>().ok()) {
                Some(reply) if get("body").is_none() => app
                    .store
                    .get_canned_reply(reply)
                    .await
                    .ok()
                    .flatten()
                    .map(|r| r.body),
                _ => None,
            };
            let body = get("body").map(str::to_string).or(canned);
            app.staff_message(
                &who,
                uuid,
                &json!({"audience": get("audience"), "body": body}),
            )
            .await
        }
        "note" => {
            app.note(
                &who,
                uuid,
                &json!({"kind": get("kind"), "body": get("body")}),
            )
            .await
        }
        "extend" => {
            let days: Option<u32> = get("days").and_then(|d| d.parse().ok());
            app.extend(&who, uuid, &json!({"days": days, "reason": get("reason")}))
                .await
        }
        "pause" => {
            app.pause(&who, uuid, &json!({"reason": get("reason")}))
                .await
        }
        "link" => app.link(&who, uuid, &json!({"other": get("other")})).await,
        "merge" => app.merge(&who, uuid, &json!({"into": get("into")})).await,
        "complete-action" => {
            let action_id = get("action_id").unwrap_or_default().to_string();
            app.complete_action(&who, uuid, &action_id, &json!({"note": get("note")}))
                .await
        }
        "resume" => {
            app.resume(&who, uuid, &json!({"reason": get("reason")}))
                .await
        }
        "update-action" => {
            let action_id = get("action_id").unwrap_or_default().to_string();
            // A date from the form is due at its end (24:00 local time).
            let due_at =
                get("due_date").map(|d| match chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d") {
                    Ok(day) => app.calendar().end_of_local_day(day).to_rfc3339(),
                    Err(_) => d.to_string(),
                });
            match app
                .update_action(
                    &who,
                    uuid,
                    &action_id,
                    &json!({"owner": get("owner"), "due_at": due_at}),
                )
                .await
            {
                Ok(_) => return ctx.redirect(&format!("{path}?done=action-updated")),
                Err(e) => Err(e),
            }
        }
        "decide" => {
            app.decide(
                &who,
                uuid,
                &json!({"outcome": get("outcome"), "basis": lines(f.get("basis")),
                        "reply": get("reply"), "remedies": lines(f.get("remedies")),
                        "sanctions": lines(f.get("sanctions")),
                        "actions": lines(f.get("actions"))}),
            )
            .await
        }
        "erase" => {
            // The confirmation is a ticked box, checked here (no script).
            if get("confirm") != Some("yes") {
                let message = ctx.tr().t("act-erase-unconfirmed");
                return render_case(
                    &s,
                    ctx,
                    &who,
                    &id,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(message),
                )
                .await;
            }
            match app
                .erase(&who, uuid, &json!({"reason": get("reason")}))
                .await
            {
                Ok(_) => return ctx.redirect(&format!("{path}?done=erased")),
                Err(e) => Err(e),
            }
        }
        "review" => {
            // The outcome and what is ordered count for a changed result
            // only (the form offers them beside the result).
            let modified = get("result") == Some("modified");
            let list = |name: &str| {
                if modified {
                    json!(lines(f.get(name)))
                } else {
                    json!([])
                }
            };
            app.review(
                &who,
                uuid,
                &json!({"result": get("result"), "basis": lines(f.get("basis")),
                        "reply": get("reply"),
                        "outcome": get("outcome").filter(|o| modified && !o.is_empty()),
                        "remedies": list("remedies"),
                        "sanctions": list("sanctions"),
                        "actions": list("actions")}),
            )
            .await
        }
        _ => return ctx.error(StatusCode::NOT_FOUND, "error-not-found"),
    };
    match result {
        Ok(_) => ctx.redirect(&format!("{path}?done={}", url_word(&action))),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_) | AppError::Forbidden(_))) => {
            let tr = ctx.tr();
            let (status, message) = match &e {
                AppError::Invalid(fields) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    super::fields_message(tr, fields),
                ),
                AppError::Forbidden(m) => (StatusCode::FORBIDDEN, m.clone()),
                AppError::Conflict(m) => (StatusCode::CONFLICT, m.clone()),
                _ => unreachable!("matched above"),
            };
            render_case(&s, ctx, &who, &id, status, Some(message)).await
        }
        Err(e) => ctx.fail(&e),
    }
}

/// `POST /staff/cases/{id}/evidence`: a file from staff.
pub async fn evidence(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
    form: axum::extract::Multipart,
) -> Response {
    let path = format!("/staff/cases/{id}");
    let (ctx, who) = match staff_ctx(&s, &headers, &path, q.lang.as_deref()).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let sent = super::read_file_form(form, s.app.evidence.max_bytes, &|name| {
        matches!(name, "share_complainant" | "share_respondent")
    })
    .await;
    if sent.problem.is_none() && !super::csrf::verify(&headers, sent.csrf.as_deref()) {
        return ctx.error(StatusCode::FORBIDDEN, "error-forbidden");
    }
    let Ok(uuid) = id.parse::<uuid::Uuid>() else {
        return ctx.error(StatusCode::NOT_FOUND, "error-not-found");
    };
    let share: Vec<redress_domain::Party> = [
        ("share_complainant", redress_domain::Party::Complainant),
        ("share_respondent", redress_domain::Party::Respondent),
    ]
    .into_iter()
    .filter(|(k, _)| sent.values.get(*k).is_some_and(|v| v == "yes"))
    .map(|(_, p)| p)
    .collect();
    let (problem_errors, problem_status) = (sent.problem_errors(), sent.problem_status());
    let result = match (sent.problem, sent.file) {
        (Some(_), _) => Err(AppError::Invalid(redress_domain::FieldErrors(
            problem_errors,
        ))),
        (None, Some((name, bytes))) => {
            s.app
                .staff_evidence(&who, uuid, name.as_deref(), &bytes, &share)
                .await
        }
        (None, None) => Err(AppError::invalid("file", Reason::ChooseFile)),
    };
    match result {
        Ok(_) => ctx.redirect(&format!("{path}?done=evidence")),
        Err(AppError::Invalid(f)) => {
            let message = super::fields_message(ctx.tr(), &f);
            let status = if sent.problem.is_some() {
                problem_status
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            render_case(&s, ctx, &who, &id, status, Some(message)).await
        }
        Err(e) => ctx.fail(&e),
    }
}

/// `GET /staff/cases/{id}/evidence/{evidence_id}`: opens a file of the
/// case (the view is journaled).
pub async fn evidence_file(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path((id, evidence_id)): Path<(String, String)>,
    Query(q): Query<LangQuery>,
) -> Response {
    let path = format!("/staff/cases/{id}");
    let (ctx, who) = match staff_ctx(&s, &headers, &path, q.lang.as_deref()).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Ok(uuid) = id.parse::<uuid::Uuid>() else {
        return ctx.error(StatusCode::NOT_FOUND, "error-not-found");
    };
    match s.app.staff_evidence_file(&who, uuid, &evidence_id).await {
        Ok(file) => crate::api::track::file_download(file),
        Err(e) => ctx.fail(&e),
    }
}

/// An action's name as it may appear in a query string.
fn url_word(action: &str) -> String {
    action
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}
