//! The held-mail queue in the console (`/staff/mail`): mail the receiver
//! could not put on a case by itself, for intake agents to read, attach to
//! a case (as the complainant's message or an internal note) or discard.
//! The same use cases as `/api/v1/mail/held`.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use redress_app::commands::AttachHeldMailCommand;
use redress_app::mail::HeldMailView;
use redress_app::{AppError, Principal};
use serde::Deserialize;
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

fn row(s: &AppState, ctx: &PageCtx, v: &HeldMailView) -> HeldRow {
    HeldRow {
        id: v.id.to_string(),
        received: local_time(v.received_at, s.app.config.time_zone),
        sender: v.sender.clone(),
        subject: v.subject.clone(),
        tracking_no: v.tracking_no.clone().unwrap_or_default(),
        state: ctx.tr().t(&format!("mail-state-{}", v.state.as_str())),
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
    let rows = list.items.iter().map(|i| row(&s, &ctx, i)).collect();
    let notice = match q.done.as_deref() {
        Some("attached") => Some(ctx.tr().t("mail-attached")),
        Some("discarded") => Some(ctx.tr().t("mail-discarded")),
        _ => None,
    };
    let page = ListPage {
        base: &ctx.base,
        rows,
        total: list.total.to_string(),
        all,
        next_cursor: list.next_cursor,
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
    let attachments = v
        .attachments
        .iter()
        .flatten()
        .map(|x| Attachment {
            filename: x.filename.clone(),
            size: x.size.to_string(),
        })
        .collect();
    let (case, as_note, error) = match form {
        Some((case, as_note, error)) => (case, as_note, Some(error)),
        None => (v.tracking_no.clone().unwrap_or_default(), false, None),
    };
    let page = ItemPage {
        base: &ctx.base,
        row: row(s, &ctx, &v),
        held: v.state == redress_store::HeldMailState::Held,
        body: v.body.clone().unwrap_or_default(),
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
            // The caller, then the form (as the call checks them).
            let attached = match redress_app::App::require_mail_agent(&who)
                .and_then(|_| AttachHeldMailCommand::from_form(&case, &as_))
            {
                Ok(c) => s.app.attach_held_mail(&who, uid, &c).await,
                Err(e) => Err(e),
            };
            match attached {
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
