//! The admin page: departments, categories, users, canned replies,
//! respondents (portal keys), API keys and the calendar, each listed with
//! a form to add one. Keys are shown once, right after they are made.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Datelike;
use redress_app::{AppError, Principal};
use serde_json::{Value, json};

use super::public::LangQuery;
use super::{Base, PageCtx};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "staff_admin.html")]
struct AdminPage<'a> {
    base: &'a Base,
    departments: Vec<(String, String, String)>,
    categories: Vec<(String, String, String, String)>,
    users: Vec<(String, String, String, String)>,
    canned: Vec<CannedRow>,
    days: Vec<(String, String, String)>,
    year: i32,
    /// Respondent accounts: id, kind, their id, name, key state.
    respondents: Vec<(String, String, String, String, String)>,
    /// API keys: id, name, scopes, key state (revoked keys last).
    api_keys: Vec<(String, String, String, String)>,
    /// Years the calendar should have and does not.
    missing_years: Vec<String>,
    /// The calendar feed's URL, and its last fetch in words.
    feed_url: Option<String>,
    feed_last: String,
    /// The published channels' form: as stored, or as typed when refused.
    channels: ChannelsForm,
    shown_key: Option<String>,
    notice: Option<String>,
    error: Option<String>,
}

/// A canned reply as the admin page lists it.
struct CannedRow {
    id: String,
    title: String,
    /// `zh-CN`, `en`, or empty for any language.
    locale: String,
    /// The language's name, or "any".
    language: String,
    body: String,
}

/// The published channels' form (公示渠道).
#[derive(Default, Clone)]
struct ChannelsForm {
    hotline: String,
    hotline_hours: String,
    mailbox: String,
    postal_address: String,
    visiting_address: String,
    /// Every channel with whether it is switched on.
    enabled: Vec<(&'static str, bool)>,
}

impl ChannelsForm {
    fn stored(p: &redress_app::channels::PublishedChannels) -> Self {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        Self {
            hotline: text(&p.hotline),
            hotline_hours: text(&p.hotline_hours),
            mailbox: text(&p.mailbox),
            postal_address: text(&p.postal_address),
            visiting_address: text(&p.visiting_address),
            enabled: redress_domain::Channel::ALL
                .iter()
                .map(|c| (c.as_str(), p.is_enabled(*c)))
                .collect(),
        }
    }

    fn typed(f: &HashMap<String, String>) -> Self {
        let text = |k: &str| f.get(k).cloned().unwrap_or_default();
        Self {
            hotline: text("hotline"),
            hotline_hours: text("hotline_hours"),
            mailbox: text("mailbox"),
            postal_address: text("postal_address"),
            visiting_address: text("visiting_address"),
            enabled: redress_domain::Channel::ALL
                .iter()
                .map(|c| {
                    (
                        c.as_str(),
                        f.contains_key(&format!("enabled.{}", c.as_str())),
                    )
                })
                .collect(),
        }
    }

