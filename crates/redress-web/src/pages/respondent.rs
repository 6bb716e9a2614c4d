//! The respondent portal: the portal key once (kept in an HttpOnly
//! cookie), then the complaints against them — the complainant's contact
//! data masked — with a reply form and an evidence upload on each.

use askama::Template;
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use redress_app::commands::PartyMessageCommand;
use redress_app::views::{RespondentCaseView, RespondentReplyView};
use redress_app::{AppError, Principal};
use redress_domain::{ActorKind, Reason, Status};
use serde::Deserialize;

use super::public::LangQuery;
use super::{Base, PageCtx, cookie, local_time};
use crate::state::AppState;

const PORTAL: &str = "rd_portal";

async fn respondent(s: &AppState, headers: &HeaderMap) -> Option<Principal> {
    let key = cookie(headers, PORTAL)?;
    match s.app.authenticate(Some(&key)).await {
        Ok(p @ Principal::Respondent(_)) => Some(p),
        _ => None,
    }
}

#[derive(Template)]
#[template(path = "respondent_key.html")]
struct KeyPage<'a> {
    base: &'a Base,
    failed: bool,
}

pub async fn key_form(headers: HeaderMap, Query(q): Query<LangQuery>) -> Response {
    let ctx = PageCtx::new(&headers, "/respondent", q.lang.as_deref());
    let page = KeyPage {
        base: &ctx.base,
        failed: false,
    }
    .render();
    ctx.respond(StatusCode::OK, page)
}

#[derive(Debug, Deserialize)]
pub struct KeyForm {
    csrf: Option<String>,
    key: Option<String>,
}

pub async fn key(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Form(f): Form<KeyForm>,
) -> Response {
    let mut ctx = PageCtx::new(&headers, "/respondent", q.lang.as_deref());
    if !super::csrf::verify(&headers, f.csrf.as_deref()) {
        return ctx.error(StatusCode::FORBIDDEN, "error-forbidden");
    }
    let key = f.key.unwrap_or_default().trim().to_string();
    match s.app.authenticate(Some(&key)).await {
        Ok(Principal::Respondent(_)) => {
            ctx.set_cookie(PORTAL, &key, Some(12 * 3600));
            ctx.redirect("/respondent/cases")
        }
        _ => {
            let page = KeyPage {
                base: &ctx.base,
                failed: true,
            }
            .render();
            ctx.respond(StatusCode::UNAUTHORIZED, page)
        }
    }
}

struct Item {
    id: String,
    tracking_no: String,
    status: String,
    subject: String,
    description: String,
    demands: String,
    complainant: String,
    due: String,
    /// The reply deadline (local time) and what is due, in words.
    reply_due: String,
    reply_state: String,
    /// A reply is still expected.
    reply_expected: bool,
    messages: Vec<(String, String, String)>,
    decision: Option<String>,
    open: bool,
    /// Files the respondent may open: id, name, size and time, own upload.
    files: Vec<(String, String, String, bool)>,
}

#[derive(Template)]
#[template(path = "respondent_cases.html")]
struct CasesPage<'a> {
    base: &'a Base,
    items: Vec<Item>,
    notice: Option<String>,
    error: Option<String>,
    /// The largest file the upload takes (checked in the browser).
    max_file: u64,
}

fn item(v: &RespondentCaseView, tr: super::Tr, tz: chrono_tz::Tz) -> Item {
    let time =
        |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| local_time(t, tz)).unwrap_or_default();
    let r = v.respondent_reply.as_ref();
    let c = &v.complainant;
    let complainant = [Some(&c.name), c.phone.as_ref(), c.email.as_ref()]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(" · ");
    Item {
        id: v.id.to_string(),
        tracking_no: v.tracking_no.clone(),
        status: tr.t(&format!("status-{}", v.status)),
        subject: v.subject.clone(),
        description: v.description.clone(),
        demands: v.demands.clone().unwrap_or_default(),
        complainant,
        due: time(v.handling_due_at),
        reply_due: time(r.map(|r| r.due_at)),
        reply_state: reply_state(r, tr),
        reply_expected: r.is_some_and(|r| r.expected),
        messages: v
            .messages
            .iter()
            .map(|m| (m.author.name.clone(), time(Some(m.at)), m.body.clone()))
            .collect(),
        decision: v
            .decision
            .as_ref()
            .map(|d| tr.t(&format!("outcome-{}", d.outcome))),
        open: v.status != Status::Closed,
        files: v
            .evidence
            .iter()
            .map(|e| {
                (
                    e.id.clone(),
                    e.filename.clone(),
                    format!("{} · {}", super::track::size_text(e.size), time(Some(e.at))),
                    e.uploaded_by.kind == ActorKind::Respondent,
                )
            })
            .collect(),
    }
}

/// What the reply deadline asks of the respondent now, in words.
fn reply_state(r: Option<&RespondentReplyView>, tr: super::Tr) -> String {
    let Some(r) = r else {
        return String::new();
    };
    let key = match (r.expected, r.replied_at.is_none()) {
        (true, _) if r.missed => "portal-reply-overdue",
        (true, _) if r.paused => "portal-reply-paused",
        (true, _) => "portal-reply-expected",
        (false, false) if r.on_time == Some(false) => "portal-reply-late",
        (false, false) => "portal-reply-done",
        (false, true) if r.missed => "portal-reply-missed",
        (false, true) => "portal-reply-not-needed",
    };
    tr.t(key)
}

