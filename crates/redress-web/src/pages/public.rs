//! The start page and the complaint form.

use redress_domain::Reason;
use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use redress_app::{AppError, Principal};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::{Base, PageCtx, local_time};
use crate::extract::ClientIp;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct LangQuery {
    pub lang: Option<String>,
}

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage<'a> {
    base: &'a Base,
    categories: Vec<String>,
    /// The web form is switched on.
    web: bool,
    /// The other published channels: (channel, what to show).
    channels: Vec<(&'static str, String)>,
}

/// The published channels other than the web form, as lines to show (SPEC
/// §5): the hotline with its hours, the mailbox, the postal and visiting
/// address, the platform's own entries; only those switched on and set.
/// Also whether the web form is on.
pub(crate) fn channel_lines(
    p: &redress_app::channels::PublishedChannels,
    tr: &super::i18n::Tr,
) -> (bool, Vec<(&'static str, String)>) {
    use redress_domain::Channel;
    let mut lines = Vec::new();
    if p.is_enabled(Channel::Phone)
        && let Some(number) = &p.hotline
    {
        let mut line = tr.with("pub-hotline", &[("number", number.as_str())]);
        if let Some(hours) = &p.hotline_hours {
            line.push_str(&tr.with("pub-hotline-hours", &[("hours", hours.as_str())]));
        }
        lines.push(("phone", line));
    }
    if p.is_enabled(Channel::Email)
        && let Some(mailbox) = &p.mailbox
    {
        lines.push((
            "email",
            tr.with("pub-mailbox", &[("mailbox", mailbox.as_str())]),
        ));
    }
    if p.is_enabled(Channel::Letter)
        && let Some(address) = &p.postal_address
    {
        lines.push((
            "letter",
            tr.with("pub-postal", &[("address", address.as_str())]),
        ));
    }
    if p.is_enabled(Channel::InPerson)
        && let Some(address) = &p.visiting_address
    {
        lines.push((
            "in_person",
            tr.with("pub-visiting", &[("address", address.as_str())]),
        ));
    }
    if p.is_enabled(Channel::Api) || p.is_enabled(Channel::Chat) {
        lines.push(("api", tr.t("channel-api")));
    }
    (p.is_enabled(Channel::Web), lines)
}

pub async fn index(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let ctx = PageCtx::new(&headers, "/", q.lang.as_deref());
    let en = ctx.tr().locale == redress_domain::Locale::En;
    let categories = match s.app.store.list_categories().await {
        Ok(list) => list
            .into_iter()
            .map(|c| match (en, c.name_en) {
                (true, Some(name)) => name,
                _ => c.name,
            })
            .collect(),
        Err(e) => {
            tracing::error!(error = %e, "categories for the start page");
            Vec::new()
        }
    };
    let published = s.app.published_channels().await.unwrap_or_else(|e| {
        tracing::error!(error = %e, "channels for the start page");
        Default::default()
    });
    let (web, channels) = channel_lines(&published, &ctx.tr());
    let page = IndexPage {
        base: &ctx.base,
        categories,
        web,
        channels,
    }
    .render();
    ctx.respond(StatusCode::OK, page)
}

/// Respondent kinds offered by the form, with their message keys.
const RESPONDENT_KINDS: [(&str, &str); 5] = [
    ("merchant", "rk-merchant"),
    ("user", "rk-user"),
    ("content", "rk-content"),
    ("order", "rk-order"),
    ("platform", "rk-platform"),
];

/// The form's text fields, by input name (the last two on the staff
/// console's phone intake only).
const FIELDS: [&str; 15] = [
    "complainant.name",
    "complainant.phone",
    "complainant.email",
    "complainant.user_id",
    "complainant.postal_address",
    "respondent.kind",
    "respondent.name",
    "respondent.id",
    "subject",
    "description",
    "demands",
    "order_numbers",
    "occurred_at",
    "channel",
    "call_reference",
];

#[derive(Template)]
#[template(path = "complain.html")]
struct ComplainPage<'a> {
    base: &'a Base,
    /// Where the form posts: `/complain`, or `/staff/intake` for staff.
    action: &'static str,
    staff: bool,
    values: HashMap<String, String>,
    errors: BTreeMap<String, Reason>,
    nonce: String,
    respondent_kinds: [(&'static str, &'static str); 5],
    /// The largest file the form takes (checked in the browser first).
    max_file: u64,
}

