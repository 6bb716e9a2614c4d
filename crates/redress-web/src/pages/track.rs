//! The complainant's pages: the look-up by tracking number and access
//! code, and the tracking page with the actions open to them now. The
//! code lives in an HttpOnly cookie once given, never in a URL.

use askama::Template;
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use redress_app::AppError;
use redress_app::commands::{
    AppealCommand, FeedbackCommand, PartyMessageCommand, RecoverCodeCommand, SupplementCommand,
    WithdrawCommand,
};
use redress_domain::Reason;
use redress_domain::{Audience, Case, Status};
use serde::Deserialize;

use super::public::LangQuery;
use super::{Base, PageCtx, Tr, cookie, local_time};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "track_lookup.html")]
struct LookupPage<'a> {
    base: &'a Base,
    tracking_no: String,
    failed: bool,
    /// A lost code was asked for (the same words whatever matched).
    recovered: bool,
}

#[derive(Debug, Deserialize)]
pub struct RecoverForm {
    csrf: Option<String>,
    tracking_no: Option<String>,
    contact: Option<String>,
}

/// `POST /track/recover`: the "lost your code?" form; the same page
/// whether or not the contact matched (`App::recover_code`).
pub async fn recover(
    State(s): State<AppState>,
    headers: HeaderMap,
    crate::extract::ClientIp(ip): crate::extract::ClientIp,
    Query(q): Query<LookupQuery>,
    Form(f): Form<RecoverForm>,
) -> Response {
    let ctx = PageCtx::new(&headers, "/track", q.lang.as_deref());
    if !super::csrf::verify(&headers, f.csrf.as_deref()) {
        return ctx.error(StatusCode::FORBIDDEN, "error-forbidden");
    }
    let no = f.tracking_no.unwrap_or_default().trim().to_string();
    let recovered = match RecoverCodeCommand::from_form(&no, &f.contact.unwrap_or_default()) {
        Ok(c) => s.app.recover_code(&c, ip).await,
        Err(e) => Err(e),
    };
    match recovered {
        Ok(()) => {
            let page = LookupPage {
                base: &ctx.base,
                tracking_no: no,
                failed: false,
                recovered: true,
            }
            .render();
            ctx.respond(StatusCode::OK, page)
        }
        Err(e) => ctx.fail(&e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct LookupQuery {
    pub lang: Option<String>,
    pub no: Option<String>,
}

pub async fn lookup_form(headers: HeaderMap, Query(q): Query<LookupQuery>) -> Response {
    let ctx = PageCtx::new(&headers, "/track", q.lang.as_deref());
    let page = LookupPage {
        base: &ctx.base,
        tracking_no: q.no.unwrap_or_default(),
        failed: false,
        recovered: false,
    }
    .render();
    ctx.respond(StatusCode::OK, page)
}

#[derive(Debug, Deserialize)]
pub struct LookupForm {
    csrf: Option<String>,
    tracking_no: Option<String>,
    access_token: Option<String>,
}

/// `POST /track`: checks the number and code (one answer for either being
/// wrong), keeps the code in a cookie and shows the case.
pub async fn lookup(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    Form(f): Form<LookupForm>,
) -> Response {
    let mut ctx = PageCtx::new(&headers, "/track", q.lang.as_deref());
    if !super::csrf::verify(&headers, f.csrf.as_deref()) {
        return ctx.error(StatusCode::FORBIDDEN, "error-forbidden");
    }
    let no = f.tracking_no.unwrap_or_default().trim().to_string();
    let token = f.access_token.unwrap_or_default().trim().to_string();
    // A code as typed ("7kq4 9xmt 2prd") is kept in its printed form: a
    // cookie value holds no spaces.
    let token = redress_app::codes::normalize(&token)
        .map(|plain| redress_app::codes::group(&plain))
        .unwrap_or(token);
    match s.app.track_case(&no, Some(&token)).await {
        Ok(_) => {
            ctx.set_cookie("rd_track", &format!("{no}:{token}"), Some(30 * 86_400));
            ctx.redirect(&format!("/track/{no}"))
        }
        Err(AppError::Unauthorized | AppError::NotFound) => {
            let page = LookupPage {
                base: &ctx.base,
                tracking_no: no,
                failed: true,
                recovered: false,
            }
            .render();
            ctx.respond(StatusCode::UNAUTHORIZED, page)
        }
        Err(e) => ctx.fail(&e),
    }
}

/// The access code this browser holds for `no`.
fn held_token(headers: &HeaderMap, no: &str) -> Option<String> {
    let value = cookie(headers, "rd_track")?;
    let (held_no, token) = value.split_once(':')?;
    (held_no == no).then(|| token.to_string())
}

struct Message {
    author: String,
    from_class: &'static str,
    body: String,
    at: String,
}

struct Outcome {
    outcome: String,
    reply: String,
    basis: Vec<String>,
    /// What was ordered for the complainant, one line each.
    remedies: Vec<String>,
}

/// A file of the case the complainant may open.
pub(super) struct FileRow {
    pub id: String,
    pub name: String,
    pub at: String,
    pub size: String,
    /// Sent by the person looking (else shared with them by staff).
    pub own: bool,
}

/// A file's size in words people read: bytes, KB or MB.
pub(super) fn size_text(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.0} KB", b as f64 / 1024.0),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

/// What the tracking page shows, in the visitor's words and time zone.
struct TrackView {
    tracking_no: String,
    status: &'static str,
    status_text: String,
    status_help: String,
    running_due: Option<String>,
    /// A deadline ahead reaches into a year without holiday data.
    provisional: bool,
    subject: String,
    description: String,
    created_at: String,
    deadlines: Vec<(String, String)>,
    info_request: Option<Vec<String>>,
    decision: Option<Outcome>,
    review: Option<Outcome>,
    rejection: Option<(String, String)>,
    outside_remedies: String,
    messages: Vec<Message>,
    files: Vec<FileRow>,
    /// The appeal as sent: when and why.
    appeal: Option<(String, String)>,
    /// The rating given: score, comment.
    feedback: Option<(u8, String)>,
    /// Files were sent since material was requested: the supplement's
    /// message is optional.
    files_since_request: bool,
    can_supplement: bool,
    can_message: bool,
    can_evidence: bool,
    can_appeal: bool,
    can_feedback: bool,
    can_withdraw: bool,
    appeal_until: String,
}

fn view(case: &Case, tr: Tr, s: &AppState) -> TrackView {
    let tz = s.app.config.time_zone;
    let now = s.app.now();
    let at = |t| local_time(t, tz);
    let status_text = match (case.status, case.closure) {
        (Status::Closed, Some(c)) => format!(
            "{} — {}",
            tr.t("status-closed"),
            tr.t(&format!("closure-{c}"))
        ),
        (st, _) => tr.t(&format!("status-{st}")),
    };
    let d = &case.deadlines;
    let deadlines = [
        ("dl-acceptance", d.acceptance_due_at),
        ("dl-supplement", d.supplement_due_at),
        ("dl-handling", d.handling_due_at),
        ("dl-appeal", d.appeal_due_at),
        ("dl-review", d.review_due_at),
    ]
    .into_iter()
    .filter_map(|(k, t)| t.map(|t| (tr.t(k), at(t))))
    .collect();
    let calendar = s.app.calendar();
    let provisional = !case.is_sealed()
        && case
            .clock
            .as_ref()
            .is_some_and(|c| c.is_provisional(&calendar, now));
    let running_due = match case.clock.as_ref().filter(|_| !case.is_sealed()) {
        Some(c) => match &c.paused {
            Some(p) => Some(tr.with("track-paused", &[("reason", &p.reason)])),
            None => Some(tr.with("track-due", &[("due", &at(c.due_at))])),
        },
        None => None,
    };
    let messages = case
        .messages
        .iter()
        .filter(|m| m.audience == Audience::Complainant)
        .map(|m| {
            let (key, class) = match m.author.kind {
                redress_domain::ActorKind::Complainant => ("track-author-you", "you"),
                redress_domain::ActorKind::Respondent => ("track-author-respondent", "respondent"),
                _ => ("track-author-staff", "staff"),
            };
            Message {
                author: tr.t(key),
                from_class: class,
                body: m.body.clone(),
                at: at(m.at),
            }
        })
        .collect();
    let actions = redress_app::views::complainant_actions(case, now);
    let remedies = match case.locale {
        redress_domain::Locale::En => &s.app.config.outside_remedies_en,
        redress_domain::Locale::ZhCn => &s.app.config.outside_remedies_zh,
    };
    TrackView {
        tracking_no: case.tracking_no.clone(),
        status: case.status.as_str(),
        status_text,
        status_help: tr.t(&format!("help-{}", case.status)),
        running_due,
        provisional,
        subject: case.record.subject.clone(),
        description: case.record.description.clone(),
        created_at: at(case.created_at),
        deadlines,
        info_request: case
            .info_request
            .as_ref()
            .filter(|_| case.status == Status::NeedsInfo)
            .map(|r| r.items.clone()),
        decision: case.decision.as_ref().map(|d| Outcome {
            outcome: tr.t(&format!("outcome-{}", d.outcome)),
            reply: d.reply.clone(),
            basis: d.basis.clone(),
            remedies: d
                .remedies
                .iter()
                .map(redress_domain::Measure::line)
                .collect(),
        }),
        review: case.review.as_ref().map(|r| Outcome {
            outcome: match r.outcome {
                Some(o) => format!(
                    "{} — {}",
                    tr.t(&format!("review-{}", r.result)),
                    tr.t(&format!("outcome-{o}"))
                ),
                None => tr.t(&format!("review-{}", r.result)),
            },
            reply: r.reply.clone(),
            basis: r.basis.clone(),
            remedies: r
                .remedies
                .iter()
                .map(redress_domain::Measure::line)
                .collect(),
        }),
        rejection: case
            .rejection
            .as_ref()
            .map(|r| (r.reason.clone(), r.guidance.clone())),
        outside_remedies: remedies.clone(),
        messages,
        files: case
            .evidence
            .iter()
            .filter(|e| e.visible_to(redress_domain::Party::Complainant))
            .map(|e| FileRow {
                id: e.id.clone(),
                name: e.filename.clone(),
                at: at(e.at),
                size: size_text(e.size),
                own: e.uploaded_by.kind == redress_domain::ActorKind::Complainant,
            })
            .collect(),
        appeal: case.appeal.as_ref().map(|a| (at(a.at), a.reason.clone())),
        feedback: case
            .feedback
            .as_ref()
            .map(|f| (f.score, f.comment.clone().unwrap_or_default())),
        files_since_request: case.files_sent_since_request(),
        can_supplement: actions.supplement,
        can_message: actions.message,
        can_evidence: actions.evidence,
        can_appeal: actions.appeal,
        can_feedback: actions.feedback,
        can_withdraw: actions.withdraw,
        appeal_until: d
            .appeal_due_at
            .map(|t| tr.with("track-appeal-until", &[("due", &at(t))]))
            .unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "track.html")]
struct TrackPage<'a> {
    base: &'a Base,
    v: TrackView,
    /// The largest file the evidence form takes (checked in the browser).
    max_file: u64,
    notice: Option<String>,
    error: Option<String>,
}

fn render(
    ctx: PageCtx,
    s: &AppState,
    case: &Case,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let page = TrackPage {
        base: &ctx.base,
        v: view(case, ctx.tr(), s),
        max_file: s.app.evidence.max_bytes,
        notice,
        error,
    }
    .render();
    ctx.respond(status, page)
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub lang: Option<String>,
    /// What the action before the redirect did, to confirm it.
    pub done: Option<String>,
}

/// The actions a page confirms after its redirect (`?done=`).
const CONFIRMED: &[&str] = &[
    "message",
    "supplement",
    "evidence",
    "appeal",
    "withdraw",
    "feedback",
];

pub async fn page(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(no): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let ctx = PageCtx::new(&headers, &format!("/track/{no}"), q.lang.as_deref());
    let Some(token) = held_token(&headers, &no) else {
        return ctx.redirect(&format!("/track?no={}", url_safe(&no)));
    };
    let notice = q
        .done
        .as_deref()
        .filter(|d| CONFIRMED.contains(d))
        .map(|d| ctx.tr().t(&format!("track-done-{d}")));
    match s.app.track_case(&no, Some(&token)).await {
        Ok(loaded) => render(ctx, &s, &loaded.case, StatusCode::OK, notice, None),
        Err(AppError::Unauthorized | AppError::NotFound) => {
            ctx.redirect(&format!("/track?no={}", url_safe(&no)))
        }
        Err(e) => ctx.fail(&e),
    }
}

/// `GET /track/{no}/export`: the complainant's own data as a ZIP, with
/// the access code this browser holds (the API's call, by cookie).
pub async fn export(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(no): Path<String>,
    Query(q): Query<LangQuery>,
) -> Response {
    let ctx = PageCtx::new(&headers, &format!("/track/{no}"), q.lang.as_deref());
    let Some(token) = held_token(&headers, &no) else {
        return ctx.redirect(&format!("/track?no={}", url_safe(&no)));
    };
    match s.app.track_export(&no, Some(&token)).await {
        Ok(export) => crate::api::track::zip_download(export),
        Err(AppError::Unauthorized | AppError::NotFound) => {
            ctx.redirect(&format!("/track?no={}", url_safe(&no)))
        }
        Err(e) => ctx.fail(&e),
    }
}

/// A tracking number as it may appear in a query string.
fn url_safe(no: &str) -> String {
    no.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

#[derive(Debug, Deserialize)]
pub struct ActionForm {
    csrf: Option<String>,
    body: Option<String>,
    reason: Option<String>,
    score: Option<String>,
    comment: Option<String>,
}

/// `POST /track/{no}/{action}`: the complainant's actions, through the
/// same use cases as the API; a refusal re-renders the page with the
/// reason.
pub async fn act(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path((no, action)): Path<(String, String)>,
    Query(q): Query<LangQuery>,
    Form(f): Form<ActionForm>,
) -> Response {
    let ctx = PageCtx::new(&headers, &format!("/track/{no}"), q.lang.as_deref());
    if !super::csrf::verify(&headers, f.csrf.as_deref()) {
        return ctx.error(StatusCode::FORBIDDEN, "error-forbidden");
    }
    let Some(token) = held_token(&headers, &no) else {
        return ctx.redirect(&format!("/track?no={}", url_safe(&no)));
    };
    let token = Some(token.as_str());
    let result = match action.as_str() {
        "message" => {
            let c = PartyMessageCommand {
                body: f.body.unwrap_or_default(),
            };
            s.app.track_message(&no, token, &c).await
        }
        "supplement" => {
            let c = SupplementCommand::from_form(f.body);
            s.app.supplement(&no, token, &c).await
        }
        "appeal" => {
            let c = AppealCommand {
                reason: f.reason.unwrap_or_default(),
            };
            s.app.appeal(&no, token, &c).await
        }
        "withdraw" => {
            let c = WithdrawCommand {
                reason: f.reason.filter(|r| !r.trim().is_empty()),
            };
            s.app.withdraw(&no, token, &c).await
        }
        "feedback" => {
            let score: Option<i64> = f.score.as_deref().and_then(|v| v.parse().ok());
            let comment = f.comment.filter(|c| !c.trim().is_empty());
            match FeedbackCommand::from_form(score, comment) {
                Ok(c) => s.app.feedback(&no, token, &c).await,
                Err(e) => Err(e),
            }
        }
        _ => return ctx.error(StatusCode::NOT_FOUND, "error-not-found"),
    };
    match result {
        Ok(_) => ctx.redirect(&format!("/track/{no}?done={action}")),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let tr = ctx.tr();
            let message = match &e {
                AppError::Invalid(fields) => super::fields_message(tr, fields),
                _ => tr.t("error-conflict"),
            };
            let status = super::error_key(&e).0;
            let status = if matches!(e, AppError::Invalid(_)) {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                status
            };
            match s.app.track_case(&no, token).await {
                Ok(loaded) => render(ctx, &s, &loaded.case, status, None, Some(message)),
                Err(e) => ctx.fail(&e),
            }
        }
        Err(AppError::Unauthorized | AppError::NotFound) => {
            ctx.redirect(&format!("/track?no={}", url_safe(&no)))
        }
        Err(e) => ctx.fail(&e),
    }
}

/// `POST /track/{no}/evidence`: a file from the complainant (material
/// while one is requested, evidence otherwise).
pub async fn evidence(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(no): Path<String>,
    Query(q): Query<LangQuery>,
    form: Multipart,
) -> Response {
    let ctx = PageCtx::new(&headers, &format!("/track/{no}"), q.lang.as_deref());
    let Some(token) = held_token(&headers, &no) else {
        return ctx.redirect(&format!("/track?no={}", url_safe(&no)));
    };
    // The access code is checked before the file is read.
    match s.app.track_case(&no, Some(&token)).await {
        Ok(_) => {}
        Err(AppError::Unauthorized | AppError::NotFound) => {
            return ctx.redirect(&format!("/track?no={}", url_safe(&no)));
        }
        Err(e) => return ctx.fail(&e),
    }
    let sent = super::read_file_form(form, s.app.evidence.max_bytes, &|_| false).await;
    if sent.problem.is_none() && !super::csrf::verify(&headers, sent.csrf.as_deref()) {
        return ctx.error(StatusCode::FORBIDDEN, "error-forbidden");
    }
    let (problem_errors, problem_status) = (sent.problem_errors(), sent.problem_status());
    let result = match (sent.problem, sent.file) {
        (Some(_), _) => Err(AppError::Invalid(redress_domain::FieldErrors(
            problem_errors,
        ))),
        (None, Some((name, bytes))) => {
            s.app
                .track_evidence(&no, Some(&token), name.as_deref(), &bytes)
                .await
        }
        (None, None) => Err(AppError::invalid("file", Reason::ChooseFile)),
    };
    match result {
        Ok(_) => ctx.redirect(&format!("/track/{no}?done=evidence")),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            let tr = ctx.tr();
            let message = match &e {
                AppError::Invalid(f) => super::fields_message(tr, f),
                _ => tr.t("error-conflict"),
            };
            let status = if sent.problem.is_some() {
                problem_status
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            match s.app.track_case(&no, Some(&token)).await {
                Ok(loaded) => render(ctx, &s, &loaded.case, status, None, Some(message)),
                Err(e) => ctx.fail(&e),
            }
        }
        Err(e) => ctx.fail(&e),
    }
}

/// `GET /track/{no}/evidence/{evidence_id}`: opens one of the files the
/// complainant may see, with the code this browser holds.
pub async fn evidence_file(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path((no, evidence_id)): Path<(String, String)>,
    Query(q): Query<LangQuery>,
) -> Response {
    let ctx = PageCtx::new(&headers, &format!("/track/{no}"), q.lang.as_deref());
    let Some(token) = held_token(&headers, &no) else {
        return ctx.redirect(&format!("/track?no={}", url_safe(&no)));
    };
    match s
        .app
        .track_evidence_file(&no, Some(&token), &evidence_id)
        .await
    {
        Ok(file) => crate::api::track::file_download(file),
        Err(AppError::Unauthorized) => ctx.redirect(&format!("/track?no={}", url_safe(&no))),
        Err(e) => ctx.fail(&e),
    }
}
