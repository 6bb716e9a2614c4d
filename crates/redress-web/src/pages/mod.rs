//! The web pages: server-side templates (askama, escaped), messages from
//! Fluent files (zh-CN by default, English by `?lang=en`, the `rd_lang`
//! cookie or Accept-Language), the binary's own CSS and JavaScript, a
//! Content-Security-Policy without inline scripts, and a CSRF token on
//! every form. The pages work without JavaScript.
//!
//! This module holds the public pages (SPEC §11): the start page with the
//! channels, the complaint form, the confirmation, the tracking look-up
//! and the complainant's tracking page with its actions.

mod actions;
mod admin;
mod case;
pub mod csrf;
mod home;
pub mod i18n;
mod insight;
mod list;
mod mail;
mod notices;
mod public;
mod reports;
mod respondent;
mod staff;
mod track;
mod transparency;
mod webhooks;

use askama::Template;
use axum::Router;
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use redress_domain::Reason;

use crate::state::AppState;
pub use i18n::Tr;

/// The largest body of a form without files: a reply or a description
/// (20,000 characters, about 180 KB URL-encoded) with the rest of its form.
pub const FORM_LIMIT: usize = 256 * 1024;
/// The largest body of a sign-in or look-up form.
pub const SMALL_FORM_LIMIT: usize = 16 * 1024;
/// The largest iCalendar import (the app refuses more than 1 MiB of file).
pub const CALENDAR_FORM_LIMIT: usize = 1024 * 1024 + 64 * 1024;

/// The pages' routes. Each route reads at most its body limit (413
/// beyond), before it looks at the session, the CSRF token or a rate
/// limit: forms `FORM_LIMIT`, sign-in and look-up forms
/// `SMALL_FORM_LIMIT`, file uploads `upload_limit` (an evidence file
/// and its form).
pub fn router(upload_limit: usize, tls: bool) -> Router<AppState> {
    use axum::extract::DefaultBodyLimit;
    use axum::routing::post;
    let upload = || DefaultBodyLimit::max(upload_drain_limit(upload_limit));
    let small = || DefaultBodyLimit::max(SMALL_FORM_LIMIT);
    Router::new()
        .route("/", get(public::index))
        .route("/transparency", get(transparency::page))
        .route(
            "/complain",
            get(public::complain_form)
                .post(public::complain)
                .layer(upload()),
        )
        .route(
            "/track",
            get(track::lookup_form).post(track::lookup).layer(small()),
        )
        .route("/track/recover", post(track::recover).layer(small()))
        .route("/track/{no}", get(track::page))
        .route(
            "/track/{no}/evidence",
            post(track::evidence).layer(upload()),
        )
        .route("/track/{no}/export", get(track::export))
        .route(
            "/track/{no}/evidence/{evidence_id}",
            get(track::evidence_file),
        )
        .route("/track/{no}/{action}", post(track::act))
        .route(
            "/respondent",
            get(respondent::key_form)
                .post(respondent::key)
                .layer(small()),
        )
        .route("/respondent/cases", get(respondent::cases))
        .route("/respondent/cases/{id}/reply", post(respondent::reply))
        .route(
            "/respondent/cases/{id}/evidence/{evidence_id}",
            get(respondent::evidence_file),
        )
        .route(
            "/respondent/cases/{id}/evidence",
            post(respondent::evidence).layer(upload()),
        )
        .route("/staff", get(home::home))
        .route(
            "/staff/login",
            get(staff::login_form).post(staff::login).layer(small()),
        )
        .route(
            "/staff/password",
            get(staff::password_form)
                .post(staff::password)
                .layer(small()),
        )
        .route("/staff/logout", post(staff::logout).layer(small()))
        .route("/staff/cases", get(list::cases))
        .route(
            "/staff/cases/bulk-assign",
            post(list::bulk_assign).layer(small()),
        )
        .route("/staff/reports", get(reports::page))
        .route("/staff/reports.csv", get(reports::csv))
        // Respondent scorecards and spike alerts (issue 16).
        .route("/staff/reports/respondents", get(insight::respondents))
        .route("/staff/alerts", get(insight::alerts))
        .route(
            "/staff/intake",
            get(public::intake_form)
                .post(public::intake)
                .layer(upload()),
        )
        .route("/staff/intake/slip", post(public::slip).layer(small()))
        .route("/staff/actions", get(actions::page))
        .route("/staff/mail", get(mail::page))
        .route("/staff/mail/{id}", get(mail::item))
        .route("/staff/mail/{id}/{action}", post(mail::act))
        .route("/staff/admin/notices", get(notices::page))
        .route("/staff/admin/notices/{kind}/{locale}", post(notices::save))
        .route("/staff/admin", get(admin::page))
        .route(
            "/staff/admin/webhooks",
            get(webhooks::page).post(webhooks::create),
        )
        .route("/staff/admin/webhooks/{id}", get(webhooks::calls))
        .route("/staff/admin/webhooks/{id}/{action}", post(webhooks::act))
        .route(
            "/staff/admin/calendar-import",
            post(admin::import).layer(DefaultBodyLimit::max(CALENDAR_FORM_LIMIT)),
        )
        .route("/staff/admin/{what}", get(admin::section).post(admin::add))
        .route("/staff/admin/{list}/{key}", get(admin::edit))
        .route("/staff/cases/{id}", get(case::page))
        .route(
            "/staff/cases/{id}/evidence",
            post(case::evidence).layer(upload()),
        )
        .route(
            "/staff/cases/{id}/evidence/{evidence_id}",
            get(case::evidence_file),
        )
        .route(
            "/staff/cases/{id}/evidence/{evidence_id}/thumbnail",
            get(case::evidence_thumbnail),
        )
        .route("/staff/cases/{id}/{action}", post(case::act))
        .route("/static/app.css", get(css))
        .route("/static/app.js", get(js))
        .layer(DefaultBodyLimit::max(FORM_LIMIT))
        // Whether the installation is served over TLS reaches the pages as
        // a request header of our own (a client's is dropped first).
        .layer(axum::middleware::map_request(
            move |mut req: axum::extract::Request| async move {
                req.headers_mut().remove(TLS_HEADER);
                if tls {
                    req.headers_mut()
                        .insert(TLS_HEADER, HeaderValue::from_static("1"));
                }
                req
            },
        ))
}