    fn body(&self) -> Value {
        json!({
            "hotline": self.hotline,
            "hotline_hours": self.hotline_hours,
            "mailbox": self.mailbox,
            "postal_address": self.postal_address,
            "visiting_address": self.visiting_address,
            "enabled": self.enabled.iter().filter(|(_, on)| *on).map(|(c, _)| *c).collect::<Vec<_>>(),
        })
    }
}

/// What an admin page says besides its lists.
#[derive(Default)]
struct Said {
    /// The channels' form as typed, when it was refused.
    channels: Option<ChannelsForm>,
    shown_key: Option<String>,
    notice: Option<String>,
    error: Option<String>,
}

async fn render(s: &AppState, ctx: PageCtx, status: StatusCode, said: Said) -> Response {
    let store = &s.app.store;
    let departments = store
        .list_departments()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|d| (d.code, d.name, d.head.unwrap_or_default()))
        .collect();
    let categories = store
        .list_categories()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|c| {
            let days = [
                c.handling_days,
                c.appeal_days,
                c.review_days,
                c.respondent_reply_days,
            ]
            .map(|d| d.map_or("—".to_string(), |d| d.to_string()))
            .join(" / ");
            (c.code, c.name, c.department, days)
        })
        .collect();
    let users = store
        .list_users()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|u| {
            let roles = u
                .roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            (
                u.username,
                roles,
                u.departments.join(", "),
                u.level.to_string(),
            )
        })
        .collect();
    let tr = ctx.tr();
    let canned = store
        .list_canned_replies()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|r| {
            let locale = r.locale.map(|l| l.as_str().to_string()).unwrap_or_default();
            CannedRow {
                id: r.id.to_string(),
                title: r.title,
                language: if locale.is_empty() {
                    tr.t("locale-any")
                } else {
                    tr.t(&format!("locale-{locale}"))
                },
                locale,
                body: r.body,
            }
        })
        .collect();
    let year = s.app.calendar().local_date(s.app.now()).year();
    let days = s
        .app
        .calendar()
        .exceptions_in_year(year)
        .into_iter()
        .map(|d| {
            let kind = match d.kind {
                redress_domain::calendar::DayKind::Holiday => "holiday",
                redress_domain::calendar::DayKind::Workday => "workday",
            };
            (
                d.date.to_string(),
                ctx.tr().t(&format!("day-{kind}")),
                d.name,
            )
        })
        .collect();
    let now = s.app.now();
    let tz = s.app.config.time_zone;
    let state = |revoked: bool, expires: Option<chrono::DateTime<chrono::Utc>>| {
        if revoked {
            tr.t("a-key-revoked")
        } else if expires.is_some_and(|e| e <= now) {
            tr.t("a-key-expired")
        } else if let Some(e) = expires {
            tr.with("a-key-until", &[("at", super::local_time(e, tz).as_str())])
        } else {
            tr.t("a-key-active")
        }
    };
    let respondents = store
        .export_respondents()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|r| {
            (
                r.id.to_string(),
                tr.t(&format!("rk-{}", r.kind.as_str())),
                r.external_id,
                r.name,
                state(r.key_revoked, r.key_expires_at),
            )
        })
        .collect();
    let mut keys = store.export_api_keys().await.unwrap_or_default();
    keys.sort_by_key(|k| k.revoked);
    let api_keys = keys
        .into_iter()
        .map(|k| {
            let scopes = k
                .scopes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            (
                k.id.to_string(),
                k.name,
                scopes,
                state(k.revoked, k.expires_at),
            )
        })
        .collect();
    let feed = store.get_calendar_feed().await.ok().flatten();
    let feed_last = match &feed {
        Some(f) => match (f.fetched_at, f.outcome.as_deref()) {
            (Some(at), Some(outcome)) => {
                let o: Value = serde_json::from_str(outcome).unwrap_or(Value::Null);
                tr.with(
                    "a-feed-last",
                    &[
                        ("at", super::local_time(at, tz).as_str()),
                        ("outcome", feed_outcome(tr, &o).as_str()),
                    ],
                )
            }
            _ => tr.t("a-feed-never"),
        },
        None => String::new(),
    };
    let page = AdminPage {
        base: &ctx.base,
        departments,
        categories,
        users,
        canned,
        days,
        year,
        respondents,
        api_keys,
        missing_years: s
            .app
            .calendar_warnings()
            .iter()
            .filter_map(|w| w["year"].as_i64())
            .map(|y| y.to_string())
            .collect(),
        feed_url: feed.map(|f| f.url),
        feed_last,
        channels: match said.channels {
            Some(typed) => typed,
            None => ChannelsForm::stored(&s.app.published_channels().await.unwrap_or_default()),
        },
        shown_key: said.shown_key,
        notice: said.notice,
        error: said.error,
    }
    .render();
    ctx.respond(status, page)
}

