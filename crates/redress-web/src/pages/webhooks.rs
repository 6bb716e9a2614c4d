//! The admin's webhook pages: the subscriptions with a form to add one
//! (its secret shown once), activation, and each subscription's call log
//! with status codes and a replay button. The same use cases as
//! `/api/v1/webhooks`.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use redress_app::commands::{CreateWebhookCommand, Parsed, UpdateWebhookCommand};
use redress_app::webhooks::WebhookView;
use redress_app::{AppError, Principal};
use redress_domain::events::CASE_EVENTS;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Base, PageCtx, local_time};
use crate::state::AppState;

/// A subscription as the pages list it.
struct SubRow {
    id: String,
    url: String,
    events: String,
    active: bool,
    /// The call waiting for a retry, in words; empty when none.
    pending: String,
}

struct AttemptRow {
    n: String,
    at: String,
    /// The status code, or why no answer came.
    result: String,
    replay: bool,
}

struct CallRow {
    id: String,
    event: String,
    seq: String,
    tracking_no: String,
    state: String,
    next: String,
    attempts: Vec<AttemptRow>,
}

#[derive(Template)]
#[template(path = "staff_webhooks.html")]
struct ListPage<'a> {
    base: &'a Base,
    subs: Vec<SubRow>,
    kinds: String,
    shown_secret: Option<String>,
    notice: Option<String>,
    error: Option<String>,
    url: String,
    events: String,
}

#[derive(Template)]
#[template(path = "staff_webhook_calls.html")]
struct CallsPage<'a> {
    base: &'a Base,
    sub: SubRow,
    calls: Vec<CallRow>,
    total: String,
    next_cursor: Option<String>,
    notice: Option<String>,
    error: Option<String>,
}