/// Set on requests to the pages when the public URL is `https://`.
pub(crate) const TLS_HEADER: &str = "x-redress-internal-tls";

const CSS: &str = include_str!("../../static/app.css");
const JS: &str = include_str!("../../static/app.js");

async fn css() -> Response {
    asset(CSS, "text/css; charset=utf-8")
}

async fn js() -> Response {
    asset(JS, "text/javascript; charset=utf-8")
}

fn asset(body: &'static str, kind: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=3600"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

/// What every page's layout needs.
pub struct Base {
    pub tr: Tr,
    /// The CSRF token of this browser, repeated in every form.
    pub csrf: String,
    /// This page's path, for the language switch.
    pub path: String,
    /// The signed-in staff member, on console pages.
    pub staff: Option<String>,
    /// The console's sections the signed-in member may use.
    pub nav: Nav,
}

/// Which sections of the console the navigation shows: those the user's
/// roles may use.
#[derive(Debug, Clone, Copy, Default)]
pub struct Nav {
    /// Queues, the case list and corrective actions (every role but admin).
    pub cases: bool,
    /// Phone and letter intake, held mail (intake).
    pub intake: bool,
    /// Reports (supervisors).
    pub reports: bool,
    /// Administration (admins; supervisors reach the webhook pages from
    /// their start page).
    pub admin: bool,
}

impl Nav {
    pub fn of(user: &redress_app::StaffUser) -> Self {
        use redress_domain::Role;
        Nav {
            cases: user.reads_cases(),
            intake: user.has(Role::Intake),
            reports: user.has(Role::Supervisor),
            admin: user.has(Role::Admin),
        }
    }
}

/// The request facts a page starts from: language, CSRF token and the
/// cookies to set with the answer.
pub struct PageCtx {
    pub base: Base,
    set_cookies: Vec<String>,
    /// Served over TLS: cookies are `Secure` and `__Host-`, and HSTS is sent.
    secure: bool,
}

impl PageCtx {
    pub fn new(headers: &HeaderMap, path: &str, query_lang: Option<&str>) -> Self {
        let locale = i18n::negotiate(query_lang, headers);
        let (token, fresh) = csrf::token(headers);
        let secure = headers.contains_key(TLS_HEADER);
        let mut set_cookies = Vec::new();
        if fresh {
            set_cookies.push(cookie_text(csrf::COOKIE, &token, None, secure));
        }
        if query_lang.is_some() {
            set_cookies.push(cookie_text(
                "rd_lang",
                locale.as_str(),
                Some(365 * 86_400),
                secure,
            ));
        }
        Self {
            base: Base {
                tr: Tr::new(locale),
                csrf: token,
                path: path.to_string(),
                staff: None,
                nav: Nav::default(),
            },
            set_cookies,
            secure,
        }
    }

    pub fn tr(&self) -> Tr {
        self.base.tr
    }

    /// Adds a cookie to set with the answer.
    pub fn set_cookie(&mut self, name: &str, value: &str, max_age: Option<i64>) {
        self.set_cookies
            .push(cookie_text(name, value, max_age, self.secure));
    }

    /// A rendered page with the security headers and the cookies.
    pub fn respond(self, status: StatusCode, page: Result<String, askama::Error>) -> Response {
        let html = match page {
            Ok(html) => html,
            Err(e) => {
                tracing::error!(error = %e, "a page did not render");
                return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
            }
        };
        let mut response = (status, html).into_response();
        let h = response.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        if self.secure {
            // Served over TLS: browsers keep to it for a year.
            h.insert(
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=31536000; includeSubDomains"),
            );
        }
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        for c in self.set_cookies {
            if let Ok(v) = HeaderValue::from_str(&c) {
                h.append(header::SET_COOKIE, v);
            }
        }
        response
    }

    /// A 303 to `to`, with the cookies.
    pub fn redirect(self, to: &str) -> Response {
        let mut response = Redirect::to(to).into_response();
        for c in self.set_cookies {
            if let Ok(v) = HeaderValue::from_str(&c) {
                response.headers_mut().append(header::SET_COOKIE, v);
            }
        }
        response
    }

    /// The error page for a refusal the page has no better answer to.
    pub fn fail(self, e: &redress_app::AppError) -> Response {
        let (status, key) = error_key(e);
        self.error(status, key)
    }

    /// An error page in the visitor's language.
    pub fn error(self, status: StatusCode, message_key: &str) -> Response {
        let tr = self.tr();
        let page = ErrorPage {
            heading: tr.t("error-title"),
            message: tr.t(message_key),
            base: &self.base,
        }
        .render();
        self.respond(status, page)
    }
}

/// Scripts and styles from this server only; no inline script, no
/// framing, forms post here only.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// Behind TLS, cookie names carry the `__Host-` prefix: the browser then
/// takes them only from this host, over TLS, for the whole site, so a
/// sibling subdomain cannot plant one (a CSRF or session fixation aid).
fn cookie_text(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> String {
    let name = if secure {
        format!("__Host-{name}")
    } else {
        name.to_string()
    };
    let mut line = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        line.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        line.push_str("; Secure");
    }
    line
}

/// A multipart form of text fields and one file, as the upload pages
/// send it (text fields first, the file last).
#[derive(Default)]
pub struct FileForm {
    pub csrf: Option<String>,
    /// The text fields the caller asked for (each at most 64 KiB).
    pub values: std::collections::HashMap<String, String>,
    /// The uploader's file name and the bytes, when a non-empty file came.
    pub file: Option<(Option<String>, Vec<u8>)>,
    /// What went wrong reading it, if anything.
    pub problem: Option<FormProblem>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormProblem {
    /// The file was larger than the limit: what came after it was read and
    /// dropped, so the browser hears the answer (SPEC §11, issue 14 item 7).
    FileTooLarge,
    /// A text field was too long.
    TooLong,
    /// The body ended early or was not a multipart form.
    Unreadable,
}

impl FileForm {
    /// The field errors to show beside the form for `problem`.
    pub fn problem_errors(&self) -> std::collections::BTreeMap<String, Reason> {
        let mut errors = std::collections::BTreeMap::new();
        match self.problem {
            Some(FormProblem::FileTooLarge) => {
                errors.insert("file".to_string(), Reason::FileTooLarge);
            }
            Some(FormProblem::TooLong) => {
                errors.insert("form".to_string(), Reason::FieldTooLong);
            }
            Some(FormProblem::Unreadable) => {
                errors.insert("file".to_string(), Reason::FormUnreadable);
            }
            None => {}
        }
        errors
    }

    /// The status an answer about `problem` carries.
    pub fn problem_status(&self) -> StatusCode {
        match self.problem {
            Some(FormProblem::FileTooLarge) => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

/// Reads a multipart upload form: `csrf`, the text fields `wanted` names,
/// and the part `file` up to `max_file` bytes. A larger file is not kept
/// but read to the end of the body (whose limit the route sets at
/// [`upload_drain_limit`]), so that the page can answer 413 with the form
/// as it was typed rather than a broken connection.
pub async fn read_file_form(
    mut form: axum::extract::Multipart,
    max_file: u64,
    wanted: &(dyn Fn(&str) -> bool + Sync),
) -> FileForm {
    let mut out = FileForm::default();
    loop {
        let mut field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                out.problem
                    .get_or_insert(if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                        FormProblem::FileTooLarge
                    } else {
                        FormProblem::Unreadable
                    });
                break;
            }
        };
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            let filename = field.file_name().map(str::to_string);
            let mut bytes = Vec::new();
            let mut dropped = false;
            loop {
                match field.chunk().await {
                    Ok(Some(chunk)) => {
                        if dropped {
                            continue;
                        }
                        if (bytes.len() + chunk.len()) as u64 > max_file {
                            dropped = true;
                            bytes = Vec::new();
                            out.problem = Some(FormProblem::FileTooLarge);
                        } else {
                            bytes.extend_from_slice(&chunk);
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        out.problem = Some(if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                            FormProblem::FileTooLarge
                        } else {
                            FormProblem::Unreadable
                        });
                        return out;
                    }
                }
            }
            if !dropped && !bytes.is_empty() && out.file.is_none() {
                out.file = Some((filename, bytes));
            }
        } else if name == "csrf" || wanted(&name) {
            match field.text().await {
                Ok(text) if text.len() <= 64 * 1024 => {
                    if name == "csrf" {
                        out.csrf = Some(text);
                    } else {
                        out.values.insert(name, text);
                    }
                }
                Ok(_) => {
                    out.problem.get_or_insert(FormProblem::TooLong);
                }
                Err(_) => {
                    out.problem.get_or_insert(FormProblem::Unreadable);
                    return out;
                }
            }
        }
    }
    out
}

/// The body limit of the pages' upload routes: room to read an oversized
/// file to its end (four times the upload limit) and answer with the form.
pub fn upload_drain_limit(upload_limit: usize) -> usize {
    upload_limit.saturating_mul(4)
}

/// The message for refused fields: a translated prefix, then each field
/// with its reason.
pub fn fields_message(tr: Tr, fields: &redress_domain::FieldErrors) -> String {
    let list: Vec<String> = fields
        .0
        .iter()
        .map(|(k, v)| format!("{}: {}", tr.field_label(k), tr.field_message(v)))
        .collect();
    format!("{}{}", tr.t("field-error"), list.join("; "))
}

/// A cookie's value from the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    // Behind TLS only the `__Host-` cookie counts: one without the prefix
    // may have been planted by a sibling subdomain.
    if headers.contains_key(TLS_HEADER) {
        lookup(headers, &format!("__Host-{name}"))
    } else {
        lookup(headers, name)
    }
}