/// A feed fetch's outcome in words.
fn feed_outcome(tr: super::Tr, o: &Value) -> String {
    let n = |k: &str| match &o[k] {
        Value::Array(a) => a.len().to_string(),
        v => v.as_u64().unwrap_or(0).to_string(),
    };
    match o["status"].as_str().unwrap_or("failed") {
        "changed" => tr.with(
            "feed-changed",
            &[
                ("added", &n("added")),
                ("changed", &n("changed")),
                ("removed", &n("removed")),
                ("kept", &n("kept_manual")),
                ("moved", &n("recomputed")),
            ],
        ),
        "unchanged" => tr.with(
            "feed-unchanged",
            &[("holidays", &n("holidays")), ("workdays", &n("workdays"))],
        ),
        "not_modified" => tr.t("feed-not_modified"),
        _ => tr.with("feed-failed", &[("error", &feed_error(tr, o))]),
    }
}

/// Why a feed fetch failed, in the page's language: the outcome keeps the
/// reason's message key and arguments beside its English sentence (older
/// outcomes have the sentence only).
fn feed_error(tr: super::Tr, o: &Value) -> String {
    match o["reason"]["key"].as_str() {
        Some(key) => {
            let args: Vec<(String, String)> = o["reason"]["args"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                        .collect()
                })
                .unwrap_or_default();
            let args: Vec<(&str, &str)> =
                args.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            tr.with(key, &args)
        }
        None => o["error"].as_str().unwrap_or_default().to_string(),
    }
}

/// The admin page again with the refused fields named, or the error page.
async fn refused(s: &AppState, ctx: PageCtx, e: AppError) -> Response {
    refused_with(s, ctx, e, None).await
}

/// [`refused`], keeping the channels' form as typed.
async fn refused_with(
    s: &AppState,
    ctx: PageCtx,
    e: AppError,
    channels: Option<ChannelsForm>,
) -> Response {
    match e {
        AppError::Invalid(fields) => {
            let said = Said {
                error: Some(super::fields_message(ctx.tr(), &fields)),
                channels,
                ..Said::default()
            };
            render(s, ctx, StatusCode::UNPROCESSABLE_ENTITY, said).await
        }
        e => ctx.fail(&e),
    }
}

async fn admin_ctx(
    s: &AppState,
    headers: &HeaderMap,
    lang: Option<&str>,
) -> Result<(PageCtx, Principal), Response> {
    let (ctx, who) = super::staff::staff_ctx(s, headers, "/staff/admin", lang).await?;
    let is_admin = who
        .staff()
        .is_ok_and(|u| u.has(redress_domain::Role::Admin));
    if is_admin {
        Ok((ctx, who))
    } else {
        Err(ctx.error(StatusCode::FORBIDDEN, "error-no-permission"))
    }
}

pub async fn page(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    match admin_ctx(&s, &headers, q.lang.as_deref()).await {
        Ok((ctx, _)) => render(&s, ctx, StatusCode::OK, Said::default()).await,
        Err(r) => r,
    }
}

fn list(v: Option<&String>) -> Vec<String> {
    v.map(|t| {
        t.split([',', '，', ' '])
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(String::from)
            .collect()
    })
    .unwrap_or_default()
}