/// What a page says besides its lists.
#[derive(Default)]
struct Said {
    shown_secret: Option<String>,
    notice: Option<String>,
    error: Option<String>,
    url: String,
    events: String,
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn time(s: &AppState, at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    at.map(|t| local_time(t, s.app.config.time_zone))
        .unwrap_or_default()
}

/// What an attempt got: its status code, or why there was none.
fn attempt_result(tr: &super::i18n::Tr, status: Option<i32>, error: Option<&str>) -> String {
    match status {
        Some(status) => status.to_string(),
        None => format!("{} ({})", tr.t("wh-no-answer"), error.unwrap_or_default()),
    }
}

fn sub_row(s: &AppState, ctx: &PageCtx, v: &WebhookView) -> SubRow {
    let pending = match &v.pending {
        None => String::new(),
        Some(p) => {
            let last = match p.last_status {
                None => ctx.tr().t("wh-no-answer"),
                Some(status) => status.to_string(),
            };
            ctx.tr().with(
                "wh-pending",
                &[
                    ("event", &p.event),
                    ("attempts", &p.attempts.to_string()),
                    ("status", &last),
                    ("at", &time(s, p.next_attempt_at)),
                ],
            )
        }
    };
    SubRow {
        id: v.id.to_string(),
        url: v.url.clone(),
        events: v.events.join(", "),
        active: v.active,
        pending,
    }
}

async fn render_list(
    s: &AppState,
    ctx: PageCtx,
    who: &Principal,
    status: StatusCode,
    said: Said,
) -> Response {
    let subs = match s.app.list_webhooks(who).await {
        Ok(v) => v.items.iter().map(|i| sub_row(s, &ctx, i)).collect(),
        Err(e) => return ctx.fail(&e),
    };
    let page = ListPage {
        base: &ctx.base,
        subs,
        kinds: CASE_EVENTS.join(", "),
        shown_secret: said.shown_secret,
        notice: said.notice,
        error: said.error,
        url: said.url,
        events: said.events,
    }
    .render();
    ctx.respond(status, page)
}

async fn render_calls(
    s: &AppState,
    ctx: PageCtx,
    who: &Principal,
    id: &str,
    cursor: Option<&str>,
    said: Said,
) -> Response {
    let sub = match s.app.get_webhook(who, id).await {
        Ok(v) => sub_row(s, &ctx, &v),
        Err(e) => return ctx.fail(&e),
    };
    let log = match s.app.webhook_calls(who, id, None, Some("50"), cursor).await {
        Ok(v) => v,
        Err(e) => return ctx.fail(&e),
    };
    let tr = ctx.tr();
    let calls = log
        .items
        .iter()
        .map(|c| CallRow {
            id: c.id.to_string(),
            event: c.event.clone(),
            seq: c.event_seq.to_string(),
            tracking_no: text(&c.payload["tracking_no"]),
            state: tr.t(&format!("wh-call-{}", c.state.as_str())),
            next: time(s, c.next_attempt_at),
            attempts: c
                .attempts
                .iter()
                .map(|a| AttemptRow {
                    n: a.n.to_string(),
                    at: time(s, Some(a.at)),
                    result: attempt_result(&tr, a.status, a.error.as_deref()),
                    replay: a.replay,
                })
                .collect(),
        })
        .collect();
    let page = CallsPage {
        base: &ctx.base,
        sub,
        calls,
        total: log.total.to_string(),
        next_cursor: log.next_cursor,
        notice: said.notice,
        error: said.error,
    }
    .render();
    ctx.respond(StatusCode::OK, page)
}

/// Refused fields named on the list page, keeping what was typed.
async fn refused(
    s: &AppState,
    ctx: PageCtx,
    who: &Principal,
    e: AppError,
    url: &str,
    events: &str,
) -> Response {
    match e {
        AppError::Invalid(fields) => {
            let said = Said {
                error: Some(super::fields_message(ctx.tr(), &fields)),
                url: url.to_string(),
                events: events.to_string(),
                ..Said::default()
            };
            render_list(s, ctx, who, StatusCode::UNPROCESSABLE_ENTITY, said).await
        }
        e => ctx.fail(&e),
    }
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
    cursor: Option<String>,
}

async fn admin_ctx(
    s: &AppState,
    headers: &HeaderMap,
    path: &str,
    lang: Option<&str>,
) -> Result<(PageCtx, Principal), Response> {
    let (ctx, who) = super::staff::staff_ctx(s, headers, path, lang).await?;
    // Webhooks carry case content: a supervisor's, never an admin's alone.
    if who
        .staff()
        .is_ok_and(|u| u.has(redress_domain::Role::Supervisor))
    {
        Ok((ctx, who))
    } else {
        Err(ctx.error(StatusCode::FORBIDDEN, "error-no-permission"))
    }
}

/// `GET /staff/admin/webhooks`.
pub async fn page(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    match admin_ctx(&s, &headers, "/staff/admin/webhooks", q.lang.as_deref()).await {
        Ok((ctx, who)) => render_list(&s, ctx, &who, StatusCode::OK, Said::default()).await,
        Err(r) => r,
    }
}

/// `POST /staff/admin/webhooks`: subscribes a URL; the secret is shown once.
pub async fn create(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let (ctx, who) = match admin_ctx(&s, &headers, "/staff/admin/webhooks", q.lang.as_deref()).await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !super::csrf::verify(&headers, f.get("csrf").map(String::as_str)) {
        return ctx.error(StatusCode::FORBIDDEN, "error-forbidden");
    }
    let url = f.get("url").map(|v| v.trim()).unwrap_or_default();
    let events_text = f.get("events").map(|v| v.trim()).unwrap_or_default();
    let events: Vec<&str> = events_text
        .split([',', '，', ' ', '\n'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .collect();
    match s
        .app
        .create_webhook(
            &who,
            CreateWebhookCommand::read(&json!({"url": url, "events": events})),
        )
        .await
    {
        Ok(v) => {
            let said = Said {
                shown_secret: Some(v.secret),
                ..Said::default()
            };
            render_list(&s, ctx, &who, StatusCode::OK, said).await
        }
        Err(e) => refused(&s, ctx, &who, e, url, events_text).await,
    }
}

/// `GET /staff/admin/webhooks/{id}`: the call log.
pub async fn calls(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let path = format!("/staff/admin/webhooks/{id}");
    match admin_ctx(&s, &headers, &path, q.lang.as_deref()).await {
        Ok((ctx, who)) => {
            render_calls(&s, ctx, &who, &id, q.cursor.as_deref(), Said::default()).await
        }
        Err(r) => r,
    }
}

/// `POST /staff/admin/webhooks/{id}/{action}`: `activate`, `deactivate`,
/// or `replay` (the form's `call`).
pub async fn act(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let path = format!("/staff/admin/webhooks/{id}");
    let (ctx, who) = match admin_ctx(&s, &headers, &path, q.lang.as_deref()).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !super::csrf::verify(&headers, f.get("csrf").map(String::as_str)) {
        return ctx.error(StatusCode::FORBIDDEN, "error-forbidden");
    }
    let tr = ctx.tr();
    let result = match action.as_str() {
        "activate" | "deactivate" => s
            .app
            .update_webhook(
                &who,
                &id,
                Parsed::ok(UpdateWebhookCommand {
                    active: Some(action == "activate"),
                    ..Default::default()
                }),
            )
            .await
            .map(|_| tr.t("wh-changed")),
        "replay" => {
            let call = f.get("call").map(String::as_str).unwrap_or_default();
            match s.app.replay_webhook_call(&who, call, Some(&id)).await {
                Ok(v) => {
                    let last = v.attempts.last();
                    let result = attempt_result(
                        &tr,
                        last.and_then(|a| a.status),
                        last.and_then(|a| a.error.as_deref()),
                    );
                    Ok(tr.with("wh-replayed", &[("result", &result)]))
                }
                Err(e) => Err(e),
            }
        }
        _ => return ctx.error(StatusCode::NOT_FOUND, "error-not-found"),
    };
    match result {
        Ok(notice) => {
            let said = Said {
                notice: Some(notice),
                ..Said::default()
            };
            render_calls(&s, ctx, &who, &id, None, said).await
        }
        Err(e) => ctx.fail(&e),
    }
}
