//! The admin's notice template page (`/staff/admin/notices`): every notice
//! kind in both languages, and a form to reword one (checked before it is
//! saved) or to go back to the shipped wording. The same use cases as
//! `/api/v1/admin/notice-templates`.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use redress_app::commands::NoticeTemplateCommand;
use redress_app::{AppError, Principal};
use serde::Deserialize;

use super::{Base, PageCtx};
use crate::state::AppState;

struct Row {
    kind: String,
    /// The notice's name in the page's language.
    kind_label: String,
    locale: String,
    locale_label: String,
    customized: bool,
}

struct Editing {
    kind: String,
    kind_label: String,
    locale: String,
    locale_label: String,
    subject: String,
    body: String,
    sms: String,
    customized: bool,
    /// The wording rendered on a made-up sample case (subject, mail text,
    /// SMS), when it renders.
    preview: Option<[String; 3]>,
}

impl Editing {
    fn with_preview(mut self) -> Self {
        let t = redress_app::outbound::NoticeTemplate {
            subject: self.subject.clone(),
            body: self.body.clone(),
            sms: self.sms.clone(),
        };
        let locale = self
            .locale
            .parse::<redress_domain::Locale>()
            .unwrap_or(redress_domain::Locale::ZhCn);
        self.preview = redress_app::outbound::Notices::preview(&t, locale).ok();
        self
    }
}

/// A notice kind's name in the page's language.
fn kind_label(tr: super::Tr, kind: &str) -> String {
    let key = format!("nk-{kind}");
    let label = tr.t(&key);
    if label == key {
        kind.to_string()
    } else {
        label
    }
}

fn locale_label(tr: super::Tr, locale: &str) -> String {
    tr.t(&format!("locale-{locale}"))
}

#[derive(Template)]
#[template(path = "staff_notices.html")]
struct NoticesPage<'a> {
    base: &'a Base,
    section: &'static str,
    nav: &'static [(&'static str, &'static str)],
    rows: Vec<Row>,
    editing: Option<Editing>,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
    kind: Option<String>,
    tl: Option<String>,
    /// What the redirect after a change says: `saved` or `reset`.
    done: Option<String>,
}

async fn admin_ctx(
    s: &AppState,
    headers: &HeaderMap,
    lang: Option<&str>,
) -> Result<(PageCtx, Principal), Response> {
    super::admin::admin_ctx(s, headers, "/staff/admin/notices", lang).await
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
    let tr = ctx.tr();
    let items = list.items;
    let rows = items
        .iter()
        .map(|i| Row {
            kind: i.kind.as_str().to_string(),
            kind_label: kind_label(tr, i.kind.as_str()),
            locale: i.locale.as_str().to_string(),
            locale_label: locale_label(tr, i.locale.as_str()),
            customized: i.customized,
        })
        .collect();
    let editing = typed.or_else(|| {
        let (kind, locale) = pick?;
        let i = items
            .iter()
            .find(|i| i.kind.as_str() == kind && i.locale.as_str() == locale)?;
        Some(
            Editing {
                kind: i.kind.as_str().to_string(),
                kind_label: kind_label(tr, i.kind.as_str()),
                locale: i.locale.as_str().to_string(),
                locale_label: locale_label(tr, i.locale.as_str()),
                subject: i.subject.clone(),
                body: i.body.clone(),
                sms: i.sms.clone(),
                customized: i.customized,
                preview: None,
            }
            .with_preview(),
        )
    });
    let page = NoticesPage {
        base: &ctx.base,
        section: "notices",
        nav: super::admin::NAV,
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
    let said = Said {
        notice: match q.done.as_deref() {
            Some("saved") => Some(ctx.tr().t("nt-saved")),
            Some("reset") => Some(ctx.tr().t("nt-reset-done")),
            _ => None,
        },
        error: None,
    };
    render(&s, ctx, &who, StatusCode::OK, pick, None, said).await
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
            Ok(_) => ctx.redirect(&format!(
                "/staff/admin/notices?kind={kind}&tl={locale}&done=reset"
            )),
            Err(e) => ctx.fail(&e),
        };
    }
    // The template the path names, then the form (as the call checks them).
    let command = redress_app::App::template_key(&kind, &locale).and_then(|_| {
        NoticeTemplateCommand::from_form(&field("subject"), &field("body"), &field("sms"))
    });
    let put = match command {
        Ok(c) => s.app.put_notice_template(&who, &kind, &locale, &c).await,
        Err(e) => Err(e),
    };
    match put {
        Ok(_) => ctx.redirect(&format!(
            "/staff/admin/notices?kind={kind}&tl={locale}&done=saved"
        )),
        Err(AppError::Invalid(fields)) => {
            // Say what is wrong, keeping what was typed.
            let detail = super::fields_message(ctx.tr(), &fields);
            let tr = ctx.tr();
            let typed = Editing {
                kind_label: kind_label(tr, &kind),
                kind: kind.clone(),
                locale_label: locale_label(tr, &locale),
                locale: locale.clone(),
                subject: field("subject"),
                body: field("body"),
                sms: field("sms"),
                customized: false,
                preview: None,
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
