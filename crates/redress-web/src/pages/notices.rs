//! The admin's notice template page (`/staff/admin/notices`): every notice
//! kind in both languages, and a form to reword one (checked before it is
//! saved) or to go back to the shipped wording. The same use cases as
//! `/api/v1/admin/notice-templates`.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use redress_app::{AppError, Principal};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Base, PageCtx};
use crate::state::AppState;

struct Row {
    kind: String,
    locale: String,
    customized: bool,
}

struct Editing {
    kind: String,
    locale: String,
    subject: String,
    body: String,
    sms: String,
    customized: bool,
}

#[derive(Template)]
#[template(path = "staff_notices.html")]
struct NoticesPage<'a> {
    base: &'a Base,
    rows: Vec<Row>,
    editing: Option<Editing>,
    notice: Option<String>,
    error: Option<String>,
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
    kind: Option<String>,
    tl: Option<String>,
}

async fn admin_ctx(
    s: &AppState,
    headers: &HeaderMap,
    lang: Option<&str>,
) -> Result<(PageCtx, Principal), Response> {
    let (ctx, who) = super::staff::staff_ctx(s, headers, "/staff/admin/notices", lang).await?;
    if who
        .staff()
        .is_ok_and(|u| u.has(redress_domain::Role::Admin))
    {
        Ok((ctx, who))
    } else {
        Err(ctx.error(StatusCode::FORBIDDEN, "error-no-permission"))
    }
}

/// What a page says besides the list: a confirmation or a refusal.
#[derive(Default)]
struct Said {
    notice: Option<String>,
    error: Option<String>,
}

async fn render(
    s: &AppState,
    ctx: PageCtx,
    who: &Principal,
    status: StatusCode,
    pick: Option<(&str, &str)>,
    typed: Option<Editing>,
    said: Said,
) -> Response {
    let list = match s.app.list_notice_templates(who).await {
        Ok(v) => v,
        Err(e) => return ctx.fail(&e),
    };
    let items = list["items"].as_array().cloned().unwrap_or_default();
    let rows = items
        .iter()
        .map(|i| Row {
            kind: text(&i["kind"]),
            locale: text(&i["locale"]),
            customized: i["customized"].as_bool().unwrap_or(false),
        })
        .collect();
    let editing = typed.or_else(|| {
        let (kind, locale) = pick?;
        let i = items
            .iter()
            .find(|i| i["kind"] == kind && i["locale"] == locale)?;
        Some(Editing {
            kind: text(&i["kind"]),
            locale: text(&i["locale"]),
            subject: text(&i["subject"]),
            body: text(&i["body"]),
            sms: text(&i["sms"]),
            customized: i["customized"].as_bool().unwrap_or(false),
        })
    });
    let page = NoticesPage {
        base: &ctx.base,
        rows,
        editing,
        notice: said.notice,
        error: said.error,
    }
    .render();
    ctx.respond(status, page)
}

/// `GET /staff/admin/notices[?kind=…&tl=…]`.
pub async fn page(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    let (ctx, who) = match admin_ctx(&s, &headers, q.lang.as_deref()).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let pick = q.kind.as_deref().zip(q.tl.as_deref());
    render(&s, ctx, &who, StatusCode::OK, pick, None, Said::default()).await
}

/// `POST /staff/admin/notices/{kind}/{locale}`: `action` = `save` (with
/// `subject`, `body`, `sms`) or `reset`.
pub async fn save(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path((kind, locale)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let (ctx, who) = match admin_ctx(&s, &headers, q.lang.as_deref()).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !super::csrf::verify(&headers, f.get("csrf").map(String::as_str)) {
        return ctx.error(StatusCode::FORBIDDEN, "error-forbidden");
    }
    let field = |k: &str| f.get(k).cloned().unwrap_or_default().replace("\r\n", "\n");
    let pick = Some((kind.as_str(), locale.as_str()));
    if f.get("action").map(String::as_str) == Some("reset") {
        return match s.app.delete_notice_template(&who, &kind, &locale).await {
            Ok(_) => {
                let said = Said {
                    notice: Some(ctx.tr().t("nt-reset-done")),
                    error: None,
                };
                render(&s, ctx, &who, StatusCode::OK, pick, None, said).await
            }
            Err(e) => ctx.fail(&e),
        };
    }
    let body = json!({"subject": field("subject"), "body": field("body"), "sms": field("sms")});
    match s.app.put_notice_template(&who, &kind, &locale, &body).await {
        Ok(_) => {
            let said = Said {
                notice: Some(ctx.tr().t("nt-saved")),
                error: None,
            };
            render(&s, ctx, &who, StatusCode::OK, pick, None, said).await
        }
        Err(AppError::Invalid(fields)) => {
            // Say what is wrong, keeping what was typed.
            let detail = fields
                .0
                .iter()
                .map(|(k, m)| format!("{k}: {m}"))
                .collect::<Vec<_>>()
                .join("; ");
            let typed = Editing {
                kind: kind.clone(),
                locale: locale.clone(),
                subject: field("subject"),
                body: field("body"),
                sms: field("sms"),
                customized: false,
            };
            let said = Said {
                notice: None,
                error: Some(format!("{} {detail}", ctx.tr().t("nt-refused"))),
            };
            render(
                &s,
                ctx,
                &who,
                StatusCode::UNPROCESSABLE_ENTITY,
                pick,
                Some(typed),
                said,
            )
            .await
        }
        Err(e) => ctx.fail(&e),
    }
}