/// `POST /staff/admin/{what}`: adds one thing.
pub async fn add(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(what): Path<String>,
    Query(q): Query<LangQuery>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let (ctx, who) = match admin_ctx(&s, &headers, q.lang.as_deref()).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !super::csrf::verify(&headers, f.get("csrf").map(String::as_str)) {
        return ctx.error(StatusCode::FORBIDDEN, "error-forbidden");
    }
    let get = |k: &str| f.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let num = |k: &str| get(k).and_then(|v| v.parse::<i64>().ok());
    let app = &s.app;
    let result: Result<Value, AppError> = match what.as_str() {
        "department" => {
            app.create_department(
                &who,
                &json!({"code": get("code"), "name": get("name"), "head": get("head"),
                        "review": get("review").is_some()}),
            )
            .await
        }
        "category" => {
            app.create_category(
                &who,
                &json!({"code": get("code"), "name": get("name"), "name_en": get("name_en"),
                        "department": get("department"), "handling_days": num("handling_days"),
                        "appeal_days": num("appeal_days"), "review_days": num("review_days"),
                        "respondent_reply_days": num("respondent_reply_days")}),
            )
            .await
        }
        "user" => {
            app.create_user(
                &who,
                &json!({"username": get("username"), "password": get("password"),
                        "display_name": get("display_name"), "roles": list(f.get("roles")),
                        "departments": list(f.get("departments")), "level": num("level").unwrap_or(1),
                        "email": get("email")}),
            )
            .await
        }
        "user-edit" => {
            let username = get("username").unwrap_or_default().to_string();
            let mut patch = serde_json::Map::new();
            if get("roles").is_some() {
                patch.insert("roles".into(), json!(list(f.get("roles"))));
            }
            if f.contains_key("departments") {
                patch.insert("departments".into(), json!(list(f.get("departments"))));
            }
            if let Some(level) = num("level") {
                patch.insert("level".into(), json!(level));
            }
            if let Some(password) = get("password") {
                patch.insert("password".into(), json!(password));
            }
            if let Some(email) = get("email") {
                patch.insert("email".into(), json!(email));
            }
            patch.insert("active".into(), json!(get("active").is_some()));
            app.update_user(&who, &username, &Value::Object(patch)).await
        }
        "category-edit" => {
            let code = get("code").unwrap_or_default().to_string();
            let mut patch = serde_json::Map::new();
            for key in [
                "handling_days",
                "appeal_days",
                "review_days",
                "respondent_reply_days",
            ] {
                if f.contains_key(key) {
                    patch.insert(key.into(), json!(num(key)));
                }
            }
            if let Some(d) = get("department") {
                patch.insert("department".into(), json!(d));
            }
            app.update_category(&who, &code, &Value::Object(patch)).await
        }
        "canned-reply" => {
            app.create_canned_reply(
                &who,
                &json!({"title": get("title"), "body": get("body"), "locale": get("locale")}),
            )
            .await
        }
        "canned-reply-edit" => {
            let id = get("id").unwrap_or_default().to_string();
            app.update_canned_reply(
                &who,
                &id,
                &json!({"title": get("title").unwrap_or_default(),
                        "body": get("body").unwrap_or_default(), "locale": get("locale")}),
            )
            .await
        }
        "canned-reply-delete" => {
            let id = get("id").unwrap_or_default().to_string();
            app.delete_canned_reply(&who, &id).await.map(|()| Value::Null)
        }
        "respondent" => {
            app.create_respondent(
                &who,
                &json!({"kind": get("kind"), "id": get("id"), "name": get("name"),
                        "email": get("email")}),
            )
            .await
        }
        // Keys: a new portal key (shown once), or a revocation, which the
        // form confirms with a checkbox.
        "respondent-key" | "respondent-key-revoke" | "api-key-revoke" => {
            let Some(id) = get("id").and_then(|id| uuid::Uuid::parse_str(id).ok()) else {
                return ctx.error(StatusCode::NOT_FOUND, "error-not-found");
            };
            if what != "respondent-key" && get("confirm").is_none() {
                let said = Said {
                    error: Some(ctx.tr().t("a-confirm-needed")),
                    ..Said::default()
                };
                return render(&s, ctx, StatusCode::UNPROCESSABLE_ENTITY, said).await;
            }
            let done = match what.as_str() {
                "respondent-key" => app.issue_respondent_key(&who, id, &json!({})).await,
                "respondent-key-revoke" => app.revoke_respondent_key(&who, id).await,
                _ => app.revoke_api_key(&who, id).await,
            };
            match done {
                Ok(v) => {
                    let said = Said {
                        shown_key: v["api_key"].as_str().map(str::to_string),
                        notice: (what != "respondent-key").then(|| ctx.tr().t("a-key-revoked-done")),
                        ..Said::default()
                    };
                    return render(&s, ctx, StatusCode::OK, said).await;
                }
                Err(e) => return refused(&s, ctx, e).await,
            }
        }
        "api-key" => {
            app.create_api_key(
                &who,
                &json!({"name": get("name"), "scopes": list(f.get("scopes"))}),
            )
            .await
        }
        "calendar" => {
            let date = get("date").unwrap_or_default().to_string();
            app.set_calendar_day(
                &who,
                &date,
                &json!({"kind": get("kind"), "name": get("name")}),
            )
            .await
        }
        // The published channels: saved whole; refused, the form keeps
        // what was typed.
        "channels" => {
            let typed = ChannelsForm::typed(&f);
            return match app.set_channel_settings(&who, &typed.body()).await {
                Ok(_) => {
                    let said = Said {
                        notice: Some(ctx.tr().t("a-channels-saved")),
                        ..Said::default()
                    };
                    render(&s, ctx, StatusCode::OK, said).await
                }
                Err(e) => refused_with(&s, ctx, e, Some(typed)).await,
            };
        }
        // The calendar feed: subscribe, unsubscribe, fetch now; each
        // answers with the page and a notice of what happened.
        "calendar-feed" | "calendar-feed-remove" | "calendar-feed-fetch" => {
            let done = match what.as_str() {
                "calendar-feed" => app
                    .set_calendar_feed(&who, &json!({"url": get("url")}))
                    .await
                    .map(|_| ctx.tr().t("a-feed-saved")),
                "calendar-feed-remove" => app
                    .remove_calendar_feed(&who)
                    .await
                    .map(|()| ctx.tr().t("a-feed-removed")),
                _ => app
                    .fetch_calendar_feed_now(&who)
                    .await
                    .map(|o| feed_outcome(ctx.tr(), &o)),
            };
            return match done {
                Ok(note) => {
                    let said = Said {
                        notice: Some(note),
                        ..Said::default()
                    };
                    render(&s, ctx, StatusCode::OK, said).await
                }
                Err(e) => refused(&s, ctx, e).await,
            };
        }
        _ => return ctx.error(StatusCode::NOT_FOUND, "error-not-found"),
    };
    match result {
        Ok(v) => {
            let key = v["api_key"].as_str().map(str::to_string);
            let said = Said {
                shown_key: key,
                ..Said::default()
            };
            render(&s, ctx, StatusCode::OK, said).await
        }
        Err(e) => refused(&s, ctx, e).await,
    }
}