impl ComplainPage<'_> {
    fn value(&self, name: &str) -> &str {
        self.values.get(name).map_or("", String::as_str)
    }

    fn error(&self, name: &str) -> Option<&Reason> {
        self.errors.get(name)
    }

    /// Errors about no single field of the form (shown at the top).
    fn other_errors(&self) -> Vec<(&str, &Reason)> {
        self.errors
            .iter()
            .filter(|(k, _)| {
                // The public form has no channel field: a refusal of the
                // channel (switched off) is shown at the top.
                let hidden = !self.staff && matches!(k.as_str(), "channel" | "call_reference");
                hidden || (!FIELDS.contains(&k.as_str()) && k.as_str() != "file")
            })
            .map(|(k, v)| (k.as_str(), v))
            .collect()
    }
}

fn nonce() -> String {
    let mut bytes = [0u8; 18];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub async fn complain_form(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let ctx = PageCtx::new(&headers, "/complain", q.lang.as_deref());
    // While the web form is switched off, the page says so at the top
    // (posting it is refused the same way).
    let mut errors = BTreeMap::new();
    if let Err(AppError::Invalid(fields)) = s
        .app
        .require_channel_open(redress_domain::Channel::Web)
        .await
    {
        for (k, v) in fields.0 {
            errors.insert(k, v);
        }
    }
    let page = ComplainPage {
        base: &ctx.base,
        action: "/complain",
        staff: false,
        values: HashMap::new(),
        errors,
        nonce: nonce(),
        respondent_kinds: RESPONDENT_KINDS,
        max_file: s.app.evidence.max_bytes,
    }
    .render();
    ctx.respond(StatusCode::OK, page)
}

/// `GET /staff/intake`: the complaint form for an agent on the phone.
pub async fn intake_form(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let (ctx, _) =
        match super::staff::staff_ctx(&s, &headers, "/staff/intake", q.lang.as_deref()).await {
            Ok(x) => x,
            Err(r) => return r,
        };
    let mut values = HashMap::new();
    values.insert("channel".to_string(), "phone".to_string());
    let page = ComplainPage {
        base: &ctx.base,
        action: "/staff/intake",
        staff: true,
        values,
        errors: BTreeMap::new(),
        nonce: nonce(),
        respondent_kinds: RESPONDENT_KINDS,
        max_file: s.app.evidence.max_bytes,
    }
    .render();
    ctx.respond(StatusCode::OK, page)
}

/// `POST /staff/intake`: registers for the caller on the staff member's
/// credentials (channel `phone` unless chosen otherwise, with the call
/// reference), then opens the new case.
pub async fn intake(
    State(s): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    Query(q): Query<LangQuery>,
    form: Multipart,
) -> Response {
    let (ctx, who) =
        match super::staff::staff_ctx(&s, &headers, "/staff/intake", q.lang.as_deref()).await {
            Ok(x) => x,
            Err(r) => return r,
        };
    let sent = read_form(form, s.app.evidence.max_bytes).await;
    if sent.problem.is_some() {
        let status = sent.problem_status();
        let errors = sent.problem_errors();
        let nonce = sent.values.get("nonce").cloned().unwrap_or_else(nonce);
        return render_form_at(
            ctx,
            s.app.evidence.max_bytes,
            STAFF_FORM,
            sent.values,
            errors,
            nonce,
            status,
        );
    }
    if !super::csrf::verify(&headers, sent.csrf.as_deref()) {
        return ctx.error(StatusCode::FORBIDDEN, "error-forbidden");
    }
    let mut body = registration(&sent.values, ctx.tr().locale);
    for key in ["channel", "call_reference"] {
        if let Some(v) = sent
            .values
            .get(key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
        {
            body[key] = json!(v);
        }
    }
    let (registered, form_nonce) = file_form(&s, &who, &body, &sent, ip).await;
    match registered {
        Ok(answer) => {
            let text = |k: &str| answer[k].as_str().unwrap_or_default().to_string();
            // The caller hears the code now or never: it is shown this once,
            // large and in groups, with the slip to print or hand over.
            let page = IntakeDonePage {
                base: &ctx.base,
                id: text("id"),
                tracking_no: text("tracking_no"),
                groups: text("access_token")
                    .split('-')
                    .map(str::to_string)
                    .collect(),
                access_code: text("access_token"),
            }
            .render();
            ctx.respond(StatusCode::OK, page)
        }
        Err(AppError::Conflict(_)) => ctx.error(StatusCode::CONFLICT, "error-forbidden"),
        Err(AppError::Invalid(fields)) => render_form_at(
            ctx,
            s.app.evidence.max_bytes,
            STAFF_FORM,
            sent.values,
            fields.0,
            form_nonce,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => ctx.fail(&e),
    }
}

#[derive(Template)]
#[template(path = "staff_intake_done.html")]
struct IntakeDonePage<'a> {
    base: &'a Base,
    id: String,
    tracking_no: String,
    /// The code in its groups of four, to be read out one by one.
    groups: Vec<String>,
    access_code: String,
}

#[derive(Template)]
#[template(path = "staff_intake_slip.html")]
struct SlipPage<'a> {
    base: &'a Base,
    tracking_no: String,
    access_code: String,
    track_url: String,
    home_url: String,
    /// The web form's address, when the web form is on.
    complain_url: Option<String>,
    /// The other published channels (see [`channel_lines`]).
    channels: Vec<(&'static str, String)>,
    channel: String,
    reference: Option<String>,
    filed_at: String,
    deadlines: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct SlipForm {
    csrf: Option<String>,
    tracking_no: Option<String>,
    access_code: Option<String>,
}

/// `POST /staff/intake/slip`: the printable acknowledgement slip of a case
/// just registered (tracking number, access code, how to track, the
/// deadlines, the channels). Posted, so that the code never sits in a URL
/// or a log; shown only for the case's current code. No script.
pub async fn slip(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
    axum::Form(f): axum::Form<SlipForm>,
) -> Response {
    let (ctx, who) = match super::staff::staff_ctx(
        &s,
        &headers,
        "/staff/intake/slip",
        q.lang.as_deref(),
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !super::csrf::verify(&headers, f.csrf.as_deref()) {
        return ctx.error(StatusCode::FORBIDDEN, "error-forbidden");
    }
    let no = f.tracking_no.unwrap_or_default();
    let code = f.access_code.unwrap_or_default();
    let loaded = match s.app.slip_case(&who, &no, &code).await {
        Ok(l) => l,
        Err(e) => return ctx.fail(&e),
    };
    let case = &loaded.case;
    let tr = ctx.tr();
    let tz = s.app.config.time_zone;
    let policy = &s.app.config.policy;
    let n = |x: u32| x.to_string();
    let mut deadlines = Vec::new();
    if let Some(due) = case.deadlines.acceptance_due_at {
        deadlines.push(tr.with("slip-acceptance", &[("due", local_time(due, tz).as_str())]));
    }
    deadlines.push(tr.with(
        "slip-supplement",
        &[("days", n(policy.supplement_days).as_str())],
    ));
    deadlines.push(tr.with(
        "slip-handling",
        &[("days", n(policy.handling_days).as_str())],
    ));
    deadlines.push(tr.with("slip-appeal", &[("days", n(policy.appeal_days).as_str())]));
    let public = s.app.config.public_url.trim_end_matches('/').to_string();
    let published = match s.app.published_channels().await {
        Ok(p) => p,
        Err(e) => return ctx.fail(&e),
    };
    let (web, channels) = channel_lines(&published, &tr);
    let page = SlipPage {
        base: &ctx.base,
        tracking_no: case.tracking_no.clone(),
        access_code: redress_app::codes::normalize(&code)
            .map(|p| redress_app::codes::group(&p))
            .unwrap_or(code),
        track_url: format!("{public}/track"),
        home_url: format!("{public}/"),
        complain_url: web.then(|| format!("{public}/complain")),
        channels,
        channel: tr.t(&format!("case-channel-{}", case.channel.as_str())),
        reference: case.call_reference.clone(),
        filed_at: local_time(case.created_at, tz),
        deadlines,
    }
    .render();
    ctx.respond(StatusCode::OK, page)
}

/// Reads the registration form: its text fields (each at most 64 KiB)
/// and the file, up to the evidence limit. A larger file is read to the
/// end and dropped (`problem`), so the form comes back as typed.
async fn read_form(form: Multipart, max_file: u64) -> super::FileForm {
    super::read_file_form(form, max_file, &|name| {
        name == "nonce" || FIELDS.contains(&name)
    })
    .await
}

/// The registration body of SPEC §6 from the form's fields.
fn registration(values: &HashMap<String, String>, locale: redress_domain::Locale) -> Value {
    let get = |k: &str| values.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let mut complainant = Map::new();
    for (field, key) in [
        ("complainant.name", "name"),
        ("complainant.phone", "phone"),
        ("complainant.email", "email"),
        ("complainant.user_id", "user_id"),
        ("complainant.postal_address", "postal_address"),
    ] {
        if let Some(v) = get(field) {
            complainant.insert(key.into(), json!(v));
        }
    }
    let mut respondent = Map::new();
    for (field, key) in [
        ("respondent.kind", "kind"),
        ("respondent.id", "id"),
        ("respondent.name", "name"),
    ] {
        if let Some(v) = get(field) {
            respondent.insert(key.into(), json!(v));
        }
    }
    let mut body = Map::new();
    body.insert("complainant".into(), Value::Object(complainant));
    body.insert("respondent".into(), Value::Object(respondent));
    body.insert("locale".into(), json!(locale.as_str()));
    for key in ["subject", "description", "demands", "occurred_at"] {
        if let Some(v) = get(key) {
            body.insert(key.into(), json!(v));
        }
    }
    if let Some(orders) = get("order_numbers") {
        let list: Vec<&str> = orders
            .split([',', '，', ';', '；', '\n', ' '])
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .collect();
        body.insert("order_numbers".into(), json!(list));
    }
    Value::Object(body)
}

/// Files a form's registration on `who`'s credentials. The form's nonce is
/// the idempotency key, so the same rendered form sent twice files once;
/// it is returned for re-rendering the form.
async fn file_form(
    s: &AppState,
    who: &Principal,
    body: &Value,
    sent: &super::FileForm,
    ip: Option<std::net::IpAddr>,
) -> (Result<Value, AppError>, String) {
    let hash = hex::encode(Sha256::digest(body.to_string().as_bytes()));
    let form_nonce = sent
        .values
        .get("nonce")
        .cloned()
        .filter(|n| !n.is_empty() && n.len() <= 64)
        .unwrap_or_else(nonce);
    let key = format!("form:{form_nonce}");
    let result = match s.app.register(who, body, &hash, Some(&key), ip).await {
        Ok(r) if r.status < 300 => Ok(r.body),
        // A replay whose body differs: the same form was changed and resent.
        Ok(_) => Err(AppError::Conflict(
            "the form was sent again, changed".into(),
        )),
        Err(e) => Err(e),
    };
    (result, form_nonce)
}

#[derive(Template)]
#[template(path = "complain_done.html")]
struct DonePage<'a> {
    base: &'a Base,
    tracking_no: String,
    access_token: String,
    tracking_url: String,
    acceptance_due: String,
    file_error: Option<String>,
}

/// `POST /complain`: registers through the same use case as the API. A
/// bad field re-renders the form with the input kept and the message
/// beside the field; the same rendered form sent twice files once (its
/// nonce is the idempotency key).
pub async fn complain(
    State(s): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    Query(q): Query<LangQuery>,
    form: Multipart,
) -> Response {
    let mut ctx = PageCtx::new(&headers, "/complain", q.lang.as_deref());
    // The rate limit comes before the form (and its files) is read.
    if let Some(limiter) = &s.public_limiter {
        let key = ip.unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
        if limiter.check_key(&key).is_err() {
            return ctx.error(StatusCode::TOO_MANY_REQUESTS, "error-rate-limited");
        }
    }
    let sent = read_form(form, s.app.evidence.max_bytes).await;
    if sent.problem.is_some() {
        // Nothing is filed; the form comes back as typed, the reason
        // beside the file (413 for a file over the limit).
        let status = sent.problem_status();
        let errors = sent.problem_errors();
        let nonce = sent.values.get("nonce").cloned().unwrap_or_else(nonce);
        return render_form_at(
            ctx,
            s.app.evidence.max_bytes,
            PUBLIC_FORM,
            sent.values,
            errors,
            nonce,
            status,
        );
    }
    if !super::csrf::verify(&headers, sent.csrf.as_deref()) {
        return ctx.error(StatusCode::FORBIDDEN, "error-forbidden");
    }
    let tr = ctx.tr();
    let body = registration(&sent.values, tr.locale);
    let (registered, form_nonce) = file_form(&s, &Principal::Anonymous, &body, &sent, ip).await;
    let answer = match registered {
        Ok(answer) => answer,
        Err(AppError::Conflict(_)) => return ctx.error(StatusCode::CONFLICT, "error-forbidden"),
        Err(AppError::Invalid(fields)) => {
            return render_form(
                ctx,
                s.app.evidence.max_bytes,
                sent.values,
                fields.0,
                form_nonce,
            );
        }
        Err(e) => {
            return ctx.fail(&e);
        }
    };
    let text = |k: &str| answer[k].as_str().unwrap_or_default().to_string();
    let (no, token) = (text("tracking_no"), text("access_token"));
    let mut file_error = None;
    if let Some((filename, bytes)) = sent.file
        && let Err(e) = s
            .app
            .track_evidence(&no, Some(&token), filename.as_deref(), &bytes)
            .await
    {
        file_error = Some(match e {
            AppError::Invalid(f) => {
                f.0.values()
                    .map(|m| tr.field_message(m))
                    .collect::<Vec<_>>()
                    .join("; ")
            }
            other => tr.t(super::error_key(&other).1),
        });
    }
    // This browser may open the tracking page without typing the code.
    ctx.set_cookie("rd_track", &format!("{no}:{token}"), Some(30 * 86_400));
    let acceptance_due = answer["acceptance_due_at"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .map(|t| local_time(t, s.app.config.time_zone))
        .unwrap_or_default();
    let page = DonePage {
        base: &ctx.base,
        tracking_url: s.app.tracking_url(&no),
        tracking_no: no,
        access_token: token,
        acceptance_due,
        file_error,
    }
    .render();
    ctx.respond(StatusCode::OK, page)
}

fn render_form(
    ctx: PageCtx,
    max_file: u64,
    values: HashMap<String, String>,
    errors: BTreeMap<String, Reason>,
    nonce: String,
) -> Response {
    render_form_at(
        ctx,
        max_file,
        PUBLIC_FORM,
        values,
        errors,
        nonce,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}

/// Which complaint form a page is: where it posts, and whether it is the
/// staff intake's.
#[derive(Clone, Copy)]
struct FormAt {
    action: &'static str,
    staff: bool,
}

const PUBLIC_FORM: FormAt = FormAt {
    action: "/complain",
    staff: false,
};
const STAFF_FORM: FormAt = FormAt {
    action: "/staff/intake",
    staff: true,
};

fn render_form_at(
    ctx: PageCtx,
    max_file: u64,
    at: FormAt,
    mut values: HashMap<String, String>,
    errors: BTreeMap<String, Reason>,
    nonce: String,
    status: StatusCode,
) -> Response {
    values.remove("csrf");
    values.remove("nonce");
    // Errors about a whole object (`complainant`) show at its first field.
    let mut errors = errors;
    // "No way to reach you" is said at the contact fields already.
    if errors.contains_key("complainant.email") {
        errors.remove("complainant");
    }
    for (object, first) in [
        ("complainant", "complainant.name"),
        ("respondent", "respondent.id"),
    ] {
        if let Some(m) = errors.remove(object) {
            errors.entry(first.into()).or_insert(m);
        }
    }
    let page = ComplainPage {
        base: &ctx.base,
        action: at.action,
        staff: at.staff,
        values,
        errors,
        nonce,
        respondent_kinds: RESPONDENT_KINDS,
        max_file,
    }
    .render();
    ctx.respond(status, page)
}
