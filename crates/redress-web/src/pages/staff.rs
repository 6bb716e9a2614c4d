//! Signing in to the staff console: login and logout (a session cookie
//! renewed at each login, logout by POST), the forced password change, and
//! [`staff_ctx`], which every staff page starts with. The console's pages
//! are `home` (the queues), `list` (the case list) and `case` (the case
//! page with the actions of SPEC §3 as forms); every action goes through
//! the same use case as the API.

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use redress_app::commands::{ChangePasswordCommand, LoginCommand};
use redress_app::{AppError, Principal};
use serde::Deserialize;

use super::public::LangQuery;
use super::{Base, PageCtx, cookie};
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