async fn render(s: &AppState, ctx: PageCtx, who: &Principal, error: Option<String>) -> Response {
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_with(s, ctx, who, status, None, error).await
}

async fn render_with(
    s: &AppState,
    ctx: PageCtx,
    who: &Principal,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let tr = ctx.tr();
    let tz = s.app.config.time_zone;
    let items = match s.app.respondent_cases(who, Some("100"), None).await {
        Ok(v) => v.items.iter().map(|i| item(i, tr, tz)).collect(),
        Err(e) => {
            return ctx.fail(&e);
        }
    };
    let page = CasesPage {
        base: &ctx.base,
        items,
        notice,
        error,
        max_file: s.app.evidence.max_bytes,
    }
    .render();
    ctx.respond(status, page)
}

#[derive(Debug, Default, Deserialize)]
pub struct CasesQuery {
    pub lang: Option<String>,
    /// What the action before the redirect did (`reply`, `evidence`).
    pub done: Option<String>,
}

pub async fn cases(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<CasesQuery>,
) -> Response {
    let ctx = PageCtx::new(&headers, "/respondent/cases", q.lang.as_deref());
    let Some(who) = respondent(&s, &headers).await else {
        return ctx.redirect("/respondent");
    };
    let notice = match q.done.as_deref() {
        Some(d @ ("reply" | "evidence")) => Some(ctx.tr().t(&format!("resp-done-{d}"))),
        _ => None,
    };
    render_with(&s, ctx, &who, StatusCode::OK, notice, None).await
}

/// `GET /respondent/cases/{id}/evidence/{evidence_id}`: opens one of the
/// files the respondent may see.
pub async fn evidence_file(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path((id, evidence_id)): Path<(String, String)>,
    Query(q): Query<LangQuery>,
) -> Response {
    let ctx = PageCtx::new(&headers, "/respondent/cases", q.lang.as_deref());
    let Some(who) = respondent(&s, &headers).await else {
        return ctx.redirect("/respondent");
    };
    let Ok(uuid) = id.parse() else {
        return ctx.error(StatusCode::NOT_FOUND, "error-not-found");
    };
    match s
        .app
        .respondent_evidence_file(&who, uuid, &evidence_id)
        .await
    {
        Ok(file) => crate::api::track::file_download(file),
        Err(e) => ctx.fail(&e),
    }
}

#[derive(Debug, Deserialize)]
pub struct ReplyForm {
    csrf: Option<String>,
    body: Option<String>,
}

pub async fn reply(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
    Form(f): Form<ReplyForm>,
) -> Response {
    let ctx = PageCtx::new(&headers, "/respondent/cases", q.lang.as_deref());
    if !super::csrf::verify(&headers, f.csrf.as_deref()) {
        return ctx.error(StatusCode::FORBIDDEN, "error-forbidden");
    }
    let Some(who) = respondent(&s, &headers).await else {
        return ctx.redirect("/respondent");
    };
    let Ok(uuid) = id.parse() else {
        return ctx.error(StatusCode::NOT_FOUND, "error-not-found");
    };
    match s
        .app
        .respondent_message(
            &who,
            uuid,
            &PartyMessageCommand {
                body: f.body.unwrap_or_default(),
            },
        )
        .await
    {
        Ok(_) => ctx.redirect("/respondent/cases?done=reply"),
        Err(e) => failed(&s, ctx, &who, e).await,
    }
}

pub async fn evidence(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
    form: Multipart,
) -> Response {
    let ctx = PageCtx::new(&headers, "/respondent/cases", q.lang.as_deref());
    let Some(who) = respondent(&s, &headers).await else {
        return ctx.redirect("/respondent");
    };
    let Ok(uuid) = id.parse() else {
        return ctx.error(StatusCode::NOT_FOUND, "error-not-found");
    };
    let sent = super::read_file_form(form, s.app.evidence.max_bytes, &|_| false).await;
    if sent.problem.is_some() {
        let message = super::fields_message(
            ctx.tr(),
            &redress_domain::FieldErrors(sent.problem_errors()),
        );
        return render_with(&s, ctx, &who, sent.problem_status(), None, Some(message)).await;
    }
    if !super::csrf::verify(&headers, sent.csrf.as_deref()) {
        return ctx.error(StatusCode::FORBIDDEN, "error-forbidden");
    }
    let Some((name, bytes)) = sent.file else {
        return failed(&s, ctx, &who, AppError::invalid("file", Reason::ChooseFile)).await;
    };
    match s
        .app
        .respondent_evidence(&who, uuid, name.as_deref(), &bytes)
        .await
    {
        Ok(_) => ctx.redirect("/respondent/cases?done=evidence"),
        Err(e) => failed(&s, ctx, &who, e).await,
    }
}

async fn failed(s: &AppState, ctx: PageCtx, who: &Principal, e: AppError) -> Response {
    let tr = ctx.tr();
    match e {
        AppError::Invalid(fields) => {
            let message = super::fields_message(tr, &fields);
            render(s, ctx, who, Some(message)).await
        }
        AppError::Conflict(_) => render(s, ctx, who, Some(tr.t("error-conflict"))).await,
        e => ctx.fail(&e),
    }
}
