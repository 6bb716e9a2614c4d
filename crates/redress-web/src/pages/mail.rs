//! The held-mail queue in the console (`/staff/mail`): mail the receiver
//! could not put on a case by itself, for intake agents to read, attach to
//! a case (as the complainant's message or an internal note) or discard.
//! The same use cases as `/api/v1/mail/held`.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use redress_app::{AppError, Principal};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{Base, PageCtx, local_time};
use crate::state::AppState;

struct HeldRow {
    id: String,
    received: String,
    sender: String,
    subject: String,
    tracking_no: String,
    state: String,
}

struct Attachment {
    filename: String,
    size: String,
}

#[derive(Template)]
#[template(path = "staff_mail.html")]
struct ListPage<'a> {
    base: &'a Base,
    rows: Vec<HeldRow>,
    total: String,
    all: bool,
    next_cursor: Option<String>,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "staff_mail_item.html")]
struct ItemPage<'a> {
    base: &'a Base,
    row: HeldRow,
    held: bool,
    body: String,
    attachments: Vec<Attachment>,
    case: String,
    as_note: bool,
    error: Option<String>,
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn row(s: &AppState, ctx: &PageCtx, v: &Value) -> HeldRow {
    HeldRow {
        id: text(&v["id"]),
        received: v["received_at"]
            .as_str()
            .and_then(|t| t.parse::<chrono::DateTime<chrono::Utc>>().ok())
            .map(|t| local_time(t, s.app.config.time_zone))
            .unwrap_or_default(),
        sender: text(&v["sender"]),
        subject: text(&v["subject"]),
        tracking_no: text(&v["tracking_no"]),
        state: ctx.tr().t(&format!("mail-state-{}", text(&v["state"]))),
    }
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
    cursor: Option<String>,
    state: Option<String>,
    done: Option<String>,
}

/// `GET /staff/mail`: the held mail (all of it with `?state=all`).
pub async fn page(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    let (ctx, who) =
        match super::staff::staff_ctx(&s, &headers, "/staff/mail", q.lang.as_deref()).await {
            Ok(x) => x,
            Err(r) => return r,
        };
    let all = q.state.as_deref() == Some("all");
    let list = match s
        .app
        .list_held_mail(&who, q.state.as_deref(), Some("50"), q.cursor.as_deref())
        .await
    {
        Ok(v) => v,
        Err(e) => return ctx.fail(&e),
    };
    let rows = list["items"]
        .as_array()
        .map(|items| items.iter().map(|i| row(&s, &ctx, i)).collect())
        .unwrap_or_default();
    let notice = match q.done.as_deref() {
        Some("attached") => Some(ctx.tr().t("mail-attached")),
        Some("discarded") => Some(ctx.tr().t("mail-discarded")),
        _ => None,
    };
    let page = ListPage {
        base: &ctx.base,
        rows,
        total: text(&list["total"]),
        all,
        next_cursor: list["next_cursor"].as_str().map(str::to_string),
        notice,
    }
    .render();
    ctx.respond(StatusCode::OK, page)
}

async fn render_item(
    s: &AppState,
    ctx: PageCtx,
    who: &Principal,
    id: Uuid,
    status: StatusCode,
    form: Option<(String, bool, String)>,
) -> Response {
    let v = match s.app.held_mail(who, id).await {
        Ok(v) => v,
        Err(e) => return ctx.fail(&e),
    };
    let attachments = v["attachments"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| Attachment {
                    filename: text(&x["filename"]),
                    size: text(&x["size"]),
                })
                .collect()
        })
        .unwrap_or_default();
    let (case, as_note, error) = match form {
        Some((case, as_note, error)) => (case, as_note, Some(error)),
        None => (text(&v["tracking_no"]), false, None),
    };
    let page = ItemPage {
        base: &ctx.base,
        row: row(s, &ctx, &v),
        held: v["state"] == "held",
        body: text(&v["body"]),
        attachments,
        case,
        as_note,
        error,
    }
    .render();
    ctx.respond(status, page)
}

/// `GET /staff/mail/{id}`: one held mail, with its sender, text and the
/// attach and discard forms. Reading it is journaled.
pub async fn item(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let path = format!("/staff/mail/{id}");
    let (ctx, who) = match super::staff::staff_ctx(&s, &headers, &path, q.lang.as_deref()).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Ok(id) = Uuid::parse_str(&id) else {
        return ctx.error(StatusCode::NOT_FOUND, "error-not-found");
    };
    render_item(&s, ctx, &who, id, StatusCode::OK, None).await
}

/// `POST /staff/mail/{id}/{action}`: `attach` (fields `case`, `as`) or
/// `discard`.
pub async fn act(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let path = format!("/staff/mail/{id}");
    let (ctx, who) = match super::staff::staff_ctx(&s, &headers, &path, q.lang.as_deref()).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !super::csrf::verify(&headers, f.get("csrf").map(String::as_str)) {
        return ctx.error(StatusCode::FORBIDDEN, "error-forbidden");
    }
    let Ok(uid) = Uuid::parse_str(&id) else {
        return ctx.error(StatusCode::NOT_FOUND, "error-not-found");
    };
    match action.as_str() {
        "attach" => {
            let case = f
                .get("case")
                .map(|c| c.trim().to_string())
                .unwrap_or_default();
            let as_ = f.get("as").cloned().unwrap_or_else(|| "complainant".into());
            match s
                .app
                .attach_held_mail(&who, uid, &json!({"case": case, "as": as_}))
                .await
            {
                Ok(_) => ctx.redirect("/staff/mail?done=attached"),
                Err(AppError::Invalid(fields)) => {
                    let message = super::fields_message(ctx.tr(), &fields);
                    let form = Some((case, as_ == "note", message));
                    render_item(&s, ctx, &who, uid, StatusCode::UNPROCESSABLE_ENTITY, form).await
                }
                Err(e) => ctx.fail(&e),
            }
        }
        "discard" => match s.app.discard_held_mail(&who, uid).await {
            Ok(_) => ctx.redirect("/staff/mail?done=discarded"),
            Err(e) => ctx.fail(&e),
        },
        _ => ctx.error(StatusCode::NOT_FOUND, "error-not-found"),
    }
}