/// `POST /staff/admin/calendar-import`: an iCalendar file of holidays and
/// make-up working days.
pub async fn import(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    form: axum::extract::Multipart,
) -> Response {
    let (ctx, who) = match admin_ctx(&s, &headers, q.lang.as_deref()).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let sent = super::read_file_form(form, 1024 * 1024, &|_| false).await;
    if sent.problem.is_some() {
        return ctx.error(StatusCode::PAYLOAD_TOO_LARGE, "error-too-large");
    }
    if !super::csrf::verify(&headers, sent.csrf.as_deref()) {
        return ctx.error(StatusCode::FORBIDDEN, "error-forbidden");
    }
    let bytes = sent.file.map(|(_, b)| b).unwrap_or_default();
    if bytes.len() > 1024 * 1024 {
        return ctx.error(StatusCode::PAYLOAD_TOO_LARGE, "error-too-large");
    }
    match s.app.import_calendar(&who, &bytes).await {
        Ok(v) => {
            let tr = ctx.tr();
            let note = tr.with(
                "admin-imported",
                &[
                    ("days", &v["imported"].to_string()),
                    ("holidays", &v["holidays"].to_string()),
                    ("workdays", &v["workdays"].to_string()),
                    (
                        "skipped",
                        &v["skipped"].as_array().map_or(0, Vec::len).to_string(),
                    ),
                    ("moved", &v["recomputed"].to_string()),
                ],
            );
            let said = Said {
                notice: Some(note),
                ..Said::default()
            };
            render(&s, ctx, StatusCode::OK, said).await
        }
        Err(e) => refused(&s, ctx, e).await,
    }
}