fn lookup(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// An instant as the installation's local time, `YYYY-MM-DD HH:MM`. A
/// deadline ends at 24:00 of its last day, so local midnight is written as
/// `24:00` of the day before, the way the notices say it.
pub fn local_time(at: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    let local = at.with_timezone(&tz);
    if local.time() == chrono::NaiveTime::MIN
        && let Some(day) = local.date_naive().pred_opt()
    {
        return format!("{} 24:00", day.format("%Y-%m-%d"));
    }
    local.format("%Y-%m-%d %H:%M").to_string()
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    base: &'a Base,
    heading: String,
    message: String,
}

/// The message key an application error shows as on a page.
pub fn error_key(e: &redress_app::AppError) -> (StatusCode, &'static str) {
    use redress_app::AppError as E;
    match e {
        E::NotFound | E::Unauthorized => (StatusCode::NOT_FOUND, "error-not-found"),
        E::Forbidden(_) => (StatusCode::FORBIDDEN, "error-no-permission"),
        E::Conflict(_) => (StatusCode::CONFLICT, "error-conflict"),
        E::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "error-too-large"),
        E::RateLimited | E::Throttled(_) => (StatusCode::TOO_MANY_REQUESTS, "error-rate-limited"),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "error-server"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redress_domain::Locale;

    #[test]
    fn cookies_are_http_only_strict_and_secure_behind_tls() {
        assert_eq!(
            cookie_text("a", "b", Some(60), false),
            "a=b; Path=/; HttpOnly; SameSite=Strict; Max-Age=60"
        );
        let secure = cookie_text("a", "b", None, true);
        assert!(secure.starts_with("__Host-a=b; Path=/;"), "{secure}");
        assert!(secure.ends_with("; Secure") && !secure.contains("Domain"));
    }

    #[test]
    fn refused_fields_are_named_and_explained_in_the_page_language() {
        let mut f = redress_domain::FieldErrors::new();
        f.add("subject", redress_domain::Reason::Required);
        f.add("description", redress_domain::Reason::AtMost { n: 20000 });
        f.add("x.y", redress_domain::Reason::Year);
        let zh = fields_message(Tr::new(Locale::ZhCn), &f);
        assert!(zh.contains("事情经过: 不能超过 20000 个字符"), "{zh}");
        assert!(zh.contains("标题: 必填"), "{zh}");
        assert!(zh.contains("x.y: "), "{zh}");
        let en = fields_message(Tr::new(Locale::En), &f);
        assert!(en.contains("Subject: is required"), "{en}");
    }

    #[test]
    fn midnight_is_the_end_of_the_day_before() {
        let tz = chrono_tz::Asia::Shanghai;
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            local_time(at("2026-12-14T16:00:00Z"), tz),
            "2026-12-14 24:00"
        );
        assert_eq!(
            local_time(at("2026-12-14T03:30:00Z"), tz),
            "2026-12-14 11:30"
        );
    }

    #[test]
    fn both_languages_have_every_message() {
        let mut zh = i18n::keys(Locale::ZhCn);
        let mut en = i18n::keys(Locale::En);
        zh.sort();
        en.sort();
        assert_eq!(zh, en);
        for key in &zh {
            assert_ne!(
                Tr::new(Locale::ZhCn).t(key),
                *key,
                "{key} has no zh-CN text"
            );
            assert_ne!(
                Tr::new(Locale::En).t(key),
                *key,
                "{key} has no English text"
            );
        }
    }

    #[test]
    fn the_language_comes_from_the_query_the_cookie_then_the_browser() {
        let mut h = HeaderMap::new();
        assert_eq!(i18n::negotiate(None, &h), Locale::ZhCn);
        h.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("en-GB,en;q=0.9,zh;q=0.5"),
        );
        assert_eq!(i18n::negotiate(None, &h), Locale::En);
        h.insert(header::COOKIE, HeaderValue::from_static("rd_lang=zh-CN"));
        assert_eq!(i18n::negotiate(None, &h), Locale::ZhCn);
        assert_eq!(i18n::negotiate(Some("en"), &h), Locale::En);
    }
}
